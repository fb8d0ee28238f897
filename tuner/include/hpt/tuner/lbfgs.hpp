#pragma once
// Limited-memory BFGS for a smooth function with its gradient, optionally inside a box (the
// projected variant: the steps of the variables held at a bound are dropped, and each trial
// point is projected into the box). What Optuna's GP sampler does with SciPy's L-BFGS-B.

#include <functional>
#include <vector>

namespace hpt {

struct LbfgsOptions {
  // Bounds per variable (both empty: unbounded). lower[i] <= upper[i].
  std::vector<double> lower;
  std::vector<double> upper;
  int memory = 10;        // Correction pairs kept (SciPy's m).
  int max_iters = 15000;  // SciPy's maxiter.
  // Stops once every projected gradient component is at most gtol (SciPy's pgtol), or once an
  // iteration lowers f by at most ftol * max(|f|, |f_new|, 1) (SciPy's factr * eps).
  double gtol = 1e-5;
  double ftol = 2.220446049250313e-9;
};

struct LbfgsResult {
  std::vector<double> x;  // The best point found (inside the box).
  double f = 0.0;         // f(x).
  int iterations = 0;     // Accepted steps.
  bool converged = false;  // A stopping rule held (not the iteration limit or a failed search).
};

// f(x, grad) returns f at x and writes its gradient into grad (sized as x). A non-finite
// value counts as "outside the domain": the line search steps back from it.
using LbfgsFunction = std::function<double(const std::vector<double>& x, std::vector<double>& grad)>;

// Minimises f from x0 (projected into the box first). requires: lower/upper empty or sized as x0.
LbfgsResult minimize_lbfgs(const LbfgsFunction& f, std::vector<double> x0,
                           const LbfgsOptions& options = {});

}  // namespace hpt
