#pragma once
// hpt copy-study (Optuna's copy_study): a study copied into another database, or into the same
// one under another name, in one transaction.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "hpt/storage/storage.hpp"

namespace hpt {

// What copy_study wrote.
struct StudyCopy {
  int64_t study_id = -1;  // In the destination.
  size_t trials = 0;
  size_t handed_back = 0;  // RUNNING in the source, WAITING in the copy.
};

// Copies study (read from `from`) into `to` as to_name with Storage::import_study: all or
// nothing. Every trial is copied as it is, with its number, except that a RUNNING one is
// handed back as a stopped run hands it back (Storage::set_trial_state_values WAITING: no
// start, steps or values; no owner), so that the copy's next run runs it again; and the study
// key (k_study_key_attr) is left out, so that the copy gets a trials folder of its own.
StudyCopy copy_study(Storage& from, const StudyInfo& study, Storage& to,
                     const std::string& to_name);

// copy_study into the database at to_url (a storage URL or path). An existing database takes
// it in one transaction. A new SQLite file is made whole in a temporary beside it, with stop
// signals deferred, and linked into place (link(2): never over a file another process made
// meanwhile, which then takes the copy as an existing one): TO ends whole or absent, and no
// file this command did not make is ever removed. Throws StorageError for a TO that is a
// dangling symbolic link, an SQLite side file (-wal, -shm, -journal) of an existing file, or
// a database that already holds a study named to_name. Returns std::nullopt, nothing written,
// when stop() is true once the study is read (a Ctrl-C caught by the caller's StopSignals).
std::optional<StudyCopy> copy_study_to(
    Storage& from, const StudyInfo& study, const std::string& to_url, const std::string& to_name,
    const std::function<bool()>& stop = [] { return false; });

}  // namespace hpt
