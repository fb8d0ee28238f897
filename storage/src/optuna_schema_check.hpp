#pragma once
// Internal to storage: Optuna's schema (its DDL, the version hpt reads and writes) and the
// checks made on a database's tables and version rows.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hpt {

constexpr int k_optuna_schema_version = 12;
constexpr const char* k_optuna_library_version = "3.1.0";
constexpr const char* k_optuna_alembic_version = "v3.0.0.d";

// How a dialect spells the types of Optuna's schema (SQLAlchemy's choices).
struct SchemaTypes {
  std::vector<std::string> enums;  // CREATE TYPE statements made first.
  const char* serial = "";         // Autoincrement primary keys.
  const char* key = "";            // The attribute tables' "key" column, quoted if need be.
  const char* direction = "";
  const char* state = "";
  const char* value_type = "";
  const char* intermediate_type = "";
  const char* datetime = "";
};

// The CREATE statements of Optuna 3.1's schema, in Optuna's order, with these types.
std::vector<std::string> optuna_schema_ddl(const SchemaTypes& types);
// The names of the tables it creates, in that order.
std::vector<std::string> optuna_table_names();

// Why a database with these tables (sorted by name) is not an Optuna study database:
// "<database> without Optuna's study schema (tables: ...)" or "incomplete ... (missing
// tables: ...)". std::nullopt when every Optuna table is there.
std::optional<std::string> optuna_tables_problem(const std::vector<std::string>& tables,
                                                 const std::string& database);

// Why hpt cannot read a version_info row (a newer schema); std::nullopt when it can.
std::optional<std::string> schema_version_problem(int64_t schema_version,
                                                  const std::string& library_version);

// Why hpt cannot use a database at this alembic revision: made by an older Optuna (with the
// `optuna storage upgrade --storage <url>` hint) or an unknown one; std::nullopt for
// k_optuna_alembic_version.
std::optional<std::string> alembic_revision_problem(const std::string& revision,
                                                    const std::string& library_version,
                                                    const std::string& url);

}  // namespace hpt
