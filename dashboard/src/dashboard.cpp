#include "hpt/dashboard/dashboard.hpp"

#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "embedded/dashboard_css.hpp"
#include "embedded/dashboard_js.hpp"
#include "hpt/dashboard/api.hpp"
#include "hpt/dashboard/server.hpp"
#include "hpt/reports/html_page.hpp"
#include "hpt/reports/info.hpp"
#include "hpt/reports/model_view.hpp"
#include "hpt/reports/plots_html.hpp"
#include "hpt/reports/svg.hpp"
#include "hpt/reports/trial_model_view.hpp"
#include "hpt/storage/study_lookup.hpp"

namespace hpt::dashboard {
namespace {

using SteadyClock = std::chrono::steady_clock;

Response json_response(const Json& j, int status = 200) {
  return {status, "application/json", j.dump(-1, ' ', false, Json::error_handler_t::replace)};
}

Response error_response(int status, const std::string& message) {
  return json_response(Json{{"error", message}}, status);
}

// The path's parts between slashes ("/api/studies/3" -> {"api", "studies", "3"}).
std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) {
      end = path.size();
    }
    if (end > start) {
      parts.push_back(path.substr(start, end - start));
    }
    start = end + 1;
  }
  return parts;
}

// A non-negative decimal integer that fits int64, or std::nullopt.
std::optional<int64_t> parse_id(const std::string& text) {
  if (text.empty() || text.size() > 18 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  return std::stoll(text);
}

// Identifies the set of COMPLETE trials (FNV-1a over their numbers): the fANOVA importances
// depend on nothing else, so a cached result stays valid while the key is unchanged.
uint64_t complete_trials_key(const std::vector<FrozenTrial>& trials) {
  uint64_t h = 1469598103934665603ULL;
  auto mix = [&h](uint64_t x) {
    for (int b = 0; b < 8; ++b) {
      h = (h ^ ((x >> (8 * b)) & 0xffU)) * 1099511628211ULL;
    }
  };
  uint64_t n = 0;
  for (const FrozenTrial& t : trials) {
    if (t.state == TrialState::Complete) {
      mix(static_cast<uint64_t>(t.number));
      ++n;
    }
  }
  mix(n);
  return h;
}

// The calling thread at the lowest CPU priority (Linux threads have their own nice value);
// a failure only leaves it at its priority.
void lower_thread_priority() {
  [[maybe_unused]] const int rc =
      ::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), 19);
}

// The plot sections, or a note saying why they could not be drawn.
std::string draw(const StudyInfo& study, const std::vector<FrozenTrial>& trials,
                 const reports::StudyImportances* importances,
                 const std::vector<std::string>& log_folders) {
  try {
    return reports::render_plot_sections(study, trials, importances, {log_folders, true});
  } catch (const std::exception& e) {
    return "<p class=\"note\">The plots could not be drawn: " + reports::html_escape(e.what()) +
           "</p>";
  }
}

// The importances (each objective's and the duration's), or notes saying why they could not
// be computed.
std::shared_ptr<const reports::StudyImportances> compute_importances(
    const std::vector<FrozenTrial>& trials, const std::vector<Direction>& directions) {
  try {
    return std::make_shared<const reports::StudyImportances>(
        reports::get_study_importances(trials, directions));
  } catch (const std::exception& e) {
    reports::StudyImportances failed;
    failed.value.note = std::string("Not available: ") + e.what();
    failed.duration.note = failed.value.note;
    return std::make_shared<const reports::StudyImportances>(std::move(failed));
  }
}

}  // namespace

Dashboard::Dashboard(std::unique_ptr<Storage> storage, const std::string& only_study,
                     std::vector<std::string> log_folders)
    : m_storage(std::move(storage)),
      m_log_folders(std::move(log_folders)),
      m_epoch(std::to_string(
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
              .count())) {
  if (!only_study.empty()) {
    m_only_study = resolve_study(*m_storage, only_study).name;
  }
}

Dashboard::~Dashboard() {
  std::unique_lock<std::mutex> lock(m_mutex);
  m_stopping = true;
  for (auto& [id, w] : m_watched) {
    m_retired.push_back(std::move(w));
  }
  for (size_t i = 0; i < m_retired.size(); ++i) {
    if (m_retired[i]->plot_thread.joinable()) {
      std::thread t = std::move(m_retired[i]->plot_thread);
      lock.unlock();
      t.join();
      lock.lock();
    }
  }
}

