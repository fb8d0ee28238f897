#pragma once
// Internal to the engine: one run of the built-in trainer for a question before a study
// (`hpt-train devices`, `hpt-train check-data`).

#include <string>

namespace hpt {

struct TrainerVerbRun {
  int wait_status = -1;  // As waitpid gives it: WIFEXITED / WIFSIGNALED.
  std::string out, err;  // Everything it printed.
};

// Runs `trainer_exe verb` with stdin from /dev/null, and HPT_FIXED = fixed_json and HPT_PARAMS =
// params_json where they are not empty, and waits for it. Throws StartError (a
// std::runtime_error) naming why it cannot be started (missing, not executable, ...).
TrainerVerbRun run_trainer_verb(const std::string& trainer_exe, const std::string& verb,
                                const std::string& fixed_json = "",
                                const std::string& params_json = "");

}  // namespace hpt
