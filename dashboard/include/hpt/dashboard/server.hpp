#pragma once
// `hpt dashboard`: serves a Dashboard over HTTP (Debian's cpp-httplib) until SIGINT/SIGTERM.

#include <cstddef>
#include <functional>
#include <optional>
#include <string>

#include "hpt/dashboard/dashboard.hpp"

namespace hpt::dashboard {

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (the one chosen is passed to on_listening).
};

// True for addresses that only this machine can reach: 127.0.0.0/8, ::1, "localhost".
bool is_loopback_host(const std::string& host);

// Whether a request's Host header ("localhost:8080", "[::1]:80", "127.0.0.1") names this
// machine only.
bool is_loopback_host_header(const std::string& host);

// Why a request is refused before it is routed: a method other than GET/HEAD (405), a Host
// header naming another machine while the dashboard listens on loopback only (403: a page of
// another site reaching it through DNS rebinding; an absent Host is taken), a Range header
// (416: httplib would build a multi-range answer in memory), a body (413: a Content-Length
// above 0, or any Transfer-Encoding, whose chunks a GET would otherwise leave unread on the
// connection).
struct Refusal {
  int status;
  std::string reason;
};
std::optional<Refusal> request_refusal(const std::string& method, const std::string& host_header,
                                       bool has_range, size_t content_length, bool loopback_only,
                                       bool has_transfer_encoding = false);

// The Accept-Encoding the dashboard lets cpp-httplib see: "gzip" when the client's accepts gzip
// (a token "gzip" without q=0), else "identity". Debian's cpp-httplib is built with brotli and
// compresses with it at quality 11 whenever a client accepts "br" (every browser does): on the
// request thread, after every memory cap, 40× gzip's time (a 5,000-trial study's trials answer
// took 1.6 s, a running trial's 6 MB page 13 s a poll). gzip costs little over identity.
std::string accepted_encoding(const std::string& accept_encoding);

// glibc gives each thread that allocates at once an arena of its own (up to 8 per core) and
// keeps what is freed there: the dashboard's request and drawing threads held about four
// times the memory they used (822 MB for a 17,600-trial study, 193 MB with two arenas).
// limit_malloc_arenas caps the arenas at two (unless MALLOC_ARENA_MAX is set); call it before
// any thread starts. release_free_memory returns freed memory to the system (malloc_trim).
// Both do nothing without glibc.
void limit_malloc_arenas();
void release_free_memory();

// Serves dashboard on host:port until a stop signal (k_stop_signal_numbers: Ctrl-C, kill, a
// closed terminal, …; blocked in the calling thread and the server's threads, taken by a
// signal thread) or until stop_when returns true (checked every 100 ms; may be empty). Calls
// on_listening(port) once bound. Throws std::runtime_error naming host:port if it cannot bind.
// Returns the signal number that stopped it (the stop signals then stay blocked: the caller is
// exiting), or 0 (the old signal mask restored).
int serve(Dashboard& dashboard, const ServeOptions& options,
          const std::function<void(int port)>& on_listening,
          const std::function<bool()>& stop_when = {});

}  // namespace hpt::dashboard
