#include <fmt/format.h>
#include <fmt/ranges.h>

#include <iterator>
#include <limits>
#include <stdexcept>

#include "hpt/io/did_you_mean.hpp"
#include "hpt/tuner/hyperband_pruner.hpp"
#include "hpt/tuner/options.hpp"
#include "hpt/tuner/patient_pruner.hpp"
#include "hpt/tuner/percentile_pruner.hpp"
#include "hpt/tuner/pruner.hpp"
#include "hpt/tuner/successive_halving_pruner.hpp"
#include "hpt/tuner/threshold_pruner.hpp"

namespace hpt {

namespace {

class NopPruner : public Pruner {
 public:
  PruneDecision decide(const PruneContext&, const FrozenTrial&) override { return {}; }
};

// A patient pruner: patience (required), min_delta, and wrapped_pruner, the pruner a stalled
// trial is handed to ({type: ..., its options}; absent or null: a stalled trial is pruned).
std::unique_ptr<Pruner> make_patient_pruner(const Json& options) {
  OptionReader r("patient pruner", options);
  if (!r.has("patience")) {
    throw std::invalid_argument(
        "patient pruner needs option 'patience' (steps without improvement a trial is given)");
  }
  PatientPrunerOptions o;
  o.patience = r.get_int("patience", 0, 0, std::numeric_limits<int>::max());
  o.min_delta = r.get_double("min_delta", 0.0, 0.0, std::numeric_limits<double>::max());
  const Json wrapped = r.get_json("wrapped_pruner");
  r.finish();
  std::unique_ptr<Pruner> inner;
  if (!wrapped.is_null()) {
    try {
      if (!wrapped.is_object() || !wrapped.contains("type") || !wrapped["type"].is_string()) {
        throw std::invalid_argument("expected a pruner, e.g. {type: median}, but got " +
                                    wrapped.dump());
      }
      Json inner_options = wrapped;
      inner_options.erase("type");
      inner = make_pruner(wrapped["type"].get<std::string>(), inner_options);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(
          fmt::format("patient pruner option 'wrapped_pruner': {}", e.what()));
    }
  }
  return std::make_unique<PatientPruner>(o, std::move(inner));
}

}  // namespace

const std::vector<std::string>& pruner_types() {
  static const std::vector<std::string> k_types = {
      "median", "percentile", "successive_halving", "hyperband", "threshold", "patient", "none"};
  return k_types;
}

std::unique_ptr<Pruner> make_pruner(const std::string& type, const Json& options) {
  if (type == "median") {
    return std::make_unique<PercentilePruner>(percentile_options_from_json(type, options, 50.0));
  }
  if (type == "percentile") {
    return std::make_unique<PercentilePruner>(percentile_options_from_json(type, options, -1.0));
  }
  if (type == "successive_halving") {
    return std::make_unique<SuccessiveHalvingPruner>(successive_halving_options_from_json(options));
  }
  if (type == "hyperband") {
    return std::make_unique<HyperbandPruner>(hyperband_options_from_json(options));
  }
  if (type == "threshold") {
    return std::make_unique<ThresholdPruner>(threshold_options_from_json(options));
  }
  if (type == "patient") {
    return make_patient_pruner(options);
  }
  if (type == "none") {
    OptionReader("none pruner", options).finish();
    return std::make_unique<NopPruner>();
  }
  const auto& types = pruner_types();
  throw std::invalid_argument(
      fmt::format("unknown pruner type '{}'{}; expected {} or {}", type, did_you_mean(type, types),
                  fmt::join(types.begin(), std::prev(types.end()), ", "), types.back()));
}

}  // namespace hpt
