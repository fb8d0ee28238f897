#pragma once
// The study report: one self-contained HTML file (inline SVG plots, inline CSS and JS, no
// network resources), and the text behind `hpt importance`.

#include <optional>
#include <string>
#include <vector>

#include "hpt/reports/trial_model_view.hpp"
#include "hpt/storage/storage.hpp"
#include "hpt/tuner/trial.hpp"

namespace hpt::reports {

// The full HTML page for the study's trials (in storage order). Never throws on odd studies:
// plots that cannot be drawn (0 or 1 trials, ...) carry a note instead. The best trial's model
// view is looked for in where (trial_model_view.hpp).
std::string render_report(const StudyInfo& study, const std::vector<FrozenTrial>& trials,
                          const TrialFolders& where = {});

// Renders the study's report to out_path atomically (a temporary file renamed into place), or
// to standard output for "-".
// Throws std::invalid_argument for an unknown study, std::runtime_error if it cannot write.
void write_report(Storage& storage, const std::string& study_name, const std::string& out_path,
                  const TrialFolders& where = {});

// `hpt importance`: fANOVA importances for target "value" (of objective `objective`, 0-based,
// default 0) or "duration", as format "table" (aligned text, largest first) or "json" (object
// param -> importance, summing to 1). Throws std::invalid_argument on a bad target/format, an
// objective outside 0..(the study's objectives - 1) (one line naming --objective and the
// count), an unknown study, or too few trials.
std::string importance_text(Storage& storage, const std::string& study_name,
                            const std::string& target, const std::string& format,
                            std::optional<long long> objective = std::nullopt);

}  // namespace hpt::reports
