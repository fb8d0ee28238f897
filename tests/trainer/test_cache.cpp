#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "../trainer_data/catch_torch.hpp"  // LibTorch first, then Catch2 (glog CHECK).
#include "fresh_cache.hpp"
#include "hpt/trainer/cache.hpp"
#include "support/file_size_limit.hpp"

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

// An entry of "data": build() counts its calls and sets `built`, save() writes it.
struct DataEntry {
  int calls = 0;
  std::string built;
  std::function<void()> build() {
    return [this] {
      ++calls;
      built = "data";
    };
  }
  std::function<void(std::ostream&)> save() {
    return [this](std::ostream& out) { out << built; };
  }
};

}  // namespace

// ensure_cached builds and writes once (miss), then reports hits without building again.
TEST_CASE("ensure_cached writes once", "[cache]") {
  const std::string root = fresh_cache("ensure");
  CHECK(cache_root() == root);
  DataEntry entry;
  const std::string path = root + "/x/file.bin";
  std::ostringstream log;
  CHECK_FALSE(ensure_cached(path, entry.build(), entry.save(), read_data, log));
  CHECK(entry.built == "data");
  CHECK(ensure_cached(path, entry.build(), entry.save(), read_data, log));
  CHECK(entry.calls == 1);
  CHECK(log.str().empty());
  // A failing builder or saver leaves neither the file nor a temporary behind.
  CHECK_THROWS(ensure_cached(
      root + "/x/bad.bin", [] { throw std::runtime_error("boom"); }, entry.save(), read_data, log));
  CHECK_THROWS(ensure_cached(
      root + "/x/bad.bin", [] {},
      [](std::ostream& out) {
        out << "partial";
        throw std::runtime_error("boom");
      },
      read_data, log));
  CHECK_FALSE(fs::exists(root + "/x/bad.bin"));
  for (const auto& entry : fs::directory_iterator(root + "/x")) {
    CHECK(entry.path().string().find(".tmp") == std::string::npos);
  }
  CHECK(digest("a") != digest("b"));
}

// An entry that cannot be written (the file-size limit here; a full disk alike) is a warning
// naming the file, and the caller has what was built: pretraining is not lost to a full cache
// disk (the write used to end the process: LibTorch's writer threw from its destructor).
TEST_CASE("ensure_cached goes on without an entry it cannot write", "[cache]") {
  const std::string root = fresh_cache("full");
  const std::string path = root + "/x/big.bin";
  const std::string big(200000, 'b');
  std::string built;
  std::ostringstream log;
  bool hit = true;
  {
    const hpt::test::FileSizeLimit limit(100000);  // As hpt's main: EFBIG, not SIGXFSZ.
    CHECK_NOTHROW(
        hit = ensure_cached(
            path, [&] { built = big; }, [&](std::ostream& out) { out << built; }, read_data, log));
  }
  CHECK_FALSE(hit);
  CHECK(built == big);
  CHECK(log.str() == "warning: cannot cache it: " + path +
                         ": cannot write: File too large; going on without it\n");
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(root + "/x")) {
    names.push_back(entry.path().filename().string());
  }
  CHECK(names == std::vector<std::string>{"big.bin.lock"});
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
  auto build = [&] {
    ++calls;
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
  };
  auto save = [&](std::ostream& out) {
    out << "first half ";
    out.flush();
    out << "second half";
  };
  bool hit_a = false;
  bool hit_b = false;
  std::ostringstream log_a;
  std::ostringstream log_b;
  auto read_any = [](const std::string&) {};
  std::thread a([&] { hit_a = ensure_cached(path, build, save, read_any, log_a); });
  std::thread b([&] { hit_b = ensure_cached(path, build, save, read_any, log_b); });
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
  DataEntry entry;
  const std::string path = root + "/x/file.bin";
  std::ostringstream log;
  REQUIRE_FALSE(ensure_cached(path, entry.build(), entry.save(), read_data, log));
  std::ofstream(path, std::ios::trunc) << "da";
  CHECK_FALSE(ensure_cached(path, entry.build(), entry.save(), read_data, log));
  CHECK(entry.calls == 2);
  CHECK(log.str() ==
        "warning: unreadable cache file " + path + " (not data): removed, rebuilding it\n");
  CHECK(ensure_cached(path, entry.build(), entry.save(), read_data, log));
  CHECK(entry.calls == 2);
}
