#include <httplib.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <exception>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <regex>
#include <thread>

#include "dashboard_fixtures.hpp"
#include "hpt/dashboard/command.hpp"
#include "hpt/io/stop_signals.hpp"

namespace {

// A stream buffer that several threads may write and read: what a command prints.
class SharedText : public std::streambuf {
 public:
  std::string text() {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_text;
  }

 protected:
  int_type overflow(int_type c) override {
    if (c != traits_type::eof()) {
      std::lock_guard<std::mutex> lock(m_mutex);
      m_text += traits_type::to_char_type(c);
    }
    return c;
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_text.append(s, static_cast<size_t>(n));
    return n;
  }

 private:
  std::mutex m_mutex;
  std::string m_text;
};

struct Run {
  std::string out, err;  // What the command printed.
  std::string error;     // What it threw, "" if nothing.
  bool served = false;   // It announced an address (and was then stopped with SIGTERM).
  int port = 0;
  std::string studies;  // GET /api/studies while it served.
};

// Runs `hpt dashboard args...` on a thread, as `hpt` would. Once it announces its address,
// asks it for /api/studies and stops it with stop (SIGTERM, as Ctrl-C would; the stop signals
// are blocked meanwhile, so only the dashboard's signal thread takes it). A command neither
// serving nor done after 10 s is stopped the same way.
Run run_dashboard(const std::vector<std::string>& args, int stop = SIGTERM) {
  Run run;
  CLI::App app("hpt");
  hpt::dashboard::add_dashboard_command(app);
  std::vector<std::string> words = {"hpt", "dashboard"};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& w : words) {
    argv.push_back(w.data());
  }
  sigset_t stop_signals, old_mask;
  sigemptyset(&stop_signals);
  for (const int sig : hpt::k_stop_signal_numbers) {
    sigaddset(&stop_signals, sig);
  }
  pthread_sigmask(SIG_BLOCK, &stop_signals, &old_mask);
  SharedText out, err;
  std::streambuf* old_out = std::cout.rdbuf(&out);
  std::streambuf* old_err = std::cerr.rdbuf(&err);
  std::atomic<bool> done{false};
  std::thread command([&] {
    try {
      app.parse(static_cast<int>(argv.size()), argv.data());
    } catch (const std::exception& e) {
      run.error = e.what();
    }
    done = true;
  });
  const std::regex announced(R"(hpt: dashboard at http://127\.0\.0\.1:(\d+)/ )");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::smatch m;
  while (!done && std::chrono::steady_clock::now() < deadline) {
    const std::string text = out.text();
    if (std::regex_search(text, m, announced)) {
      run.served = true;
      run.port = std::stoi(m[1]);
      httplib::Client client("127.0.0.1", run.port);
      if (auto r = client.Get("/api/studies")) {
        run.studies = r->body;
      }
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!done) {
    ::kill(::getpid(), stop);
  }
  command.join();
  // A SIGTERM sent as the command ended by itself must not outlive the mask.
  const timespec no_wait{};
  while (sigtimedwait(&stop_signals, nullptr, &no_wait) > 0) {
  }
  std::cout.rdbuf(old_out);
  std::cerr.rdbuf(old_err);
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  run.out = out.text();
  run.err = err.text();
  return run;
}

// The names of the studies in an /api/studies answer.
std::vector<std::string> study_names(const std::string& body) {
  const hpt::Json answer = hpt::Json::parse(body);
  std::vector<std::string> out;
  for (const auto& s : answer.at("studies")) {
    out.push_back(s.at("name").get<std::string>());
  }
  return out;
}

}  // namespace

