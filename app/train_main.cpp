#include <CLI/CLI.hpp>

#include "hpt/cli/run_app.hpp"
#include "hpt/trainer/commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"hpt-train: the LibTorch trainer behind hpt train, match, embed and worker", "hpt"};
  hpt::trainer::add_trainer_commands(app);
  app.require_subcommand(1);
  return hpt::run_app(app, argc, argv);
}
