#include "hpt/tuner/parzen_estimator.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <utility>

#include "hpt/tuner/truncnorm.hpp"

namespace hpt {

namespace {

constexpr double k_eps = 1e-12;
constexpr double k_sigma0_magnitude = 0.2;
constexpr double k_log_sqrt_2pi = 0.91893853320467274178;
constexpr double k_neg_inf = -std::numeric_limits<double>::infinity();

using Kind = ParamTransform::Kind;

// Index of the first cumulative weight above u * total (weighted choice).
int weighted_pick(const std::vector<double>& cumulative, double u) {
  double target = u * cumulative.back();
  auto it = std::upper_bound(cumulative.begin(), cumulative.end(), target);
  return static_cast<int>(std::min<std::ptrdiff_t>(
      it - cumulative.begin(), static_cast<std::ptrdiff_t>(cumulative.size()) - 1));
}

}  // namespace

std::vector<double> default_weights(int n) {
  if (n < 25) {
    return std::vector<double>(static_cast<size_t>(std::max(n, 0)), 1.0);
  }
  std::vector<double> w(static_cast<size_t>(n), 1.0);
  int ramp = n - 25;
  double start = 1.0 / n;
  for (int i = 0; i < ramp; ++i) {
    w[i] = ramp == 1 ? start : start + (1.0 - start) * i / (ramp - 1);
  }
  return w;
}

ParzenEstimator::ParzenEstimator(std::vector<ParamTransform> params,
                                 const std::vector<double>& observations,
                                 const ParzenOptions& options, const std::vector<double>& weights)
    : m_params(std::move(params)), m_normalize_scale(options.normalize_scale) {
  const int d = n_params();
  if (d == 0 || observations.size() % d != 0) {
    throw std::invalid_argument("ParzenEstimator: observations do not match the parameters");
  }
  m_n_obs = static_cast<int>(observations.size() / d);
  const bool with_prior = options.consider_prior || m_n_obs == 0;

  if (!weights.empty() && weights.size() != static_cast<size_t>(m_n_obs)) {
    throw std::invalid_argument("ParzenEstimator: one weight per observation is needed");
  }
  m_weights = weights.empty() ? default_weights(m_n_obs) : weights;
  if (with_prior) {
    m_weights.push_back(options.prior_weight);
  }
  double total = std::accumulate(m_weights.begin(), m_weights.end(), 0.0);
  for (double& w : m_weights) {
    w /= total;
  }

  const double sigma0 = k_sigma0_magnitude * std::pow(std::max(m_n_obs, 1), -1.0 / (d + 4));
  m_mus.resize(d);
  m_sigmas.resize(d);
  m_categorical.resize(d);
  std::vector<double> column(m_n_obs);
  for (int j = 0; j < d; ++j) {
    for (int i = 0; i < m_n_obs; ++i) {
      column[i] = observations[static_cast<size_t>(i) * d + j];
    }
    if (m_params[j].kind == Kind::Categorical) {
      compute_categorical(j, column, with_prior, options);
    } else {
      compute_numerical(j, column, with_prior, options, sigma0);
    }
  }
  build_evaluation();
}

void ParzenEstimator::compute_numerical(int j, const std::vector<double>& obs, bool with_prior,
                                        const ParzenOptions& options, double sigma0) {
  const ParamTransform& p = m_params[j];
  const double low = p.low;
  const double high = p.high;
  std::vector<double>& mus = m_mus[j];
  std::vector<double>& sigmas = m_sigmas[j];
  mus = obs;
  const bool prior_neighbour = with_prior && (options.prior_in_bandwidth || obs.empty());
  if (prior_neighbour) {
    mus.push_back(0.5 * low + 0.5 * high);  // low + high may overflow.
  }
  const size_t n = mus.size();
  sigmas.assign(n, 0.0);
  if (options.multivariate) {
    std::fill(sigmas.begin(), sigmas.end(), sigma0 * (high - low));
  } else {
    // Bandwidth = the larger distance to a sorted neighbour (the bounds act as neighbours).
    std::vector<std::pair<double, size_t>> by_mu(n);
    for (size_t k = 0; k < n; ++k) {
      by_mu[k] = {mus[k], k};
    }
    std::sort(by_mu.begin(), by_mu.end());  // Ties by index: a stable sort by mu.
    std::vector<size_t> order(n);
    std::vector<double> sorted(n + 2);
    sorted[0] = low;
    for (size_t k = 0; k < n; ++k) {
      order[k] = by_mu[k].second;
      sorted[k + 1] = by_mu[k].first;
    }
    sorted[n + 1] = high;
    std::vector<double> sorted_sigmas(n);
    for (size_t k = 0; k < n; ++k) {
      sorted_sigmas[k] = std::max(sorted[k + 1] - sorted[k], sorted[k + 2] - sorted[k + 1]);
    }
    if (!options.consider_endpoints && n >= 2) {
      sorted_sigmas[0] = sorted[2] - sorted[1];
      sorted_sigmas[n - 1] = sorted[n] - sorted[n - 1];
    }
    for (size_t k = 0; k < n; ++k) {
      sigmas[order[k]] = sorted_sigmas[k];
    }
    m_sorted_order = std::move(order);
  }
  const double max_sigma = high - low;
  const size_t n_kernels = obs.size() + (with_prior ? 1 : 0);
  const double min_sigma =
      options.consider_magic_clip
          ? (high - low) / std::min(100.0, 1.0 + static_cast<double>(n_kernels))
          : k_eps;
  for (double& s : sigmas) {
    s = std::min(std::max(s, min_sigma), max_sigma);
  }
  if (with_prior && !prior_neighbour) {
    mus.push_back(0.5 * low + 0.5 * high);  // low + high may overflow.
    sigmas.push_back(high - low);
    if (!options.multivariate) {
      m_sorted_order.clear();  // The prior is not in the sorted order: build_evaluation sorts.
    }
  } else if (with_prior) {
    sigmas.back() = high - low;
  }
}

void ParzenEstimator::compute_categorical(int j, const std::vector<double>& obs, bool with_prior,
                                          const ParzenOptions& options) {
  const int k = m_params[j].n_choices;
  const int n = m_n_obs;
  const int rows = with_prior ? n + 1 : n;
  const double fill = options.prior_weight / rows;
  std::vector<double>& w = m_categorical[j];
  w.assign(static_cast<size_t>(rows) * k, fill);
  for (int i = 0; i < n; ++i) {
    w[static_cast<size_t>(i) * k + static_cast<int>(obs[i])] += 1.0;
  }
  for (int i = 0; i < rows; ++i) {
    double* row = &w[static_cast<size_t>(i) * k];
    double sum = std::accumulate(row, row + k, 0.0);
    for (int c = 0; c < k; ++c) {
      row[c] /= sum;
    }
  }
}

void ParzenEstimator::build_evaluation() {
  const int d = n_params();
  m_eval_mus.assign(d, {});
  m_eval_sigmas.assign(d, {});
  m_eval_inv_sigmas.assign(d, {});
  m_eval_log_norm.assign(d, {});
  m_eval_cat_log.assign(d, {});
  m_eval_cat.assign(d, {});
  m_marginal.clear();
  const std::vector<double> weights = evaluation_components();
  const int m = static_cast<int>(weights.size());
  m_eval_log_weights.resize(m);
  m_eval_cumulative.resize(m);
  double cumulative = 0.0;
  for (int i = 0; i < m; ++i) {
    m_eval_log_weights[i] = std::log(weights[i]);
    cumulative += weights[i];
    m_eval_cumulative[i] = cumulative;
  }
  if (m_marginal.empty()) {
    for (int j = 0; j < d; ++j) {
      build_param_terms(j, m);
    }
  }
}

std::vector<double> ParzenEstimator::evaluation_components() {
  const int d = n_params();
  const int n = n_components();
  if (d == 1 && m_params[0].kind == Kind::Categorical) {
    // One categorical: the mixture is just a distribution over choices.
    const int k = m_params[0].n_choices;
    m_marginal.assign(k, 0.0);
    for (int i = 0; i < n; ++i) {
      for (int c = 0; c < k; ++c) {
        m_marginal[c] += m_weights[i] * m_categorical[0][static_cast<size_t>(i) * k + c];
      }
    }
    return {1.0};
  }
  if (d != 1) {
    m_eval_mus = m_mus;
    m_eval_sigmas = m_sigmas;
    return m_weights;
  }
  // One numerical parameter: merge identical (mu, sigma) components (common on grids).
  // Components sorted by mu (the bandwidth computation's order; in multivariate mode,
  // sort here): equal (mu, sigma) neighbours merge into one.
  std::vector<size_t> order = m_sorted_order;
  const auto& mus = m_mus[0];
  const auto& sigmas = m_sigmas[0];
  if (order.size() != static_cast<size_t>(n)) {
    order.resize(n);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return mus[a] < mus[b]; });
  }
  std::vector<double> merged_weights;
  for (size_t i : order) {
    if (!merged_weights.empty() && m_eval_mus[0].back() == mus[i] &&
        m_eval_sigmas[0].back() == sigmas[i]) {
      merged_weights.back() += m_weights[i];
    } else {
      m_eval_mus[0].push_back(mus[i]);
      m_eval_sigmas[0].push_back(sigmas[i]);
      merged_weights.push_back(m_weights[i]);
    }
  }
  return merged_weights;
}

