#pragma once
// Hypervolume of points in a minimised objective space (Optuna 3.1's WFG and its greedy
// hypervolume subset selection), for multi-objective TPE and the benchmarks.

#include <cstddef>
#include <vector>

namespace hpt {

using Point = std::vector<double>;

// The volume dominated by points and bounded by reference (Optuna's WFG().compute: exact,
// any dimension; a dedicated sweep for two objectives).
// requires: every point has reference.size() coordinates, each <= the reference's.
double hypervolume(std::vector<Point> points, const Point& reference);

// The indices (into points) of subset_size points chosen greedily for the largest
// hypervolume (Optuna's _solve_hssp, a 1 - 1/e approximation), in the order chosen.
// requires: subset_size <= points.size(); as hypervolume.
std::vector<std::size_t> hypervolume_subset(const std::vector<Point>& points,
                                            std::size_t subset_size, const Point& reference);

// Each point's share of the hypervolume: hv(all) - hv(all but it).
std::vector<double> hypervolume_contributions(const std::vector<Point>& points,
                                              const Point& reference);

// Optuna's MOTPE reference point for points: max(1.1 w, 0.9 w) of the worst point w,
// coordinates that come out 0 set to 1e-12. requires: points not empty.
Point motpe_reference_point(const std::vector<Point>& points);

}  // namespace hpt
