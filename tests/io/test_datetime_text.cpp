#include <catch2/catch.hpp>
#include <ctime>

#include "hpt/io/datetime_text.hpp"

// UTC formatting/parsing against a known epoch second; local round trip keeps microseconds.
TEST_CASE("datetimes format and parse like SQLAlchemy", "[io][datetime]") {
  using namespace hpt;
  using Clock = std::chrono::system_clock;
  // 2021-03-04 05:06:07 UTC is 1614834367 s after the epoch.
  Clock::time_point t =
      Clock::time_point(std::chrono::seconds(1614834367)) + std::chrono::microseconds(89);
  CHECK(format_datetime(t, TimeZone::Utc) == "2021-03-04 05:06:07.000089");
  CHECK(parse_datetime("2021-03-04 05:06:07.000089", TimeZone::Utc) == t);
  CHECK(parse_datetime("2021-03-04T05:06:07.000089", TimeZone::Utc) == t);
  // CURRENT_TIMESTAMP's form (Optuna heartbeats) and shorter fractions.
  CHECK(parse_datetime("2021-03-04 05:06:07", TimeZone::Utc) ==
        Clock::time_point(std::chrono::seconds(1614834367)));
  CHECK(parse_datetime("2021-03-04 05:06:07.5", TimeZone::Utc) ==
        Clock::time_point(std::chrono::seconds(1614834367)) + std::chrono::milliseconds(500));
  CHECK(parse_datetime("2021-03-04", TimeZone::Utc) ==
        Clock::time_point(std::chrono::seconds(1614834367 - 5 * 3600 - 6 * 60 - 7)));
  auto now = std::chrono::time_point_cast<std::chrono::microseconds>(Clock::now());
  CHECK(parse_datetime(format_datetime(now, TimeZone::Local), TimeZone::Local) == now);
  for (const char* bad : {"", "yesterday", "2021-13-01", "2021-03-04 25:00:00", "2021-03-04 x",
                          "9999-12-31 23:59:59.999999", "0001-01-01 00:00:00", "1677-12-31"}) {
    CHECK_FALSE(parse_datetime(bad, TimeZone::Utc));  // Beyond the clock's years: it wrapped.
  }
  CHECK(parse_datetime("2261-12-31 23:59:59", TimeZone::Utc) >
        parse_datetime("2024-01-01", TimeZone::Utc));
  CHECK(parse_datetime("1678-01-01", TimeZone::Utc) < Clock::time_point{});
}

// Fewer fraction digits (truncated), none, and another separator: the dashboard's ISO form.
TEST_CASE("format_datetime with other precisions", "[io][datetime]") {
  using namespace hpt;
  const auto t = std::chrono::system_clock::time_point(std::chrono::microseconds(1614834367987654));
  CHECK(format_datetime(t, TimeZone::Utc, 3, 'T') == "2021-03-04T05:06:07.987");
  CHECK(format_datetime(t, TimeZone::Utc, 0) == "2021-03-04 05:06:07");
  CHECK(format_datetime(std::chrono::system_clock::time_point(std::chrono::microseconds(-1)),
                        TimeZone::Utc, 3) == "1969-12-31 23:59:59.999");
}