void Dashboard::set_intervals(std::chrono::milliseconds sync, std::chrono::milliseconds min_plot,
                              std::chrono::milliseconds idle_watch) {
  std::lock_guard<std::mutex> lock(m_mutex);
  m_sync_interval = sync;
  m_min_plot_interval = min_plot;
  m_idle_watch = idle_watch;
}

uint64_t Dashboard::importance_computations() {
  std::lock_guard<std::mutex> lock(m_mutex);
  return m_importance_computations;
}

size_t Dashboard::most_heavy_answers_at_once() {
  std::lock_guard<std::mutex> lock(m_heavy_mutex);
  return m_heavy_most;
}

size_t Dashboard::retired_watches() {
  std::lock_guard<std::mutex> lock(m_mutex);
  return m_retired.size();
}

size_t Dashboard::watched_studies() {
  std::lock_guard<std::mutex> lock(m_mutex);
  return m_watched.size();
}

size_t Dashboard::most_drawings_at_once() {
  std::lock_guard<std::mutex> lock(m_mutex);
  return m_drawings_most;
}

void Dashboard::on_file_moved(std::function<void(const std::string&)> note) {
  std::lock_guard<std::mutex> lock(m_mutex);
  m_moved_note = std::move(note);
}

std::string Dashboard::file_moved_problem() {
  static const std::string k_moved =
      "the database file was deleted, moved or replaced after the dashboard opened it: restart "
      "hpt dashboard to show the file now at its path";
  std::lock_guard<std::mutex> lock(m_mutex);
  if (!m_file_moved && SteadyClock::now() - m_file_checked >= m_sync_interval) {
    m_file_checked = SteadyClock::now();
    m_file_moved = m_storage->file_moved();
    if (m_file_moved && m_moved_note) {
      m_moved_note(k_moved);
    }
  }
  return m_file_moved ? k_moved : "";
}

Response Dashboard::get(const std::string& path, const std::map<std::string, std::string>& query) {
  try {
    // On the parts, as route reads them: "//api/studies" is an API request too.
    if (const auto parts = split_path(path); !parts.empty() && parts[0] == "api") {
      if (const std::string problem = file_moved_problem(); !problem.empty()) {
        return error_response(503, problem);
      }
    }
    return route(path, query);
  } catch (const StorageError& e) {
    return error_response(503, e.what());
  } catch (const std::exception& e) {
    return error_response(500, e.what());
  }
}

Response Dashboard::route(const std::string& path,
                          const std::map<std::string, std::string>& query) {
  const auto parts = split_path(path);
  auto param = [&](const char* key) {
    auto it = query.find(key);
    return it == query.end() ? std::string() : it->second;
  };
  if (parts.empty() || parts[0] == "studies") {
    const bool app_path =
        parts.empty() || (parts.size() == 2 && parse_id(parts[1])) ||
        (parts.size() == 4 && parse_id(parts[1]) && parts[2] == "trials" && parse_id(parts[3]));
    return app_path ? page() : error_response(404, "no page at " + path);
  }
  if (parts[0] != "api" || parts.size() < 2 || parts[1] != "studies") {
    return error_response(404, "no page at " + path);
  }
  if (parts.size() == 2) {
    return studies();
  }
  const auto id = parse_id(parts[2]);
  const std::shared_ptr<Watched> w = id ? sync(*id) : nullptr;
  if (!w) {
    return error_response(404, "no study with id " + parts[2]);
  }
  if (parts.size() == 3) {
    std::lock_guard<std::mutex> lock(m_mutex);
    return json_response(study_summary_json(w->watch.study(), *w->watch.trials()));
  }
  if (parts.size() == 4 && parts[3] == "trials") {
    return trials(*w, param("since"));
  }
  if (parts.size() == 5 && parts[3] == "trials") {
    const auto number = parse_id(parts[4]);
    if (!number || *number > std::numeric_limits<int>::max()) {
      return error_response(404, "no trial " + parts[4]);
    }
    return trial(*w, static_cast<int>(*number));
  }
  if (parts.size() == 4 && parts[3] == "plots") {
    return plots(*w, param("have"));
  }
  return error_response(404, "no page at " + path);
}

std::vector<StudyInfo> Dashboard::served_studies() {
  std::vector<StudyInfo> all = m_storage->list_studies();
  if (!m_only_study.empty()) {
    all.erase(std::remove_if(all.begin(), all.end(),
                             [&](const StudyInfo& s) { return s.name != m_only_study; }),
              all.end());
  }
  return all;
}

