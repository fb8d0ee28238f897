#pragma once
// The hpt command line: `hpt --config FILE --trials N ...` runs a study; the study
// verbs (studies, trials, best) read a study database. Other components add their
// verbs through registrars.

#include <functional>
#include <string>
#include <vector>

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace hpt {

class Storage;
struct StudyInfo;

using CommandRegistrar = std::function<void(CLI::App&)>;

// Parses argv and runs the command. Every error is printed as one line
// "hpt: error: ..." on stderr; returns the process exit code.
int run_hpt(int argc, char** argv, const std::vector<CommandRegistrar>& registrars);

// Refuses (std::invalid_argument, one line) an output path that is an existing file other
// than an HTML page (a config, a script: `-o hpt_config.yaml` by mistake), or the study
// database of storage_url or one of its -wal, -shm or -journal files: by name (after
// resolving links and "..") or as the same file (device and inode, so hard links too).
void check_output_path(const std::string& out, const std::string& storage_url);

// The trainer's verbs (train, match, embed, worker) live in the LibTorch-linked
// `hpt-train` next to `hpt`, so that every other command starts in milliseconds. This
// registers them in app as pass-throughs that exec it.
void add_trainer_passthrough(CLI::App& app);

// The hpt-train binary beside the running executable.
std::string trainer_executable();

// Renders trials as "table", "json" or "csv" (throws std::invalid_argument otherwise).
std::string format_trials(Storage& storage, const StudyInfo& study, const std::string& format);

}  // namespace hpt
