#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "hpt/experiment/model_file.hpp"
#include "hpt/io/file_error.hpp"
#include "support/temp_dir.hpp"

using hpt::trainer::read_model_file;

// model.json is read only as a bounded regular file of bounded nesting: a FIFO, a huge or a
// deeply nested file is refused before it is parsed.
TEST_CASE("read_model_file", "[model_file]") {
  hpt::test::TempDir dir("model-file");
  const std::string path = dir.file(hpt::trainer::k_model_file);
  CHECK_THROWS_AS(read_model_file(dir.path().string()), hpt::FileError);  // Missing.
  std::ofstream(path) << R"({"config": {"epochs": 3}, "threshold": 0.5})";
  CHECK(read_model_file(dir.path().string())["config"]["epochs"] == 3);
  std::ofstream(path) << "{not json";
  CHECK_THROWS_AS(read_model_file(dir.path().string()), nlohmann::json::exception);
  std::ofstream(path) << "{\"config\": " + std::string(300, '[') + std::string(300, ']') + "}";
  CHECK_THROWS_WITH(read_model_file(dir.path().string()), Catch::Contains("nested deeper than"));
  std::ofstream(path, std::ios::trunc)
      << std::string(hpt::trainer::k_max_model_file_bytes + 1, ' ');
  CHECK_THROWS_AS(read_model_file(dir.path().string()), hpt::FileError);  // Too large.
  std::remove(path.c_str());
  REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
  CHECK_THROWS_AS(read_model_file(dir.path().string()), hpt::FileError);  // Never blocks.
}