void ParzenEstimator::build_param_terms(int j, int m) {
  const ParamTransform& p = m_params[j];
  if (p.kind == Kind::Categorical) {
    const int k = p.n_choices;
    m_eval_cat[j] = m_categorical[j];
    m_eval_cat_log[j].resize(static_cast<size_t>(k) * m);
    for (int i = 0; i < m; ++i) {
      for (int c = 0; c < k; ++c) {
        m_eval_cat_log[j][static_cast<size_t>(c) * m + i] =
            std::log(m_categorical[j][static_cast<size_t>(i) * k + c]);
      }
    }
    return;
  }
  m_eval_inv_sigmas[j].resize(m);
  m_eval_log_norm[j].resize(m);
  for (int i = 0; i < m; ++i) {
    const double mu = m_eval_mus[j][i];
    const double s = m_eval_sigmas[j][i];
    const double log_mass = truncnorm::log_gauss_mass((p.low - mu) / s, (p.high - mu) / s);
    m_eval_inv_sigmas[j][i] = 1.0 / s;
    m_eval_log_norm[j][i] = p.kind == Kind::Continuous ? log_mass + k_log_sqrt_2pi +
                                                             (m_normalize_scale ? std::log(s) : 0.0)
                                                       : log_mass;
  }
}

std::vector<double> ParzenEstimator::sample(Rng& rng, int count) const {
  const int d = n_params();
  std::vector<double> out(static_cast<size_t>(count) * d);
  for (int s = 0; s < count; ++s) {
    const int active = weighted_pick(m_eval_cumulative, uniform01(rng));
    for (int j = 0; j < d; ++j) {
      const ParamTransform& p = m_params[j];
      double value;
      if (p.kind == Kind::Categorical) {
        const int k = p.n_choices;
        const double* probs = m_marginal.empty() ? &m_eval_cat[j][static_cast<size_t>(active) * k]
                                                 : m_marginal.data();
        const double u = uniform01(rng);
        double acc = 0.0;
        int c = 0;
        while (c < k - 1 && (acc += probs[c]) < u) {  // The first choice with cum. prob >= u.
          ++c;
        }
        value = c;
      } else {
        const double mu = m_eval_mus[j][active];
        const double sigma = m_eval_sigmas[j][active];
        const double z =
            truncnorm::ppf(uniform01(rng), (p.low - mu) / sigma, (p.high - mu) / sigma);
        value = to_transformed(p, from_transformed(p, mu + sigma * z));
      }
      out[static_cast<size_t>(s) * d + j] = value;
    }
  }
  return out;
}

