#include "hpt/reports/svg.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <iterator>

namespace hpt::reports {

std::vector<double> nice_ticks(double low, double high, int target) {
  if (!(high > low) || !std::isfinite(low) || !std::isfinite(high)) {
    return {low};
  }
  const double raw = (high - low) / std::max(1, target);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * mag;
    if (step >= raw) {
      break;
    }
  }
  if (!std::isfinite(step) || !(step > 0.0)) {
    return {low, high};  // A range wider than a double: its ends.
  }
  // first + k * step, bounded in k: near 2^62 a small step can leave t += step unchanged.
  const double first = std::ceil(low / step - 1e-9) * step;
  std::vector<double> ticks;
  for (int k = 0; k <= 2 * std::max(1, target) + 2; ++k) {
    const double t = first + k * step;
    if (t > high + step * 1e-9) {
      break;
    }
    if (ticks.empty() || t != ticks.back()) {
      ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
    }
  }
  return ticks;
}

Axis padded_axis(double low, double high, const std::string& label) {
  Axis a;
  a.label = label;
  // In halves: high - low overflows when the two are near the largest double, of either sign.
  const double pad = high > low ? (high / 2 - low / 2) * 0.08 : 1.0;
  const double limit = std::numeric_limits<double>::max();
  a.low = std::max(-limit, low - pad);
  a.high = std::min(limit, high + pad);
  return a;
}

std::vector<double> log_ticks(double low, double high) {
  std::vector<double> ticks;
  if (!(low > 0.0) || !(high >= low)) {
    return ticks;
  }
  const int e0 = static_cast<int>(std::floor(std::log10(low)));
  const int e1 = static_cast<int>(std::ceil(std::log10(high)));
  const bool dense = e1 - e0 < 3;
  // Over hundreds of decades (a log range of 1e-300 to 1e300), every k-th power: ~10 ticks.
  const int every = e1 - e0 > 12 ? (e1 - e0 + 9) / 10 : 1;
  for (int e = e0; e <= e1; ++e) {
    if ((e - e0) % every != 0) {
      continue;
    }
    for (double m : dense ? std::vector<double>{1, 2, 5} : std::vector<double>{1}) {
      const double t = m * std::pow(10.0, e);
      if (t >= low * (1 - 1e-9) && t <= high * (1 + 1e-9)) {
        ticks.push_back(t);
      }
    }
  }
  if (ticks.empty()) {
    ticks = {low, high};
  }
  return ticks;
}

std::string format_number(double v) {
  if (std::isnan(v)) {
    return "NaN";
  }
  return fmt::format("{:.4g}", v);
}

namespace {

// The length of the UTF-8 sequence starting at text[i], or 0 if it is not a valid one.
size_t utf8_sequence_length(const std::string& text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char b = byte(i);
  size_t n = 0;
  unsigned min_code = 0;
  if (b < 0x80) {
    return 1;
  } else if ((b & 0xE0) == 0xC0) {
    n = 2;
    min_code = 0x80;
  } else if ((b & 0xF0) == 0xE0) {
    n = 3;
    min_code = 0x800;
  } else if ((b & 0xF8) == 0xF0) {
    n = 4;
    min_code = 0x10000;
  } else {
    return 0;
  }
  if (i + n > text.size()) {
    return 0;
  }
  unsigned code = b & (0x7F >> n);
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) {
      return 0;
    }
    code = (code << 6) | (byte(i + k) & 0x3F);
  }
  if (code < min_code || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
    return 0;
  }
  return n;
}

}  // namespace

std::string shorten(const std::string& text, size_t max_chars) {
  // Reads only the first max_chars + 1 characters: a 150 MB attribute costs no more than a
  // short one (it used to cost 16 bytes a character, over 2 GB).
  std::string out;
  std::string last;  // The max_chars-th character, kept only when no other follows.
  size_t count = 0;
  for (size_t i = 0; i < text.size();) {
    if (count == max_chars) {
      return max_chars == 0 ? std::string() : out + "\u2026";
    }
    const size_t n = utf8_sequence_length(text, i);
    std::string c = n == 0 ? std::string("\uFFFD") : text.substr(i, n);
    i += n == 0 ? 1 : n;
    (++count < max_chars ? out : last) += c;
  }
  return out + last;
}

