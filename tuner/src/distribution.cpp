#include "hpt/tuner/distribution.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>

#include "hpt/io/utf8.hpp"

namespace hpt {

void Choices::push_back(Json value) {
  if (!m_values || m_values.use_count() > 1) {
    m_values = std::make_shared<std::vector<Json>>(values());
  }
  m_values->push_back(std::move(value));
}

const std::vector<Json>& Choices::no_values() {
  static const std::vector<Json> none;
  return none;
}

namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

// Choices that Optuna cannot hold natively (lists, objects) travel as JSON text; read back,
// the text stays a string (a study's own "[64]" is not told from a list [64] by its text).
Json choice_to_optuna(const Json& c) { return c.is_structured() ? Json(c.dump()) : c; }

// Reads the choices of a stored categorical distribution: a list, each choice as stored.
Choices stored_choices(const Json& choices) {
  if (!choices.is_array()) {
    throw std::invalid_argument("categorical choices are not a list: " +
                                choices.dump(-1, ' ', false, Json::error_handler_t::replace));
  }
  return Choices(std::vector<Json>(choices.begin(), choices.end()));
}

// A finite double as Python's Decimal(str(v)) holds it: mantissa * 10^exponent, from the
// shortest text that reads back as v.
struct DecimalText {
  __int128 mantissa = 0;
  int exponent = 0;
  int digits = 0;  // Of the mantissa.
};

DecimalText decimal_text(double v) {
  const std::string text = fmt::format("{}", v);  // Shortest round trip, as Python's repr.
  DecimalText d;
  bool negative = false;
  bool fraction = false;
  size_t i = 0;
  for (; i < text.size() && text[i] != 'e'; ++i) {
    if (text[i] == '-') {
      negative = true;
    } else if (text[i] == '.') {
      fraction = true;
    } else {
      d.mantissa = d.mantissa * 10 + (text[i] - '0');
      d.digits += d.mantissa != 0 ? 1 : 0;
      d.exponent -= fraction ? 1 : 0;
    }
  }
  if (i < text.size()) {
    d.exponent += std::stoi(text.substr(i + 1));
  }
  d.mantissa = negative ? -d.mantissa : d.mantissa;
  return d;
}

// v's mantissa at exponent (<= v.exponent), or std::nullopt beyond 36 digits.
std::optional<__int128> scaled(const DecimalText& v, int exponent) {
  if (v.digits + (v.exponent - exponent) > 36) {
    return std::nullopt;
  }
  __int128 m = v.mantissa;
  for (int e = exponent; e < v.exponent; ++e) {
    m *= 10;
  }
  return m;
}

std::string int128_text(__int128 v) {
  if (v < 0) {
    return "-" + int128_text(-v);
  }
  std::string out = v >= 10 ? int128_text(v / 10) : "";
  return out + static_cast<char>('0' + static_cast<int>(v % 10));
}

}  // namespace

int64_t reachable_high(const IntDistribution& d) {
  const int64_t r = d.high - d.low;
  return d.step > 0 && r >= 0 ? d.low + r / d.step * d.step : d.high;
}

double reachable_high(const FloatDistribution& d) {
  if (!d.step || !(*d.step > 0) || !(d.high >= d.low) || !std::isfinite(d.high - d.low)) {
    return d.high;
  }
  const DecimalText low = decimal_text(d.low);
  const DecimalText high = decimal_text(d.high);
  const DecimalText step = decimal_text(*d.step);
  const int exponent = std::min({low.exponent, high.exponent, step.exponent});
  const auto l = scaled(low, exponent);
  const auto h = scaled(high, exponent);
  const auto s = scaled(step, exponent);
  if (!l || !h || !s) {  // Beyond 36 digits (Optuna's 28-digit Decimal rounds there too).
    return d.low + std::floor((d.high - d.low) / *d.step) * *d.step;
  }
  const __int128 r = *h - *l;
  if (r % *s == 0) {
    return d.high;
  }
  return std::strtod(fmt::format("{}e{}", int128_text(r / *s * *s + *l), exponent).c_str(),
                     nullptr);
}

