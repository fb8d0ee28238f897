#pragma once
// Internal to the engine: what several hpt verbs print, written once: a trial's JSON, a
// parameter's and a list of values' text, and the one-line error with credentials hidden.

#include <string>
#include <vector>

#include "hpt/tuner/trial.hpp"

namespace hpt {

// A parameter's value as people read it: strings bare, the rest as JSON (never throws on
// invalid UTF-8 from a database).
std::string param_text(const Json& v);

// Values as one cell: "[0.25, 3]" (fmt_spec per value): a multi-objective trial's, a tell's.
std::string values_cell(const std::vector<double>& values, const char* fmt_spec);

// A trial as `hpt trials --format json` and `hpt best --format json` print it: number, state,
// value, params, times, duration, attributes and steps, and where they apply every objective's
// values, the failure's reason and the constraints.
Json trial_json(const FrozenTrial& t);

// hpt's error lines hide credentials (messages quote storage URLs from configs and flags).
std::string hide_credentials(const std::string& message);

// Prints "hpt: error: message" on one line (hpt::print_error), credentials hidden.
void report_error(const std::string& message);

}  // namespace hpt
