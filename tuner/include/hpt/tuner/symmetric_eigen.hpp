#pragma once
// Eigendecomposition of a small symmetric matrix (numpy.linalg.eigh's contract), for CMA-ES.

#include <cstddef>
#include <vector>

namespace hpt {

struct SymmetricEigen {
  std::vector<double> values;   // Ascending, as numpy's eigh.
  std::vector<double> vectors;  // n × n, row-major: column j is the unit eigenvector of values[j].
};

// The eigenvalues and orthonormal eigenvectors of the symmetric n × n matrix a (row-major; only
// its upper triangle is read), by cyclic Jacobi rotations: accurate to a few ulps of the largest
// eigenvalue, O(n^3) a sweep, a handful of sweeps. requires: a.size() == n * n, finite entries.
SymmetricEigen symmetric_eigen(std::vector<double> a, size_t n);

}  // namespace hpt
