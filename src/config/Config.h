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
  /// One value per user tunable (KernelFacts::tunables), in registration order.
  std::vector<Json> tunables;

  /// Whether programs loop over tiles (a persistent pid type).
  bool is_persistent() const;

  /// The indexing style of the `index`-th load/store.
  const std::string &indexing_for(size_t index) const;
};

} // namespace helion
