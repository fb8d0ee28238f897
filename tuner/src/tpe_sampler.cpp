#include "hpt/tuner/tpe_sampler.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "hpt/tuner/multi_objective_split.hpp"
#include "hpt/tuner/observation_split.hpp"
#include "hpt/tuner/options.hpp"

namespace hpt {

namespace {

using Kind = ParamTransform::Kind;

constexpr double k_missing = std::numeric_limits<double>::quiet_NaN();
constexpr int64_t k_max_candidates = 1'000'000;
constexpr int64_t k_max_count = std::numeric_limits<int>::max();

// The usable transformed value of internal value v, or NaN (wrong kind, not a choice,
// not finite). Values outside the bounds (a changed search space) are clipped in.
double observed_value(double v, const Distribution* trial_dist, const Distribution& dist,
                      const ParamTransform& t) {
  if ((trial_dist && trial_dist->index() != dist.index()) || !std::isfinite(v)) {
    return k_missing;
  }
  if (t.kind == Kind::Categorical) {
    return v == std::floor(v) && v >= 0 && v < t.n_choices ? v : k_missing;
  }
  return to_transformed(t, std::min(std::max(v, t.dist_low), t.dist_high));
}

// Rows of space.size() transformed values (NaN where missing), one per trial. The maps
// are walked in step with the sorted names: no per-parameter tree lookups.
std::vector<double> trial_values(const std::vector<const FrozenTrial*>& trials,
                                 const SearchSpace& space,
                                 const std::vector<ParamTransform>& transforms) {
  const size_t n_params = space.size();
  std::vector<std::pair<std::string_view, size_t>> names;
  for (size_t p = 0; p < n_params; ++p) {
    names.emplace_back(space[p].first, p);
  }
  std::sort(names.begin(), names.end());
  std::vector<double> values(trials.size() * n_params, k_missing);
  for (size_t r = 0; r < trials.size(); ++r) {
    const FrozenTrial& t = *trials[r];
    auto param = t.params.begin();
    auto dist = t.distributions.begin();
    for (const auto& [name, p] : names) {
      while (param != t.params.end() && std::string_view(param->first) < name) {
        ++param;
      }
      if (param == t.params.end()) {
        break;
      }
      if (std::string_view(param->first) != name) {
        continue;
      }
      while (dist != t.distributions.end() && std::string_view(dist->first) < name) {
        ++dist;
      }
      const Distribution* trial_dist =
          dist != t.distributions.end() && dist->first == name ? &dist->second : nullptr;
      values[r * n_params + p] =
          observed_value(param->second, trial_dist, space[p].second, transforms[p]);
    }
  }
  return values;
}

// Rows of the group's values for the trials that have all of them.
std::vector<double> observation_rows(const std::vector<double>& values, size_t n_params,
                                     const std::vector<size_t>& group) {
  std::vector<double> rows;
  const size_t n_trials = n_params == 0 ? 0 : values.size() / n_params;
  for (size_t r = 0; r < n_trials; ++r) {
    bool complete = true;
    for (size_t p : group) {
      complete = complete && !std::isnan(values[r * n_params + p]);
    }
    if (complete) {
      for (size_t p : group) {
        rows.push_back(values[r * n_params + p]);
      }
    }
  }
  return rows;
}

// The weights of the rows observation_rows keeps (weights: one per trial row).
std::vector<double> kept_weights(const std::vector<double>& values, size_t n_params,
                                 const std::vector<size_t>& group,
                                 const std::vector<double>& weights) {
  std::vector<double> kept;
  for (size_t r = 0; r < weights.size(); ++r) {
    bool complete = true;
    for (size_t p : group) {
      complete = complete && !std::isnan(values[r * n_params + p]);
    }
    if (complete) {
      kept.push_back(weights[r]);
    }
  }
  return kept;
}

// The finished trials' values in transformed space, split into below and above, from which
// each group of parameters fits its two estimators.
struct Observations {
  const std::vector<ParamTransform>& transforms;
  const ObservationSplit& split;
  std::vector<double> below;
  std::vector<double> above;

