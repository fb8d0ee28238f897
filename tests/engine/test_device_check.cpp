#include <catch2/catch.hpp>

#include "hpt/engine/device_check.hpp"
#include "hpt/schema/config_error.hpp"
#include "support/temp_dir.hpp"

using hpt::trainer::DeviceSupport;

namespace {

hpt::StudyConfig study(const std::string& fixed, const std::string& space) {
  return hpt::parse_study_config(
      "study: {name: s, storage: s.db}\nobjective: {command: [w]}\nfixed: " + fixed +
          "\nsearch_space: " + space + "\n",
      "cfg.yaml");
}

}  // namespace

// The trainer is asked only when a key needs CUDA; each device a trial can get is checked,
// and each precision with each of them, naming where it was set.
TEST_CASE("check_trainer_devices refuses what the trainer cannot run", "[device_check]") {
  int asked = 0;
  const auto cpu_only = [&] {
    ++asked;
    return DeviceSupport{false, 0};
  };
  const std::string x = "{x: {type: float, low: 0, high: 1}}";
  CHECK_NOTHROW(hpt::check_trainer_devices(study("{}", x), cpu_only));
  CHECK_NOTHROW(hpt::check_trainer_devices(study("{device: cpu, precision: bf16}", x), cpu_only));
  CHECK(asked == 0);
  CHECK_THROWS_WITH(hpt::check_trainer_devices(study("{device: cuda}", x), cpu_only),
                    "cfg.yaml: fixed.device: cuda requested, but this hpt was built with a "
                    "CPU-only LibTorch (see scripts/gpu-check.sh)");
  CHECK(asked == 1);
  CHECK_THROWS_WITH(hpt::check_trainer_devices(study("{precision: fp16}", x), cpu_only),
                    Catch::StartsWith("cfg.yaml: fixed.precision: fp16 needs a CUDA device"));
  CHECK_THROWS_WITH(
      hpt::check_trainer_devices(
          study("{}", "{device: {type: categorical, choices: [cpu, \"cuda:1\"]}}"),
          [] {
            return DeviceSupport{true, 1};
          }),
      "cfg.yaml: search_space.device (choice \"cuda:1\"): cuda:1 requested, but only 1 CUDA "
      "device is visible");
  const auto one_gpu = [] { return DeviceSupport{true, 1}; };
  CHECK_NOTHROW(hpt::check_trainer_devices(study("{device: cuda, precision: fp16}", x), one_gpu));
  CHECK_THROWS_WITH(
      hpt::check_trainer_devices(
          study("{precision: fp16}", "{device: {type: categorical, choices: [cuda, cpu]}}"),
          one_gpu),
      Catch::StartsWith("cfg.yaml: fixed.precision with device cpu: fp16 needs a CUDA device"));
}

// `hpt-train devices` is read as JSON; a trainer that cannot say is one line naming it.
TEST_CASE("trainer_device_support asks the trainer", "[device_check]") {
  hpt::test::TempDir dir("devices");
  const auto support = hpt::trainer_device_support(dir.script(
      "ok", "[ \"$1\" = devices ] && echo '{\"cuda_available\": true, \"cuda_devices\": 3}'"));
  CHECK(support.cuda_available);
  CHECK(support.cuda_devices == 3);
  CHECK_THROWS_WITH(hpt::trainer_device_support(dir.script("garbage", "echo hello")),
                    Catch::Contains("devices` did not say which devices it has (exit status 0)"));
  CHECK_THROWS_WITH(hpt::trainer_device_support(dir.script("fails", "exit 7")),
                    Catch::Contains("(exit status 7)"));
  CHECK_THROWS_WITH(hpt::trainer_device_support(dir.file("missing")),
                    Catch::StartsWith("the built-in trainer: cannot ask"));
}

// A fixed `threads` times the trials at once beyond the cores is named with what to set; a
// searched, absent or default (0) one, a command objective, or one that fits, is not.
TEST_CASE("trainer_threads_note", "[device_check]") {
  const auto builtin = [](const std::string& fixed, const std::string& space) {
    std::string f = fixed;
    f.insert(1, "dataset: {format: idx, path: /}, ");
    return hpt::parse_study_config("study: {name: s, direction: maximize, storage: s.db}\nfixed: " +
                                       f + "\nsearch_space: " + space + "\n",
                                   "cfg.yaml");
  };
  const std::string x = "{dropout: {type: float, low: 0, high: 0.5}}";
  CHECK(hpt::trainer_threads_note(builtin("{threads: 2}", x), 2, 2) ==
        "cfg.yaml:2: fixed.threads: 2 threads a trial x 2 trials at once = 4 threads on 2 cores: "
        "they spin against each other and slow every trial; set threads: 1 or leave it out (hpt "
        "then gives each trial cores / trials at once)");
  CHECK(hpt::trainer_threads_note(builtin("{threads: 64}", x), 1, 16)
            .find("64 threads a trial x 1 trials at once = 64 threads on 16 cores") !=
        std::string::npos);
  CHECK(hpt::trainer_threads_note(builtin("{threads: 64}", x), 1, 16).find("set threads: 16") !=
        std::string::npos);
  CHECK(hpt::trainer_threads_note(builtin("{threads: 1}", x), 2, 2).empty());
  CHECK(hpt::trainer_threads_note(builtin("{threads: 0}", x), 4, 2).empty());
  CHECK(hpt::trainer_threads_note(builtin("{}", x), 4, 2).empty());
  CHECK(hpt::trainer_threads_note(builtin("{}", "{threads: {type: int, low: 1, high: 8}}"), 4, 2)
            .empty());
  CHECK(
      hpt::trainer_threads_note(study("{threads: 8}", "{x: {type: float, low: 0, high: 1}}"), 4, 2)
          .empty());  // A command.
}
