#include <c10/util/Exception.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <stdexcept>

#include "hpt/cli/run_app.hpp"
#include "hpt/trainer/commands.hpp"
#include "hpt/trainer/cpu_threads.hpp"
#include "hpt/trainer/torch_error.hpp"

int main(int argc, char** argv) {
  hpt::ignore_output_signals();  // Also when run by hand or as a study's worker.
  // Named as it was called: "hpt" when hpt runs it for hpt train/match/embed, else "hpt-train".
  const std::string name =
      argc > 0 ? std::filesystem::path(argv[0]).filename().string() : std::string();
  CLI::App app{"hpt-train: the LibTorch trainer behind hpt train, match, embed and worker",
               name.empty() ? "hpt-train" : name};
  if (const std::string warning = hpt::trainer::guard_omp_threads_env(); !warning.empty()) {
    hpt::print_warning(warning);
  }
  hpt::trainer::add_trainer_commands(app);
  app.require_subcommand(1);
  return hpt::with_error_policy([&] {
    try {
      return hpt::parse_app(app, argc, argv).value_or(0);
    } catch (const c10::Error& e) {  // Any LibTorch failure: its message, not its backtrace.
      throw std::runtime_error(hpt::trainer::torch_error_line(e));
    }
  });
}
