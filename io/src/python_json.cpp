#include "hpt/io/python_json.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "hpt/io/utf8.hpp"

namespace hpt {

using Json = nlohmann::json;

namespace {

void append_string(std::string& out, const std::string& s) {
  // nlohmann escapes control characters and, with ensure_ascii, everything non-ASCII as
  // \uXXXX (surrogate pairs included), exactly as Python does; only its hex case differs.
  std::string escaped = Json(s).dump(-1, ' ', true, Json::error_handler_t::replace);
  for (size_t i = 0; i + 5 < escaped.size(); ++i) {
    if (escaped[i] == '\\' && escaped[i + 1] == 'u') {
      for (size_t k = i + 2; k < i + 6; ++k) {
        escaped[k] = static_cast<char>(std::tolower(static_cast<unsigned char>(escaped[k])));
      }
      i += 5;
    } else if (escaped[i] == '\\') {
      ++i;
    }
  }
  out += escaped;
}

// Before the item of a container at level (level + 1): Python's separators, ", " inline or
// ",\n" plus indentation with indent >= 0.
void separate(std::string& out, bool first, int indent, int level) {
  if (indent < 0) {
    out += first ? "" : ", ";
  } else {
    out += first ? "\n" : ",\n";
    out.append(static_cast<size_t>(indent) * static_cast<size_t>(level + 1), ' ');
  }
}

void close(std::string& out, char bracket, int indent, int level) {
  if (indent >= 0) {
    out += '\n';
    out.append(static_cast<size_t>(indent) * static_cast<size_t>(level), ' ');
  }
  out += bracket;
}

void append(std::string& out, const Json& v, int indent, int level) {
  switch (v.type()) {
    case Json::value_t::object: {
      if (v.empty()) {
        out += "{}";
        break;
      }
      out += '{';
      bool first = true;
      for (const auto& [key, value] : v.items()) {
        separate(out, first, indent, level);
        first = false;
        append_string(out, key);
        out += ": ";
        append(out, value, indent, level + 1);
      }
      close(out, '}', indent, level);
      break;
    }
    case Json::value_t::array: {
      if (v.empty()) {
        out += "[]";
        break;
      }
      out += '[';
      for (size_t i = 0; i < v.size(); ++i) {
        separate(out, i == 0, indent, level);
        append(out, v[i], indent, level + 1);
      }
      close(out, ']', indent, level);
      break;
    }
    case Json::value_t::string:
      append_string(out, v.get_ref<const std::string&>());
      break;
    case Json::value_t::number_float: {
      double d = v.get<double>();
      if (std::isnan(d)) {
        out += "NaN";
      } else if (std::isinf(d)) {
        out += d > 0 ? "Infinity" : "-Infinity";
      } else {
        out += v.dump();
      }
      break;
    }
    default:
      out += v.dump();
  }
}

// Marks the non-standard tokens, which nlohmann cannot parse, as strings that cannot
// occur in real text (a NUL prefix), then turns them back into numbers after parsing.
const char k_marker = '\0';

std::string mark_special_tokens(const std::string& text, bool& found) {
  std::string out;
  out.reserve(text.size());
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < text.size()) {
        out += text[++i];
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
      out += c;
      continue;
    }
    bool matched = false;
    for (const char* token : {"-Infinity", "Infinity", "NaN"}) {
      std::string t(token);
      if (text.compare(i, t.size(), t) == 0) {
        out += "\"\\u0000" + t + "\"";  // The escaped k_marker, then the token.
        i += t.size() - 1;
        matched = found = true;
        break;
      }
    }
    if (!matched) {
      out += c;
    }
  }
  return out;
}

void unmark(Json& v) {
  if (v.is_structured()) {
    for (auto& child : v) {
      unmark(child);
    }
  } else if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    if (!s.empty() && s[0] == k_marker) {
      double d = s == std::string(1, k_marker) + "NaN" ? std::nan("")
                 : s[1] == '-'                         ? -HUGE_VAL
                                                       : HUGE_VAL;
      v = d;
    }
  }
}

}  // namespace

std::string python_json_dumps(const Json& v, int indent) {
  std::string out;
  append(out, v, indent, 0);
  return out;
}

Json python_json_loads(const std::string& text) {
  try {
    return Json::parse(text);
  } catch (const Json::parse_error&) {
    // Fall through: maybe NaN / Infinity.
  }
  bool found = false;
  std::string marked = mark_special_tokens(text, found);
  try {
    if (found) {
      Json v = Json::parse(marked);
      unmark(v);
      return v;
    }
  } catch (const Json::parse_error&) {
  }
  throw std::invalid_argument("malformed JSON: '" + shortened(text, 80) + "'");
}

}  // namespace hpt
