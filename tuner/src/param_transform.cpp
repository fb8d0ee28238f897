#include "hpt/tuner/param_transform.hpp"

#include <algorithm>
#include <cmath>
#include <variant>

namespace hpt {

ParamTransform make_transform(const Distribution& d) {
  validate(d);
  ParamTransform t;
  if (const auto* f = std::get_if<FloatDistribution>(&d)) {
    t.dist_low = f->low;
    t.dist_high = f->high;
    t.log = f->log;
    if (f->log) {
      t.low = std::log(f->low);
      t.high = std::log(f->high);
    } else if (f->step) {
      t.kind = ParamTransform::Kind::Discrete;
      t.step = *f->step;
      // The last grid point, as Optuna's FloatDistribution adjusts high to it.
      double n = std::floor((f->high - f->low) / t.step + 1e-9);
      t.dist_high = std::min(f->low + n * t.step, f->high);  // Not past high by rounding.
      t.low = f->low - 0.5 * t.step;
      t.high = t.dist_high + 0.5 * t.step;
    } else {
      t.low = f->low;
      t.high = f->high;
    }
  } else if (const auto* i = std::get_if<IntDistribution>(&d)) {
    t.is_int = true;
    t.log = i->log;
    t.dist_low = static_cast<double>(i->low);
    t.dist_high = static_cast<double>(i->low + (i->high - i->low) / i->step * i->step);
    if (i->log) {
      t.low = std::log(t.dist_low - 0.5);
      t.high = std::log(t.dist_high + 0.5);
    } else {
      t.kind = ParamTransform::Kind::Discrete;
      t.step = static_cast<double>(i->step);
      t.low = t.dist_low - 0.5 * t.step;
      t.high = t.dist_high + 0.5 * t.step;
    }
  } else {
    const auto& c = std::get<CategoricalDistribution>(d);
    t.kind = ParamTransform::Kind::Categorical;
    t.n_choices = static_cast<int>(c.choices.size());
    t.low = 0.0;
    t.high = static_cast<double>(t.n_choices - 1);
    t.dist_low = t.low;
    t.dist_high = t.high;
  }
  return t;
}

double to_transformed(const ParamTransform& t, double internal) {
  return t.log ? std::log(internal) : internal;
}

double from_transformed(const ParamTransform& t, double x) {
  double v;
  switch (t.kind) {
    case ParamTransform::Kind::Categorical:
      v = std::round(x);
      break;
    case ParamTransform::Kind::Discrete:
      if (t.is_int) {  // In integers: low + k * step is exact where doubles would round.
        const auto low = static_cast<int64_t>(t.dist_low);
        const auto step = static_cast<int64_t>(t.step);
        const int64_t top = (static_cast<int64_t>(t.dist_high) - low) / step;
        const double k = std::round((x - t.dist_low) / t.step);
        const int64_t steps = !(k > 0)                        ? 0
                              : k >= static_cast<double>(top) ? top
                                                              : static_cast<int64_t>(k);
        return static_cast<double>(low + steps * step);
      }
      v = std::round((x - t.dist_low) / t.step) * t.step + t.dist_low;
      break;
    default:
      v = t.log ? std::exp(x) : x;
      if (t.is_int) {
        v = std::round(v);
      }
      break;
  }
  return std::min(std::max(v, t.dist_low), t.dist_high);
}

std::vector<size_t> varying_numeric_params(const SearchSpace& space) {
  std::vector<size_t> out;
  for (size_t p = 0; p < space.size(); ++p) {
    if (!std::holds_alternative<CategoricalDistribution>(space[p].second) &&
        !is_single(space[p].second)) {
      out.push_back(p);
    }
  }
  return out;
}

double to_unit(const ParamTransform& t, double internal) {
  const double x = to_transformed(t, internal);
  return std::min(1.0, std::max(0.0, (x / 2 - t.low / 2) / (t.high / 2 - t.low / 2)));
}

double from_unit(const ParamTransform& t, double u) {
  return from_transformed(t, t.low * (1 - u) + t.high * u);
}

double uniform01(Rng& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

double sample_uniform(const ParamTransform& t, Rng& rng) {
  if (t.kind == ParamTransform::Kind::Categorical) {
    return std::min(std::floor(uniform01(rng) * t.n_choices), static_cast<double>(t.n_choices - 1));
  }
  return from_transformed(t, t.low + (t.high - t.low) * uniform01(rng));
}

}  // namespace hpt