size_t json_nesting_depth(const std::string& text, size_t limit) {
  size_t depth = 0;
  size_t deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) {
        return limit + 1;
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

void validate(const Distribution& d) {
  std::visit(
      Overloaded{
          [](const FloatDistribution& f) {
            if (!std::isfinite(f.low) || !std::isfinite(f.high)) {
              throw std::invalid_argument(fmt::format(
                  "low and high must be finite, but got low={}, high={}", f.low, f.high));
            }
            if (f.low > f.high) {
              throw std::invalid_argument(
                  fmt::format("low must be <= high, but got low={}, high={}", f.low, f.high));
            }
            if (f.log && f.step) {
              throw std::invalid_argument("log and step cannot be used together");
            }
            if (f.log && f.low <= 0.0) {
              throw std::invalid_argument(
                  fmt::format("log requires low > 0, but got low={}", f.low));
            }
            if (f.step && !(*f.step > 0.0 && std::isfinite(*f.step))) {
              throw std::invalid_argument(
                  fmt::format("step must be > 0 and finite, but got step={}", *f.step));
            }
            // Samplers work on [low, high] widened by half a step each side.
            if (!std::isfinite(f.high - f.low + f.step.value_or(0.0))) {
              throw std::invalid_argument(fmt::format(
                  "the range is too wide: high - low{} must be at most {:g}, but got low={}, "
                  "high={}{}",
                  f.step ? " + step" : "", std::numeric_limits<double>::max(), f.low, f.high,
                  f.step ? fmt::format(", step={}", *f.step) : ""));
            }
          },
          [](const IntDistribution& i) {
            if (i.low > i.high) {
              throw std::invalid_argument(
                  fmt::format("low must be <= high, but got low={}, high={}", i.low, i.high));
            }
            if (i.step <= 0) {
              throw std::invalid_argument(fmt::format("step must be > 0, but got step={}", i.step));
            }
            // Values are stored as doubles (Optuna's schema), exact for integers up to 2^53.
            // Compared as integers: 2^53 + 1 rounds to 2^53 as a double and passed.
            constexpr auto limit = static_cast<int64_t>(k_max_exact_int);
            if (i.low < -limit || i.low > limit || i.high < -limit || i.high > limit) {
              throw std::invalid_argument(fmt::format(
                  "low and high must be within -{0}..{0} (integers beyond are not exact in the "
                  "stored double), but got low={1}, high={2}",
                  limit, i.low, i.high));
            }
            if (i.log && i.step != 1) {
              throw std::invalid_argument("log and step cannot be used together");
            }
            if (i.log && i.low < 1) {
              throw std::invalid_argument(
                  fmt::format("log requires low >= 1, but got low={}", i.low));
            }
          },
          [](const CategoricalDistribution& c) {
            if (c.choices.empty()) {
              throw std::invalid_argument("choices must not be empty");
            }
          }},
      d);
}

std::string distribution_to_json(const Distribution& d) {
  Json j = std::visit(
      Overloaded{
          [](const FloatDistribution& f) {
            Json step = f.step ? Json(*f.step) : Json(nullptr);
            return Json{
                {"name", "FloatDistribution"},
                {"attributes", {{"step", step}, {"low", f.low}, {"high", f.high}, {"log", f.log}}}};
          },
          [](const IntDistribution& i) {
            return Json{{"name", "IntDistribution"},
                        {"attributes",
                         {{"log", i.log}, {"step", i.step}, {"low", i.low}, {"high", i.high}}}};
          },
          [](const CategoricalDistribution& c) {
            Json choices = Json::array();
            for (const auto& ch : c.choices) {
              choices.push_back(choice_to_optuna(ch));
            }
            return Json{{"name", "CategoricalDistribution"},
                        {"attributes", {{"choices", choices}}}};
          }},
      d);
  return j.dump();
}

Distribution distribution_from_json(const std::string& text) {
  if (json_nesting_depth(text, k_max_json_depth) > k_max_json_depth) {
    throw std::invalid_argument(
        fmt::format("distribution JSON is nested deeper than {} levels", k_max_json_depth));
  }
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    throw std::invalid_argument(
        "distribution JSON is not an object: " +
        (text.size() > 80 ? std::string(utf8_prefix(text, 80)) + "..." : text));
  }
  try {
    if (j.contains("name")) {
      const std::string name = j.at("name").get<std::string>();
      const Json& a = j.at("attributes");
      if (name == "FloatDistribution" || name == "UniformDistribution" ||
          name == "LogUniformDistribution" || name == "DiscreteUniformDistribution") {
        FloatDistribution f;
        f.low = a.at("low").get<double>();
        f.high = a.at("high").get<double>();
        f.log = a.value("log", name == "LogUniformDistribution");
        if (a.contains("step") && !a.at("step").is_null()) {
          f.step = a.at("step").get<double>();
        } else if (a.contains("q") && !a.at("q").is_null()) {
          f.step = a.at("q").get<double>();
        }
        return f;
      }
      if (name == "IntDistribution" || name == "IntUniformDistribution" ||
          name == "IntLogUniformDistribution") {
        IntDistribution i;
        i.low = a.at("low").get<int64_t>();
        i.high = a.at("high").get<int64_t>();
        i.log = a.value("log", name == "IntLogUniformDistribution");
        i.step = a.contains("step") && !a.at("step").is_null() ? a.at("step").get<int64_t>() : 1;
        return i;
      }
      if (name == "CategoricalDistribution") {
        return CategoricalDistribution{stored_choices(a.at("choices"))};
      }
      throw std::invalid_argument("unknown distribution class: " + name);
    }
    const std::string type = j.at("type").get<std::string>();
    if (type == "categorical") {
      return CategoricalDistribution{stored_choices(j.at("choices"))};
    }
    if (type == "float") {
      FloatDistribution f{
          j.at("low").get<double>(), j.at("high").get<double>(), j.value("log", false), {}};
      if (j.contains("step") && !j.at("step").is_null()) {
        f.step = j.at("step").get<double>();
      }
      return f;
    }
    if (type == "int") {
      return IntDistribution{j.at("low").get<int64_t>(), j.at("high").get<int64_t>(),
                             j.value("log", false), j.value("step", int64_t{1})};
    }
    throw std::invalid_argument("unknown distribution type: " + type);
  } catch (const Json::exception& e) {
    throw std::invalid_argument(std::string("malformed distribution JSON: ") + e.what());
  }
}

