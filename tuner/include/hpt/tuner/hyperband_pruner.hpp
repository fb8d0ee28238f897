#pragma once
// Optuna 3.1's HyperbandPruner: n_brackets = floor(log_eta(max_resource / min_resource)) + 1
// successive-halving pruners (bracket b starts pruning b rungs up). A trial's bracket is
// crc32("<study name>_<trial number>") modulo the brackets' total trial budget, and both
// its pruning decisions and its sampler see only the trials of its own bracket.

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "hpt/tuner/successive_halving_pruner.hpp"

namespace hpt {

struct HyperbandOptions {
  int64_t min_resource = 1;  // >= 1.
  // std::nullopt = "auto": the largest last step of a COMPLETE trial, plus one, fixed at
  // the first decision that finds one (no pruning before).
  std::optional<int64_t> max_resource;
  int64_t reduction_factor = 3;  // >= 2.
  int64_t bootstrap_count = 0;   // Needs an integer max_resource when > 0.
};

// Reads a "hyperband" pruner's options; throws std::invalid_argument naming an unknown,
// wrongly typed or out-of-range option (max_resource < min_resource included).
HyperbandOptions hyperband_options_from_json(const Json& options);

// zlib's / Python binascii's CRC-32 of bytes.
uint32_t crc32(const std::string& bytes);

class HyperbandPruner : public Pruner {
 public:
  // Throws std::invalid_argument on out-of-range options.
  explicit HyperbandPruner(HyperbandOptions options);
  PruneDecision decide(const PruneContext& ctx, const FrozenTrial& trial) override;
  // The trials of trial_number's bracket (all of them while the brackets are unknown).
  std::optional<std::vector<FrozenTrial>> sampler_trials(const PruneContext& ctx,
                                                         int trial_number) override;

  // Trial trial_number's bracket (0 while the brackets are unknown), Optuna's
  // _get_bracket_id.
  int bracket_of(const std::string& study_name, int trial_number) const;
  // Each bracket's share of trials (Optuna's trial allocation budgets); empty until known.
  const std::vector<int64_t>& budgets() const { return m_budgets; }

 private:
  // Sets up the brackets once max_resource is known; false if it is not yet.
  bool initialize(const std::vector<FrozenTrial>& trials);
  std::vector<FrozenTrial> bracket_trials(const PruneContext& ctx, int bracket) const;

  HyperbandOptions m_options;
  std::vector<SuccessiveHalvingPruner> m_brackets;
  std::vector<int64_t> m_budgets;
  int64_t m_total_budget = 0;
  // bracket_of's answers for m_bracket_study, by trial number (a CRC of a formatted name each).
  mutable std::string m_bracket_study;
  mutable std::unordered_map<int, int> m_bracket_memo;
};

}  // namespace hpt
