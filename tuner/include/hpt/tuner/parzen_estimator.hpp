#pragma once
// The Parzen estimator of TPE (Optuna 3.1's _ParzenEstimator): a weighted mixture of
// truncated normals (numerical parameters) and smoothed one-hot rows (categoricals)
// over a set of observations, in the parameters' transformed space.

#include <vector>

#include "hpt/tuner/param_transform.hpp"
#include "hpt/tuner/rng.hpp"

namespace hpt {

struct ParzenOptions {
  bool consider_prior = true;
  double prior_weight = 1.0;
  bool consider_magic_clip = true;
  bool consider_endpoints = false;
  bool multivariate = false;  // Scott's-rule bandwidths instead of neighbour distances.
  // The prior's mean (the middle of the range) counts as a neighbour in the neighbour-
  // distance bandwidths (Optuna <= 4.5); off: only the observations (Optuna >= 4.6).
  bool prior_in_bandwidth = true;
  // Divide each continuous component's density by its sigma (a true density, as Optuna
  // >= 3.2). Off = Optuna 3.1, whose truncnorm.logpdf omits the scale: wide components
  // weigh more; bench/tpe finds that better on 4 of 5 objectives.
  bool normalize_scale = false;
};

// Optuna's default_weights: n ones below 25 observations, else a linear ramp from 1/n
// for the oldest n-25 observations followed by 25 ones. ensures: size n, all > 0.
std::vector<double> default_weights(int n);

class ParzenEstimator {
 public:
  // params: the d parameters (categorical kinds need n_choices > 0; others low < high).
  // observations: n rows of d transformed values (categoricals: choice indices), oldest
  // first. requires: observations.size() % d == 0, values inside the params' bounds.
  // ensures: weights() sum to 1; one component per observation, plus the prior (last)
  // when consider_prior or n == 0; sigmas in [min sigma, high - low]. weights: one
  // non-negative weight per observation replacing default_weights (Optuna's
  // predetermined_weights, multi-objective TPE); empty = default_weights(n).
  ParzenEstimator(std::vector<ParamTransform> params, const std::vector<double>& observations,
                  const ParzenOptions& options, const std::vector<double>& weights = {});

  // count rows of d transformed values drawn from the mixture, snapped to each
  // parameter's grid. ensures: every value lies in its parameter's transformed bounds.
  std::vector<double> sample(Rng& rng, int count) const;
  // The mixture's log density (log mass for discrete and categorical parameters; see
  // ParzenOptions::normalize_scale) at each row of samples (rows of d transformed,
  // grid-snapped values).
  std::vector<double> log_pdf(const std::vector<double>& samples) const;

  int n_components() const { return static_cast<int>(m_weights.size()); }
  int n_params() const { return static_cast<int>(m_params.size()); }
  const std::vector<double>& weights() const { return m_weights; }
  // Component means and bandwidths of numerical parameter j (empty for categoricals).
  const std::vector<double>& mus(int j) const { return m_mus[j]; }
  const std::vector<double>& sigmas(int j) const { return m_sigmas[j]; }
  // Row-major n_components x n_choices probabilities of categorical parameter j.
  const std::vector<double>& categorical_weights(int j) const { return m_categorical[j]; }

 private:
  void compute_numerical(int j, const std::vector<double>& obs, bool with_prior,
                         const ParzenOptions& options, double sigma0);
  void compute_categorical(int j, const std::vector<double>& obs, bool with_prior,
                           const ParzenOptions& options);
  // Builds the evaluation form below from the components.
  void build_evaluation();
  // The evaluation components' weights (setting m_eval_mus/sigmas, or m_marginal for one
  // categorical parameter, whose single pseudo-component has weight 1).
  std::vector<double> evaluation_components();
  // Parameter j's precomputed terms over m evaluation components.
  void build_param_terms(int j, int m);

  std::vector<ParamTransform> m_params;
  bool m_normalize_scale = false;
  int m_n_obs = 0;
  std::vector<double> m_weights;
  std::vector<std::vector<double>> m_mus;
  std::vector<std::vector<double>> m_sigmas;
  std::vector<std::vector<double>> m_categorical;
  std::vector<size_t> m_sorted_order;  // Components of the last numerical parameter by mu.

  // Evaluation form: components (merged where identical, for one parameter) with their
  // cumulative weights, log weights and per-parameter precomputed terms.
  std::vector<double> m_eval_cumulative;
  std::vector<double> m_eval_log_weights;
  std::vector<std::vector<double>> m_eval_mus;
  std::vector<std::vector<double>> m_eval_sigmas;
  std::vector<std::vector<double>> m_eval_inv_sigmas;
  std::vector<std::vector<double>> m_eval_log_norm;  // Subtracted from each term.
  std::vector<std::vector<double>> m_eval_cat_log;   // n_choices x components (transposed).
  std::vector<std::vector<double>> m_eval_cat;       // components x n_choices.
  std::vector<double> m_marginal;                    // One categorical parameter: P(choice).
};

}  // namespace hpt