namespace {

// A log scale holds positive values only: Optuna refuses any other (and its samplers fail on a
// study that stores one).
void require_log_positive(bool log, double x) {
  if (log && x <= 0) {
    throw std::invalid_argument(
        fmt::format("{} is not positive, and the parameter's range is on a log scale", x));
  }
}

}  // namespace

double to_internal(const Distribution& d, const Json& v) {
  return std::visit(
      Overloaded{[&](const FloatDistribution& f) -> double {
                   if (!v.is_number() || v.is_boolean()) {
                     throw std::invalid_argument("expected a number, got " + v.dump());
                   }
                   const double x = v.get<double>();
                   if (!std::isfinite(x)) {  // Optuna fails such a trial; JSON has no NaN.
                     throw std::invalid_argument(
                         fmt::format("expected a finite number, got {}", x));
                   }
                   require_log_positive(f.log, x);
                   return x;
                 },
                 [&](const IntDistribution& i) -> double {
                   if (!v.is_number() || v.is_boolean()) {
                     throw std::invalid_argument("expected an integer, got " + v.dump());
                   }
                   const double x = v.get<double>();
                   if (x != std::floor(x) || !std::isfinite(x)) {
                     throw std::invalid_argument(fmt::format("expected an integer, got {}", x));
                   }
                   const bool beyond =  // Past hpt's int bounds, where a double rounds.
                       v.is_number_unsigned()  ? v.get<uint64_t>() > (uint64_t{1} << 53)
                       : v.is_number_integer() ? v.get<int64_t>() < -(int64_t{1} << 53) ||
                                                     v.get<int64_t>() > (int64_t{1} << 53)
                                               : std::abs(x) > 0x1p53;
                   if (beyond) {
                     throw std::invalid_argument(
                         fmt::format("{} is beyond ±2^53, where a double cannot hold every "
                                     "integer",
                                     v.dump()));
                   }
                   require_log_positive(i.log, x);
                   return x;
                 },
                 [&](const CategoricalDistribution& c) -> double {
                   for (size_t i = 0; i < c.choices.size(); ++i) {
                     if (choice_equal(c.choices[i], v)) {
                       return static_cast<double>(i);
                     }
                   }
                   throw std::invalid_argument(v.dump() + " is not one of the choices");
                 }},
      d);
}

Json choice_key(const Json& choice) {
  if (choice.is_number_float()) {
    const double v = choice.get<double>();
    // An integral double within the integers' range is that integer (Python: 2.0 == 2).
    if (v == std::trunc(v) && v >= -0x1p63 && v < 0x1p64) {
      return v < 0 ? Json(static_cast<int64_t>(v)) : Json(static_cast<uint64_t>(v));
    }
    return choice;
  }
  if (choice.is_number_integer() && choice.get<int64_t>() >= 0) {
    return Json(choice.get<uint64_t>());  // One integer type for each value.
  }
  return choice_to_optuna(choice);
}

bool choice_equal(const Json& a, const Json& b) {
  if (a.type() == b.type() && !a.is_structured()) {
    return a == b;  // The same kind of scalar: no key to build.
  }
  if (a.is_structured() || b.is_structured()) {
    // As stored: a list or mapping is its JSON text, which only that text (or list) equals.
    return choice_to_optuna(a) == choice_to_optuna(b);
  }
  return choice_key(a) == choice_key(b);
}

Json to_optuna_external(const Distribution& d, double internal) {
  return choice_to_optuna(to_external(d, internal));
}

