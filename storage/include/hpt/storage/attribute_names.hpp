#pragma once
// The names of the trial system attributes hpt writes (Optuna's trial_system_attributes), in
// one place: storage, engine, reports and the dashboard read and write them by these names.
// They are part of the database format: renaming one loses it on every stored study.

namespace hpt {

// The orchestrator that holds a RUNNING trial: Owner::to_json (host, boot id, pid, start
// ticks), set by Storage::claim_trial; tells a live trial from one a dead run left RUNNING.
inline constexpr const char* k_owner_attr = "hpt:owner";
// The request id of the last claim, create or finish of the trial (SqlStorage), so that a
// write repeated after a lost connection is applied once.
inline constexpr const char* k_request_attr = "hpt:request";
// What hpt could not read of the trial's rows (a list of strings), added when it is read.
inline constexpr const char* k_read_problems_attr = "hpt:read_problems";
// The path of the trial's worker log, <study dir>/<number>.log.
inline constexpr const char* k_log_attr = "hpt:log";
// Why the trial has no worker log (e.g. a planted symbolic link at its path).
inline constexpr const char* k_log_problem_attr = "hpt:log_problem";
// The last lines of a FAILed trial's worker stderr (a few KiB at most).
inline constexpr const char* k_stderr_tail_attr = "hpt:stderr_tail";
// On a retry of a failed trial: which retry it is (1, 2, ...); absent on a first try.
inline constexpr const char* k_attempt_attr = "hpt:attempt";
// On a retry of a failed trial: the number of the trial it repeats.
inline constexpr const char* k_retry_of_attr = "hpt:retry_of";
// On a FAILed trial due a retry (study.retries): true, written with the FAIL, so that the next
// run makes a retry that a stopped run never made (the retry is a second write).
inline constexpr const char* k_retry_due_attr = "hpt:retry_due";
// A study system attribute per trial number N ("hpt:retry_restored:N"): the run that made N's
// lost retry (Storage::study_system_attr_once), so that two runs resuming at once make one.
inline constexpr const char* k_retry_restored_attr_prefix = "hpt:retry_restored:";
// A study system attribute: what the study's last run gave its trials ({"fixed": {...},
// "command": [...], "parameters": [...]}: engine's RunSettings), to warn when a run changes it.
inline constexpr const char* k_run_settings_attr = "hpt:run_settings";
// A study system attribute: the study's key, 32 random hex digits set once
// (Storage::study_system_attr_once). Its trials folder records it (study_folder.hpp), so that
// a study of the same name in another database never writes into that folder.
inline constexpr const char* k_study_key_attr = "hpt:study_key";
// A study system attribute: the distribution of each parameter the study's runs declared
// ({"lr": <Optuna's distribution JSON>, ...}), first set once under the study's lock
// (Storage::study_system_attr_once) and then added to, so that two hosts starting one study at
// the same instant with conflicting parameter kinds cannot both pass (study_match.hpp).
inline constexpr const char* k_search_space_attr = "hpt:search_space";
// A study system attribute: the seed of a study whose config sets no study.seed (an integer in
// [0, 2^63)), drawn when hpt creates the study and set once (study_system_attr_once), so that
// separate studies sample apart, as Optuna's unseeded ones do, and a resumed one samples on as
// it began. A study hpt did not create gets 0, the seed earlier hpt versions used.
inline constexpr const char* k_seed_attr = "hpt:seed";
// Why hpt ended a worker that had printed its final value but did not exit (objective.timeout,
// a stop signal): the trial is COMPLETE with that value; this says what ended the worker.
inline constexpr const char* k_ended_after_final_attr = "hpt:ended_after_final";
// Why the trial FAILed, one line (Optuna's own name for it, shown by Optuna's tools too).
inline constexpr const char* k_fail_reason_attr = "fail_reason";
// Where early hpt versions stored the fail reason: read as k_fail_reason_attr, never written.
inline constexpr const char* k_old_fail_reason_attr = "hpt:fail_reason";

}  // namespace hpt
