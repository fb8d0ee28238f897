#include "hpt/engine/protocol.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <set>
#include <stdexcept>
#include <vector>

#include "hpt/io/python_json.hpp"
#include "hpt/io/utf8.hpp"

namespace hpt {

namespace {

constexpr size_t k_excerpt_bytes = 80;

bool is_protocol_key(const std::string& key) {
  return key == "value" || key == "values" || key == "step" || key == "user_attrs" ||
         key == "constraints";
}

// The start of line for a message: at most k_excerpt_bytes, cut at a UTF-8 boundary,
// control characters shown as '?'.
std::string excerpt(const std::string& line) {
  size_t n = line.size();
  if (n > k_excerpt_bytes) {
    n = k_excerpt_bytes;
    while (n > 0 && (static_cast<unsigned char>(line[n]) & 0xC0) == 0x80) {
      --n;
    }
  }
  std::string out = line.substr(0, n);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      c = '?';
    }
  }
  return n < line.size() ? out + "..." : out;
}

// The raw text of the first key of the object that starts at line[open] ('{'), or "" if
// the line does not start with a string key. Looks at most at the first few hundred bytes.
std::string first_key(const std::string& line, size_t open) {
  size_t i = line.find_first_not_of(" \t\r\n", open + 1);
  if (i == std::string::npos || line[i] != '"') {
    return "";
  }
  const size_t end = line.find('"', i + 1);
  if (end == std::string::npos || end - i > 32) {
    return "";
  }
  return line.substr(i + 1, end - i - 1);
}

// The first key that stands twice in one object of line (valid JSON), or std::nullopt. JSON
// readers keep the last, so `{"value": 0.1, "value": 0.9}` would be read as 0.9 without a word.
std::optional<std::string> duplicate_key(const std::string& line) {
  std::vector<std::set<std::string>> objects;  // The keys of each object open at this point.
  std::vector<char> open;                      // '{' or '[' for each open container.
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '{' || c == '[') {
      open.push_back(c);
      if (c == '{') {
        objects.emplace_back();
      }
    } else if (c == '}' || c == ']') {
      if (!open.empty() && open.back() == '{') {
        objects.pop_back();
      }
      if (!open.empty()) {
        open.pop_back();
      }
    } else if (c == '"') {
      size_t end = i + 1;
      while (end < line.size() && line[end] != '"') {
        end += line[end] == '\\' ? 2 : 1;
      }
      const size_t next = line.find_first_not_of(" \t\r\n", end + 1);
      if (!open.empty() && open.back() == '{' && next != std::string::npos && line[next] == ':') {
        // Escapes decoded only where there are any ("a\u0062" and "ab" are one key).
        const std::string raw = line.substr(i, end - i + 1);
        const std::string key = raw.find('\\') == std::string::npos
                                    ? raw.substr(1, raw.size() - 2)
                                    : Json::parse(raw).get<std::string>();
        if (!objects.back().insert(key).second) {
          return key;
        }
      }
      i = end;
    }
  }
  return std::nullopt;
}

// The step of a protocol line, or the problem with it (Optuna's rules: a non-negative
// integer; hpt also refuses steps beyond int64 rather than wrapping them).
std::optional<int64_t> read_step(const Json& s, std::string& problem) {
  if (s.is_number_unsigned()) {
    if (s.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      problem = fmt::format("step {} is beyond the largest step, {}", s.dump(), INT64_MAX);
      return std::nullopt;
    }
    return static_cast<int64_t>(s.get<uint64_t>());
  }
  if (s.is_number_integer()) {
    if (s.get<int64_t>() < 0) {
      problem = fmt::format("step {} is negative", s.get<int64_t>());
      return std::nullopt;
    }
    return s.get<int64_t>();
  }
  if (!s.is_number_float()) {
    problem = fmt::format("step must be a non-negative integer, but got {}", excerpt(s.dump()));
    return std::nullopt;
  }
  const double d = s.get<double>();
  if (!std::isfinite(d) || d != std::floor(d)) {
    problem = fmt::format("step must be a non-negative integer, but got {}", python_json_dumps(s));
    return std::nullopt;
  }
  if (d < 0) {
    problem = fmt::format("step {} is negative", d);
    return std::nullopt;
  }
  if (d >= 9223372036854775808.0) {  // 2^63: the first double beyond int64.
    problem = fmt::format("step {} is beyond the largest step, {}", s.dump(), INT64_MAX);
    return std::nullopt;
  }
  return static_cast<int64_t>(d);
}

