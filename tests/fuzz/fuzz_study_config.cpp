// libFuzzer target: the study-config loader must turn every input into either a
// StudyConfig or a ConfigError — never another exception, a crash, a hang or a memory
// blow-up (aliases expanding exponentially or referring to themselves, deep nesting).
#include <cstddef>
#include <cstdint>
#include <string>

#include "hpt/engine/study_config.hpp"
#include "hpt/schema/config_error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    hpt::parse_study_config(text, "fuzz.yaml");
  } catch (const hpt::ConfigError&) {
  }
  return 0;
}