bool Dashboard::sync_due(const Watched& w) const {
  return w.synced == SteadyClock::time_point{} || SteadyClock::now() - w.synced >= m_sync_interval;
}

Dashboard::Watched& Dashboard::sync_locked(Watched& w) {
  if (!sync_due(w)) {
    return w;
  }
  size_t before = 0;
  // A finished trial never changes: the first one changed (its id another trial's now), or
  // fewer trials, means the study was deleted and made again between two syncs.
  std::optional<FrozenTrial> probe;
  {
    // Held while read: before the first sync trials() makes an empty list of its own, which a
    // reference alone let go at once (heap-use-after-free, found by ASan).
    const auto old_trials = w.watch.trials();
    before = old_trials->size();
    for (const FrozenTrial& t : *old_trials) {
      if (is_finished(t.state)) {
        probe = t;
        break;
      }
    }
  }
  // Dropping our snapshot first lets the storage refresh its cache without a copy.
  w.watch.release_snapshot();
  auto snapshot = m_storage->trials_snapshot(w.watch.study().id);
  const auto remade = [&] {
    if (snapshot->size() < before) {
      return true;
    }
    if (!probe) {
      return false;
    }
    const auto now = std::find_if(snapshot->begin(), snapshot->end(),
                                  [&](const FrozenTrial& t) { return t.id == probe->id; });
    return now == snapshot->end() || !same_finished_trial(*probe, *now);
  };
  if (remade()) {
    const StudyInfo study = w.watch.study();
    retire_locked(m_watched.find(study.id));
    Watched& fresh = watch_locked(study);
    fresh.watch.update(std::move(snapshot));
    fresh.synced = SteadyClock::now();
    return fresh;
  }
  w.watch.update(std::move(snapshot));
  w.synced = SteadyClock::now();
  return w;
}

Dashboard::Watched& Dashboard::watch_locked(const StudyInfo& s) {
  auto it = m_watched.find(s.id);
  if (it != m_watched.end() && (it->second->watch.study().name != s.name ||
                                it->second->watch.study().directions != s.directions)) {
    retire_locked(it);
    it = m_watched.end();
  }
  if (it == m_watched.end()) {
    const std::string prefix = m_epoch + "." + std::to_string(++m_watches) + "-";
    it = m_watched.emplace(s.id, std::make_shared<Watched>(s, prefix)).first;
  }
  return *it->second;
}

void Dashboard::retire_locked(std::map<int64_t, std::shared_ptr<Watched>>::iterator it) {
  // Earlier retirees that no request holds and no drawing uses any more go now.
  m_retired.erase(std::remove_if(m_retired.begin(), m_retired.end(),
                                 [](const std::shared_ptr<Watched>& r) {
                                   if (r.use_count() > 1 || r->rendering) {
                                     return false;
                                   }
                                   if (r->plot_thread.joinable()) {
                                     r->plot_thread.join();  // Done drawing: returns at once.
                                   }
                                   return true;
                                 }),
                  m_retired.end());
  m_retired.push_back(std::move(it->second));
  m_watched.erase(it);
}

void Dashboard::evict_locked(const Watched& keep) {
  const auto now = SteadyClock::now();
  std::vector<std::pair<SteadyClock::time_point, int64_t>> by_use;
  for (const auto& [id, w] : m_watched) {
    if (w.get() != &keep) {
      by_use.emplace_back(w->used, id);
    }
  }
  std::sort(by_use.begin(), by_use.end());
  size_t over = m_watched.size() > k_watches ? m_watched.size() - k_watches : 0;
  bool retired = false;
  for (const auto& [used, id] : by_use) {
    if (over == 0 && now - used < m_idle_watch) {
      break;
    }
    retire_locked(m_watched.find(id));
    over = over > 0 ? over - 1 : 0;
    retired = true;
  }
  if (retired) {
    release_free_memory();
  }
}

std::shared_ptr<Dashboard::Watched> Dashboard::sync(int64_t study_id) {
  std::lock_guard<std::mutex> lock(m_mutex);
  auto it = m_watched.find(study_id);
  if (it != m_watched.end() && !sync_due(*it->second)) {
    it->second->used = SteadyClock::now();
    return it->second;
  }
  // Due: the study may be gone, or its id another study's now.
  for (const StudyInfo& s : served_studies()) {
    if (s.id == study_id) {
      Watched& w = sync_locked(watch_locked(s));
      w.used = SteadyClock::now();
      evict_locked(w);
      return m_watched.at(study_id);
    }
  }
  if (it != m_watched.end()) {
    retire_locked(it);
  }
  return nullptr;
}

