#include "hpt/tuner/qmc_sampler.hpp"

#include <fmt/format.h>

#include <stdexcept>
#include <variant>

#include "hpt/io/did_you_mean.hpp"
#include "hpt/tuner/options.hpp"
#include "hpt/tuner/param_transform.hpp"
#include "hpt/tuner/qmc_sequence.hpp"

namespace hpt {

struct QmcSampler::Sequence {
  size_t dims;
  std::optional<SobolSequence> sobol;
  std::optional<HaltonSequence> halton;

  std::vector<double> point(uint64_t index) const {
    return sobol ? sobol->point(index) : halton->point(index);
  }
};

QmcOptions qmc_options_from_json(const Json& json, const SearchSpace& space) {
  OptionReader r("qmc sampler", json);
  QmcOptions o;
  const bool has_type = r.has("qmc_type");
  const Json type = r.get_json("qmc_type");
  if (has_type) {  // A null too is no type (Optuna refuses None).
    if (!type.is_string() || (type != "sobol" && type != "halton")) {
      const std::string given = type.is_string() ? type.get<std::string>() : type.dump();
      throw std::invalid_argument(
          fmt::format("qmc sampler option 'qmc_type' must be sobol or halton, but got {}{}", given,
                      did_you_mean(given, {"sobol", "halton"})));
    }
    o.qmc_type = type.get<std::string>();
  }
  o.scramble = r.get_bool("scramble", o.scramble);
  o.independent = read_independent_sampler(r, "qmc sampler", space);
  r.finish();
  const size_t n = varying_numeric_params(space).size();
  if (o.qmc_type == "sobol" && n > SobolSequence::k_max_dims) {
    throw std::invalid_argument(fmt::format(
        "qmc sampler: a Sobol' sequence here serves at most {} float/int parameters, and the "
        "space has {}; give qmc_type: halton",
        SobolSequence::k_max_dims, n));
  }
  return o;
}

QmcSampler::QmcSampler(QmcOptions options, uint64_t seed)
    : m_options(std::move(options)),
      m_seed(seed),
      m_independent(make_sampler(m_options.independent, seed)) {}

QmcSampler::~QmcSampler() = default;

std::string qmc_counter_attr(const std::string& qmc_type) {
  return qmc_type + " (scramble=False)'s last sample id";
}

std::string QmcSampler::space_warning(const SearchSpace& space) const {
  return varying_numeric_params(space).empty()
             ? fmt::format(
                   "the qmc sampler samples float and int parameters that vary, and this "
                   "space has none: its {} sampler samples every parameter",
                   m_options.independent.type)
             : "";
}

std::map<std::string, double> QmcSampler::sample(const SearchSpace& space,
                                                 const SampleContext& ctx) {
  const std::vector<size_t> params = varying_numeric_params(space);
  if (params.empty()) {
    return m_independent->sample(space, ctx);
  }
  if (!m_sequence || m_sequence->dims != params.size()) {
    m_sequence = std::make_unique<Sequence>();
    m_sequence->dims = params.size();
    Rng rng(derive_seed(m_seed, 0, "qmc-scramble"));  // One scrambled sequence per seed.
    Rng* scramble = m_options.scramble ? &rng : nullptr;
    if (m_options.qmc_type == "sobol") {
      m_sequence->sobol.emplace(params.size(), scramble);
    } else {
      m_sequence->halton.emplace(params.size(), scramble);
    }
  }
  const auto index = static_cast<uint64_t>(std::max(0, ctx.trial_number));
  if (m_sequence->sobol && index >= (uint64_t{1} << SobolSequence::k_bits)) {
    throw std::invalid_argument(fmt::format(
        "trial {} is past the 2^30 points of the Sobol' sequence (it would start again); use "
        "qmc_type: halton",
        ctx.trial_number));
  }
  if (ctx.study_counters && !m_options.scramble) {
    (*ctx.study_counters)[qmc_counter_attr(m_options.qmc_type)] = ctx.trial_number;
  }
  const std::vector<double> u = m_sequence->point(index);
  std::map<std::string, double> out = sample_rest(*m_independent, space, params, ctx);
  for (size_t i = 0; i < params.size(); ++i) {
    out[space[params[i]].first] = from_unit(make_transform(space[params[i]].second), u[i]);
  }
  return out;
}

}  // namespace hpt
