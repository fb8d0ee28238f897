#include "hpt/engine/cli.hpp"
#ifdef HPT_HAVE_REPORTS
#include "report_commands.hpp"
#endif
#ifdef HPT_HAVE_TRAINER
#include "hpt/trainer/commands.hpp"
#endif

int main(int argc, char** argv) {
  std::vector<hpt::CommandRegistrar> registrars;
#ifdef HPT_HAVE_REPORTS
  registrars.push_back(hpt::add_report_commands);
#endif
#ifdef HPT_HAVE_TRAINER
  registrars.push_back(hpt::trainer::add_trainer_commands);
#endif
  return hpt::run_hpt(argc, argv, registrars);
}
