#pragma once
// The trainer's CLI subcommands (train, match, embed, worker) and the built-in trial worker.

#include <iosfwd>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace CLI {
class App;
}

namespace hpt::trainer {

// Registers `train`, `match`, `embed` and `worker` on app. Their callbacks throw on error
// (the caller prints the exception as one line).
void add_trainer_commands(CLI::App& app);

// The worker's inputs (the HPT_* environment variables; unset = nullopt).
struct WorkerEnv {
  std::optional<std::string> fixed;         // HPT_FIXED: JSON object.
  std::optional<std::string> params;        // HPT_PARAMS: JSON object, overrides fixed.
  std::optional<std::string> trial_number;  // HPT_TRIAL_NUMBER.
  std::optional<std::string> seed;          // HPT_SEED: integer.
  std::optional<std::string> trial_dir;     // HPT_TRIAL_DIR: where artifacts go.
};
WorkerEnv worker_env_from_environment();

// Runs one trial with HPT_PARAMS merged over HPT_FIXED (merge_settings, trial_settings.hpp):
// trains, writes {"step": epoch, "value": val_auc} per epoch (when the first objective is
// val_roc_auc) and the final {"value": v} (one objective) or {"values": [...]} (config.objectives,
// two or more) with "user_attrs" to out (flushed per line), logs to err. Returns 0.
// Throws hpt::ConfigError for a bad environment and std::runtime_error for bad data.
int run_worker(const WorkerEnv& env, std::ostream& out, std::ostream& err);

}  // namespace hpt::trainer
