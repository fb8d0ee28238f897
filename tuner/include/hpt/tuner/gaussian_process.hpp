#pragma once
// A Gaussian process regressor as Optuna's GP sampler fits it (optuna/_gp/gp.py, prior.py):
// a Matern 5/2 kernel with one length scale per parameter (ARD), a Hamming distance for
// categorical parameters, a kernel scale and a noise variance, fitted by maximising the
// marginal likelihood times Optuna's prior. Points are rows of parameters scaled to [0, 1]
// (categoricals: the choice's index).

#include <vector>

namespace hpt {

struct GpKernelParams {
  std::vector<double> inverse_squared_lengthscales;  // One per parameter, > 0.
  double kernel_scale = 1.0;                          // k(x, x).
  double noise_var = 1.0;                             // Added to the diagonal.
};

struct GpData {
  std::vector<std::vector<double>> x;  // n points of d parameters.
  std::vector<double> y;               // Their values (standardised, to maximise).
  std::vector<bool> is_categorical;    // Per parameter.
};

// Optuna's DEFAULT_MINIMUM_NOISE_VAR.
inline constexpr double k_gp_minimum_noise = 1e-6;

// The loss Optuna's fit minimises, -(log marginal likelihood + log prior) without constants, at
// raw = (log inverse squared length scales..., log kernel scale, log(noise - minimum_noise)); a
// deterministic objective's noise is minimum_noise (raw's last entry is then unused). Writes the
// gradient with respect to raw into grad when it is not null. Returns +inf where the covariance
// is not positive definite.
double gp_fit_loss(const GpData& data, const std::vector<double>& raw, bool deterministic,
                   std::vector<double>* grad);

// Fits the kernel parameters from Optuna's start (every parameter 1), by L-BFGS on gp_fit_loss
// (gtol 1e-2, as Optuna). Falls back to the start if the fit fails, as Optuna does.
GpKernelParams fit_gp_kernel_params(const GpData& data, bool deterministic);

class GpRegressor {
 public:
  // Throws std::runtime_error if the covariance is not positive definite.
  GpRegressor(GpData data, GpKernelParams params);

  // The posterior mean and variance (clamped at 0) of f at x; with dmean/dvar, their
  // derivatives along each parameter (0 along categoricals).
  void posterior(const std::vector<double>& x, double& mean, double& var,
                 std::vector<double>* dmean = nullptr, std::vector<double>* dvar = nullptr) const;
  // Kriging believer (Ginsbourger et al. 2010): adds the points as observed at their posterior
  // mean, so that points near them (trials still running) look explored. Returns those means.
  std::vector<double> add_believed_points(const std::vector<std::vector<double>>& points);
  // log p(y | x, params) without its constant, as Optuna's marginal_log_likelihood.
  double marginal_log_likelihood() const;
  const GpKernelParams& params() const { return m_params; }
  // 1 / sqrt(inverse squared length scale), per parameter.
  std::vector<double> length_scales() const;

 private:
  void factor();  // m_chol and m_alpha from m_data and m_params.

  GpData m_data;
  GpKernelParams m_params;
  std::vector<double> m_chol;   // Lower Cholesky factor of K + noise I, n x n row-major.
  std::vector<double> m_alpha;  // (K + noise I)^-1 y.
};

}  // namespace hpt
