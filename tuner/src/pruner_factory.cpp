#include <fmt/format.h>

#include <stdexcept>

#include "hpt/io/did_you_mean.hpp"
#include "hpt/tuner/hyperband_pruner.hpp"
#include "hpt/tuner/options.hpp"
#include "hpt/tuner/percentile_pruner.hpp"
#include "hpt/tuner/pruner.hpp"
#include "hpt/tuner/successive_halving_pruner.hpp"

namespace hpt {

namespace {

class NopPruner : public Pruner {
 public:
  PruneDecision decide(const PruneContext&, const FrozenTrial&) override { return {}; }
};

}  // namespace

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
  if (type == "none") {
    OptionReader("none pruner", options).finish();
    return std::make_unique<NopPruner>();
  }
  throw std::invalid_argument(fmt::format(
      "unknown pruner type '{}'{}; expected median, percentile, successive_halving, hyperband or "
      "none",
      type,
      did_you_mean(type, {"median", "percentile", "successive_halving", "hyperband", "none"})));
}

}  // namespace hpt
