// Optuna 3.1's schema as SQLAlchemy creates it, one text for both dialects: the SQLite
// statements equal sqlite_master.sql of a study Optuna made, and on PostgreSQL (CREATE TYPE
// for the enums, SERIAL keys) pg_dump -s of hpt's and Optuna's databases are the same.
#include <fmt/format.h>

#include "optuna_schema_check.hpp"

namespace hpt {

namespace {

// A study_* or trial_* attributes table.
std::string attributes_table(const char* owner, const char* kind, const char* key) {
  return fmt::format(R"sql(CREATE TABLE {0}_{1}_attributes (
	{0}_{1}_attribute_id {{serial}} NOT NULL, 
	{0}_id INTEGER, 
	{2} VARCHAR(512), 
	value_json TEXT, 
	PRIMARY KEY ({0}_{1}_attribute_id), 
	UNIQUE ({0}_id, {2}), 
	FOREIGN KEY({0}_id) REFERENCES {3} ({0}_id)
))sql",
                     owner, kind, key, owner[0] == 's' ? "studies" : "trials");
}

}  // namespace

std::vector<std::string> optuna_schema_ddl(const SchemaTypes& t) {
  std::vector<std::string> ddl(t.enums.begin(), t.enums.end());
  const std::vector<std::string> tables = {
      R"sql(CREATE TABLE studies (
	study_id {serial} NOT NULL, 
	study_name VARCHAR(512) NOT NULL, 
	PRIMARY KEY (study_id)
))sql",
      "CREATE UNIQUE INDEX ix_studies_study_name ON studies (study_name)",
      R"sql(CREATE TABLE version_info (
	version_info_id INTEGER NOT NULL, 
	schema_version INTEGER, 
	library_version VARCHAR(256), 
	PRIMARY KEY (version_info_id), 
	CHECK (version_info_id=1)
))sql",
      R"sql(CREATE TABLE study_directions (
	study_direction_id {serial} NOT NULL, 
	direction {direction} NOT NULL, 
	study_id INTEGER NOT NULL, 
	objective INTEGER NOT NULL, 
	PRIMARY KEY (study_direction_id), 
	UNIQUE (study_id, objective), 
	FOREIGN KEY(study_id) REFERENCES studies (study_id)
))sql",
      attributes_table("study", "user", t.key),
      attributes_table("study", "system", t.key),
      R"sql(CREATE TABLE trials (
	trial_id {serial} NOT NULL, 
	number INTEGER, 
	study_id INTEGER, 
	state {state} NOT NULL, 
	datetime_start {datetime}, 
	datetime_complete {datetime}, 
	PRIMARY KEY (trial_id), 
	FOREIGN KEY(study_id) REFERENCES studies (study_id)
))sql",
      attributes_table("trial", "user", t.key),
      attributes_table("trial", "system", t.key),
      R"sql(CREATE TABLE trial_params (
	param_id {serial} NOT NULL, 
	trial_id INTEGER, 
	param_name VARCHAR(512), 
	param_value FLOAT, 
	distribution_json TEXT, 
	PRIMARY KEY (param_id), 
	UNIQUE (trial_id, param_name), 
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
))sql",
      R"sql(CREATE TABLE trial_values (
	trial_value_id {serial} NOT NULL, 
	trial_id INTEGER NOT NULL, 
	objective INTEGER NOT NULL, 
	value FLOAT, 
	value_type {value_type} NOT NULL, 
	PRIMARY KEY (trial_value_id), 
	UNIQUE (trial_id, objective), 
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
))sql",
      R"sql(CREATE TABLE trial_intermediate_values (
	trial_intermediate_value_id {serial} NOT NULL, 
	trial_id INTEGER NOT NULL, 
	step INTEGER NOT NULL, 
	intermediate_value FLOAT, 
	intermediate_value_type {intermediate_type} NOT NULL, 
	PRIMARY KEY (trial_intermediate_value_id), 
	UNIQUE (trial_id, step), 
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
))sql",
      R"sql(CREATE TABLE trial_heartbeats (
	trial_heartbeat_id {serial} NOT NULL, 
	trial_id INTEGER NOT NULL, 
	heartbeat {datetime} NOT NULL, 
	PRIMARY KEY (trial_heartbeat_id), 
	UNIQUE (trial_id), 
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
))sql",
      R"sql(CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
))sql"};
  for (const auto& text : tables) {
    ddl.push_back(fmt::format(
        fmt::runtime(text), fmt::arg("serial", t.serial), fmt::arg("direction", t.direction),
        fmt::arg("state", t.state), fmt::arg("datetime", t.datetime),
        fmt::arg("value_type", t.value_type), fmt::arg("intermediate_type", t.intermediate_type)));
  }
  return ddl;
}

std::vector<std::string> optuna_table_names() {
  std::vector<std::string> names;
  for (const auto& ddl : optuna_schema_ddl({})) {
    if (ddl.rfind("CREATE TABLE ", 0) == 0) {
      names.push_back(ddl.substr(13, ddl.find(' ', 13) - 13));
    }
  }
  return names;
}

}  // namespace hpt
