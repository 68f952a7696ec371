#pragma once

// The config space of one kernel: which tunables exist, their legal values,
// the default config, validation, and normalization of both spellings.

#include "config/Config.h"
#include "config/KernelFacts.h"
#include "support/Json.h"

#include <optional>
#include <random>
#include <string>

namespace helion {

/// The config field a user tunable named `name` would read as: the field
/// itself, or one whose singular spelling it is (`block_size` for
/// `block_sizes`); "" when the name is free.
std::string tunable_name_conflict(const std::string &name);

/// A tunable tile call's block sizes as the space searches them.
struct TunableCallRange {
  struct Range {
    int64_t min = 1, max = 1;
  };
  size_t call = 0; ///< its index in KernelFacts::tiles
  bool grid = false;
  std::vector<Range> blocks;                 ///< per dimension
  std::vector<std::optional<int64_t>> fixed; ///< per dimension: the size the call fixes
  std::optional<Range> flat;                 ///< its one flattened block, when it may flatten
  size_t dims() const { return blocks.size(); }
};

/// A reduction's entry in reduction_loops: the block that covers it whole
/// (`persistent_block`), and whether it must stay persistent.
struct ReductionRange {
  int64_t size_hint = 0;
  int64_t persistent_block = 1;
  bool persistent_only = false;
};

class ConfigSpec {
public:
  explicit ConfigSpec(KernelFacts facts);

  const KernelFacts &facts() const { return facts_; }

  /// A reasonable config that compiles for every kernel this spec describes.
  Config default_config() const;

  /// Reads a user config (a JSON object in either spelling of SPEC §3) and
  /// returns it in canonical form, with missing fields taken from the default.
  /// Throws UserError("InvalidConfig") naming the field, the value and what is allowed.
  Config normalize(const Json &user_config) const;

  /// Checks a canonical config (e.g. one built by a search strategy).
  /// Throws UserError("InvalidConfig") like `normalize`.
  void validate(const Config &config) const;

  /// The config in the seed's spelling (block_sizes with ints for flattened
  /// tiles, loop_orders, reduction_loops, l2_grouping, indexing,
  /// use_yz_grid, num_warps, num_stages), fields in that order; a persistent
  /// pid_type and a num_sm_multiplier other than 1 in the later spelling.
  Json to_json(const Config &config) const;

  /// The config as a Python expression in the seed's spelling:
  /// `helion.Config(block_sizes=[[64, 128], [16]], loop_orders=[[1, 0]], ...)`.
  std::string to_python(const Config &config) const;

  /// The tunable tile calls, in block_sizes order.
  std::vector<TunableCallRange> tunable_call_ranges() const;

  /// One entry per reduction, in reduction_loops order.
  std::vector<ReductionRange> reduction_ranges() const;

  /// A description of the space for the Python side and for tools:
  /// {"block_sizes": [...], "reduction_loops": [...], ...}. The core reads
  /// the typed accessors above instead.
  Json describe() const;

  /// A config drawn at random from the space; always passes `validate` and is
  /// in canonical form, so `normalize(to_json(c))` gives it back.
  Config random_config(std::mt19937_64 &rng) const;

  /// The blocks of one tile call make one Triton block of their product's
  /// elements, which may not exceed Triton's largest (2^20; `validate`
  /// rejects more), nor may a reduction's block. For a tile call past it,
  /// halves its largest tunable block until it fits; a reduction past it
  /// loops with the largest block: how searches keep their configs legal.
  void fit_block_limit(Config &config) const;

  /// Puts the per-loop choices of a config built field by field (by a
  /// search) in canonical form: range options as normalization settles
  /// them, one atomic indexing style where all agree, and num_sm_multiplier
  /// and maxnreg only for persistent pid types (maxnreg within the register
  /// budget of num_warps).
  void settle_loop_fields(Config &config) const;

private:
  /// range_*, static_ranges, load_eviction_policies, atomic_indexing, maxnreg.
  void validate_loop_fields(const Config &config) const;
  void describe_loop_fields(Json &out) const;
  void randomize_loop_fields(Config &config, std::mt19937_64 &rng) const;

  KernelFacts facts_;
};

} // namespace helion
