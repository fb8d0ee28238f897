#include "hpt/tuner/hyperband_pruner.hpp"

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "hpt/tuner/options.hpp"

namespace hpt {

namespace {

// Budgets past 2^33 decide nothing more: crc32 < 2^32 always falls in the first of them.
constexpr double k_budget_cap = 8589934592.0;

}  // namespace

uint32_t crc32(const std::string& bytes) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) {
        c = (c & 1U) ? 0xEDB88320U ^ (c >> 1) : c >> 1;
      }
      t[i] = c;
    }
    return t;
  }();
  uint32_t c = 0xFFFFFFFFU;
  for (unsigned char b : bytes) {
    c = table[(c ^ b) & 0xFFU] ^ (c >> 8);
  }
  return c ^ 0xFFFFFFFFU;
}

HyperbandOptions hyperband_options_from_json(const Json& options) {
  OptionReader r("hyperband pruner", options);
  HyperbandOptions o;
  o.min_resource = r.get_int("min_resource", o.min_resource, 1);
  o.max_resource = r.get_int_or_auto("max_resource", std::nullopt, 1);
  o.reduction_factor = r.get_int("reduction_factor", o.reduction_factor, 2);
  o.bootstrap_count = r.get_int("bootstrap_count", o.bootstrap_count, 0);
  r.finish();
  if (o.max_resource && *o.max_resource < o.min_resource) {
    throw std::invalid_argument(
        fmt::format("hyperband pruner option 'max_resource' must be >= min_resource ({}), but "
                    "got {}",
                    o.min_resource, *o.max_resource));
  }
  if (o.bootstrap_count > 0 && !o.max_resource) {
    throw std::invalid_argument(
        "hyperband pruner option 'bootstrap_count' needs an integer 'max_resource' (not "
        "\"auto\")");
  }
  return o;
}

HyperbandPruner::HyperbandPruner(HyperbandOptions options) : m_options(options) {
  if (m_options.min_resource < 1 || m_options.reduction_factor < 2 ||
      m_options.bootstrap_count < 0) {
    throw std::invalid_argument(
        fmt::format("hyperband needs min_resource >= 1, reduction_factor >= 2, bootstrap_count "
                    ">= 0, but got {}, {}, {}",
                    m_options.min_resource, m_options.reduction_factor, m_options.bootstrap_count));
  }
  if (m_options.max_resource && *m_options.max_resource < m_options.min_resource) {
    throw std::invalid_argument(fmt::format("max_resource must be >= min_resource ({}), but got {}",
                                            m_options.min_resource, *m_options.max_resource));
  }
  if (m_options.bootstrap_count > 0 && !m_options.max_resource) {
    throw std::invalid_argument("bootstrap_count > 0 needs an integer max_resource");
  }
}

bool HyperbandPruner::initialize(const std::vector<FrozenTrial>& trials) {
  if (!m_brackets.empty()) {
    return true;
  }
  if (!m_options.max_resource) {
    for (const FrozenTrial& t : trials) {
      const auto step = t.state == TrialState::Complete ? t.last_step() : std::nullopt;
      // last step + 1, saturating at INT64_MAX.
      const auto resource =
          step ? std::optional<int64_t>(*step + (*step < std::numeric_limits<int64_t>::max()))
               : std::nullopt;
      if (resource && (!m_options.max_resource || *resource > *m_options.max_resource)) {
        m_options.max_resource = resource;
      }
    }
    if (!m_options.max_resource) {
      return false;
    }
  }
  // Python's math.log(x, base) is log(x) / log(base): the same rounding at exact powers.
  const double ratio =
      static_cast<double>(*m_options.max_resource) / static_cast<double>(m_options.min_resource);
  // No bracket when an "auto" max_resource came out below min_resource (ratio < 1; log of
  // a ratio <= 0 is not a number); at most 64 brackets otherwise (ratio < 2^63).
  const int n_brackets =
      ratio < 1.0
          ? 0
          : static_cast<int>(std::floor(
                std::log(ratio) / std::log(static_cast<double>(m_options.reduction_factor)))) +
                1;
  for (int b = 0; b < n_brackets; ++b) {
    const int s = n_brackets - 1 - b;
    const double budget = std::ceil(
        n_brackets * std::pow(static_cast<double>(m_options.reduction_factor), s) / (s + 1));
    m_budgets.push_back(static_cast<int64_t>(std::min(budget, k_budget_cap)));
    m_total_budget += m_budgets.back();
    m_brackets.emplace_back(SuccessiveHalvingOptions{
        m_options.min_resource, m_options.reduction_factor, b, m_options.bootstrap_count});
  }
  return !m_brackets.empty();
}

int HyperbandPruner::bracket_of(const std::string& study_name, int trial_number) const {
  if (m_brackets.empty()) {
    return 0;
  }
  if (study_name != m_bracket_study) {
    m_bracket_study = study_name;
    m_bracket_memo.clear();
  }
  if (const auto known = m_bracket_memo.find(trial_number); known != m_bracket_memo.end()) {
    return known->second;
  }
  int64_t n = crc32(fmt::format("{}_{}", study_name, trial_number)) % m_total_budget;
  int bracket = static_cast<int>(m_budgets.size()) - 1;  // Not reached: n < total budget.
  for (size_t b = 0; b < m_budgets.size(); ++b) {
    n -= m_budgets[b];
    if (n < 0) {
      bracket = static_cast<int>(b);
      break;
    }
  }
  m_bracket_memo.emplace(trial_number, bracket);
  return bracket;
}

std::vector<FrozenTrial> HyperbandPruner::bracket_trials(const PruneContext& ctx,
                                                         int bracket) const {
  std::vector<FrozenTrial> out;
  for (const FrozenTrial& t : *ctx.trials) {
    if (bracket_of(ctx.study_name, t.number) == bracket) {
      out.push_back(t);
    }
  }
  return out;
}

PruneDecision HyperbandPruner::decide(const PruneContext& ctx, const FrozenTrial& trial) {
  if (!initialize(*ctx.trials)) {
    return {};
  }
  const int bracket = bracket_of(ctx.study_name, trial.number);
  return m_brackets[static_cast<size_t>(bracket)].decide_among(
      ctx, trial,
      [&](const FrozenTrial& t) { return bracket_of(ctx.study_name, t.number) == bracket; });
}

std::optional<std::vector<FrozenTrial>> HyperbandPruner::sampler_trials(const PruneContext& ctx,
                                                                        int trial_number) {
  if (m_brackets.empty()) {
    return std::nullopt;  // Optuna: every trial is in bracket 0 until the brackets exist.
  }
  return bracket_trials(ctx, bracket_of(ctx.study_name, trial_number));
}

}  // namespace hpt
