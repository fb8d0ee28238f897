#include "hpt/tuner/cma.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "hpt/tuner/symmetric_eigen.hpp"
#include "hpt/tuner/truncnorm.hpp"

namespace hpt {

namespace {

constexpr double k_eps = 1e-8;
constexpr double k_sigma_max = 1e32;
constexpr double k_tolxup = 1e4;
constexpr double k_tolfun = 1e-12;
constexpr double k_tolconditioncov = 1e14;

// A standard normal draw by inversion of a uniform in (0, 1): the same on every platform.
double standard_normal(Rng& rng) {
  return truncnorm::ndtri((static_cast<double>(rng() >> 11) + 0.5) * 0x1.0p-53);
}

double sum(const std::vector<double>& v, size_t from, size_t to) {
  double s = 0.0;
  for (size_t i = from; i < to; ++i) {
    s += v[i];
  }
  return s;
}

}  // namespace

Cma::Cma(std::vector<double> mean, double sigma, std::vector<double> lower,
         std::vector<double> upper, int population_size, int n_max_resampling)
    : m_n(mean.size()),
      m_mean(std::move(mean)),
      m_sigma(sigma),
      m_lower(std::move(lower)),
      m_upper(std::move(upper)),
      m_n_max_resampling(n_max_resampling) {
  if (m_n == 0 || m_lower.size() != m_n || m_upper.size() != m_n) {
    throw std::invalid_argument("CMA-ES: mean and bounds need one entry per dimension");
  }
  if (!(sigma > 0) || !std::isfinite(sigma)) {
    throw std::invalid_argument(fmt::format("CMA-ES: sigma must be positive, got {}", sigma));
  }
  const double n = static_cast<double>(m_n);
  m_popsize =
      population_size > 0 ? population_size : 4 + static_cast<int>(std::floor(3 * std::log(n)));
  if (m_popsize < 2) {
    throw std::invalid_argument("CMA-ES: the population needs at least 2 solutions");
  }
  m_mu = m_popsize / 2;
  std::vector<double> w(static_cast<size_t>(m_popsize));  // (eq. 49)
  for (int i = 0; i < m_popsize; ++i) {
    w[i] = std::log((m_popsize + 1) / 2.0) - std::log(i + 1.0);
  }
  auto effective = [&](size_t from, size_t to) {
    double s2 = 0.0;
    for (size_t i = from; i < to; ++i) {
      s2 += w[i] * w[i];
    }
    const double s = sum(w, from, to);
    return s * s / s2;
  };
  const size_t mu = static_cast<size_t>(m_mu);
  m_mu_eff = effective(0, mu);
  const double mu_eff_minus = effective(mu, w.size());
  const double alpha_cov = 2.0;
  m_c1 = alpha_cov / ((n + 1.3) * (n + 1.3) + m_mu_eff);  // Rank-one learning rate.
  m_cmu = std::min(1 - m_c1 - 1e-8, alpha_cov * (m_mu_eff - 2 + 1 / m_mu_eff) /
                                        ((n + 2) * (n + 2) + alpha_cov * m_mu_eff / 2));
  const double min_alpha = std::min({1 + m_c1 / m_cmu, 1 + 2 * mu_eff_minus / (m_mu_eff + 2),
                                     (1 - m_c1 - m_cmu) / (n * m_cmu)});  // (eq. 50-52)
  double positive = 0.0;
  double negative = 0.0;
  for (double x : w) {
    (x > 0 ? positive : negative) += std::abs(x);
  }
  m_weights.resize(w.size());  // (eq. 53)
  for (size_t i = 0; i < w.size(); ++i) {
    m_weights[i] = w[i] >= 0 ? w[i] / positive : min_alpha / negative * w[i];
  }
  m_c_sigma = (m_mu_eff + 2) / (n + m_mu_eff + 5);  // (eq. 55)
  m_d_sigma = 1 + 2 * std::max(0.0, std::sqrt((m_mu_eff - 1) / (n + 1)) - 1) + m_c_sigma;
  m_cc = (4 + m_mu_eff / n) / (n + 4 + 2 * m_mu_eff / n);                   // (eq. 56)
  m_chi_n = std::sqrt(n) * (1.0 - 1.0 / (4.0 * n) + 1.0 / (21.0 * n * n));  // E||N(0, I)||
  m_p_sigma.assign(m_n, 0.0);
  m_pc.assign(m_n, 0.0);
  m_C.assign(m_n * m_n, 0.0);
  for (size_t i = 0; i < m_n; ++i) {
    m_C[i * m_n + i] = 1.0;
  }
  m_tolx = 1e-12 * sigma;
  m_funhist_term = 10 + static_cast<int>(std::ceil(30 * n / m_popsize));
  m_funhist.assign(2 * static_cast<size_t>(m_funhist_term), 0.0);
}

void Cma::decompose() {
  if (m_decomposed) {
    return;
  }
  const size_t n = m_n;
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = i + 1; j < n; ++j) {
      m_C[i * n + j] = m_C[j * n + i] = (m_C[i * n + j] + m_C[j * n + i]) / 2;
    }
  }
  SymmetricEigen e = symmetric_eigen(m_C, n);
  m_B = std::move(e.vectors);
  m_D.resize(n);
  for (size_t i = 0; i < n; ++i) {
    m_D[i] = std::sqrt(e.values[i] < 0 ? k_eps : e.values[i]);
  }
  for (size_t i = 0; i < n; ++i) {  // C = B diag(D²) Bᵀ
    for (size_t j = 0; j < n; ++j) {
      double s = 0.0;
      for (size_t k = 0; k < n; ++k) {
        s += m_B[i * n + k] * m_D[k] * m_D[k] * m_B[j * n + k];
      }
      m_C[i * n + j] = s;
    }
  }
  m_decomposed = true;
}

