#include "hpt/tuner/gp_sampler.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <optional>
#include <stdexcept>
#include <utility>
#include <variant>

#include "hpt/tuner/gaussian_process.hpp"
#include "hpt/tuner/gp_acquisition.hpp"
#include "hpt/tuner/options.hpp"
#include "hpt/tuner/param_transform.hpp"

namespace hpt {

namespace {

// Above this many grid points a stepped or int parameter is searched as continuous and
// rounded onto its grid at the end (Optuna enumerates every grid point).
constexpr double k_max_grid_points = 65536;

// A parameter's dimension: its grid in [0, 1] (a categorical's indices), empty if continuous.
GpDimension dimension_of(const Distribution& d, const ParamTransform& t) {
  GpDimension out;
  if (const auto* c = std::get_if<CategoricalDistribution>(&d)) {
    out.categorical = true;
    for (size_t i = 0; i < c->choices.size(); ++i) {
      out.grid.push_back(static_cast<double>(i));
    }
    return out;
  }
  double low = 0.0;
  double step = 0.0;
  double count = 0.0;
  if (const auto* i = std::get_if<IntDistribution>(&d)) {
    low = static_cast<double>(i->low);
    step = static_cast<double>(i->step);
    count = std::floor((static_cast<double>(reachable_high(*i)) - low) / step) + 1;
  } else if (const auto& f = std::get<FloatDistribution>(d); f.step) {
    low = f.low;
    step = *f.step;
    count = std::round((reachable_high(f) - low) / step) + 1;
  }
  if (count >= 2 && count <= k_max_grid_points) {
    for (double k = 0; k < count; ++k) {
      out.grid.push_back(to_unit(t, low + k * step));
    }
    std::sort(out.grid.begin(), out.grid.end());
    out.grid.erase(std::unique(out.grid.begin(), out.grid.end()), out.grid.end());
  }
  return out;
}

// The point of trial t in the scaled space of params, if it holds each inside its distribution.
std::optional<std::vector<double>> point_of(const FrozenTrial& t, const SearchSpace& space,
                                            const std::vector<size_t>& params,
                                            const std::vector<ParamTransform>& transforms) {
  std::vector<double> x;
  for (size_t i = 0; i < params.size(); ++i) {
    const auto& [name, dist] = space[params[i]];
    const auto v = t.params.find(name);
    if (v == t.params.end() || !contains(dist, v->second)) {
      return std::nullopt;
    }
    x.push_back(transforms[i].kind == ParamTransform::Kind::Categorical
                    ? v->second
                    : to_unit(transforms[i], v->second));
  }
  return x;
}

// Optuna's _standardize_values: infinite values clipped to the finite extremes (0 when none is
// finite), then (v - mean) / max(1e-10, std), computed on the values divided by the largest
// magnitude (Optuna's overflows beyond about 1e154).
std::vector<double> standardized(std::vector<double> v) {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -lo;
  for (double x : v) {
    if (std::isfinite(x)) {
      lo = std::min(lo, x);
      hi = std::max(hi, x);
    }
  }
  // Divided by the largest magnitude first: the result does not depend on the values' scale,
  // and (v - mean)^2 stays finite near DBL_MAX.
  const double scale = lo > hi ? 1.0 : std::max({std::abs(lo), std::abs(hi), 1e-300});
  for (double& x : v) {
    x = (std::isfinite(x) ? x : (lo > hi ? 0.0 : std::clamp(x, lo, hi))) / scale;
  }
  double mean = 0.0;
  for (double x : v) {
    mean += x / static_cast<double>(v.size());
  }
  double var = 0.0;
  for (double x : v) {
    var += (x - mean) * (x - mean) / static_cast<double>(v.size());
  }
  const double sd = std::max(1e-10, std::sqrt(var));
  for (double& x : v) {
    x = (x - mean) / sd;
  }
  return v;
}

}  // namespace

GpOptions gp_options_from_json(const Json& json, const SearchSpace& space) {
  OptionReader r("gp sampler", json);
  for (const char* name : {"constraints_func", "warn_independent_sampling"}) {
    if (r.has(name)) {
      throw std::invalid_argument(fmt::format(
          "gp sampler option '{}' is Optuna's, but hpt does not offer it", name));
    }
  }
  GpOptions o;
  o.n_startup_trials = static_cast<int>(
      r.get_int("n_startup_trials", o.n_startup_trials, 0, std::numeric_limits<int>::max()));
  o.deterministic_objective = r.get_bool("deterministic_objective", o.deterministic_objective);
  o.independent = read_independent_sampler(r, "gp sampler", space);
  r.finish();
  return o;
}

GpSampler::GpSampler(GpOptions options, uint64_t seed)
    : m_options(std::move(options)),
      m_seed(seed),
      m_independent(make_sampler(m_options.independent, seed)) {}

GpSampler::~GpSampler() = default;

std::map<std::string, double> GpSampler::sample(const SearchSpace& space,
                                                const SampleContext& ctx) {
  const std::vector<Direction> directions = ctx.objective_directions();
  if (directions.size() != 1) {
    throw std::invalid_argument(
        "the gp sampler optimises one objective (Optuna's GPSampler serves several with "
        "log EHVI; hpt's does not): use tpe or nsga2");
  }
  std::vector<size_t> params;
  std::vector<ParamTransform> transforms;
  for (size_t p = 0; p < space.size(); ++p) {
    if (!is_single(space[p].second)) {
      params.push_back(p);
      transforms.push_back(make_transform(space[p].second));
    }
  }
  const std::vector<FrozenTrial> no_trials;
  const std::vector<FrozenTrial>& trials = ctx.trials ? *ctx.trials : no_trials;
  GpData data;
  std::vector<std::vector<double>> running;
  std::vector<double> values;
  for (const auto& t : trials) {
    if (t.number == ctx.trial_number ||
        (t.state != TrialState::Complete && t.state != TrialState::Running)) {
      continue;
    }
    auto x = point_of(t, space, params, transforms);
    if (!x) {
      continue;
    }
    if (t.state == TrialState::Running) {
      running.push_back(std::move(*x));
    } else if (t.value && !std::isnan(*t.value)) {
      data.x.push_back(std::move(*x));
      values.push_back(directions[0] == Direction::Maximize ? *t.value : -*t.value);
    }
  }
  if (params.empty() || static_cast<int>(data.x.size()) < m_options.n_startup_trials ||
      data.x.empty()) {
    return m_independent->sample(space, ctx);
  }
  if (std::adjacent_find(values.begin(), values.end(), std::not_equal_to<>()) == values.end()) {
    // Every value the same (a plateau): the GP learns nothing, and its flat acquisition sent
    // the search back to the best point again and again (39 repeats in 100 trials).
    return m_independent->sample(space, ctx);
  }
  data.y = standardized(values);
  std::vector<GpDimension> dims;
  for (size_t i = 0; i < params.size(); ++i) {
    data.is_categorical.push_back(transforms[i].kind == ParamTransform::Kind::Categorical);
    dims.push_back(dimension_of(space[params[i]].second, transforms[i]));
  }
  const size_t best =
      static_cast<size_t>(std::max_element(data.y.begin(), data.y.end()) - data.y.begin());
  double threshold = data.y[best];
  const std::vector<double> best_x = data.x[best];
  const GpKernelParams kernel = fit_gp_kernel_params(data, m_options.deterministic_objective);
  // Not where a trial runs (nor, for a deterministic objective, where one finished): in a
  // space of ints and categoricals the acquisition's maximum often lies there.
  std::vector<std::vector<double>> excluded = running;
  if (m_options.deterministic_objective) {
    excluded.insert(excluded.end(), data.x.begin(), data.x.end());
  }
  GpRegressor gp(std::move(data), kernel);
  // A running trial believed better than the best raises the bar as a finished one would.
  for (double believed : gp.add_believed_points(running)) {
    threshold = std::max(threshold, believed);
  }
  Rng rng(derive_seed(m_seed, ctx.trial_number, "gp"));
  const std::vector<double> x =
      maximize_log_ei(LogEi{gp, threshold}, dims, {best_x}, excluded, rng);
  // Single-valued parameters come from the independent sampler (their one value).
  std::map<std::string, double> out = sample_rest(*m_independent, space, params, ctx);
  for (size_t i = 0; i < params.size(); ++i) {
    out[space[params[i]].first] = transforms[i].kind == ParamTransform::Kind::Categorical
                                      ? std::round(x[i])
                                      : from_unit(transforms[i], x[i]);
  }
  return out;
}

}  // namespace hpt
