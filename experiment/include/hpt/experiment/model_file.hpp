#pragma once
// model.json, the file that makes a folder a saved model (the trainer's save_model writes it;
// load_model, hpt match/embed and hpt best --format experiment read it): the model's
// experiment config, head shape, extractor and decision threshold.

#include <nlohmann/json.hpp>
#include <string>

namespace hpt::trainer {

inline constexpr const char* k_model_file = "model.json";
// Far above a real model.json (the config and a few numbers).
inline constexpr size_t k_max_model_file_bytes = size_t{16} << 20;

// dir/model.json parsed: a regular file (never a FIFO) of at most k_max_model_file_bytes,
// nested at most k_max_json_depth levels (parsing, printing and converting JSON recurse once
// per level). Throws FileError when it cannot be read, std::invalid_argument when it is
// nested deeper, nlohmann::json::exception when it is not JSON.
nlohmann::json read_model_file(const std::string& dir);

}  // namespace hpt::trainer
