#pragma once

#include "config/Config.h"
#include "ir/Ir.h"

namespace helion::passes {

/// Drops from every value the dimension of each tile whose block size the
/// config sets to 1: such a tile holds one index, which becomes a scalar
/// (its tile's first index), so a batch tile of 1 leaves 2-D values. Triton
/// then emits 2-D `tl.dot`s (only those use Hopper's warpgroup MMA) and 2-D
/// pointer arithmetic. Reductions, scans and masks over a dropped dimension
/// become the value itself; permutations and reduction axes are renumbered.
/// A tile is left alone when some value broadcasts a size-1 dimension
/// against it (dropping it there would change which dimensions align) or
/// when its block feeds a matmul's M, N or K; a size-1 dimension that only
/// `m[None]` put in front of a value feeding elementwise ops goes with it.
ir::DeviceKernel squeeze_unit_blocks(const ir::DeviceKernel &kernel, const Config &config);

} // namespace helion::passes
