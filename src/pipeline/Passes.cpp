#include "pipeline/Passes.h"

#include "passes/BindBlockSizes.h"
#include "passes/MaskedStores.h"
#include "passes/RollReductions.h"
#include "passes/SqueezeUnitBlocks.h"
#include "passes/WidenDotResults.h"

namespace helion::pipeline {

const std::vector<DevicePass> &config_passes() {
  static const std::vector<DevicePass> passes = {
      {"bind_block_sizes", passes::bind_block_sizes},
      {"widen_dot_results", passes::widen_dot_results},
      {"masked_stores", passes::masked_stores},
      {"roll_reductions", passes::roll_reductions},
      {"squeeze_unit_blocks", passes::squeeze_unit_blocks},
  };
  return passes;
}

ir::DeviceKernel run_config_passes(const ir::DeviceKernel &kernel, const Config &config,
                                   std::vector<StageRecord> *log) {
  ir::DeviceKernel current = kernel;
  for (const DevicePass &pass : config_passes()) {
    if (!log) {
      current = pass.run(current, config);
      continue;
    }
    current = timed(*log, pass.name, [&] { return pass.run(current, config); });
    log->back().text = ir::dump(current);
  }
  return current;
}

} // namespace helion::pipeline
