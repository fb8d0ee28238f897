#include "hpt/experiment/model_file.hpp"

#include <fmt/format.h>

#include <stdexcept>

#include "hpt/io/regular_file.hpp"
#include "hpt/tuner/distribution.hpp"

namespace hpt::trainer {

nlohmann::json read_model_file(const std::string& dir) {
  const std::string text = read_regular_file(dir + "/" + k_model_file, k_max_model_file_bytes);
  if (json_nesting_depth(text, k_max_json_depth) > k_max_json_depth) {
    throw std::invalid_argument(fmt::format("nested deeper than {} levels", k_max_json_depth));
  }
  return nlohmann::json::parse(text);
}

}  // namespace hpt::trainer
