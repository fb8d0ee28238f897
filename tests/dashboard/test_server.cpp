#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "dashboard_fixtures.hpp"
#include "hpt/dashboard/server.hpp"

namespace {

// hpt::dashboard::serve on a free loopback port in a thread, stopped when this goes.
struct RunningServer {
  explicit RunningServer(hpt::dashboard::Dashboard& dashboard)
      : thread([this, &dashboard] {
          hpt::dashboard::serve(
              dashboard, {"127.0.0.1", 0}, [this](int p) { port = p; },
              [this] { return stop.load(); });
        }) {
    for (int i = 0; i < 500 && port == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  ~RunningServer() {
    stop = true;
    thread.join();
  }
  std::atomic<int> port{0};
  std::atomic<bool> stop{false};
  std::thread thread;
};

// A dashboard of a 5-trial study database, served (server.reset() stops it).
struct ServedStudy {
  hpt::test::StudyDb db{5};
  hpt::dashboard::Dashboard dashboard{hpt::open_storage(db.path(), true)};
  std::unique_ptr<RunningServer> server = std::make_unique<RunningServer>(dashboard);
  int port() const { return server->port; }
};

}  // namespace

// The sanitizers' allocators are not glibc's.
#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
// This process's resident memory in KiB.
static long resident_kib() {
  long pages = 0;
  long resident = 0;
  FILE* f = std::fopen("/proc/self/statm", "r");
  REQUIRE(f != nullptr);
  REQUIRE(std::fscanf(f, "%ld %ld", &pages, &resident) == 2);
  std::fclose(f);
  return resident * sysconf(_SC_PAGESIZE) / 1024;
}

// release_free_memory gives back freed memory glibc keeps: 40 MB of small blocks, three in
// four freed (holes free() alone never returns), shrink by over 5 MB. (limit_malloc_arenas'
// effect needs threads contending for a while: bench/dashboard/memory.sh measures it.)
TEST_CASE("release_free_memory", "[server]") {
  hpt::dashboard::limit_malloc_arenas();  // Runs; changes nothing measurable here.
  std::vector<std::unique_ptr<char[]>> blocks;
  for (int i = 0; i < 20000; ++i) {
    blocks.emplace_back(new char[2000]);
    std::memset(blocks.back().get(), 1, 2000);
  }
  for (size_t i = 0; i < blocks.size(); ++i) {
    if (i % 4 != 0) {
      blocks[i].reset();
    }
  }
  const long kept = resident_kib();
  hpt::dashboard::release_free_memory();
  const long released = kept - resident_kib();
  CAPTURE(kept);
  CHECK(released > 5 * 1024);
}
#endif

// Loopback addresses are told apart from addresses other machines can reach.
TEST_CASE("is_loopback_host", "[server]") {
  using hpt::dashboard::is_loopback_host;
  for (const char* h : {"127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"}) {
    CHECK(is_loopback_host(h));
  }
  for (const char* h : {"0.0.0.0", "192.168.1.2", "::", "example.com", "", "128.0.0.1"}) {
    CHECK_FALSE(is_loopback_host(h));
  }
}

// The server answers on a free loopback port (gzip allowed) and stops when told.
TEST_CASE("serve answers over HTTP and stops", "[server]") {
  ServedStudy served;
  const int port = served.port();
  REQUIRE(port > 0);
  httplib::Client client("127.0.0.1", port);
  auto r = client.Get("/api/studies");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(hpt::Json::parse(r->body)["studies"].size() == 2);
  auto page = client.Get("/");
  REQUIRE(page);
  CHECK(page->get_header_value("Content-Type").rfind("text/html", 0) == 0);
  auto missing = client.Get("/api/nothing");
  REQUIRE(missing);
  CHECK(missing->status == 404);
  served.server.reset();
  // A port in use is a one-line error naming it.
  httplib::Server other;
  other.set_socket_options([](socket_t) {});  // Neither SO_REUSEADDR nor SO_REUSEPORT.
  const int taken = other.bind_to_any_port("127.0.0.1");
  CHECK_THROWS_WITH(hpt::dashboard::serve(served.dashboard, {"127.0.0.1", taken}, [](int) {}),
                    Catch::Contains("127.0.0.1:" + std::to_string(taken)));
}

// A stop that comes between on_listening and the server's listen loop (a SIGTERM sent as soon as
// the address is printed) still stops it: httplib's stop() did nothing then, and the server ran
// on. on_listening sleeps past the watcher's first look at stop_when to make that happen.
TEST_CASE("serve stops on a stop that comes before it listens", "[server]") {
  hpt::test::StudyDb db{2};
  hpt::dashboard::Dashboard dashboard{hpt::open_storage(db.path(), true)};
  auto served = std::async(std::launch::async, [&] {
    return hpt::dashboard::serve(
        dashboard, {"127.0.0.1", 0},
        [](int) { std::this_thread::sleep_for(std::chrono::milliseconds(300)); },
        [] { return true; });
  });
  // Without the fix this never returns (the test then fails by ctest's timeout).
  REQUIRE(served.wait_for(std::chrono::seconds(20)) == std::future_status::ready);
  CHECK(served.get() == 0);
}

// The Host header of a request to a loopback-only dashboard must name this machine.
TEST_CASE("is_loopback_host_header", "[server]") {
  using hpt::dashboard::is_loopback_host_header;
  for (const char* h :
       {"127.0.0.1:8080", "localhost", "localhost:80", "[::1]:8080", "[::1]", "127.9.9.9"}) {
    CHECK(is_loopback_host_header(h));
  }
  for (const char* h : {"evil.example:8080", "evil.example", "127.0.0.1.evil.example:80",
                        "[::2]:80", "localhost.evil.example", "", "[::1"}) {
    CHECK_FALSE(is_loopback_host_header(h));
  }
}

// What is refused before routing, and why (the order: method, host, range, body).
TEST_CASE("request_refusal", "[server]") {
  using hpt::dashboard::request_refusal;
  CHECK_FALSE(request_refusal("GET", "127.0.0.1:1", false, 0, true));
  CHECK_FALSE(request_refusal("HEAD", "", false, 0, true));
  CHECK_FALSE(request_refusal("GET", "evil.example", false, 0, false));  // Bound to all.
  CHECK(request_refusal("POST", "127.0.0.1", false, 0, true)->status == 405);
  CHECK(request_refusal("GET", "evil.example:80", false, 0, true)->status == 403);
  CHECK(request_refusal("GET", "localhost", true, 0, true)->status == 416);
  CHECK(request_refusal("GET", "localhost", false, 10, true)->status == 413);
  CHECK(request_refusal("GET", "localhost", false, 0, true, true)->status == 413);  // Chunked.
}

// Over HTTP: a DNS-rebinding Host, a 2,000-range request, a body, a POST and an idle
// connection are each refused or dropped at once, and the dashboard keeps answering; pages
// carry a policy that forbids framing and foreign scripts.
TEST_CASE("accepted_encoding", "[server]") {
  using hpt::dashboard::accepted_encoding;
  CHECK(accepted_encoding("gzip, deflate, br") == "gzip");
  CHECK(accepted_encoding("br;q=1.0, GZip;q=0.5") == "gzip");
  CHECK(accepted_encoding("br") == "identity");
  CHECK(accepted_encoding("") == "identity");
  CHECK(accepted_encoding("gzip;q=0, br") == "identity");
  CHECK(accepted_encoding("gzip;q=0.000") == "identity");
  CHECK(accepted_encoding("x-gzip, deflate") == "identity");
}

// Answers are gzip-compressed for a client that accepts it, never brotli-compressed (Debian's
// cpp-httplib compressed every browser's answers with brotli at quality 11: 40× gzip's time).
TEST_CASE("serve answers a browser with gzip, never brotli", "[server]") {
  ServedStudy served;
  httplib::Client client("127.0.0.1", served.port());
  client.set_decompress(false);
  auto browser = client.Get("/api/studies", {{"Accept-Encoding", "gzip, deflate, br"}});
  REQUIRE(browser);
  CHECK(browser->status == 200);
  CHECK(browser->get_header_value("Content-Encoding") == "gzip");
  auto brotli_only = client.Get("/", {{"Accept-Encoding", "br"}});
  REQUIRE(brotli_only);
  CHECK(brotli_only->status == 200);
  CHECK_FALSE(brotli_only->has_header("Content-Encoding"));
  CHECK(brotli_only->body.find("<html") != std::string::npos);
}

TEST_CASE("serve refuses hostile requests", "[server]") {
  ServedStudy served;
  const int port = served.port();
  REQUIRE(port > 0);
  httplib::Client client("127.0.0.1", port);
  auto rebound = client.Get("/api/studies", {{"Host", "evil.example:" + std::to_string(port)}});
  REQUIRE(rebound);
  CHECK(rebound->status == 403);
  CHECK_THAT(rebound->body, Catch::Contains("DNS rebinding"));
  std::string ranges = "bytes=0-";
  for (int i = 0; i < 2000; ++i) {
    ranges += ",0-";
  }
  auto ranged = client.Get("/api/studies", {{"Range", ranges}});
  REQUIRE(ranged);
  CHECK(ranged->status == 416);
  CHECK(ranged->body.size() < 1000);
  auto posted = client.Post("/api/studies", std::string(4096, 'x'), "text/plain");
  REQUIRE(posted);
  CHECK(posted->status == 405);
  auto with_body = client.Get("/api/studies", {{"Content-Length", "100"}});
  // Refused or cut off, never read into memory: the server goes on answering.
  CHECK((!with_body || with_body->status == 413));
  // A chunked body (no Content-Length): refused too; it was answered 200 and its chunks left
  // on the connection to be read as the next request.
  auto chunked = client.Get("/api/studies", {{"Transfer-Encoding", "chunked"}});
  CHECK((!chunked || chunked->status == 413));
  // Many silent connections: each is dropped after 2 s of silence, and requests go on.
  std::vector<int> silent;
  for (int i = 0; i < 70; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    silent.push_back(fd);
  }
  httplib::Client prober("127.0.0.1", port);
  prober.set_read_timeout(10, 0);
  const auto t0 = std::chrono::steady_clock::now();
  auto page = prober.Get("/");
  REQUIRE(page);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(8));
  CHECK(page->status == 200);
  CHECK_THAT(page->get_header_value("Content-Security-Policy"),
             Catch::Contains("frame-ancestors 'none'"));
  CHECK(page->get_header_value("Accept-Ranges") == "none");  // As the 416 above says.
  CHECK(page->get_header_value_count("Accept-Ranges") == 1);
  for (int fd : silent) {
    ::close(fd);
  }
}
