#include "hpt/dashboard/command.hpp"
#include "hpt/engine/cli.hpp"
#include "report_commands.hpp"

int main(int argc, char** argv) {
  return hpt::run_hpt(argc, argv,
                      {hpt::add_trainer_passthrough, hpt::add_report_commands,
                       hpt::dashboard::add_dashboard_command});
}