  Observations(const SearchSpace& space, const std::vector<ParamTransform>& t,
               const ObservationSplit& s)
      : transforms(t),
        split(s),
        below(trial_values(s.below, space, t)),
        above(trial_values(s.above, space, t)) {}

  // The estimator of group's parameters fitted on the below (l) or above (g) trials that
  // have all of them.
  ParzenEstimator estimator(const std::vector<size_t>& group, bool is_below,
                            const ParzenOptions& options) const {
    std::vector<ParamTransform> group_transforms;
    for (size_t p : group) {
      group_transforms.push_back(transforms[p]);
    }
    const auto& values = is_below ? below : above;
    const size_t n_params = transforms.size();
    return ParzenEstimator(group_transforms, observation_rows(values, n_params, group), options,
                           is_below ? kept_weights(values, n_params, group, split.below_weights)
                                    : std::vector<double>{});
  }
};

// How one trial searches: the options TpeSampler::sample derives from TpeOptions, the study's
// objectives and the width of its search space.
struct GroupSearch {
  ParzenOptions parzen;             // Of a group's joint estimators.
  ParzenOptions univariate_parzen;  // Of one parameter's own estimators.
  int n_ei_candidates = 0;
  int n_univariate_candidates = 0;  // Drawn per parameter on top, in a group of several.
  TpeOptions::MixedScore mixed_score = TpeOptions::MixedScore::Joint;
};

// The transformed values of group's parameters (in group's order) that maximise
// log l(x) - log g(x) among n_ei_candidates joint draws from l and, in a group of several
// parameters, n_univariate_candidates draws of each parameter from its own l (scored by
// the joint estimators, the univariate ones or both, as search.mixed_score says).
std::vector<double> best_candidate(const Observations& obs, const std::vector<size_t>& group,
                                   const GroupSearch& search, Rng& rng) {
  using MixedScore = TpeOptions::MixedScore;
  const ParzenEstimator below = obs.estimator(group, true, search.parzen);
  const ParzenEstimator above = obs.estimator(group, false, search.parzen);
  const size_t d = group.size();
  std::vector<double> candidates = below.sample(rng, search.n_ei_candidates);
  std::vector<double> score(candidates.size() / d, 0.0);
  const bool mixed = d > 1 && search.n_univariate_candidates > 0;
  if (mixed) {
    // Univariate draws: each parameter from its own estimator, then all rows scored.
    const size_t n_joint = score.size();
    const size_t n_uni = static_cast<size_t>(search.n_univariate_candidates);
    candidates.resize((n_joint + n_uni) * d);
    score.assign(n_joint + n_uni, 0.0);
    std::vector<double> column(n_joint + n_uni);
    for (size_t k = 0; k < d; ++k) {
      const ParzenEstimator l = obs.estimator({group[k]}, true, search.univariate_parzen);
      const ParzenEstimator g = obs.estimator({group[k]}, false, search.univariate_parzen);
      const std::vector<double> draws = l.sample(rng, static_cast<int>(n_uni));
      for (size_t c = 0; c < n_uni; ++c) {
        candidates[(n_joint + c) * d + k] = draws[c];
      }
      if (search.mixed_score != MixedScore::Joint) {
        for (size_t c = 0; c < column.size(); ++c) {
          column[c] = candidates[c * d + k];
        }
        const std::vector<double> ll = l.log_pdf(column);
        const std::vector<double> lg = g.log_pdf(column);
        for (size_t c = 0; c < column.size(); ++c) {
          score[c] += ll[c] - lg[c];
        }
      }
    }
  }
  if (!mixed || search.mixed_score != MixedScore::Univariate) {
    const std::vector<double> log_l = below.log_pdf(candidates);
    const std::vector<double> log_g = above.log_pdf(candidates);
    for (size_t c = 0; c < score.size(); ++c) {
      score[c] += log_l[c] - log_g[c];
    }
  }
  size_t best = 0;
  double best_score = -std::numeric_limits<double>::infinity();
  for (size_t c = 0; c < score.size(); ++c) {
    if (score[c] > best_score) {
      best_score = score[c];
      best = c;
    }
  }
  return {candidates.begin() + static_cast<std::ptrdiff_t>(best * d),
          candidates.begin() + static_cast<std::ptrdiff_t>((best + 1) * d)};
}

}  // namespace

TpeOptions tpe_options_from_json(const Json& json) {
  OptionReader r("tpe sampler", json);
  TpeOptions o;
  // Counts that could not fit an int (or memory) are refused, not wrapped around.
  auto count = [&r](const char* name, int fallback, int64_t min_value, int64_t max_value) {
    const int64_t v = r.get_int(name, fallback, min_value);
    if (v > max_value) {
      throw std::invalid_argument(fmt::format(
          "tpe sampler option '{}' must be an integer <= {}, but got {}", name, max_value, v));
    }
    return static_cast<int>(v);
  };
  o.n_startup_trials = count("n_startup_trials", o.n_startup_trials, 0, k_max_count);
  o.n_ei_candidates = count("n_ei_candidates", o.n_ei_candidates, 1, k_max_candidates);
  const Json multivariate = r.get_json("multivariate");
  if (!multivariate.is_null()) {
    o.multivariate_given = true;
    o.multivariate_hybrid = multivariate == Json("hybrid");
    o.multivariate_auto = multivariate == Json("auto");
    if (multivariate.is_boolean()) {
      o.multivariate = r.get_bool("multivariate", o.multivariate);
    } else if (!o.multivariate_hybrid && !o.multivariate_auto) {
      throw std::invalid_argument(
          fmt::format("tpe sampler option 'multivariate' must be true, false, \"auto\" or "
                      "\"hybrid\", but got {}",
                      multivariate.dump()));
    }
  }
  if (r.get_bool("group", false)) {
    o.multivariate = true;
    o.multivariate_hybrid = false;
  }
  o.constant_liar = r.get_bool("constant_liar", o.constant_liar);
  const Json bandwidth = r.get_json("multivariate_bandwidth");
  if (bandwidth == Json("scott")) {
    o.multivariate_bandwidth = TpeOptions::Bandwidth::Scott;
  } else if (bandwidth == Json("neighbor")) {
    o.multivariate_bandwidth = TpeOptions::Bandwidth::Neighbor;
  } else if (!bandwidth.is_null() && bandwidth != Json("auto")) {
    throw std::invalid_argument(
        fmt::format("tpe sampler option 'multivariate_bandwidth' must be \"auto\", \"scott\" or "
                    "\"neighbor\", but got {}",
                    bandwidth.dump()));
  }
  o.n_univariate_candidates =
      count("n_univariate_candidates", o.n_univariate_candidates, 0, k_max_candidates);
  const Json score = r.get_json("mixed_score");
  if (score == Json("joint")) {
    o.mixed_score = TpeOptions::MixedScore::Joint;
  } else if (score == Json("univariate")) {
    o.mixed_score = TpeOptions::MixedScore::Univariate;
  } else if (score == Json("sum")) {
    o.mixed_score = TpeOptions::MixedScore::Sum;
  } else if (!score.is_null()) {
    throw std::invalid_argument(fmt::format(
        "tpe sampler option 'mixed_score' must be \"joint\", \"univariate\" or \"sum\", but got {}",
        score.dump()));
  }
  o.gamma_factor_auto = r.get_json("gamma_factor").is_null();
  o.gamma.factor = r.get_double("gamma_factor", o.gamma.factor, 1e-9, 1.0);
  o.gamma.max = count("gamma_max", o.gamma.max, 1, k_max_count);
  o.gamma.sqrt = r.get_bool("gamma_sqrt", o.gamma.sqrt);
  o.parzen.prior_in_bandwidth = r.get_bool("prior_in_bandwidth", o.parzen.prior_in_bandwidth);
  o.parzen.consider_prior = r.get_bool("consider_prior", o.parzen.consider_prior);
  o.parzen.prior_weight = r.get_double("prior_weight", o.parzen.prior_weight, 1e-300, 1e300);
  o.parzen.consider_magic_clip = r.get_bool("consider_magic_clip", o.parzen.consider_magic_clip);
  o.parzen.consider_endpoints = r.get_bool("consider_endpoints", o.parzen.consider_endpoints);
  r.finish();
  o.parzen.multivariate = o.multivariate;
  return o;
}

TpeSampler::TpeSampler(TpeOptions options, uint64_t seed)
    : m_options(std::move(options)), m_seed(seed) {
  m_options.parzen.multivariate = m_options.multivariate;
}

std::map<std::string, double> TpeSampler::sample(const SearchSpace& space,
                                                 const SampleContext& ctx) {
  Rng rng(derive_seed(m_seed, ctx.trial_number, "tpe"));
  std::vector<ParamTransform> transforms;
  transforms.reserve(space.size());
  for (const auto& entry : space) {
    transforms.push_back(make_transform(entry.second));
  }
  const std::vector<FrozenTrial> no_trials;
  const auto& trials = ctx.trials ? *ctx.trials : no_trials;
  const std::vector<Direction> directions = ctx.objective_directions();
  int n_varying = 0;
  for (const auto& entry : space) {
    n_varying += is_single(entry.second) ? 0 : 1;
  }
  const bool wide = n_varying >= k_auto_multivariate_params;
  const bool hybrid =
      m_options.multivariate_hybrid && (directions.size() <= 1 || m_options.multivariate_given);
  Gamma gamma = m_options.gamma;
  if (m_options.gamma_factor_auto) {
    gamma.factor = hybrid && wide ? k_hybrid_gamma_factor : Gamma{}.factor;
  }
  const ObservationSplit split =
      directions.size() > 1
          ? split_observations_multi_objective(trials, directions, ctx.trial_number)
          : split_observations(trials, ctx.direction, ctx.trial_number, m_options.constant_liar,
                               gamma);

  std::map<std::string, double> result;
  if (split.n_finished < m_options.n_startup_trials) {
    for (size_t p = 0; p < space.size(); ++p) {
      result[space[p].first] = sample_uniform(transforms[p], rng);
    }
    return result;
  }

  // Groups of parameters sampled jointly: one group (multivariate) or one per parameter.
  const bool joint = m_options.multivariate || hybrid || (m_options.multivariate_auto && wide);
  using Bandwidth = TpeOptions::Bandwidth;
  const Bandwidth bandwidth = m_options.multivariate_bandwidth;
  GroupSearch search;
  search.parzen = m_options.parzen;
  search.parzen.multivariate = joint && (bandwidth == Bandwidth::Scott ||
                                         (bandwidth == Bandwidth::Auto && !(hybrid && !wide)));
  search.univariate_parzen = m_options.parzen;
  search.univariate_parzen.multivariate = false;
  search.n_ei_candidates = m_options.n_ei_candidates;
  search.n_univariate_candidates = m_options.n_univariate_candidates >= 0
                                       ? m_options.n_univariate_candidates
                                       : (hybrid && wide ? m_options.n_ei_candidates : 0);
  search.mixed_score = m_options.mixed_score;
  std::vector<std::vector<size_t>> groups;
  for (size_t p = 0; p < space.size(); ++p) {
    if (is_single(space[p].second)) {
      result[space[p].first] = transforms[p].dist_low;
    } else if (joint && !groups.empty()) {
      groups.front().push_back(p);
    } else {
      groups.push_back({p});
    }
  }
  const Observations observations(space, transforms, split);
  for (const auto& group : groups) {
    const std::vector<double> best = best_candidate(observations, group, search, rng);
    for (size_t k = 0; k < group.size(); ++k) {
      const size_t p = group[k];
      result[space[p].first] = from_transformed(transforms[p], best[k]);
    }
  }
  return result;
}

}  // namespace hpt
