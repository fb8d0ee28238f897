#pragma once
// The dashboard's pages and JSON API as a request handler, independent of the HTTP server
// (server.hpp binds it to a socket; tests call it directly).
//
// Routes (GET only; every other path is 404, every answer is JSON except the pages):
//   /, /studies/ID, /studies/ID/trials/NUMBER   the single-page app (one HTML document)
//   /api/studies                     {"studies": [study summary, ...]}
//   /api/studies/ID                  the study summary (api.hpp: study_summary_json)
//   /api/studies/ID/trials?since=C   {"study": summary, "cursor": C', "full": bool,
//                                     "trials": [rows changed after cursor C]}; no C (or a
//                                     cursor from an earlier server run): every trial, full
//   /api/studies/ID/trials/NUMBER    trial_detail_json + "log_tail" + "metrics_html" +
//                                     "model_html" (the trial's model view, or "")
//   /api/studies/ID/plots?have=V     {"revision": R, "version": V', "pending": bool, "html":
//                                     plot sections drawn for data revision R} ("html" omitted
//                                     when V' == V: the client has it; "pending": a drawing
//                                     is under way, e.g. the importances of a first load)

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "hpt/dashboard/study_watch.hpp"
#include "hpt/reports/info.hpp"
#include "hpt/storage/storage.hpp"

namespace hpt::dashboard {

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

class Dashboard {
 public:
  // Serves the studies of storage (opened read-only by the caller), or only only_study when it
  // is not empty, and the tails of trial logs inside log_folders (api.hpp: log_folders; none
  // when empty). Throws std::invalid_argument naming the studies if only_study is unknown.
  explicit Dashboard(std::unique_ptr<Storage> storage, const std::string& only_study = "",
                     std::vector<std::string> log_folders = {});
  // Waits for a plot rendering still running.
  ~Dashboard();
  Dashboard(const Dashboard&) = delete;
  Dashboard& operator=(const Dashboard&) = delete;

  // Answers GET path with its query parameters. Thread-safe; never throws (a storage error is
  // a 503 JSON {"error": ...}, a bad path or id a 404).
  Response get(const std::string& path, const std::map<std::string, std::string>& query);

  // The newest trials are read at most this often (default 250 ms). Plots are drawn in the
  // background: the first time at once without the fANOVA importances, then at once again with
  // them; after that at most every max(min_plot_interval (default 1 s), 9 x the last drawing's
  // time) on a thread at the lowest CPU priority, so that drawing takes at most a tenth of the
  // time and yields the CPU to a running study. Importances are cached per study and computed
  // again only when the set of COMPLETE trials changed (at most every other drawing).
  // A watch not asked for in idle_watch retires (default k_idle_watch).
  void set_intervals(std::chrono::milliseconds sync, std::chrono::milliseconds min_plot,
                     std::chrono::milliseconds idle_watch = k_idle_watch);

  // note hears, once, that the database file was deleted, moved or replaced since it was opened
  // (`rm`, `mv new.db study.db`, hpt writing a study back). From then on every API request is
  // answered 503 saying so: the data shown would be a file no path names, and a new file at the
  // path cannot be read safely beside the old one's write-ahead log: a restart shows it.
  void on_file_moved(std::function<void(const std::string&)> note);

  // How many times the fANOVA importances were computed, over all studies (for tests and the
  // benchmark: refreshes that bring no new COMPLETE trial must not recompute them).
  uint64_t importance_computations();
  // Watches of studies gone or replaced still kept (for tests: a request or a drawing still
  // uses them, or they retired since the last retirement).
  size_t retired_watches();
  // The studies watched now (each holds its trials and plots), and the most drawings that ran at
  // once so far (for tests: at most k_watches and k_drawings_at_once).
  size_t watched_studies();
  size_t most_drawings_at_once();
  // At most this many studies are watched: asking for another retires the one asked for least
  // recently (a crawler over 210 studies kept them all: 214 MB, for good). One not asked for in
  // k_idle_watch (set_intervals) retires too; asked again, a study is read afresh.
  static constexpr size_t k_watches = 24;
  static constexpr std::chrono::minutes k_idle_watch{10};
  // Drawings run at most this many at once (each on a thread of its own: 60 first pages at once
  // started 86 threads); a page whose drawing waits asks again, as it does while one runs.
  static constexpr size_t k_drawings_at_once = 2;
  // The most answers of many trials built at once so far (for tests: at most
  // k_heavy_answers_at_once).
  size_t most_heavy_answers_at_once();
  // Answers of more than k_heavy_rows trials are built at most this many at a time: each holds
  // its rows' JSON (about 1 KB a trial), and 60 at once of a 20,000-trial study took 1.3 GB.
  static constexpr size_t k_heavy_rows = 1000;
  static constexpr size_t k_heavy_answers_at_once = 4;
  // The study list reads up to this many studies one by one, each from its own snapshot
  // refreshed by what changed; more in one pass over every trial (Storage::trial_outlines).
  static constexpr size_t k_studies_synced_one_by_one = 8;