std::vector<double> ParzenEstimator::log_pdf(const std::vector<double>& samples) const {
  const int d = n_params();
  const int count = static_cast<int>(samples.size() / d);
  std::vector<double> out(count);
  if (!m_marginal.empty()) {
    for (int s = 0; s < count; ++s) {
      out[s] = std::log(m_marginal[static_cast<size_t>(samples[s])]);
    }
    return out;
  }
  const int m = static_cast<int>(m_eval_log_weights.size());
  std::vector<double> acc(static_cast<size_t>(m));
  for (int s = 0; s < count; ++s) {
    std::copy(m_eval_log_weights.begin(), m_eval_log_weights.end(), acc.begin());
    for (int j = 0; j < d; ++j) {
      const ParamTransform& p = m_params[j];
      const double x = samples[static_cast<size_t>(s) * d + j];
      if (p.kind == Kind::Categorical) {
        const double* row = &m_eval_cat_log[j][static_cast<size_t>(x) * m];
        for (int i = 0; i < m; ++i) {
          acc[i] += row[i];
        }
        continue;
      }
      const double* mus = m_eval_mus[j].data();
      const double* inv = m_eval_inv_sigmas[j].data();
      const double* norm = m_eval_log_norm[j].data();
      if (x < p.low || x > p.high) {
        std::fill(acc.begin(), acc.end(), k_neg_inf);
      } else if (p.kind == Kind::Continuous) {
        for (int i = 0; i < m; ++i) {
          const double z = (x - mus[i]) * inv[i];
          acc[i] += -0.5 * z * z - norm[i];
        }
      } else {
        const double lower = std::max(x - 0.5 * p.step, p.low);
        const double upper = std::min(x + 0.5 * p.step, p.high);
        for (int i = 0; i < m; ++i) {
          acc[i] +=
              truncnorm::log_gauss_mass((lower - mus[i]) * inv[i], (upper - mus[i]) * inv[i]) -
              norm[i];
        }
      }
    }
    const double top = *std::max_element(acc.begin(), acc.end());
    if (top == k_neg_inf) {
      out[s] = k_neg_inf;
      continue;
    }
    // Terms below e^-40 of the largest cannot change the sum in double precision.
    const double cutoff = top - 40.0;
    double sum = 0.0;
    for (int i = 0; i < m; ++i) {
      if (acc[i] > cutoff) {
        sum += std::exp(acc[i] - top);
      }
    }
    out[s] = top + std::log(sum);
  }
  return out;
}

}  // namespace hpt