// The final values of a multi-objective line, or the problem with them.
std::string read_values(const Json& values, size_t n_objectives, WorkerMessage& m) {
  if (!values.is_array()) {
    return fmt::format("values must be a list of numbers, but got {}", excerpt(values.dump()));
  }
  for (const Json& v : values) {
    if (!v.is_number()) {
      return fmt::format("values must be numbers, but got {}", excerpt(v.dump()));
    }
    m.values.push_back(v.get<double>());
  }
  if (m.values.size() != n_objectives) {
    return fmt::format("values has {} number{}, but the study has {} objectives (study.directions)",
                       m.values.size(), m.values.size() == 1 ? "" : "s", n_objectives);
  }
  return "";
}

// The constraint values of a line (Optuna's constraints_func result), or the problem with them.
std::string read_constraints(const Json& constraints, WorkerMessage& m) {
  if (!constraints.is_array() || constraints.empty()) {
    return fmt::format(
        "constraints must be a non-empty list of numbers (each <= 0 when met), "
        "but got {}",
        excerpt(constraints.dump()));
  }
  std::vector<double> values;
  for (const Json& v : constraints) {
    if (!v.is_number() || std::isnan(v.get<double>())) {
      return v.is_number() ? std::string(
                                 "constraints must not hold NaN (each is a number, <= 0 "
                                 "when met)")
                           : fmt::format(
                                 "constraints must be numbers (each <= 0 when met), but "
                                 "got {}",
                                 excerpt(v.dump()));
    }
    values.push_back(v.get<double>());
  }
  m.constraints = std::move(values);
  return "";
}

// Checks a protocol object's fields; fills m or returns the problem.
std::string read_message(const Json& j, size_t n_objectives, WorkerMessage& m) {
  const bool has_values = j.contains("values");
  if (has_values && (j.contains("value") || j.contains("step"))) {
    return j.contains("step") ? "a step line reports one \"value\" (intermediate values are "
                                "single-objective), not \"values\""
                              : "give \"value\" or \"values\", not both";
  }
  if (has_values && n_objectives == 1) {
    return "the study has one objective: print {\"value\": v}, not \"values\"";
  }
  if (!has_values && n_objectives > 1 && !j.contains("step")) {
    return fmt::format(
        "the study has {} objectives (study.directions): print {{\"values\": "
        "[v1, ..., v{}]}}, not \"value\"",
        n_objectives, n_objectives);
  }
  if (has_values) {
    std::string problem = read_values(j.at("values"), n_objectives, m);
    if (!problem.empty()) {
      return problem;
    }
  } else {
    const Json& value = j.at("value");
    if (!value.is_number()) {
      return fmt::format("value must be a number, but got {}", excerpt(value.dump()));
    }
    m.value = value.get<double>();
  }
  if (j.contains("step")) {
    std::string problem;
    auto step = read_step(j.at("step"), problem);
    if (!step) {
      return problem;
    }
    m.kind = WorkerMessage::Kind::Intermediate;
    m.step = *step;
  }
  if (j.contains("user_attrs")) {
    const Json& attrs = j.at("user_attrs");
    if (!attrs.is_object()) {
      return fmt::format("user_attrs must be an object, but got {}", excerpt(attrs.dump()));
    }
    for (const auto& [key, v] : attrs.items()) {
      if (utf8_length(key) > k_max_key_chars) {
        return fmt::format("user_attrs key '{}' is {} characters long; at most {}", excerpt(key),
                           utf8_length(key), k_max_key_chars);
      }
    }
    m.user_attrs = attrs;
  }
  if (j.contains("constraints")) {
    return read_constraints(j.at("constraints"), m);
  }
  return "";
}

