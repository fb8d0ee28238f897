#pragma once
// The stop signals (k_stop_signal_numbers) a command has received while it handles
// them: the study's signal handler counts them here and does nothing else. Waits that can be
// long look at it: from the second signal on (k_stop_now) the user wants out at once, and
// waiting for a database another process holds gives up.

#include <array>
#include <atomic>
#include <csignal>

namespace hpt {

// The signals that ask a command to stop: a study hands its trials back on them, an atomic
// write holds them back until its rename (SignalDeferral). Beyond Ctrl-C, kill, a closed
// terminal and Ctrl-\: SIGUSR1/SIGUSR2, which batch systems send ahead of a time limit
// (SLURM's --signal, PBS), and SIGALRM; by default each would end the process mid-write.
inline constexpr std::array<int, 7> k_stop_signal_numbers = {SIGINT,  SIGTERM, SIGHUP, SIGQUIT,
                                                             SIGUSR1, SIGUSR2, SIGALRM};

inline std::atomic<int> g_stop_signals{0};
constexpr int k_stop_now = 2;

inline bool stop_now() { return g_stop_signals.load() >= k_stop_now; }

}  // namespace hpt
