// libFuzzer target: the experiment config (hpt train --config) read through the shared YAML
// loader must end in an ExperimentConfig or a ConfigError, like the study config.
#include <cstddef>
#include <cstdint>
#include <string>

#include "hpt/schema/config_error.hpp"
#include "hpt/experiment/experiment_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    hpt::trainer::parse_experiment(hpt::parse_yaml(text, "fuzz.yaml"), "fuzz.yaml");
  } catch (const hpt::ConfigError&) {
  }
  return 0;
}
