#pragma once
// The Tree-structured Parzen Estimator sampler: Optuna 3.1's TPESampler (multivariate: false
// is its default exactly; multivariate: true its multivariate TPE) with the constant liar
// for parallel workers, and hpt's default "hybrid" (joint and univariate candidates, see
// TpeOptions and bench/tpe).

#include <cstdint>

#include "hpt/tuner/observation_split.hpp"
#include "hpt/tuner/parzen_estimator.hpp"
#include "hpt/tuner/sampler.hpp"

namespace hpt {

constexpr int k_auto_multivariate_params = 3;
constexpr double k_hybrid_gamma_factor = 0.15;

struct TpeOptions {
  int n_startup_trials = 10;
  int n_ei_candidates = 24;
  // multivariate: false (Optuna 3.1's default: one estimator per parameter) or true (one
  // joint estimator, Optuna 3.1's multivariate TPE).
  bool multivariate = false;
  // "multivariate: auto": joint sampling when the space has at least
  // k_auto_multivariate_params non-single parameters, univariate below (bench/tpe: joint
  // bandwidths lose on 2-D functions, win on most 3-10-D ones).
  bool multivariate_auto = false;
  // "multivariate: hybrid" (the default, bench/tpe): joint sampling; with fewer than
  // k_auto_multivariate_params varying parameters with neighbour-distance bandwidths, from
  // k_auto_multivariate_params on with Scott's rule plus n_ei_candidates candidates drawn
  // from the univariate estimators, all scored by mixed_score.
  bool multivariate_hybrid = true;
  // Whether the config named `multivariate`. Unnamed, a multi-objective study samples as
  // Optuna 3.1's MOTPE (univariate); the hybrid default was measured on one objective only.
  bool multivariate_given = false;
  // Bandwidths of a joint estimator: Auto (Scott's rule, except hybrid below
  // k_auto_multivariate_params: Neighbor), Scott (Optuna 3.1) or Neighbor (each parameter's
  // neighbour distances, Optuna >= 4.6's multivariate TPE).
  enum class Bandwidth { Auto, Scott, Neighbor };
  Bandwidth multivariate_bandwidth = Bandwidth::Auto;
  // Joint sampling: candidates also drawn from the univariate (per-parameter independent)
  // estimators; -1 = auto (hybrid from k_auto_multivariate_params on: n_ei_candidates, else 0).
  int n_univariate_candidates = -1;
  // Score of a candidate when univariate candidates are drawn: the joint log l/g, the sum of
  // the univariate ones, or both added.
  enum class MixedScore { Joint, Univariate, Sum };
  MixedScore mixed_score = MixedScore::Sum;
  bool constant_liar = true;  // RUNNING trials of other workers count as "bad".
  // Size of the good set (one objective). gamma.factor applies when gamma_factor_auto is
  // off; on (no gamma_factor option), hybrid from k_auto_multivariate_params varying
  // parameters uses k_hybrid_gamma_factor (bench/tpe: better on the 5-10-D families, worse
  // in 2-D), everything else Optuna's 0.1.
  Gamma gamma;
  bool gamma_factor_auto = true;
  ParzenOptions parzen;
};

// Reads the config's options object (null = defaults). Throws std::invalid_argument
// naming an unknown option (with a suggestion) or a wrongly typed value.
TpeOptions tpe_options_from_json(const Json& options);

class TpeSampler : public Sampler {
 public:
  TpeSampler(TpeOptions options, uint64_t seed);
  // Random (same seed stream) until n_startup_trials trials are COMPLETE or PRUNED;
  // then for each parameter (or all jointly, multivariate) the best of n_ei_candidates
  // draws from the good trials' estimator l(x) by l(x) / g(x).
  std::map<std::string, double> sample(const SearchSpace& space, const SampleContext& ctx) override;

  const TpeOptions& options() const { return m_options; }

 private:
  TpeOptions m_options;
  uint64_t m_seed;
};

}  // namespace hpt
