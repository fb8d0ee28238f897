#pragma once
// Standard-normal tail functions and the truncated normal distribution, accurate in
// both tails (the numeric core of the Parzen estimator; Optuna's _truncnorm).

namespace hpt::truncnorm {

// Phi(x), the standard normal CDF.
double ndtr(double x);
// log Phi(x); finite for every finite x (asymptotic series below -20).
double log_ndtr(double x);
// The inverse of Phi. requires: 0 < p < 1. ensures: |Phi(result) - p| ~ 1e-16 relative.
double ndtri(double p);
// The x with log Phi(x) == log_p. requires: log_p < 0.
double ndtri_exp(double log_p);
// log(Phi(b) - Phi(a)), the log mass of [a, b]. requires: a <= b. ensures: -inf iff a == b.
double log_gauss_mass(double a, double b);
// The q-quantile of the standard normal truncated to [a, b].
// requires: 0 <= q <= 1, a < b. ensures: a <= result <= b.
double ppf(double q, double a, double b);
// log density at x of N(loc, scale) truncated to [loc + a*scale, loc + b*scale];
// -inf outside. requires: scale > 0, a < b.
double logpdf(double x, double a, double b, double loc, double scale);

}  // namespace hpt::truncnorm
