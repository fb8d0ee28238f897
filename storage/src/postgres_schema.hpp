#pragma once
// Internal to the PostgreSQL backend: Optuna 3.1's schema on PostgreSQL.

#include <string>
#include <vector>

namespace hpt {

// The CREATE statements as SQLAlchemy issues them for Optuna 3.1 on PostgreSQL, in order.
const std::vector<std::string>& postgres_schema_ddl();

}  // namespace hpt
