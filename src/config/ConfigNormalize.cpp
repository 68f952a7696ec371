// Reads a user config in either spelling of SPEC §3 into canonical form.
//
// Choices where the spelling leaves room:
// - A tile call whose every dimension is fixed by `block_size=` has no entry
//   in block_sizes / loop_orders / flatten_loops. A call with only some
//   dimensions fixed keeps its entries, lists all its dimensions, and the
//   fixed ones are overwritten with the source's value whatever the config
//   says; such a call cannot be flattened. A flat block_sizes list may also
//   leave the fixed dimensions out, as Helion 1.4 writes it.
// - pid_type "xyz" is written back as use_yz_grid=true, a persistent pid type
//   as pid_type, and num_sm_multiplier only where it is not 1.
// - Per-loop and per-load lists (range_*, static_ranges,
//   load_eviction_policies) shorter than the kernel's count are padded with
//   defaults; longer ones are an error. Their entries then settle
//   (settle_ranges): static loops and top-level loops outside persistent pid
//   types take the default range options, and only the first
//   warp-specialized loop stays so.
// - maxnreg above what num_warps leaves per thread is lowered to the largest
//   choice that fits.
// - atomic_indexing, like indexing, is one style or one per atomic op; a
//   uniform list normalizes to one style.
// - A looped reduction block at least as large as the reduced dimension is a
//   persistent reduction and normalizes to null.
// - An indexing list whose entries are all the same normalizes to one style.

#include "config/ConfigRules.h"
#include "config/ConfigSpec.h"

#include <algorithm>
#include <map>

