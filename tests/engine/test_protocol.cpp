#include <catch2/catch.hpp>
#include <cmath>
#include <random>

#include "hpt/engine/protocol.hpp"

using namespace hpt;

namespace {

using Kind = WorkerLine::Kind;

// The protocol error of a line ("" if it is not one).
std::string error_of(const std::string& line, bool truncated = false) {
  auto w = parse_worker_line(line, truncated);
  return w.kind == Kind::Error ? w.error : "";
}

}  // namespace

// Intermediate and final lines parse; user_attrs ride along with the final value.
TEST_CASE("protocol: intermediate and final lines", "[protocol]") {
  auto m = parse_worker_line(R"({"step": 3, "value": 0.25})");
  REQUIRE(m.kind == Kind::Message);
  CHECK(m.message.kind == WorkerMessage::Kind::Intermediate);
  CHECK(m.message.step == 3);
  CHECK(m.message.value == 0.25);
  auto f = parse_worker_line(R"({"value": 1.5, "user_attrs": {"test_roc_auc": 0.9}})");
  REQUIRE(f.kind == Kind::Message);
  CHECK(f.message.kind == WorkerMessage::Kind::Final);
  CHECK(f.message.value == 1.5);
  CHECK(f.message.user_attrs.at("test_roc_auc") == 0.9);
}

// A UTF-8 byte-order mark before a line (utf-8-sig, PowerShell) is not part of it.
TEST_CASE("protocol: a byte-order mark is skipped", "[protocol]") {
  auto f = parse_worker_line("\xEF\xBB\xBF{\"value\": 0.25}");
  REQUIRE(f.kind == Kind::Message);
  CHECK(f.message.value == 0.25);
  CHECK(parse_worker_line("\xEF\xBB\xBF\xEF\xBB\xBF{\"value\": 1}").kind == Kind::Message);
  CHECK(parse_worker_line("\xEF\xBB\xBF"
                          "epoch 1")
            .kind == Kind::Log);
}

// Progress written over with carriage returns, then the result (print(..., end="\r") then
// print(json.dumps(...))): read as a terminal shows it, the text after the last one.
TEST_CASE("protocol: a line written over with carriage returns", "[protocol]") {
  auto f = parse_worker_line("progress 10%\rprogress 100%\r{\"value\": 0.5}");
  REQUIRE(f.kind == Kind::Message);
  CHECK(f.message.kind == WorkerMessage::Kind::Final);
  CHECK(f.message.value == 0.5);
  auto s = parse_worker_line("50%\r{\"step\": 2, \"value\": 0.25}\r");  // And CRLF's CR.
  REQUIRE(s.kind == Kind::Message);
  CHECK(s.message.step == 2);
  CHECK(parse_worker_line("{\"value\":\r 0.5}").kind == Kind::Message);  // JSON's whitespace.
  CHECK(parse_worker_line("progress 10%\rprogress 100%").kind == Kind::Log);
  CHECK(parse_worker_line("\r\r").kind == Kind::Log);
}

// Python's NaN / Infinity tokens are numbers, but not inside strings.
TEST_CASE("protocol: non-finite values", "[protocol]") {
  auto m = parse_worker_line(R"({"step": 1, "value": NaN})");
  REQUIRE(m.kind == Kind::Message);
  CHECK(std::isnan(m.message.value));
  auto inf = parse_worker_line(R"({"value": -Infinity})");
  REQUIRE(inf.kind == Kind::Message);
  CHECK(inf.message.value == -INFINITY);
  CHECK(parse_worker_line(R"({"value": "NaN"})").kind == Kind::Error);
}

// Lines that are not protocol objects are log output.
TEST_CASE("protocol: log lines", "[protocol]") {
  for (const char* line : {"epoch 1 done", "", "{broken", R"({"loss": 0.3})", R"({"step": 3})",
                           R"({"value": 1, "other": 2})", "[1, 2]", "  {\"loss\": 1e400}"}) {
    INFO(line);
    CHECK(parse_worker_line(line).kind == Kind::Log);
  }
  // Over the limits but not meant for hpt (first key): still just a log line.
  CHECK(parse_worker_line("{\"loss\": " + std::string(100000, '[') + "1").kind == Kind::Log);
  CHECK(parse_worker_line("{\"loss\": 1", true).kind == Kind::Log);
}

