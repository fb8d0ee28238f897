#include "hpt/io/datetime_text.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <ctime>

namespace hpt {

using Clock = std::chrono::system_clock;

std::string format_datetime(Clock::time_point t, TimeZone zone, int fraction_digits,
                            char separator) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  int64_t secs = us / 1000000;
  int64_t frac = us % 1000000;
  if (frac < 0) {
    frac += 1000000;
    --secs;
  }
  std::time_t tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  if (zone == TimeZone::Utc) {
    gmtime_r(&tt, &tm);
  } else {
    localtime_r(&tt, &tm);
  }
  std::string out = fmt::format("{:04}-{:02}-{:02}{}{:02}:{:02}:{:02}", tm.tm_year + 1900,
                                tm.tm_mon + 1, tm.tm_mday, separator, tm.tm_hour, tm.tm_min,
                                tm.tm_sec);
  if (fraction_digits > 0) {
    for (int d = fraction_digits; d < 6; ++d) {
      frac /= 10;
    }
    out += fmt::format(".{:0{}}", frac, fraction_digits);
  }
  return out;
}

std::optional<Clock::time_point> parse_datetime(const std::string& text, TimeZone zone) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d%n", &year, &month, &day, &consumed) != 3) {
    return std::nullopt;
  }
  size_t pos = static_cast<size_t>(consumed);
  int64_t micros = 0;
  if (pos < text.size() && (text[pos] == ' ' || text[pos] == 'T')) {
    int c2 = 0;
    if (std::sscanf(text.c_str() + pos + 1, "%2d:%2d%n", &hour, &minute, &c2) != 2) {
      return std::nullopt;
    }
    pos += 1 + static_cast<size_t>(c2);
    if (pos < text.size() && text[pos] == ':') {
      int c3 = 0;
      if (std::sscanf(text.c_str() + pos + 1, "%2d%n", &second, &c3) != 1) {
        return std::nullopt;
      }
      pos += 1 + static_cast<size_t>(c3);
      if (pos < text.size() && text[pos] == '.') {
        ++pos;
        int64_t scale = 100000;
        while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
          micros += (text[pos] - '0') * scale;
          scale /= 10;
          ++pos;
        }
      }
    }
  }
  // Clock counts nanoseconds in 64 bits: 1677-09-21 to 2262-04-11 (a year beyond wrapped).
  if (pos != text.size() || year < 1678 || year > 2261 || month < 1 || month > 12 || day < 1 ||
      day > 31 || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  tm.tm_isdst = -1;
  std::time_t tt = zone == TimeZone::Utc ? timegm(&tm) : std::mktime(&tm);
  return Clock::time_point(std::chrono::seconds(tt)) + std::chrono::microseconds(micros);
}

}  // namespace hpt
