#pragma once
// TensorFlow Projector export: vectors.tsv, metadata.tsv, sprite.png,
// projector_config.pbtxt (TensorBoard) and projector_config.json (projector.tensorflow.org).

#include <torch/torch.h>

#include <string>
#include <vector>

namespace hpt::trainer {

// At most `most` of the rows 0..n-1, evenly spaced, in order: a split stored class by class
// keeps every class in proportion (the first rows would leave the last classes out).
std::vector<int64_t> evenly_spaced_rows(int64_t n, int64_t most);

// Writes the export for embeddings [N, D] with labels [N] and images uint8 [N, H, W, C]
// into dir; at most max_points rows (evenly_spaced_rows). Returns the rows written. Throws
// std::runtime_error naming a file that cannot be written.
int64_t write_projector(const std::string& dir, const torch::Tensor& embeddings,
                        const torch::Tensor& labels, const std::vector<std::string>& class_names,
                        const torch::Tensor& images, int64_t max_points = 10000);

}  // namespace hpt::trainer