std::vector<double> Cma::ask(Rng& rng) {
  decompose();
  std::vector<double> x(m_n);
  std::vector<double> z(m_n);
  for (int attempt = 0;; ++attempt) {
    for (double& v : z) {
      v = standard_normal(rng);
    }
    bool feasible = true;
    for (size_t i = 0; i < m_n; ++i) {  // x = m + σ B D z
      double y = 0.0;
      for (size_t k = 0; k < m_n; ++k) {
        y += m_B[i * m_n + k] * m_D[k] * z[k];
      }
      x[i] = m_mean[i] + m_sigma * y;
      feasible = feasible && x[i] >= m_lower[i] && x[i] <= m_upper[i];
    }
    if (feasible) {
      return x;
    }
    for (size_t i = 0; i < m_n; ++i) {  // A draw of an overflowed distribution: its mean.
      if (!std::isfinite(x[i])) {
        x[i] = m_mean[i];
      }
    }
    if (attempt >= m_n_max_resampling) {
      for (size_t i = 0; i < m_n; ++i) {
        x[i] = std::min(std::max(x[i], m_lower[i]), m_upper[i]);
      }
      return x;
    }
  }
}

void Cma::tell(std::vector<std::pair<std::vector<double>, double>> solutions) {
  if (solutions.size() != static_cast<size_t>(m_popsize)) {
    throw std::invalid_argument(
        fmt::format("CMA-ES: tell needs {} solutions, got {}", m_popsize, solutions.size()));
  }
  for (const auto& s : solutions) {
    if (s.first.size() != m_n) {
      throw std::invalid_argument("CMA-ES: a solution of another dimension");
    }
  }
  const Cma before = *this;
  update(std::move(solutions));
  if (!finite()) {      // An update that overflowed (a step size near 0 or a hostile history)
    const int g = m_g;  // changes nothing but the generation count.
    *this = before;
    m_g = g;
  }
}

bool Cma::finite() const {
  auto all = [](const std::vector<double>& v) {
    return std::all_of(v.begin(), v.end(), [](double x) { return std::isfinite(x); });
  };
  return std::isfinite(m_sigma) && m_sigma > 0 && all(m_mean) && all(m_C) && all(m_p_sigma) &&
         all(m_pc);
}

