#include "hpt/tuner/cmaes_sampler.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <tuple>
#include <utility>
#include <variant>

#include "hpt/io/did_you_mean.hpp"
#include "hpt/tuner/options.hpp"
#include "hpt/tuner/param_transform.hpp"

namespace hpt {

namespace {

constexpr int k_max_popsize = 1000000;

bool is_numeric(const Distribution& d) {
  return !std::holds_alternative<CategoricalDistribution>(d);
}

// A float or int distribution's range as the config wrote it.
std::pair<double, double> declared_range(const Distribution& d) {
  if (const auto* f = std::get_if<FloatDistribution>(&d)) {
    return {f->low, f->high};
  }
  const auto& i = std::get<IntDistribution>(d);
  return {static_cast<double>(i.low), static_cast<double>(i.high)};
}

// A finished trial's value to minimise, if it counts for CMA-ES: COMPLETE with one value, or
// (consider_pruned) PRUNED with a number at its last step.
std::optional<double> fitness(const FrozenTrial& t, bool consider_pruned, Direction d) {
  std::optional<double> v;
  if (t.state == TrialState::Complete) {
    v = t.value;
  } else if (t.state == TrialState::Pruned && consider_pruned) {
    if (const auto step = t.last_step()) {
      v = t.intermediate_values.at(*step);
    }
  }
  if (!v || std::isnan(*v)) {
    return std::nullopt;
  }
  return d == Direction::Maximize ? -*v : *v;
}

// The trial's (restart, generation) from its generation attribute, if it has a usable one.
std::optional<std::pair<int, int>> generation_of(const FrozenTrial& t, bool restarts) {
  auto number = [](const Json& v) -> std::optional<int> {  // 3 or 3.0, as Python's 3 == 3.0.
    if (!v.is_number()) {
      return std::nullopt;
    }
    const double d = v.get<double>();
    if (d >= 0 && d <= std::numeric_limits<int>::max() && d == std::floor(d)) {
      return static_cast<int>(d);
    }
    return std::nullopt;
  };
  if (!restarts) {
    const auto a = t.system_attrs.find("cma:generation");
    const auto g = a == t.system_attrs.end() ? std::nullopt : number(a->second);
    return g ? std::optional<std::pair<int, int>>({0, *g}) : std::nullopt;
  }
  static const std::string k_prefix = "cma:restart_";
  static const std::string k_suffix = ":generation";
  for (auto a = t.system_attrs.lower_bound(k_prefix);
       a != t.system_attrs.end() && a->first.compare(0, k_prefix.size(), k_prefix) == 0; ++a) {
    const std::string& key = a->first;
    if (key.size() <= k_prefix.size() + k_suffix.size() ||
        key.compare(key.size() - k_suffix.size(), k_suffix.size(), k_suffix) != 0) {
      continue;
    }
    const std::string digits =
        key.substr(k_prefix.size(), key.size() - k_prefix.size() - k_suffix.size());
    if (digits.empty() || digits.size() > 9 || (digits.size() > 1 && digits[0] == '0') ||
        digits.find_first_not_of("0123456789") != std::string::npos) {  // As Python's str(r).
      continue;
    }
    if (const auto g = number(a->second)) {
      return std::pair<int, int>{std::stoi(digits), *g};
    }
  }
  return std::nullopt;
}

}  // namespace

std::string CmaEsSampler::space_warning(const SearchSpace& space) const {
  const size_t n = varying_numeric_params(space).size();
  if (n >= 2) {
    return "";
  }
  return fmt::format(
      "the cmaes sampler samples two or more float or int parameters that vary, and this space "
      "has {}: its {} sampler samples every parameter",
      n, m_options.independent.type);
}

std::string cmaes_generation_attr(bool restarts, int restart) {
  return restarts ? fmt::format("cma:restart_{}:generation", restart) : "cma:generation";
}

CmaEsOptions cmaes_options_from_json(const Json& json, const SearchSpace& space) {
  OptionReader r("cmaes sampler", json);
  CmaEsOptions o;
  for (const char* name : {"with_margin", "use_separable_cma", "lr_adapt", "source_trials"}) {
    if (r.has(name)) {
      throw std::invalid_argument(
          fmt::format("cmaes sampler option '{}' is Optuna's, but hpt does not offer it", name));
    }
  }
  const Json x0 = r.get_json("x0");
  if (!x0.is_null() && !x0.is_object()) {
    throw std::invalid_argument(fmt::format(
        "cmaes sampler option 'x0' must be a mapping of parameter names to values, but got {}",
        x0.dump()));
  }
  if (x0.is_object()) {
    std::vector<std::string> names;
    for (const auto& [name, dist] : space) {
      if (is_numeric(dist)) {
        names.push_back(name);
      }
    }
    for (const auto& item : x0.items()) {
      const std::string name = item.key();  // Not a structured binding: the lambda takes it.
      const Json& value = item.value();
      const auto it =
          std::find_if(space.begin(), space.end(), [&](const auto& p) { return p.first == name; });
      if (it == space.end()) {
        throw std::invalid_argument(
            fmt::format("cmaes sampler option 'x0': unknown parameter '{}'{}", name,
                        did_you_mean(name, names)));
      }
      if (!is_numeric(it->second)) {
        throw std::invalid_argument(fmt::format(
            "cmaes sampler option 'x0': '{}' is categorical; x0 sets float and int parameters "
            "(categoricals come from the independent sampler)",
            name));
      }
      const auto [low, high] = declared_range(it->second);
      if (!value.is_number() || !(value.get<double>() >= low) || !(value.get<double>() <= high)) {
        throw std::invalid_argument(
            fmt::format("cmaes sampler option 'x0': '{}' must be a number in [{}, {}], but got {}",
                        name, low, high, value.dump()));
      }
      o.x0[name] = value.get<double>();
    }
  }
  // A fraction of each range: below 1e-10 (Optuna's floor) the updates overflow; above 1 most
  // samples are clipped onto the bounds.
  o.sigma0 = r.get_double("sigma0", o.sigma0, 1e-10, 1.0);
  o.n_startup_trials = static_cast<int>(
      r.get_int("n_startup_trials", o.n_startup_trials, 0, std::numeric_limits<int>::max()));
  o.independent = read_independent_sampler(r, "cmaes sampler", space);
  o.consider_pruned_trials = r.get_bool("consider_pruned_trials", o.consider_pruned_trials);
  const Json restart = r.get_json("restart_strategy");
  if (restart == "ipop") {
    o.ipop = true;
  } else if (!restart.is_null()) {
    throw std::invalid_argument(
        fmt::format("cmaes sampler option 'restart_strategy' must be ipop or null, but got {}{}",
                    restart.dump(), restart == "bipop" ? " (hpt does not offer bipop)" : ""));
  }
  o.popsize = static_cast<int>(r.get_int("popsize", o.popsize, 2, k_max_popsize));
  if (r.has("inc_popsize") && !o.ipop) {
    throw std::invalid_argument(
        "cmaes sampler option 'inc_popsize' applies at restarts: give restart_strategy: ipop too");
  }
  o.inc_popsize = static_cast<int>(r.get_int("inc_popsize", o.inc_popsize, 1, 1000));
  r.finish();
  return o;
}

// The optimiser after the generations told so far, and what they were: a memo, so that each
// sample tells only the generations finished since the last one.
struct CmaEsSampler::Replay {
  struct Told {
    std::pair<int, int> generation;            // (restart, generation)
    std::vector<std::pair<int, double>> told;  // Its trials told (number, value), in order.
  };
  std::vector<std::string> names;  // The CMA-ES parameters, and their transforms.
  std::vector<ParamTransform> transforms;
  std::vector<Told> told;
  int restart = 0;
  Cma cma;
};

namespace {

struct Member {
  int number;
  std::vector<double> x;  // Its CMA-ES parameters in [0, 1].
  double value;           // To minimise.
};
using Generations = std::map<std::pair<int, int>, std::vector<Member>>;

// The finished trials holding every CMA-ES parameter inside the space, by (restart, generation),
// the first finished first (by completion time, then number).
Generations generations_of(std::vector<std::pair<const FrozenTrial*, double>> finished,
                           const SearchSpace& space, const std::vector<size_t>& params,
                           const std::vector<ParamTransform>& transforms, bool restarts) {
  // Timed trials first, by time, then by number (a strict weak order even with missing times).
  std::stable_sort(finished.begin(), finished.end(), [](const auto& a, const auto& b) {
    const auto& ta = a.first->datetime_complete;
    const auto& tb = b.first->datetime_complete;
    return std::make_tuple(!ta, ta.value_or(Clock::time_point{}), a.first->number) <
           std::make_tuple(!tb, tb.value_or(Clock::time_point{}), b.first->number);
  });
  Generations out;
  for (const auto& [t, value] : finished) {
    const auto g = generation_of(*t, restarts);
    std::vector<double> x(params.size());
    bool inside = g.has_value();
    for (size_t i = 0; i < params.size() && inside; ++i) {
      const auto v = t->params.find(space[params[i]].first);
      inside = v != t->params.end() && contains(space[params[i]].second, v->second);
      if (inside) {
        x[i] = to_unit(transforms[i], v->second);
      }
    }
    if (inside) {
      out[*g].push_back({t->number, std::move(x), value});
    }
  }
  return out;
}

}  // namespace

CmaEsSampler::CmaEsSampler(CmaEsOptions options, uint64_t seed)
    : m_options(std::move(options)), m_seed(seed) {
  m_independent = make_sampler(m_options.independent, seed);
}

CmaEsSampler::~CmaEsSampler() = default;

Cma CmaEsSampler::fresh_optimizer(const std::vector<std::string>& names,
                                  const std::vector<ParamTransform>& transforms, int restart,
                                  int popsize) const {
  const size_t n = names.size();
  std::vector<double> mean(n, 0.5);
  Rng rng(derive_seed(m_seed, restart, "cmaes-restart"));
  for (size_t i = 0; i < n; ++i) {
    const auto x0 = m_options.x0.find(names[i]);
    if (restart > 0) {  // ipop restarts from a uniform random point (Optuna's).
      mean[i] = uniform01(rng);
    } else if (x0 != m_options.x0.end()) {
      mean[i] = to_unit(transforms[i], x0->second);
    }
  }
  return Cma(mean, m_options.sigma0, std::vector<double>(n, 0.0), std::vector<double>(n, 1.0),
             popsize, 10 * static_cast<int>(n));
}

CmaEsSampler::Replay& CmaEsSampler::replay(
    const SearchSpace& space, const std::vector<size_t>& params,
    std::vector<std::pair<const FrozenTrial*, double>> finished) {
  std::vector<std::string> names;
  std::vector<ParamTransform> transforms;
  for (size_t p : params) {
    names.push_back(space[p].first);
    transforms.push_back(make_transform(space[p].second));
  }
  const Generations generations =
      generations_of(std::move(finished), space, params, transforms, m_options.ipop);
  auto told_of = [](const std::vector<Member>& members, size_t count) {
    std::vector<std::pair<int, double>> out;
    for (size_t i = 0; i < count; ++i) {
      out.emplace_back(members[i].number, members[i].value);
    }
    return out;
  };
  // The memo holds if it was built for these parameters and each generation it told still
  // begins with the trials it was told.
  bool memo = m_replay && m_replay->names == names;
  for (size_t i = 0; memo && i < m_replay->told.size(); ++i) {
    const auto& told = m_replay->told[i];
    const auto g = generations.find(told.generation);
    memo = g != generations.end() && g->second.size() >= told.told.size() &&
           told_of(g->second, told.told.size()) == told.told;
  }
  if (!memo) {
    Cma cma = fresh_optimizer(names, transforms, 0, m_options.popsize);
    m_replay = std::make_unique<Replay>(Replay{names, transforms, {}, 0, std::move(cma)});
  }
  Replay& r = *m_replay;
  for (;;) {
    const std::pair<int, int> key{r.restart, r.cma.generation()};
    const auto g = generations.find(key);
    const size_t popsize = static_cast<size_t>(r.cma.population_size());
    if (g == generations.end() || g->second.size() < popsize) {
      return r;
    }
    std::vector<std::pair<std::vector<double>, double>> solutions;
    for (size_t i = 0; i < popsize; ++i) {
      solutions.emplace_back(g->second[i].x, g->second[i].value);
    }
    r.cma.tell(std::move(solutions));
    r.told.push_back({key, told_of(g->second, popsize)});
    if (m_options.ipop && r.cma.should_stop()) {
      const int64_t next = int64_t{r.cma.population_size()} * m_options.inc_popsize;
      ++r.restart;
      r.cma = fresh_optimizer(r.names, r.transforms, r.restart,
                              static_cast<int>(std::min<int64_t>(next, k_max_popsize)));
    }
  }
}

std::map<std::string, double> CmaEsSampler::sample(const SearchSpace& space,
                                                   const SampleContext& ctx) {
  const std::vector<Direction> directions = ctx.objective_directions();
  if (directions.size() != 1) {
    throw std::invalid_argument(
        "the cmaes sampler optimises one objective (as Optuna's CmaEsSampler); use tpe or nsga2");
  }
  const std::vector<FrozenTrial> no_trials;
  const std::vector<FrozenTrial>& trials = ctx.trials ? *ctx.trials : no_trials;
  const std::vector<size_t> params = varying_numeric_params(space);
  // Finished trials that count, with their values to minimise.
  std::vector<std::pair<const FrozenTrial*, double>> finished;
  for (const auto& t : trials) {
    if (t.number == ctx.trial_number) {
      continue;
    }
    if (auto f = fitness(t, m_options.consider_pruned_trials, directions[0])) {
      finished.emplace_back(&t, *f);
    }
  }
  if (params.size() < 2 || static_cast<int>(finished.size()) < m_options.n_startup_trials) {
    return m_independent->sample(space, ctx);  // As Optuna: CMA-ES needs two dimensions.
  }
  Replay& r = replay(space, params, std::move(finished));
  const size_t n = params.size();
  Rng rng(derive_seed(m_seed, ctx.trial_number, "cmaes"));
  const std::vector<double> x = r.cma.ask(rng);
  if (ctx.system_attrs) {
    (*ctx.system_attrs)[cmaes_generation_attr(m_options.ipop, r.restart)] = r.cma.generation();
    if (m_options.ipop) {
      (*ctx.system_attrs)[k_cmaes_restarts_attr] = r.restart;
    }
  }
  std::map<std::string, double> out = sample_rest(*m_independent, space, params, ctx);
  for (size_t i = 0; i < n; ++i) {
    out[r.names[i]] = from_unit(r.transforms[i], x[i]);
  }
  return out;
}

}  // namespace hpt