// `hpt dashboard DB --study NAME --port 0` serves that study alone, read-only, on a free
// loopback port it announces, and says when a stop signal ended it.
TEST_CASE("dashboard command serves a study until stopped", "[command]") {
  hpt::test::StudyDb db(3);
  db.writer.reset();
  const auto size = std::filesystem::file_size(db.path());
  const Run run = run_dashboard({db.path(), "--study", "alpha", "--port", "0"});
  INFO(run.out << run.err << run.error);
  CHECK(run.error.empty());
  REQUIRE(run.served);
  CHECK(run.port > 0);
  CHECK(run.out == "hpt: dashboard at http://127.0.0.1:" + std::to_string(run.port) +
                       "/ (read-only; Ctrl-C stops it)\nhpt: dashboard stopped\n");
  CHECK(run.err.empty());  // No warning on a loopback address.
  REQUIRE_FALSE(run.studies.empty());
  CHECK(study_names(run.studies) == std::vector<std::string>{"alpha"});
  CHECK(std::filesystem::file_size(db.path()) == size);
}

// Every stop signal ends it as Ctrl-C does, saying so (SIGHUP, SIGQUIT, SIGUSR1, SIGALRM killed
// it without a word, status 129-142).
TEST_CASE("dashboard command stops on every stop signal", "[command]") {
  hpt::test::StudyDb db(1);
  db.writer.reset();
  for (const int sig : hpt::k_stop_signal_numbers) {
    INFO("signal " << sig);
    const Run run = run_dashboard({db.path(), "--port", "0"}, sig);
    CHECK(run.error.empty());
    REQUIRE(run.served);
    CHECK_THAT(run.out, Catch::EndsWith("\nhpt: dashboard stopped\n"));
  }
}

// Bad arguments fail before anything is served: no database, a port out of range or not in
// decimal, a
// --trials-dir that is no folder, a database that does not exist (not created: it is opened
// read-only), an unknown study.
TEST_CASE("dashboard command refuses bad arguments before serving", "[command]") {
  {
    CLI::App app("hpt");
    hpt::dashboard::add_dashboard_command(app);
    std::vector<std::string> words = {"hpt", "dashboard"};
    std::vector<char*> argv = {words[0].data(), words[1].data()};
    CHECK_THROWS_AS(app.parse(2, argv.data()), CLI::RequiredError);
  }
  hpt::test::StudyDb db(2);
  db.writer.reset();
  const Run port = run_dashboard({db.path(), "--port", "65536"});
  CHECK_FALSE(port.served);
  CHECK_THAT(port.error, Catch::Contains("--port"));
  // Decimal only, as every integer flag: 010 is not port 8, 0x10 not port 16.
  for (const char* text : {"0x10", "1e3", "-1", "80x"}) {
    const Run odd = run_dashboard({db.path(), "--port", text});
    CHECK_FALSE(odd.served);
    CHECK_THAT(odd.error, Catch::Contains("--port") &&
                              Catch::Contains("expected a whole number in [0, 65535]"));
  }

  const std::string missing = (db.dir.path() / "none.db").string();
  const Run none = run_dashboard({missing});
  CHECK_FALSE(none.served);
  CHECK_THAT(none.error, Catch::StartsWith(missing + ": ") && Catch::Contains("no such file"));
  CHECK_FALSE(std::filesystem::exists(missing));

  const std::string no_folder = (db.dir.path() / "no-trials").string();
  const Run trials_dir = run_dashboard({db.path(), "--trials-dir", no_folder});
  CHECK_FALSE(trials_dir.served);
  CHECK_THAT(trials_dir.error, Catch::Contains("--trials-dir") &&
                                   Catch::Contains("no such folder '" + no_folder + "'"));
  const Run file_dir = run_dashboard({db.path(), "--trials-dir", db.path()});
  CHECK_FALSE(file_dir.served);
  CHECK_THAT(file_dir.error, Catch::Contains("'" + db.path() + "' is not a folder"));
  const Run empty_dir = run_dashboard({db.path(), "--trials-dir", ""});
  CHECK_FALSE(empty_dir.served);
  CHECK_THAT(empty_dir.error, Catch::Contains("--trials-dir") && Catch::Contains("must not be empty"));

  const Run unknown = run_dashboard({db.path(), "--study", "gamma"});
  CHECK_FALSE(unknown.served);
  CHECK_THAT(unknown.error, Catch::Contains("gamma") && Catch::Contains("alpha"));
}
