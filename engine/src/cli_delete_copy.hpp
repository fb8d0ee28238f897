#pragma once
// Internal to the engine: the verbs that delete or copy a whole study (Optuna's delete-study
// and copy_study).

#include <optional>
#include <string>

namespace hpt {

// hpt delete-study: the named study (never "the only one"), refused while trials are RUNNING
// unless forced; its trials folder is left on disk, and said so. Returns the exit code (130
// when a stop signal came).
int delete_study_command(const std::string& db, const std::string& name, bool force);

// hpt copy-study: the study (or the only one) copied into to_db, under to_study when given
// (copy_study_to: whole or absent). Returns the exit code.
int copy_study_command(const std::string& from_db, const std::string& to_db,
                       const std::string& study, std::optional<std::string> to_study);

}  // namespace hpt