Response Dashboard::studies() {
  std::vector<StudyInfo> served;
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    served = served_studies();
  }
  Json list = Json::array();
  if (served.size() <= k_studies_synced_one_by_one) {
    // A few studies: each one's snapshot, kept and refreshed by what changed (a running study
    // of 50,000 trials: a few ms a poll, where reading every trial took 170 ms).
    for (const StudyInfo& s : served) {
      std::shared_ptr<const std::vector<FrozenTrial>> snapshot;
      {
        std::lock_guard<std::mutex> lock(m_mutex);
        try {
          Watched& w = sync_locked(watch_locked(s));
          w.used = SteadyClock::now();
          snapshot = w.watch.trials();
        } catch (const StorageError&) {
          const auto now = served_studies();
          if (std::any_of(now.begin(), now.end(),
                          [&](const StudyInfo& n) { return n.id == s.id && n.name == s.name; })) {
            throw;  // The database's problem: the answer fails (503).
          }
          if (const auto it = m_watched.find(s.id); it != m_watched.end()) {
            retire_locked(it);  // Deleted since the list was read: left out.
          }
          continue;
        }
      }
      list.push_back(study_summary_json(s, *snapshot));
    }
    return json_response(Json{{"studies", list}});
  }
  // Many: every study's trials in one pass, outside the lock. One read per study scans every
  // study's trials (Optuna's schema has no index on trials.study_id): 5,000 studies took 20 s
  // an answer, and the page asks every 2 s.
  const auto outlines = m_storage->trial_outlines();
  for (const StudyInfo& s : served) {
    list.push_back(study_summary_json(s, Storage::outline_of(*outlines, s.id)));
  }
  return json_response(Json{{"studies", list}});
}

Response Dashboard::trials(Watched& w, const std::string& since) {
  std::shared_ptr<const std::vector<FrozenTrial>> snapshot;
  std::vector<size_t> changed;
  StudyInfo study;
  std::string cursor;
  uint64_t from = 0;
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    const std::string& prefix = w.cursor_prefix;
    if (since.size() > prefix.size() && since.compare(0, prefix.size(), prefix) == 0) {
      if (auto r = parse_id(since.substr(prefix.size()));
          r && static_cast<uint64_t>(*r) <= w.watch.revision()) {
        from = static_cast<uint64_t>(*r);
      }
    }
    if (from == 0 && !w.has_plots) {
      schedule_render(w);  // A page opening: its plots are drawn while this answer is written.
    }
    snapshot = w.watch.trials();
    changed = w.watch.changed_since(from);
    study = w.watch.study();
    cursor = prefix + std::to_string(w.watch.revision());
  }
  // Built outside the lock: a 20,000-trial answer takes seconds, and every other request of
  // the dashboard waited for it. Large ones a few at a time (k_heavy_answers_at_once).
  const bool heavy = changed.size() > k_heavy_rows;
  if (heavy) {
    std::unique_lock<std::mutex> lock(m_heavy_mutex);
    m_heavy_done.wait(lock, [&] { return m_heavy_now < k_heavy_answers_at_once; });
    m_heavy_most = std::max(m_heavy_most, ++m_heavy_now);
  }
  struct Done {
    Dashboard* d;
    bool heavy;
    ~Done() {
      if (heavy) {
        {
          std::lock_guard<std::mutex> lock(d->m_heavy_mutex);
          --d->m_heavy_now;
        }
        d->m_heavy_done.notify_one();
      }
    }
  } done{this, heavy};
  Json rows = Json::array();
  for (size_t i : changed) {
    rows.push_back(
        reports::trial_row_json(reports::get_trial_row((*snapshot)[i], static_cast<int>(i))));
  }
  return json_response(Json{{"study", study_summary_json(study, *snapshot)},
                            {"cursor", cursor},
                            {"full", from == 0},
                            {"trials", std::move(rows)}});
}

