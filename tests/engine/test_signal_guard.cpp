#include <signal.h>

#include <catch2/catch.hpp>

#include "hpt/engine/signal_guard.hpp"
#include "hpt/io/stop_signals.hpp"

using namespace hpt;

namespace {

// Sets sig's disposition to handler for the scope, then puts the one before back.
class Disposition {
 public:
  Disposition(int sig, void (*handler)(int)) : m_sig(sig) {
    struct sigaction sa {};
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, &m_old);
  }
  ~Disposition() { sigaction(m_sig, &m_old, nullptr); }
  Disposition(const Disposition&) = delete;
  Disposition& operator=(const Disposition&) = delete;

 private:
  int m_sig;
  struct sigaction m_old {};
};

void (*handler_of(int sig))(int) {
  struct sigaction sa {};
  sigaction(sig, nullptr, &sa);
  return sa.sa_handler;
}

}  // namespace

// A stop signal while StopSignals lives is counted, not fatal; a guard nested inside (the
// study's) keeps the count. Without a signal, the handlers before it are put back.
TEST_CASE("signal guard: stop signals are counted, handlers put back", "[signal_guard]") {
  const Disposition usr1(SIGUSR1, SIG_IGN);
  {
    const StopSignals signals;
    CHECK_FALSE(signals.caught());
    CHECK(handler_of(SIGUSR1) != SIG_IGN);
  }
  CHECK(handler_of(SIGUSR1) == SIG_IGN);
  {
    const StopSignals signals;
    ::raise(SIGUSR1);
    CHECK(signals.caught());
    CHECK(g_stop_signals.load() == 1);
    {
      const SignalGuard study;  // Nested: counts on, no reset.
      CHECK(signals.caught());
      ::raise(SIGUSR1);
      CHECK(g_stop_signals.load() == 2);
      CHECK(stop_now());
    }
    CHECK(g_stop_signals.load() == 2);
  }
  // Interrupted: the handler stays, so that a further signal cannot kill hpt while it exits.
  CHECK(handler_of(SIGUSR1) != SIG_IGN);
  const SignalGuard next;  // The outermost guard starts a fresh count.
  CHECK(g_stop_signals.load() == 0);
}

// A closed terminal (SIGHUP) stops a study as Ctrl-C does, unless SIGHUP was ignored (a study
// started under nohup): then it stays ignored.
TEST_CASE("signal guard: SIGHUP, unless ignored", "[signal_guard]") {
  {
    const Disposition hup(SIGHUP, SIG_IGN);
    const SignalGuard guard;
    CHECK(handler_of(SIGHUP) == SIG_IGN);
    ::raise(SIGHUP);
    CHECK(g_stop_signals.load() == 0);
  }
  const Disposition hup(SIGHUP, SIG_DFL);
  {
    const SignalGuard guard;
    ::raise(SIGHUP);
    CHECK(g_stop_signals.load() == 1);
  }
  g_stop_signals = 0;
}

// Ctrl-Z is taken once; a SIGCONT after it is seen (a script's `kill -TSTP; kill -CONT` must not
// leave the study stopped), one before it is not.
TEST_CASE("signal guard: Ctrl-Z and the SIGCONT after it", "[signal_guard]") {
  const Disposition tstp(SIGTSTP, SIG_DFL);
  const Disposition cont(SIGCONT, SIG_DFL);
  const SignalGuard guard;
  CHECK_FALSE(take_ctrl_z());
  ::raise(SIGCONT);
  ::raise(SIGTSTP);
  const auto at = take_ctrl_z();
  REQUIRE(at);
  CHECK_FALSE(continued_since(*at));
  CHECK_FALSE(take_ctrl_z());  // Taken.
  ::raise(SIGCONT);
  CHECK(continued_since(*at));
  CHECK(g_stop_signals.load() == 0);  // Neither is a stop signal.
}
