#include "hpt/engine/signal_guard.hpp"

#include <atomic>

namespace hpt {

namespace {

extern "C" void on_stop_signal(int) { g_stop_signals.fetch_add(1); }

// Ctrl-Z (SIGTSTP) asked the study to stop with its workers (Orchestrator::stop_if_asked),
// unless a SIGCONT came after it (g_continued moved on since g_ctrl_z_at).
std::atomic<bool> g_ctrl_z{false};
std::atomic<unsigned> g_continued{0};
std::atomic<unsigned> g_ctrl_z_at{0};
extern "C" void on_ctrl_z(int) {
  g_ctrl_z_at = g_continued.load();
  g_ctrl_z = true;
}
extern "C" void on_continue(int) { g_continued.fetch_add(1); }

}  // namespace

SignalGuard::SignalGuard() {
  if (s_depth++ > 0) {
    return;
  }
  m_outer = true;
  g_stop_signals = 0;
  g_ctrl_z = false;
  for (size_t i = 0; i < k_stop_signal_numbers.size(); ++i) {
    install(i, k_stop_signal_numbers[i], on_stop_signal);
  }
  install(k_stop_signal_numbers.size(), SIGTSTP, on_ctrl_z);
  install(k_stop_signal_numbers.size() + 1, SIGCONT, on_continue);
}

SignalGuard::~SignalGuard() {
  --s_depth;
  if (!m_outer || g_stop_signals > 0) {
    return;  // Interrupted: a further Ctrl-C while hpt exits must not kill it mid-way.
  }
  for (size_t i = 0; i < k_count; ++i) {
    if (m_installed[i] != 0) {
      sigaction(m_installed[i], &m_old[i], nullptr);
    }
  }
}

void SignalGuard::install(size_t i, int sig, void (*handler)(int)) {
  struct sigaction old {};
  sigaction(sig, nullptr, &old);
  // Kept ignored: SIGHUP under nohup, SIGTSTP from a shell without job control.
  if ((sig == SIGHUP || sig == SIGTSTP) && old.sa_handler == SIG_IGN) {
    return;
  }
  struct sigaction sa {};
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  // Each of the pair holds the other back, so their handlers run in the order they came: else
  // a SIGCONT that came while the kernel was delivering a SIGTSTP runs first (its frame is the
  // later one), and the stop it should cancel went ahead.
  sigaddset(&sa.sa_mask, SIGTSTP);
  sigaddset(&sa.sa_mask, SIGCONT);
  sigaction(sig, &sa, &m_old[i]);
  m_installed[i] = sig;
}

bool StopSignals::caught() const { return g_stop_signals.load() > 0; }

std::optional<unsigned> take_ctrl_z() {
  if (!g_ctrl_z.exchange(false)) {
    return std::nullopt;
  }
  return g_ctrl_z_at.load();
}

bool continued_since(unsigned at) { return g_continued != at; }

}  // namespace hpt
