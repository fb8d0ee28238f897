#include "hpt/tuner/gaussian_process.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>

#include "hpt/tuner/lbfgs.hpp"

namespace hpt {

namespace {

// Matern 5/2 as a function of the scaled squared distance r, and its derivative in r.
double matern52(double r) {
  const double s5 = std::sqrt(5.0 * r);
  return std::exp(-s5) * ((5.0 / 3.0) * r + s5 + 1.0);
}
double matern52_deriv(double r) {
  const double s5 = std::sqrt(5.0 * r);
  return (-5.0 / 6.0) * (s5 + 1.0) * std::exp(-s5);
}

// Per-parameter squared differences: (a - b)^2, or a != b for a categorical.
double sqd(const std::vector<bool>& is_categorical, size_t k, double a, double b) {
  return is_categorical[k] ? (a != b ? 1.0 : 0.0) : (a - b) * (a - b);
}

// The distance the kernel sees between points a and b: sum over k of ils_k sqd_k(a, b).
double scaled_sqd(const GpKernelParams& p, const std::vector<bool>& is_categorical,
                  const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0.0;
  for (size_t k = 0; k < is_categorical.size(); ++k) {
    s += p.inverse_squared_lengthscales[k] * sqd(is_categorical, k, a[k], b[k]);
  }
  return s;
}

// The covariance K + noise I of data.x (n x n, row-major), and the scaled distances into r
// when r is not null.
std::vector<double> covariance(const GpData& data, const GpKernelParams& p,
                               std::vector<double>* r = nullptr) {
  const size_t n = data.x.size();
  std::vector<double> c(n * n);
  if (r != nullptr) {
    r->assign(n * n, 0.0);
  }
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j <= i; ++j) {
      const double dist = i == j ? 0.0 : scaled_sqd(p, data.is_categorical, data.x[i], data.x[j]);
      c[i * n + j] = c[j * n + i] = p.kernel_scale * matern52(dist);
      if (r != nullptr) {
        (*r)[i * n + j] = (*r)[j * n + i] = dist;
      }
    }
    c[i * n + i] += p.noise_var;
  }
  return c;
}

// -log p(y | x) without its constant, from the covariance's Cholesky factor l and
// alpha = C^-1 y: sum of log l_ii + y . alpha / 2.
double neg_log_likelihood(const std::vector<double>& l, const std::vector<double>& alpha,
                          const std::vector<double>& y) {
  const size_t n = y.size();
  double out = 0.0;
  for (size_t i = 0; i < n; ++i) {
    out += std::log(l[i * n + i]) + 0.5 * y[i] * alpha[i];
  }
  return out;
}

// In-place lower Cholesky factor of the n x n row-major a; false if a is not positive definite.
bool cholesky(std::vector<double>& a, size_t n) {
  for (size_t j = 0; j < n; ++j) {
    double d = a[j * n + j];
    for (size_t k = 0; k < j; ++k) {
      d -= a[j * n + k] * a[j * n + k];
    }
    if (!(d > 0.0) || !std::isfinite(d)) {
      return false;
    }
    const double l = std::sqrt(d);
    a[j * n + j] = l;
    for (size_t i = j + 1; i < n; ++i) {
      double s = a[i * n + j];
      for (size_t k = 0; k < j; ++k) {
        s -= a[i * n + k] * a[j * n + k];
      }
      a[i * n + j] = s / l;
    }
    for (size_t k = j + 1; k < n; ++k) {
      a[j * n + k] = 0.0;
    }
  }
  return true;
}

// Solves L v = b (forward), then, with both, L^T x = v (backward): x = (L L^T)^-1 b.
std::vector<double> forward(const std::vector<double>& l, size_t n, std::vector<double> b) {
  for (size_t i = 0; i < n; ++i) {
    for (size_t k = 0; k < i; ++k) {
      b[i] -= l[i * n + k] * b[k];
    }
    b[i] /= l[i * n + i];
  }
  return b;
}
std::vector<double> backward(const std::vector<double>& l, size_t n, std::vector<double> v) {
  for (size_t i = n; i-- > 0;) {
    for (size_t k = i + 1; k < n; ++k) {
      v[i] -= l[k * n + i] * v[k];
    }
    v[i] /= l[i * n + i];
  }
  return v;
}
std::vector<double> solve(const std::vector<double>& l, size_t n, std::vector<double> b) {
  return backward(l, n, forward(l, n, std::move(b)));
}

