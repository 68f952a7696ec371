#pragma once

// The search space of one kernel as a list of integer genes, with the
// operations search strategies need: sampling, mutation, crossover, distance
// and one-step neighbours. Every config it returns passes ConfigSpec::validate
// and has the autotune overrides applied.

#include "config/ConfigSpec.h"
#include "support/Json.h"

#include <random>
#include <string>
#include <vector>

namespace helion::autotune {

/// One tunable choice. Ordinal genes take the integers low..high (a log2 for
/// sizes); categorical ones name one of high - low + 1 unordered values.
struct Gene {
  enum class Kind {
    Block,      ///< log2 of one tile dimension's block
    Flatten,    ///< 0/1: the N-D tile runs as one 1-D range
    FlatBlock,  ///< log2 of the flattened block
    LoopOrder,  ///< index of the permutation in lexicographic order
    Reduction,  ///< log2 of the loop block; `high` means persistent
    L2Grouping, ///< log2
    Indexing,   ///< index into the indexing styles
    PidType,    ///< index into the kernel's pid types (flat, xyz where it fits, persistent)
    NumSmMultiplier, ///< log2; only persistent pid types use it
    Tunable, ///< a user tunable: log2 (PowerOfTwo), the int (Integer) or the choice's index
    NumWarps,   ///< log2
    NumStages,
    RangeUnroll,         ///< a loop's loop_unroll_factor, 0 omitted
    RangeWarpSpecialize, ///< 0 omitted, 1 false, 2 true
    RangeNumStages,      ///< a loop's num_stages, 0 omitted
    RangeMultiBuffer,    ///< 0 omitted, 1 false, 2 true
    RangeFlatten,        ///< 0 omitted, 1 false, 2 true
    StaticRange,         ///< 0/1: the loop unrolls with tl.static_range
    AtomicIndexing,      ///< index into the atomic indexing styles
    EvictionPolicy,      ///< index into the eviction policies
    Maxnreg,             ///< 0 none, else 1 + index into the maxnreg choices
  };
  Kind kind;
  /// the tile call, reduction, memory op, range entry, static range, load or
  /// atomic op it belongs to
  size_t index = 0;
  size_t dim = 0;   ///< the tile dimension (Block); the dimension count (LoopOrder)
  int low = 0;
  int high = 0;
  bool categorical = false;
  std::string name; ///< "block_sizes[0][1]", "num_warps", ...
};

class ConfigSpace {
public:
  /// `overrides` are fields forced in every config (the user's spelling);
  /// throws UserError("InvalidConfig") when they are invalid for the kernel.
  /// What the GPU lacks is not searched: tensor descriptors (before Hopper),
  /// warp specialization (before Blackwell, or disallowed by the settings),
  /// maxnreg (not CUDA).
  ConfigSpace(const ConfigSpec &spec, Json overrides = Json::object(),
              bool allow_tensor_descriptor = true, bool allow_warp_specialize = false,
              bool allow_maxnreg = true);

  const ConfigSpec &spec() const { return spec_; }
  const std::vector<Gene> &genes() const { return genes_; }

  /// The spec's default config with the overrides applied.
  const Config &default_config() const { return default_; }

  /// The gene values of `config` (clamped into each gene's range; genes a
  /// choice makes irrelevant, like per-dimension blocks of a flattened tile,
  /// take values derived from the relevant ones).
  std::vector<int> gene_values(const Config &config) const;
  /// The config the genes describe, overrides applied; always valid.
  Config decode(const std::vector<int> &values) const;
  /// The gene values as a numeric vector.
  std::vector<double> encode(const Config &config) const;

  /// Forces the override fields into `config`; when the merge is invalid
  /// (the overrides contradict the candidate) the result is the default
  /// config with the overrides.
  Config apply_overrides(const Config &config) const;

  Config random_config(std::mt19937_64 &rng) const;
  /// Changes one to three genes to neighbouring values; returns `config`
  /// itself only when no gene can change.
  Config mutate(const Config &config, std::mt19937_64 &rng) const;
  /// Each gene from `a` or `b` with equal probability.
  Config crossover(const Config &a, const Config &b, std::mt19937_64 &rng) const;
  /// Every config one gene step away (both directions of an ordinal gene,
  /// every other value of a categorical one), without duplicates or `config`.
  std::vector<Config> neighbors(const Config &config) const;

  /// Normalized L1 distance in [0, 1]: an ordinal gene adds |a - b| / range,
  /// a categorical one 0 or 1, and the sum is divided by the gene count.
  double distance(const Config &a, const Config &b) const;
  double gene_distance(const std::vector<int> &a, const std::vector<int> &b) const;

  /// A stable identity of a config: its JSON text.
  std::string key(const Config &config) const;

private:
  /// Whether the PidType gene offers a persistent pid type (so the genes
  /// only those use, num_sm_multiplier, maxnreg and top-level range entries,
  /// exist).
  bool has_persistent_pid_type() const;
  void add_gene(Gene::Kind kind, size_t index, size_t dim, int low, int high, bool categorical,
                std::string name);
  /// The genes of range_*, static_ranges, atomic_indexing,
  /// load_eviction_policies and maxnreg; their values and how they decode.
  void add_loop_genes();
  int loop_gene_value(const Gene &gene, const Config &config) const;
  void decode_loop_gene(const Gene &gene, int value, Config &config,
                        std::vector<std::string> &atomic_indexing) const;
  int step(const Gene &gene, int value, std::mt19937_64 &rng) const;

  const ConfigSpec &spec_;
  Json overrides_;
  bool allow_tensor_descriptor_;
  bool allow_warp_specialize_;
  bool allow_maxnreg_;
  Config base_; ///< the spec's default config: decode starts from it
  Config default_;
  std::vector<Gene> genes_;
  std::vector<std::string> styles_;
  std::vector<std::string> pid_types_; ///< the PidType gene's values
  std::vector<std::string> atomic_styles_, eviction_policies_;
  std::vector<int> maxnreg_choices_;
  std::vector<int64_t> reduction_extents_;
};

/// The n-th permutation of 0 .. dims-1 in lexicographic order, and back.
std::vector<int> permutation_from_index(size_t dims, int64_t index);
int64_t permutation_index(const std::vector<int> &order);

} // namespace helion::autotune
