#pragma once
// Before a study of the built-in trainer starts: every device and precision its trials can get
// is one this machine's trainer can run (a CPU-only LibTorch and device: cuda FAILed every
// trial, one by one, until max_failures).

#include <functional>
#include <string>

#include "hpt/engine/study_config.hpp"
#include "hpt/experiment/device_choice.hpp"

namespace hpt {

// Throws hpt::ConfigError "<file>: fixed.device: cuda requested, but ..." (or naming a
// search_space choice) for a device or precision key that the trainer's LibTorch cannot run,
// each precision with each device a trial can get. support is called (once) only when a key
// needs CUDA: cuda, cuda:N or fp16.
void check_trainer_devices(const StudyConfig& config,
                           const std::function<trainer::DeviceSupport()>& support);

// "<file>: fixed.threads: T threads a trial x N trials at once = T*N threads on C cores: ..."
// when a built-in-trainer study's fixed `threads` oversubscribes the cores (OpenMP threads that
// outnumber the cores spin against each other and slow every trial), else "". A searched or
// absent `threads` is not judged: without it hpt gives each trial cores / N.
std::string trainer_threads_note(const StudyConfig& config, int at_once, int cores);

// What the trainer at trainer_exe offers (`hpt-train devices`). Throws std::runtime_error when
// it cannot say.
trainer::DeviceSupport trainer_device_support(const std::string& trainer_exe);

}  // namespace hpt
