#include "hpt/engine/progress.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>

#include "hpt/io/terminal_text.hpp"
#include "hpt/reports/trial_model_view.hpp"
#include "hpt/tuner/constraints.hpp"
#include "hpt/tuner/multi_objective.hpp"

namespace hpt {

std::string Progress::format_duration(double s) {
  if (!std::isfinite(s) || s < 0) {
    return "?";
  }
  if (s > 0 && s < 0.995) {  // A quick trial is not "0s".
    return fmt::format("{:.2g}s", s);
  }
  auto total = static_cast<long long>(std::llround(s));
  if (total >= 3600) {
    return fmt::format("{}h{:02}m", total / 3600, (total % 3600) / 60);
  }
  if (total >= 60) {
    return fmt::format("{}m{:02}s", total / 60, total % 60);
  }
  return fmt::format("{}s", total);
}

std::string Progress::format_budget(double seconds) {
  return seconds < 60 ? fmt::format("{:g}s", seconds) : format_duration(seconds);
}

void Progress::begin(const std::string& study, Direction direction, int total, int already_done,
                     std::optional<double> time_budget) {
  m_direction = direction;
  m_total = total;
  m_budget = time_budget;
  m_done = m_done_at_start = already_done;
  m_start = std::chrono::steady_clock::now();
  const bool bounded = total != k_unbounded_trials;
  m_out << terminal_text(fmt::format("hpt: study '{}': {}{} trials finished{}{}", study,
                                     already_done, bounded ? fmt::format(" of {}", total) : "",
                                     already_done >= total ? ": nothing to run"
                                     : already_done > 0    ? ", resuming"
                                                           : "",
                                     time_budget && already_done < total
                                         ? fmt::format("; no trial starts after {} (--timeout)",
                                                       format_budget(*time_budget))
                                         : ""))
        << "\n";
  m_out.flush();
}

void Progress::record_best(int number, double value) {
  if (!m_best || is_better(value, *m_best, m_direction)) {
    m_best = value;
    m_best_number = number;
  }
}

void Progress::clear_line() {
  if (m_interactive && m_line_drawn) {
    m_out << "\r\033[K";
    m_line_drawn = false;
  }
}

std::string Progress::status_line() const {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
  const int done_here = m_done - m_done_at_start;
  std::optional<double> left;  // Seconds, by the trials still to run or the time budget.
  if (done_here > 0 && m_total != k_unbounded_trials) {
    left = elapsed / done_here * std::max(0, m_total - m_done);
  }
  if (m_budget) {  // Trials still running then finish after it.
    left = std::min(left.value_or(*m_budget), std::max(0.0, *m_budget - elapsed));
  }
  std::string best = m_best ? fmt::format("{:.6g} (trial {})", *m_best, m_best_number) : "-";
  return fmt::format("{} running {} | best {} | elapsed {} | ETA {}", count_text(), m_running, best,
                     format_duration(elapsed), left ? format_duration(*left) : "?");
}

std::string Progress::count_text() const {
  return m_total == k_unbounded_trials ? fmt::format("[{}]", m_done)
                                       : fmt::format("[{}/{}]", m_done, m_total);
}

void Progress::started(int number, const Json& params) {
  if (!m_interactive) {
    m_out << terminal_text(fmt::format("trial {} started: {}", number,
                                       params.dump(-1, ' ', false, Json::error_handler_t::replace)))
          << "\n";
    m_out.flush();
  }
}

void Progress::finished(int number, TrialState state, std::optional<double> value,
                        const std::string& reason, double seconds,
                        const std::vector<double>& values, std::optional<int> study_done,
                        const std::optional<std::vector<double>>& constraints) {
  if (study_done) {
    m_done = std::max(m_done, *study_done);
  } else if (state == TrialState::Complete || state == TrialState::Pruned) {
    ++m_done;
  }
  const bool feasible = !constraints || constraints_met(*constraints);
  if (state == TrialState::Complete && value && !std::isnan(*value) && feasible) {
    record_best(number, *value);
  }
  clear_line();
  std::string what = trial_state_name(state);
  if (value) {
    what += fmt::format(" value={:.6g}", *value);
  }
  if (!values.empty()) {
    what += fmt::format(" values=[{:.6g}]", fmt::join(values, ", "));
  }
  if (constraints) {
    what += fmt::format(" constraints=[{:.6g}]{}", fmt::join(*constraints, ", "),
                        feasible ? "" : " infeasible");
  }
  if (!reason.empty()) {
    what += ": " + reason;
  }
  m_out << terminal_text(fmt::format("trial {} {} ({}) {}", number, what, format_duration(seconds),
                                     count_text()))
        << "\n";
  m_out.flush();
}

void Progress::note(const std::string& message) {
  clear_line();
  m_out << "hpt: " << terminal_text(message) << "\n";
  m_out.flush();
}

void Progress::tick(int running, int done) {
  m_running = running;
  m_done = std::max(m_done, done);
  if (!m_interactive) {
    return;
  }
  auto now = std::chrono::steady_clock::now();
  if (now - m_last_draw < std::chrono::milliseconds(250)) {
    return;
  }
  m_last_draw = now;
  m_out << "\r\033[K" << status_line();
  m_out.flush();
  m_line_drawn = true;
}

void Progress::end() { clear_line(); }

void Progress::summary(const std::vector<FrozenTrial>& complete,
                       const std::vector<Direction>& directions,
                       const std::vector<std::string>& model_folders) {
  const std::string elapsed = format_duration(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count());
  const bool multi = directions.size() > 1;
  const std::vector<FrozenTrial> front =
      multi ? best_trials(complete, directions) : std::vector<FrozenTrial>{};
  const std::optional<size_t> best_index =
      multi ? std::nullopt : best_trial_index(complete, directions.front());
  if (complete.empty()) {
    m_out << fmt::format("hpt: done in {}: no complete trial\n", elapsed);
  } else if (multi ? front.empty() : !best_index) {
    // Every complete trial violates its constraints (is_best_candidate).
    m_out << fmt::format(
        "hpt: done in {}: no feasible trial ({} COMPLETE trial{} violate{} {} constraints; see "
        "hpt trials)\n",
        elapsed, complete.size(), complete.size() == 1 ? "" : "s", complete.size() == 1 ? "s" : "",
        complete.size() == 1 ? "its" : "their");
  } else if (multi) {
    std::vector<int> numbers;
    for (const auto& t : front) {
      numbers.push_back(t.number);
    }
    m_out << fmt::format(
        "hpt: done in {}: {} trial{} on the Pareto front: {} (hpt best shows "
        "them)\n",
        elapsed, numbers.size(), numbers.size() == 1 ? "" : "s", fmt::join(numbers, ", "));
  } else {
    const FrozenTrial& best = complete[*best_index];
    m_out << terminal_text(fmt::format(
                 "hpt: done in {}: best trial {} value={:.6g} params={}", elapsed, best.number,
                 *best.value,
                 best.external_params().dump(-1, ' ', false, Json::error_handler_t::replace)))
          << "\n";
    if (const auto model = reports::trial_model_text(best, model_folders)) {
      m_out << terminal_text("hpt: its model: " + *model) << "\n";
    }
  }
  m_out.flush();
}

}  // namespace hpt
