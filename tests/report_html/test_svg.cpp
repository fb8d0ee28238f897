#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <utility>

#include "hpt/reports/svg.hpp"

// Ticks land on 1-2-5 steps inside the range.
TEST_CASE("nice and log ticks", "[svg]") {
  CHECK(hpt::reports::nice_ticks(0, 10, 5) == std::vector<double>{0, 2, 4, 6, 8, 10});
  const auto t = hpt::reports::nice_ticks(0.13, 0.91, 4);
  CHECK(t.front() == Approx(0.2));
  CHECK(t.back() == Approx(0.8));
  CHECK(hpt::reports::log_ticks(1e-5, 1e-1).size() == 5);
  const auto dense = hpt::reports::log_ticks(1, 100);
  CHECK(dense == std::vector<double>{1, 2, 5, 10, 20, 50, 100});
}

// Ranges at the edges of double arithmetic give a few ticks in bounded time: near 2^62 a step of
// 1000 is below the doubles' spacing (t += step never moved: an endless loop), a range wider than
// a double gives its ends.
TEST_CASE("nice ticks at the edges of double", "[svg]") {
  const double big = 4611686018427387904.0;  // 2^62: doubles 1024 apart.
  const auto near = hpt::reports::nice_ticks(big, big + 2048, 5);
  CHECK_FALSE(near.empty());
  CHECK(near.size() <= 12);
  for (double t : near) {
    CHECK(t >= big);
    CHECK(t <= big + 2048);
  }
  CHECK(hpt::reports::nice_ticks(-1.7e308, 1.7e308, 5).size() <= 12);
  CHECK(hpt::reports::nice_ticks(0, 1e-310, 5).size() <= 12);  // Subnormal steps.
}

// A log range over hundreds of decades gets about 10 ticks (it drew one per decade: 600 lines
// and labels in one plot).
TEST_CASE("log ticks over hundreds of decades", "[svg]") {
  const auto wide = hpt::reports::log_ticks(1e-300, 1e300);
  CHECK(wide.size() >= 8);
  CHECK(wide.size() <= 12);
  CHECK(wide.front() == Approx(1e-300));
  CHECK(hpt::reports::log_ticks(1e-6, 1e6).size() == 13);  // Up to 12 decades: every one.
}

// Values near the largest double (a failure penalty of sys.float_info.max, of either sign): the
// axis stays finite and every value maps inside the frame (the padding overflowed to infinity,
// every point collapsed onto one edge and the extremes became NaN).
TEST_CASE("axes over values near the largest double", "[svg]") {
  const double max = std::numeric_limits<double>::max();
  for (const auto& [lo, hi] : {std::pair{1.0, max}, std::pair{-max, max}, std::pair{-max, -1.0}}) {
    INFO(lo << " .. " << hi);
    const auto a = hpt::reports::padded_axis(lo, hi, "value");
    CHECK(std::isfinite(a.low));
    CHECK(std::isfinite(a.high));
    CHECK(a.low <= lo);  // Padded, or clamped at the largest double.
    CHECK(a.high >= hi);
    CHECK(a.label == "value");
    hpt::reports::Frame f(a, a, 200, 100);
    for (const double v : {lo, hi, lo / 2 + hi / 2}) {
      const double x = f.px(v);
      CHECK(std::isfinite(x));
      CHECK(x >= f.left());
      CHECK(x <= f.right());
    }
    CHECK(f.px(hi) > f.px(lo));
  }
  const auto plain = hpt::reports::padded_axis(0, 10, "v");
  CHECK(plain.low == Approx(-0.4));
  CHECK(plain.high == Approx(10.4));
}

// Numbers, escaping and colours.
TEST_CASE("formatting helpers", "[svg]") {
  CHECK(hpt::reports::format_number(0.5) == "0.5");
  CHECK(hpt::reports::format_number(1234567) == "1.235e+06");
  CHECK(hpt::reports::html_escape("<a & 'b'>") == "&lt;a &amp; &#39;b&#39;&gt;");
  CHECK(hpt::reports::ramp_color(0) == "#440154");
  CHECK(hpt::reports::ramp_color(1) == "#fde725");
}

// The frame maps data to pixels (y up), log axes in decades, categories by index.
TEST_CASE("frame scales", "[svg]") {
  hpt::reports::Axis x;
  x.low = 1e-4;
  x.high = 1;
  x.log = true;
  hpt::reports::Axis y;
  y.categories = {"a", "b", "c"};
  hpt::reports::Frame f(x, y, 200, 100);
  CHECK(f.px(1e-2) == Approx((f.left() + f.right()) / 2));
  CHECK(f.py(1) == Approx((f.top() + f.bottom()) / 2));
  std::string out;
  f.open(out, "t<1>");
  hpt::reports::Frame::close(out);
  CHECK(out.find("t&lt;1&gt;") != std::string::npos);
  CHECK(out.find(">0.01<") != std::string::npos);
  CHECK(out.find(">b<") != std::string::npos);
}

// Labels are cut by code points, never inside a UTF-8 sequence; bad bytes become U+FFFD.
TEST_CASE("shorten cuts by code points", "[svg]") {
  using hpt::reports::shorten;
  CHECK(shorten("abc", 5) == "abc");
  CHECK(shorten("abcdef", 4) == "abc\u2026");
  CHECK(shorten("", 3).empty());
  CHECK(shorten("abc", 0).empty());
  // 6 two-byte and 6 three-byte characters: a byte cut would split one.
  CHECK(shorten("\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9", 4) == "\u00e9\u00e9\u00e9\u2026");
  CHECK(shorten("\u65e5\u672c\u8a9e\u65e5\u672c\u8a9e", 6) ==
        "\u65e5\u672c\u8a9e\u65e5\u672c\u8a9e");
  CHECK(shorten("\u65e5\u672c\u8a9e\u65e5\u672c\u8a9e", 3) == "\u65e5\u672c\u2026");
  CHECK(shorten("\U0001F600\U0001F600\U0001F600", 2) == "\U0001F600\u2026");
  CHECK(shorten("a\xff\xc3", 5) == "a\uFFFD\uFFFD");
  CHECK(shorten("\xe6\x97", 5) == "\uFFFD\uFFFD");            // A truncated sequence.
  CHECK(shorten("\xc0\xaf", 5) == "\uFFFD\uFFFD");            // An overlong encoding.
  CHECK(shorten("\xed\xa0\x80", 5) == "\uFFFD\uFFFD\uFFFD");  // A surrogate.
  CHECK(shorten(std::string(1 << 24, 'x'), 3) == "xx\u2026");  // Reads 4 characters of 16 M.
  CHECK(shorten("abc\xff", 4) == "abc\uFFFD");
  CHECK(shorten("abc\xff!", 4) == "abc\u2026");
}
