#pragma once
// `hpt report` and `hpt importance`: thin CLI glue over hpt::reports.

namespace CLI {
class App;
}

namespace hpt {

void add_report_commands(CLI::App& app);

}  // namespace hpt
