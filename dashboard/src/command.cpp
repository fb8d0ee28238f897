#include "hpt/dashboard/command.hpp"

#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <vector>

#include "hpt/cli/run_app.hpp"
#include "hpt/dashboard/api.hpp"
#include "hpt/dashboard/dashboard.hpp"
#include "hpt/dashboard/server.hpp"

namespace hpt::dashboard {

namespace {

// A page waits this long for a lost database server, then answers 503 (it waited ~26 s).
constexpr std::chrono::seconds k_dashboard_outage_wait{3};

}  // namespace

void add_dashboard_command(CLI::App& app) {
  struct Args {
    std::string db, study;
    std::vector<std::string> trials_dirs;
    ServeOptions serve;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "dashboard", "Serve a live, read-only dashboard of a study database (Ctrl-C stops it)");
  add_database_argument(*cmd, args->db, "Study database (SQLite path or postgresql:// URL)");
  add_study_option(*cmd, args->study, "Show only this study (default: every study)");
  cmd->add_option("--trials-dir", args->trials_dirs,
                  "Also show trial logs from this folder (a study's trials_dir; default: the "
                  "database's folder, or ./hpt_trials for a server URL); repeatable")
      ->check(CLI::Validator(
          [](const std::string& folder) {
            std::error_code ec;
            if (folder.empty()) {
              return std::string("must not be empty");
            }
            if (std::filesystem::is_directory(folder, ec)) {
              return std::string();
            }
            return std::filesystem::exists(folder, ec) ? "'" + folder + "' is not a folder"
                                                       : "no such folder '" + folder + "'";
          },
          "FOLDER"));
  cmd->add_option("--host", args->serve.host,
                  "Address to listen on (default 127.0.0.1: this machine only)");
  add_int_option(*cmd, "--port", args->serve.port, 0, 65535,
                 "Port (default 8080; 0: any free port)");
  cmd->callback([args] {
    limit_malloc_arenas();
    auto storage = open_storage(args->db, /*read_only=*/true);
    storage->set_outage_wait(k_dashboard_outage_wait, nullptr);
    Dashboard dashboard(std::move(storage), args->study,
                        reports::log_folders(args->db, args->trials_dirs));
    dashboard.on_file_moved(
        [](const std::string& note) { std::cerr << "hpt: warning: " << note << std::endl; });
    serve(dashboard, args->serve, [&](int port) {
      // Once listening: an address it cannot listen on is the one error, without a warning.
      if (!is_loopback_host(args->serve.host)) {
        std::cerr << "hpt: warning: listening on " << args->serve.host
                  << ", which other machines may reach: the dashboard has no login; anyone who "
                     "can connect sees the studies (prefer an SSH tunnel to 127.0.0.1)\n";
      }
      const std::string host =
          args->serve.host.find(':') != std::string::npos && args->serve.host.front() != '['
              ? "[" + args->serve.host + "]"
              : args->serve.host;
      std::cout << "hpt: dashboard at http://" << host << ":" << port
                << "/ (read-only; Ctrl-C stops it)" << std::endl;
    });
    std::cout << "hpt: dashboard stopped" << std::endl;
  });
}

}  // namespace hpt::dashboard
