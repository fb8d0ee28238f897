#pragma once
// The hpt command line: `hpt --config FILE --trials N ...` runs a study; the study
// verbs (studies, trials, best) read a study database. Other components add their
// verbs through registrars.

#include <functional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace hpt {

class Storage;
struct StudyInfo;

using CommandRegistrar = std::function<void(CLI::App&)>;

// Parses argv and runs the command. Every error is printed as one line
// "hpt: error: ..." on stderr; returns the process exit code.
int run_hpt(int argc, char** argv, const std::vector<CommandRegistrar>& registrars);

// Renders trials as "table", "json" or "csv" (throws std::invalid_argument otherwise).
std::string format_trials(Storage& storage, const StudyInfo& study, const std::string& format);

}  // namespace hpt