// A line whose first key is a protocol key but that is no protocol line stays log output, with
// the reason kept (the trial's failure names it); other log lines carry none.
TEST_CASE("protocol: near misses", "[protocol]") {
  auto why = [](const std::string& line) {
    const auto w = parse_worker_line(line);
    CHECK(w.kind == Kind::Log);
    return w.near_miss;
  };
  CHECK_THAT(why(R"({"value": nan})"), Catch::Contains("'nan' is Python, not JSON") &&
                                           Catch::Contains(R"((line: {"value": nan}))"));
  CHECK_THAT(why(R"({"value": inf, "step": 2})"), Catch::Contains("'inf' is Python"));
  CHECK_THAT(why(R"({"value": None})"), Catch::Contains("'None' is Python"));
  CHECK(why(R"({"value": 0x10})") == R"(malformed JSON (line: {"value": 0x10}))");
  CHECK_THAT(why(R"({"value": .5})"), Catch::StartsWith("malformed JSON ("));
  CHECK_THAT(why(R"({"value": 0.5, "foo": 1})"),
             Catch::StartsWith(
                 "'foo' is not a protocol key (value, values, step, user_attrs, constraints)"));
  CHECK_THAT(why(R"({"step": 3})"), Catch::StartsWith("no \"value\""));
  CHECK_THAT(why(std::string("{\"value\": 0.5}\0garbage", 22)),
             Catch::StartsWith("a NUL byte in the line"));
  // A protocol key in another case or with spaces: said (the trial ended "without a final
  // value line" with no word on why).
  CHECK_THAT(why(R"({"Value": 0.5})"),
             Catch::StartsWith("its key 'Value' is not 'value': protocol keys are lowercase"));
  CHECK_THAT(why(R"({"VALUE": 0.5})"), Catch::Contains("'VALUE' is not 'value'"));
  CHECK_THAT(why(R"({"value ": 0.5})"), Catch::Contains("'value ' is not 'value'"));
  CHECK_THAT(why(R"({"Step": 1, "value": 0.5})"), Catch::Contains("'Step' is not 'step'"));
  for (const char* line : {"epoch 1 done", R"({"loss": nan})", R"({"loss": 0.3, "value": 1})",
                           "{\"information\": 1}", R"({"value": 0.5})"}) {
    INFO(line);
    CHECK(parse_worker_line(line).near_miss.empty());
  }
}

// An integer in user_attrs beyond 64 bits (Python's json keeps it exactly) is stored as the
// nearest double: the line's note says so, for the trial's log (it was rounded without a word).
// Integers that fit, and big numbers elsewhere in the line, need no note.
TEST_CASE("protocol: integers beyond 64 bits in user_attrs are noted", "[protocol]") {
  const auto big = parse_worker_line(
      R"({"value": 0.5, "user_attrs": {"ok": 18446744073709551615, "id": 12345678901234567890123}})");
  REQUIRE(big.kind == Kind::Message);
  CHECK_THAT(big.note, Catch::StartsWith("user_attrs: the integer 12345678901234567890123 is "
                                         "beyond 64 bits and is stored as the nearest double"));
  const auto nested = parse_worker_line(
      R"({"step": 1, "value": 0.5, "user_attrs": {"l": [1, {"n": -9223372036854775809}]}})");
  CHECK_THAT(nested.note, Catch::Contains("-9223372036854775809"));
  for (const char* line : {R"({"value": 0.5, "user_attrs": {"id": -9223372036854775808}})",
                           R"({"value": 12345678901234567890123, "user_attrs": {"a": 1}})",
                           R"({"value": 0.5, "user_attrs": {"f": 1.5e300}})",
                           R"({"value": NaN, "user_attrs": {"a": 1}})"}) {
    INFO(line);
    const auto w = parse_worker_line(line);
    CHECK(w.kind == Kind::Message);
    CHECK(w.note.empty());
  }
}

