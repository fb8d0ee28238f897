#pragma once
// The files a run writes into its output folder (hpt train --out, a trial's folder), and the
// check made before any work that writing them will neither fail at the end nor destroy an
// input.

#include <string>
#include <vector>

#include "hpt/experiment/experiment_config.hpp"

namespace hpt::trainer {

// The names of the files a run may write into its output folder.
const std::vector<std::string>& run_output_files();

// Why a run of config cannot write its files into dir, or "" when it can: dir cannot be a
// folder to write in (folder_problem); it is or lies inside a folder-layout dataset.path (the
// run's files would become training images); one of the run's files there would replace the
// feature_extractor or config_file (the config it was read from, if given); or a file name the
// run writes is taken there by something that is not a regular file (a folder, a FIFO), which
// would fail the run after all its training.
std::string run_output_problem(const std::string& dir, const ExperimentConfig& config,
                               const std::string& config_file = "");

// The folder a study's trials share files in (RunOptions::shared_dir): ".shared" beside the
// trial's folder, <trials_dir>/<study>/.shared for <trials_dir>/<study>/<n>.
std::string trial_shared_dir(const std::string& trial_dir);

}  // namespace hpt::trainer
