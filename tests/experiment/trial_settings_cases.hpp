#pragma once
// Parameter forms of the built-in trainer's search space, shared by the experiment library's
// test (merge_settings, the worker's rule) and the engine's (study validation), so both sides
// accept and refuse the same ones.

#include <string>
#include <vector>

namespace hpt::test {

struct SettingsCase {
  std::string param;        // Search-space name.
  std::string value;        // The sampled value, as JSON text.
  std::string check_key;    // Accepted: the top-level key of to_json to compare...
  std::string check_value;  // ...with this JSON text.
  std::string error;        // Refused: a part of the message ("" when accepted).
};

inline const std::vector<SettingsCase> k_settings_cases = {
    {"dataset.image_size", "32", "dataset",
     R"({"format":"idx","image_size":32,"path":"/d","test_fraction":0.1,"val_fraction":0.1})", ""},
    {"intermediate_ff_block_units", "\"512-256\"", "intermediate_ff_block_units", "[512,256]", ""},
    {"intermediate_ff_block_units", "\"none\"", "intermediate_ff_block_units", "[]", ""},
    {"intermediate_ff_block_units", "\"64x0\"", "", "",
     "intermediate_ff_block_units[1]: must be in [1, 16384], but got 0"},
    {"dataset.image_size", "8", "", "", "dataset.image_size: must be 0 (native) or 16 to 2048, got 8"},
    {"learning_rate", "0.01", "learning_rate", "0.01", ""},
};

}  // namespace hpt::test
