#include "report_commands.hpp"

#include <CLI/CLI.hpp>
#include <iostream>
#include <limits>
#include <optional>

#include "hpt/cli/run_app.hpp"
#include "hpt/engine/cli.hpp"
#include "hpt/engine/study_match.hpp"
#include "hpt/io/terminal_text.hpp"
#include "hpt/reports/report.hpp"
#include "hpt/storage/storage.hpp"
#include "hpt/storage/study_lookup.hpp"

namespace hpt {

namespace {

// Throws std::invalid_argument, one line, if `hpt verb` cannot rank the study's trials: a
// direction is NOT_SET (an Optuna study hpt cannot read the direction of).
void require_known_directions(Storage& storage, const std::string& study, const char* verb) {
  const StudyInfo info = resolve_study(storage, study);
  for (Direction d : info.directions) {
    if (d == Direction::NotSet) {
      throw std::invalid_argument("study '" + info.name + "' has direction " +
                                  directions_text(info.directions) + "; hpt " + verb +
                                  " needs a direction for every objective (hpt trials lists "
                                  "every value)");
    }
  }
}

}  // namespace

void add_report_commands(CLI::App& app) {
  struct Args {
    std::string db, study, out = "report.html", target = "value", format = "table";
    int objective = 0;
  };
  auto args = std::make_shared<Args>();
  auto* report = app.add_subcommand("report", "Render a study as one self-contained HTML file");
  add_database_argument(*report, args->db);
  add_study_option(*report, args->study, "Study name (default: the only study)");
  report->add_option("-o,--out", args->out,
                     "Output HTML file (default report.html; - for standard output)");
  report->callback([args] {
    if (args->out != "-") {
      check_output_path(args->out, args->db);
    }
    auto storage = open_storage(args->db, true);
    require_known_directions(*storage, args->study, "report");
    // A moved study folder is found beside its database (reports::log_folders).
    reports::write_report(*storage, args->study, args->out,
                          {reports::log_folders(args->db, {}), false});
    // stderr: stdout may be the report itself. The path escaped as in every error line.
    if (args->out != "-") {
      std::cerr << "hpt: wrote " << terminal_text(args->out) << "\n";
    }
  });
  auto* importance = app.add_subcommand("importance", "Parameter importances (fANOVA)");
  add_database_argument(*importance, args->db);
  add_study_option(*importance, args->study, "Study name (default: the only study)");
  importance->add_option("--target", args->target, "value or duration")
      ->check(CLI::IsMember({"value", "duration"}));
  importance->add_option("-f,--format", args->format, "table or json")
      ->check(CLI::IsMember({"table", "json"}));
  auto* objective = add_int_option(*importance, "--objective", args->objective,
                                   std::numeric_limits<int>::min(), std::numeric_limits<int>::max(),
                                   "Objective index, 0-based (multi-objective studies; default 0)");
  importance->callback([args, objective] {
    auto storage = open_storage(args->db, true);
    if (args->target == "value") {
      require_known_directions(*storage, args->study, "importance --target value");
    }
    std::cout << reports::importance_text(
        *storage, args->study, args->target, args->format,
        objective->count() > 0 ? std::optional<long long>(args->objective) : std::nullopt);
  });
}

}  // namespace hpt
