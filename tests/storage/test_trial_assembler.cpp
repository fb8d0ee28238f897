#include <catch2/catch.hpp>
#include <cmath>
#include <stdexcept>

#include "../../storage/src/trial_assembler.hpp"  // Internal to storage.
#include "hpt/io/datetime_text.hpp"

using namespace hpt;

namespace {

const std::string k_float_json = distribution_to_json(FloatDistribution{0.0, 1.0, false, {}});
const std::string k_choice_json = distribution_to_json(CategoricalDistribution{{"a", "b"}});

// Rows of two trials: id 10 number 0 COMPLETE, id 11 number 1 RUNNING.
std::vector<TrialRow> two_rows() {
  return {{10, 0, "COMPLETE", "2024-01-02 03:04:05.000006", "2024-01-02 03:05:00", ""},
          {11, 1, "RUNNING", "2024-01-02 03:06:00", std::nullopt, ""}};
}

// The problems noted on t (empty if none).
std::vector<std::string> problems(const FrozenTrial& t) {
  auto it = t.system_attrs.find(k_read_problems_attr);
  return it == t.system_attrs.end() ? std::vector<std::string>{}
                                    : it->second.get<std::vector<std::string>>();
}

}  // namespace

// A distribution text is parsed once and served from the cache after; malformed text
// throws and is not cached.
TEST_CASE("DistributionCache", "[storage][assembler]") {
  DistributionCache cache;
  const Distribution& first = cache.parse(k_float_json);
  CHECK(first == Distribution(FloatDistribution{0.0, 1.0, false, {}}));
  CHECK(&cache.parse(k_float_json) == &first);
  CHECK_THROWS_AS(cache.parse("{\"name\": "), std::invalid_argument);
  CHECK_THROWS_AS(cache.parse("{\"name\": "), std::invalid_argument);
}

// Trials read with one cache share each categorical's choices: 1,000 trials of a 5,000-choice
// categorical held a list each (631 MB for hpt best; 20 MB shared).
TEST_CASE("TrialAssembler shares categorical choices", "[storage][assembler]") {
  DistributionCache cache;
  TrialAssembler a(two_rows(), cache);
  a.add_param(10, "c", 1, k_choice_json);
  a.add_param(11, "c", 0, k_choice_json);
  const auto trials = a.take();
  const auto& first = std::get<CategoricalDistribution>(trials[0].distributions.at("c")).choices;
  const auto& second = std::get<CategoricalDistribution>(trials[1].distributions.at("c")).choices;
  CHECK(first == std::vector<Json>{"a", "b"});
  CHECK(&first.values() == &second.values());
}

// Trials keep the rows' order, ids, numbers, states and datetimes; each table's rows go to
// their trial, and rows of other trials are ignored.
TEST_CASE("TrialAssembler builds trials from rows", "[storage][assembler]") {
  DistributionCache cache;
  TrialAssembler a(two_rows(), cache);
  a.add_param(10, "x", 0.25, k_float_json);
  a.add_param(10, "c", 1, k_choice_json);
  a.add_param(99, "x", 0.5, k_float_json);  // Not among the rows.
  a.add_value(10, 0, 1.5, "FINITE");
  a.add_value(99, 0, 2.5, "FINITE");
  a.add_intermediate(11, 0, 0.5, "FINITE");
  a.add_intermediate(11, 1, std::nullopt, "NAN");
  a.add_intermediate(11, 2, std::nullopt, "INF_NEG");
  a.add_attr(10, false, "note", "\"hi\"");
  a.add_attr(11, true, "hpt:owner", "{\"pid\": 7}");
  auto trials = a.take();
  REQUIRE(trials.size() == 2);
  const auto& done = trials[0];
  CHECK(done.id == 10);
  CHECK(done.number == 0);
  CHECK(done.state == TrialState::Complete);
  CHECK(done.datetime_start == parse_datetime("2024-01-02 03:04:05.000006", TimeZone::Local));
  CHECK(done.duration_seconds() == Approx(54.999994));
  CHECK(done.params == std::map<std::string, double>{{"c", 1}, {"x", 0.25}});
  CHECK(done.distributions.at("c") == Distribution(CategoricalDistribution{{"a", "b"}}));
  CHECK(done.value == 1.5);
  CHECK(done.values == std::vector<double>{1.5});
  CHECK(done.user_attrs == std::map<std::string, Json>{{"note", "hi"}});
  CHECK(done.system_attrs.empty());
  const auto& running = trials[1];
  CHECK(running.state == TrialState::Running);
  CHECK_FALSE(running.datetime_complete);
  CHECK_FALSE(running.value);
  CHECK(running.values.empty());
  REQUIRE(running.intermediate_values.size() == 3);
  CHECK(running.intermediate_values.at(0) == 0.5);
  CHECK(std::isnan(running.intermediate_values.at(1)));
  CHECK(running.intermediate_values.at(2) == -HUGE_VAL);
  CHECK(running.system_attrs.at("hpt:owner") == Json{{"pid", 7}});
  CHECK(running.user_attrs.empty());
}

