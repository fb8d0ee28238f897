#pragma once
// Inline-SVG building blocks for the HTML report: scales, ticks, a framed plot with axes.

#include <string>
#include <vector>

namespace hpt::reports {

// A plot axis: numeric (linear or log10) over [low, high], or categories at 0..n-1.
struct Axis {
  double low = 0.0;
  double high = 1.0;
  bool log = false;
  std::vector<std::string> categories;  // Non-empty: a categorical axis.
  std::string label;
};

// The linear axis labelled label over [low, high] padded by 4 % of the range on each side (1 on
// each side when low == high), its limits kept finite: values near the largest double (a
// failure penalty of sys.float_info.max) overflowed the padding to infinity.
Axis padded_axis(double low, double high, const std::string& label);
// About `target` round tick values covering [low, high] (1, 2, 5 x 10^k steps).
std::vector<double> nice_ticks(double low, double high, int target = 5);
// Powers of ten in [low, high] (with 2x, 5x when fewer than 3 decades; every k-th decade, about
// 10 in all, over more than 12); requires low > 0.
std::vector<double> log_ticks(double low, double high);
// Compact number text: up to 4 significant digits, no trailing zeros ("0.001", "1.5e+06").
std::string format_number(double v);
// text cut to at most max_chars code points, the last one an ellipsis when cut. Never splits a
// UTF-8 sequence; invalid bytes in text count as one character each and become U+FFFD.
std::string shorten(const std::string& text, size_t max_chars);
// Escapes & < > " ' for HTML text and attributes.
std::string html_escape(const std::string& text);
// A colour on a blue-to-yellow ramp for t in [0, 1] ("#rrggbb").
std::string ramp_color(double t);

// A framed plot in a viewBox of width x height with margins for ticks and labels.
class Frame {
 public:
  Frame(Axis x, Axis y, double width = 640, double height = 340);
  // Data coordinate -> SVG coordinate (categorical axes take the category index).
  double px(double x) const;
  double py(double y) const;
  double left() const { return m_left; }
  double right() const { return m_width - m_right; }
  double top() const { return m_top; }
  double bottom() const { return m_height - m_bottom; }
  // Room above the frame (default 28) for a second title line.
  void set_top(double top) { m_top = top; }
  // Appends "<svg ...>", the title, the grid, the ticks and the axis labels.
  void open(std::string& out, const std::string& title) const;
  // Appends "</svg>".
  static void close(std::string& out);

 private:
  double map(const Axis& a, double v, double r0, double r1) const;
  Axis m_x;
  Axis m_y;
  double m_width;
  double m_height;
  double m_left = 72;
  double m_right = 16;
  double m_top = 28;
  double m_bottom = 46;
};

}  // namespace hpt::reports
