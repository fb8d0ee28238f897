#include "hpt/tuner/gp_acquisition.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "hpt/tuner/lbfgs.hpp"
#include "hpt/tuner/param_transform.hpp"
#include "hpt/tuner/qmc_sequence.hpp"
#include "hpt/tuner/truncnorm.hpp"

namespace hpt {

namespace {

constexpr double k_stabilizing_noise = 1e-12;  // Optuna's LogEI adds it to the variance.
const double k_sqrt_half = std::sqrt(0.5);
const double k_log_sqrt_2pi = 0.5 * std::log(2.0 * M_PI);
const double k_sqrt_half_pi = std::sqrt(0.5 * M_PI);

// erfc(x) * exp(x^2) for x >= 0: from erfc below 10, else its continued fraction
// 1/sqrt(pi) / (x + (1/2) / (x + 1 / (x + (3/2) / (x + ...)))), evaluated from its 60th term.
double erfcx(double x) {
  if (x < 10.0) {
    return std::erfc(x) * std::exp(x * x);
  }
  double tail = x;
  for (int k = 60; k >= 1; --k) {
    tail = x + (k / 2.0) / tail;
  }
  return 1.0 / (tail * std::sqrt(M_PI));
}

using Point = std::vector<double>;

// The grid value of dimension dim nearest to v.
double nearest(const GpDimension& dim, double v) {
  const auto& g = dim.grid;
  auto it = std::lower_bound(g.begin(), g.end(), v);
  if (it == g.end()) {
    return g.back();
  }
  if (it != g.begin() && v - *std::prev(it) < *it - v) {
    --it;
  }
  return *it;
}

// x with each discrete dimension moved to a grid value (a categorical's u to floor(u n)).
void snap(const std::vector<GpDimension>& space, Point& x) {
  for (size_t j = 0; j < space.size(); ++j) {
    const auto& g = space[j].grid;
    if (space[j].categorical) {
      x[j] = std::min(std::floor(x[j] * static_cast<double>(g.size())),
                      static_cast<double>(g.size() - 1));
    } else if (!g.empty()) {
      x[j] = nearest(space[j], x[j]);
    }
  }
}

// x with each discrete dimension moved to its nearest grid value (a categorical's index
// rounded): a point already in the space's terms, such as a trial's.
void to_grid(const std::vector<GpDimension>& space, Point& x) {
  for (size_t j = 0; j < space.size(); ++j) {
    if (!space[j].grid.empty()) {
      x[j] = nearest(space[j], x[j]);
    }
  }
}

// The acquisition, -inf at an excluded point (a trial running there: proposing it again would
// train that configuration twice).
struct Scored {
  const LogEi& acqf;
  const std::vector<Point>& excluded;
  double operator()(const Point& x, std::vector<double>* grad = nullptr) const {
    for (const Point& e : excluded) {
      bool same = true;
      for (size_t j = 0; j < x.size() && same; ++j) {
        same = std::abs(x[j] - e[j]) <= 1e-12;
      }
      if (same) {
        return -std::numeric_limits<double>::infinity();
      }
    }
    return acqf(x, grad);
  }
};

// L-BFGS on the continuous dimensions, in coordinates divided by their length scales (Optuna's
// preconditioning). Updates x and fx if it found better.
void ascend_continuous(const Scored& acqf, const std::vector<size_t>& continuous,
                       const std::vector<double>& scales, double tol, Point& x, double& fx) {
  if (continuous.empty()) {
    return;
  }
  LbfgsOptions o;
  o.gtol = std::sqrt(tol);
  o.max_iters = 200;
  std::vector<double> z0;
  for (size_t i = 0; i < continuous.size(); ++i) {
    o.lower.push_back(0.0);
    o.upper.push_back(1.0 / scales[i]);
    z0.push_back(x[continuous[i]] / scales[i]);
  }
  Point trial = x;
  std::vector<double> grad;
  // The ascent follows the acquisition itself, which has a gradient everywhere (the search
  // often starts at an excluded point: the best finished trial); where it ends is then scored
  // with the exclusions.
  const LbfgsResult r = minimize_lbfgs(
      [&](const std::vector<double>& z, std::vector<double>& g) {
        for (size_t i = 0; i < continuous.size(); ++i) {
          trial[continuous[i]] = std::clamp(z[i] * scales[i], 0.0, 1.0);
        }
        const double v = acqf.acqf(trial, &grad);
        for (size_t i = 0; i < continuous.size(); ++i) {
          g[i] = -grad[continuous[i]] * scales[i];
        }
        return -v;
      },
      z0, o);
  if (r.iterations == 0) {
    return;
  }
  for (size_t i = 0; i < continuous.size(); ++i) {
    trial[continuous[i]] = std::clamp(r.x[i] * scales[i], 0.0, 1.0);
  }
  if (const double v = acqf(trial); v > fx) {
    x = trial;
    fx = v;
  }
}

// Along discrete dimension j: every value when there are at most 16 (or it is categorical),
// else a golden-section search of the values' piecewise-linear interpolation (Optuna uses
// Brent's method on it). Updates x and fx if it found better.
void search_discrete(const Scored& acqf, const GpDimension& dim, size_t j, double tol, Point& x,
                     double& fx) {
  const auto& g = dim.grid;
  if (g.size() < 2) {
    return;
  }
  Point trial = x;
  auto at = [&](double v) {
    trial[j] = v;
    return acqf(trial);
  };
  double best_v = x[j];
  double best_f = fx;
  if (dim.categorical || g.size() <= 16) {
    for (double v : g) {
      if (v != x[j]) {
        const double f = at(v);
        if (f > best_f) {
          best_f = f;
          best_v = v;
        }
      }
    }
  } else {
    std::vector<double> cache(g.size(), std::numeric_limits<double>::quiet_NaN());
    auto value_at = [&](size_t i) {
      if (std::isnan(cache[i])) {
        cache[i] = g[i] == x[j] ? fx : at(g[i]);
      }
      return cache[i];
    };
    auto interpolated = [&](double v) {
      const size_t right = std::clamp<size_t>(
          static_cast<size_t>(std::lower_bound(g.begin(), g.end(), v) - g.begin()), 1,
          g.size() - 1);
      const double w = (g[right] - v) / (g[right] - g[right - 1]);
      return w * value_at(right - 1) + (1.0 - w) * value_at(right);
    };
    double min_gap = std::numeric_limits<double>::infinity();
    for (size_t i = 1; i < g.size(); ++i) {
      min_gap = std::min(min_gap, g[i] - g[i - 1]);
    }
    const double xtol = std::max(min_gap / 4, tol);
    const double phi = (std::sqrt(5.0) - 1.0) / 2.0;
    double a = g.front();
    double b = g.back();
    double c = b - phi * (b - a);
    double d = a + phi * (b - a);
    double fc = interpolated(c);
    double fd = interpolated(d);
    while (b - a > xtol) {
      if (fc > fd) {
        b = d;
        d = c;
        fd = fc;
        c = b - phi * (b - a);
        fc = interpolated(c);
      } else {
        a = c;
        c = d;
        fc = fd;
        d = a + phi * (b - a);
        fd = interpolated(d);
      }
    }
    const double v = nearest(dim, 0.5 * (a + b));
    const double f = v == x[j] ? fx : at(v);
    if (f > best_f) {
      best_f = f;
      best_v = v;
    }
  }
  x[j] = best_v;
  fx = best_f;
}

// Alternates the continuous and the discrete searches until a whole round changes nothing.
void local_search(const Scored& acqf, const std::vector<GpDimension>& space,
                  const std::vector<size_t>& continuous, const std::vector<double>& scales,
                  double tol, Point& x, double& fx) {
  for (int round = 0; round < 100; ++round) {
    const double before = fx;
    ascend_continuous(acqf, continuous, scales, tol, x, fx);
    for (size_t j = 0; j < space.size(); ++j) {
      if (!space[j].grid.empty()) {
        search_discrete(acqf, space[j], j, tol, x, fx);
      }
    }
    if (!(fx > before) || space.size() == continuous.size()) {
      return;
    }
  }
}

}  // namespace

double standard_log_ei(double z, double* dz) {
  // ei(z) = z Phi(z) + phi(z); d log ei / dz = Phi(z) / ei(z).
  const double log_ei =
      z >= -25.0 ? std::log(z * truncnorm::ndtr(z) + std::exp(-0.5 * z * z) / std::sqrt(2.0 * M_PI))
                 : -0.5 * z * z - k_log_sqrt_2pi +
                       std::log1p(k_sqrt_half_pi * z * erfcx(-k_sqrt_half * z));
  if (dz != nullptr) {
    *dz = std::exp(truncnorm::log_ndtr(z) - log_ei);
  }
  return log_ei;
}

double LogEi::operator()(const std::vector<double>& x, std::vector<double>* grad) const {
  double mean = 0.0;
  double var = 0.0;
  std::vector<double> dmean;
  std::vector<double> dvar;
  gp.posterior(x, mean, var, grad ? &dmean : nullptr, grad ? &dvar : nullptr);
  var += k_stabilizing_noise;
  const double sigma = std::sqrt(var);
  const double z = (mean - threshold) / sigma;
  double dz = 0.0;
  const double out = standard_log_ei(z, grad ? &dz : nullptr) + std::log(sigma);
  if (grad != nullptr) {
    // d/dx [h(z) + log sigma], z = (mean - f0) / sigma, sigma = sqrt(var).
    grad->assign(x.size(), 0.0);
    for (size_t j = 0; j < x.size(); ++j) {
      const double dsigma = dvar[j] / (2.0 * sigma);
      (*grad)[j] = dz * (dmean[j] - z * dsigma) / sigma + dsigma / sigma;
    }
  }
  return out;
}

std::vector<double> maximize_log_ei(const LogEi& log_ei, const std::vector<GpDimension>& space,
                                    const std::vector<std::vector<double>>& warm_starts,
                                    const std::vector<std::vector<double>>& excluded, Rng& rng,
                                    const AcquisitionOptions& o) {
  const size_t dims = space.size();
  std::vector<Point> taken = excluded;  // In the space's terms, as the candidates will be.
  for (Point& e : taken) {
    to_grid(space, e);
  }
  const Scored acqf{log_ei, taken};
  // Scrambled Sobol' candidates (uniform ones beyond the dimensions hpt's Sobol' carries).
  std::vector<Point> candidates;
  std::vector<double> values;
  if (dims <= SobolSequence::k_max_dims) {
    const SobolSequence sobol(dims, &rng);
    for (int i = 0; i < o.n_preliminary_samples; ++i) {
      candidates.push_back(sobol.point(static_cast<uint64_t>(i)));
    }
  } else {
    for (int i = 0; i < o.n_preliminary_samples; ++i) {
      Point p(dims);
      for (double& v : p) {
        v = uniform01(rng);
      }
      candidates.push_back(std::move(p));
    }
  }
  for (Point& p : candidates) {
    snap(space, p);
    values.push_back(acqf(p));
  }
  const size_t best =
      static_cast<size_t>(std::max_element(values.begin(), values.end()) - values.begin());
  // Roulette: the others in proportion to exp(value - best value), without replacement.
  std::vector<size_t> starts{best};
  std::vector<double> weights(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    weights[i] = i == best || !std::isfinite(values[i]) ? 0.0 : std::exp(values[i] - values[best]);
  }
  const int extra =
      o.n_local_search - 1 - static_cast<int>(std::min<size_t>(warm_starts.size(), 9));
  for (int k = 0; k < extra; ++k) {
    double total = 0.0;
    for (double w : weights) {
      total += w;
    }
    if (!(total > 0.0)) {
      break;
    }
    double u = uniform01(rng) * total;
    size_t pick = 0;
    while (pick + 1 < weights.size() && (weights[pick] == 0.0 || u >= weights[pick])) {
      u -= weights[pick];
      ++pick;
    }
    if (weights[pick] == 0.0) {
      break;
    }
    starts.push_back(pick);
    weights[pick] = 0.0;
  }
  std::vector<Point> xs;
  for (size_t s : starts) {
    xs.push_back(candidates[s]);
  }
  xs.insert(xs.end(), warm_starts.begin(), warm_starts.end());
  std::vector<size_t> continuous;
  std::vector<double> scales;
  const std::vector<double> length_scales = log_ei.gp.length_scales();
  for (size_t j = 0; j < dims; ++j) {
    if (space[j].grid.empty()) {
      continuous.push_back(j);
      scales.push_back(length_scales[j]);
    }
  }
  Point best_x = candidates[best];
  double best_f = values[best];
  for (size_t i = 0; i < xs.size(); ++i) {
    Point& x = xs[i];
    if (i >= starts.size()) {
      to_grid(space, x);  // A warm start: a trial's point (the candidates are on the grid).
    }
    double fx = acqf(x);
    local_search(acqf, space, continuous, scales, o.tol, x, fx);
    if (fx > best_f) {
      best_f = fx;
      best_x = x;
    }
  }
  if (!std::isfinite(best_f) && !taken.empty()) {  // Every point searched is excluded.
    return maximize_log_ei(log_ei, space, warm_starts, {}, rng, o);
  }
  return best_x;
}

}  // namespace hpt