// Optuna's step rules: non-negative integers; repeated handling is the orchestrator's;
// steps beyond int64 are refused, not wrapped.
TEST_CASE("protocol: steps", "[protocol]") {
  auto big = parse_worker_line(R"({"step": 9223372036854775807, "value": 1})");
  REQUIRE(big.kind == Kind::Message);
  CHECK(big.message.step == INT64_MAX);
  auto integral = parse_worker_line(R"({"step": 3.0, "value": 1})");
  REQUIRE(integral.kind == Kind::Message);
  CHECK(integral.message.step == 3);
  CHECK_THAT(error_of(R"({"step": -1, "value": 1})"), Catch::Contains("step -1 is negative"));
  CHECK_THAT(error_of(R"({"step": 1.5, "value": 1})"), Catch::Contains("non-negative integer"));
  CHECK_THAT(error_of(R"({"step": NaN, "value": 1})"), Catch::Contains("non-negative integer"));
  CHECK_THAT(error_of(R"({"step": "3", "value": 1})"), Catch::Contains("non-negative integer"));
  CHECK_THAT(error_of(R"({"step": 9223372036854775808, "value": 1})"),
             Catch::Contains("beyond the largest step"));
  CHECK_THAT(error_of(R"({"step": 1e19, "value": 1})"), Catch::Contains("beyond the largest step"));
  CHECK_THAT(error_of(R"({"step": 1e300, "value": 1})"),
             Catch::Contains("beyond the largest step"));
}

// Lines meant for hpt with something wrong are protocol errors naming the problem.
TEST_CASE("protocol: errors", "[protocol]") {
  CHECK_THAT(error_of(R"({"value": 1e400})"), Catch::Contains("out of the range of a double"));
  CHECK_THAT(error_of(R"({"value": 1, "user_attrs": {"a": -1e999}})"),
             Catch::Contains("out of the range"));
  CHECK_THAT(error_of(R"({"value": true})"), Catch::Contains("value must be a number"));
  CHECK_THAT(error_of(R"({"value": 1, "user_attrs": 3})"), Catch::Contains("must be an object"));
  const std::string deep = R"({"value": 1, "user_attrs": {"a": )" + std::string(300000, '[') +
                           std::string(300000, ']') + "}}";
  CHECK_THAT(error_of(deep), Catch::Contains("nested deeper than 64"));
  CHECK_THAT(error_of(R"({"value": 1, "user_attrs": {")" + std::string(513, 'k') + R"(": 1}})"),
             Catch::Contains("513 characters long; at most 512"));
  CHECK_THAT(error_of(R"({"value": 1})", true), Catch::Contains("line longer than"));
  CHECK_THAT(error_of(R"({"value": 1, "user_attrs": {"a": ")" + std::string(1 << 20, 'x') + "\"}}"),
             Catch::Contains("line longer than"));
  // A key twice in one object (JSON readers keep the last one without a word).
  CHECK_THAT(error_of(R"({"value": 0.1, "value": 0.9})"),
             Catch::Contains("the key 'value' stands twice in one object"));
  CHECK_THAT(error_of(R"({"value": 1, "user_attrs": {"a\u0062": 1, "x": [{"a": 2}], "ab": 3}})"),
             Catch::Contains("the key 'ab' stands twice"));
  CHECK(parse_worker_line(
            R"({"value": 1, "user_attrs": {"a": {"a": "a:"}, "b": [{"a": 1}, {"a": 2}]}})")
            .kind == WorkerLine::Kind::Message);
  CHECK(parse_worker_line(R"({"value": 1, "user_attrs": {"q\"": 1, "q": 2}})").kind ==
        WorkerLine::Kind::Message);
  // The excerpt in the message is short and printable.
  const std::string e = error_of("{\"value\": \"\x1b[31m" + std::string(500, 'x') + "\"}");
  CHECK(e.size() < 300);
  CHECK(e.find('\x1b') == std::string::npos);
}

// Limits count what PostgreSQL counts: 512 two-byte characters are fine.
TEST_CASE("protocol: key length in characters", "[protocol]") {
  std::string key;
  for (int i = 0; i < 512; ++i) {
    key += "\xc3\xa9";  // é
  }
  CHECK(utf8_length(key) == 512);
  auto ok = parse_worker_line(R"({"value": 1, "user_attrs": {")" + key + R"(": 1}})");
  CHECK(ok.kind == Kind::Message);
}

