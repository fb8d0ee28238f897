#include "hpt/engine/cli.hpp"
#ifdef HPT_HAVE_REPORTS
#include "report_commands.hpp"
#endif
#ifdef HPT_HAVE_DASHBOARD
#include "hpt/dashboard/command.hpp"
#endif

int main(int argc, char** argv) {
  std::vector<hpt::CommandRegistrar> registrars{hpt::add_trainer_passthrough};
#ifdef HPT_HAVE_REPORTS
  registrars.push_back(hpt::add_report_commands);
#endif
#ifdef HPT_HAVE_DASHBOARD
  registrars.push_back(hpt::dashboard::add_dashboard_command);
#endif
  return hpt::run_hpt(argc, argv, registrars);
}
