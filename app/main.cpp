#include "hpt/engine/cli.hpp"
#ifdef HPT_HAVE_REPORTS
#include "report_commands.hpp"
#endif

int main(int argc, char** argv) {
  std::vector<hpt::CommandRegistrar> registrars{hpt::add_trainer_passthrough};
#ifdef HPT_HAVE_REPORTS
  registrars.push_back(hpt::add_report_commands);
#endif
  return hpt::run_hpt(argc, argv, registrars);
}