// The value of the four hex digits at text[i], or -1.
int hex4(const std::string& text, size_t i) {
  if (i + 4 > text.size()) {
    return -1;
  }
  int v = 0;
  for (size_t k = i; k < i + 4; ++k) {
    const char c = text[k];
    const int d = c >= '0' && c <= '9'   ? c - '0'
                  : c >= 'a' && c <= 'f' ? c - 'a' + 10
                  : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                         : -1;
    if (d < 0) {
      return -1;
    }
    v = v * 16 + d;
  }
  return v;
}

// line with each byte that is not part of valid UTF-8 replaced by U+FFFD (valid_utf8), and
// each \uXXXX escape of a surrogate that is not half of a pair (json.dumps of a str from
// os.fsdecode) replaced by \ufffd: such text is kept as U+FFFD, never a reason to ignore the line.
std::string with_valid_text(const std::string& raw) {
  if (raw.find("\\u") == std::string::npos && std::all_of(raw.begin(), raw.end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x80;
      })) {
    return raw;  // The usual line: plain ASCII, nothing to replace.
  }
  const std::string line = valid_utf8(raw);
  std::string out;
  out.reserve(line.size());
  bool in_string = false;
  for (size_t i = 0; i < line.size();) {
    const char c = line[i];
    if (in_string && c == '\\' && i + 1 < line.size() && line[i + 1] == 'u') {
      const int cp = hex4(line, i + 2);
      if (cp < 0) {  // Malformed: JSON refuses it.
        out.append(line, i, 2);
        i += 2;
        continue;
      }
      const bool high = cp >= 0xD800 && cp <= 0xDBFF;
      if (high && line.compare(i + 6, 2, "\\u") == 0) {
        const int low = hex4(line, i + 8);
        if (low >= 0xDC00 && low <= 0xDFFF) {  // A pair: one code point beyond U+FFFF.
          out.append(line, i, 12);
          i += 12;
          continue;
        }
      }
      out += cp >= 0xD800 && cp <= 0xDFFF ? std::string("\\ufffd") : line.substr(i, 6);
      i += 6;
      continue;
    }
    if (in_string && c == '\\' && i + 1 < line.size()) {
      out.append(line, i, 2);  // \" and \\ neither end the string nor start an escape.
      i += 2;
      continue;
    }
    in_string = c == '"' ? !in_string : in_string;
    out += line[i++];
  }
  return out;
}

WorkerLine near_miss(const std::string& why, const std::string& line) {
  WorkerLine out;
  out.near_miss = fmt::format("{} (line: {})", why, excerpt(line));
  return out;
}

// Why text is not JSON, with the usual cause named.
std::string malformed_json(const std::string& text) {
  for (const char* token : {"nan", "inf", "None", "True", "False"}) {
    const std::string t = token;
    for (size_t at = text.find(t); at != std::string::npos; at = text.find(t, at + 1)) {
      const bool starts = at == 0 || !std::isalnum(static_cast<unsigned char>(text[at - 1]));
      if (starts && (at + t.size() == text.size() ||
                     !std::isalpha(static_cast<unsigned char>(text[at + t.size()])))) {
        return fmt::format(
            "malformed JSON: '{}' is Python, not JSON (print json.dumps(...): "
            "NaN, Infinity, null, true, false)",
            t);
      }
    }
  }
  return "malformed JSON";
}

WorkerLine error_line(const std::string& problem, const std::string& line) {
  WorkerLine out;
  out.kind = WorkerLine::Kind::Error;
  out.error = fmt::format("protocol error: {} (line: {})", problem, excerpt(line));
  return out;
}

// Whether text holds at least n digits in a row (a second parse is needed only then).
bool has_digit_run(const std::string& text, size_t n) {
  size_t run = 0;
  for (const char c : text) {
    run = c >= '0' && c <= '9' ? run + 1 : 0;
    if (run >= n) {
      return true;
    }
  }
  return false;
}