 private:
  struct Watched {
    Watched(StudyInfo s, std::string prefix)
        : watch(std::move(s)), cursor_prefix(std::move(prefix)) {}
    StudyWatch watch;
    // "<server run>.<watch>-": a cursor for this watch's revisions (a study id reused after a
    // deletion gets a new watch, so an old cursor reads as none).
    std::string cursor_prefix;
    std::chrono::steady_clock::time_point synced{};
    std::chrono::steady_clock::time_point used{};  // Last asked for (see k_watches).
    // Plot sections drawn for data revision plot_revision; plot_version counts the drawings
    // published. A drawing runs on plot_thread.
    uint64_t plot_revision = 0;
    uint64_t plot_version = 0;
    bool has_plots = false;
    std::string plot_html;
    bool rendering = false;
    std::chrono::steady_clock::time_point next_render{};
    std::thread plot_thread;
    // The fANOVA importances of the COMPLETE trials whose complete_trials_key is
    // importance_key (null until first computed); the next gated drawing recomputes them
    // when prefer_importance and they are stale.
    std::shared_ptr<const reports::StudyImportances> importances;
    uint64_t importance_key = 0;
    bool prefer_importance = true;
  };

  Response route(const std::string& path, const std::map<std::string, std::string>& query);
  Response studies();
  Response trials(Watched& w, const std::string& since);
  Response trial(Watched& w, int number);
  Response plots(Watched& w, const std::string& have);
  Response page() const;
  // The study with this id (if served), brought up to date with the database; the caller's
  // share keeps it alive while the request uses it.
  std::shared_ptr<Watched> sync(int64_t study_id);
  // Retires the watches beyond k_watches (the least recently used first) and those idle for
  // k_idle_watch, but never keep; m_mutex held.
  void evict_locked(const Watched& keep);
  // Brings w up to date; returns the watch to use from now: a new one when the study lost
  // trials (only a study deleted and made again with its id, name and directions does), so
  // that its cursors and plots start afresh. m_mutex held.
  Watched& sync_locked(Watched& w);
  bool sync_due(const Watched& w) const;
  // The watch of study s; a new one when its id was another study's (deleted, then the id
  // reused: another name or directions). m_mutex held.
  Watched& watch_locked(const StudyInfo& s);
  // Ends the watch of a study gone or replaced. Its drawing may still run and requests may
  // still hold it, so it lives on in m_retired until neither does (freed at the next
  // retirement: a study deleted and made again over and over does not grow the memory).
  // m_mutex held.
  void retire_locked(std::map<int64_t, std::shared_ptr<Watched>>::iterator it);
  std::vector<StudyInfo> served_studies();
  // The 503 reason once the database file moved (see on_file_moved), else "".
  std::string file_moved_problem();
  // Starts a drawing when one is due (see set_intervals); m_mutex held.
  void schedule_render(Watched& w);
  // Draws on a new thread: with cached importances, or computing them first when
  // compute_importance; first_paint draws without them, publishes, then draws with them.
  void start_render(Watched& w, bool compute_importance, bool first_paint);
  // Makes html, drawn for data revision, the plots served next; m_mutex held.
  static void publish(Watched& w, std::string html, uint64_t revision);

  std::unique_ptr<Storage> m_storage;
  std::string m_only_study;
  std::vector<std::string> m_log_folders;
  std::string m_epoch;       // Distinguishes this server run's cursors from an earlier run's.
  std::mutex m_heavy_mutex;  // Guards the three below: the heavy answers being built.
  std::condition_variable m_heavy_done;
  size_t m_heavy_now = 0;
  size_t m_heavy_most = 0;
  std::mutex m_mutex;  // Guards everything below and the storage.
  std::map<int64_t, std::shared_ptr<Watched>> m_watched;
  std::vector<std::shared_ptr<Watched>> m_retired;
  uint64_t m_watches = 0;
  size_t m_drawings = 0;  // Drawings running now.
  size_t m_drawings_most = 0;
  std::chrono::milliseconds m_sync_interval{250};
  std::chrono::milliseconds m_min_plot_interval{1000};
  std::chrono::milliseconds m_idle_watch{k_idle_watch};
  bool m_stopping = false;
  uint64_t m_importance_computations = 0;
  std::function<void(const std::string&)> m_moved_note;
  std::chrono::steady_clock::time_point m_file_checked{};
  bool m_file_moved = false;  // Once moved, for good.
};

}  // namespace hpt::dashboard
