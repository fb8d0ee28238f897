#pragma once
// `hpt dashboard DB [--study NAME] [--host 127.0.0.1] [--port 8080]`: CLI glue (a registrar
// for hpt::run_hpt).

namespace CLI {
class App;
}

namespace hpt::dashboard {

void add_dashboard_command(CLI::App& app);

}  // namespace hpt::dashboard
