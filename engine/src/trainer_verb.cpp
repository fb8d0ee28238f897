#include "trainer_verb.hpp"

#include <iterator>
#include <thread>

#include "boost_process.hpp"
#include "hpt/engine/worker_process.hpp"

namespace hpt {

TrainerVerbRun run_trainer_verb(const std::string& trainer_exe, const std::string& verb,
                                const std::string& fixed_json, const std::string& params_json) {
  namespace bp = boost::process;
  // Resolved first: a start that fails after vfork would leave its child unreaped.
  const std::string exe = resolve_executable(trainer_exe);
  TrainerVerbRun run;
  bp::ipstream out;
  bp::ipstream err;
  bp::environment env = boost::this_process::environment();
  if (!fixed_json.empty()) {
    env["HPT_FIXED"] = fixed_json;
  }
  if (!params_json.empty()) {
    env["HPT_PARAMS"] = params_json;
  }
  bp::child child(exe, verb, env, bp::std_out > out, bp::std_err > err, bp::std_in < bp::null);
  // Both pipes read at once: a child filling one while we wait on the other would hang.
  std::thread drain([&] { run.out.assign(std::istreambuf_iterator<char>(out), {}); });
  try {
    run.err.assign(std::istreambuf_iterator<char>(err), {});
  } catch (...) {
    drain.join();  // Never destroyed joinable (std::terminate).
    throw;
  }
  drain.join();
  child.wait();
  run.wait_status = child.native_exit_code();
  return run;
}

}  // namespace hpt
