#include "hpt/dashboard/server.hpp"

#include <arpa/inet.h>
#include <httplib.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <thread>

#include "hpt/io/stop_signals.hpp"

namespace hpt::dashboard {

void limit_malloc_arenas() {
#if defined(__GLIBC__)
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) {
    mallopt(M_ARENA_MAX, 2);
  }
#endif
}

void release_free_memory() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

bool is_loopback_host(const std::string& host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") {
    return true;
  }
  in_addr v4{};
  return inet_pton(AF_INET, host.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127;
}

bool is_loopback_host_header(const std::string& host) {
  if (!host.empty() && host.front() == '[') {
    const auto end = host.find(']');
    return end != std::string::npos && is_loopback_host(host.substr(0, end + 1));
  }
  const auto colon = host.find(':');
  return is_loopback_host(host.substr(0, colon));
}

std::optional<Refusal> request_refusal(const std::string& method, const std::string& host_header,
                                       bool has_range, size_t content_length, bool loopback_only,
                                       bool has_transfer_encoding) {
  if (method != "GET" && method != "HEAD") {
    return Refusal{405, "only GET and HEAD are served (the dashboard is read-only)"};
  }
  if (loopback_only && !host_header.empty() && !is_loopback_host_header(host_header)) {
    return Refusal{403, "this dashboard answers requests for 127.0.0.1 or localhost only, not '" +
                            host_header.substr(0, 100) +
                            "' (a page of another site reaching it through DNS rebinding)"};
  }
  if (has_range) {
    return Refusal{416, "range requests are not served"};
  }
  if (content_length > 0 || has_transfer_encoding) {
    return Refusal{413, "requests with a body are not served"};
  }
  return std::nullopt;
}

