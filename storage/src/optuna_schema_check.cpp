#include "optuna_schema_check.hpp"

#include <fmt/format.h>

#include <set>

namespace hpt {

std::optional<std::string> optuna_tables_problem(const std::vector<std::string>& tables,
                                                 const std::string& database) {
  const std::set<std::string> present(tables.begin(), tables.end());
  std::set<std::string> missing;  // Sorted, as tables are.
  for (const auto& t : optuna_table_names()) {
    if (present.count(t) == 0) {
      missing.insert(t);
    }
  }
  if (missing.size() == optuna_table_names().size()) {
    return fmt::format("{} without Optuna's study schema (tables: {})", database,
                       fmt::join(tables, ", "));
  }
  if (!missing.empty()) {
    return fmt::format("incomplete Optuna study schema (missing tables: {})",
                       fmt::join(missing, ", "));
  }
  return std::nullopt;
}

std::optional<std::string> schema_version_problem(int64_t schema_version,
                                                  const std::string& library_version) {
  if (schema_version <= k_optuna_schema_version) {
    return std::nullopt;
  }
  return fmt::format("schema_version {} (Optuna {}) is newer than the supported {} (Optuna {})",
                     schema_version, library_version, k_optuna_schema_version,
                     k_optuna_library_version);
}

std::optional<std::string> alembic_revision_problem(const std::string& revision,
                                                    const std::string& library_version,
                                                    const std::string& url) {
  if (revision == k_optuna_alembic_version) {
    return std::nullopt;
  }
  static const std::set<std::string> k_older = {"v0.9.0.a", "v1.2.0.a", "v1.3.0.a", "v2.4.0.a",
                                                "v2.6.0.a", "v3.0.0.a", "v3.0.0.b", "v3.0.0.c"};
  if (k_older.count(revision) != 0) {
    return fmt::format(
        "made by an older Optuna (alembic revision {}, Optuna {}); upgrade it "
        "with `optuna storage upgrade --storage {}`",
        revision, library_version, url);
  }
  return fmt::format("unknown alembic revision '{}' (Optuna {}); hpt reads {} (Optuna 3.0-3.1)",
                     revision, library_version, k_optuna_alembic_version);
}

}  // namespace hpt