namespace helion {

using namespace config_rules;

static const std::vector<std::string> kSeedKeys = {"block_sizes", "loop_orders", "reduction_loops",
                                                   "l2_grouping", "indexing",    "use_yz_grid",
                                                   "num_warps",   "num_stages"};
static const std::vector<std::string> kLaterKeys = {"flatten_loops", "l2_groupings", "pid_type",
                                                    "num_sm_multiplier"};
static const std::vector<std::string> kLoopKeys = {
    "range_unroll_factors", "range_warp_specializes", "range_num_stages",
    "range_multi_buffers",  "range_flattens",         "static_ranges",
    "atomic_indexing",      "load_eviction_policies", "maxnreg"};

static bool contains(const std::vector<std::string> &list, const std::string &item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

bool config_rules::is_builtin_config_key(const std::string &name) {
  return contains(kSeedKeys, name) || contains(kLaterKeys, name) || contains(kLoopKeys, name);
}

static bool is_tunable(const KernelFacts &facts, const std::string &key) {
  for (const TunableFacts &tunable : facts.tunables)
    if (tunable.name == key) return true;
  return false;
}

/// Helion's config fields that kernels here do not take, and why.
static const std::map<std::string, std::string> &unsupported_config_keys() {
  static const std::map<std::string, std::string> keys = {
      {"epilogue_subtile", "matmul epilogues store whole tiles here"},
      {"load_cache_modifiers", "loads take eviction policies here (load_eviction_policies)"},
      {"store_cache_modifiers", "stores use Triton's default cache behaviour here"},
      {"num_threads", "it belongs to another backend; kernels here compile with Triton"},
      {"advanced_controls_file", "ptxas control files are not passed on here"},
  };
  return keys;
}

static void check_keys(const Json &user, const KernelFacts &facts) {
  for (const auto &entry : user.get_ref<const Json::object_t &>()) {
    const std::string &key = entry.first;
    if (is_builtin_config_key(key) || is_tunable(facts, key)) continue;
    auto unsupported = unsupported_config_keys().find(key);
    if (unsupported != unsupported_config_keys().end())
      invalid(show(Json(key)) + " is not supported: " + unsupported->second + "; remove it");
    std::vector<std::string> known = kSeedKeys;
    known.insert(known.end(), kLaterKeys.begin(), kLaterKeys.end());
    known.insert(known.end(), kLoopKeys.begin(), kLoopKeys.end());
    for (const TunableFacts &tunable : facts.tunables)
      known.push_back(tunable.name);
    invalid("unknown config key " + show(Json(key)) + "; use one of " + join(known));
  }
}

static const Json::array_t &expect_list(const std::string &field, const Json &value) {
  if (!value.is_array()) invalid(field + ": expected a list, got " + show(value));
  return value.get_ref<const Json::array_t &>();
}

static bool expect_bool(const std::string &field, const Json &value) {
  if (!value.is_boolean()) invalid(field + ": expected true or false, got " + show(value));
  return value.get<bool>();
}

static const std::string &expect_string(const std::string &field, const Json &value) {
  if (!value.is_string()) invalid(field + ": expected a string, got " + show(value));
  return value.get_ref<const std::string &>();
}

static std::string indexed(const std::string &field, size_t index) {
  return field + "[" + std::to_string(index) + "]";
}

namespace {

/// Reads the fields of one user config into a Config that starts as the default.
class Normalizer {
public:
  Normalizer(const KernelFacts &facts, Config &config)
      : facts_(facts), config_(config), tunable_(tunable_calls(facts)),
        multi_dim_(multi_dim_tunable_calls(facts)) {}

  void read(const Json &user) {
    if (user.contains("block_sizes")) read_block_sizes(json_field(user, "block_sizes"));
    if (user.contains("flatten_loops")) read_flatten_loops(json_field(user, "flatten_loops"));
    if (user.contains("loop_orders")) read_loop_orders(json_field(user, "loop_orders"));
    if (user.contains("reduction_loops")) read_reduction_loops(json_field(user, "reduction_loops"));
    read_l2_grouping(user);
    if (user.contains("indexing")) read_indexing(json_field(user, "indexing"));
    read_pid_type(user);
    read_num_sm_multiplier(user);
    if (user.contains("num_warps")) {
      int64_t warps = expect_int("num_warps", json_field(user, "num_warps"));
      check_num_warps("num_warps", warps);
      config_.num_warps = static_cast<int>(warps);
    }
    if (user.contains("num_stages")) {
      int64_t stages = expect_int("num_stages", json_field(user, "num_stages"));
      check_num_stages("num_stages", stages);
      config_.num_stages = static_cast<int>(stages);
    }
    read_ranges(user);
    if (user.contains("atomic_indexing")) read_atomic_indexing(json_field(user, "atomic_indexing"));
    if (user.contains("load_eviction_policies"))
      read_eviction_policies(json_field(user, "load_eviction_policies"));
    if (user.contains("maxnreg")) read_maxnreg(json_field(user, "maxnreg"));
    read_tunables(user);
    resolve_derived_block_sizes(facts_, config_);
  }

private:
  size_t dims_of(size_t call) const { return facts_.tiles[call].size_hints.size(); }

  /// Seed form: one entry per tunable call, an int (a 1-D block, or the flat
  /// block of an N-D call) or a list with one block per dimension. Later
  /// form: a flat list with one int per tiled dimension, or, as Helion 1.4
  /// writes it, one per dimension that block_size= leaves free.
  void read_block_sizes(const Json &value) {
    const Json::array_t &entries = expect_list("block_sizes", value);
    bool any_list = false;
    for (size_t k = 0; k < entries.size(); ++k) {
      if (!entries[k].is_number_integer() && !entries[k].is_array())
        invalid(indexed("block_sizes", k) + ": expected an int or a list of ints, got " +
                show(entries[k]));
      any_list = any_list || entries[k].is_array();
    }
    size_t total_dims = 0, free_dims = 0;
    for (size_t call : tunable_) {
      total_dims += dims_of(call);
      for (size_t dim = 0; dim < dims_of(call); ++dim)
        free_dims += !fixed_size(call, dim);
    }
    // A call with a fixed dimension cannot be flattened, so ints that could
    // also read as one per call read as one per free dimension.
    if (!any_list && free_dims != total_dims && entries.size() == free_dims) {
      read_free_dims(entries);
      return;
    }
    if (any_list || entries.size() == tunable_.size()) {
      if (entries.size() != tunable_.size())
        invalid("block_sizes: expected " + std::to_string(tunable_.size()) +
                " entries (one per hl.tile call), got " + std::to_string(entries.size()));
      for (size_t j = 0; j < entries.size(); ++j)
        read_call_entry(j, entries[j]);
      return;
    }
    if (entries.size() != total_dims)
      invalid("block_sizes: expected " + std::to_string(tunable_.size()) +
              " entries (one per hl.tile call, a list for a multi-dimensional tile) or " +
              std::to_string(total_dims) + " entries (one per tiled dimension), got " +
              std::to_string(entries.size()));
    size_t k = 0;
    for (size_t call : tunable_) {
      unflattened(call);
      for (size_t dim = 0; dim < dims_of(call); ++dim, ++k)
        read_dim(indexed("block_sizes", k), entries[k], call, dim);
    }
  }

  /// Call `call`'s tile choice, cleared to be read one block size per dimension.
  TileChoice &unflattened(size_t call) {
    TileChoice &choice = config_.tiles[call];
    choice.flatten = false;
    choice.flat_block_size = 0;
    choice.block_sizes.assign(dims_of(call), 0);
    return choice;
  }

  void read_free_dims(const Json::array_t &entries) {
    size_t k = 0;
    for (size_t call : tunable_) {
      TileChoice &choice = unflattened(call);
      for (size_t dim = 0; dim < dims_of(call); ++dim) {
        if (auto fixed = fixed_size(call, dim)) {
          choice.block_sizes[dim] = *fixed;
          continue;
        }
        read_dim(indexed("block_sizes", k), entries[k], call, dim);
        ++k;
      }
    }
  }

  std::optional<int64_t> fixed_size(size_t call, size_t dim) const {
    const auto &fixed = facts_.tiles[call].fixed_block_sizes;
    return dim < fixed.size() ? fixed[dim] : std::nullopt;
  }

  void read_call_entry(size_t j, const Json &entry) {
    size_t call = tunable_[j];
    const TileCallFacts &facts = facts_.tiles[call];
    TileChoice &choice = config_.tiles[call];
    std::string field = indexed("block_sizes", j);
    size_t dims = dims_of(call);
    if (entry.is_number_integer() && dims >= 2) {
      int64_t block = json_int(entry);
      if (!can_flatten(facts))
        invalid(field + ": " + std::to_string(block) +
                " would flatten a tile call with a dimension fixed by block_size=" +
                call_location(facts_, facts) + "; give a list of " + std::to_string(dims) +
                " block sizes");
      check_power_in_range(field, block, min_flat_block(facts), legal_max_flat_block(facts));
      choice.flatten = true;
      choice.flat_block_size = block;
      choice.block_sizes.clear();
      return;
    }
    choice.flatten = false;
    choice.flat_block_size = 0;
    choice.block_sizes.assign(dims, 0);
    if (entry.is_number_integer()) {
      read_dim(field, entry, call, 0);
      return;
    }
    const Json::array_t &sizes = entry.get_ref<const Json::array_t &>();
    if (sizes.size() != dims)
      invalid(field + ": expected " + std::to_string(dims) + " block sizes (one per dimension" +
              call_location(facts_, facts) + "), got " + show(entry));
    for (size_t dim = 0; dim < dims; ++dim)
      read_dim(indexed(field, dim), sizes[dim], call, dim);
  }

  void read_dim(const std::string &field, const Json &value, size_t call, size_t dim) {
    const TileCallFacts &facts = facts_.tiles[call];
    int64_t block = expect_int(field, value);
    if (auto fixed = fixed_size(call, dim)) {
      config_.tiles[call].block_sizes[dim] = *fixed;
      return;
    }
    check_power_in_range(field, block, min_block(facts, dim), legal_max_block(facts, dim));
    config_.tiles[call].block_sizes[dim] = block;
  }

  /// Runs after read_block_sizes: a true entry flattens the call with the
  /// product of its block sizes.
  void read_flatten_loops(const Json &value) {
    const Json::array_t &flags = expect_list("flatten_loops", value);
    if (flags.size() != multi_dim_.size())
      invalid("flatten_loops: expected " + std::to_string(multi_dim_.size()) +
              " entries (one per multi-dimensional hl.tile call), got " +
              std::to_string(flags.size()));
    for (size_t k = 0; k < flags.size(); ++k) {
      std::string field = indexed("flatten_loops", k);
      bool flatten = expect_bool(field, flags[k]);
      size_t call = multi_dim_[k];
      TileChoice &choice = config_.tiles[call];
      if (!flatten) {
        if (choice.flatten)
          invalid(field +
                  ": false disagrees with block_sizes, which gives this tile call one "
                  "flat block of " +
                  std::to_string(choice.flat_block_size) +
                  "; give a list of block sizes or set it to true");
        continue;
      }
      if (choice.flatten) continue;
      if (!can_flatten(facts_.tiles[call]))
        invalid(field +
                ": true, but a tile call with a dimension fixed by block_size= cannot "
                "be flattened" +
                call_location(facts_, facts_.tiles[call]) + "; use false");
      int64_t product = 1;
      for (int64_t block : choice.block_sizes)
        product *= block;
      choice.flatten = true;
      choice.flat_block_size = product;
      choice.block_sizes.clear();
    }
  }

  void read_loop_orders(const Json &value) {
    const Json::array_t &orders = expect_list("loop_orders", value);
    if (orders.size() != multi_dim_.size())
      invalid("loop_orders: expected " + std::to_string(multi_dim_.size()) +
              " permutations (one per multi-dimensional hl.tile call), got " +
              std::to_string(orders.size()));
    for (size_t k = 0; k < orders.size(); ++k) {
      std::string field = indexed("loop_orders", k);
      size_t dims = dims_of(multi_dim_[k]);
      std::vector<int64_t> order;
      for (const Json &dim : expect_list(field, orders[k]))
        order.push_back(expect_int(field, dim));
      check_loop_order(field, order, dims);
      config_.tiles[multi_dim_[k]].loop_order.assign(order.begin(), order.end());
    }
  }

  void read_reduction_loops(const Json &value) {
    const Json::array_t &loops = expect_list("reduction_loops", value);
    if (loops.size() != facts_.reductions.size())
      invalid("reduction_loops: expected " + std::to_string(facts_.reductions.size()) +
              " entries (one per reduction: null for persistent or a power of two), got " +
              std::to_string(loops.size()));
    for (size_t r = 0; r < loops.size(); ++r) {
      std::string field = indexed("reduction_loops", r);
      if (loops[r].is_null()) {
        config_.reduction_loops[r] = std::nullopt;
        continue;
      }
      if (!loops[r].is_number_integer())
        invalid(field + ": expected null (persistent) or an int, got " + show(loops[r]));
      int64_t block = json_int(loops[r]);
      check_reduction_loop(field, block);
      if (block >= reduction_extent(facts_.reductions[r]))
        config_.reduction_loops[r] = std::nullopt;
      else
        config_.reduction_loops[r] = block;
    }
  }

  void read_l2_grouping(const Json &user) {
    std::optional<int64_t> seed, later;
    if (user.contains("l2_grouping")) {
      seed = expect_int("l2_grouping", json_field(user, "l2_grouping"));
      check_l2_grouping("l2_grouping", *seed);
    }
    if (user.contains("l2_groupings")) {
      const Json::array_t &groupings =
          expect_list("l2_groupings", json_field(user, "l2_groupings"));
      if (groupings.empty()) invalid("l2_groupings: expected a list of one int, got []");
      size_t grid_calls = 0;
      for (const TileCallFacts &call : facts_.tiles)
        grid_calls += call.is_grid ? 1 : 0;
      if (groupings.size() > std::max<size_t>(grid_calls, 1))
        invalid("l2_groupings: too many values: expected " +
                std::to_string(std::max<size_t>(grid_calls, 1)) +
                " (one per top-level hl.tile call), got " + std::to_string(groupings.size()));
      for (size_t k = 0; k < groupings.size(); ++k)
        check_l2_grouping(indexed("l2_groupings", k),
                          expect_int(indexed("l2_groupings", k), groupings[k]));
      later = json_int(groupings[0]);
    }
    if (seed && later && *seed != *later)
      invalid("l2_grouping: " + std::to_string(*seed) + " disagrees with l2_groupings[0]: " +
              std::to_string(*later) + "; give only one of them");
    if (seed) config_.l2_grouping = *seed;
    if (later) config_.l2_grouping = *later;
  }

  void read_indexing(const Json &value) {
    if (value.is_string()) {
      check_indexing_style("indexing", value.get_ref<const std::string &>());
      config_.indexing = {value.get_ref<const std::string &>()};
      return;
    }
    if (!value.is_array())
      invalid("indexing: expected a string or a list of strings, got " + show(value));
    const Json::array_t &styles = value.get_ref<const Json::array_t &>();
    if (styles.size() != static_cast<size_t>(facts_.memory_ops))
      invalid("indexing: expected one string or a list of " + std::to_string(facts_.memory_ops) +
              " (one per load and store), got a list of " + std::to_string(styles.size()));
    std::vector<std::string> indexing;
    for (size_t op = 0; op < styles.size(); ++op) {
      std::string field = indexed("indexing", op);
      check_indexing_style(field, expect_string(field, styles[op]));
      indexing.push_back(styles[op].get_ref<const std::string &>());
    }
    bool all_same = std::all_of(indexing.begin(), indexing.end(),
                                [&](const std::string &s) { return s == indexing[0]; });
    if (indexing.empty()) indexing = {"pointer"};
    if (all_same) indexing.resize(1);
    config_.indexing = indexing;
  }

  /// Runs after the tile fields: "xyz" depends on which grid tiles are flattened.
  void read_pid_type(const Json &user) {
    std::optional<std::string> from_yz, from_pid;
    if (user.contains("use_yz_grid")) {
      bool yz = expect_bool("use_yz_grid", json_field(user, "use_yz_grid"));
      from_yz = yz ? "xyz" : "flat";
      check_pid_type("use_yz_grid", *from_yz, facts_, config_);
    }
    if (user.contains("pid_type")) {
      from_pid = expect_string("pid_type", json_field(user, "pid_type"));
      check_pid_type("pid_type", *from_pid, facts_, config_);
    }
    if (from_yz && from_pid && *from_yz != *from_pid)
      invalid("use_yz_grid: " + show(json_field(user, "use_yz_grid")) +
              " disagrees with pid_type: " + show(json_field(user, "pid_type")) +
              "; use_yz_grid=true means pid_type=\"xyz\", false means "
              "\"flat\"; give only one of them");
    if (from_yz) config_.pid_type = *from_yz;
    if (from_pid) config_.pid_type = *from_pid;
  }

  void read_tunables(const Json &user) {
    for (size_t i = 0; i < facts_.tunables.size(); ++i) {
      const TunableFacts &tunable = facts_.tunables[i];
      if (user.contains(tunable.name))
        config_.tunables[i] = check_tunable_value(tunable, json_field(user, tunable.name));
    }
  }

  /// Runs after read_pid_type: a multiplier other than 1 needs a persistent one.
  void read_num_sm_multiplier(const Json &user) {
    if (!user.contains("num_sm_multiplier")) return;
    int64_t multiplier = expect_int("num_sm_multiplier", json_field(user, "num_sm_multiplier"));
    check_num_sm_multiplier("num_sm_multiplier", multiplier, config_.pid_type, facts_);
    config_.num_sm_multiplier = multiplier;
  }

  /// A per-loop or per-load list: at most `count` entries (`what` says what
  /// one stands for); the rest keep their defaults.
  static const Json::array_t &padded_list(const std::string &field, const Json &value, size_t count,
                                          const std::string &what) {
    const Json::array_t &items = expect_list(field, value);
    if (items.size() > count)
      invalid(field + ": too many values: expected at most " + std::to_string(count) +
              " (one per " + what + "), got " + std::to_string(items.size()));
    return items;
  }

  static std::optional<bool> expect_optional_bool(const std::string &field, const Json &value) {
    if (value.is_null()) return std::nullopt;
    if (!value.is_boolean())
      invalid(field + ": expected true, false or null (leave it to Triton), got " + show(value));
    return value.get<bool>();
  }

  /// The range_* lists and static_ranges, then the rules that tie them together.
  void read_ranges(const Json &user) {
    const std::string loop =
        "loop: the top-level loop, each dimension of a loop inside it, each range()";
    size_t loops = facts_.loops.size();
    config_.ranges.resize(loops);
    auto read_list = [&](const char *key, auto &&read_entry) {
      if (!user.contains(key)) return;
      const Json::array_t &items = padded_list(key, json_field(user, key), loops, loop);
      for (size_t i = 0; i < items.size(); ++i)
        read_entry(indexed(key, i), items[i], config_.ranges[i]);
    };
    auto read_option = [](const std::string &field, const Json &value) {
      int64_t option = expect_int(field, value);
      check_range_option(field, option);
      return static_cast<int>(option);
    };
    read_list("range_unroll_factors", [&](const std::string &f, const Json &v, RangeChoice &r) {
      r.unroll_factor = read_option(f, v);
    });
    read_list("range_warp_specializes", [&](const std::string &f, const Json &v, RangeChoice &r) {
      r.warp_specialize = expect_optional_bool(f, v);
    });
    read_list("range_num_stages", [&](const std::string &f, const Json &v, RangeChoice &r) {
      r.num_stages = read_option(f, v);
    });
    read_list("range_multi_buffers", [&](const std::string &f, const Json &v, RangeChoice &r) {
      r.multi_buffer = expect_optional_bool(f, v);
    });
    read_list("range_flattens", [&](const std::string &f, const Json &v, RangeChoice &r) {
      r.flatten = expect_optional_bool(f, v);
    });
    size_t statics = static_range_loops(facts_).size();
    config_.static_ranges.resize(statics, false);
    if (user.contains("static_ranges")) {
      const Json::array_t &items = padded_list(
          "static_ranges", json_field(user, "static_ranges"), statics,
          "loop inside the kernel whose bounds are known when compiling, with at most 8 "
          "iterations");
      for (size_t k = 0; k < items.size(); ++k)
        config_.static_ranges[k] = expect_bool(indexed("static_ranges", k), items[k]);
    }
    // Unrolling Triton miscompiles is refused, not settled away unseen.
    check_unrolled_dots(facts_, config_);
    settle_ranges(facts_, config_);
  }

  void read_atomic_indexing(const Json &value) {
    if (value.is_string()) {
      check_atomic_indexing_style("atomic_indexing", value.get_ref<const std::string &>());
      config_.atomic_indexing = {value.get_ref<const std::string &>()};
      return;
    }
    if (!value.is_array())
      invalid("atomic_indexing: expected a string or a list of strings, got " + show(value));
    const Json::array_t &styles = value.get_ref<const Json::array_t &>();
    size_t ops = static_cast<size_t>(facts_.atomic_ops);
    if (!styles.empty() && styles.size() != ops)
      invalid("atomic_indexing: expected one string or a list of " + std::to_string(ops) +
              " (one per hl.atomic_* call), got a list of " + std::to_string(styles.size()));
    std::vector<std::string> chosen;
    for (size_t op = 0; op < styles.size(); ++op) {
      std::string field = indexed("atomic_indexing", op);
      check_atomic_indexing_style(field, expect_string(field, styles[op]));
      chosen.push_back(styles[op].get_ref<const std::string &>());
    }
    bool all_same = std::all_of(chosen.begin(), chosen.end(),
                                [&](const std::string &s) { return s == chosen[0]; });
    if (chosen.empty()) chosen = {"pointer"};
    if (all_same) chosen.resize(1);
    config_.atomic_indexing = chosen;
  }

  void read_eviction_policies(const Json &value) {
    size_t loads = static_cast<size_t>(facts_.policy_loads);
    const Json::array_t &items = padded_list("load_eviction_policies", value, loads,
                                             "load without an explicit eviction_policy");
    config_.load_eviction_policies.assign(loads, "");
    for (size_t i = 0; i < items.size(); ++i) {
      std::string field = indexed("load_eviction_policies", i);
      check_eviction_policy(field, items[i]);
      config_.load_eviction_policies[i] = items[i].get_ref<const std::string &>();
    }
  }

  /// Runs after pid_type and num_warps: it needs a persistent pid type, and
  /// the warps' threads share the registers.
  void read_maxnreg(const Json &value) {
    if (value.is_null()) {
      config_.maxnreg = std::nullopt;
      return;
    }
    int64_t registers = expect_int("maxnreg", value);
    check_maxnreg("maxnreg", registers);
    config_.maxnreg = static_cast<int>(registers);
    check_maxnreg_pid_type("maxnreg", config_.maxnreg, config_.pid_type);
    config_.maxnreg = cap_maxnreg(*config_.maxnreg, config_.num_warps);
  }

  const KernelFacts &facts_;
  Config &config_;
  std::vector<size_t> tunable_;
  std::vector<size_t> multi_dim_;
};

} // namespace

Config ConfigSpec::normalize(const Json &user_config) const {
  if (!user_config.is_object())
    invalid("config: expected a JSON object of config fields, got " + show(user_config));
  check_keys(user_config, facts_);
  Config config = default_config();
  Normalizer(facts_, config).read(user_config);
  validate(config);
  return config;
}

} // namespace helion
