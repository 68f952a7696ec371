#pragma once

// The legal values of each config field, shared by default construction,
// validation, normalization and random sampling of configs. Not part of the
// public interface: include only from src/config.

#include "config/Config.h"
#include "config/KernelFacts.h"
#include "support/Json.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace helion {
namespace config_rules {

/// Throws UserError("InvalidConfig", message).
[[noreturn]] void invalid(const std::string &message);

bool is_power_of_two(int64_t value);
/// The smallest power of two >= value (1 for value <= 1).
int64_t next_power_of_two(int64_t value);

constexpr int kMaxNumWarps = 32;
constexpr int kMaxNumStages = 8;
/// Grouped launch order beyond this many rows gains nothing (Helion's bound).
constexpr int64_t kMaxL2Grouping = 64;
/// Triton's largest block (TRITON_MAX_TENSOR_NUMEL): no block size, per
/// dimension or flattened, may exceed it.
constexpr int64_t kMaxBlockSize = int64_t(1) << 20;
/// `num_sm_multiplier` (persistent pid types only): a power of two up to this.
constexpr int64_t kMaxNumSmMultiplier = 128;
/// `range_unroll_factors` and `range_num_stages` entries: 0 (omit) up to this.
constexpr int64_t kMaxRangeOption = 4;
/// The most warps with which a kernel that has a dot may unroll its loops
/// (range_unroll_factors above 1): an attention kernel with a 64x16 score
/// tile, its key loop unrolled by 4, raised an illegal memory access on an
/// H200 with 32 warps (Triton 3.6) and ran right with 8, or unrolled by 1.
constexpr int kMaxWarpsToUnrollDots = 8;
/// Looped reductions get this block by default once the reduced dimension
/// exceeds kMaxDefaultPersistentReduction.
constexpr int64_t kDefaultReductionLoop = 4096;
constexpr int64_t kMaxDefaultPersistentReduction = 16384;

/// The `indexing` values in the order describe() lists them.
const std::vector<std::string> &indexing_styles();

/// A tile call with every dimension fixed by `block_size=` has no entry in
/// the user-facing block_sizes / loop_orders.
bool is_fixed_call(const TileCallFacts &call);
bool has_fixed_dim(const TileCallFacts &call);
/// Only calls without any fixed dimension may be flattened.
bool can_flatten(const TileCallFacts &call);

/// Whether dimension `dim`'s block size is derived from the config's
/// tunables (DerivedBlockSize).
bool is_derived_block(const TileCallFacts &call, size_t dim);
/// The block size `config` gives a dimension fixed by `block_size=`: the
/// source's constant, or what host arithmetic computes from the config.
std::optional<int64_t> fixed_block_for(const TileCallFacts &call, size_t dim,
                                       const Config &config);
/// Writes each derived block size's value under `config` into its tile
/// choice (once the tunables are read), a power of two or not.
void resolve_derived_block_sizes(const KernelFacts &facts, Config &config);
/// InvalidConfig naming the `block_size=` where a derived block size is not
/// a power of two under `config`, or its tile choice disagrees.
void check_derived_block_sizes(const KernelFacts &facts, const Config &config);
/// The elements of one block of `choice` (saturating).
/// Derived dimensions do not count: such a block bounds an inner loop (a
/// split-K slice) rather than shaping a tensor; where a tensor has it,
/// Triton's own limit reports it.
int64_t block_elements(const TileCallFacts &call, const TileChoice &choice);

/// Indices (into KernelFacts::tiles) of the calls with an entry in the
/// user-facing block_sizes, in source order.
std::vector<size_t> tunable_calls(const KernelFacts &facts);
/// Those of them with two or more dimensions: one loop_orders / flatten_loops entry each.
std::vector<size_t> multi_dim_tunable_calls(const KernelFacts &facts);

/// Smallest / largest legal block of dimension `dim` (both powers of two,
/// the fixed size for a fixed dimension).
int64_t min_block(const TileCallFacts &call, size_t dim);
int64_t max_block(const TileCallFacts &call, size_t dim);
/// The largest block validation accepts: a config written for one size must
/// keep working for smaller ones, so this exceeds `max_block` (which bounds
/// the search) for small dimensions.
int64_t legal_max_block(const TileCallFacts &call, size_t dim);
int64_t legal_max_flat_block(const TileCallFacts &call);
/// Bounds of a flattened block: the products of the per-dimension bounds.
int64_t min_flat_block(const TileCallFacts &call);
int64_t max_flat_block(const TileCallFacts &call);
/// The persistent block of a reduction: looped blocks are smaller.
int64_t reduction_extent(const ReductionFacts &reduction);

/// "use 16" or "use a power of two between 16 and 2048".
std::string allowed_powers_text(int64_t min, int64_t max);
/// Throws unless `value` is a power of two in [min, max]; `field` is the
/// user-facing path such as "block_sizes[0][1]".
void check_power_in_range(const std::string &field, int64_t value, int64_t min, int64_t max);
/// Checks of single fields; `field` names them in the user's spelling.
void check_reduction_loop(const std::string &field, int64_t value);
void check_l2_grouping(const std::string &field, int64_t value);
void check_indexing_style(const std::string &field, const std::string &style);

// ---- per-loop tl.range options, eviction policies, maxnreg, atomic indexing ----

/// The range_* fields in the autotuner's key order, each with the keyword of
/// Triton 3.6's `tl.range` it sets. All five are in that signature (checked
/// against the installed Triton by the Python tests); an option missing from
/// it would not be registered.
struct RangeField {
  const char *key;
  const char *keyword;
};
const std::vector<RangeField> &range_fields();
/// "persistent_blocked" or "persistent_interleaved": the program loops over
/// tiles, so top-level range entries and maxnreg apply.
bool is_persistent(const std::string &pid_type);
/// Indices into KernelFacts::loops of the loops with a static_ranges entry.
std::vector<size_t> static_range_loops(const KernelFacts &facts);
/// Puts `config`'s range choices in canonical form: a loop unrolled by
/// static_ranges and, outside persistent pid types, every top-level loop
/// take the default options; only the first warp-specialized loop stays so
/// (later ones become null), and its unroll factor becomes 0; in a kernel
/// with a dot and more than kMaxWarpsToUnrollDots warps no loop unrolls
/// (the search's configs; a user's are refused by check_unrolled_dots).
void settle_ranges(const KernelFacts &facts, Config &config);
/// Throws unless `config`'s range choices are as settle_ranges leaves them.
void check_settled_ranges(const KernelFacts &facts, const Config &config);
/// Whether `config` takes more warps than kMaxWarpsToUnrollDots in a kernel with a dot.
bool unrolling_dots_crashes(const KernelFacts &facts, const Config &config);
/// Throws InvalidConfig for a loop unrolled where unrolling_dots_crashes.
void check_unrolled_dots(const KernelFacts &facts, const Config &config);
void check_range_option(const std::string &field, int64_t value);

/// load_eviction_policies values: "" (none), "first", "last".
const std::vector<std::string> &eviction_policies();
/// The keyword value Triton takes for a config choice: "", "evict_first", "evict_last".
std::string triton_eviction_policy(const std::string &choice);
void check_eviction_policy(const std::string &field, const Json &value);

/// maxnreg's values besides null, ascending.
const std::vector<int> &maxnreg_choices();
/// The largest maxnreg a block of `num_warps` warps can hold: an SM's 65536
/// registers over its threads, at most the largest choice.
int maxnreg_budget(int num_warps);
/// The largest choice within the budget at or below `maxnreg`.
int cap_maxnreg(int maxnreg, int num_warps);
void check_maxnreg(const std::string &field, int64_t value);
/// maxnreg set where the pid type is not persistent.
void check_maxnreg_pid_type(const std::string &field, const std::optional<int> &maxnreg,
                            const std::string &pid_type);

/// The atomic_indexing values: atomics have no block-pointer form.
const std::vector<std::string> &atomic_indexing_styles();
void check_atomic_indexing_style(const std::string &field, const std::string &style);
/// Throws unless `order` is a permutation of 0 .. dims-1.
void check_loop_order(const std::string &field, const std::vector<int64_t> &order, size_t dims);
void check_num_warps(const std::string &field, int64_t value);
void check_num_stages(const std::string &field, int64_t value);
/// The `pid_type` values in the order describe() lists them.
const std::vector<std::string> &pid_types();
/// The pid types `facts`' kernel can run with: all of them, or only
/// persistent_blocked where an hl.barrier() syncs the grid.
std::vector<std::string> kernel_pid_types(const KernelFacts &facts);
/// A power of two up to kMaxNumSmMultiplier, and 1 unless `pid_type` is
/// persistent, or where an hl.barrier() needs every program resident.
void check_num_sm_multiplier(const std::string &field, int64_t multiplier,
                             const std::string &pid_type, const KernelFacts &facts);
/// `field` is "pid_type" or "use_yz_grid"; "xyz" needs at most three grid
/// dimensions in every grid tile call (a flattened call counts as one); a
/// kernel with an hl.barrier() needs "persistent_blocked"
/// (UserError "BarrierRequiresPersistent").
void check_pid_type(const std::string &field, const std::string &pid_type, const KernelFacts &facts,
                    const Config &config);
/// Whether "xyz" is legal for every flattening choice `config` makes.
bool allows_xyz(const KernelFacts &facts, const Config &config);

/// Whether `name` is a config field of either spelling (not a user tunable).
bool is_builtin_config_key(const std::string &name);
/// Throws unless `value` is a legal value of `tunable`; returns the value in
/// canonical form (an enum choice as the fragment spells it).
Json check_tunable_value(const TunableFacts &tunable, const Json &value);

/// Throws unless `value` is an int; returns it.
int64_t expect_int(const std::string &field, const Json &value);
/// The value as the user would read it: JSON text.
std::string show(const Json &value);
/// "a, b, c".
std::string join(const std::vector<std::string> &items, const std::string &separator = ", ");
/// " (the hl.tile call at line N)" or "" when the call has no source position.
std::string call_location(const KernelFacts &facts, const TileCallFacts &call);

} // namespace config_rules
} // namespace helion
