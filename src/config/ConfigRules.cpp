#include "config/ConfigRules.h"

#include "support/Diagnostics.h"

#include <algorithm>
#include <optional>

namespace helion {
namespace config_rules {

/// Products of block bounds saturate here rather than overflow.
static constexpr int64_t kSaturate = int64_t(1) << 62;

void invalid(const std::string &message) {
  throw UserError("InvalidConfig", message);
}

bool is_power_of_two(int64_t value) {
  return value > 0 && (value & (value - 1)) == 0;
}

int64_t next_power_of_two(int64_t value) {
  int64_t result = 1;
  while (result < value && result < kSaturate)
    result <<= 1;
  return result;
}

static int64_t saturating_multiply(int64_t a, int64_t b) {
  if (a != 0 && b > kSaturate / a) return kSaturate;
  return a * b;
}

const std::vector<std::string> &indexing_styles() {
  static const std::vector<std::string> styles = {"pointer", "block_ptr", "tensor_descriptor"};
  return styles;
}

bool is_fixed_call(const TileCallFacts &call) {
  for (const auto &fixed : call.fixed_block_sizes)
    if (!fixed) return false;
  return call.fixed_block_sizes.size() == call.size_hints.size();
}

bool has_fixed_dim(const TileCallFacts &call) {
  for (const auto &fixed : call.fixed_block_sizes)
    if (fixed) return true;
  return false;
}

bool can_flatten(const TileCallFacts &call) {
  return call.flattenable && call.size_hints.size() >= 2 && !has_fixed_dim(call);
}

bool is_derived_block(const TileCallFacts &call, size_t dim) {
  return dim < call.derived_block_sizes.size() && call.derived_block_sizes[dim].has_value();
}

std::optional<int64_t> fixed_block_for(const TileCallFacts &call, size_t dim,
                                       const Config &config) {
  if (is_derived_block(call, dim)) return call.derived_block_sizes[dim]->value(config);
  return dim < call.fixed_block_sizes.size() ? call.fixed_block_sizes[dim] : std::nullopt;
}

/// The tunables' values as a config writes them: `split_k=8, ...`.
static std::string tunable_values_text(const KernelFacts &facts, const Config &config) {
  std::string text;
  for (size_t i = 0; i < facts.tunables.size() && i < config.tunables.size(); ++i)
    text += (text.empty() ? "" : ", ") + facts.tunables[i].name + "=" +
            dump_text(config.tunables[i]);
  return text;
}

void resolve_derived_block_sizes(const KernelFacts &facts, Config &config) {
  for (size_t c = 0; c < facts.tiles.size() && c < config.tiles.size(); ++c) {
    const TileCallFacts &call = facts.tiles[c];
    TileChoice &choice = config.tiles[c];
    for (size_t dim = 0; dim < choice.block_sizes.size(); ++dim)
      if (is_derived_block(call, dim))
        choice.block_sizes[dim] = call.derived_block_sizes[dim]->value(config);
  }
}

void check_derived_block_sizes(const KernelFacts &facts, const Config &config) {
  for (size_t c = 0; c < facts.tiles.size() && c < config.tiles.size(); ++c) {
    const TileCallFacts &call = facts.tiles[c];
    const TileChoice &choice = config.tiles[c];
    for (size_t dim = 0; dim < choice.block_sizes.size(); ++dim) {
      if (!is_derived_block(call, dim)) continue;
      const DerivedBlockSize &derived = *call.derived_block_sizes[dim];
      int64_t value = derived.value(config);
      std::string where = "block_size " + derived.text + call_location(facts, call);
      if (!is_power_of_two(value))
        invalid(where + " is " + std::to_string(value) + " with " +
                tunable_values_text(facts, config) +
                "; a block size must be a power of two: round it up with "
                "helion.next_power_of_2(...) or choose other tunable values");
      if (choice.block_sizes[dim] != value)
        invalid(where + " is " + std::to_string(value) + " with " +
                tunable_values_text(facts, config) + ", but the config's tile choice has " +
                std::to_string(choice.block_sizes[dim]) + "; use " + std::to_string(value));
    }
  }
}

int64_t block_elements(const TileCallFacts &call, const TileChoice &choice) {
  int64_t elements = 1;
  for (size_t dim = 0; dim < choice.block_sizes.size(); ++dim)
    if (!is_derived_block(call, dim))
      elements = saturating_multiply(elements, std::max<int64_t>(choice.block_sizes[dim], 0));
  return elements;
}

std::vector<size_t> tunable_calls(const KernelFacts &facts) {
  std::vector<size_t> calls;
  for (size_t i = 0; i < facts.tiles.size(); ++i)
    if (!is_fixed_call(facts.tiles[i])) calls.push_back(i);
  return calls;
}

std::vector<size_t> multi_dim_tunable_calls(const KernelFacts &facts) {
  std::vector<size_t> calls;
  for (size_t i : tunable_calls(facts))
    if (facts.tiles[i].size_hints.size() >= 2) calls.push_back(i);
  return calls;
}

static const std::optional<int64_t> &fixed_size(const TileCallFacts &call, size_t dim) {
  static const std::optional<int64_t> none;
  return dim < call.fixed_block_sizes.size() ? call.fixed_block_sizes[dim] : none;
}

int64_t min_block(const TileCallFacts &call, size_t dim) {
  if (const auto &fixed = fixed_size(call, dim)) return *fixed;
  int64_t min = dim < call.min_block_sizes.size() ? call.min_block_sizes[dim] : 1;
  return next_power_of_two(min);
}

int64_t max_block(const TileCallFacts &call, size_t dim) {
  if (const auto &fixed = fixed_size(call, dim)) return *fixed;
  int64_t max = std::min(next_power_of_two(call.size_hints[dim]), kMaxBlockSize);
  return std::max(max, min_block(call, dim));
}

int64_t legal_max_block(const TileCallFacts &call, size_t dim) {
  if (fixed_size(call, dim)) return max_block(call, dim);
  // A loop inside the kernel (a looped reduction written by hand) may take
  // any block Triton allows; a grid dimension up to 4096 beyond its size.
  int64_t beyond = call.is_grid ? 4096 : kMaxBlockSize;
  return std::max(std::min<int64_t>(std::max<int64_t>(max_block(call, dim), beyond), kMaxBlockSize),
                  min_block(call, dim));
}

int64_t legal_max_flat_block(const TileCallFacts &call) {
  return std::min<int64_t>(std::max<int64_t>(max_flat_block(call), 1 << 16), kMaxBlockSize);
}

int64_t min_flat_block(const TileCallFacts &call) {
  int64_t product = 1;
  for (size_t dim = 0; dim < call.size_hints.size(); ++dim)
    product = saturating_multiply(product, min_block(call, dim));
  return product;
}

int64_t max_flat_block(const TileCallFacts &call) {
  int64_t product = 1;
  for (size_t dim = 0; dim < call.size_hints.size(); ++dim)
    product = saturating_multiply(product, max_block(call, dim));
  return std::max(std::min(product, kMaxBlockSize), min_flat_block(call));
}

int64_t reduction_extent(const ReductionFacts &reduction) {
  return next_power_of_two(reduction.size_hint);
}

std::string allowed_powers_text(int64_t min, int64_t max) {
  if (min == max) return "use " + std::to_string(min);
  return "use a power of two between " + std::to_string(min) + " and " + std::to_string(max);
}

void check_power_in_range(const std::string &field, int64_t value, int64_t min, int64_t max) {
  std::string prefix = field + ": " + std::to_string(value);
  if (!is_power_of_two(value))
    invalid(prefix + " is not a power of two; " + allowed_powers_text(min, max));
  if (value < min)
    invalid(prefix + " is below the minimum " + std::to_string(min) + "; " +
            allowed_powers_text(min, max));
  if (value > max)
    invalid(prefix + " is above the maximum " + std::to_string(max) + "; " +
            allowed_powers_text(min, max));
}

void check_reduction_loop(const std::string &field, int64_t value) {
  if (!is_power_of_two(value))
    invalid(field + ": " + std::to_string(value) +
            " is not a power of two; use null for a persistent reduction or a power of two "
            "for a looped one");
}

void check_l2_grouping(const std::string &field, int64_t value) {
  std::string allowed = "; use 1 to disable grouping or a power of two up to " +
                        std::to_string(kMaxL2Grouping);
  if (!is_power_of_two(value))
    invalid(field + ": " + std::to_string(value) + " is not a power of two" + allowed);
  if (value > kMaxL2Grouping)
    invalid(field + ": " + std::to_string(value) + " is above the maximum " +
            std::to_string(kMaxL2Grouping) + allowed);
}

void check_indexing_style(const std::string &field, const std::string &style) {
  const auto &styles = indexing_styles();
  if (std::find(styles.begin(), styles.end(), style) != styles.end()) return;
  std::vector<std::string> quoted;
  for (const auto &s : styles)
    quoted.push_back(show(Json(s)));
  invalid(field + ": " + show(Json(style)) + " is not an indexing style; use one of " +
          join(quoted));
}

const std::vector<RangeField> &range_fields() {
  static const std::vector<RangeField> fields = {
      {"range_unroll_factors", "loop_unroll_factor"},
      {"range_warp_specializes", "warp_specialize"},
      {"range_num_stages", "num_stages"},
      {"range_multi_buffers", "disallow_acc_multi_buffer"},
      {"range_flattens", "flatten"},
  };
  return fields;
}

bool is_persistent(const std::string &pid_type) {
  return pid_type == "persistent_blocked" || pid_type == "persistent_interleaved";
}

std::vector<size_t> static_range_loops(const KernelFacts &facts) {
  std::vector<size_t> loops;
  for (size_t i = 0; i < facts.loops.size(); ++i)
    if (facts.loops[i].static_candidate) loops.push_back(i);
  return loops;
}

void settle_ranges(const KernelFacts &facts, Config &config) {
  config.ranges.resize(facts.loops.size());
  config.static_ranges.resize(static_range_loops(facts).size(), false);
  std::vector<size_t> statics = static_range_loops(facts);
  for (size_t k = 0; k < statics.size(); ++k)
    if (config.static_ranges[k]) config.ranges[statics[k]] = RangeChoice();
  bool persistent = is_persistent(config.pid_type);
  bool specialized = false;
  for (size_t i = 0; i < facts.loops.size(); ++i) {
    RangeChoice &range = config.ranges[i];
    if (facts.loops[i].top_level && !persistent) range = RangeChoice();
    if (range.warp_specialize != std::optional<bool>(true)) continue;
    if (specialized) {
      range.warp_specialize = std::nullopt;
      continue;
    }
    specialized = true;
    range.unroll_factor = 0;
  }
  if (unrolling_dots_crashes(facts, config))
    for (RangeChoice &range : config.ranges)
      if (range.unroll_factor > 1) range.unroll_factor = 0;
}

bool unrolling_dots_crashes(const KernelFacts &facts, const Config &config) {
  return facts.has_matmul && config.num_warps > kMaxWarpsToUnrollDots;
}

void check_unrolled_dots(const KernelFacts &facts, const Config &config) {
  if (!unrolling_dots_crashes(facts, config)) return;
  for (size_t i = 0; i < config.ranges.size(); ++i)
    if (config.ranges[i].unroll_factor > 1)
      invalid("range_unroll_factors[" + std::to_string(i) + "]: " +
              std::to_string(config.ranges[i].unroll_factor) + " with num_warps " +
              std::to_string(config.num_warps) +
              " in a kernel with a matmul: Triton 3.6 miscompiles unrolled loops of such "
              "kernels with more than " + std::to_string(kMaxWarpsToUnrollDots) +
              " warps (an illegal memory access on an H200); use num_warps <= " +
              std::to_string(kMaxWarpsToUnrollDots) + " or an unroll factor of 0 or 1");
}

void check_settled_ranges(const KernelFacts &facts, const Config &config) {
  if (config.ranges.size() != facts.loops.size())
    invalid("range_unroll_factors: the config has " + std::to_string(config.ranges.size()) +
            " loop entries; the kernel has " + std::to_string(facts.loops.size()));
  size_t statics = static_range_loops(facts).size();
  if (config.static_ranges.size() != statics)
    invalid("static_ranges: the config has " + std::to_string(config.static_ranges.size()) +
            " entries; the kernel has " + std::to_string(statics) +
            " loops with few iterations known when compiling");
  for (size_t i = 0; i < config.ranges.size(); ++i) {
    std::string at = "[" + std::to_string(i) + "]";
    check_range_option("range_unroll_factors" + at, config.ranges[i].unroll_factor);
    check_range_option("range_num_stages" + at, config.ranges[i].num_stages);
  }
  check_unrolled_dots(facts, config);
  Config settled = config;
  settle_ranges(facts, settled);
  for (size_t i = 0; i < config.ranges.size(); ++i)
    if (!(settled.ranges[i] == config.ranges[i]))
      invalid("range options of loop " + std::to_string(i) +
              ": a top-level loop outside persistent pid types, or a loop unrolled by "
              "static_ranges, takes the default options, and only one loop may be "
              "warp-specialized (without unrolling)");
}

void check_range_option(const std::string &field, int64_t value) {
  if (value >= 0 && value <= kMaxRangeOption) return;
  invalid(field + ": " + std::to_string(value) + " is not allowed; use an int between 0 and " +
          std::to_string(kMaxRangeOption) + " (0 leaves it to Triton)");
}

const std::vector<std::string> &eviction_policies() {
  static const std::vector<std::string> policies = {"", "first", "last"};
  return policies;
}

std::string triton_eviction_policy(const std::string &choice) {
  return choice.empty() ? "" : "evict_" + choice;
}

void check_eviction_policy(const std::string &field, const Json &value) {
  const auto &policies = eviction_policies();
  if (value.is_string() && std::find(policies.begin(), policies.end(),
                                     value.get_ref<const std::string &>()) != policies.end())
    return;
  invalid(field + ": " + show(value) +
          " is not an eviction policy; use \"\" (none), \"first\" or \"last\"");
}

const std::vector<int> &maxnreg_choices() {
  static const std::vector<int> choices = {32, 64, 128, 256};
  return choices;
}

int maxnreg_budget(int num_warps) {
  constexpr int kRegistersPerSm = 65536, kThreadsPerWarp = 32;
  int threads = std::max(num_warps, 1) * kThreadsPerWarp;
  return std::min(kRegistersPerSm / threads, maxnreg_choices().back());
}

int cap_maxnreg(int maxnreg, int num_warps) {
  int budget = std::min(maxnreg, maxnreg_budget(num_warps));
  int capped = maxnreg_choices().front();
  for (int choice : maxnreg_choices())
    if (choice <= budget) capped = choice;
  return capped;
}

void check_maxnreg(const std::string &field, int64_t value) {
  const auto &choices = maxnreg_choices();
  if (std::find(choices.begin(), choices.end(), value) != choices.end()) return;
  invalid(field + ": " + std::to_string(value) +
          " is not allowed; use None (the compiler decides), 32, 64, 128 or 256");
}

void check_maxnreg_pid_type(const std::string &field, const std::optional<int> &maxnreg,
                            const std::string &pid_type) {
  if (!maxnreg || is_persistent(pid_type)) return;
  invalid(field + ": " + std::to_string(*maxnreg) +
          " needs a persistent pid_type (\"persistent_blocked\" or "
          "\"persistent_interleaved\"), but it is " +
          show(Json(pid_type)) + "; use None");
}

const std::vector<std::string> &atomic_indexing_styles() {
  static const std::vector<std::string> styles = {"pointer", "tensor_descriptor"};
  return styles;
}

void check_atomic_indexing_style(const std::string &field, const std::string &style) {
  const auto &styles = atomic_indexing_styles();
  if (std::find(styles.begin(), styles.end(), style) != styles.end()) return;
  std::string hint = style == "block_ptr" ? " (block pointers have no atomic operations)" : "";
  invalid(field + ": " + show(Json(style)) + " is not an atomic indexing style" + hint +
          "; use \"pointer\" or \"tensor_descriptor\"");
}

void check_loop_order(const std::string &field, const std::vector<int64_t> &order, size_t dims) {
  std::vector<bool> seen(dims, false);
  bool ok = order.size() == dims;
  for (int64_t dim : order) {
    if (!ok) break;
    ok = dim >= 0 && static_cast<size_t>(dim) < dims && !seen[dim];
    if (ok) seen[dim] = true;
  }
  if (ok) return;
  Json shown = Json::array(), identity = Json::array();
  for (int64_t dim : order)
    shown.push_back(Json(dim));
  for (size_t dim = 0; dim < dims; ++dim)
    identity.push_back(Json(static_cast<int64_t>(dim)));
  invalid(field + ": " + show(shown) + " is not a permutation of " + show(identity) +
          "; list each of the " + std::to_string(dims) + " dimensions once");
}

void check_num_warps(const std::string &field, int64_t value) {
  if (is_power_of_two(value) && value <= kMaxNumWarps) return;
  invalid(field + ": " + std::to_string(value) +
          " is not allowed; use a power of two between 1 and " + std::to_string(kMaxNumWarps));
}

void check_num_stages(const std::string &field, int64_t value) {
  if (value >= 1 && value <= kMaxNumStages) return;
  invalid(field + ": " + std::to_string(value) + " is not allowed; use an int between 1 and " +
          std::to_string(kMaxNumStages));
}

static int grid_dims(const TileCallFacts &call, const TileChoice &choice) {
  return choice.flatten ? 1 : static_cast<int>(call.size_hints.size());
}

bool allows_xyz(const KernelFacts &facts, const Config &config) {
  size_t grid_calls = 0;
  for (size_t i = 0; i < facts.tiles.size() && i < config.tiles.size(); ++i) {
    if (!facts.tiles[i].is_grid) continue;
    ++grid_calls;
    if (grid_dims(facts.tiles[i], config.tiles[i]) > 3) return false;
  }
  // Several top-level loops share one 1-D grid.
  return grid_calls <= 1;
}

const std::vector<std::string> &pid_types() {
  static const std::vector<std::string> types = {"flat", "xyz", "persistent_blocked",
                                                 "persistent_interleaved"};
  return types;
}

std::vector<std::string> kernel_pid_types(const KernelFacts &facts) {
  if (facts.barrier.valid()) return {"persistent_blocked"};
  return pid_types();
}

void check_pid_type(const std::string &field, const std::string &pid_type, const KernelFacts &facts,
                    const Config &config) {
  const auto &types = pid_types();
  if (std::find(types.begin(), types.end(), pid_type) == types.end()) {
    std::vector<std::string> quoted;
    for (const auto &type : types)
      quoted.push_back(show(Json(type)));
    invalid(field + ": " + show(Json(pid_type)) + " is not a pid type; use one of " +
            join(quoted));
  }
  if (facts.barrier.valid() && pid_type != "persistent_blocked")
    throw UserError("BarrierRequiresPersistent",
                    field + ": " + show(Json(pid_type)) +
                        " cannot run this kernel: its hl.barrier() makes every program wait for "
                        "all the others, which only the programs of pid_type "
                        "\"persistent_blocked\" can do (each stays on the GPU until it is "
                        "done); use pid_type=\"persistent_blocked\"",
                    facts.barrier);
  if (pid_type == "xyz" && !allows_xyz(facts, config))
    invalid(field + ": the grid has more than 3 dimensions, or the kernel several top-level "
                    "loops, which do not fit the x, y and z launch axes; use \"flat\" (or "
                    "flatten the grid tile)");
}

void check_num_sm_multiplier(const std::string &field, int64_t multiplier,
                             const std::string &pid_type, const KernelFacts &facts) {
  check_power_in_range(field, multiplier, 1, kMaxNumSmMultiplier);
  if (multiplier != 1 && !is_persistent(pid_type))
    invalid(field + ": " + std::to_string(multiplier) +
            " needs a persistent pid_type, but it is " + show(Json(pid_type)) +
            "; use 1, or pid_type \"persistent_blocked\" or \"persistent_interleaved\"");
  // A cooperative launch fails unless every program fits on the GPU at once;
  // one per SM always does.
  if (multiplier != 1 && facts.barrier.valid())
    throw UserError("InvalidConfig",
                    field + ": " + std::to_string(multiplier) +
                        " programs per SM cannot all wait at this kernel's hl.barrier() (they "
                        "must all be on the GPU at once); use 1",
                    facts.barrier);
}

Json check_tunable_value(const TunableFacts &tunable, const Json &value) {
  const Fragment &fragment = tunable.fragment;
  if (!fragment.accepts(value))
    invalid(tunable.name + ": " + show(value) + " is not a value of " + fragment.repr() + "; " +
            fragment.allowed_text());
  for (const Json &choice : fragment.choices)
    if (choice.is_number() && value.is_number() && !choice.is_boolean() && !value.is_boolean() &&
        json_number(choice) == json_number(value))
      return choice;
  return value;
}

int64_t expect_int(const std::string &field, const Json &value) {
  if (!value.is_number_integer()) invalid(field + ": expected an int, got " + show(value));
  return json_int(value);
}

std::string show(const Json &value) {
  return dump_text(value);
}

std::string join(const std::vector<std::string> &items, const std::string &separator) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += separator;
    out += items[i];
  }
  return out;
}

std::string call_location(const KernelFacts &facts, const TileCallFacts &call) {
  if (!call.span.valid()) return "";
  return " (the hl.tile call at line " + std::to_string(facts.file_line(call.span)) + ")";
}

} // namespace config_rules
} // namespace helion
