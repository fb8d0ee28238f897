#include "hpt/engine/dataset_check.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <regex>

#include "hpt/schema/config_error.hpp"

// As in worker_process.cpp (one definition of Boost.Process's launcher in every file).
#define BOOST_POSIX_HAS_VFORK 1
#include <boost/process/child.hpp>
#include <boost/process/env.hpp>
#include <boost/process/io.hpp>
#include <boost/process/pipe.hpp>

namespace hpt {

namespace {

// The last line of text that is not blank, without "hpt: error: ".
std::string last_error(const std::string& text) {
  std::string line;
  size_t end = text.size();
  while (end > 0 && line.empty()) {
    const size_t start = text.rfind('\n', end - 1);
    const size_t from = start == std::string::npos ? 0 : start + 1;
    line = text.substr(from, end - from);
    if (line.find_first_not_of(" \t\r") == std::string::npos) {
      line.clear();
    }
    end = start == std::string::npos ? 0 : start;
  }
  const std::string prefix = "hpt: error: ";
  return line.rfind(prefix, 0) == 0 ? line.substr(prefix.size()) : line;
}

}  // namespace

void check_trainer_dataset(const StudyConfig& config, const std::string& trainer_exe) {
  if (!config.builtin_trainer() ||
      std::any_of(config.search_space.begin(), config.search_space.end(), [](const auto& p) {
        return p.first.rfind("dataset.", 0) == 0 || p.first == "feature_extractor";
      })) {
    return;
  }
  namespace bp = boost::process;
  std::string errors;
  int status = -1;
  try {
    bp::ipstream err;
    bp::child child(trainer_exe, "check-data", bp::env["HPT_FIXED"] = config.fixed.dump(),
                    bp::std_out > bp::null, bp::std_err > err, bp::std_in < bp::null);
    errors.assign(std::istreambuf_iterator<char>(err), {});
    child.wait();
    status = child.exit_code();
  } catch (const std::exception& e) {
    throw std::runtime_error(
        fmt::format("the built-in trainer: cannot run `{} check-data` to check the dataset: {}",
                    trainer_exe, e.what()));
  }
  if (status == 0) {
    return;
  }
  // The trainer names the setting, "HPT_FIXED: dataset.path: ..." (or "dataset.val_fraction:
  // ..." for one left at its default): in the study it is under fixed.
  std::string problem = last_error(errors);
  const std::string origin = "HPT_FIXED: ";
  if (problem.rfind(origin, 0) == 0) {
    problem = problem.substr(origin.size());
  }
  static const std::regex k_setting("[a-z_]+(\\.[a-z_0-9]+)*: .*");
  if (std::regex_match(problem, k_setting)) {
    throw ConfigError(fmt::format("{}: fixed.{}", config.file, problem));
  }
  throw ConfigError(fmt::format(
      "{}: fixed.dataset: the built-in trainer cannot load the dataset: {}", config.file,
      problem.empty() ? fmt::format("`{} check-data` exited with status {}", trainer_exe, status)
                      : problem));
}

}  // namespace hpt
