#include "config/ConfigSpec.h"

#include "config/ConfigRules.h"
#include "support/Diagnostics.h"
#include "support/Text.h"

#include <algorithm>
#include <functional>
#include <numeric>

namespace helion {

using namespace config_rules;

/// A grid block times a persistent reduction block above this many elements
/// spills registers, so the default shrinks the grid block to stay under it.
static constexpr int64_t kDefaultElementsPerProgram = int64_t(1) << 14;

std::string tunable_name_conflict(const std::string &name) {
  if (is_builtin_config_key(name)) return name;
  if (is_builtin_config_key(name + "s")) return name + "s";
  return "";
}

static void check_tunable_names(const KernelFacts &facts) {
  for (const TunableFacts &tunable : facts.tunables) {
    const std::string &name = tunable.name;
    std::string field = tunable_name_conflict(name);
    if (field.empty()) continue;
    throw UserError("TunableNameConflict",
                    "hl.register_tunable('" + name + "', ...): '" + name +
                        (field == name ? "' is" : "' reads as") + " the config field '" + field +
                        "'; choose another name for the tunable",
                    tunable.span);
  }
}

ConfigSpec::ConfigSpec(KernelFacts facts) : facts_(std::move(facts)) {
  check_tunable_names(facts_);
}

static std::vector<int> identity_order(size_t dims) {
  std::vector<int> order(dims);
  std::iota(order.begin(), order.end(), 0);
  return order;
}

static int64_t default_block(const TileCallFacts &call, size_t dim) {
  size_t dims = call.size_hints.size();
  int64_t base = 32; // inner loops, e.g. the K loop of a matmul
  if (call.is_grid) base = dims == 1 ? 1024 : dims == 2 ? 64 : 16;
  return std::clamp(base, min_block(call, dim), max_block(call, dim));
}

/// Halves the largest shrinkable dimension of a grid tile until one program's
/// block times `row_elements` fits the per-program budget (or nothing shrinks).
static void shrink_for_rows(const TileCallFacts &call, TileChoice &choice, int64_t row_elements) {
  while (true) {
    int64_t elements = block_elements(call, choice);
    if (elements <= kDefaultElementsPerProgram / std::max<int64_t>(row_elements, 1)) return;
    int widest = -1;
    for (size_t dim = 0; dim < choice.block_sizes.size(); ++dim) {
      if (choice.block_sizes[dim] <= min_block(call, dim)) continue;
      if (widest < 0 || choice.block_sizes[dim] > choice.block_sizes[widest]) widest = dim;
    }
    if (widest < 0) return;
    choice.block_sizes[widest] /= 2;
  }
}

Config ConfigSpec::default_config() const {
  Config config;
  for (const auto &reduction : facts_.reductions) {
    if (reduction_extent(reduction) > kMaxDefaultPersistentReduction)
      config.reduction_loops.push_back(kDefaultReductionLoop);
    else
      config.reduction_loops.push_back(std::nullopt);
  }
  int64_t row_elements = 1;
  for (size_t r = 0; r < facts_.reductions.size(); ++r)
    row_elements = std::max(
        row_elements, config.reduction_loops[r].value_or(reduction_extent(facts_.reductions[r])));
  for (const auto &call : facts_.tiles) {
    TileChoice choice;
    for (size_t dim = 0; dim < call.size_hints.size(); ++dim)
      choice.block_sizes.push_back(default_block(call, dim));
    choice.loop_order = identity_order(call.size_hints.size());
    if (call.is_grid && !facts_.reductions.empty()) shrink_for_rows(call, choice, row_elements);
    config.tiles.push_back(std::move(choice));
  }
  config.indexing = {"pointer"};
  config.pid_type = kernel_pid_types(facts_).front();
  config.ranges.resize(facts_.loops.size());
  config.static_ranges.assign(static_range_loops(facts_).size(), false);
  config.load_eviction_policies.assign(static_cast<size_t>(facts_.policy_loads), "");
  for (const TunableFacts &tunable : facts_.tunables)
    config.tunables.push_back(tunable.fragment.default_value());
  resolve_derived_block_sizes(facts_, config);
  return config;
}

static Json int_list(const std::vector<int64_t> &values) {
  Json out = Json::array();
  for (int64_t value : values)
    out.push_back(Json(value));
  return out;
}

static std::string block_field(size_t tunable_index) {
  return "block_sizes[" + std::to_string(tunable_index) + "]";
}

static void validate_tile(const KernelFacts &facts, const TileCallFacts &call,
                          const TileChoice &choice,
                          const std::string &field, const std::string &loop_order_field) {
  size_t dims = call.size_hints.size();
  if (choice.flatten) {
    if (!can_flatten(call))
      invalid(field +
              ": only a tile call of two or more dimensions, none fixed by block_size=, "
              "can be flattened" +
              call_location(facts, call) + "; give a list of " + std::to_string(dims) +
              " block sizes");
    if (!choice.block_sizes.empty())
      invalid(field + ": a flattened tile has only its flat block size, got " +
              std::to_string(choice.block_sizes.size()) + " per-dimension block sizes as well");
    check_power_in_range(field, choice.flat_block_size, min_flat_block(call),
                         legal_max_flat_block(call));
  } else {
    if (choice.block_sizes.size() != dims)
      invalid(field + ": expected " + std::to_string(dims) + " block sizes (one per dimension" +
              call_location(facts, call) + "), got " + std::to_string(choice.block_sizes.size()));
    for (size_t dim = 0; dim < dims; ++dim) {
      std::string dim_field = field + "[" + std::to_string(dim) + "]";
      const auto &fixed = dim < call.fixed_block_sizes.size() ? call.fixed_block_sizes[dim]
                                                              : std::optional<int64_t>();
      if (is_derived_block(call, dim)) continue; // check_derived_block_sizes
      if (fixed) {
        if (choice.block_sizes[dim] != *fixed)
          invalid(dim_field + ": " + std::to_string(choice.block_sizes[dim]) +
                  " differs from block_size=" + std::to_string(*fixed) + " fixed in the source" +
                  call_location(facts, call) + "; use " + std::to_string(*fixed));
        continue;
      }
      check_power_in_range(dim_field, choice.block_sizes[dim], min_block(call, dim),
                           legal_max_block(call, dim));
    }
    if (int64_t elements = block_elements(call, choice); elements > kMaxBlockSize)
      invalid(field + ": " + dump_text(int_list(choice.block_sizes)) + " makes a block of " +
              std::to_string(elements) + " elements, above Triton's largest of " +
              std::to_string(kMaxBlockSize) + "; use smaller block sizes");
  }
  check_loop_order(loop_order_field,
                   std::vector<int64_t>(choice.loop_order.begin(), choice.loop_order.end()), dims);
}

/// A call whose every block size is fixed by `block_size=` has no user-facing
/// entry, so its errors name the call instead of a config field.
static void validate_fixed_tile(const KernelFacts &facts, const TileCallFacts &call,
                                const TileChoice &choice,
                                const std::string &name) {
  std::vector<int64_t> fixed;
  for (size_t dim = 0; dim < call.fixed_block_sizes.size(); ++dim)
    fixed.push_back(is_derived_block(call, dim) && dim < choice.block_sizes.size()
                        ? choice.block_sizes[dim] // check_derived_block_sizes
                        : *call.fixed_block_sizes[dim]);
  if (choice.flatten || choice.block_sizes != fixed)
    invalid(name + call_location(facts, call) +
            ": block sizes are fixed by block_size= in the source; "
            "use " +
            dump_text(int_list(fixed)));
  check_loop_order(name + " loop order",
                   std::vector<int64_t>(choice.loop_order.begin(), choice.loop_order.end()),
                   fixed.size());
}

void ConfigSpec::validate(const Config &config) const {
  const auto &tiles = facts_.tiles;
  if (config.tiles.size() != tiles.size())
    invalid("block_sizes: the config has " + std::to_string(config.tiles.size()) +
            " tile choices; the kernel has " + std::to_string(tiles.size()) + " hl.tile calls");
  size_t tunable_index = 0;
  size_t multi_dim_index = 0;
  check_derived_block_sizes(facts_, config);
  for (size_t i = 0; i < tiles.size(); ++i) {
    const TileCallFacts &call = tiles[i];
    if (is_fixed_call(call)) {
      validate_fixed_tile(facts_, call, config.tiles[i], "hl.tile call " + std::to_string(i));
      continue;
    }
    std::string loop_order_field = call.size_hints.size() >= 2
                                       ? "loop_orders[" + std::to_string(multi_dim_index++) + "]"
                                       : block_field(tunable_index) + " loop order";
    validate_tile(facts_, call, config.tiles[i], block_field(tunable_index++), loop_order_field);
  }

  if (config.reduction_loops.size() != facts_.reductions.size())
    invalid("reduction_loops: expected " + std::to_string(facts_.reductions.size()) +
            " entries (one per reduction), got " + std::to_string(config.reduction_loops.size()));
  for (size_t r = 0; r < config.reduction_loops.size(); ++r) {
    std::string field = "reduction_loops[" + std::to_string(r) + "]";
    const ReductionFacts &reduction = facts_.reductions[r];
    std::string allowed = "; use a looped block, a power of two up to " +
                          std::to_string(kMaxBlockSize);
    if (!config.reduction_loops[r]) {
      // A kernel that needs the dimension whole has no other choice; Triton says so.
      if (!reduction.persistent_only && reduction_extent(reduction) > kMaxBlockSize)
        invalid(field + ": a persistent reduction (null, or a block as large as the dimension) "
                        "puts the whole dimension in one block of " +
                std::to_string(reduction_extent(reduction)) +
                " elements, above Triton's largest of " + std::to_string(kMaxBlockSize) +
                allowed);
      continue;
    }
    if (*config.reduction_loops[r] > kMaxBlockSize)
      invalid(field + ": " + std::to_string(*config.reduction_loops[r]) +
              " is above Triton's largest block of " + std::to_string(kMaxBlockSize) + allowed);
    check_reduction_loop(field, *config.reduction_loops[r]);
    if (facts_.reductions[r].persistent_only)
      invalid(field + ": " + std::to_string(*config.reduction_loops[r]) +
              " would loop over a dimension this kernel needs whole (argmax, argmin or a "
              "matmul over it); use None");
  }

  check_l2_grouping("l2_grouping", config.l2_grouping);

  size_t ops = static_cast<size_t>(facts_.memory_ops);
  if (config.indexing.empty() || (config.indexing.size() != 1 && config.indexing.size() != ops))
    invalid("indexing: expected one style or " + std::to_string(ops) +
            " (one per load and store), got " + std::to_string(config.indexing.size()));
  for (size_t op = 0; op < config.indexing.size(); ++op)
    check_indexing_style(config.indexing.size() == 1 ? "indexing"
                                                     : "indexing[" + std::to_string(op) + "]",
                         config.indexing[op]);

  check_pid_type("pid_type", config.pid_type, facts_, config);
  check_num_sm_multiplier("num_sm_multiplier", config.num_sm_multiplier, config.pid_type,
                          facts_);
  check_num_warps("num_warps", config.num_warps);
  check_num_stages("num_stages", config.num_stages);
  if (config.tunables.size() != facts_.tunables.size())
    invalid("the config has " + std::to_string(config.tunables.size()) +
            " values for user tunables; the kernel registers " +
            std::to_string(facts_.tunables.size()));
  for (size_t i = 0; i < facts_.tunables.size(); ++i)
    check_tunable_value(facts_.tunables[i], config.tunables[i]);
  validate_loop_fields(config);
}

void ConfigSpec::validate_loop_fields(const Config &config) const {
  check_settled_ranges(facts_, config);
  size_t loads = static_cast<size_t>(facts_.policy_loads);
  if (config.load_eviction_policies.size() != loads)
    invalid("load_eviction_policies: expected " + std::to_string(loads) +
            " entries (one per load without an explicit eviction_policy), got " +
            std::to_string(config.load_eviction_policies.size()));
  for (size_t i = 0; i < loads; ++i)
    check_eviction_policy("load_eviction_policies[" + std::to_string(i) + "]",
                          Json(config.load_eviction_policies[i]));
  size_t atomics = static_cast<size_t>(facts_.atomic_ops);
  if (config.atomic_indexing.empty() ||
      (config.atomic_indexing.size() != 1 && config.atomic_indexing.size() != atomics))
    invalid("atomic_indexing: expected one style or " + std::to_string(atomics) +
            " (one per hl.atomic_* call), got " + std::to_string(config.atomic_indexing.size()));
  for (size_t op = 0; op < config.atomic_indexing.size(); ++op)
    check_atomic_indexing_style(config.atomic_indexing.size() == 1
                                    ? "atomic_indexing"
                                    : "atomic_indexing[" + std::to_string(op) + "]",
                                config.atomic_indexing[op]);
  if (config.maxnreg) {
    check_maxnreg("maxnreg", *config.maxnreg);
    check_maxnreg_pid_type("maxnreg", config.maxnreg, config.pid_type);
    if (*config.maxnreg > maxnreg_budget(config.num_warps))
      invalid("maxnreg: " + std::to_string(*config.maxnreg) + " registers per thread for " +
              std::to_string(config.num_warps) + " warps exceed the SM's 65536; use at most " +
              std::to_string(maxnreg_budget(config.num_warps)));
  }
}

/// One range_* list, when some loop's value differs from the default.
static void set_range_list(Json &out, const std::vector<RangeChoice> &ranges, const char *key,
                           const std::function<Json(const RangeChoice &)> &value) {
  Json list = Json::array();
  bool any = false;
  for (const RangeChoice &range : ranges) {
    list.push_back(value(range));
    any = any || !(list[list.size() - 1] == value(RangeChoice()));
  }
  if (any) out[key] = std::move(list);
}

static Json optional_bool(const std::optional<bool> &value) {
  return value ? Json(*value) : Json();
}

/// The per-loop fields in the autotuner's key order; only those that differ
/// from the defaults, so configs without them read as before.
static void set_loop_fields(Json &out, const Config &config) {
  set_range_list(out, config.ranges, "range_unroll_factors",
                 [](const RangeChoice &r) { return Json(r.unroll_factor); });
  set_range_list(out, config.ranges, "range_warp_specializes",
                 [](const RangeChoice &r) { return optional_bool(r.warp_specialize); });
  set_range_list(out, config.ranges, "range_num_stages",
                 [](const RangeChoice &r) { return Json(r.num_stages); });
  set_range_list(out, config.ranges, "range_multi_buffers",
                 [](const RangeChoice &r) { return optional_bool(r.multi_buffer); });
  set_range_list(out, config.ranges, "range_flattens",
                 [](const RangeChoice &r) { return optional_bool(r.flatten); });
  if (std::find(config.static_ranges.begin(), config.static_ranges.end(), true) !=
      config.static_ranges.end()) {
    Json list = Json::array();
    for (bool unrolled : config.static_ranges)
      list.push_back(Json(unrolled));
    out["static_ranges"] = std::move(list);
  }
}

Json ConfigSpec::to_json(const Config &config) const {
  Json blocks = Json::array();
  Json loop_orders = Json::array();
  for (size_t i : tunable_calls(facts_)) {
    const TileChoice &choice = config.tiles[i];
    if (choice.flatten) {
      blocks.push_back(Json(choice.flat_block_size));
    } else {
      Json sizes = Json::array();
      for (int64_t block : choice.block_sizes)
        sizes.push_back(Json(block));
      blocks.push_back(std::move(sizes));
    }
    if (facts_.tiles[i].size_hints.size() < 2) continue;
    Json order = Json::array();
    for (int dim : choice.loop_order)
      order.push_back(Json(dim));
    loop_orders.push_back(std::move(order));
  }

  Json out = Json::object();
  out["block_sizes"] = std::move(blocks);
  if (!multi_dim_tunable_calls(facts_).empty()) out["loop_orders"] = std::move(loop_orders);
  if (!config.reduction_loops.empty()) {
    Json loops = Json::array();
    for (const auto &loop : config.reduction_loops)
      loops.push_back(loop ? Json(*loop) : Json());
    out["reduction_loops"] = std::move(loops);
  }
  out["l2_grouping"] = Json(config.l2_grouping);
  set_loop_fields(out, config);
  if (config.indexing.size() == 1) {
    out["indexing"] = Json(config.indexing[0]);
  } else {
    Json styles = Json::array();
    for (const auto &style : config.indexing)
      styles.push_back(Json(style));
    out["indexing"] = std::move(styles);
  }
  if (config.atomic_indexing != std::vector<std::string>{"pointer"}) {
    Json styles = Json::array();
    for (const auto &style : config.atomic_indexing)
      styles.push_back(Json(style));
    out["atomic_indexing"] =
        config.atomic_indexing.size() == 1 ? Json(config.atomic_indexing[0]) : std::move(styles);
  }
  if (config.pid_type == "xyz") out["use_yz_grid"] = Json(true);
  if (config.is_persistent()) out["pid_type"] = Json(config.pid_type);
  if (config.num_sm_multiplier != 1) out["num_sm_multiplier"] = Json(config.num_sm_multiplier);
  out["num_warps"] = Json(config.num_warps);
  out["num_stages"] = Json(config.num_stages);
  bool any_policy =
      std::any_of(config.load_eviction_policies.begin(), config.load_eviction_policies.end(),
                  [](const std::string &policy) { return !policy.empty(); });
  if (any_policy) {
    Json policies = Json::array();
    for (const auto &policy : config.load_eviction_policies)
      policies.push_back(Json(policy));
    out["load_eviction_policies"] = std::move(policies);
  }
  if (config.maxnreg) out["maxnreg"] = Json(static_cast<int64_t>(*config.maxnreg));
  for (size_t i = 0; i < facts_.tunables.size() && i < config.tunables.size(); ++i)
    out[facts_.tunables[i].name] = config.tunables[i];
  return out;
}

/// A JSON value written as the Python literal that reads back equal to it.
static std::string python_literal(const Json &value) {
  switch (value.type()) {
  case Json::value_t::null:
    return "None";
  case Json::value_t::boolean:
    return value.get<bool>() ? "True" : "False";
  case Json::value_t::number_integer:
  case Json::value_t::number_unsigned:
    return std::to_string(json_int(value));
  case Json::value_t::number_float:
    return shortest_double(json_number(value));
  case Json::value_t::string: {
    std::string out = "'";
    for (char c : value.get_ref<const std::string &>()) {
      if (c == '\\' || c == '\'') out += '\\';
      out += c;
    }
    return out + "'";
  }
  case Json::value_t::array: {
    std::string out = "[";
    for (size_t i = 0; i < value.size(); ++i) {
      if (i) out += ", ";
      out += python_literal(value[i]);
    }
    return out + "]";
  }
  case Json::value_t::object: {
    std::string out = "{";
    bool first = true;
    for (const auto &[key, item] : value.get_ref<const Json::object_t &>()) {
      if (!first) out += ", ";
      first = false;
      out += python_literal(Json(key)) + ": " + python_literal(item);
    }
    return out + "}";
  }
  default: // binary and discarded: never read from JSON text
    return "None";
  }
}

std::string ConfigSpec::to_python(const Config &config) const {
  std::string out = "helion.Config(";
  bool first = true;
  Json fields = to_json(config);
  for (const auto &[key, value] : fields.get_ref<const Json::object_t &>()) {
    if (!first) out += ", ";
    first = false;
    out += key + "=" + python_literal(value);
  }
  return out + ")";
}

std::vector<TunableCallRange> ConfigSpec::tunable_call_ranges() const {
  std::vector<TunableCallRange> out;
  for (size_t i : tunable_calls(facts_)) {
    const TileCallFacts &call = facts_.tiles[i];
    TunableCallRange range;
    range.call = i;
    range.grid = call.is_grid;
    for (size_t dim = 0; dim < call.size_hints.size(); ++dim) {
      range.blocks.push_back({min_block(call, dim), max_block(call, dim)});
      bool is_fixed = dim < call.fixed_block_sizes.size() && call.fixed_block_sizes[dim];
      range.fixed.push_back(is_fixed ? call.fixed_block_sizes[dim] : std::nullopt);
    }
    if (can_flatten(call))
      range.flat = TunableCallRange::Range{min_flat_block(call), max_flat_block(call)};
    out.push_back(std::move(range));
  }
  return out;
}

std::vector<ReductionRange> ConfigSpec::reduction_ranges() const {
  std::vector<ReductionRange> out;
  for (const auto &reduction : facts_.reductions)
    out.push_back({reduction.size_hint, reduction_extent(reduction), reduction.persistent_only});
  return out;
}

Json ConfigSpec::describe() const {
  Json blocks = Json::array();
  Json loop_orders = Json::array();
  for (const TunableCallRange &range : tunable_call_ranges()) {
    const TileCallFacts &call = facts_.tiles[range.call];
    std::vector<int64_t> mins, maxes;
    Json fixed = Json::array();
    for (size_t dim = 0; dim < range.dims(); ++dim) {
      mins.push_back(range.blocks[dim].min);
      maxes.push_back(range.blocks[dim].max);
      fixed.push_back(range.fixed[dim] ? Json(*range.fixed[dim]) : Json());
    }
    Json entry = Json::object();
    entry["call"] = Json(static_cast<int64_t>(range.call));
    if (call.span.valid()) entry["line"] = Json(facts_.file_line(call.span));
    entry["dims"] = Json(static_cast<int64_t>(range.dims()));
    entry["grid"] = Json(range.grid);
    entry["size_hints"] = int_list(call.size_hints);
    entry["min"] = int_list(mins);
    entry["max"] = int_list(maxes);
    entry["fixed"] = std::move(fixed);
    if (range.flat) {
      Json flat = Json::object();
      flat["min"] = Json(range.flat->min);
      flat["max"] = Json(range.flat->max);
      entry["flatten"] = std::move(flat);
    } else {
      entry["flatten"] = Json();
    }
    blocks.push_back(std::move(entry));
    if (range.dims() >= 2) {
      Json order = Json::object();
      order["call"] = Json(static_cast<int64_t>(range.call));
      order["dims"] = Json(static_cast<int64_t>(range.dims()));
      loop_orders.push_back(std::move(order));
    }
  }

  Json reductions = Json::array();
  for (const ReductionRange &reduction : reduction_ranges()) {
    Json entry = Json::object();
    entry["size_hint"] = Json(reduction.size_hint);
    entry["persistent_block"] = Json(reduction.persistent_block);
    entry["persistent_only"] = Json(reduction.persistent_only);
    reductions.push_back(std::move(entry));
  }

  Json indexing = Json::array();
  for (const auto &style : indexing_styles())
    indexing.push_back(Json(style));
  Json pid_type_names = Json::array();
  for (const auto &type : kernel_pid_types(facts_))
    pid_type_names.push_back(Json(type));
  Json multipliers = Json::array();
  int64_t most_per_sm = facts_.barrier.valid() ? 1 : kMaxNumSmMultiplier;
  for (int64_t multiplier = 1; multiplier <= most_per_sm; multiplier *= 2)
    multipliers.push_back(Json(multiplier));
  Json warps = Json::array();
  for (int warp = 1; warp <= kMaxNumWarps; warp *= 2)
    warps.push_back(Json(warp));
  Json stages = Json::array();
  for (int stage = 1; stage <= kMaxNumStages; ++stage)
    stages.push_back(Json(stage));

  Json out = Json::object();
  out["block_sizes"] = std::move(blocks);
  out["loop_orders"] = std::move(loop_orders);
  out["reduction_loops"] = std::move(reductions);
  out["memory_ops"] = Json(facts_.memory_ops);
  out["indexing"] = std::move(indexing);
  out["pid_type"] = std::move(pid_type_names);
  out["num_sm_multiplier"] = std::move(multipliers);
  out["num_warps"] = std::move(warps);
  out["num_stages"] = std::move(stages);
  describe_loop_fields(out);
  Json tunables = Json::array();
  for (const TunableFacts &tunable : facts_.tunables) {
    Json entry = Json::object();
    entry["name"] = Json(tunable.name);
    if (tunable.span.valid()) entry["line"] = Json(facts_.file_line(tunable.span));
    entry["fragment"] = Json(tunable.fragment.repr());
    Json description = tunable.fragment.describe();
    for (const auto &[key, value] : description.get_ref<const Json::object_t &>())
      entry[key] = value;
    tunables.push_back(std::move(entry));
  }
  out["tunables"] = std::move(tunables);
  out["default"] = to_json(default_config());
  return out;
}

void ConfigSpec::describe_loop_fields(Json &out) const {
  Json loops = Json::array();
  for (const LoopFacts &loop : facts_.loops) {
    Json entry = Json::object();
    if (loop.span.valid()) entry["line"] = Json(facts_.file_line(loop.span));
    entry["top_level"] = Json(loop.top_level);
    entry["static_range"] = Json(loop.static_candidate);
    loops.push_back(std::move(entry));
  }
  Json keywords = Json::object();
  for (const RangeField &field : range_fields())
    keywords[field.key] = Json(field.keyword);
  Json policies = Json::array();
  for (const auto &policy : eviction_policies())
    policies.push_back(Json(policy));
  Json registers = Json::array();
  registers.push_back(Json());
  for (int choice : maxnreg_choices())
    registers.push_back(Json(static_cast<int64_t>(choice)));
  Json atomic_styles = Json::array();
  for (const auto &style : atomic_indexing_styles())
    atomic_styles.push_back(Json(style));

  out["range_loops"] = std::move(loops);
  out["range_keywords"] = std::move(keywords);
  out["range_option_max"] = Json(kMaxRangeOption);
  out["static_ranges"] = Json(static_cast<int64_t>(static_range_loops(facts_).size()));
  out["load_eviction_policies"] = std::move(policies);
  out["policy_loads"] = Json(static_cast<int64_t>(facts_.policy_loads));
  out["maxnreg"] = std::move(registers);
  out["atomic_ops"] = Json(static_cast<int64_t>(facts_.atomic_ops));
  out["atomic_indexing"] = std::move(atomic_styles);
}

/// A power of two in [min, max], both powers of two, log-uniformly.
static int64_t random_power(std::mt19937_64 &rng, int64_t min, int64_t max) {
  int low = 0, high = 0;
  while ((int64_t(1) << low) < min)
    ++low;
  while ((int64_t(1) << high) < max)
    ++high;
  return int64_t(1) << std::uniform_int_distribution<int>(low, high)(rng);
}

static bool coin(std::mt19937_64 &rng, double probability = 0.5) {
  return std::bernoulli_distribution(probability)(rng);
}

/// One of the values a search draws for `fragment`.
static Json random_tunable_value(const Fragment &fragment, std::mt19937_64 &rng) {
  Json::array_t categories = fragment.categories();
  if (!categories.empty())
    return categories[std::uniform_int_distribution<size_t>(0, categories.size() - 1)(rng)];
  if (fragment.kind == Fragment::Kind::PowerOfTwo)
    return Json(random_power(rng, fragment.low, fragment.high));
  return Json(std::uniform_int_distribution<int64_t>(fragment.low, fragment.high)(rng));
}

/// Flat, xyz where the grid allows it, or one of the persistent pid types.
static std::string random_pid_type(const KernelFacts &facts, const Config &config,
                                   std::mt19937_64 &rng) {
  std::vector<std::string> choices;
  for (const auto &type : kernel_pid_types(facts))
    if (type != "xyz" || allows_xyz(facts, config)) choices.push_back(type);
  return choices[std::uniform_int_distribution<size_t>(0, choices.size() - 1)(rng)];
}

Config ConfigSpec::random_config(std::mt19937_64 &rng) const {
  Config config = default_config();
  for (size_t i : tunable_calls(facts_)) {
    const TileCallFacts &call = facts_.tiles[i];
    TileChoice &choice = config.tiles[i];
    size_t dims = call.size_hints.size();
    if (can_flatten(call) && coin(rng, 0.25)) {
      choice.flatten = true;
      choice.block_sizes.clear();
      choice.flat_block_size = random_power(rng, min_flat_block(call), max_flat_block(call));
    } else {
      for (size_t dim = 0; dim < dims; ++dim) {
        bool is_fixed = dim < call.fixed_block_sizes.size() && call.fixed_block_sizes[dim];
        if (!is_fixed)
          choice.block_sizes[dim] = random_power(rng, min_block(call, dim), max_block(call, dim));
      }
    }
    std::shuffle(choice.loop_order.begin(), choice.loop_order.end(), rng);
  }
  for (size_t r = 0; r < facts_.reductions.size(); ++r) {
    int64_t extent = reduction_extent(facts_.reductions[r]);
    if (extent >= 2 && !facts_.reductions[r].persistent_only && coin(rng))
      config.reduction_loops[r] = random_power(rng, 1, extent / 2);
    else
      config.reduction_loops[r] = std::nullopt;
  }
  config.l2_grouping = random_power(rng, 1, 64);

  const auto &styles = indexing_styles();
  std::uniform_int_distribution<size_t> pick_style(0, styles.size() - 1);
  config.indexing = {styles[pick_style(rng)]};
  if (facts_.memory_ops >= 2 && coin(rng)) {
    config.indexing.clear();
    for (int op = 0; op < facts_.memory_ops; ++op)
      config.indexing.push_back(styles[pick_style(rng)]);
    bool all_same = std::all_of(config.indexing.begin(), config.indexing.end(),
                                [&](const std::string &s) { return s == config.indexing[0]; });
    if (all_same) config.indexing.resize(1);
  }

  fit_block_limit(config);
  config.pid_type = random_pid_type(facts_, config, rng);
  if (config.is_persistent() && !facts_.barrier.valid())
    config.num_sm_multiplier = random_power(rng, 1, kMaxNumSmMultiplier);
  config.num_warps = static_cast<int>(random_power(rng, 1, kMaxNumWarps));
  config.num_stages = std::uniform_int_distribution<int>(1, kMaxNumStages)(rng);
  randomize_loop_fields(config, rng);
  for (size_t i = 0; i < facts_.tunables.size(); ++i)
    config.tunables[i] = random_tunable_value(facts_.tunables[i].fragment, rng);
  resolve_derived_block_sizes(facts_, config);
  return config;
}

/// null, false or true, each a third of the time.
static std::optional<bool> random_optional_bool(std::mt19937_64 &rng) {
  int pick = std::uniform_int_distribution<int>(0, 2)(rng);
  return pick == 0 ? std::nullopt : std::optional<bool>(pick == 2);
}

void ConfigSpec::randomize_loop_fields(Config &config, std::mt19937_64 &rng) const {
  std::uniform_int_distribution<int> option(0, static_cast<int>(kMaxRangeOption));
  for (RangeChoice &range : config.ranges) {
    range.unroll_factor = option(rng);
    range.num_stages = option(rng);
    range.multi_buffer = random_optional_bool(rng);
    range.flatten = random_optional_bool(rng);
    // Warp specialization needs a GPU the spec does not know: the search
    // offers it where the device has it (ConfigSpace).
  }
  for (size_t k = 0; k < config.static_ranges.size(); ++k)
    config.static_ranges[k] = coin(rng);
  const auto &policies = eviction_policies();
  std::uniform_int_distribution<size_t> pick_policy(0, policies.size() - 1);
  for (std::string &policy : config.load_eviction_policies)
    policy = policies[pick_policy(rng)];
  const auto &atomic_styles = atomic_indexing_styles();
  std::uniform_int_distribution<size_t> pick_atomic(0, atomic_styles.size() - 1);
  config.atomic_indexing.clear();
  for (int op = 0; op < facts_.atomic_ops; ++op)
    config.atomic_indexing.push_back(atomic_styles[pick_atomic(rng)]);
  if (is_persistent(config.pid_type)) {
    const auto &choices = maxnreg_choices();
    std::uniform_int_distribution<size_t> pick_registers(0, choices.size());
    size_t pick = pick_registers(rng);
    config.maxnreg = pick == 0 ? std::nullopt : std::optional<int>(choices[pick - 1]);
  }
  settle_loop_fields(config);
}

void ConfigSpec::settle_loop_fields(Config &config) const {
  settle_ranges(facts_, config);
  resolve_derived_block_sizes(facts_, config); // the tunables may have changed
  auto &atomic = config.atomic_indexing;
  if (atomic.empty()) atomic = {"pointer"};
  if (std::all_of(atomic.begin(), atomic.end(),
                  [&](const std::string &style) { return style == atomic[0]; }))
    atomic.resize(1);
  if (!is_persistent(config.pid_type)) {
    config.num_sm_multiplier = 1;
    config.maxnreg = std::nullopt;
  }
  else if (config.maxnreg)
    config.maxnreg = cap_maxnreg(*config.maxnreg, config.num_warps);
}

void ConfigSpec::fit_block_limit(Config &config) const {
  for (size_t r = 0; r < facts_.reductions.size() && r < config.reduction_loops.size(); ++r) {
    const ReductionFacts &reduction = facts_.reductions[r];
    auto &loop = config.reduction_loops[r];
    if (reduction.persistent_only || reduction_extent(reduction) <= kMaxBlockSize) continue;
    if (!loop || *loop > kMaxBlockSize) loop = kMaxBlockSize;
  }
  for (size_t i = 0; i < facts_.tiles.size() && i < config.tiles.size(); ++i) {
    const TileCallFacts &call = facts_.tiles[i];
    TileChoice &choice = config.tiles[i];
    if (choice.flatten || is_fixed_call(call)) continue;
    while (true) {
      if (block_elements(call, choice) <= kMaxBlockSize) break;
      int widest = -1;
      for (size_t dim = 0; dim < choice.block_sizes.size(); ++dim) {
        bool fixed = dim < call.fixed_block_sizes.size() && call.fixed_block_sizes[dim];
        if (fixed || choice.block_sizes[dim] <= min_block(call, dim)) continue;
        if (widest < 0 || choice.block_sizes[dim] > choice.block_sizes[widest]) widest = dim;
      }
      if (widest < 0) break;
      choice.block_sizes[widest] /= 2;
    }
  }
}

} // namespace helion
