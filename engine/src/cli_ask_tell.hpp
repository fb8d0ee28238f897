#pragma once
// Internal to the engine: `hpt ask` and `hpt tell` (Optuna's CLI verbs): trials run by another
// program, one at a time.

#include <string>
#include <vector>

namespace hpt {

// hpt ask: the study of config_file (storage_url and study override its own) starts its next
// trial, printed as one line of JSON, Optuna's `optuna ask` output: {"number": N, "params":
// {...}}. Returns the exit code.
int ask_command(const std::string& config_file, const std::string& storage_url,
                const std::string& study);

// What hpt tell is given on its command line.
struct TellRequest {
  std::string db, study;            // The study's database; its name ("": the only study).
  int trial_number = -1;            // --trial-number.
  std::vector<double> values;       // --values: one per direction.
  std::vector<double> constraints;  // --constraints: each <= 0 when met.
  std::string state;                // --state: complete, pruned, fail, or "" (complete).
  bool skip_if_finished = false;    // --skip-if-finished.
};

// hpt tell: the RUNNING trial finished as Optuna's study.tell finishes it (COMPLETE needs one
// value per direction, none NaN; PRUNED takes its last step's value; FAIL none). A trial an hpt
// run on this host is running is refused: its worker's result would be lost. Returns the exit
// code (130 when a stop signal came).
int tell_command(const TellRequest& tell);

}  // namespace hpt