std::string html_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string ramp_color(double t) {
  // Viridis-like stops.
  static constexpr double k_stops[5][3] = {
      {68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};
  t = std::isfinite(t) ? std::clamp(t, 0.0, 1.0) : 0.0;
  const double s = t * 4.0;
  const int i = std::min(3, static_cast<int>(s));
  const double f = s - i;
  int rgb[3];
  for (int c = 0; c < 3; ++c) {
    rgb[c] = static_cast<int>(std::lround(k_stops[i][c] + f * (k_stops[i + 1][c] - k_stops[i][c])));
  }
  return fmt::format("#{:02x}{:02x}{:02x}", rgb[0], rgb[1], rgb[2]);
}

Frame::Frame(Axis x, Axis y, double width, double height)
    : m_x(std::move(x)), m_y(std::move(y)), m_width(width), m_height(height) {
  for (Axis* a : {&m_x, &m_y}) {
    if (!a->categories.empty()) {
      a->low = -0.5;
      a->high = static_cast<double>(a->categories.size()) - 0.5;
      a->log = false;
    }
    if (a->log && !(a->low > 0.0)) {
      a->log = false;
    }
    if (!(a->high > a->low)) {
      const double pad = a->log ? 0.0 : std::max(1.0, std::abs(a->low) * 0.1);
      const double limit = std::numeric_limits<double>::max();
      a->low = std::max(-limit, a->low - pad);
      a->high = std::min(limit, a->high + (a->log ? a->high : pad));
    }
  }
}

double Frame::map(const Axis& a, double v, double r0, double r1) const {
  // Linear in halves (the same result, rounding included): the span of a range near the
  // largest double overflows.
  double t = a.log ? (std::log10(v) - std::log10(a.low)) / (std::log10(a.high) - std::log10(a.low))
                   : (v / 2 - a.low / 2) / (a.high / 2 - a.low / 2);
  return r0 + t * (r1 - r0);
}

double Frame::px(double x) const { return map(m_x, x, left(), right()); }
double Frame::py(double y) const { return map(m_y, y, bottom(), top()); }

void Frame::open(std::string& out, const std::string& title) const {
  auto o = std::back_inserter(out);
  fmt::format_to(o,
                 "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {}\" class=\"plot\" "
                 "role=\"img\"><title>{}</title>",
                 m_width, m_height, html_escape(title));
  fmt::format_to(o, "<text class=\"ttl\" x=\"{}\" y=\"18\">{}</text>", m_width / 2,
                 html_escape(title));
  fmt::format_to(
      o, "<rect class=\"frm\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\"/>",
      left(), top(), right() - left(), bottom() - top());
  auto ticks_of = [](const Axis& a) {
    std::vector<std::pair<double, std::string>> t;
    if (!a.categories.empty()) {
      const size_t n = a.categories.size();
      const size_t every = n > 16 ? (n + 15) / 16 : 1;
      for (size_t i = 0; i < n; i += every) {
        t.emplace_back(static_cast<double>(i), shorten(a.categories[i], 14));
      }
    } else {
      for (double v : a.log ? log_ticks(a.low, a.high) : nice_ticks(a.low, a.high)) {
        t.emplace_back(v, format_number(v));
      }
    }
    return t;
  };
  for (const auto& [v, label] : ticks_of(m_x)) {
    const double x = px(v);
    fmt::format_to(
        o,
        "<line class=\"grd\" x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1:.1f}\" y2=\"{2:.1f}\"/>"
        "<text class=\"tk\" x=\"{0:.1f}\" y=\"{3:.1f}\" text-anchor=\"middle\">{4}</text>",
        x, top(), bottom(), bottom() + 14, html_escape(label));
  }
  for (const auto& [v, label] : ticks_of(m_y)) {
    const double y = py(v);
    fmt::format_to(
        o,
        "<line class=\"grd\" x1=\"{0:.1f}\" x2=\"{1:.1f}\" y1=\"{2:.1f}\" y2=\"{2:.1f}\"/>"
        "<text class=\"tk\" x=\"{3:.1f}\" y=\"{4:.1f}\" text-anchor=\"end\">{5}</text>",
        left(), right(), y, left() - 4, y + 4, html_escape(label));
  }
  fmt::format_to(o,
                 "<text class=\"lbl\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>",
                 (left() + right()) / 2, m_height - 8, html_escape(m_x.label));
  fmt::format_to(o,
                 "<text class=\"lbl\" transform=\"translate(14 {:.1f}) rotate(-90)\" "
                 "text-anchor=\"middle\">{}</text>",
                 (top() + bottom()) / 2, html_escape(m_y.label));
}

void Frame::close(std::string& out) { out += "</svg>"; }

}  // namespace hpt::reports
