#include "hpt/engine/device_check.hpp"

#include <fmt/format.h>
#include <sys/wait.h>

#include <algorithm>
#include <iterator>
#include <utility>
#include <vector>

#include "trainer_verb.hpp"

namespace hpt {

namespace {

// The values a trial can get for key (fixed, else default; each choice when it is searched),
// each with where it was set.
std::vector<std::pair<std::string, std::string>> values_of(const StudyConfig& c,
                                                           const std::string& key,
                                                           const std::string& fallback) {
  std::vector<std::pair<std::string, std::string>> out;
  const auto it = std::find_if(c.search_space.begin(), c.search_space.end(),
                               [&](const auto& entry) { return entry.first == key; });
  if (it != c.search_space.end()) {
    if (const auto* cat = std::get_if<CategoricalDistribution>(&it->second)) {
      for (const Json& choice : cat->choices) {
        if (choice.is_string()) {
          out.emplace_back(choice.get<std::string>(),
                           fmt::format("{}: search_space.{} (choice \"{}\")", c.file, key,
                                       choice.get<std::string>()));
        }
      }
    }
    return out;
  }
  const Json value = c.fixed.is_object() ? c.fixed.value(key, Json(fallback)) : Json(fallback);
  if (value.is_string()) {
    out.emplace_back(value.get<std::string>(), fmt::format("{}: fixed.{}", c.file, key));
  }
  return out;
}

}  // namespace

void check_trainer_devices(const StudyConfig& config,
                           const std::function<trainer::DeviceSupport()>& support) {
  const auto devices = values_of(config, "device", "auto");
  const auto precisions = values_of(config, "precision", "fp32");
  bool needs_cuda = false;
  for (const auto& [device, origin] : devices) {
    needs_cuda |= device.rfind("cuda", 0) == 0;
  }
  for (const auto& [precision, origin] : precisions) {
    needs_cuda |= precision == "fp16";
  }
  if (!needs_cuda) {
    return;
  }
  const trainer::DeviceSupport here = support();
  for (const auto& [device, device_origin] : devices) {
    const bool on_cuda = trainer::device_index(device, device_origin, here) >= 0;
    for (const auto& [precision, origin] : precisions) {
      trainer::check_precision(
          precision, on_cuda,
          devices.size() > 1 ? fmt::format("{} with device {}", origin, device) : origin);
    }
  }
}

trainer::DeviceSupport trainer_device_support(const std::string& trainer_exe) {
  std::string text;
  int status = -1;
  try {
    const TrainerVerbRun run = run_trainer_verb(trainer_exe, "devices");
    text = run.out;
    status = WIFEXITED(run.wait_status) ? WEXITSTATUS(run.wait_status) : -1;
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format(
        "the built-in trainer: cannot ask {} which devices it has: {}", trainer_exe, e.what()));
  }
  try {
    const Json j = Json::parse(text);
    if (status == 0) {
      return {j.at("cuda_available").get<bool>(), j.at("cuda_devices").get<int64_t>()};
    }
  } catch (const Json::exception&) {
  }
  throw std::runtime_error(fmt::format(
      "the built-in trainer: `{} devices` did not say which devices it has (exit status {})",
      trainer_exe, status));
}

std::string trainer_threads_note(const StudyConfig& config, int at_once, int cores) {
  if (!config.builtin_trainer() || config.search_space_has("threads") ||
      !config.fixed.is_object() || !config.fixed.contains("threads")) {
    return "";
  }
  const Json& t = config.fixed["threads"];
  const int64_t threads = t.is_number_integer() ? t.get<int64_t>() : 0;  // 0: LibTorch's default.
  const int64_t total = threads * std::max(1, at_once);
  if (threads <= 0 || total <= cores) {
    return "";
  }
  return fmt::format(
      "{}: {} threads a trial x {} trials at once = {} threads on {} cores: they "
      "spin against each other and slow every trial; set threads: {} or leave it out (hpt then "
      "gives each trial cores / trials at once)",
      config.origin("fixed.threads"), threads, std::max(1, at_once), total, cores,
      std::max(1, cores / std::max(1, at_once)));
}

}  // namespace hpt
