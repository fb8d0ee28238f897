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
//   /api/studies/ID/trials/NUMBER    trial_detail_json + "log_tail" + "metrics_html"
//   /api/studies/ID/plots?have=R     {"revision": R', "pending": bool, "html": plot sections}
//                                     ("html" omitted when R' == R: the client has it)

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "hpt/dashboard/study_watch.hpp"
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
  // is not empty. Throws std::invalid_argument naming the studies if only_study is unknown.
  explicit Dashboard(std::unique_ptr<Storage> storage, const std::string& only_study = "");
  // Waits for a plot rendering still running.
  ~Dashboard();
  Dashboard(const Dashboard&) = delete;
  Dashboard& operator=(const Dashboard&) = delete;

  // Answers GET path with its query parameters. Thread-safe; never throws (a storage error is
  // a 503 JSON {"error": ...}, a bad path or id a 404).
  Response get(const std::string& path, const std::map<std::string, std::string>& query);

  // The newest trials are read at most this often (default 250 ms); plots are re-rendered at
  // most every max(min_plot_interval (default 1 s), 9 x the last rendering's time), so that
  // drawing takes at most a tenth of the time next to a running study.
  void set_intervals(std::chrono::milliseconds sync, std::chrono::milliseconds min_plot);

 private:
  struct Watched {
    explicit Watched(StudyInfo s) : watch(std::move(s)) {}
    StudyWatch watch;
    std::chrono::steady_clock::time_point synced{};
    // Plot sections rendered for plot_revision; a rendering runs on plot_thread.
    uint64_t plot_revision = 0;
    bool has_plots = false;
    std::string plot_html;
    bool rendering = false;
    std::chrono::steady_clock::time_point next_render{};
    std::thread plot_thread;
  };

  Response route(const std::string& path, const std::map<std::string, std::string>& query);
  Response studies();
  Response trials(Watched& w, const std::string& since);
  Response trial(Watched& w, int number);
  Response plots(Watched& w, const std::string& have);
  Response page() const;
  // The study with this id (if served), brought up to date with the database.
  Watched* sync(int64_t study_id);
  void sync_locked(Watched& w);
  std::vector<StudyInfo> served_studies();
  void start_render(Watched& w);

  std::unique_ptr<Storage> m_storage;
  std::string m_only_study;
  std::string m_epoch;  // Distinguishes this server run's cursors from an earlier run's.
  std::mutex m_mutex;   // Guards everything below and the storage.
  std::map<int64_t, std::unique_ptr<Watched>> m_watched;
  std::chrono::milliseconds m_sync_interval{250};
  std::chrono::milliseconds m_min_plot_interval{1000};
  bool m_stopping = false;
};

}  // namespace hpt::dashboard
