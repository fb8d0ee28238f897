#pragma once
// The JSON documents of the dashboard's API (/api/...), built from trials the dashboard read.
// Non-finite numbers (NaN, ±Infinity) are written as null: the documents are strict JSON that
// every parser (JavaScript's JSON.parse included) reads; a trial's state tells why a value is
// missing. Times are ISO 8601 UTC strings ("2024-05-01T12:00:00.250Z") or null.

#include <optional>
#include <string>
#include <vector>

#include "hpt/reports/trial_model_view.hpp"
#include "hpt/storage/storage.hpp"

namespace hpt::dashboard {

// A time as ISO 8601 UTC with milliseconds.
std::string iso_time(Clock::time_point t);

// One study's line in the list: {"id", "name", "direction", "directions": [one per objective],
// "n_trials", "states": {STATE: count, every state}, "best": {"number", "value"} or null
// (always null for a multi-objective study: the plots show its Pareto front),
// "last_activity": the latest start or completion time of its trials or null}.
Json study_summary_json(const StudyInfo& study, const std::vector<FrozenTrial>& trials);

// Everything the trial page shows: the row fields (see reports::trial_row_json) plus "id",
// "datetime_start", "datetime_complete", "intermediate_values" ([[step, value], ...] by step),
// "user_attrs", "system_attrs", "fail_reason" (or null), "distributions" (Optuna's JSON).
Json trial_detail_json(const FrozenTrial& trial);

// The last max_bytes of the log file at path, cut at a line start when possible, invalid UTF-8
// replaced. std::nullopt unless path (symbolic links resolved) lies inside one of folders and
// names a regular file ending in ".log", or if it cannot be read.
std::optional<std::string> read_log_tail(const std::string& path,
                                         const std::vector<std::string>& folders,
                                         size_t max_bytes = 64 * 1024);

}  // namespace hpt::dashboard
