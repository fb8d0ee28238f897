#include "hpt/dashboard/server.hpp"

#include <arpa/inet.h>
#include <httplib.h>
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

namespace hpt::dashboard {

bool is_loopback_host(const std::string& host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") {
    return true;
  }
  in_addr v4{};
  return inet_pton(AF_INET, host.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127;
}

int serve(Dashboard& dashboard, const ServeOptions& options,
          const std::function<void(int port)>& on_listening,
          const std::function<bool()>& stop_when) {
  // Signals go to the signal thread only: block them here, before any server thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigset_t previous;
  pthread_sigmask(SIG_BLOCK, &signals, &previous);

  httplib::Server server;
  server.set_keep_alive_max_count(100);
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
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_content(std::move(r.body), r.content_type.c_str());
  });
  const std::string host =
      options.host.size() > 2 && options.host.front() == '[' && options.host.back() == ']'
          ? options.host.substr(1, options.host.size() - 2)
          : options.host;
  int port = options.port;
  bool bound = false;
  if (port == 0) {
    port = server.bind_to_any_port(host.c_str());
    bound = port > 0;
  } else {
    bound = server.bind_to_port(host.c_str(), port);
  }
  if (!bound) {
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    throw std::runtime_error("cannot listen on " + options.host + ":" +
                             std::to_string(options.port) +
                             " (address in use, not an address of this machine, or not allowed)");
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
