#include "hpt/dashboard/api.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "hpt/io/datetime_text.hpp"
#include "hpt/io/folder.hpp"
#include "hpt/io/utf8.hpp"
#include "hpt/reports/info.hpp"
#include "hpt/reports/plots_html.hpp"
#include "hpt/storage/attribute_names.hpp"

namespace hpt::dashboard {
namespace {

Json time_or_null(const std::optional<Clock::time_point>& t) {
  return t ? Json(iso_time(*t)) : Json();
}

}  // namespace

std::string iso_time(Clock::time_point t) {
  return format_datetime(t, TimeZone::Utc, 3, 'T') + "Z";
}

Json study_summary_json(const StudyInfo& study, const std::vector<FrozenTrial>& trials) {
  Json states = Json::object();
  for (TrialState s : {TrialState::Running, TrialState::Complete, TrialState::Pruned,
                       TrialState::Fail, TrialState::Waiting}) {
    states[trial_state_name(s)] = 0;
  }
  std::optional<Clock::time_point> last;
  for (const FrozenTrial& t : trials) {
    states[trial_state_name(t.state)] = states[trial_state_name(t.state)].get<int>() + 1;
    for (const auto& when : {t.datetime_start, t.datetime_complete}) {
      if (when && (!last || *when > *last)) {
        last = when;
      }
    }
  }
  Json best;
  if (auto i = reports::best_trial_index(trials, study.direction())) {
    best = {{"number", trials[*i].number}, {"value", reports::page_number(*trials[*i].value)}};
  }
  Json directions = Json::array();
  for (Direction d : study.directions) {
    directions.push_back(direction_name(d));
  }
  return {{"id", study.id},
          {"name", study.name},
          {"direction", direction_name(study.direction())},
          {"directions", std::move(directions)},
          {"n_trials", trials.size()},
          {"states", states},
          {"best", best},
          {"last_activity", time_or_null(last)}};
}

Json trial_detail_json(const FrozenTrial& t) {
  Json j = reports::trial_row_json(reports::get_trial_row(t, 0));
  j["id"] = t.id;
  j["datetime_start"] = time_or_null(t.datetime_start);
  j["datetime_complete"] = time_or_null(t.datetime_complete);
  Json steps = Json::array();
  for (const auto& [step, v] : t.intermediate_values) {
    steps.push_back(Json::array({step, reports::page_number(v)}));
  }
  j["intermediate_values"] = std::move(steps);
  j["user_attrs"] = Json(t.user_attrs);
  j["system_attrs"] = Json(t.system_attrs);
  auto reason = t.system_attrs.find(k_fail_reason_attr);
  j["fail_reason"] = reason != t.system_attrs.end() ? reason->second : Json();
  Json distributions = Json::object();
  for (const auto& [name, d] : t.distributions) {
    distributions[name] = Json::parse(distribution_to_json(d));
  }
  j["distributions"] = std::move(distributions);
  return j;
}

std::optional<std::string> read_log_tail(const std::string& path,
                                         const std::vector<std::string>& folders,
                                         size_t max_bytes) {
  if (path.size() < 4 || path.compare(path.size() - 4, 4, ".log") != 0 ||
      !reports::in_trusted_folder(path, folders)) {
    return std::nullopt;
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    return std::nullopt;
  }
  struct stat st {};
  std::string text;
  // Where it was opened, too: a folder swapped for a link after the check leads nowhere.
  bool ok = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && opened_within(fd, folders);
  if (ok) {
    const off_t size = st.st_size;
    const off_t start =
        size > static_cast<off_t>(max_bytes) ? size - static_cast<off_t>(max_bytes) : 0;
    text.resize(static_cast<size_t>(size - start));
    ssize_t got = ::pread(fd, text.data(), text.size(), start);
    ok = got >= 0;
    text.resize(ok ? static_cast<size_t>(got) : 0);
    if (ok && start > 0) {
      const size_t nl = text.find('\n');
      if (nl != std::string::npos && nl + 1 < text.size()) {
        text.erase(0, nl + 1);
      }
    }
  }
  ::close(fd);
  if (!ok) {
    return std::nullopt;
  }
  return hpt::valid_utf8(text);
}

}  // namespace hpt::dashboard