// No input makes the parser throw (random mixes of JSON tokens).
TEST_CASE("protocol: never throws", "[protocol]") {
  const std::vector<std::string> tokens{"{",         "}",        "[",    "]",
                                        "\"value\"", "\"step\"", ":",    ",",
                                        "1e400",     "-1",       "NaN",  "Infinity",
                                        "\"",        "\\",       "1.5",  "\"user_attrs\"",
                                        "true",      "null",     "\xff", "18446744073709551616"};
  std::mt19937 rng(7);
  for (int i = 0; i < 3000; ++i) {
    std::string line = "{";
    const int n = static_cast<int>(rng() % 20);
    for (int k = 0; k < n; ++k) {
      line += tokens[rng() % tokens.size()];
    }
    CHECK_NOTHROW(parse_worker_line(line));
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

// placeholder_values fills every reserved name (the list the study config refuses as
// parameter names) and nothing else beyond the parameters.
TEST_CASE("protocol: reserved placeholders", "[protocol]") {
  const Json values = placeholder_values(Json{{"lr", 0.5}}, 7);
  CHECK(values.size() == 1 + k_reserved_placeholders.size());
  for (const auto& name : k_reserved_placeholders) {
    CHECK(values.contains(name));
  }
  CHECK(substitute_placeholders({"{trial_number}-{lr}"}, values) ==
        std::vector<std::string>{"7-0.5"});
}

// Multi-objective final lines: "values" with one number per objective (NaN/Infinity
// allowed, a NaN fails the trial later); "value" there, "values" in a single-objective study,
// a wrong count, both keys, or "values" on a step line are protocol errors; step lines keep
// one "value" in every study.
TEST_CASE("protocol: multi-objective values", "[protocol][multiobj]") {
  auto f = parse_worker_line(R"({"values": [0.9, 12, NaN], "user_attrs": {"a": 1}})", false, 3);
  REQUIRE(f.kind == Kind::Message);
  CHECK(f.message.kind == WorkerMessage::Kind::Final);
  REQUIRE(f.message.values.size() == 3);
  CHECK(f.message.values[1] == 12);
  CHECK(std::isnan(f.message.values[2]));
  CHECK(f.message.user_attrs.at("a") == 1);
  auto step = parse_worker_line(R"({"step": 2, "value": 0.5})", false, 2);
  REQUIRE(step.kind == Kind::Message);
  CHECK(step.message.kind == WorkerMessage::Kind::Intermediate);
  auto error = [](const std::string& line, size_t n) {
    auto w = parse_worker_line(line, false, n);
    return w.kind == Kind::Error ? w.error : "";
  };
  CHECK_THAT(error(R"({"value": 1})", 2),
             Catch::StartsWith("protocol error: the study has 2 objectives (study.directions): "
                               "print {\"values\": [v1, ..., v2]}, not \"value\""));
  CHECK_THAT(error(R"({"values": [1]})", 1),
             Catch::Contains("the study has one objective: print {\"value\": v}"));
  CHECK_THAT(error(R"({"values": [1, 2, 3]})", 2),
             Catch::Contains("values has 3 numbers, but the study has 2 objectives"));
  CHECK_THAT(error(R"({"values": []})", 2), Catch::Contains("values has 0 numbers"));
  CHECK_THAT(error(R"({"values": 1})", 2), Catch::Contains("values must be a list of numbers"));
  CHECK_THAT(error(R"({"values": [1, "2"]})", 2), Catch::Contains("values must be numbers"));
  CHECK_THAT(error(R"({"values": [1, 2], "value": 1})", 2), Catch::Contains("not both"));
  CHECK_THAT(error(R"({"step": 1, "values": [1, 2]})", 2),
             Catch::Contains("a step line reports one \"value\""));
  CHECK_THAT(error(R"({"values": [1, 1e400]})", 2), Catch::Contains("out of the range"));
  CHECK(parse_worker_line(R"({"values": [1, 2], "other": 3})", false, 2).kind == Kind::Log);
}

// Constraint values ride on a final or a step line (Optuna's constraints_func result); NaN, an
// empty list or anything but numbers is a protocol error, as NaN is in Optuna.
TEST_CASE("protocol: constraints", "[protocol][constraints]") {
  auto f = parse_worker_line(R"({"value": 0.5, "constraints": [-1, 0.25, Infinity]})");
  REQUIRE(f.kind == Kind::Message);
  REQUIRE(f.message.constraints);
  CHECK(*f.message.constraints == std::vector<double>{-1, 0.25, INFINITY});
  auto step = parse_worker_line(R"({"step": 3, "value": 0.5, "constraints": [0]})");
  REQUIRE(step.kind == Kind::Message);
  CHECK(step.message.kind == WorkerMessage::Kind::Intermediate);
  CHECK(*step.message.constraints == std::vector<double>{0});
  auto multi = parse_worker_line(R"({"values": [1, 2], "constraints": [-3]})", false, 2);
  REQUIRE(multi.kind == Kind::Message);
  CHECK(*multi.message.constraints == std::vector<double>{-3});
  CHECK_FALSE(parse_worker_line(R"({"value": 0.5})").message.constraints);
  CHECK_THAT(error_of(R"({"value": 1, "constraints": [0.1, NaN]})"),
             Catch::Contains("constraints must not hold NaN (each is a number, <= 0 when met)"));
  CHECK_THAT(error_of(R"({"value": 1, "constraints": [0.1, "0.2"]})"),
             Catch::Contains("constraints must be numbers (each <= 0 when met), but got \"0.2\""));
  CHECK_THAT(error_of(R"({"value": 1, "constraints": []})"),
             Catch::Contains("constraints must be a non-empty list of numbers"));
  CHECK_THAT(error_of(R"({"value": 1, "constraints": 0.5})"),
             Catch::Contains("constraints must be a non-empty list of numbers"));
  CHECK_THAT(error_of(R"({"value": 1, "constraints": [1e400]})"),
             Catch::Contains("out of the range"));
  // Without "value" it is no protocol line: a log line noting why.
  auto no_value = parse_worker_line(R"({"constraints": [1]})");
  CHECK(no_value.kind == Kind::Log);
  CHECK_THAT(no_value.near_miss, Catch::Contains("no \"value\""));
}

// Text that is not valid UTF-8 in a protocol line (raw bytes, or a lone surrogate escape as
// Python's json.dumps writes for os.fsdecode'd names) is kept as U+FFFD; the line still counts.
TEST_CASE("protocol: invalid UTF-8 and lone surrogates become U+FFFD", "[protocol]") {
  const std::string fffd = "\xEF\xBF\xBD";
  auto raw = parse_worker_line("{\"value\": 0.5, \"user_attrs\": {\"note\": \"caf\xe9\"}}");
  REQUIRE(raw.kind == Kind::Message);
  CHECK(raw.message.value == 0.5);
  CHECK(raw.message.user_attrs.at("note") == "caf" + fffd);
  auto lone = parse_worker_line(
      R"({"value": 0.5, "user_attrs": {"img": "img_\udcff.png", "hi": "\ud800"}})");
  REQUIRE(lone.kind == Kind::Message);
  CHECK(lone.message.user_attrs.at("img") == "img_" + fffd + ".png");
  CHECK(lone.message.user_attrs.at("hi") == fffd);
  // A valid pair, escaped text that only looks like an escape, and valid UTF-8 stay as they are.
  auto kept = parse_worker_line(
      R"({"value": 1, "user_attrs": {"a": "\ud83d\ude00", "b": "\\udcff", "c": "é\"\\"}})");
  REQUIRE(kept.kind == Kind::Message);
  CHECK(kept.message.user_attrs.at("a") == "\xF0\x9F\x98\x80");
  CHECK(kept.message.user_attrs.at("b") == "\\udcff");
  CHECK(kept.message.user_attrs.at("c") == "\xC3\xA9\"\\");
  // A step line, and a protocol error's excerpt, too.
  auto step = parse_worker_line("{\"step\": 2, \"value\": 3, \"user_attrs\": {\"\xff\": 1}}");
  CHECK(step.kind == Kind::Message);
  CHECK(error_of("{\"value\": \"x\xff\"}") ==
        "protocol error: value must be a number, but got \"x" + fffd + "\" (line: {\"value\": \"x" +
            fffd + "\"})");
  // A malformed escape is still not JSON: a log line.
  CHECK(parse_worker_line(R"({"value": 1, "user_attrs": {"a": "\u12"}})").kind == Kind::Log);
}
