#pragma once

#include "config/Config.h"
#include "ir/Ir.h"

namespace helion::passes {

/// Turns reductions over dimensions that the config loops over
/// (`reduction_loops[i]` set) into loops that accumulate one block at a time.
/// Values along such a dimension are recomputed inside each loop that needs
/// them, so a softmax becomes three passes over the row; everything else is
/// unchanged. Reductions left persistent keep the whole dimension in one block.
ir::DeviceKernel roll_reductions(const ir::DeviceKernel &kernel, const Config &config);

} // namespace helion::passes
