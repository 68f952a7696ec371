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

static const Json::Array &ignored_list(const std::string &key, const Json &value,
                                      const std::string &what) {
  if (!value.is_array()) invalid(key + ": expected a list of " + what + ", got " + show(value));
  return value.as_array();
}

void check_ignored_field(const std::string &key, const Json &value, const std::string &pid_type) {
  if (key == "range_unroll_factors" || key == "range_num_stages") {
    std::string what = "ints between 0 and " + std::to_string(kMaxRangeOption);
    const Json::Array &items = ignored_list(key, value, what);
    for (size_t i = 0; i < items.size(); ++i) {
      std::string field = key + "[" + std::to_string(i) + "]";
      int64_t item = expect_int(field, items[i]);
      if (item < 0 || item > kMaxRangeOption)
        invalid(field + ": " + std::to_string(item) + " is not allowed; use an int between 0 and " +
                std::to_string(kMaxRangeOption) + " (0 leaves it to Triton)");
    }
    return;
  }
  if (key == "range_multi_buffers" || key == "range_flattens" || key == "static_ranges") {
    bool nullable = key != "static_ranges";
    std::string what = nullable ? "true, false or null" : "true or false";
    const Json::Array &items = ignored_list(key, value, what);
    for (size_t i = 0; i < items.size(); ++i)
      if (!items[i].is_bool() && !(nullable && items[i].is_null()))
        invalid(key + "[" + std::to_string(i) + "]: expected " + what + ", got " + show(items[i]));
    return;
  }
  if (key == "load_eviction_policies") {
    const Json::Array &items = ignored_list(key, value, "strings");
    for (size_t i = 0; i < items.size(); ++i) {
      const Json &item = items[i];
      if (item.is_string() &&
          (item.as_string().empty() || item.as_string() == "first" || item.as_string() == "last"))
        continue;
      invalid(key + "[" + std::to_string(i) + "]: " + show(item) +
              " is not an eviction policy; use \"\", \"first\" or \"last\"");
    }
    return;
  }
  invalid("config: " + show(Json(key)) + " is not a known config key");
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

bool is_persistent_pid_type(const std::string &pid_type) {
  return pid_type == "persistent_blocked" || pid_type == "persistent_interleaved";
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
  if (pid_type == "xyz" && !allows_xyz(facts, config))
    invalid(field + ": the grid has more than 3 dimensions, or the kernel several top-level "
                    "loops, which do not fit the x, y and z launch axes; use \"flat\" (or "
                    "flatten the grid tile)");
}

void check_num_sm_multiplier(const std::string &field, int64_t multiplier,
                             const std::string &pid_type) {
  check_power_in_range(field, multiplier, 1, kMaxNumSmMultiplier);
  if (multiplier != 1 && !is_persistent_pid_type(pid_type))
    invalid(field + ": " + std::to_string(multiplier) +
            " needs a persistent pid_type, but it is " + show(Json(pid_type)) +
            "; use 1, or pid_type \"persistent_blocked\" or \"persistent_interleaved\"");
}

Json check_tunable_value(const TunableFacts &tunable, const Json &value) {
  const Fragment &fragment = tunable.fragment;
  if (!fragment.accepts(value))
    invalid(tunable.name + ": " + show(value) + " is not a value of " + fragment.repr() + "; " +
            fragment.allowed_text());
  for (const Json &choice : fragment.choices)
    if (choice.is_number() && value.is_number() && !choice.is_bool() && !value.is_bool() &&
        choice.as_double() == value.as_double())
      return choice;
  return value;
}

int64_t expect_int(const std::string &field, const Json &value) {
  if (!value.is_int()) invalid(field + ": expected an int, got " + show(value));
  return value.as_int();
}

std::string show(const Json &value) {
  return value.dump();
}

std::string join(const std::vector<std::string> &items, const std::string &separator) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += separator;
    out += items[i];
  }
  return out;
}

std::string call_location(const TileCallFacts &call) {
  if (!call.span.valid()) return "";
  return " (the hl.tile call at line " + std::to_string(call.span.line) + ")";
}

} // namespace config_rules
} // namespace helion
