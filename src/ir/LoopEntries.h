#pragma once

// Which loops of a kernel have an entry in the config's range_* lists and
// static_ranges: the one place that decides it, read by the config space
// (how many entries) and by code generation (which loop reads which entry).
//
// The rule: every top-level loop call has one entry, covering all of its
// dimensions (it matters only for persistent pid types, where the program
// loops over tiles); every dimension of a tile or grid loop inside the kernel
// has one, and so has every `range()` loop, which is an `hl.grid` on the
// device. Looped reductions (made by the roll_reductions pass from
// reduction_loops), `hl.static_range` and loops over tuples (unrolled while
// lowering) and register_block_size calls (no loop of their own) have none.
// Entries are in program order: the order of first appearance in the source.

#include "ir/Ir.h"

#include <optional>
#include <vector>

namespace helion::ir {

/// Loops of at most this many iterations, known when compiling, may be
/// unrolled with tl.static_range (`static_ranges`).
constexpr int64_t kMaxStaticRangeIterations = 8;

struct LoopEntry {
  enum class Kind { TopLevel, TileDim, Range };
  Kind kind = Kind::TopLevel;
  SourceSpan span;
  int tile_call = -1;  ///< TopLevel, TileDim: the tile call
  int block = -1;      ///< TileDim: the block the loop iterates
  int loop_index = -1; ///< Range: the loop's LoopIndex node
  /// Whether the loop may become a tl.static_range: bounds (and step, or a
  /// fixed block size) known when compiling, and at most
  /// kMaxStaticRangeIterations iterations for every block size.
  bool static_candidate = false;
};

/// The kernel's range entries in config order.
std::vector<LoopEntry> loop_entries(const DeviceKernel &kernel);

} // namespace helion::ir