void Cma::update(std::vector<std::pair<std::vector<double>, double>> solutions) {
  const size_t n = m_n;
  ++m_g;
  std::stable_sort(solutions.begin(), solutions.end(), [](const auto& a, const auto& b) {
    return !std::isnan(a.second) && (std::isnan(b.second) || a.second < b.second);
  });
  const size_t fi = 2 * static_cast<size_t>(m_g % m_funhist_term);
  m_funhist[fi] = solutions.front().second;
  m_funhist[fi + 1] = solutions.back().second;

  decompose();
  m_decomposed = false;
  std::vector<std::vector<double>> y(solutions.size(), std::vector<double>(n));
  for (size_t k = 0; k < solutions.size(); ++k) {
    for (size_t i = 0; i < n; ++i) {
      y[k][i] = (solutions[k].first[i] - m_mean[i]) / m_sigma;  // ~ N(0, C)
    }
  }
  std::vector<double> y_w(n, 0.0);  // (eq. 41)
  for (size_t k = 0; k < static_cast<size_t>(m_mu); ++k) {
    for (size_t i = 0; i < n; ++i) {
      y_w[i] += m_weights[k] * y[k][i];
    }
  }
  for (size_t i = 0; i < n; ++i) {
    m_mean[i] += m_sigma * y_w[i];  // c_m = 1
  }
  // C^(-1/2) v = B D^-1 Bᵀ v
  auto inv_sqrt_c = [&](const std::vector<double>& v) {
    std::vector<double> t(n, 0.0);
    std::vector<double> out(n, 0.0);
    for (size_t k = 0; k < n; ++k) {
      for (size_t i = 0; i < n; ++i) {
        t[k] += m_B[i * n + k] * v[i];
      }
      t[k] /= m_D[k];
    }
    for (size_t i = 0; i < n; ++i) {
      for (size_t k = 0; k < n; ++k) {
        out[i] += m_B[i * n + k] * t[k];
      }
    }
    return out;
  };
  const std::vector<double> c2_yw = inv_sqrt_c(y_w);
  const double ps_scale = std::sqrt(m_c_sigma * (2 - m_c_sigma) * m_mu_eff);
  double norm2 = 0.0;
  for (size_t i = 0; i < n; ++i) {
    m_p_sigma[i] = (1 - m_c_sigma) * m_p_sigma[i] + ps_scale * c2_yw[i];
    norm2 += m_p_sigma[i] * m_p_sigma[i];
  }
  const double norm_p_sigma = std::sqrt(norm2);
  m_sigma *= std::exp((m_c_sigma / m_d_sigma) * (norm_p_sigma / m_chi_n - 1));
  m_sigma = std::min(m_sigma, k_sigma_max);

  const double left = norm_p_sigma / std::sqrt(1 - std::pow(1 - m_c_sigma, 2.0 * (m_g + 1)));
  const double right = (1.4 + 2.0 / (static_cast<double>(n) + 1)) * m_chi_n;
  const double h_sigma = left < right ? 1.0 : 0.0;  // (p. 28)
  const double pc_scale = h_sigma * std::sqrt(m_cc * (2 - m_cc) * m_mu_eff);
  for (size_t i = 0; i < n; ++i) {  // (eq. 45)
    m_pc[i] = (1 - m_cc) * m_pc[i] + pc_scale * y_w[i];
  }
  std::vector<double> w_io(m_weights);  // (eq. 46)
  for (size_t k = 0; k < w_io.size(); ++k) {
    if (m_weights[k] < 0) {
      const std::vector<double> c2y = inv_sqrt_c(y[k]);
      double sq = 0.0;
      for (double v : c2y) {
        sq += v * v;
      }
      w_io[k] *= static_cast<double>(n) / (sq + k_eps);
    }
  }
  const double delta_h_sigma = (1 - h_sigma) * m_cc * (2 - m_cc);
  const double keep = 1 + m_c1 * delta_h_sigma - m_c1 - m_cmu * sum(m_weights, 0, m_weights.size());
  for (size_t i = 0; i < n; ++i) {  // (eq. 47)
    for (size_t j = 0; j < n; ++j) {
      double rank_mu = 0.0;
      for (size_t k = 0; k < y.size(); ++k) {
        rank_mu += w_io[k] * y[k][i] * y[k][j];
      }
      m_C[i * n + j] = keep * m_C[i * n + j] + m_c1 * m_pc[i] * m_pc[j] + m_cmu * rank_mu;
    }
  }
}

bool Cma::should_stop() {
  decompose();
  const size_t n = m_n;
  if (m_g > m_funhist_term) {
    const auto [lo, hi] = std::minmax_element(m_funhist.begin(), m_funhist.end());
    if (*hi - *lo < k_tolfun) {
      return true;
    }
  }
  bool tiny = true;
  for (size_t i = 0; i < n; ++i) {
    tiny = tiny && m_sigma * m_C[i * n + i] < m_tolx && m_sigma * m_pc[i] < m_tolx;
  }
  if (tiny) {
    return true;
  }
  const double d_max = *std::max_element(m_D.begin(), m_D.end());
  const double d_min = *std::min_element(m_D.begin(), m_D.end());
  if (m_sigma * d_max > k_tolxup) {
    return true;
  }
  for (size_t i = 0; i < n; ++i) {  // No effect coordinate.
    if (m_mean[i] == m_mean[i] + 0.2 * m_sigma * std::sqrt(m_C[i * n + i])) {
      return true;
    }
  }
  const size_t axis = static_cast<size_t>(m_g) % n;  // No effect axis (one a generation).
  bool no_effect = true;
  for (size_t i = 0; i < n; ++i) {
    no_effect = no_effect && m_mean[i] == m_mean[i] + 0.1 * m_sigma * m_D[axis] * m_B[i * n + axis];
  }
  return no_effect || d_max / d_min > k_tolconditioncov;
}

}  // namespace hpt
