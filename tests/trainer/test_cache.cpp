#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "../trainer_data/catch_torch.hpp"  // LibTorch first, then Catch2 (glog CHECK).
#include "fresh_cache.hpp"
#include "hpt/trainer/cache.hpp"

using namespace hpt::trainer;
namespace fs = std::filesystem;

using hpt::test::fresh_cache;

namespace {

// A reader of the entries these tests write ("data"): throws on anything else.
void read_data(const std::string& path) {
  std::stringstream text;
  text << std::ifstream(path).rdbuf();
  if (text.str() != "data") {
    throw std::runtime_error("not data");
  }
}

// A writer of "data" entries that counts its calls.
std::function<void(const std::string&)> data_writer(int& calls) {
  return [&calls](const std::string& tmp) {
    ++calls;
    std::ofstream(tmp) << "data";
  };
}

}  // namespace

// ensure_cached writes once (miss), then reports hits without calling write again.
TEST_CASE("ensure_cached writes once", "[cache]") {
  const std::string root = fresh_cache("ensure");
  CHECK(cache_root() == root);
  int calls = 0;
  const auto write = data_writer(calls);
  const std::string path = root + "/x/file.bin";
  std::ostringstream log;
  CHECK_FALSE(ensure_cached(path, write, read_data, log));
  CHECK(ensure_cached(path, write, read_data, log));
  CHECK(calls == 1);
  CHECK(log.str().empty());
  // A failing writer leaves neither the file nor a temporary behind.
  CHECK_THROWS(ensure_cached(
      root + "/x/bad.bin",
      [](const std::string& tmp) {
        std::ofstream(tmp) << "partial";
        throw std::runtime_error("boom");
      },
      read_data, log));
  CHECK_FALSE(fs::exists(root + "/x/bad.bin"));
  for (const auto& entry : fs::directory_iterator(root + "/x")) {
    CHECK(entry.path().string().find(".tmp.") == std::string::npos);
  }
  CHECK(digest("a") != digest("b"));
}

// A file's digest changes with its contents.
TEST_CASE("file digest", "[cache]") {
  const std::string root = fresh_cache("digest");
  fs::create_directories(root);
  std::ofstream(root + "/m.pt") << "one";
  const std::string a = file_digest(root + "/m.pt");
  std::ofstream(root + "/m.pt") << "two";
  CHECK(file_digest(root + "/m.pt") != a);
  CHECK_THROWS_WITH(file_digest(root + "/missing.pt"), Catch::Contains("missing.pt"));
}

// Two threads (separate lock descriptors, as two workers have) racing on an empty cache:
// the writer runs once, the other waits and gets a hit, and only the complete file remains.
TEST_CASE("concurrent ensure_cached computes once", "[cache]") {
  const std::string root = fresh_cache("race");
  const std::string path = root + "/cnn/model.pt";
  std::atomic<int> calls{0};
  auto write = [&](const std::string& tmp) {
    ++calls;
    std::ofstream out(tmp);
    out << "first half ";
    out.flush();
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    out << "second half";
  };
  bool hit_a = false;
  bool hit_b = false;
  std::ostringstream log_a;
  std::ostringstream log_b;
  auto read_any = [](const std::string&) {};
  std::thread a([&] { hit_a = ensure_cached(path, write, read_any, log_a); });
  std::thread b([&] { hit_b = ensure_cached(path, write, read_any, log_b); });
  a.join();
  b.join();
  CHECK(calls == 1);
  CHECK(hit_a != hit_b);
  std::ifstream in(path);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(content == "first half second half");
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(root + "/cnn")) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  CHECK((names == std::vector<std::string>{"model.pt", "model.pt.lock"}));
}

// An entry its reader refuses (truncated by a crash or a full disk) is a warning naming the
// file, then removed and rebuilt; every later run hits the rebuilt entry.
TEST_CASE("ensure_cached rebuilds an unreadable entry", "[cache]") {
  const std::string root = fresh_cache("unreadable");
  int calls = 0;
  const auto write = data_writer(calls);
  const std::string path = root + "/x/file.bin";
  std::ostringstream log;
  REQUIRE_FALSE(ensure_cached(path, write, read_data, log));
  std::ofstream(path, std::ios::trunc) << "da";
  CHECK_FALSE(ensure_cached(path, write, read_data, log));
  CHECK(calls == 2);
  CHECK(log.str() ==
        "warning: unreadable cache file " + path + " (not data): removed, rebuilding it\n");
  CHECK(ensure_cached(path, write, read_data, log));
  CHECK(calls == 2);
  // A fresh entry its reader refuses is an error, and is not left behind.
  CHECK_THROWS_WITH(
      ensure_cached(
          root + "/x/other.bin", [](const std::string& tmp) { std::ofstream(tmp) << "junk"; },
          read_data, log),
      "not data");
  CHECK_FALSE(fs::exists(root + "/x/other.bin"));
}
