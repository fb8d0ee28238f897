#pragma once
// `hpt dashboard`: serves a Dashboard over HTTP (Debian's cpp-httplib) until SIGINT/SIGTERM.

#include <functional>
#include <string>

#include "hpt/dashboard/dashboard.hpp"

namespace hpt::dashboard {

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (the one chosen is passed to on_listening).
};

// True for addresses that only this machine can reach: 127.0.0.0/8, ::1, "localhost".
bool is_loopback_host(const std::string& host);

// Serves dashboard on host:port until SIGINT or SIGTERM (blocked in the calling thread and the
// server's threads, taken by a signal thread) or until stop_when returns true (checked every
// 100 ms; may be empty). Calls on_listening(port) once bound. Throws std::runtime_error
// naming host:port if it cannot bind. Returns the signal number that stopped it (SIGINT and
// SIGTERM then stay blocked: the caller is exiting), or 0 (the old signal mask restored).
int serve(Dashboard& dashboard, const ServeOptions& options,
          const std::function<void(int port)>& on_listening,
          const std::function<bool()>& stop_when = {});

}  // namespace hpt::dashboard
