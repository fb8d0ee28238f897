#pragma once
// Log expected improvement and its maximisation over a mixed space, as Optuna's GP sampler does
// (optuna/_gp/acqf.py, optim_mixed.py): scrambled Sobol' candidates, then local searches from
// the best of them, a few drawn by roulette and the best trial so far, alternating L-BFGS on
// the continuous parameters with searches along each discrete one.

#include <cstdint>
#include <vector>

#include "hpt/tuner/gaussian_process.hpp"
#include "hpt/tuner/rng.hpp"

namespace hpt {

// log E[max(0, x + z)] for x ~ N(0, 1), stable for very negative z (Ament et al. 2023, eq. 9);
// writes its derivative in z into dz when not null.
double standard_log_ei(double z, double* dz = nullptr);

// One dimension of the [0, 1]-scaled space.
struct GpDimension {
  bool categorical = false;
  // The values the dimension takes, ascending: a discrete parameter's grid points scaled to
  // [0, 1], or a categorical's indices 0 .. n-1. Empty for a continuous parameter.
  std::vector<double> grid;
};

struct LogEi {
  const GpRegressor& gp;
  double threshold;  // The best standardised value so far.
  // logEI at x, and its gradient (0 along categoricals) into grad when not null.
  double operator()(const std::vector<double>& x, std::vector<double>* grad = nullptr) const;
};

struct AcquisitionOptions {
  int n_preliminary_samples = 2048;  // Optuna's.
  int n_local_search = 10;
  double tol = 1e-4;
};

// The point of the space maximising acqf, starting local searches also from warm_starts (the
// best trial's point), never one of excluded (trials running there; with a deterministic
// objective, finished ones too) unless every point searched is. Draws from rng.
std::vector<double> maximize_log_ei(const LogEi& acqf, const std::vector<GpDimension>& space,
                                    const std::vector<std::vector<double>>& warm_starts,
                                    const std::vector<std::vector<double>>& excluded, Rng& rng,
                                    const AcquisitionOptions& options = {});

}  // namespace hpt
