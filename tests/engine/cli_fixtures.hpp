#pragma once
// What the tests of hpt's verbs (test_cli*.cpp, test_output_path.cpp) share: a sample study,
// and run_hpt run in-process with what it printed captured.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "hpt/engine/cli.hpp"
#include "hpt/storage/storage.hpp"
#include "support/temp_dir.hpp"

namespace hpt::test {

// A COMPLETE trial with this value (no params).
inline FrozenTrial complete_trial(double value) {
  FrozenTrial t;
  t.state = TrialState::Complete;
  t.value = value;
  return t;
}

// A study with one COMPLETE and one FAIL trial, params x (float) and c (categorical list).
inline std::unique_ptr<Storage> sample_study(const std::string& db, StudyInfo& info) {
  std::filesystem::remove(db);
  auto s = open_storage(db);
  info.id = s->create_study("demo", Direction::Minimize);
  info.name = "demo";
  FloatDistribution fx{0, 1, false, {}};
  CategoricalDistribution fc{{Json::array({512, 256}), "a,b"}};
  FrozenTrial a = complete_trial(0.25);
  a.datetime_start = Clock::time_point{} + std::chrono::hours(24 * 365 * 50);
  a.datetime_complete = *a.datetime_start + std::chrono::microseconds(1234567);
  a.params = {{"x", 0.5}, {"c", 0}};
  a.distributions = {{"x", fx}, {"c", fc}};
  s->create_trial(info.id, a);
  FrozenTrial b = a;
  b.state = TrialState::Fail;
  b.value.reset();
  b.params = {{"x", 0.75}, {"c", 1}};
  s->create_trial(info.id, b);
  return s;
}

// sample_study in its own temporary folder.
struct SampleStudy {
  hpt::test::TempDir dir{"cli"};
  StudyInfo info;
  std::unique_ptr<Storage> s = sample_study(dir.file("s.db"), info);
};

// dir's c.yaml: a study of `true` over one choice, its study section study_keys (a YAML flow
// map's entries, e.g. "storage: s.db"). Returns its path.
inline std::string command_study_config(const hpt::test::TempDir& dir,
                                        const std::string& study_keys) {
  const std::string path = dir.file("c.yaml");
  std::ofstream(path) << "study: {" << study_keys
                      << "}\nobjective: {command: [true]}\nsearch_space: {a: [7]}\n";
  return path;
}

// run_hpt on args with a registrar adding a verb with -o (as hpt report does); returns the exit
// code and what it printed on stderr.
inline std::pair<int, std::string> run_hpt_capture(std::vector<std::string> args) {
  args.insert(args.begin(), "hpt");
  std::vector<char*> argv;
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  std::string out;
  const CommandRegistrar report = [&out](CLI::App& app) {
    auto* verb = app.add_subcommand("report", "a registrar's verb");
    verb->add_option("-o,--out", out, "output");
    verb->callback([] {});
  };
  std::ostringstream err;
  auto* old = std::cerr.rdbuf(err.rdbuf());
  const int code = run_hpt(static_cast<int>(argv.size()), argv.data(), {report});
  std::cerr.rdbuf(old);
  return {code, err.str()};
}

// What f printed on std::cout while it ran.
template <class F>
std::string cout_of(F&& f) {
  std::ostringstream out;
  struct Restore {
    std::streambuf* old;
    ~Restore() { std::cout.rdbuf(old); }
  } restore{std::cout.rdbuf(out.rdbuf())};
  f();
  return out.str();
}

}  // namespace hpt::test