bool CategoricalDistribution::operator==(const CategoricalDistribution& o) const {
  if (choices.shares(o.choices)) {
    return true;
  }
  return choices.size() == o.choices.size() &&
         std::equal(choices.begin(), choices.end(), o.choices.begin(), choice_equal);
}

Json to_external(const Distribution& d, double internal) {
  return std::visit(Overloaded{[&](const FloatDistribution&) { return Json(internal); },
                               [&](const IntDistribution&) {
                                 if (!(std::abs(internal) < 0x1p63)) {
                                   return Json(internal);  // No int64 holds it (a foreign row).
                                 }
                                 // int(), as Optuna's to_external_repr: an off-grid value
                                 // (a foreign row's 2.7) reads as 2 in both.
                                 return Json(static_cast<int64_t>(std::trunc(internal)));
                               },
                               [&](const CategoricalDistribution& c) {
                                 const double i = std::trunc(internal);
                                 if (!(i >= 0 && i < static_cast<double>(c.choices.size()))) {
                                   throw std::invalid_argument(
                                       fmt::format("choice index {} out of range", internal));
                                 }
                                 return c.choices[static_cast<size_t>(i)];
                               }},
                    d);
}

bool contains(const Distribution& d, double x) {
  if (!std::isfinite(x)) {
    return false;
  }
  return std::visit(Overloaded{[&](const FloatDistribution& f) {
                                 if (x < f.low || x > f.high) {
                                   return false;
                                 }
                                 if (!f.step) {
                                   return true;
                                 }
                                 double k = (x - f.low) / *f.step;
                                 return std::abs(k - std::round(k)) < 1e-8;
                               },
                               [&](const IntDistribution& i) {
                                 if (x != std::floor(x) || x < i.low || x > i.high) {
                                   return false;
                                 }
                                 return (static_cast<int64_t>(x) - i.low) % i.step == 0;
                               },
                               [&](const CategoricalDistribution& c) {
                                 return x == std::floor(x) && x >= 0 &&
                                        x < static_cast<double>(c.choices.size());
                               }},
                    d);
}

bool is_single(const Distribution& d) {
  return std::visit(
      Overloaded{[](const FloatDistribution& f) {
                   if (f.step) {
                     return f.high - f.low < *f.step;
                   }
                   return f.low == f.high;
                 },
                 [](const IntDistribution& i) { return i.high - i.low < i.step; },
                 [](const CategoricalDistribution& c) { return c.choices.size() == 1; }},
      d);
}

std::string kind_name(const Distribution& d) {
  return std::visit(
      Overloaded{[](const FloatDistribution&) { return std::string("float"); },
                 [](const IntDistribution&) { return std::string("int"); },
                 [](const CategoricalDistribution&) { return std::string("categorical"); }},
      d);
}

bool is_log(const Distribution& d) {
  return std::visit(Overloaded{[](const FloatDistribution& f) { return f.log; },
                               [](const IntDistribution& i) { return i.log; },
                               [](const CategoricalDistribution&) { return false; }},
                    d);
}

std::optional<std::string> compatibility_problem(const Distribution& stored,
                                                 const Distribution& declared) {
  if (stored.index() != declared.index()) {
    return fmt::format("it is stored as {} but declared as {}", kind_name(stored),
                       kind_name(declared));
  }
  if (is_log(stored) != is_log(declared)) {
    return fmt::format("it is stored with log={} but declared with log={}", is_log(stored),
                       is_log(declared));
  }
  const auto* a = std::get_if<CategoricalDistribution>(&stored);
  const auto* b = std::get_if<CategoricalDistribution>(&declared);
  if (a && b && !(*a == *b)) {
    return "its categorical choices differ (Optuna allows no change, not even of their order)";
  }
  return std::nullopt;
}

std::string distribution_text(const Distribution& d) {
  std::string out = std::visit(
      Overloaded{[](const FloatDistribution& f) {
                   return fmt::format("float [{}, {}]{}{}", f.low, f.high, f.log ? " log" : "",
                                      f.step ? fmt::format(" step {}", *f.step) : "");
                 },
                 [](const IntDistribution& i) {
                   return fmt::format("int [{}, {}]{}{}", i.low, i.high, i.log ? " log" : "",
                                      i.step != 1 ? fmt::format(" step {}", i.step) : "");
                 },
                 [](const CategoricalDistribution& c) {
                   return "categorical " +
                          Json(c.choices).dump(-1, ' ', false, Json::error_handler_t::replace);
                 }},
      d);
  size_t cut = 160;
  if (out.size() <= cut) {
    return out;
  }
  while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) {
    --cut;  // Not inside a UTF-8 sequence.
  }
  return out.substr(0, cut) + "...";
}

}  // namespace hpt
