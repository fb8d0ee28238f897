#include "hpt/io/credentials.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

namespace hpt {

namespace {

bool is_scheme_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
}

// Where a URL-shaped token ends in free text.
bool ends_token(char c) {
  return std::isspace(static_cast<unsigned char>(c)) || c == '"' || c == '\'' || c == '`' ||
         c == '<' || c == '>';
}

// The userinfo password of every "scheme://user:password@" in text, as [begin, end) ranges.
void userinfo_passwords(std::string_view text, std::vector<std::pair<size_t, size_t>>& out) {
  for (size_t sep = text.find("://"); sep != std::string_view::npos;
       sep = text.find("://", sep + 3)) {
    if (sep == 0 || !is_scheme_char(text[sep - 1])) {
      continue;
    }
    const size_t begin = sep + 3;
    size_t end = begin;
    while (end < text.size() && !ends_token(text[end]) && text[end] != '?' && text[end] != '#') {
      ++end;
    }
    const size_t at = text.substr(begin, end - begin).rfind('@');  // The password may hold '@'.
    if (at == std::string_view::npos) {
      continue;
    }
    const size_t colon = text.substr(begin, at).find(':');
    if (colon != std::string_view::npos) {
      out.emplace_back(begin + colon + 1, begin + at);
    }
  }
}

// The value of every password-like "key=value" (key containing "pass", any case, except
// passfile, which is a path) as [begin, end) ranges.
void password_parameters(std::string_view text, std::vector<std::pair<size_t, size_t>>& out) {
  for (size_t eq = text.find('='); eq != std::string_view::npos; eq = text.find('=', eq + 1)) {
    size_t key_end = eq;
    while (key_end > 0 && text[key_end - 1] == ' ') {
      --key_end;
    }
    size_t key_begin = key_end;
    while (key_begin > 0 && (std::isalnum(static_cast<unsigned char>(text[key_begin - 1])) ||
                             text[key_begin - 1] == '_')) {
      --key_begin;
    }
    std::string key(text.substr(key_begin, key_end - key_begin));
    std::transform(key.begin(), key.end(), key.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (key.find("pass") == std::string::npos || key == "passfile") {
      continue;
    }
    size_t begin = eq + 1;
    while (begin < text.size() && text[begin] == ' ') {
      ++begin;
    }
    size_t end = begin;
    if (end < text.size() && text[end] == '\'') {  // libpq's quoted 'value'.
      end = text.find('\'', end + 1);
      end = end == std::string_view::npos ? text.size() : end + 1;
    } else {
      // ": " ends it too: a message's separator after a URL (a URL's value would escape a space).
      while (end < text.size() && !ends_token(text[end]) && text[end] != '&' && text[end] != '#' &&
             text[end] != ';' &&
             !(text[end] == ':' && (end + 1 == text.size() || text[end + 1] == ' '))) {
        ++end;
      }
    }
    if (end > begin) {
      out.emplace_back(begin, end);
    }
  }
}

// text with the given ranges (possibly overlapping) replaced by "***".
std::string replace_ranges(std::string_view text, std::vector<std::pair<size_t, size_t>> ranges) {
  std::sort(ranges.begin(), ranges.end());
  std::string out;
  size_t pos = 0;
  for (const auto& [begin, end] : ranges) {
    if (end <= pos) {
      continue;
    }
    if (begin >= pos) {
      out.append(text.substr(pos, begin - pos));
      out += "***";
    }
    pos = end;
  }
  out.append(text.substr(pos));
  return out;
}

std::string percent_decoded(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// The secrets of url: its userinfo password and password parameter values, raw and decoded.
std::vector<std::string> secrets_of(std::string_view url) {
  std::vector<std::pair<size_t, size_t>> ranges;
  // The whole userinfo password, even if it holds characters that end a token in free text.
  const size_t sep = url.find("://");
  if (sep != std::string_view::npos) {
    const size_t at = url.rfind('@');
    const size_t colon = url.find(':', sep + 3);
    if (at != std::string_view::npos && at > sep && colon < at) {
      ranges.emplace_back(colon + 1, at);
    }
  }
  password_parameters(url, ranges);
  std::vector<std::string> secrets;
  for (const auto& [begin, end] : ranges) {
    std::string raw(url.substr(begin, end - begin));
    if (raw.size() >= 2 && raw.front() == '\'' && raw.back() == '\'') {
      raw = raw.substr(1, raw.size() - 2);
    }
    // An unescaped '@' or '/' in a password makes libpq split it (the rest read as the host or
    // the port) and echo the pieces: each piece is a secret too.
    for (size_t from = 0, cut = 0; cut != std::string::npos; from = cut + 1) {
      cut = raw.find_first_of("@/", from);
      if (from > 0 || cut != std::string::npos) {
        const std::string piece = raw.substr(from, cut == std::string::npos ? cut : cut - from);
        if (!piece.empty()) {
          secrets.push_back(piece);
        }
      }
    }
    secrets.push_back(percent_decoded(raw));
    secrets.push_back(std::move(raw));
  }
  return secrets;
}

// A character that continues a word, a host name or an address ("127" in "127.0.0.1").
bool is_word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
}

}  // namespace

std::string redact_credentials(std::string_view text, std::string_view url) {
  std::vector<std::pair<size_t, size_t>> ranges;
  userinfo_passwords(text, ranges);
  password_parameters(text, ranges);
  for (const auto& secret : secrets_of(url)) {
    if (secret.empty() || secret == "***") {
      continue;
    }
    for (size_t pos = text.find(secret); pos != std::string_view::npos;
         pos = text.find(secret, pos + 1)) {
      // A short secret is scrubbed only where it stands alone, so that "p" does not
      // blank out every p in the message (nor "127" the host 127.0.0.1); a longer one
      // everywhere.
      const size_t end = pos + secret.size();
      const bool alone = (pos == 0 || !is_word_char(text[pos - 1])) &&
                         (end == text.size() || !is_word_char(text[end]));
      if (secret.size() >= 4 || alone) {
        ranges.emplace_back(pos, end);
      }
    }
  }
  return replace_ranges(text, ranges);
}

}  // namespace hpt