// Values are put in objective order whatever order the rows come in; a trial with several
// has no single value.
TEST_CASE("TrialAssembler orders values by objective", "[storage][assembler]") {
  DistributionCache cache;
  TrialAssembler a(two_rows(), cache);
  a.add_value(10, 2, std::nullopt, "INF_POS");
  a.add_value(10, 0, 3.0, "FINITE");
  a.add_value(10, 1, -1.0, "FINITE");
  auto trials = a.take();
  CHECK(trials[0].values == std::vector<double>{3.0, -1.0, HUGE_VAL});
  CHECK_FALSE(trials[0].value);
}

// Values sit at their objective's index: a row past a missing objective (objective 5 of a
// single-objective trial, a two-objective trial whose objective 1 was renumbered 7) or a
// negative one is left out with a note, never moved onto another objective's place.
TEST_CASE("TrialAssembler leaves out values of no objective's place", "[storage][assembler]") {
  DistributionCache cache;
  TrialAssembler a(two_rows(), cache);
  a.add_value(10, 5, 99.0, "FINITE");
  a.add_value(10, 0, 1.0, "FINITE");
  a.add_value(11, 7, 0.5, "FINITE");
  a.add_value(11, -1, 0.25, "FINITE");
  auto trials = a.take();
  CHECK(trials[0].values == std::vector<double>{1.0});
  CHECK(trials[0].value == 1.0);
  CHECK(problems(trials[0]) ==
        std::vector<std::string>{"value of objective 5: objective 1 has no value, left out"});
  CHECK(trials[1].values.empty());
  CHECK_FALSE(trials[1].value);
  CHECK(problems(trials[1]) ==
        std::vector<std::string>{
            "value of objective -1: not an objective's index, or a second value for one, left out",
            "value of objective 7: objective 0 has no value, left out"});
}

// Rows hpt cannot read never throw: an unknown state reads as FAIL, a malformed or invalid
// distribution or a value outside it leaves the parameter out, unreadable JSON becomes a
// note; each problem is listed on the trial. A stored hpt:read_problems is not read back.
TEST_CASE("TrialAssembler notes what it cannot read", "[storage][assembler]") {
  DistributionCache cache;
  TrialAssembler a({{5, 0, "EXPLODED", "9999-12-31 23:59:59.999999", std::nullopt, ""}}, cache);
  a.add_param(5, "garbled", 0.5, "{\"name\": \"FloatDistribution\"");
  a.add_param(5, "reversed", 0.5,
              "{\"name\": \"FloatDistribution\", \"attributes\": {\"low\": 2.0, \"high\": 1.0, "
              "\"log\": false, \"step\": null}}");
  a.add_param(5, "index", 2, k_choice_json);
  a.add_param(5, "half", 0.5, k_choice_json);
  a.add_param(5, "nan", std::nan(""), k_float_json);
  a.add_param(5, "fine", 1, k_choice_json);
  a.add_attr(5, false, "bad", "{\"a\": ");
  a.add_attr(5, true, k_read_problems_attr, "[\"forged\"]");
  a.add_attr(5, false, k_read_problems_attr, "\"user's own\"");
  a.add_value(5, 0, std::nan(""), "FINITE");
  auto trials = a.take();
  REQUIRE(trials.size() == 1);
  const auto& t = trials[0];
  CHECK(t.state == TrialState::Fail);
  CHECK(t.params == std::map<std::string, double>{{"fine", 1}});
  CHECK(t.distributions.size() == 1);
  CHECK_THAT(t.user_attrs.at("bad").get<std::string>(), Catch::StartsWith("<unreadable: "));
  CHECK(t.user_attrs.at(k_read_problems_attr) == "user's own");
  auto notes = problems(t);
  REQUIRE(notes.size() == 9);
  CHECK(notes[0] == "unknown trial state 'EXPLODED', read as FAIL");
  CHECK(notes[1] == "datetime_start '9999-12-31 23:59:59.999999' is not a date hpt can read");
  CHECK_FALSE(t.datetime_start);
  notes.erase(notes.begin() + 1);
  CHECK_THAT(notes[1], Catch::StartsWith("param garbled: "));
  CHECK_THAT(notes[2], Catch::StartsWith("param reversed: ") && Catch::Contains("low"));
  CHECK(notes[3] == "param index: value 2 is not in its distribution");
  CHECK(notes[4] == "param half: value 0.5 is not in its distribution");
  CHECK(notes[5] == "param nan: value nan is not in its distribution");
  CHECK_THAT(notes[6], Catch::StartsWith("user attribute bad: "));
  CHECK(notes[7] == "value of objective 0: not a number");
}

