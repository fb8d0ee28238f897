// tpe_probe: hpt's TPE internals on one observation set, for step-by-step comparison with
// Optuna 3.1 (compare_step.py feeds both the same history and diffs the output).
// stdin: {"low": l, "high": h, "d": dims, "param": k, "candidates": [...], "draws": n,
//         "options": {...tpe options}, "trials": [{"number": i, "x": [...], "value": v}]}
// stdout: {"below": [...], "above": [...], "l": {mus, sigmas, weights}, "g": {...},
//          "log_l": [...], "log_g": [...], "samples_l": [...], "chosen": [...]}
// With "next_seed": s in stdin, prints only the parameters TpeSampler(seed s) proposes next.

#include <iostream>
#include <string>
#include <vector>

#include "hpt/tuner/observation_split.hpp"
#include "hpt/tuner/parzen_estimator.hpp"
#include "hpt/tuner/sampler.hpp"
#include "hpt/tuner/tpe_sampler.hpp"

namespace {

using hpt::Json;

Json describe(const hpt::ParzenEstimator& pe) {
  return Json{{"mus", pe.mus(0)}, {"sigmas", pe.sigmas(0)}, {"weights", pe.weights()}};
}

}  // namespace

int main() {
  const Json in = Json::parse(std::cin);
  const double low = in.at("low"), high = in.at("high");
  const int d = in.at("d");
  const std::string param = "x" + std::to_string(in.at("param").get<int>());
  const hpt::FloatDistribution dist{low, high, false, {}};
  std::vector<hpt::FrozenTrial> trials;
  for (const Json& t : in.at("trials")) {
    hpt::FrozenTrial f;
    f.number = t.at("number");
    f.state = hpt::TrialState::Complete;
    f.value = t.at("value").get<double>();
    for (int i = 0; i < d; ++i) {
      f.params["x" + std::to_string(i)] = t.at("x").at(i).get<double>();
      f.distributions["x" + std::to_string(i)] = dist;
    }
    trials.push_back(f);
  }
  const int next = static_cast<int>(trials.size());
  const hpt::TpeOptions options = hpt::tpe_options_from_json(in.value("options", Json::object()));
  if (in.contains("next_seed")) {  // Just the sampler's next trial, all parameters.
    hpt::SearchSpace space;
    for (int i = 0; i < d; ++i) {
      space.emplace_back("x" + std::to_string(i), dist);
    }
    hpt::TpeSampler sampler(options, in.at("next_seed").get<uint64_t>());
    std::cout << Json(sampler.sample(space, {hpt::Direction::Minimize, &trials, next})).dump()
              << "\n";
    return 0;
  }
  const auto split = hpt::split_observations(trials, hpt::Direction::Minimize, next, false);
  Json out;
  std::vector<double> below, above;
  for (const auto* t : split.below) {
    out["below"].push_back(t->number);
    below.push_back(t->params.at(param));
  }
  for (const auto* t : split.above) {
    out["above"].push_back(t->number);
    above.push_back(t->params.at(param));
  }
  const auto transform = hpt::make_transform(dist);
  hpt::ParzenEstimator l({transform}, below, options.parzen);
  hpt::ParzenEstimator g({transform}, above, options.parzen);
  out["l"] = describe(l);
  out["g"] = describe(g);
  const std::vector<double> candidates = in.at("candidates");
  out["log_l"] = l.log_pdf(candidates);
  out["log_g"] = g.log_pdf(candidates);
  hpt::Rng rng(7);
  out["samples_l"] = l.sample(rng, in.value("samples", in.value("draws", 0)));
  hpt::SearchSpace space;
  for (int i = 0; i < d; ++i) {
    space.emplace_back("x" + std::to_string(i), dist);
  }
  Json chosen = Json::array();
  for (int k = 0; k < in.value("draws", 0); ++k) {
    hpt::TpeSampler sampler(options, static_cast<uint64_t>(k));
    chosen.push_back(sampler.sample(space, {hpt::Direction::Minimize, &trials, next}).at(param));
  }
  out["chosen"] = chosen;
  std::cout << out.dump() << "\n";
  return 0;
}