std::string accepted_encoding(const std::string& accept_encoding) {
  size_t start = 0;
  while (start <= accept_encoding.size()) {
    size_t end = accept_encoding.find(',', start);
    end = end == std::string::npos ? accept_encoding.size() : end;
    std::string token = accept_encoding.substr(start, end - start);
    token.erase(
        std::remove_if(token.begin(), token.end(), [](char c) { return c == ' ' || c == '\t'; }),
        token.end());
    std::transform(token.begin(), token.end(), token.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const size_t semi = token.find(';');
    const std::string name = token.substr(0, semi);
    const std::string params = semi == std::string::npos ? "" : token.substr(semi + 1);
    const bool refused =
        params.rfind("q=0", 0) == 0 && params.find_first_not_of("0.", 2) == std::string::npos;
    if (name == "gzip" && !refused) {
      return "gzip";
    }
    start = end + 1;
  }
  return "identity";
}

namespace {

// Limits, refusals, socket options and the one route: everything but the address.
void configure(httplib::Server& server, Dashboard& dashboard, bool loopback_only) {
  // One client must not hold the dashboard: 64 connections are served at once, and one that
  // sends nothing is dropped after 2 s of silence. The limit is between reads: 64 clients each
  // trickling a byte a second still hold every thread (cpp-httplib 0.11 has no deadline for a
  // whole request), which the README says: keep the dashboard on loopback, or behind a proxy.
  server.new_task_queue = [] { return new httplib::ThreadPool(64); };
  server.set_read_timeout(2, 0);
  server.set_keep_alive_timeout(2);
  server.set_keep_alive_max_count(100);
  server.set_payload_max_length(1024);
  // Refused before routing, so before httplib reads a body or builds a multi-range answer
  // (2,700 ranges in one 8 KB request made it repeat a body 2,700 times in memory).
  server.set_pre_routing_handler(
      [loopback_only](const httplib::Request& req, httplib::Response& res) {
        const auto refusal =
            request_refusal(req.method, req.get_header_value("Host"), req.has_header("Range"),
                            static_cast<size_t>(std::strtoull(
                                req.get_header_value("Content-Length").c_str(), nullptr, 10)),
                            loopback_only, req.has_header("Transfer-Encoding"));
        if (!refusal) {
          // httplib picks the answer's compression from this header (see accepted_encoding).
          // Its Request is its own non-const object, handed to handlers as const.
          auto& headers = const_cast<httplib::Request&>(req).headers;
          const std::string accepted = accepted_encoding(req.get_header_value("Accept-Encoding"));
          headers.erase("Accept-Encoding");
          headers.emplace("Accept-Encoding", accepted);
          return httplib::Server::HandlerResponse::Unhandled;
        }
        res.status = refusal->status;
        res.set_header("X-Content-Type-Options", "nosniff");
        if (!req.has_header("Range")) {  // With a Range, httplib would repeat the body per range.
          res.set_content("hpt dashboard: " + refusal->reason + "\n", "text/plain; charset=utf-8");
        }
        if (refusal->status == 405) {
          res.set_header("Allow", "GET, HEAD");
        }
        return httplib::Server::HandlerResponse::Handled;
      });
  // SO_REUSEADDR only: httplib's default SO_REUSEPORT would let a second server (another
  // dashboard, or another user's process) share the port silently.
  server.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  server.Get(".*", [&dashboard](const httplib::Request& req, httplib::Response& res) {
    std::map<std::string, std::string> query;
    for (const auto& [key, value] : req.params) {
      query.emplace(key, value);
    }
    Response r = dashboard.get(req.path, query);
    res.status = r.status;
    res.set_header("Cache-Control", "no-store");
    res.set_header("Accept-Ranges", "none");  // Ranges are refused (416); httplib said "bytes".
    res.set_header("X-Content-Type-Options", "nosniff");
    // Pages embed their scripts and styles and fetch only from here; no page may frame them.
    res.set_header("Content-Security-Policy",
                   "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                   "img-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
                   "frame-ancestors 'none'");
    res.set_header("X-Frame-Options", "DENY");
    res.set_content(std::move(r.body), r.content_type.c_str());
  });
}

// Binds server to options' address ([::1] taken without brackets; port 0: any free one) and
// returns the port, or throws a one-line error.
int bind_address(httplib::Server& server, const ServeOptions& options) {
  const std::string host =
      options.host.size() > 2 && options.host.front() == '[' && options.host.back() == ']'
          ? options.host.substr(1, options.host.size() - 2)
          : options.host;
  const int port = options.port == 0
                       ? server.bind_to_any_port(host.c_str())
                       : (server.bind_to_port(host.c_str(), options.port) ? options.port : -1);
  if (port <= 0) {
    throw std::runtime_error("cannot listen on " + options.host + ":" +
                             std::to_string(options.port) +
                             " (address in use, not an address of this machine, or not allowed)");
  }
  return port;
}

}  // namespace

int serve(Dashboard& dashboard, const ServeOptions& options,
          const std::function<void(int port)>& on_listening,
          const std::function<bool()>& stop_when) {
  // Signals go to the signal thread only: block them here, before any server thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  for (const int sig : k_stop_signal_numbers) {  // Each would end the process without a word.
    sigaddset(&signals, sig);
  }
  sigset_t previous;
  pthread_sigmask(SIG_BLOCK, &signals, &previous);

  httplib::Server server;
  configure(server, dashboard, is_loopback_host(options.host));
  int port = 0;
  try {
    port = bind_address(server, options);
  } catch (const std::runtime_error&) {
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    throw;
  }
  std::atomic<int> stopped_by{0};
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    // sigtimedwait lets the thread also notice stop_when and the end of the server.
    const timespec tick{0, 100 * 1000 * 1000};
    while (!done) {
      const int sig = sigtimedwait(&signals, nullptr, &tick);
      if (sig > 0 || (stop_when && stop_when())) {
        stopped_by = sig > 0 ? sig : 0;
        // httplib's stop() does nothing until listen_after_bind has started: a signal just
        // after on_listening was lost, and the server ran on (4 runs in 40).
        while (!done && !server.is_running()) {
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        server.stop();
        return;
      }
    }
  });
  on_listening(port);
  server.listen_after_bind();
  done = true;
  watcher.join();
  // A stop signal often comes twice (`timeout` signals its child and then its process group,
  // a user presses Ctrl-C again): stopped by one, the process is on its way out, so the
  // signals stay blocked and a late copy cannot kill it (exit status 130/143, not a signal
  // death). Stopped otherwise, pending copies are taken and the old mask comes back.
  if (stopped_by == 0) {
    const timespec now{0, 0};
    while (sigtimedwait(&signals, nullptr, &now) > 0) {
    }
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  }
  return stopped_by;
}

}  // namespace hpt::dashboard
