#pragma once

// What the compiler learned about a kernel that decides its config space.
// Built by the pipeline after type propagation; read by ConfigSpec.

#include "config/Config.h"
#include "config/Fragment.h"
#include "support/SourceSpan.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace helion {

/// A `block_size=` that host arithmetic computes from the config's own
/// choices (`next_power_of_2(cdiv(k, split_k))` of a tunable `split_k`):
/// fixed for each config, so no entry of its own.
struct DerivedBlockSize {
  std::string text; ///< as the source spells it, for messages
  /// Its value under a config whose tunables and registered block sizes
  /// are read; not yet checked to be a power of two.
  std::function<int64_t(const Config &)> value;
};

struct TileCallFacts {
  SourceSpan span;
  /// Extent of each tiled dimension: the size hint (the exact size with static shapes).
  std::vector<int64_t> size_hints;
  /// Smallest legal block per dimension (16 for dimensions that feed a matmul, else 1).
  std::vector<int64_t> min_block_sizes;
  /// Whether each dimension is an operand dimension of a matmul (M, N or K).
  std::vector<bool> feeds_matmul;
  /// A block size fixed in the source by `block_size=`; such dimensions are not tunable.
  std::vector<std::optional<int64_t>> fixed_block_sizes;
  /// Per dimension, where the fixed block size is derived from the config;
  /// `fixed_block_sizes` then holds the default config's value.
  std::vector<std::optional<DerivedBlockSize>> derived_block_sizes;
  /// The top-level loop (mapped to the launch grid) rather than a loop inside the kernel.
  bool is_grid = false;
  /// Whether its dimensions may share one 1-D range: only when no value
  /// needs them apart (a matmul, a reduction or tile.begin over one of them).
  bool flattenable = true;
};

struct ReductionFacts {
  SourceSpan span;
  int64_t size_hint = 0;
  /// Some operation needs the whole dimension at once (argmax, a matmul over
  /// it): reduction_loops must leave it persistent.
  bool persistent_only = false;
};

/// `hl.register_tunable(name, fragment)`: a config entry of the user's.
struct TunableFacts {
  std::string name;
  Fragment fragment;
  SourceSpan span; ///< its first registration
};

/// A loop with an entry in the range_* lists (which loops have one:
/// ir/LoopEntries.h), in source order.
struct LoopFacts {
  SourceSpan span;
  /// A top-level loop call: its entry matters only for persistent pid types.
  bool top_level = false;
  /// Bounds known when compiling and few iterations: it has a static_ranges entry.
  bool static_candidate = false;
};

struct KernelFacts {
  /// The file line of the kernel source's first line: spans count from the
  /// source, messages and descriptions name lines of the file.
  int first_line = 1;
  int file_line(const SourceSpan &span) const { return first_line + span.line - 1; }
  std::vector<TileCallFacts> tiles;
  std::vector<ReductionFacts> reductions;
  /// Loads plus stores, each of which may pick its own indexing style.
  int memory_ops = 0;
  std::vector<LoopFacts> loops;
  /// Loads without an explicit eviction_policy: one load_eviction_policies entry each.
  int policy_loads = 0;
  /// hl.atomic_* operations: one atomic_indexing entry each.
  int atomic_ops = 0;
  /// Whether a dot (tl.dot) appears: it needs every operand dimension >= 16.
  bool has_matmul = false;
  /// The first hl.barrier() between top-level loops (invalid when there is
  /// none): a grid-wide sync that only persistent_blocked programs can wait at.
  SourceSpan barrier;
  /// In registration order: the config lists them after the built-in keys.
  std::vector<TunableFacts> tunables;
};

} // namespace helion
