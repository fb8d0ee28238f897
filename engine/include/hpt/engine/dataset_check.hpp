#pragma once
// Before a study of the built-in trainer starts: its dataset loads, splits and passes the
// trainer's checks, once. A dataset problem (an image that does not decode, one class, mixed
// sizes at image_size 0) used to fail every trial in turn until max_failures, each trial
// loading the whole dataset again.

#include <string>

#include "hpt/engine/study_config.hpp"

namespace hpt {

// Runs `trainer_exe check-data` on config's fixed settings, with the searched ones at their
// probe values (probe_params: a trial's settings, never defaults a trial cannot get), which also
// fills the image cache
// the trials then read). Throws hpt::ConfigError "<file>: fixed.dataset.<key>: <problem>" when
// the trainer refuses the dataset, std::runtime_error when it cannot be run. Does nothing for a
// command objective, or when a dataset.* key, feature_extractor or seed is searched (trials may
// load or split different data; each checks its own). The trainer's warnings are printed.
void check_trainer_dataset(const StudyConfig& config, const std::string& trainer_exe);

}  // namespace hpt
