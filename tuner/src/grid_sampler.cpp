#include "hpt/tuner/grid_sampler.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>
#include <stdexcept>

#include "hpt/io/did_you_mean.hpp"
#include "hpt/tuner/options.hpp"

namespace hpt {

namespace {

constexpr size_t k_max_grid = 10'000'000;

bool same_value(double a, double b) {
  return a == b || std::abs(a - b) <= 1e-9 * std::max(1.0, std::abs(a));
}

std::vector<double> default_axis(const std::string& name, const Distribution& dist) {
  std::vector<double> axis;
  if (const auto* c = std::get_if<CategoricalDistribution>(&dist)) {
    for (size_t i = 0; i < c->choices.size(); ++i) {
      axis.push_back(static_cast<double>(i));
    }
  } else if (const auto* i = std::get_if<IntDistribution>(&dist)) {
    // Counted in uint64: high - low fits there for any int64 bounds (requires low <= high,
    // step >= 1).
    const uint64_t width = static_cast<uint64_t>(i->high) - static_cast<uint64_t>(i->low);
    const uint64_t step = static_cast<uint64_t>(i->step);
    if (width / step >= k_max_grid) {
      throw std::invalid_argument(fmt::format(
          "grid sampler: parameter '{}' has too many values; list them in 'search_space'", name));
    }
    for (uint64_t k = 0; k <= width / step; ++k) {
      const uint64_t v = static_cast<uint64_t>(i->low) + k * step;  // <= high: no wrap.
      axis.push_back(static_cast<double>(static_cast<int64_t>(v)));
    }
  } else {
    const auto& f = std::get<FloatDistribution>(dist);
    if (f.low == f.high) {
      axis.push_back(f.low);
    } else if (!f.step) {
      throw std::invalid_argument(fmt::format(
          "grid sampler needs 'search_space' values for continuous parameter '{}'", name));
    } else {
      const double n = std::floor((f.high - f.low) / *f.step + 1e-9);
      if (n >= static_cast<double>(k_max_grid)) {
        throw std::invalid_argument(fmt::format(
            "grid sampler: parameter '{}' has too many values; list them in 'search_space'", name));
      }
      for (int k = 0; k <= static_cast<int>(n); ++k) {
        axis.push_back(f.low + k * *f.step);
      }
    }
  }
  return axis;
}

}  // namespace

std::vector<std::vector<double>> grid_axes(const SearchSpace& space, const Json& search_space) {
  if (!search_space.is_null() && !search_space.is_object()) {
    throw std::invalid_argument(fmt::format(
        "grid sampler option 'search_space' must be a mapping, but got {}", search_space.dump()));
  }
  std::vector<std::string> names;
  for (const auto& entry : space) {
    names.push_back(entry.first);
  }
  if (search_space.is_object()) {
    for (const auto& item : search_space.items()) {
      bool known = false;
      for (const auto& n : names) {
        known = known || n == item.key();
      }
      if (!known) {
        throw std::invalid_argument(
            fmt::format("grid sampler 'search_space' names unknown parameter '{}'{}", item.key(),
                        did_you_mean(item.key(), names)));
      }
    }
  }
  std::vector<std::vector<double>> axes;
  double total = 1.0;
  for (const auto& [name, dist] : space) {
    std::vector<double> axis;
    if (search_space.is_object() && search_space.contains(name)) {
      const Json& values = search_space.at(name);
      if (!values.is_array() || values.empty()) {
        throw std::invalid_argument(
            fmt::format("grid sampler 'search_space' of '{}' must be a non-empty list, but got {}",
                        name, values.dump()));
      }
      for (const Json& v : values) {
        double internal;
        try {
          internal = to_internal(dist, v);
        } catch (const std::invalid_argument& e) {
          throw std::invalid_argument(
              fmt::format("grid sampler 'search_space' of '{}': {}", name, e.what()));
        }
        if (!contains(dist, internal)) {
          throw std::invalid_argument(fmt::format(
              "grid sampler 'search_space' of '{}': value {} is outside its {} distribution", name,
              v.dump(), kind_name(dist)));
        }
        bool duplicate = false;
        for (double a : axis) {
          duplicate = duplicate || same_value(a, internal);
        }
        if (!duplicate) {
          axis.push_back(internal);
        }
      }
    } else {
      axis = default_axis(name, dist);
    }
    total *= static_cast<double>(axis.size());
    if (total > static_cast<double>(k_max_grid)) {
      throw std::invalid_argument(fmt::format(
          "grid sampler: the grid has more than {} points (at parameter '{}')", k_max_grid, name));
    }
    axes.push_back(std::move(axis));
  }
  return axes;
}

GridSampler::GridSampler(SearchSpace space, const Json& search_space)
    : m_space(std::move(space)), m_axes(grid_axes(m_space, search_space)) {
  for (const auto& axis : m_axes) {
    m_size *= axis.size();
  }
  // Optuna's grid: {name: [values]}, numbered as itertools.product over the names sorted.
  m_by_name.resize(m_axes.size());
  std::iota(m_by_name.begin(), m_by_name.end(), 0);
  std::sort(m_by_name.begin(), m_by_name.end(),
            [&](size_t a, size_t b) { return m_space[a].first < m_space[b].first; });
  m_optuna_search_space = Json::object();
  for (size_t p = 0; p < m_axes.size(); ++p) {
    Json& values = m_optuna_search_space[m_space[p].first] = Json::array();
    for (double v : m_axes[p]) {
      values.push_back(to_optuna_external(m_space[p].second, v));
    }
  }
}

std::vector<size_t> GridSampler::axis_indices(size_t id) const {
  std::vector<size_t> index(m_axes.size());
  for (size_t p = m_axes.size(); p-- > 0;) {
    index[p] = id % m_axes[p].size();
    id /= m_axes[p].size();
  }
  return index;
}

std::map<std::string, double> GridSampler::point(size_t id) const {
  const std::vector<size_t> index = axis_indices(id);
  std::map<std::string, double> result;
  for (size_t p = 0; p < m_axes.size(); ++p) {
    result[m_space[p].first] = m_axes[p][index[p]];
  }
  return result;
}

size_t GridSampler::id_of(const FrozenTrial& trial) const {
  size_t id = 0;
  for (size_t p = 0; p < m_axes.size(); ++p) {
    auto it = trial.params.find(m_space[p].first);
    if (it == trial.params.end()) {
      return m_size;
    }
    size_t k = 0;
    while (k < m_axes[p].size() && !same_value(m_axes[p][k], it->second)) {
      ++k;
    }
    if (k == m_axes[p].size()) {
      return m_size;
    }
    id = id * m_axes[p].size() + k;
  }
  return id;
}

namespace {

// What a trial of this state makes of its point, the least first: 0 nothing (WAITING), 1 tried
// (only FAILed: run again, after the points never run), 2 taken (RUNNING), 3 done (COMPLETE or
// PRUNED). A point taken or done counts as run (exhausted).
unsigned char point_use(TrialState state) {
  return state == TrialState::Fail      ? 1
         : state == TrialState::Running ? 2
         : is_finished(state)           ? 3
                                        : 0;
}

}  // namespace

bool GridSampler::exhausted(const std::vector<FrozenTrial>& trials) const {
  std::vector<bool> done(m_size, false);
  size_t left = m_size;
  for (const FrozenTrial& t : trials) {
    const size_t id = point_use(t.state) >= 2 ? id_of(t) : m_size;
    if (id < m_size && !done[id]) {
      done[id] = true;
      --left;
    }
  }
  return left == 0;
}

std::map<std::string, double> GridSampler::sample(const SearchSpace& /*space*/,
                                                  const SampleContext& ctx) {
  std::vector<unsigned char> held(m_size, 0);  // Each point's point_use.
  if (ctx.trials) {
    for (const FrozenTrial& t : *ctx.trials) {
      const unsigned char use = point_use(t.state);
      const size_t id = t.number == ctx.trial_number || use == 0 ? m_size : id_of(t);
      if (id < m_size) {
        held[id] = std::max(held[id], use);
      }
    }
  }
  const size_t start = static_cast<size_t>(std::max(ctx.trial_number, 0)) % m_size;
  const size_t chosen = [&] {
    for (unsigned char limit : {0, 1, 2, 3}) {
      for (size_t k = 0; k < m_size; ++k) {
        if (held[(start + k) % m_size] <= limit) {
          return (start + k) % m_size;
        }
      }
    }
    return start;
  }();
  if (ctx.system_attrs) {
    add_optuna_grid_attrs(chosen, *ctx.system_attrs);
  }
  return point(chosen);
}

void GridSampler::add_optuna_grid_attrs(size_t id, std::map<std::string, Json>& attrs) const {
  const std::vector<size_t> index = axis_indices(id);
  size_t optuna_id = 0;
  for (size_t p : m_by_name) {
    optuna_id = optuna_id * m_axes[p].size() + index[p];
  }
  attrs[k_optuna_grid_search_space_attr] = m_optuna_search_space;
  attrs[k_optuna_grid_id_attr] = optuna_id;
}

}  // namespace hpt