// The first integer literal under the top-level key "user_attrs" that is beyond 64 bits (as
// written), read with nlohmann's SAX parser, which hands over a number's text; "" if none.
class BigIntegerInAttrs : public nlohmann::json_sax<Json> {
 public:
  std::string found;
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t& text) override {
    if (found.empty() && m_in_attrs && text.find_first_of(".eE") == string_t::npos) {
      found = text;
    }
    return true;
  }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return enter(); }
  bool key(string_t& k) override {
    if (m_depth == 1) {
      m_in_attrs = k == "user_attrs";
    }
    return true;
  }
  bool end_object() override { return leave(); }
  bool start_array(std::size_t) override { return enter(); }
  bool end_array() override { return leave(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

 private:
  bool enter() {
    ++m_depth;
    return true;
  }
  bool leave() {
    if (--m_depth == 1) {
      m_in_attrs = false;
    }
    return true;
  }
  int m_depth = 0;
  bool m_in_attrs = false;
};

// What a line whose first key is key is when it is not meant as a protocol line only because
// that key is a protocol key in another case or with spaces ("Value", "VALUE", "value "): a near
// miss (the trial would end "without a final value line" with no word on why); else nullopt.
std::optional<WorkerLine> miscased_key(const std::string& key, const std::string& raw) {
  std::string folded;
  for (const char c : key) {
    if (c != ' ' && c != '\t') {
      folded += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  if (!is_protocol_key(folded)) {
    return std::nullopt;
  }
  return near_miss(fmt::format("its key '{}' is not '{}': protocol keys are lowercase, "
                               "without spaces",
                               excerpt(key), folded),
                   raw);
}

// What raw is when it is not to be parsed (meant: its first key is a protocol key): a line
// beyond the limits (longer than k_max_line_bytes, or cut there; nested too deep) is a protocol
// error, a NUL byte a near miss, when meant, else a log line; nullopt: parse it.
std::optional<WorkerLine> unparsed_line(const std::string& raw, const std::string& key, bool meant,
                                        bool truncated) {
  if (!meant && !truncated && raw.size() <= k_max_line_bytes) {
    if (auto miscased = miscased_key(key, raw)) {
      return miscased;
    }
  }
  if (truncated || raw.size() > k_max_line_bytes) {
    return meant ? error_line(fmt::format("line longer than {} bytes", k_max_line_bytes), raw)
                 : WorkerLine{};
  }
  if (json_nesting_depth(raw, k_max_worker_json_depth) > k_max_worker_json_depth) {
    return meant ? error_line(fmt::format("nested deeper than {} levels", k_max_worker_json_depth),
                              raw)
                 : WorkerLine{};
  }
  if (raw.find('\0') != std::string::npos) {  // JSON parsing would stop there.
    return meant ? near_miss("a NUL byte in the line", raw) : WorkerLine{};
  }
  return std::nullopt;
}

// Parses line (valid text) into j: nullopt when it is a JSON object, else what the line is
// (not JSON, or a number beyond a double: a near miss or an error when meant, else a log line).
std::optional<WorkerLine> parse_object(const std::string& line, bool meant, Json& j) {
  try {
    j = python_json_loads(line);  // JSON plus Python's NaN / Infinity tokens.
  } catch (const std::invalid_argument&) {
    return meant ? near_miss(malformed_json(line), line) : WorkerLine{};  // Not JSON: a log line.
  } catch (const Json::exception& e) {  // E.g. a number beyond a double (1e400).
    return meant ? error_line(std::string(e.what()).find("overflow") != std::string::npos
                                  ? "a number is out of the range of a double"
                                  : "malformed JSON",
                              line)
                 : WorkerLine{};
  }
  if (!j.is_object()) {
    return WorkerLine{};
  }
  return std::nullopt;
}

// What the object j of line is when its keys do not make it a protocol line (a key twice,
// a key that is not a protocol key, neither "value" nor "values"): an error or a near miss when
// meant, else a log line; nullopt: it is one.
std::optional<WorkerLine> keys_problem(const Json& j, const std::string& line, bool meant) {
  if (const auto key = duplicate_key(line)) {
    return meant ? error_line(fmt::format("the key '{}' stands twice in one object", excerpt(*key)),
                              line)
                 : WorkerLine{};
  }
  for (const auto& [key, v] : j.items()) {
    if (!is_protocol_key(key)) {
      return meant ? near_miss(fmt::format("'{}' is not a protocol key (value, values, step, "
                                           "user_attrs, constraints)",
                                           excerpt(key)),
                               line)
                   : WorkerLine{};
    }
  }
  if (!j.contains("value") && !j.contains("values")) {
    return meant ? near_miss("no \"value\"", line) : WorkerLine{};
  }
  return std::nullopt;
}

// The note for a line whose user_attrs m holds an integer beyond 64 bits (stored as the
// nearest double), or "".
std::string big_integer_note(const std::string& line, const WorkerMessage& m) {
  if (m.user_attrs.empty() || !has_digit_run(line, 19)) {  // 2^63 has 19 digits.
    return "";
  }
  BigIntegerInAttrs scan;  // (A line with NaN tokens does not parse as plain JSON: skipped.)
  Json::sax_parse(line, &scan);
  if (scan.found.empty()) {
    return "";
  }
  return fmt::format(
      "user_attrs: the integer {} is beyond 64 bits and is stored as the nearest double "
      "({}); send it as a string to keep it exactly",
      excerpt(scan.found), std::strtod(scan.found.c_str(), nullptr));
}

// The protocol line of line, whose object j has protocol keys only: its message, or the
// protocol error in its fields.
WorkerLine message_line(const Json& j, const std::string& line, size_t n_objectives) {
  WorkerLine out;
  const std::string problem = read_message(j, n_objectives, out.message);
  if (!problem.empty()) {
    return error_line(problem, line);
  }
  out.kind = WorkerLine::Kind::Message;
  out.note = big_integer_note(line, out.message);
  return out;
}

}  // namespace

WorkerLine parse_worker_line(const std::string& raw, bool truncated, size_t n_objectives) {
  // A UTF-8 byte-order mark (a stream opened as utf-8-sig, PowerShell's) is not the line's.
  if (raw.rfind("\xEF\xBB\xBF", 0) == 0) {
    return parse_worker_line(raw.substr(3), truncated, n_objectives);
  }
  const size_t open = raw.find_first_not_of(" \t\r");
  if (open == std::string::npos) {
    return {};
  }
  if (raw[open] != '{') {
    // Progress text written over with carriage returns (print(..., end="\r")) and then the
    // result: a terminal shows what follows the last one, and so it is read.
    const size_t last = raw.find_last_not_of('\r');
    const size_t cr = last == std::string::npos ? last : raw.rfind('\r', last);
    return cr == std::string::npos ? WorkerLine{}
                                   : parse_worker_line(raw.substr(cr + 1), truncated, n_objectives);
  }
  // Limits first, before anything is parsed: a line that cannot be parsed within them is
  // a protocol error when its first key says it is meant as a protocol line.
  const std::string key = first_key(raw, open);
  const bool meant = is_protocol_key(key);
  if (auto unparsed = unparsed_line(raw, key, meant, truncated)) {
    return *unparsed;
  }
  const std::string line = with_valid_text(raw);
  Json j;
  if (auto other = parse_object(line, meant, j)) {
    return *other;
  }
  if (auto other = keys_problem(j, line, meant)) {
    return *other;
  }
  return message_line(j, line, n_objectives);
}

Json placeholder_values(const Json& params, int64_t trial_number) {
  Json values = params;
  values[k_trial_number_placeholder] = trial_number;
  return values;
}

std::vector<std::string> substitute_placeholders(const std::vector<std::string>& args,
                                                 const Json& values) {
  std::vector<std::string> out;
  out.reserve(args.size());
  for (const auto& arg : args) {
    std::string result;
    size_t i = 0;
    while (i < arg.size()) {
      size_t open = arg.find('{', i);
      if (open == std::string::npos) {
        result += arg.substr(i);
        break;
      }
      size_t close = arg.find('}', open + 1);
      if (close == std::string::npos) {
        result += arg.substr(i);
        break;
      }
      const std::string name = arg.substr(open + 1, close - open - 1);
      result += arg.substr(i, open - i);
      if (values.is_object() && values.contains(name)) {
        const Json& v = values.at(name);
        result += v.is_string() ? v.get<std::string>() : v.dump();
        i = close + 1;
      } else {
        result += '{';
        i = open + 1;
      }
    }
    out.push_back(result);
  }
  return out;
}

}  // namespace hpt
