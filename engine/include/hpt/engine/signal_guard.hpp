#pragma once
// The signal handlers of a running study. The stop signals (SIGINT, SIGTERM, SIGHUP,
// SIGQUIT, SIGUSR1/SIGUSR2, SIGALRM) only count in g_stop_signals (hpt/io/stop_signals.hpp);
// Ctrl-Z (SIGTSTP) only asks the study to stop with its workers (take_ctrl_z): the workers run
// in process groups of their own, which the terminal's Ctrl-Z does not reach, so hpt stops them
// itself.

#include <signal.h>

#include <array>
#include <cstddef>
#include <optional>

#include "hpt/io/stop_signals.hpp"

namespace hpt {

// Installs the handlers for its lifetime: the stop signals' (a closed terminal or SSH session
// stops the study as Ctrl-C does; a study started under nohup, with SIGHUP ignored, keeps
// ignoring it; Ctrl-\ used to kill hpt and leave its trials RUNNING; SIGUSR1/SIGUSR2 are a batch
// system's warning before its time limit), Ctrl-Z's (unless ignored) and SIGCONT's. Guards
// nest: only the outermost installs the handlers, resets the count and restores them, so a
// signal caught before the study opened (StopSignals) is still counted when it runs. After a
// stop signal the handlers stay: a further Ctrl-C while hpt exits must not kill it mid-way.
class SignalGuard {
 public:
  SignalGuard();
  ~SignalGuard();
  SignalGuard(const SignalGuard&) = delete;
  SignalGuard& operator=(const SignalGuard&) = delete;

 private:
  void install(size_t i, int sig, void (*handler)(int));

  static constexpr size_t k_count = k_stop_signal_numbers.size() + 2;
  static inline int s_depth = 0;  // Guards alive (one thread: the command's).
  bool m_outer = false;
  std::array<struct sigaction, k_count> m_old{};
  std::array<int, k_count> m_installed{};  // The signal whose handler is at i, or 0.
};

// Catches the stop signals (Ctrl-C, kill, a closed terminal, ...) from construction on, as a
// running study does: a `hpt` study run makes one before it loads the config and opens the
// database, so a signal in that time stops it as one during the run does (exit 130) instead
// of killing it. run_study's own guard nests inside.
class StopSignals {
 public:
  StopSignals() = default;
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
  // Whether a stop signal came since construction.
  bool caught() const;

 private:
  SignalGuard m_guard;
};

// Whether Ctrl-Z came since the last call (under a SignalGuard), clearing it: the count of
// SIGCONTs when it came (for continued_since), or std::nullopt.
std::optional<unsigned> take_ctrl_z();
// Whether a SIGCONT came after the Ctrl-Z that take_ctrl_z returned at: `kill -TSTP; kill -CONT`
// in a script must not leave the study stopped with nobody to continue it.
bool continued_since(unsigned at);

}  // namespace hpt
