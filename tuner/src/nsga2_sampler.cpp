#include "hpt/tuner/nsga2_sampler.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <stdexcept>
#include <utility>

#include "hpt/tuner/constraints.hpp"
#include "hpt/tuner/multi_objective.hpp"
#include "hpt/tuner/options.hpp"
#include "hpt/tuner/param_transform.hpp"

namespace hpt {

namespace {

constexpr double k_inf = std::numeric_limits<double>::infinity();

// A uniform index in [0, n) (numpy's rng.choice(n)). requires: n > 0.
size_t pick(Rng& rng, size_t n) {
  return std::min(n - 1, static_cast<size_t>(uniform01(rng) * static_cast<double>(n)));
}

// Optuna's domination between trials: constrained_dominates in a constrained study.
struct Dominance {
  const std::vector<Direction>& directions;
  bool constrained;
  bool operator()(const FrozenTrial* a, const FrozenTrial* b) const {
    return constrained ? constrained_dominates(*a, *b, directions)
                       : dominates(a->values, b->values, directions);
  }
};

// Optuna's _fast_non_dominated_sort, keeping its order within each rank (a removed member
// is replaced by the last one).
std::vector<std::vector<const FrozenTrial*>> fast_non_dominated_sort(
    std::vector<const FrozenTrial*> population, const Dominance& trial_dominates) {
  std::map<int, int> dominated_count;
  std::map<int, std::vector<int>> dominates_list;
  for (size_t i = 0; i < population.size(); ++i) {
    for (size_t j = i + 1; j < population.size(); ++j) {
      const FrozenTrial* p = population[i];
      const FrozenTrial* q = population[j];
      if (trial_dominates(p, q)) {
        dominates_list[p->number].push_back(q->number);
        ++dominated_count[q->number];
      } else if (trial_dominates(q, p)) {
        dominates_list[q->number].push_back(p->number);
        ++dominated_count[p->number];
      }
    }
  }
  std::vector<std::vector<const FrozenTrial*>> ranks;
  while (!population.empty()) {
    std::vector<const FrozenTrial*> front;
    size_t i = 0;
    while (i < population.size()) {
      if (dominated_count[population[i]->number] == 0) {
        front.push_back(population[i]);
        population[i] = population.back();
        population.pop_back();
      } else {
        ++i;
      }
    }
    if (front.empty()) {  // Cannot happen for a partial order; never loop forever.
      front = std::move(population);
      population.clear();
    }
    for (const FrozenTrial* x : front) {
      for (int y : dominates_list[x->number]) {
        --dominated_count[y];
      }
    }
    ranks.push_back(std::move(front));
  }
  return ranks;
}

// Optuna's _crowding_distance_sort: sorts population in place, largest distance first
// (Python's stable sorts, then a reversal).
void crowding_distance_sort(std::vector<const FrozenTrial*>& population) {
  std::map<int, double> distance;
  if (population.empty()) {
    return;
  }
  for (size_t i = 0; i < population[0]->values.size(); ++i) {
    std::stable_sort(
        population.begin(), population.end(),
        [i](const FrozenTrial* a, const FrozenTrial* b) { return a->values[i] < b->values[i]; });
    if (population.front()->values[i] == population.back()->values[i]) {
      continue;
    }
    std::vector<double> vs{-k_inf};
    for (const FrozenTrial* t : population) {
      vs.push_back(t->values[i]);
    }
    vs.push_back(k_inf);
    double v_min = k_inf;
    for (double x : vs) {
      if (x != -k_inf) {
        v_min = x;
        break;
      }
    }
    double v_max = -k_inf;
    for (auto it = vs.rbegin(); it != vs.rend(); ++it) {
      if (*it != k_inf) {
        v_max = *it;
        break;
      }
    }
    double width = v_max - v_min;
    if (!(width > 0)) {
      width = 1.0;
    }
    for (size_t j = 0; j < population.size(); ++j) {
      const double gap = vs[j] == vs[j + 2] ? 0.0 : vs[j + 2] - vs[j];
      distance[population[j]->number] += gap / width;
    }
  }
  std::stable_sort(population.begin(), population.end(),
                   [&](const FrozenTrial* a, const FrozenTrial* b) {
                     return distance[a->number] < distance[b->number];
                   });
  std::reverse(population.begin(), population.end());
}

// Optuna's _select_parent: the better of two uniform picks (the second unless the first
// dominates it), from population without exclude.
const FrozenTrial* select_parent(const std::vector<const FrozenTrial*>& population,
                                 const FrozenTrial* exclude, const Dominance& trial_dominates,
                                 Rng& rng) {
  std::vector<const FrozenTrial*> pool;
  for (const FrozenTrial* t : population) {
    if (t != exclude) {
      pool.push_back(t);
    }
  }
  const FrozenTrial* c0 = pool[pick(rng, pool.size())];
  const FrozenTrial* c1 = pool[pick(rng, pool.size())];
  return trial_dominates(c0, c1) ? c0 : c1;
}

// The parent's usable internal value of a parameter, if it has one inside dist.
std::optional<double> parent_value(const FrozenTrial& parent, const std::string& name,
                                   const Distribution& dist) {
  const auto p = parent.params.find(name);
  if (p == parent.params.end()) {
    return std::nullopt;
  }
  const auto d = parent.distributions.find(name);
  if (d != parent.distributions.end() && d->second.index() != dist.index()) {
    return std::nullopt;
  }
  if (!std::isfinite(p->second) || !contains(dist, p->second)) {
    return std::nullopt;
  }
  return p->second;
}

}  // namespace

Nsga2Options nsga2_options_from_json(const Json& json) {
  OptionReader r("nsga2 sampler", json);
  Nsga2Options o;
  const int64_t population_size = r.get_int("population_size", o.population_size, 2);
  if (population_size > 1000000) {  // Checked before the cast: 2^32 + 2 must not become 2.
    throw std::invalid_argument(
        fmt::format("nsga2 sampler option 'population_size' must be at most 1000000, but got {}",
                    population_size));
  }
  o.population_size = static_cast<int>(population_size);
  if (!r.get_json("mutation_prob").is_null()) {
    o.mutation_prob = r.get_double("mutation_prob", 0.0, 0.0, 1.0);
  }
  o.crossover_prob = r.get_double("crossover_prob", o.crossover_prob, 0.0, 1.0);
  o.swapping_prob = r.get_double("swapping_prob", o.swapping_prob, 0.0, 1.0);
  const Json crossover = r.get_json("crossover");
  if (!crossover.is_null() && crossover != Json("uniform")) {
    throw std::invalid_argument(fmt::format(
        "nsga2 sampler option 'crossover' must be \"uniform\" (the only crossover hpt has), "
        "but got {}",
        crossover.dump()));
  }
  r.finish();
  return o;
}

std::vector<const FrozenTrial*> nsga2_select_elite(std::vector<const FrozenTrial*> population,
                                                   const std::vector<Direction>& directions,
                                                   int population_size, bool constrained) {
  std::vector<const FrozenTrial*> elite;
  const auto size = static_cast<size_t>(population_size);
  for (auto& rank :
       fast_non_dominated_sort(std::move(population), Dominance{directions, constrained})) {
    if (elite.size() + rank.size() < size) {
      elite.insert(elite.end(), rank.begin(), rank.end());
    } else {
      crowding_distance_sort(rank);
      elite.insert(elite.end(), rank.begin(),
                   rank.begin() + static_cast<std::ptrdiff_t>(size - elite.size()));
      break;
    }
  }
  return elite;
}

Nsga2Parents nsga2_parent_population(const std::vector<FrozenTrial>& trials,
                                     const std::vector<Direction>& directions,
                                     int population_size) {
  std::map<int64_t, std::vector<const FrozenTrial*>> by_generation;
  for (const FrozenTrial& t : trials) {
    const auto g = t.system_attrs.find(k_nsga2_generation_attr);
    if (g == t.system_attrs.end() || !g->second.is_number_integer() ||
        t.state != TrialState::Complete || t.values.size() != directions.size()) {
      continue;
    }
    if (std::any_of(t.values.begin(), t.values.end(), [](double v) { return std::isnan(v); })) {
      continue;
    }
    by_generation[g->second.get<int64_t>()].push_back(&t);
  }
  Nsga2Parents out;
  out.constrained = constraints_reported(trials);
  while (true) {
    const auto found = by_generation.find(out.generation + 1);
    if (found == by_generation.end() ||
        found->second.size() < static_cast<size_t>(population_size)) {
      break;
    }
    std::vector<const FrozenTrial*> population = found->second;
    population.insert(population.end(), out.parents.begin(), out.parents.end());
    out.parents =
        nsga2_select_elite(std::move(population), directions, population_size, out.constrained);
    ++out.generation;
  }
  return out;
}

Nsga2Sampler::Nsga2Sampler(Nsga2Options options, uint64_t seed)
    : m_options(std::move(options)), m_seed(seed) {}

std::map<std::string, double> Nsga2Sampler::sample(const SearchSpace& space,
                                                   const SampleContext& ctx) {
  Rng rng(derive_seed(m_seed, ctx.trial_number, "nsga2"));
  const std::vector<FrozenTrial> no_trials;
  const std::vector<Direction> directions = ctx.objective_directions();
  // The trial being sampled is not COMPLETE, so it is in no population.
  const Nsga2Parents parents = nsga2_parent_population(ctx.trials ? *ctx.trials : no_trials,
                                                       directions, m_options.population_size);
  if (ctx.system_attrs) {
    (*ctx.system_attrs)[k_nsga2_generation_attr] = parents.generation + 1;
  }
  std::map<std::string, double> child;  // Parameters taken from a parent.
  std::vector<size_t> varying;          // Non-single parameters (Optuna's relative space).
  for (size_t p = 0; p < space.size(); ++p) {
    if (!is_single(space[p].second)) {
      varying.push_back(p);
    }
  }
  if (parents.generation >= 0 && !varying.empty()) {
    const auto& population = parents.parents;
    std::vector<const FrozenTrial*> chosen;
    if (uniform01(rng) < m_options.crossover_prob) {
      const Dominance dominance{directions, parents.constrained};
      const FrozenTrial* first = select_parent(population, nullptr, dominance, rng);
      const FrozenTrial* second = select_parent(population, first, dominance, rng);
      chosen = {first, second};
    } else {
      chosen = {population[pick(rng, population.size())]};
    }
    for (size_t p : varying) {
      // Uniform crossover: the second parent's value with probability swapping_prob.
      const bool swap = chosen.size() == 2 && uniform01(rng) < m_options.swapping_prob;
      const FrozenTrial& parent = *chosen[swap ? 1 : 0];
      if (auto v = parent_value(parent, space[p].first, space[p].second)) {
        child[space[p].first] = *v;
      }
    }
    const double mutation_prob =
        m_options.mutation_prob.value_or(1.0 / static_cast<double>(varying.size()));
    for (size_t p : varying) {
      if (uniform01(rng) < mutation_prob) {
        child.erase(space[p].first);
      }
    }
  }
  std::map<std::string, double> result;
  for (const auto& [name, dist] : space) {
    const auto c = child.find(name);
    result[name] = c != child.end() ? c->second : sample_uniform(make_transform(dist), rng);
  }
  return result;
}

}  // namespace hpt
