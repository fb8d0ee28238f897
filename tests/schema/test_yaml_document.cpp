#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "hpt/schema/config_error.hpp"
#include "hpt/schema/yaml_document.hpp"
#include "support/temp_dir.hpp"

using namespace hpt;

namespace {

std::string error_of(const std::string& yaml) {
  try {
    parse_yaml(yaml, "f.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

// Nine levels of ten aliases each: 10^9 values once expanded, from a few hundred bytes.
std::string billion_laughs() {
  std::string yaml = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int i = 1; i <= 9; ++i) {
    const std::string prev = "*a" + std::to_string(i - 1);
    yaml += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int k = 0; k < 10; ++k) {
      yaml += (k ? ", " : "") + prev;
    }
    yaml += "]\n";
  }
  return yaml;
}

}  // namespace

// An anchor used inside itself (a cycle) is refused with its place, not walked forever.
TEST_CASE("parse_yaml refuses self-referencing aliases", "[schema]") {
  CHECK(error_of("fixed: &a {b: *a}") ==
        "f.yaml:1: fixed.b: an alias refers to a node that contains it (a cycle)");
  CHECK_THAT(error_of("x: &l [1, [2, *l]]"), Catch::Contains("x[1][1]: an alias refers"));
  CHECK_THAT(error_of("? &k [*k]\n: 1"), Catch::Contains("an alias refers"));
}

// Aliases expanding exponentially are stopped at the value limit, quickly and in little memory.
TEST_CASE("parse_yaml bounds alias expansion", "[schema]") {
  CHECK_THAT(error_of(billion_laughs()),
             Catch::Contains("the document expands to more than 1000000 values"));
  // Sharing that stays small is fine.
  auto doc = parse_yaml("base: &b {x: 1}\nuse: [*b, *b]", "f.yaml");
  CHECK(doc["use"][1]["x"].as<int>() == 1);
}

// Nesting deeper than the limit is refused (by yaml-cpp's own guard or by ours).
TEST_CASE("parse_yaml bounds nesting depth", "[schema]") {
  CHECK_THAT(error_of(std::string(100, '[') + std::string(100, ']')),
             Catch::Contains("nested deeper than 64 levels"));
  // Past yaml-cpp's own guard too (it said "YAML syntax error: bad file"; helper audit).
  CHECK_THAT(error_of(std::string(100000, '[')),
             Catch::StartsWith("f.yaml") && Catch::Contains("nested deeper than 64 levels"));
  std::string flow;
  for (int i = 0; i < 1000; ++i) {
    flow += "{a: ";
  }
  CHECK_THAT(error_of(flow), Catch::Contains("nested deeper than 64 levels"));
  std::string dashes;
  for (int i = 0; i < 70; ++i) {
    dashes += "- ";
  }
  CHECK_THAT(error_of(dashes + "x"), Catch::Contains("nested deeper"));
  CHECK_NOTHROW(parse_yaml(std::string(60, '[') + std::string(60, ']'), "f.yaml"));
}

// A key repeated in one mapping names the lines of both; the same key in two mappings is fine.
TEST_CASE("parse_yaml refuses duplicate keys", "[schema]") {
  CHECK(error_of("study:\n  seed: 1\n  jobs: 2\n  seed: 3\n") ==
        "f.yaml:4: study.seed: duplicate key 'seed' (first at line 2)");
  CHECK(error_of("{a: 1, a: 2}") == "f.yaml:1: a: duplicate key 'a' (first at line 1)");
  CHECK_NOTHROW(parse_yaml("a: {x: 1}\nb: {x: 2}", "f.yaml"));
}

// Files: a regular file within the size limit only; errors name the path.
TEST_CASE("read_config_file refuses what is not a small regular file", "[schema]") {
  test::TempDir dir;
  CHECK_THROWS_WITH(read_config_file("/dev/zero"),
                    "/dev/zero: not a regular file (a character device)");
  REQUIRE(::mkfifo(dir.file("fifo").c_str(), 0600) == 0);
  CHECK_THROWS_AS(read_config_file(dir.file("fifo")), ConfigError);
  {
    std::ofstream big(dir.file("big.yaml"));
    big << "a: " << std::string(k_max_config_bytes, 'x') << "\n";
  }
  CHECK_THROWS_WITH(read_config_file(dir.file("big.yaml")),
                    Catch::EndsWith("big.yaml: larger than the limit of 1048576 bytes"));
  std::ofstream(dir.file("ok.yaml")) << "a: [1, 2]\n";
  CHECK(load_yaml_file(dir.file("ok.yaml"))["a"][1].as<int>() == 2);
}

// A second document (after "---") is refused at its "---" line, not silently dropped; one
// document with explicit markers is fine.
TEST_CASE("parse_yaml refuses a second document", "[schema]") {
  const std::string second =
      "f.yaml:3: a second YAML document starts here (after '---' or '...'); a config is one "
      "document";
  CHECK(error_of("a: 1\nb: 2\n---\nc: 3\n") == second);
  CHECK(error_of("a: 1\nb: 2\n---\n") == second);  // An empty one too.
  CHECK(error_of("a: 1\n...\n---\nc: [3]\n") == second);
  CHECK_THAT(error_of("a: 1\n---\n[\n"), Catch::StartsWith("f.yaml:"));  // Never read silently.
  CHECK(error_of("a: 1\n...\nb: 2\n") ==
        "f.yaml:3: a second YAML document starts here (after '---' or '...'); a config is one "
        "document");
  CHECK(parse_yaml("---\na: 1\n...\n", "f.yaml")["a"].as<int>() == 1);
  CHECK(parse_yaml("a: 1  # --- not a marker\n", "f.yaml")["a"].as<int>() == 1);
}

// A NUL character (a quoted "\0") in any value or key is refused where it is: C APIs (file
// names, argv) would cut the string there.
TEST_CASE("parse_yaml refuses NUL characters in strings", "[schema]") {
  CHECK(error_of("study: {name: s, storage: \"x\\0y.db\"}") ==
        "f.yaml:1: study.storage: contains a NUL character");
  CHECK(error_of("objective:\n  command: [\"sh\\0x\"]\n") ==
        "f.yaml:2: objective.command[0]: contains a NUL character");
  CHECK(error_of("fixed: {\"a\\0b\": 1}") == "f.yaml:1: fixed.a\\0b: contains a NUL character");
  CHECK(error_of("x: 'a\\0b'") == "");  // Single quotes do not escape: a backslash and a 0.
}

// yaml-cpp does not support YAML merge keys: a plain << anywhere is refused with its place (it
// became a key named "<<"); a quoted "<<" is a key of that name on purpose.
TEST_CASE("parse_yaml refuses merge keys", "[schema]") {
  CHECK(error_of("a: &a {x: 1}\nb:\n  <<: *a\n") ==
        "f.yaml:3: b: YAML merge keys (<<) are not supported; write the keys out");
  CHECK(error_of("<<: {x: 1}\n") ==
        "f.yaml:1: YAML merge keys (<<) are not supported; write the keys out");
  CHECK(error_of("l:\n  - {k: {<<: [1]}}\n") ==
        "f.yaml:2: l[0].k: YAML merge keys (<<) are not supported; write the keys out");
  CHECK(error_of("\"<<\": 1\nx: <<\n").empty());
}

// Tags hpt does not read are refused with their place, not dropped (`name: !!binary aGVsbG8=`
// named a study "aGVsbG8="); the core tags pass on values of their kind only.
TEST_CASE("parse_yaml refuses tags it does not read", "[schema]") {
  CHECK(error_of("study: {name: !!binary aGVsbG8=}") ==
        "f.yaml:1: study.name: the YAML tag !!binary is not read by hpt (it reads !!str, !!int, "
        "!!float, !!bool and !!null on values of their kind); remove it");
  CHECK_THAT(error_of("fixed:\n  s: !!set {a, b}\n"),
             Catch::StartsWith("f.yaml:2: fixed.s: the YAML tag !!set is not read"));
  CHECK_THAT(error_of("x: !custom 3"), Catch::Contains("the YAML tag !custom is not read"));
  CHECK(error_of("fixed: {a: !!int 1.5}") ==
        "f.yaml:1: fixed.a: the tag !!int on '1.5', which is no int");
  CHECK(error_of("fixed: {a: !!null x}") ==
        "f.yaml:1: fixed.a: the tag !!null on 'x', which is no null");
  CHECK_THAT(error_of("fixed: {a: !!bool yes}"), Catch::Contains("which is no bool"));
  CHECK_THAT(error_of("fixed: {a: !!float abc}"), Catch::Contains("which is no float"));
  CHECK_THAT(error_of("fixed: {a: !!str [1]}"), Catch::Contains("the YAML tag !!str is not read"));
  CHECK(error_of("a: !!str 5\nb: !!int 5\nc: !!float 1.5\nd: !!bool true\ne: !!null ~\n"
                 "f: !!map {x: 1}\ng: !!seq [1]\nh: !!float 2\ni: !!null\nj: \"q\"\n")
            .empty());
}
