#include <catch2/catch.hpp>
#include <cmath>

#include "hpt/engine/protocol.hpp"

using namespace hpt;

// Intermediate and final lines parse; user_attrs ride along with the final value.
TEST_CASE("protocol: intermediate and final lines", "[protocol]") {
  auto m = parse_worker_line(R"({"step": 3, "value": 0.25})");
  REQUIRE(m);
  CHECK(m->kind == WorkerMessage::Kind::Intermediate);
  CHECK(m->step == 3);
  CHECK(m->value == 0.25);
  auto f = parse_worker_line(R"({"value": 1.5, "user_attrs": {"test_roc_auc": 0.9}})");
  REQUIRE(f);
  CHECK(f->kind == WorkerMessage::Kind::Final);
  CHECK(f->value == 1.5);
  CHECK(f->user_attrs.at("test_roc_auc") == 0.9);
}

// Python's NaN / Infinity tokens are numbers, but not inside strings.
TEST_CASE("protocol: non-finite values", "[protocol]") {
  auto m = parse_worker_line(R"({"step": 1, "value": NaN})");
  REQUIRE(m);
  CHECK(std::isnan(m->value));
  auto inf = parse_worker_line(R"({"value": -Infinity})");
  REQUIRE(inf);
  CHECK(inf->value == -INFINITY);
  CHECK_FALSE(parse_worker_line(R"({"value": "NaN"})"));
}

// Everything else is a log line.
TEST_CASE("protocol: log lines", "[protocol]") {
  for (const char* line :
       {"epoch 1 done", "", "{broken", R"({"loss": 0.3})", R"({"value": "abc"})",
        R"({"step": 1.5, "value": 2})", R"({"value": 1, "other": 2})", "[1, 2]"}) {
    INFO(line);
    CHECK_FALSE(parse_worker_line(line));
  }
}

// {name} placeholders take the trial's values; unknown braces stay.
TEST_CASE("protocol: placeholders", "[protocol]") {
  Json values{{"lr", 0.001}, {"act", "relu"}, {"units", Json::array({512, 256})}, {"n", 3}};
  auto out = substitute_placeholders(
      {"--lr={lr}", "{act}", "{units}", "{n}{n}", "{unknown}", "{", "x{lr"}, values);
  CHECK(out == std::vector<std::string>{"--lr=0.001", "relu", "[512,256]", "33", "{unknown}", "{",
                                        "x{lr"});
}
