#pragma once
// Parameter distributions, stored the way Optuna 3.1 stores them: one double
// "internal representation" per value (a categorical is its choice index) plus
// the distribution as JSON ({"name": "FloatDistribution", "attributes": {...}}).

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace hpt {

using Json = nlohmann::json;

struct FloatDistribution {
  double low = 0.0;
  double high = 1.0;
  bool log = false;
  std::optional<double> step;  // Never set together with log.
  bool operator==(const FloatDistribution& o) const {
    return low == o.low && high == o.high && log == o.log && step == o.step;
  }
};

struct IntDistribution {
  int64_t low = 0;
  int64_t high = 1;
  bool log = false;
  int64_t step = 1;  // Must be 1 when log is set.
  bool operator==(const IntDistribution& o) const {
    return low == o.low && high == o.high && log == o.log && step == o.step;
  }
};

// A categorical's choices, read as a const std::vector<Json>, shared by every copy: each trial
// holds its distributions, and 1,000 trials of a 5,000-choice categorical held five million
// JSON values (631 MB) where one list serves. push_back copies a shared list first.
class Choices {
 public:
  Choices() = default;
  Choices(std::vector<Json> values)  // NOLINT: a list of choices is its choices.
      : m_values(std::make_shared<std::vector<Json>>(std::move(values))) {}
  Choices(std::initializer_list<Json> values) : Choices(std::vector<Json>(values)) {}
  const std::vector<Json>& values() const { return m_values ? *m_values : no_values(); }
  operator const std::vector<Json>&() const { return values(); }  // NOLINT
  size_t size() const { return values().size(); }
  bool empty() const { return values().empty(); }
  const Json& operator[](size_t i) const { return values()[i]; }
  const Json& at(size_t i) const { return values().at(i); }
  std::vector<Json>::const_iterator begin() const { return values().begin(); }
  std::vector<Json>::const_iterator end() const { return values().end(); }
  void push_back(Json value);
  // True when both are one list (copies of one Choices).
  bool shares(const Choices& o) const { return m_values == o.m_values; }

 private:
  static const std::vector<Json>& no_values();
  std::shared_ptr<std::vector<Json>> m_values;  // Never changed while shared.
};

// Choices are any JSON values; lists and objects are stored in Optuna's
// distribution_json as their JSON text so that Optuna can read the study, and read back as
// that text (a string).
struct CategoricalDistribution {
  Choices choices;
  // The same choices in the same order, each by choice_equal (as Optuna compares them).
  bool operator==(const CategoricalDistribution& o) const;
};

using Distribution = std::variant<FloatDistribution, IntDistribution, CategoricalDistribution>;

// The deepest nesting of arrays and objects in JSON text (brackets inside strings do not
// count), scanning no further once it exceeds limit (then returns limit + 1). Parsing, copying
// and printing nlohmann::json recurse once per level: check this before parsing text that
// comes from outside (a database, a worker).
size_t json_nesting_depth(const std::string& text, size_t limit);
// The nesting hpt reads from a database: deeper values are refused.
constexpr size_t k_max_json_depth = 256;

// The largest integer every double below it holds exactly: 2^53. Int bounds must lie within
// +-k_max_exact_int, since values are stored as doubles.
constexpr double k_max_exact_int = 9007199254740992.0;

// Throws std::invalid_argument naming the bad attribute ("low > high: got low=2, high=1").
// Ranges samplers cannot compute on are refused: int bounds beyond +-2^53, float ranges
// whose width (plus one step) is not a finite double.
void validate(const Distribution& d);

// Optuna 3.1's _adjust_int_uniform_high / _adjust_discrete_uniform_high: the largest
// low + k * step not above high, which is high itself when step divides the range (or no
// step is set). Floats are computed, as Optuna does, in decimal on the shortest texts of low,
// high and step ("0.1", not 0.1000000000000000055...), then read back as the nearest double.
int64_t reachable_high(const IntDistribution& d);
double reachable_high(const FloatDistribution& d);

// Optuna's distribution_to_json / json_to_distribution (also reads the abbreviated
// pre-3.0 {"type": ...} form). Throws std::invalid_argument on malformed input (including
// text nested deeper than k_max_json_depth).
std::string distribution_to_json(const Distribution& d);
Distribution distribution_from_json(const std::string& text);

// A categorical choice in the form two choices share exactly when Python finds them equal (as
// Optuna compares them): numbers by value, exactly (1 and 1.0, -0.0 and 0.0 are one choice;
// 2^53 + 1 and 2^53 are two); a bool is not a number. A list or mapping is the JSON text it
// is stored as, so it is one choice with that string ([64] and "[64]").
Json choice_key(const Json& choice);
// choice_key(a) == choice_key(b), without building keys for two scalars of one kind.
bool choice_equal(const Json& a, const Json& b);

// External value -> internal double. Throws std::invalid_argument if the value is not one of
// the distribution's kind (wrong type, a float not finite, an int beyond ±2^53 or not whole,
// not positive on a log scale, not a choice: choice_key equality), as Optuna refuses them; a
// number outside the range is returned.
double to_internal(const Distribution& d, const Json& external);
// Internal double -> external value (a number for float/int, the choice for categorical).
Json to_external(const Distribution& d, double internal);
// to_external as Optuna holds the value: a list or mapping choice as its JSON text (what
// attributes Optuna reads, grid_id's search_space and enqueued fixed_params, must hold).
Json to_optuna_external(const Distribution& d, double internal);
// True if the internal value lies in the distribution (on its step grid, in range).
bool contains(const Distribution& d, double internal);
// True if the distribution has exactly one possible value.
bool is_single(const Distribution& d);
// A short name for messages and reports: "float", "int", "categorical".
std::string kind_name(const Distribution& d);
// True if the distribution is log-scaled.
bool is_log(const Distribution& d);

// Optuna's check_distribution_compatibility: why a parameter stored with `stored` cannot
// take `declared` in the same study (a different kind, a different log setting, other or
// reordered categorical choices), or std::nullopt when it can (ranges and steps may change).
std::optional<std::string> compatibility_problem(const Distribution& stored,
                                                 const Distribution& declared);
// A one-line description for messages: "float [0.001, 0.1] log", "int [1, 9] step 2",
// "categorical [\"a\", 3]" (long choice lists are cut).
std::string distribution_text(const Distribution& d);

}  // namespace hpt