Response Dashboard::trial(Watched& w, int number) {
  std::shared_ptr<const std::vector<FrozenTrial>> snapshot;
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    snapshot = w.watch.trials();
  }
  auto it = std::find_if(snapshot->begin(), snapshot->end(),
                         [&](const FrozenTrial& t) { return t.number == number; });
  if (it == snapshot->end()) {
    return error_response(404,
                          fmt::format("no trial {} in study '{}'", number, w.watch.study().name));
  }
  Json j = trial_detail_json(*it);
  j["study"] = {{"id", w.watch.study().id}, {"name", w.watch.study().name}};
  j["log_tail"] = Json();
  std::optional<std::string> log;  // Where it is now: the study folder may have moved.
  if (auto recorded = reports::trial_log_path(*it)) {
    j["log_path"] = *recorded;
    log = reports::located_log(*recorded, m_log_folders);
    if (auto tail = log ? read_log_tail(*log, m_log_folders) : std::nullopt) {
      j["log_tail"] = *tail;
    }
  }
  j["plots_html"] = reports::render_trial_curve(*it);
  j["metrics_html"] = reports::render_trial_metrics(*it);
  const auto view = log ? reports::trusted_model_view(*log, m_log_folders) : std::nullopt;
  j["model_html"] = view ? reports::render_model_view(*view, "What the model learned") : "";
  return json_response(j);
}

void Dashboard::schedule_render(Watched& w) {
  if (w.rendering || m_stopping || m_drawings >= k_drawings_at_once) {
    return;
  }
  if (!w.has_plots) {
    start_render(w, true, true);  // First load: plots at once, importances right after.
    return;
  }
  const bool data_stale = w.plot_revision != w.watch.revision();
  const bool importance_stale =
      !w.importances || w.importance_key != complete_trials_key(*w.watch.trials());
  if ((!data_stale && !importance_stale) || SteadyClock::now() < w.next_render) {
    return;
  }
  // Importances at most every other drawing, so that new trials still show in between.
  start_render(w, importance_stale && (w.prefer_importance || !data_stale), false);
}

void Dashboard::start_render(Watched& w, bool compute_importance, bool first_paint) {
  if (w.plot_thread.joinable()) {
    w.plot_thread.join();  // Finished: rendering is false.
  }
  w.rendering = true;
  m_drawings_most = std::max(m_drawings_most, ++m_drawings);
  auto snapshot = w.watch.trials();
  const uint64_t revision = w.watch.revision();
  const StudyInfo study = w.watch.study();
  std::shared_ptr<const reports::StudyImportances> cached = w.importances;
  w.plot_thread =
      std::thread([this, &w, snapshot, revision, study, cached, compute_importance, first_paint] {
        if (!first_paint) {
          lower_thread_priority();  // A redraw yields the CPU to a running study.
        }
        const auto start = SteadyClock::now();
        if (first_paint) {
          std::string html = draw(study, *snapshot, nullptr, m_log_folders);
          std::lock_guard<std::mutex> lock(m_mutex);
          publish(w, std::move(html), revision);
        }
        std::shared_ptr<const reports::StudyImportances> importances = cached;
        uint64_t key = 0;
        if (compute_importance) {
          key = complete_trials_key(*snapshot);
          importances = compute_importances(*snapshot, study.directions);
        }
        std::string html = draw(study, *snapshot, importances.get(), m_log_folders);
        const auto took = SteadyClock::now() - start;
        std::lock_guard<std::mutex> lock(m_mutex);
        publish(w, std::move(html), revision);
        if (compute_importance) {
          w.importances = std::move(importances);
          w.importance_key = key;
          ++m_importance_computations;
        }
        w.prefer_importance = !compute_importance;
        w.rendering = false;
        --m_drawings;
        // Drawing takes at most a tenth of the time: a running study keeps its CPU.
        w.next_render =
            SteadyClock::now() + std::max<SteadyClock::duration>(m_min_plot_interval, 9 * took);
        release_free_memory();  // The drawing's copies are freed: give them back.
      });
}

void Dashboard::publish(Watched& w, std::string html, uint64_t revision) {
  w.plot_html = std::move(html);
  w.plot_revision = revision;
  w.has_plots = true;
  ++w.plot_version;
}

Response Dashboard::plots(Watched& w, const std::string& have) {
  std::lock_guard<std::mutex> lock(m_mutex);
  schedule_render(w);
  Json j = {{"revision", w.plot_revision},
            {"version", w.plot_version},
            {"pending", !w.has_plots || w.rendering}};
  if (w.has_plots && have != std::to_string(w.plot_version)) {
    j["html"] = w.plot_html;
  }
  return json_response(j);
}

Response Dashboard::page() const {
  const std::string head = "<link rel=\"icon\" href=\"data:,\"><style>" +
                           std::string(embedded::dashboard_css()) + "</style>";
  return {200, "text/html; charset=utf-8",
          reports::render_page("hpt dashboard", "<div id=\"app\"></div>", head,
                               embedded::dashboard_js())};
}

}  // namespace hpt::dashboard