GpKernelParams params_of(const std::vector<double>& raw, size_t d, bool deterministic) {
  GpKernelParams p;
  for (size_t k = 0; k < d; ++k) {
    p.inverse_squared_lengthscales.push_back(std::exp(raw[k]));
  }
  p.kernel_scale = std::exp(raw[d]);
  p.noise_var = deterministic ? k_gp_minimum_noise : std::exp(raw[d + 1]) + k_gp_minimum_noise;
  return p;
}

}  // namespace

double gp_fit_loss(const GpData& data, const std::vector<double>& raw, bool deterministic,
                   std::vector<double>* grad) {
  const size_t n = data.x.size();
  const size_t d = data.is_categorical.size();
  const GpKernelParams p = params_of(raw, d, deterministic);
  // The scaled squared distances r and the covariance C = K + noise I.
  std::vector<double> r;
  const std::vector<double> c = covariance(data, p, &r);
  std::vector<double> l = c;
  if (!cholesky(l, n)) {
    return std::numeric_limits<double>::infinity();
  }
  const std::vector<double> alpha = solve(l, n, data.y);
  double loss = neg_log_likelihood(l, alpha, data.y);
  // Optuna's prior (prior.py), negated.
  for (double ils : p.inverse_squared_lengthscales) {
    loss += 0.1 / ils + 0.1 * ils;
  }
  loss -= std::log(p.kernel_scale) - p.kernel_scale;
  loss -= 0.1 * std::log(p.noise_var) - 30.0 * p.noise_var;
  if (grad == nullptr) {
    return loss;
  }
  // d loss / d theta = -1/2 sum_ij W_ij dC_ij/dtheta, W = alpha alpha^T - C^-1, with
  // C^-1 = L^-T L^-1 from the triangular inverse (n^3 / 3 in all).
  std::vector<double> linv_t(n * n, 0.0);  // (L^-1)^T: column j of L^-1 is row j here.
  for (size_t j = 0; j < n; ++j) {
    double* col = &linv_t[j * n];
    col[j] = 1.0 / l[j * n + j];
    for (size_t i = j + 1; i < n; ++i) {
      double acc = 0.0;
      for (size_t k = j; k < i; ++k) {
        acc -= l[i * n + k] * col[k];
      }
      col[i] = acc / l[i * n + i];
    }
  }
  std::vector<double> w(n * n);
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j <= i; ++j) {
      double inverse = 0.0;  // (C^-1)_ij = sum over k >= i of (L^-1)_ki (L^-1)_kj.
      for (size_t k = i; k < n; ++k) {
        inverse += linv_t[i * n + k] * linv_t[j * n + k];
      }
      w[i * n + j] = w[j * n + i] = alpha[i] * alpha[j] - inverse;
    }
  }
  grad->assign(d + 2, 0.0);
  double wk = 0.0;     // sum W_ij K_ij
  double trace = 0.0;  // sum W_ii
  for (size_t i = 0; i < n; ++i) {
    trace += w[i * n + i];
    for (size_t j = 0; j < n; ++j) {
      const double kij = c[i * n + j] - (i == j ? p.noise_var : 0.0);
      wk += w[i * n + j] * kij;
      if (i == j) {
        continue;
      }
      const double base = w[i * n + j] * p.kernel_scale * matern52_deriv(r[i * n + j]);
      for (size_t k = 0; k < d; ++k) {
        (*grad)[k] += base * p.inverse_squared_lengthscales[k] *
                      sqd(data.is_categorical, k, data.x[i][k], data.x[j][k]);
      }
    }
  }
  for (size_t k = 0; k < d; ++k) {
    const double ils = p.inverse_squared_lengthscales[k];
    (*grad)[k] = -0.5 * (*grad)[k] - 0.1 / ils + 0.1 * ils;
  }
  (*grad)[d] = -0.5 * wk - (1.0 - p.kernel_scale);
  if (!deterministic) {
    const double e = p.noise_var - k_gp_minimum_noise;
    (*grad)[d + 1] = -0.5 * trace * e - (0.1 / p.noise_var - 30.0) * e;
  }
  return loss;
}

