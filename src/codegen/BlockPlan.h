#pragma once

// How each block of the kernel is iterated under the config: its size (a
// constexpr parameter), whether its tiles need a mask, whether a reduction
// is held whole in one block, how the blocks of a flattened hl.tile share one
// range, and which tl.range options each loop takes. Also the shapes values
// take in the generated code, where a flattened call's blocks are one axis.

#include "codegen/ExprTree.h"
#include "codegen/Names.h"
#include "config/Config.h"
#include "ir/Ir.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace helion::codegen {

struct BlockPlan {
  std::string size;       ///< the block size as the kernel spells it (a constexpr name)
  int64_t size_value = 0; ///< the value when known at compile time (0 for a runtime value)
  std::string size_host;  ///< the host expression of the block size
  bool needs_mask = false;
  bool persistent = false; ///< a reduction dimension held whole in one block
  /// The first block of a flattened `hl.tile` call, for each of its blocks:
  /// they share one 1-D range of the flat block size. -1 when not flattened.
  int flat_leader = -1;
};

/// The device code's names for one block's values.
struct BlockNames {
  std::string offset;  ///< first index of the current tile
  std::string indices; ///< the tile's indices
  std::string mask;    ///< the tile's in-bounds lanes
  std::string pid;     ///< the tile's index along the block (grid blocks)
  std::string count;   ///< the number of tiles along the block (grid blocks)
  std::string flat;    ///< the flat range of a flattened call (its leader)
};

class BlockPlans {
public:
  /// Plans and names every block; the names come from `names`. Throws
  /// UserError("InvalidConfig") for sizes the kernel cannot take.
  BlockPlans(const ir::DeviceKernel &kernel, const Config &config, const ModuleNames &module,
             DeviceNames &names);

  const BlockPlan &plan(int block) const { return plans_.at(block); }
  const BlockNames &names(int block) const { return names_.at(block); }
  int count() const { return static_cast<int>(plans_.size()); }
  Expr size(int block) const { return name(plan(block).size); }
  bool is_flat(int block) const { return plan(block).flat_leader >= 0; }
  /// The number of elements a flattened call's range covers.
  SymInt flat_extent(const ir::TileCall &call) const;
  /// The call's dimensions, fastest first.
  std::vector<int> loop_order(int call) const;

  /// A value's dims as the generated code holds them: the blocks of a
  /// flattened call collapse into the one axis of their flat range.
  std::vector<ir::Dim> cg_shape(const std::vector<ir::Dim> &dims) const;
  int cg_rank(const std::vector<ir::Dim> &dims) const;
  /// The axis of the generated value that IR dim `i` of `dims` lands on.
  int cg_axis(const std::vector<ir::Dim> &dims, size_t i) const;
  /// `mask_b` broadcast to position `axis` of a value of rank `rank`; null
  /// where the block needs no mask.
  Expr block_mask(int block, int axis, int rank) const;
  /// Throws InvalidConfig where a flattened block reaches an operation that
  /// needs its dimensions apart.
  void reject_flat(const std::vector<ir::Dim> &dims, const std::string &what) const;
  void reject_flat_axis(const ir::Dim &axis, const std::string &what) const;

  /// The range entries (ir/LoopEntries.h) the kernel's loops read.
  size_t top_level_entry(size_t root) const { return top_level_entries_.at(root); }
  size_t tile_entry(int block) const { return range_entry_of_block_.at(block); }
  size_t range_entry(int loop_index) const { return range_entry_of_loop_.at(loop_index); }
  /// The iterator of a loop inside the kernel, or of a persistent program's
  /// loop over tiles: `tl.static_range` where the config unrolls it, else
  /// `tl.range` with the loop's options.
  Expr range_call(size_t entry, Expr begin, Expr end, Expr step) const;

private:
  void plan_block(int block, const ModuleNames &module, DeviceNames &names);
  void plan_flattened(int block, int64_t flat_block, DeviceNames &names);
  void name_blocks(DeviceNames &names);
  void index_loop_entries();

  const ir::DeviceKernel &k_;
  const Config &config_;
  std::vector<BlockPlan> plans_;
  std::vector<BlockNames> names_;
  std::vector<size_t> top_level_entries_;      ///< each top-level loop's range entry
  std::map<int, size_t> range_entry_of_block_; ///< inner tile loop block -> its range entry
  std::map<int, size_t> range_entry_of_loop_;  ///< range() loop's LoopIndex -> its range entry
  std::map<size_t, size_t> static_slot_;       ///< range entry -> its static_ranges entry
};

struct DeviceContext;

/// Writes `block`'s indices, and its mask where it needs one, for the tile
/// that starts at `offset`.
void emit_block_indices(DeviceContext &ctx, int block, const Expr &offset);

/// Writes the indices of every block of flattened call `call` from one 1-D
/// range starting at `offset`: loop_order[0] varies fastest.
void emit_flat_indices(DeviceContext &ctx, int call, const Expr &offset);

/// Writes the indices of the reductions held whole in one block.
void emit_persistent_indices(DeviceContext &ctx);

} // namespace helion::codegen
