// Dashboard server time on a synthetic study of N trials in a SQLite file (the dashboard opens
// it read-only while a writer adds trials, as a running study does):
//   load     the page, the first (full) trials poll, the plots' first paint (without the
//            importances) and the drawing with the importances
//   refresh  a trials poll after one new finished trial, and a poll with no change
// Prints one JSON line per N. Usage: bench_dashboard DIR [N...]   (default 1000 10000)

#include <time.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <thread>

#include "hpt/dashboard/dashboard.hpp"
#include "synthetic_study.hpp"

namespace {

using SteadyClock = std::chrono::steady_clock;

double ms_since(SteadyClock::time_point t0) {
  return std::chrono::duration<double, std::milli>(SteadyClock::now() - t0).count();
}

// CPU milliseconds this process has used (all threads): on a shared, loaded machine a steadier
// measure of the work than wall time.
double cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

// Milliseconds of one GET, and the size of its answer.
std::pair<double, size_t> timed_get(hpt::dashboard::Dashboard& d, const std::string& path,
                                    std::map<std::string, std::string> query = {}) {
  const auto t0 = SteadyClock::now();
  const auto r = d.get(path, query);
  const double ms = ms_since(t0);
  if (r.status != 200) {
    throw std::runtime_error(path + ": " + r.body);
  }
  return {ms, r.body.size()};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: bench_dashboard DIR [N...]\n";
    return 2;
  }
  for (int n : hpt::bench::study_sizes(argc, argv)) {
    const std::string path = std::string(argv[1]) + "/dashboard_" + std::to_string(n) + ".db";
    std::remove(path.c_str());
    auto writer = hpt::open_storage(path);
    const int64_t id = writer->create_study("bench", hpt::Direction::Minimize);
    for (const auto& t : hpt::bench::synthetic_study(n, 42)) {
      writer->create_trial(id, t);
    }
    const std::string base = "/api/studies/" + std::to_string(id);

    const auto t0 = SteadyClock::now();
    const double cpu0 = cpu_ms();
    hpt::dashboard::Dashboard d(hpt::open_storage(path, true));
    d.set_intervals(std::chrono::milliseconds(0), std::chrono::milliseconds(0));
    const auto [page_ms, page_bytes] = timed_get(d, "/studies/" + std::to_string(id));
    const auto [trials_ms, trials_bytes] = timed_get(d, base + "/trials");
    const double table_ms = ms_since(t0);
    const double table_cpu_ms = cpu_ms() - cpu0;
    // The plots render in the background; the page asks until they are there: first without
    // the importances (first paint), then with them.
    size_t plot_bytes = 0;
    double first_paint_ms = -1;
    double first_paint_cpu_ms = -1;
    for (;;) {
      const auto r = d.get(base + "/plots", {});
      const auto j = hpt::Json::parse(r.body);
      if (first_paint_ms < 0 && j.contains("html")) {
        first_paint_ms = ms_since(t0);
        first_paint_cpu_ms = cpu_ms() - cpu0;
      }
      if (!j["pending"].get<bool>()) {
        plot_bytes = r.body.size();
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    const double plots_ms = ms_since(t0);
    const double plots_cpu_ms = cpu_ms() - cpu0;
    std::string cursor =
        hpt::Json::parse(d.get(base + "/trials", {}).body)["cursor"].get<std::string>();
    std::vector<double> refresh_ms;
    std::vector<double> idle_ms;
    const hpt::Json owner = hpt::Json::object();
    for (int i = 0; i < 30; ++i) {
      auto claim =
          writer->claim_trial(id, 1 << 30, owner, [](const hpt::FrozenTrial&) { return false; });
      writer->set_trial_intermediate_value(claim->trial.id, 0, 1.0);
      writer->set_trial_state_values(claim->trial.id, hpt::TrialState::Complete, 0.5 + i);
      const auto t1 = SteadyClock::now();
      const auto r = d.get(base + "/trials", {{"since", cursor}});
      refresh_ms.push_back(ms_since(t1));
      cursor = hpt::Json::parse(r.body)["cursor"].get<std::string>();
      idle_ms.push_back(timed_get(d, base + "/trials", {{"since", cursor}}).first);
    }
    std::cout << hpt::Json{{"trials", n},
                           {"page_ms", page_ms},
                           {"page_bytes", page_bytes},
                           {"first_poll_ms", trials_ms},
                           {"first_poll_bytes", trials_bytes},
                           {"table_ready_ms", table_ms},
                           {"table_cpu_ms", table_cpu_ms},
                           {"first_paint_ms", first_paint_ms},
                           {"first_paint_cpu_ms", first_paint_cpu_ms},
                           {"plots_ready_ms", plots_ms},
                           {"plots_ready_cpu_ms", plots_cpu_ms},
                           {"plots_bytes", plot_bytes},
                           {"refresh_median_ms", median(refresh_ms)},
                           {"refresh_max_ms",
                            *std::max_element(refresh_ms.begin(), refresh_ms.end())},
                           {"idle_poll_median_ms", median(idle_ms)}}
                     .dump()
              << std::endl;
  }
  return 0;
}
