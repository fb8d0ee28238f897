// libFuzzer target: a worker's stdout line is hostile input. parse_worker_line must classify
// every line (log, message, protocol error) without throwing, crashing, hanging or growing
// memory, for single- and multi-objective studies; a message it accepts is well formed.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "hpt/engine/protocol.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string line(reinterpret_cast<const char*>(data), size);
  for (size_t objectives : {size_t{1}, size_t{2}}) {
    const hpt::WorkerLine w = hpt::parse_worker_line(line, false, objectives);
    const bool bad_values = w.message.kind == hpt::WorkerMessage::Kind::Final && objectives > 1 &&
                            w.message.values.size() != objectives;
    if (w.kind == hpt::WorkerLine::Kind::Message && (w.message.step < 0 || bad_values)) {
      std::abort();  // A negative step or a wrong count of values must never pass.
    }
  }
  return 0;
}
