#pragma once
// Exhaustive grid search: every combination of each parameter's grid values, visited
// in a deterministic order that skips points other trials already hold.

#include <cstdint>
#include <vector>

#include "hpt/tuner/sampler.hpp"

namespace hpt {

// The trial system attributes of Optuna's GridSampler (3.1): the grid as {name: [values]} and
// the point's index in itertools.product over the names sorted. hpt writes them so that Optuna,
// continuing the study with the same grid, counts hpt's points as visited.
inline constexpr const char* k_optuna_grid_search_space_attr = "search_space";
inline constexpr const char* k_optuna_grid_id_attr = "grid_id";

// Each parameter's grid values (internal representation), in space order: the listed
// external values of search_space[name] when given, else every categorical choice or
// every int / stepped float value. Throws std::invalid_argument naming the parameter for a
// value outside its distribution, a continuous parameter with no values, an unknown
// name in search_space, or a grid of more than 10,000,000 points.
std::vector<std::vector<double>> grid_axes(const SearchSpace& space, const Json& search_space);

class GridSampler : public Sampler {
 public:
  // Throws as grid_axes does.
  GridSampler(SearchSpace space, const Json& search_space);
  // Grid point (first parameter most significant): the first one at or after
  // trial_number mod size (cyclically) that no finished or RUNNING trial holds; once all
  // are taken, the first not held by a finished trial; once all are finished, any. Puts
  // Optuna's grid attributes of the point in ctx.system_attrs.
  std::map<std::string, double> sample(const SearchSpace& space, const SampleContext& ctx) override;
  // Every grid point is held by a COMPLETE, PRUNED or RUNNING trial: no point is run twice at
  // once (a dead process's trial is re-run as an orphan instead). A point that only FAILed is
  // run again, up to study.max_failures (Optuna counts it as visited and stops).
  bool exhausted(const std::vector<FrozenTrial>& trials) const override;
  size_t size() const { return m_size; }
  // The parameters of grid point id. requires: id < size().
  std::map<std::string, double> point(size_t id) const;

 private:
  // The grid id of a trial's parameters, or size() if they are not a grid point.
  size_t id_of(const FrozenTrial& trial) const;
  // Each parameter's index on its axis at grid point id (first parameter most significant).
  std::vector<size_t> axis_indices(size_t id) const;
  // Optuna's search_space and grid_id attributes for grid point id.
  void add_optuna_grid_attrs(size_t id, std::map<std::string, Json>& attrs) const;

  SearchSpace m_space;
  std::vector<std::vector<double>> m_axes;
  size_t m_size = 1;
  std::vector<size_t> m_by_name;  // Parameter indices in name order (Optuna's grid order).
  Json m_optuna_search_space;     // {name: [external values]}, Optuna's search_space attribute.
};

}  // namespace hpt
