#pragma once

// The passes over the device IR that depend on the config, in the order they
// run. Each takes the kernel's IR as lowering built it (or as the pass before
// left it) and returns a new IR; none changes its input. Adding a pass means
// adding it to this list (and a Before/Expected case under tests/passes/).

#include "config/Config.h"
#include "ir/Ir.h"

#include <string>
#include <vector>

namespace helion::pipeline {

struct DevicePass {
  const char *name;
  ir::DeviceKernel (*run)(const ir::DeviceKernel &kernel, const Config &config);
};

/// Every config-dependent pass, in order.
const std::vector<DevicePass> &config_passes();

/// What a stage did, for `--dump-stages`.
struct StageRecord {
  std::string name;
  double milliseconds = 0;
  std::string text; ///< the IR (or the decision) after the stage
};

/// Runs config_passes() on `kernel`; with `log`, records each pass's time
/// and the IR after it.
ir::DeviceKernel run_config_passes(const ir::DeviceKernel &kernel, const Config &config,
                                   std::vector<StageRecord> *log = nullptr);

/// Times `stage()` into `log` under `name`.
template <typename Stage>
auto timed(std::vector<StageRecord> &log, const char *name, Stage stage) -> decltype(stage());

} // namespace helion::pipeline

#include <chrono>

namespace helion::pipeline {

template <typename Stage>
auto timed(std::vector<StageRecord> &log, const char *name, Stage stage) -> decltype(stage()) {
  auto start = std::chrono::steady_clock::now();
  auto record = [&] {
    std::chrono::duration<double, std::milli> elapsed = std::chrono::steady_clock::now() - start;
    log.push_back({name, elapsed.count(), ""});
  };
  if constexpr (std::is_void_v<decltype(stage())>) {
    stage();
    record();
  } else {
    auto result = stage();
    record();
    return result;
  }
}

} // namespace helion::pipeline
