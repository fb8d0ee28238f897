#pragma once
// A parameter's "transformed" space, where samplers work (Optuna's TPE and random
// sampler transforms): log-scaled values as their log, int and stepped values widened
// by half a step on each side (rounded back to the grid), categoricals as indices.

#include <vector>

#include "hpt/tuner/distribution.hpp"
#include "hpt/tuner/rng.hpp"
#include "hpt/tuner/trial.hpp"

namespace hpt {

struct ParamTransform {
  enum class Kind { Continuous, Discrete, Categorical };
  Kind kind = Kind::Continuous;
  double low = 0.0;  // Transformed bounds; low < high for non-categorical parameters.
  double high = 1.0;
  double step = 0.0;  // Grid step q in transformed space (Discrete only).
  bool log = false;
  bool is_int = false;
  double dist_low = 0.0;  // The distribution's own bounds (internal representation).
  double dist_high = 1.0;
  int n_choices = 0;  // Categorical only.
};

// Throws std::invalid_argument if d is invalid (see validate()).
ParamTransform make_transform(const Distribution& d);
// Internal value -> transformed value (log for log params; identity otherwise).
double to_transformed(const ParamTransform& t, double internal);
// Transformed value -> internal value on the distribution's grid, clipped to its bounds.
// ensures: contains(d, result) for the distribution t was made from.
double from_transformed(const ParamTransform& t, double transformed);
// The indices in space of the float and int parameters with more than one value (what CMA-ES
// and QMC sample jointly), in space order.
std::vector<size_t> varying_numeric_params(const SearchSpace& space);
// An internal value's place in [0, 1] along the transformed range, and back (clipped, on the
// grid). Computed in halves: a range wider than a double's largest value stays finite.
double to_unit(const ParamTransform& t, double internal);
double from_unit(const ParamTransform& t, double u);
// A uniform double in [0, 1) from 53 random bits (the same on every platform).
double uniform01(Rng& rng);
// A uniform draw in the transformed space, returned as an internal value.
double sample_uniform(const ParamTransform& t, Rng& rng);

}  // namespace hpt
