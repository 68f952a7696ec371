#pragma once

// A kernel config in canonical form: what code generation reads. Users write
// configs in either spelling of SPEC §3; ConfigSpec::normalize turns both into
// this and rejects what is invalid for the kernel at hand.

#include "support/Json.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace helion {

/// The choices for one `hl.tile` call (in source order).
struct TileChoice {
  /// One block size per tiled dimension, in the call's dimension order.
  std::vector<int64_t> block_sizes;
  /// Flatten an N-D tile into one 1-D range of `flat_block_size` elements;
  /// `block_sizes` is then empty.
  bool flatten = false;
  int64_t flat_block_size = 0; ///< only when `flatten`
  /// A permutation of the call's dimensions: loop_order[0] varies fastest
  /// (maps to program id 0 / the innermost loop). Identity when 1-D.
  std::vector<int> loop_order;
};

/// The `tl.range` options of one loop: one entry of each range_* list.
/// Zero and nullopt leave the keyword out, so Triton decides.
struct RangeChoice {
  int unroll_factor = 0;               ///< loop_unroll_factor=
  int num_stages = 0;                  ///< num_stages=
  std::optional<bool> multi_buffer;    ///< disallow_acc_multi_buffer= its negation
  std::optional<bool> flatten;         ///< flatten=
  std::optional<bool> warp_specialize; ///< warp_specialize=

  /// The keyword arguments of `tl.range` these options give, in the
  /// autotuner's key order: {"loop_unroll_factor=2", "num_stages=3", ...}.
  std::vector<std::string> keyword_arguments() const;

  bool is_default() const {
    return unroll_factor == 0 && num_stages == 0 && !multi_buffer && !flatten && !warp_specialize;
  }
  bool operator==(const RangeChoice &other) const {
    return unroll_factor == other.unroll_factor && num_stages == other.num_stages &&
           multi_buffer == other.multi_buffer && flatten == other.flatten &&
           warp_specialize == other.warp_specialize;
  }
};

struct Config {
  std::vector<TileChoice> tiles;
  /// One entry per reduction dimension (full slices like `x[tile, :]`):
  /// nullopt = persistent (whole dimension in one block), else the loop block.
  std::vector<std::optional<int64_t>> reduction_loops;
  int64_t l2_grouping = 1;
  /// One indexing style per load/store in program order ("pointer",
  /// "block_ptr", "tensor_descriptor"); a single string applies to all.
  std::vector<std::string> indexing;
  /// "flat" (1-D grid), "xyz" (use the y and z grid dimensions),
  /// "persistent_blocked" (one program per SM times num_sm_multiplier, each
  /// taking a contiguous range of tiles) or "persistent_interleaved" (the
  /// same programs, each taking every grid-size-th tile).
  std::string pid_type = "flat";
  /// Persistent pid types launch this many programs per SM; 1 otherwise.
  int64_t num_sm_multiplier = 1;
  int num_warps = 4;
  int num_stages = 2;
  /// One per range entry (KernelFacts::loops), in the same order.
  std::vector<RangeChoice> ranges;
  /// One per loop with a static_ranges entry: true unrolls it with tl.static_range.
  std::vector<bool> static_ranges;
  /// One per load without an explicit policy: "", "first" or "last".
  std::vector<std::string> load_eviction_policies;
  /// Registers per thread (ptxas .maxnreg); nullopt leaves it to the compiler.
  std::optional<int> maxnreg;
  /// "pointer" or "tensor_descriptor", one per atomic op or one for all.
  std::vector<std::string> atomic_indexing = {"pointer"};
  /// One value per user tunable (KernelFacts::tunables), in registration order.
  std::vector<Json> tunables;

  /// Whether programs loop over tiles (a persistent pid type).
  bool is_persistent() const;

  /// The indexing style of the `index`-th load/store.
  const std::string &indexing_for(size_t index) const;
  /// The `eviction_policy=` value of the `load`-th load without a policy of
  /// its own, as Triton spells it ("" for none).
  std::string eviction_policy_for(size_t load) const;
  /// The indexing style of the `index`-th atomic op.
  const std::string &atomic_indexing_for(size_t index) const;
};

} // namespace helion
