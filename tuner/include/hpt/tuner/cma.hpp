#pragma once
// The CMA-ES optimiser (Hansen's tutorial, arXiv:1604.00772, with negative weights), ported from
// the cmaes library 0.9.1 that Optuna's CmaEsSampler drives: ask samples x ~ N(m, σ²C) inside
// the bounds, tell updates m, σ and C from one generation of evaluated solutions.
// Deterministic: every random draw comes from the caller's Rng.

#include <cstddef>
#include <utility>
#include <vector>

#include "hpt/tuner/rng.hpp"

namespace hpt {

class Cma {
 public:
  // mean and bounds have one entry per dimension (>= 1); requires: lower[i] <= mean[i] <=
  // upper[i], all finite. population_size 0 means cmaes' default 4 + ⌊3 ln n⌋. Throws
  // std::invalid_argument for sigma <= 0, a population below 2, or mismatched sizes.
  Cma(std::vector<double> mean, double sigma, std::vector<double> lower, std::vector<double> upper,
      int population_size = 0, int n_max_resampling = 100);

  size_t dim() const { return m_n; }
  int population_size() const { return m_popsize; }
  int generation() const { return m_g; }  // Tells so far.
  const std::vector<double>& mean() const { return m_mean; }
  double sigma() const { return m_sigma; }
  const std::vector<double>& covariance() const { return m_C; }  // n × n, row-major.

  // A solution inside the bounds: up to n_max_resampling draws, then the last one clipped.
  std::vector<double> ask(Rng& rng);
  // One generation: population_size (solution, value to minimise) pairs. A NaN value ranks last.
  // An update that would leave the distribution non-finite (overflow) only counts the
  // generation. Throws std::invalid_argument for another count or a solution of another
  // dimension.
  void tell(std::vector<std::pair<std::vector<double>, double>> solutions);
  // cmaes' termination tests (tolfun, tolx, tolxup, no-effect coordinate and axis, condition
  // number of C above 1e14): true when a restart would serve better than another generation.
  bool should_stop();

 private:
  void decompose();  // B and D from C (symmetrised; a negative eigenvalue becomes 1e-8).
  void update(std::vector<std::pair<std::vector<double>, double>> solutions);  // tell's maths.
  bool finite() const;  // Mean, step size (> 0), covariance and paths are finite.

  size_t m_n;
  int m_popsize;
  int m_mu;
  double m_mu_eff;
  double m_cc, m_c1, m_cmu, m_c_sigma, m_d_sigma, m_chi_n;
  std::vector<double> m_weights;
  std::vector<double> m_p_sigma, m_pc, m_mean;
  std::vector<double> m_C;
  double m_sigma;
  bool m_decomposed = false;
  std::vector<double> m_B, m_D;
  std::vector<double> m_lower, m_upper;
  int m_n_max_resampling;
  int m_g = 0;
  double m_tolx;
  int m_funhist_term;
  std::vector<double> m_funhist;  // Best and worst value of the last m_funhist_term generations.
};

}  // namespace hpt