// A number beyond FrozenTrial's int (another tool's row) reads as -1 with a note, never wrapped
// onto another trial's number.
TEST_CASE("TrialAssembler notes numbers beyond an int", "[storage][assembler]") {
  DistributionCache cache;
  TrialAssembler a({{1, 4294967299, "COMPLETE", std::nullopt, std::nullopt, ""},
                    {2, 2147483647, "COMPLETE", std::nullopt, std::nullopt, ""}},
                   cache);
  const auto trials = a.take();
  REQUIRE(trials.size() == 2);
  CHECK(trials[0].number == -1);
  CHECK(problems(trials[0]) ==
        std::vector<std::string>{"trial number 4294967299 is beyond what hpt reads, read as -1"});
  CHECK(trials[1].number == 2147483647);
  CHECK(trials[1].system_attrs.count(k_read_problems_attr) == 0);
  TrialAssembler text({{3, -1, "COMPLETE", std::nullopt, std::nullopt, "x"}}, cache);
  const auto unread = text.take();
  CHECK(unread.at(0).number == -1);
  CHECK(problems(unread.at(0)) ==
        std::vector<std::string>{"trial number 'x' is not an integer, read as -1"});
}

// take() hands over the trials and leaves the assembler empty: later rows are ignored.
TEST_CASE("TrialAssembler is empty after take", "[storage][assembler]") {
  DistributionCache cache;
  TrialAssembler a(two_rows(), cache);
  a.add_value(11, 0, 2.0, "FINITE");
  CHECK(a.take().size() == 2);
  a.add_param(10, "x", 0.25, k_float_json);
  a.add_value(11, 0, 4.0, "FINITE");
  a.add_intermediate(10, 0, 1.0, "FINITE");
  a.add_attr(10, false, "k", "1");
  CHECK(a.take().empty());
}

// An attribute row is its JSON; text hpt cannot read is a placeholder named in the notes, and a
// row keyed hpt:read_problems is never read back into the map that holds the notes.
TEST_CASE("read_attr_row", "[storage][assembler]") {
  std::map<std::string, Json> attrs;
  std::map<std::string, Json> notes;
  read_attr_row(attrs, notes, "study user", "a", "[1, 2]");
  CHECK(attrs.at("a") == Json{1, 2});
  CHECK(notes.empty());
  read_attr_row(attrs, notes, "study user", "b", "{oops");
  CHECK(attrs.at("b").get<std::string>().rfind("<unreadable: ", 0) == 0);
  REQUIRE(notes.count(k_read_problems_attr) == 1);
  CHECK(notes.at(k_read_problems_attr).size() == 1);
  CHECK(notes.at(k_read_problems_attr)[0].get<std::string>().rfind("study user attribute b: ", 0) ==
        0);
  read_attr_row(notes, notes, "study user", k_read_problems_attr, "[\"planted\"]");
  CHECK(notes.at(k_read_problems_attr).size() == 1);
  read_attr_row(attrs, notes, "study user", k_read_problems_attr, "[\"user's own\"]");
  CHECK(attrs.at(k_read_problems_attr) == Json{"user's own"});
}
