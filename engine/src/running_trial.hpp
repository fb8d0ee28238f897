#pragma once
// Internal to the engine: what the orchestrator knows of one trial its worker is running.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "hpt/engine/protocol.hpp"
#include "hpt/engine/worker_set.hpp"
#include "hpt/tuner/trial.hpp"

namespace hpt {

struct RunningTrial {
  FrozenTrial trial;
  WorkerId worker = 0;
  WorkerSet::TimePoint started;
  std::optional<WorkerMessage> final;
  std::optional<WorkerSet::TimePoint> final_at;  // When the final value came.
  bool linger_noted = false;  // Said that it has not exited long after its final value.
  std::string near_miss;      // The first line meant as a protocol line but not read as one.
  bool line_cut = false;      // A line was longer than the protocol's limit (read as a log line).
  bool steps_capped = false;  // It reported objective.max_steps steps; later ones are dropped.
  bool pruned = false;
  std::string stop_reason;  // Why hpt ended it ("timed out after 5 s"), if it did.
  std::optional<WorkerSet::TimePoint> term_sent;
  std::vector<int> gpus;  // Devices it holds (study.gpus).
  // Steps read but not stored yet: written in one transaction per batch of lines; with the
  // user_attrs of step lines (the latest value of each key).
  std::vector<std::pair<int64_t, double>> unstored_steps;
  std::map<std::string, Json> unstored_attrs;
  bool log_stored = false;  // Its log's path is in the database (hpt:log), for the dashboard.
  // The latest constraint values a line reported (stored when the trial finishes).
  std::optional<std::vector<double>> constraints;
};

}  // namespace hpt
