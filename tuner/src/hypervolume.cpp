#include "hpt/tuner/hypervolume.hpp"

#include <algorithm>
#include <cmath>

namespace hpt {

namespace {

constexpr double k_eps = 1e-12;

// |prod(a - b)| (Optuna's _compute_2points_volume).
double box_volume(const Point& a, const Point& b) {
  double v = 1.0;
  for (size_t i = 0; i < a.size(); ++i) {
    v *= a[i] - b[i];
  }
  return std::fabs(v);
}

// Optuna's _compute_2d: sweep by the first objective (ties: larger second first).
double hypervolume_2d(std::vector<Point> points, Point reference) {
  std::stable_sort(points.begin(), points.end(), [](const Point& a, const Point& b) {
    return a[0] != b[0] ? a[0] < b[0] : a[1] > b[1];
  });
  double volume = 0.0;
  for (const Point& p : points) {
    if (reference[1] < p[1]) {
      continue;
    }
    volume += box_volume(reference, p);
    reference[1] = p[1];
  }
  return volume;
}

double wfg(std::vector<Point> points, const Point& reference);

// Optuna's WFG._limit: max(s, point) for each s, thinned by one scan (points sorted by the
// first coordinate).
std::vector<Point> limit(const Point& point, const std::vector<Point>& points, size_t from) {
  std::vector<Point> limited;
  for (size_t k = from; k < points.size(); ++k) {
    Point q = points[k];
    for (size_t i = 0; i < q.size(); ++i) {
      q[i] = std::max(q[i], point[i]);
    }
    limited.push_back(std::move(q));
  }
  if (limited.size() <= 1) {
    return limited;
  }
  std::vector<Point> kept{limited[0]};
  size_t left = 0;
  for (size_t right = 1; right < limited.size(); ++right) {
    bool greater = false;
    for (size_t i = 0; i < limited[right].size(); ++i) {
      greater = greater || limited[left][i] > limited[right][i];
    }
    if (greater) {
      left = right;
      kept.push_back(limited[left]);
    }
  }
  return kept;
}

double exclusive(const Point& point, const std::vector<Point>& points, size_t from,
                 const Point& reference) {
  double volume = box_volume(point, reference);
  std::vector<Point> limited = limit(point, points, from);
  if (limited.size() == 1) {
    volume -= box_volume(limited[0], reference);
  } else if (limited.size() > 1) {
    volume -= wfg(std::move(limited), reference);
  }
  return volume;
}

double wfg(std::vector<Point> points, const Point& reference) {
  if (reference.size() == 2) {
    return hypervolume_2d(std::move(points), reference);
  }
  if (points.size() == 1) {
    return box_volume(points[0], reference);
  }
  if (points.size() == 2) {
    Point corner(reference.size());
    for (size_t i = 0; i < reference.size(); ++i) {
      corner[i] = reference[i] - std::max(points[0][i], points[1][i]);
    }
    double overlap = 1.0;
    for (double c : corner) {
      overlap *= c;
    }
    return box_volume(points[0], reference) + box_volume(points[1], reference) - overlap;
  }
  std::stable_sort(points.begin(), points.end(),
                   [](const Point& a, const Point& b) { return a[0] < b[0]; });
  double volume = 0.0;
  for (size_t i = 0; i < points.size(); ++i) {
    volume += exclusive(points[i], points, i + 1, reference);
  }
  return volume;
}

}  // namespace

double hypervolume(std::vector<Point> points, const Point& reference) {
  if (points.empty()) {
    return 0.0;
  }
  return wfg(std::move(points), reference);
}

std::vector<size_t> hypervolume_subset(const std::vector<Point>& points, size_t subset_size,
                                       const Point& reference) {
  std::vector<double> contributions;
  for (const Point& p : points) {
    contributions.push_back(hypervolume({p}, reference));
  }
  std::vector<bool> taken(points.size(), false);
  std::vector<Point> selected;
  std::vector<size_t> indices;
  double selected_volume = 0.0;
  while (indices.size() < subset_size && indices.size() < points.size()) {
    // np.argmax: the first largest, or the first NaN.
    size_t best = points.size();
    for (size_t j = 0; j < points.size(); ++j) {
      if (taken[j]) {
        continue;
      }
      if (best == points.size() || std::isnan(contributions[j]) ||
          (!std::isnan(contributions[best]) && contributions[j] > contributions[best])) {
        best = j;
        if (std::isnan(contributions[j])) {
          break;
        }
      }
    }
    taken[best] = true;
    const Point& chosen = points[best];
    for (size_t j = 0; j < points.size(); ++j) {
      if (taken[j]) {
        continue;
      }
      Point joint = chosen;
      for (size_t i = 0; i < joint.size(); ++i) {
        joint[i] = std::max(joint[i], points[j][i]);
      }
      std::vector<Point> with = selected;
      with.push_back(std::move(joint));
      contributions[j] -= hypervolume(std::move(with), reference) - selected_volume;
    }
    selected.push_back(chosen);
    indices.push_back(best);
    selected_volume = hypervolume(selected, reference);
  }
  return indices;
}

std::vector<double> hypervolume_contributions(const std::vector<Point>& points,
                                              const Point& reference) {
  const double all = hypervolume(points, reference);
  std::vector<double> out;
  for (size_t i = 0; i < points.size(); ++i) {
    std::vector<Point> others;
    for (size_t k = 0; k < points.size(); ++k) {
      if (k != i) {
        others.push_back(points[k]);
      }
    }
    out.push_back(all - hypervolume(std::move(others), reference));
  }
  return out;
}

Point motpe_reference_point(const std::vector<Point>& points) {
  Point worst = points.front();
  for (const Point& p : points) {
    for (size_t i = 0; i < worst.size(); ++i) {
      worst[i] = std::max(worst[i], p[i]);
    }
  }
  for (double& w : worst) {
    w = std::max(1.1 * w, 0.9 * w);
    if (w == 0.0) {
      w = k_eps;
    }
  }
  return worst;
}

}  // namespace hpt