GpKernelParams fit_gp_kernel_params(const GpData& data, bool deterministic) {
  const size_t d = data.is_categorical.size();
  // Optuna's start: every parameter 1 (the noise a hundredth of the minimum above it).
  std::vector<double> start(d + 2, 0.0);
  start[d + 1] = std::log(1.0 - 0.99 * k_gp_minimum_noise);
  LbfgsOptions o;
  o.gtol = 1e-2;
  const LbfgsResult r = minimize_lbfgs(
      [&](const std::vector<double>& raw, std::vector<double>& g) {
        return gp_fit_loss(data, raw, deterministic, &g);
      },
      start, o);
  // A search that stopped early still counts if it found a better, finite point.
  const double at_start = gp_fit_loss(data, start, deterministic, nullptr);
  const bool usable = std::isfinite(r.f) && (r.converged || r.f < at_start);
  return params_of(usable ? r.x : start, d, deterministic);
}

GpRegressor::GpRegressor(GpData data, GpKernelParams params)
    : m_data(std::move(data)), m_params(std::move(params)) {
  factor();
}

void GpRegressor::factor() {
  const size_t n = m_data.x.size();
  m_chol = covariance(m_data, m_params);
  if (!cholesky(m_chol, n)) {
    throw std::runtime_error("the Gaussian process covariance is not positive definite");
  }
  m_alpha = solve(m_chol, n, m_data.y);
}

void GpRegressor::posterior(const std::vector<double>& x, double& mean, double& var,
                            std::vector<double>* dmean, std::vector<double>* dvar) const {
  const size_t n = m_data.x.size();
  const size_t d = x.size();
  std::vector<double> k(n);
  std::vector<double> r(n);
  for (size_t i = 0; i < n; ++i) {
    r[i] = scaled_sqd(m_params, m_data.is_categorical, x, m_data.x[i]);
    k[i] = m_params.kernel_scale * matern52(r[i]);
  }
  mean = 0.0;
  for (size_t i = 0; i < n; ++i) {
    mean += k[i] * m_alpha[i];
  }
  const std::vector<double> v = forward(m_chol, n, k);
  double explained = 0.0;
  for (double vi : v) {
    explained += vi * vi;
  }
  var = std::max(0.0, m_params.kernel_scale - explained);
  if (dmean == nullptr && dvar == nullptr) {
    return;
  }
  const std::vector<double> ck = backward(m_chol, n, v);  // C^-1 k
  if (dmean != nullptr) {
    dmean->assign(d, 0.0);
  }
  if (dvar != nullptr) {
    dvar->assign(d, 0.0);
  }
  for (size_t i = 0; i < n; ++i) {
    const double base = m_params.kernel_scale * matern52_deriv(r[i]) * 2.0;
    for (size_t j = 0; j < d; ++j) {
      if (m_data.is_categorical[j]) {
        continue;
      }
      const double dk = base * m_params.inverse_squared_lengthscales[j] * (x[j] - m_data.x[i][j]);
      if (dmean != nullptr) {
        (*dmean)[j] += dk * m_alpha[i];
      }
      if (dvar != nullptr) {
        (*dvar)[j] -= 2.0 * ck[i] * dk;
      }
    }
  }
}

std::vector<double> GpRegressor::add_believed_points(
    const std::vector<std::vector<double>>& points) {
  std::vector<double> means;
  if (points.empty()) {
    return means;
  }
  for (const auto& p : points) {
    double mean = 0.0;
    double var = 0.0;
    posterior(p, mean, var);
    means.push_back(mean);
  }
  for (size_t i = 0; i < points.size(); ++i) {
    m_data.x.push_back(points[i]);
    m_data.y.push_back(means[i]);
  }
  factor();
  return means;
}

double GpRegressor::marginal_log_likelihood() const {
  return -neg_log_likelihood(m_chol, m_alpha, m_data.y);
}

std::vector<double> GpRegressor::length_scales() const {
  std::vector<double> out;
  for (double ils : m_params.inverse_squared_lengthscales) {
    out.push_back(1.0 / std::sqrt(ils));
  }
  return out;
}

}  // namespace hpt
