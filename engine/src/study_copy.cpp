#include "hpt/engine/study_copy.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "hpt/io/atomic_file.hpp"
#include "hpt/io/credentials.hpp"
#include "hpt/storage/attribute_names.hpp"

namespace hpt {

namespace {

// What copy_study writes, read from `from`; out counts the trials handed back.
StudyImport copy_of(Storage& from, const StudyInfo& study, const std::string& to_name,
                    StudyCopy& out) {
  StudyImport copy;
  copy.name = to_name;
  copy.directions = study.directions;
  copy.user_attrs = from.study_user_attrs(study.id);
  copy.system_attrs = from.study_system_attrs(study.id);
  copy.system_attrs.erase(k_study_key_attr);
  for (const auto* attrs : {&copy.user_attrs, &copy.system_attrs}) {
    const auto problems = attrs->find(k_read_problems_attr);
    if (problems != attrs->end()) {  // Written as hpt read it, it would be changed.
      throw std::runtime_error(
          fmt::format("cannot copy study '{}' as it is: hpt cannot read its {}", study.name,
                      problems->second.is_array() && !problems->second.empty()
                          ? problems->second[0].get<std::string>()
                          : std::string("attributes")));
    }
  }
  copy.trials = from.get_all_trials(study.id);
  // A row hpt cannot read (k_read_problems_attr) would be written as hpt read it: changed.
  if (const auto unreadable = read_problems_of(copy.trials)) {
    throw std::runtime_error(fmt::format(
        "cannot copy study '{}' as it is: {} of its trials hold{} rows hpt cannot read (trial "
        "{}: {}), and the copy would change them",
        study.name, unreadable->trials, unreadable->trials == 1 ? "s" : "",
        unreadable->first_number, unreadable->first));
  }
  for (FrozenTrial& t : copy.trials) {
    if (t.state == TrialState::Running) {
      t.state = TrialState::Waiting;
      t.datetime_start.reset();
      t.intermediate_values.clear();
      t.value.reset();
      t.values.clear();
      t.system_attrs.erase(k_owner_attr);
      out.handed_back += 1;
    }
  }
  out.trials = copy.trials.size();
  return copy;
}

}  // namespace

StudyCopy copy_study(Storage& from, const StudyInfo& study, Storage& to,
                     const std::string& to_name) {
  StudyCopy out;
  const StudyImport copy = copy_of(from, study, to_name, out);
  out.study_id = to.import_study(copy);
  return out;
}

namespace {

namespace fs = std::filesystem;

// Writes the copy into an open database that must not hold its name yet; returns the study id.
int64_t write_copy(const StudyImport& copy, Storage& to, const std::string& to_url) {
  if (to.find_study(copy.name)) {
    throw StorageError(
        fmt::format("{}: a study named '{}' already exists there (give "
                    "--to-study NAME, or delete it first: hpt delete-study)",
                    redact_credentials(to_url), copy.name));
  }
  return to.import_study(copy);
}

// Refuses a TO file that cannot become the copy's database.
void check_new_file(const std::string& file) {
  std::error_code ec;
  if (fs::is_symlink(fs::symlink_status(file, ec)) && !fs::exists(fs::status(file, ec))) {
    throw StorageError(file + ": a symbolic link to a missing file");
  }
  if (const auto problem = sqlite_side_file_problem(file)) {
    throw StorageError(file + ": " + *problem);
  }
}

// The temporary's files, removed on destruction (none while path is empty).
struct TempDatabase {
  std::string path;
  UniqueFd fd;  // Holds make_temporary_beside's writer lock; closes after the files are gone.
  ~TempDatabase() {
    if (!path.empty()) {
      std::error_code ec;
      fs::remove(path, ec);
      for (const char* suffix : k_sqlite_side_suffixes) {
        fs::remove(path + suffix, ec);
      }
    }
  }
};

}  // namespace

std::optional<StudyCopy> copy_study_to(Storage& from, const StudyInfo& study,
                                       const std::string& to_url, const std::string& to_name,
                                       const std::function<bool()>& stop) {
  const auto file = sqlite_file_of(to_url);
  if (file) {
    check_new_file(*file);
  }
  // Read first, outside the deferral below: a source server that is down is waited for, and
  // Ctrl-C must be able to end that wait.
  StudyCopy out;
  const StudyImport copy = copy_of(from, study, to_name, out);
  if (stop()) {
    return std::nullopt;
  }
  std::error_code ec;
  if (!file || *file == ":memory:" || fs::exists(fs::symlink_status(*file, ec))) {
    auto to = open_storage(to_url);
    out.study_id = write_copy(copy, *to, to_url);
    return out;
  }
  const fs::path target = *file;
  const SignalDeferral deferred;  // Ctrl-C: the copy ends linked or removed, then it acts.
  TempDatabase temp;
  try {
    auto [path, fd] = make_temporary_beside(target.string());
    temp.path = std::move(path);
    temp.fd.reset(fd);
  } catch (const FileError& e) {
    throw StorageError(fmt::format("{}: {}", *file, e.what()));
  }
  ::fchmod(temp.fd.get(),
           0666 & ~current_umask());  // As SQLite would make it (mkstemp makes 0600).
  try {
    auto to = open_storage(temp.path);
    out.study_id = write_copy(copy, *to, to_url);
  } catch (const StorageError& e) {  // Said of the file asked for, not of its temporary.
    std::string what = e.what();
    for (size_t at = what.find(temp.path); at != std::string::npos;
         at = what.find(temp.path, at + file->size())) {
      what.replace(at, temp.path.size(), *file);
    }
    throw StorageError(what, e.database_wide());
  }  // Closed: its WAL is checkpointed into the file.
  if (::link(temp.path.c_str(), target.c_str()) == 0) {
    return out;
  }
  if (errno != EEXIST) {
    throw StorageError(fmt::format("{}: cannot create: {}", *file, std::strerror(errno)));
  }
  auto to = open_storage(to_url);  // Made by another process meanwhile.
  out.study_id = write_copy(copy, *to, to_url);
  return out;
}

}  // namespace hpt
