#pragma once
// Study progress: a live status line on a terminal (done/total, running, best,
// elapsed, ETA), or one plain log line per event otherwise.

#include <chrono>
#include <limits>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "hpt/tuner/trial.hpp"

namespace hpt {

// A study's total of finished trials when none is set (only a time budget ends it).
constexpr int k_unbounded_trials = std::numeric_limits<int>::max();

class Progress {
 public:
  Progress(std::ostream& out, bool interactive) : m_out(out), m_interactive(interactive) {}
  // total: the study's finished trials to reach (k_unbounded_trials: none, with a time
  // budget); time_budget: seconds after which no trial starts (--timeout).
  void begin(const std::string& study, Direction direction, int total, int already_done,
             std::optional<double> time_budget = std::nullopt);
  // Takes a complete trial's value into account for "best".
  void record_best(int number, double value);
  void started(int number, const Json& params);
  // values: a multi-objective trial's values (printed instead of value). study_done: the
  // study's COMPLETE + PRUNED count now, every host's trials included (default: one more than
  // before when this trial counts), so that [done/total] is the study's, never a mix.
  // constraints: its constraint values, printed with "infeasible" when violated (such a
  // trial is never best).
  void finished(int number, TrialState state, std::optional<double> value,
                const std::string& reason, double seconds, const std::vector<double>& values = {},
                std::optional<int> study_done = std::nullopt,
                const std::optional<std::vector<double>>& constraints = std::nullopt);
  void note(const std::string& message);
  // Redraws the status line (terminal only, at most a few times a second).
  void tick(int running, int done);
  void end();
  // Prints the best of the complete trials (several directions: the Pareto front's size and
  // trial numbers), and its saved model's folder if it has one (reports::trial_model_dir, its
  // log looked for in model_folders too).
  void summary(const std::vector<FrozenTrial>& complete, const std::vector<Direction>& directions,
               const std::vector<std::string>& model_folders = {});
  // "1h02m", "3m05s", "12s"; under a second two digits, "0.17s".
  static std::string format_duration(double seconds);
  // A time budget as given: "2.5s" under a minute, else as format_duration.
  static std::string format_budget(double seconds);

 private:
  void clear_line();
  std::string status_line() const;
  // "[done/total]", or "[done]" without a total.
  std::string count_text() const;

  std::ostream& m_out;
  bool m_interactive;
  int m_total = 0;
  std::optional<double> m_budget;
  int m_done = 0;
  int m_done_at_start = 0;
  int m_running = 0;
  Direction m_direction = Direction::Minimize;
  std::optional<double> m_best;
  int m_best_number = -1;
  std::chrono::steady_clock::time_point m_start = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point m_last_draw{};
  bool m_line_drawn = false;
};

}  // namespace hpt
