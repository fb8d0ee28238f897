#pragma once
// "What the model learned": the built-in trainer's view of a trained model (test-split
// embeddings on their two principal components, the hardest wrong test pairs, recall@k),
// rendered as HTML for the study report, the dashboard and `hpt train`'s model_report.html.
//
// The trainer (trainer/src/model_view.cpp, which links LibTorch) writes the data as
// <trial dir>/model_view.json; this library (no LibTorch) only reads and renders it:
//   {"format": "hpt-model-view", "version": 1, "split": "test", "n_images": N,
//    "embedding_dim": D, "class_names": [name, ...], "pca_explained": [r1, r2],
//    "points": [[x, y, label, thumb], ...]      thumb: index into "thumbnails" or -1
//    "thumbnails": [base64 PNG, ...], "threshold": t (distance; "same" when d <= t),
//    "recall_at_k": [[k, recall], ...], "pairs": n test pairs, "false_matches": n,
//    "false_non_matches": n,
//    "hardest_false_matches": [pair, ...], "hardest_false_non_matches": [pair, ...]}
//   pair: {"distance": d, "a": {"label": l, "thumb": base64 PNG}, "b": {...}}

#include <optional>
#include <string>
#include <vector>

#include "hpt/tuner/distribution.hpp"

namespace hpt::reports {

// The "format" value of a model view.
inline constexpr const char* k_model_view_format = "hpt-model-view";

// The model view at path: a regular file (not a symbolic link) of at most 32 MiB holding a
// JSON object whose "format" is k_model_view_format; std::nullopt otherwise (absent, unreadable,
// too large, not JSON, another format, or opened outside `within` when that is given).
std::optional<Json> read_model_view(const std::string& path,
                                    const std::vector<std::string>& within = {});

// The view as an HTML <section id="model"> headed `heading`. Never throws on a malformed view:
// every text is escaped, a thumbnail is used only if it is base64 text, malformed parts are
// left out with a note, and at most 2,000 points and 8 MiB of thumbnails are drawn (so that
// a report stays small whatever the file holds).
std::string render_model_view(const Json& view, const std::string& heading);

// A whole self-contained page (model_report.html) showing the view of one trained model.
std::string render_model_report(const Json& view, const std::string& title);

}  // namespace hpt::reports
