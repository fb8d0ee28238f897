#include <catch2/catch.hpp>
#include <ctime>

#include "hpt/storage/sql_datetime.hpp"

// UTC formatting/parsing against a known epoch second; local round trip keeps microseconds.
TEST_CASE("sql datetimes format and parse like SQLAlchemy", "[storage][datetime]") {
  using namespace hpt;
  // 2021-03-04 05:06:07 UTC is 1614834367 s after the epoch.
  Clock::time_point t =
      Clock::time_point(std::chrono::seconds(1614834367)) + std::chrono::microseconds(89);
  CHECK(format_sql_datetime(t, TimeZone::Utc) == "2021-03-04 05:06:07.000089");
  CHECK(parse_sql_datetime("2021-03-04 05:06:07.000089", TimeZone::Utc) == t);
  CHECK(parse_sql_datetime("2021-03-04T05:06:07.000089", TimeZone::Utc) == t);
  // CURRENT_TIMESTAMP's form (Optuna heartbeats) and shorter fractions.
  CHECK(parse_sql_datetime("2021-03-04 05:06:07", TimeZone::Utc) ==
        Clock::time_point(std::chrono::seconds(1614834367)));
  CHECK(parse_sql_datetime("2021-03-04 05:06:07.5", TimeZone::Utc) ==
        Clock::time_point(std::chrono::seconds(1614834367)) + std::chrono::milliseconds(500));
  CHECK(parse_sql_datetime("2021-03-04", TimeZone::Utc) ==
        Clock::time_point(std::chrono::seconds(1614834367 - 5 * 3600 - 6 * 60 - 7)));
  auto now = std::chrono::time_point_cast<std::chrono::microseconds>(Clock::now());
  CHECK(parse_sql_datetime(format_sql_datetime(now, TimeZone::Local), TimeZone::Local) == now);
  for (const char* bad : {"", "yesterday", "2021-13-01", "2021-03-04 25:00:00", "2021-03-04 x"}) {
    CHECK_FALSE(parse_sql_datetime(bad, TimeZone::Utc));
  }
}
