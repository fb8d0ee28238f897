#include "hpt/tuner/truncnorm.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace hpt::truncnorm {

namespace {

constexpr double k_sqrt1_2 = 0.70710678118654752440;
constexpr double k_log_sqrt_2pi = 0.91893853320467274178;
constexpr double k_inf = std::numeric_limits<double>::infinity();

// log(exp(p) - exp(q)). requires: p >= q.
double log_diff(double p, double q) { return p + std::log1p(-std::exp(q - p)); }

double log_sum(double p, double q) {
  double m = std::max(p, q);
  if (m == -k_inf) {
    return -k_inf;
  }
  return m + std::log1p(std::exp(-std::abs(p - q)));
}

// Acklam's rational approximation of the normal quantile (relative error 1.15e-9).
double ndtri_approx(double p) {
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                 -2.759285104469687e+02, 1.383577518672690e+02,
                                 -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                 -1.556989798598866e+02, 6.680131188771972e+01,
                                 -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                 -2.400758277161838e+00, -2.549732539343734e+00,
                                 4.374664141464968e+00,  2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                                 2.445134137142996e+00, 3.754408661907416e+00};
  constexpr double p_low = 0.02425;
  if (p < p_low) {
    double q = std::sqrt(-2.0 * std::log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
  }
  if (p > 1.0 - p_low) {
    double q = std::sqrt(-2.0 * std::log1p(-p));
    return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
  }
  double q = p - 0.5;
  double r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
         (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0);
}

}  // namespace

double ndtr(double x) {
  double z = x * k_sqrt1_2;
  if (z < -k_sqrt1_2) {
    return 0.5 * std::erfc(-z);
  }
  if (z < k_sqrt1_2) {
    return 0.5 + 0.5 * std::erf(z);
  }
  return 1.0 - 0.5 * std::erfc(z);
}

double log_ndtr(double x) {
  if (x > 6.0) {
    return -ndtr(-x);  // log(1 - e) ~ -e for the tiny upper tail e.
  }
  if (x > 0.0) {
    return std::log1p(-ndtr(-x));
  }
  if (x > -20.0) {
    return std::log(ndtr(x));
  }
  // Asymptotic series: log Phi(x) = -x^2/2 - log(-x) - log(sqrt(2 pi)) + log(sum).
  double log_lhs = -0.5 * x * x - std::log(-x) - k_log_sqrt_2pi;
  double total = 1.0;
  double last = 0.0;
  double numerator = 1.0;
  double denominator = 1.0;
  double inv_x2 = 1.0 / (x * x);
  double sign = 1.0;
  for (int i = 1; i < 100 && std::abs(last - total) > std::numeric_limits<double>::epsilon(); ++i) {
    last = total;
    sign = -sign;
    denominator *= inv_x2;
    numerator *= 2.0 * i - 1.0;
    total += sign * numerator * denominator;
  }
  return log_lhs + std::log(total);
}

double ndtri(double p) {
  if (p <= 0.0) {
    return -k_inf;
  }
  if (p >= 1.0) {
    return k_inf;
  }
  double x = ndtri_approx(p);
  // One Halley step on Phi(x) - p brings the error to machine precision.
  double e = p < 0.5 ? ndtr(x) - p : (1.0 - p) - ndtr(-x);
  double u = e * std::sqrt(2.0 * M_PI) * std::exp(0.5 * x * x);
  return x - u / (1.0 + 0.5 * x * u);
}

double ndtri_exp(double log_p) {
  if (log_p >= 0.0) {
    return k_inf;
  }
  if (log_p > -700.0) {
    if (log_p > -0.6931471805599453) {  // p > 0.5: use the complement for precision.
      return -ndtri(-std::expm1(log_p));
    }
    return ndtri(std::exp(log_p));
  }
  // Deep lower tail: bisection on log_ndtr, which is monotone.
  double lo = -100.0;
  double hi = -37.0;
  for (int i = 0; i < 100 && hi - lo > 1e-14 * std::abs(lo); ++i) {
    double mid = 0.5 * (lo + hi);
    if (log_ndtr(mid) < log_p) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return 0.5 * (lo + hi);
}

double log_gauss_mass(double a, double b) {
  if (b <= 0.0) {
    if (b > -30.0) {
      // Both tails still representable: one subtraction keeps full relative precision.
      double pb = 0.5 * std::erfc(-b * k_sqrt1_2);
      double pa = 0.5 * std::erfc(-a * k_sqrt1_2);
      return std::log(pb - pa);
    }
    return log_diff(log_ndtr(b), log_ndtr(a));
  }
  if (a > 0.0) {
    return log_gauss_mass(-b, -a);
  }
  if (a < -38.5 && b > 38.5) {
    return 0.0;  // Both tails underflow: Phi(-38.5) < 1e-323.
  }
  return std::log1p(-ndtr(a) - ndtr(-b));
}

double ppf(double q, double a, double b) {
  if (q <= 0.0) {
    return a;
  }
  if (q >= 1.0) {
    return b;
  }
  double x;
  if (a < 0.0) {
    x = ndtri_exp(log_sum(log_ndtr(a), std::log(q) + log_gauss_mass(a, b)));
  } else {
    x = -ndtri_exp(log_sum(log_ndtr(-b), std::log1p(-q) + log_gauss_mass(a, b)));
  }
  return std::min(std::max(x, a), b);
}

double logpdf(double x, double a, double b, double loc, double scale) {
  double z = (x - loc) / scale;
  if (z < a || z > b) {
    return -k_inf;
  }
  return -0.5 * z * z - k_log_sqrt_2pi - std::log(scale) - log_gauss_mass(a, b);
}

}  // namespace hpt::truncnorm
