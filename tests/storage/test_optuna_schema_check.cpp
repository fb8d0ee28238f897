#include <catch2/catch.hpp>

#include "../../storage/src/optuna_schema_check.hpp"  // Internal to storage.

using namespace hpt;

namespace {

// The 13 tables of Optuna 3.1's schema, sorted by name (as a dialect lists them).
std::vector<std::string> optuna_tables() {
  return {"alembic_version",
          "studies",
          "study_directions",
          "study_system_attributes",
          "study_user_attributes",
          "trial_heartbeats",
          "trial_intermediate_values",
          "trial_params",
          "trial_system_attributes",
          "trial_user_attributes",
          "trial_values",
          "trials",
          "version_info"};
}

}  // namespace

// Every Optuna table present (extra tables allowed) is no problem; none of them is a
// foreign database, listed with the database's name; some of them lists the missing ones.
TEST_CASE("optuna_tables_problem", "[storage][schema]") {
  CHECK_FALSE(optuna_tables_problem(optuna_tables(), "x.db"));
  auto extra = optuna_tables();
  extra.push_back("my_notes");
  CHECK_FALSE(optuna_tables_problem(extra, "x.db"));
  CHECK(optuna_tables_problem({"inventory", "orders"}, "x.db") ==
        "x.db without Optuna's study schema (tables: inventory, orders)");
  auto partial = optuna_tables();
  partial.erase(partial.begin() + 11);  // trials
  partial.erase(partial.begin());       // alembic_version
  CHECK(optuna_tables_problem(partial, "x.db") ==
        "incomplete Optuna study schema (missing tables: alembic_version, trials)");
}

// hpt reads schema versions up to its own (12, Optuna 3.1); a newer one names both.
TEST_CASE("schema_version_problem", "[storage][schema]") {
  CHECK_FALSE(schema_version_problem(k_optuna_schema_version, "3.1.0"));
  CHECK_FALSE(schema_version_problem(11, "3.0.0"));
  CHECK(schema_version_problem(13, "3.2.0") ==
        "schema_version 13 (Optuna 3.2.0) is newer than the supported 12 (Optuna 3.1.0)");
}

// Only v3.0.0.d is usable: older Optuna revisions get the upgrade command for this URL,
// unknown ones (newer Optuna, garbage) say which revision hpt reads.
TEST_CASE("alembic_revision_problem", "[storage][schema]") {
  CHECK_FALSE(alembic_revision_problem(k_optuna_alembic_version, "3.1.0", "sqlite:///s.db"));
  for (const char* older : {"v0.9.0.a", "v2.6.0.a", "v3.0.0.c"}) {
    INFO(older);
    auto problem = alembic_revision_problem(older, "2.10.0", "sqlite:///s.db");
    REQUIRE(problem);
    CHECK_THAT(*problem, Catch::StartsWith(std::string("made by an older Optuna (alembic "
                                                       "revision ") +
                                           older + ", Optuna 2.10.0)") &&
                             Catch::EndsWith("`optuna storage upgrade --storage sqlite:///s.db`"));
  }
  CHECK(alembic_revision_problem("v3.2.0.a", "3.2.0", "sqlite:///s.db") ==
        "unknown alembic revision 'v3.2.0.a' (Optuna 3.2.0); hpt reads v3.0.0.d (Optuna 3.0-3.1)");
  CHECK_THAT(alembic_revision_problem("", "?", "u").value_or(""),
             Catch::StartsWith("unknown alembic"));
}
