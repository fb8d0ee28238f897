#pragma once
// Internal to the engine: what the verbs that write a study database (delete-study,
// copy-study, tell) share: the database file they need, and one write under the stop signals.

#include <functional>
#include <string>

namespace hpt {

// A database file that must exist (a missing one is named, never made); a server URL passes.
// Throws StorageError "<file>: no such file".
void require_database_file(const std::string& db);

// A command that writes once (delete-study, tell), run under the stop signals (Ctrl-C, kill).
// work checks, writes in one transaction and reports; right before the write it asks stop(),
// and returns false without writing when that is true. A signal before the write, or one that
// cut work short (a second one gives up a locked database's wait), changed nothing, which is
// said in one line ("hpt: stopped by a signal; <nothing_done>"); one after the write lets work
// report it. Either way the exit status is then 130.
int write_once(const std::string& nothing_done,
               const std::function<bool(const std::function<bool()>& stop)>& work);

}  // namespace hpt
