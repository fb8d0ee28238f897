#include "hpt/tuner/lbfgs.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <stdexcept>

namespace hpt {

namespace {

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    s += a[i] * b[i];
  }
  return s;
}

struct Box {
  const std::vector<double>& lower;
  const std::vector<double>& upper;
  bool bounded() const { return !lower.empty(); }
  void project(std::vector<double>& x) const {
    for (size_t i = 0; bounded() && i < x.size(); ++i) {
      x[i] = std::clamp(x[i], lower[i], upper[i]);
    }
  }
  // Whether variable i sits on a bound that its gradient g pushes it against.
  bool held(const std::vector<double>& x, const std::vector<double>& g, size_t i) const {
    return bounded() && ((x[i] <= lower[i] && g[i] > 0) || (x[i] >= upper[i] && g[i] < 0));
  }
};

}  // namespace

LbfgsResult minimize_lbfgs(const LbfgsFunction& f, std::vector<double> x0,
                           const LbfgsOptions& o) {
  const size_t n = x0.size();
  if ((!o.lower.empty() || !o.upper.empty()) && (o.lower.size() != n || o.upper.size() != n)) {
    throw std::invalid_argument("minimize_lbfgs: bounds must be sized as x0");
  }
  const Box box{o.lower, o.upper};
  LbfgsResult r;
  r.x = std::move(x0);
  box.project(r.x);
  std::vector<double> g(n, 0.0);
  r.f = f(r.x, g);
  if (!std::isfinite(r.f)) {
    return r;
  }
  struct Pair {
    std::vector<double> s, y;
    double rho;
  };
  std::deque<Pair> pairs;
  std::vector<double> d(n), x_new(n), g_new(n), alpha(static_cast<size_t>(o.memory));
  for (; r.iterations < o.max_iters;) {
    // The projected gradient: zero where a bound holds the variable.
    double pg_norm = 0.0;
    std::vector<bool> free(n);
    for (size_t i = 0; i < n; ++i) {
      free[i] = !box.held(r.x, g, i);
      pg_norm = std::max(pg_norm, free[i] ? std::abs(g[i]) : 0.0);
    }
    if (pg_norm <= o.gtol) {
      r.converged = true;
      return r;
    }
    // Two-loop recursion over the free variables: d = -H g.
    for (size_t i = 0; i < n; ++i) {
      d[i] = free[i] ? -g[i] : 0.0;
    }
    for (size_t k = pairs.size(); k-- > 0;) {
      alpha[k] = pairs[k].rho * dot(pairs[k].s, d);
      for (size_t i = 0; i < n; ++i) {
        d[i] -= alpha[k] * (free[i] ? pairs[k].y[i] : 0.0);
      }
    }
    if (!pairs.empty()) {
      const Pair& last = pairs.back();
      const double gamma = dot(last.s, last.y) / dot(last.y, last.y);
      for (double& di : d) {
        di *= gamma;
      }
    }
    for (size_t k = 0; k < pairs.size(); ++k) {
      const double beta = pairs[k].rho * dot(pairs[k].y, d);
      for (size_t i = 0; i < n; ++i) {
        d[i] += (alpha[k] - beta) * (free[i] ? pairs[k].s[i] : 0.0);
      }
    }
    for (size_t i = 0; i < n; ++i) {
      d[i] = free[i] ? d[i] : 0.0;
    }
    if (dot(d, g) >= 0.0) {  // Not a descent direction: start again from the gradient.
      pairs.clear();
      for (size_t i = 0; i < n; ++i) {
        d[i] = free[i] ? -g[i] : 0.0;
      }
    }
    // Backtracking (Armijo) along the projected path; the first step is at most unit length.
    double t = pairs.empty() ? std::min(1.0, 1.0 / std::sqrt(dot(d, d))) : 1.0;
    double f_new = 0.0;
    bool accepted = false;
    for (int halving = 0; halving < 40 && !accepted; ++halving, t *= 0.5) {
      for (size_t i = 0; i < n; ++i) {
        x_new[i] = r.x[i] + t * d[i];
      }
      box.project(x_new);
      double decrease = 0.0;
      for (size_t i = 0; i < n; ++i) {
        decrease += g[i] * (x_new[i] - r.x[i]);
      }
      if (decrease >= 0.0) {
        continue;
      }
      f_new = f(x_new, g_new);
      accepted = std::isfinite(f_new) && f_new <= r.f + 1e-4 * decrease;
    }
    if (!accepted) {
      if (pairs.empty()) {
        return r;  // No step along the gradient lowers f: as far as the search goes.
      }
      pairs.clear();
      continue;
    }
    Pair p{std::vector<double>(n), std::vector<double>(n), 0.0};
    for (size_t i = 0; i < n; ++i) {
      p.s[i] = x_new[i] - r.x[i];
      p.y[i] = g_new[i] - g[i];
    }
    const double sy = dot(p.s, p.y);
    const double f_old = r.f;
    r.x = x_new;
    r.f = f_new;
    g = g_new;
    ++r.iterations;
    if (sy > 1e-10 * dot(p.y, p.y)) {  // Keeps H positive definite.
      p.rho = 1.0 / sy;
      pairs.push_back(std::move(p));
      if (static_cast<int>(pairs.size()) > o.memory) {
        pairs.pop_front();
      }
    }
    if (f_old - f_new <= o.ftol * std::max({std::abs(f_old), std::abs(f_new), 1.0})) {
      r.converged = true;
      return r;
    }
  }
  return r;
}

}  // namespace hpt
