#pragma once

// The block size each block of a kernel takes under a config: one rule that
// the passes which depend on it and code generation share.

#include "config/Config.h"
#include "ir/Ir.h"

#include <cstdint>
#include <optional>

namespace helion::ir {

/// The smallest block of a dimension that feeds a matmul: tl.dot needs every
/// operand dimension to be at least 16.
inline constexpr int64_t kMinDotBlock = 16;

/// Whether `block` is a dimension of a matmul's operand.
bool feeds_dot(const DeviceKernel &kernel, int block);

/// How the config sizes one tile block.
struct TileBlockSize {
  /// The hl.tile call whose config entry gives the size: the block's own, or,
  /// for a loop sized by a registered block size, the call that registered it.
  int call = -1;
  /// The call is flattened: all its blocks share one 1-D range of `size`.
  bool flattened = false;
  int64_t size = 0;
};

/// The size `config` gives tile block `block`; nullopt for a reduction block
/// (config.reduction_loops decides those).
std::optional<TileBlockSize> tile_block_size(const DeviceKernel &kernel, const Config &config,
                                             int block);

} // namespace helion::ir
