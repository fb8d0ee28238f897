#include <httplib.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

#include "dashboard_fixtures.hpp"
#include "hpt/dashboard/server.hpp"

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
  hpt::test::StudyDb db(5);
  hpt::dashboard::Dashboard dashboard(hpt::open_storage(db.path(), true));
  std::atomic<int> port{0};
  std::atomic<bool> stop{false};
  std::thread server([&] {
    hpt::dashboard::serve(
        dashboard, {"127.0.0.1", 0}, [&](int p) { port = p; }, [&] { return stop.load(); });
  });
  for (int i = 0; i < 500 && port == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
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
  stop = true;
  server.join();
  // A port in use is a one-line error naming it.
  httplib::Server other;
  other.set_socket_options([](socket_t) {});  // Neither SO_REUSEADDR nor SO_REUSEPORT.
  const int taken = other.bind_to_any_port("127.0.0.1");
  CHECK_THROWS_WITH(hpt::dashboard::serve(dashboard, {"127.0.0.1", taken}, [](int) {}),
                    Catch::Contains("127.0.0.1:" + std::to_string(taken)));
}
