#include "autotune/ConfigSpace.h"

#include "config/ConfigRules.h"

#include "support/Diagnostics.h"

#include <algorithm>
#include <numeric>

namespace helion::autotune {

/// Loop orders of more dimensions than this stay as the default gives them:
/// the permutation count would swamp every other gene.
static constexpr size_t kMaxLoopOrderDims = 6;
static constexpr int kMaxLog2L2Grouping = 6;
static constexpr int kMaxLog2NumWarps = 5;
static constexpr int kMaxNumStages = 8;
static constexpr int kMaxLog2NumSmMultiplier = 7;

static int floor_log2(int64_t value) {
  int log = 0;
  while (value > 1) {
    value >>= 1;
    ++log;
  }
  return log;
}

static int64_t factorial(size_t n) {
  int64_t out = 1;
  for (size_t i = 2; i <= n; ++i)
    out *= static_cast<int64_t>(i);
  return out;
}

std::vector<int> permutation_from_index(size_t dims, int64_t index) {
  std::vector<int> pool(dims);
  std::iota(pool.begin(), pool.end(), 0);
  std::vector<int> order;
  for (size_t left = dims; left > 0; --left) {
    int64_t block = factorial(left - 1);
    size_t pick = static_cast<size_t>(index / block);
    index %= block;
    order.push_back(pool[pick]);
    pool.erase(pool.begin() + pick);
  }
  return order;
}

int64_t permutation_index(const std::vector<int> &order) {
  int64_t index = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    int64_t smaller_later = 0;
    for (size_t j = i + 1; j < order.size(); ++j)
      if (order[j] < order[i]) ++smaller_later;
    index += smaller_later * factorial(order.size() - 1 - i);
  }
  return index;
}

static std::string indexed(const std::string &field, size_t index) {
  return field + "[" + std::to_string(index) + "]";
}

/// A user tunable's value as its gene holds it; a value the search does not
/// draw (an enum choice outside search_choices) reads as the first it does.
static int tunable_gene_value(const Fragment &fragment, const Json &value) {
  Json::array_t categories = fragment.categories();
  if (categories.empty())
    return fragment.kind == Fragment::Kind::PowerOfTwo ? floor_log2(json_int(value))
                                                       : static_cast<int>(json_int(value));
  for (size_t i = 0; i < categories.size(); ++i)
    if (json_same(categories[i], value)) return static_cast<int>(i);
  return 0;
}

static Json tunable_from_gene(const Fragment &fragment, int value) {
  Json::array_t categories = fragment.categories();
  if (!categories.empty()) return categories[static_cast<size_t>(value)];
  if (fragment.kind == Fragment::Kind::PowerOfTwo) return Json(int64_t(1) << value);
  return Json(static_cast<int64_t>(value));
}

ConfigSpace::ConfigSpace(const ConfigSpec &spec, Json overrides, bool allow_tensor_descriptor,
                         bool allow_warp_specialize, bool allow_maxnreg)
    : spec_(spec), overrides_(std::move(overrides)),
      allow_tensor_descriptor_(allow_tensor_descriptor),
      allow_warp_specialize_(allow_warp_specialize), allow_maxnreg_(allow_maxnreg),
      base_(spec.default_config()) {
  if (!overrides_.is_object()) overrides_ = Json::object();
  styles_ = config_rules::indexing_styles();

  size_t tunable_index = 0;
  for (const TunableCallRange &range : spec_.tunable_call_ranges()) {
    size_t call = range.call;
    size_t dims = range.dims();
    std::string field = indexed("block_sizes", tunable_index++);
    for (size_t dim = 0; dim < dims; ++dim) {
      if (range.fixed[dim]) continue;
      add_gene(Gene::Kind::Block, call, dim, floor_log2(range.blocks[dim].min),
               floor_log2(range.blocks[dim].max), false, indexed(field, dim));
    }
    if (range.flat) {
      add_gene(Gene::Kind::Flatten, call, 0, 0, 1, true, "flatten " + field);
      add_gene(Gene::Kind::FlatBlock, call, 0, floor_log2(range.flat->min),
               floor_log2(range.flat->max), false, field);
    }
    if (dims >= 2 && dims <= kMaxLoopOrderDims)
      add_gene(Gene::Kind::LoopOrder, call, dims, 0, static_cast<int>(factorial(dims) - 1), true,
               "loop order of " + field);
  }

  std::vector<ReductionRange> reductions = spec_.reduction_ranges();
  for (size_t r = 0; r < reductions.size(); ++r) {
    int64_t extent = reductions[r].persistent_block;
    reduction_extents_.push_back(extent);
    if (extent >= 2 && !reductions[r].persistent_only)
      add_gene(Gene::Kind::Reduction, r, 0, 0, floor_log2(extent), false,
               indexed("reduction_loops", r));
  }

  add_gene(Gene::Kind::L2Grouping, 0, 0, 0, kMaxLog2L2Grouping, false, "l2_grouping");
  int styles = static_cast<int>(styles_.size()) - (allow_tensor_descriptor_ ? 1 : 2);
  size_t ops = std::max<size_t>(1, static_cast<size_t>(spec_.facts().memory_ops));
  for (size_t op = 0; op < ops; ++op)
    add_gene(Gene::Kind::Indexing, op, 0, 0, styles, true,
             ops == 1 ? "indexing" : indexed("indexing", op));

  size_t grid_calls = 0;
  bool multi_dim_grid = false;
  for (const auto &call : spec_.facts().tiles) {
    grid_calls += call.is_grid ? 1 : 0;
    if (call.is_grid && call.size_hints.size() >= 2) multi_dim_grid = true;
  }
  // xyz maps one multi-dimensional top-level loop onto the launch axes.
  for (const std::string &type : config_rules::kernel_pid_types(spec_.facts()))
    if (type != "xyz" || (multi_dim_grid && grid_calls == 1)) pid_types_.push_back(type);
  add_gene(Gene::Kind::PidType, 0, 0, 0, static_cast<int>(pid_types_.size()) - 1, true,
           "pid_type");
  // A barrier's cooperative launch needs one program per SM (see check_num_sm_multiplier).
  if (has_persistent_pid_type() && !spec_.facts().barrier.valid())
    add_gene(Gene::Kind::NumSmMultiplier, 0, 0, 0, kMaxLog2NumSmMultiplier, false,
             "num_sm_multiplier");
  add_gene(Gene::Kind::NumWarps, 0, 0, 0, kMaxLog2NumWarps, false, "num_warps");
  add_gene(Gene::Kind::NumStages, 0, 0, 1, kMaxNumStages, false, "num_stages");
  add_loop_genes();
  const auto &tunables = spec_.facts().tunables;
  for (size_t i = 0; i < tunables.size(); ++i) {
    const Fragment &fragment = tunables[i].fragment;
    Json::array_t categories = fragment.categories();
    if (!categories.empty())
      add_gene(Gene::Kind::Tunable, i, 0, 0, static_cast<int>(categories.size()) - 1, true,
               tunables[i].name);
    else if (fragment.kind == Fragment::Kind::PowerOfTwo)
      add_gene(Gene::Kind::Tunable, i, 0, floor_log2(fragment.low), floor_log2(fragment.high),
               false, tunables[i].name);
    else
      add_gene(Gene::Kind::Tunable, i, 0, static_cast<int>(fragment.low),
               static_cast<int>(fragment.high), false, tunables[i].name);
  }

  // Invalid overrides are the user's mistake: let normalize say so.
  default_ = spec_.normalize(overrides_);
  default_ = apply_overrides(base_);
}

bool ConfigSpace::has_persistent_pid_type() const {
  return std::any_of(pid_types_.begin(), pid_types_.end(), config_rules::is_persistent);
}

void ConfigSpace::add_gene(Gene::Kind kind, size_t index, size_t dim, int low, int high,
                           bool categorical, std::string name) {
  Gene gene;
  gene.kind = kind;
  gene.index = index;
  gene.dim = dim;
  gene.low = low;
  gene.high = std::max(low, high);
  gene.categorical = categorical;
  gene.name = std::move(name);
  genes_.push_back(std::move(gene));
}

/// Per-dimension log2 blocks summing to `total`, filled from the innermost
/// dimension: what a flattened block of 2^total would look like unflattened.
static std::vector<int> spread_flat_block(const std::vector<const Gene *> &dim_genes, int total) {
  std::vector<int> values;
  int remaining = total;
  for (const Gene *gene : dim_genes) {
    values.push_back(gene->low);
    remaining -= gene->low;
  }
  for (size_t i = dim_genes.size(); i-- > 0;) {
    int add = std::clamp(remaining, 0, dim_genes[i]->high - dim_genes[i]->low);
    values[i] += add;
    remaining -= add;
  }
  return values;
}

std::vector<int> ConfigSpace::gene_values(const Config &config) const {
  std::vector<int> values(genes_.size());
  for (size_t g = 0; g < genes_.size(); ++g) {
    const Gene &gene = genes_[g];
    int value = gene.low;
    switch (gene.kind) {
    case Gene::Kind::Block: {
      const TileChoice &tile = config.tiles[gene.index];
      if (!tile.flatten) value = floor_log2(tile.block_sizes[gene.dim]);
      break; // flattened: filled in below from the flat block
    }
    case Gene::Kind::Flatten:
      value = config.tiles[gene.index].flatten ? 1 : 0;
      break;
    case Gene::Kind::FlatBlock: {
      const TileChoice &tile = config.tiles[gene.index];
      if (tile.flatten) {
        value = floor_log2(tile.flat_block_size);
      } else {
        value = 0;
        for (int64_t block : tile.block_sizes)
          value += floor_log2(block);
      }
      break;
    }
    case Gene::Kind::LoopOrder:
      value = static_cast<int>(permutation_index(config.tiles[gene.index].loop_order));
      break;
    case Gene::Kind::Reduction: {
      const auto &loop = config.reduction_loops[gene.index];
      value = loop ? std::min(floor_log2(*loop), gene.high - 1) : gene.high;
      break;
    }
    case Gene::Kind::L2Grouping:
      value = floor_log2(config.l2_grouping);
      break;
    case Gene::Kind::Indexing: {
      const std::string &style = config.indexing_for(config.indexing.size() == 1 ? 0 : gene.index);
      auto found = std::find(styles_.begin(), styles_.end(), style);
      value = found == styles_.end() ? 0 : static_cast<int>(found - styles_.begin());
      break;
    }
    case Gene::Kind::PidType: {
      auto found = std::find(pid_types_.begin(), pid_types_.end(), config.pid_type);
      value = found == pid_types_.end() ? 0 : static_cast<int>(found - pid_types_.begin());
      break;
    }
    case Gene::Kind::NumSmMultiplier:
      value = floor_log2(config.num_sm_multiplier);
      break;
    case Gene::Kind::NumWarps:
      value = floor_log2(config.num_warps);
      break;
    case Gene::Kind::NumStages:
      value = config.num_stages;
      break;
    case Gene::Kind::Tunable:
      value = tunable_gene_value(spec_.facts().tunables[gene.index].fragment,
                                 config.tunables[gene.index]);
      break;
    default:
      value = loop_gene_value(gene, config);
      break;
    }
    values[g] = std::clamp(value, gene.low, gene.high);
  }

  // Flattened tiles: derive the per-dimension genes from the flat block.
  for (size_t g = 0; g < genes_.size(); ++g) {
    if (genes_[g].kind != Gene::Kind::FlatBlock || !config.tiles[genes_[g].index].flatten) continue;
    std::vector<size_t> dims;
    std::vector<const Gene *> dim_genes;
    for (size_t d = 0; d < genes_.size(); ++d)
      if (genes_[d].kind == Gene::Kind::Block && genes_[d].index == genes_[g].index) {
        dims.push_back(d);
        dim_genes.push_back(&genes_[d]);
      }
    std::vector<int> spread = spread_flat_block(dim_genes, values[g]);
    for (size_t i = 0; i < dims.size(); ++i)
      values[dims[i]] = spread[i];
  }
  return values;
}

Config ConfigSpace::decode(const std::vector<int> &values) const {
  check_internal(values.size() == genes_.size(), "decode: wrong number of genes");
  Config config = base_;
  std::vector<std::string> indexing, atomic_indexing;
  for (size_t g = 0; g < genes_.size(); ++g) {
    const Gene &gene = genes_[g];
    int value = std::clamp(values[g], gene.low, gene.high);
    switch (gene.kind) {
    case Gene::Kind::Block:
      config.tiles[gene.index].block_sizes[gene.dim] = int64_t(1) << value;
      break;
    case Gene::Kind::Flatten:
      config.tiles[gene.index].flatten = value != 0;
      break;
    case Gene::Kind::FlatBlock:
      config.tiles[gene.index].flat_block_size = int64_t(1) << value;
      break;
    case Gene::Kind::LoopOrder:
      config.tiles[gene.index].loop_order =
          permutation_from_index(config.tiles[gene.index].loop_order.size(), value);
      break;
    case Gene::Kind::Reduction:
      if (value == gene.high)
        config.reduction_loops[gene.index] = std::nullopt;
      else
        config.reduction_loops[gene.index] = int64_t(1) << value;
      break;
    case Gene::Kind::L2Grouping:
      config.l2_grouping = int64_t(1) << value;
      break;
    case Gene::Kind::Indexing:
      indexing.push_back(styles_[value]);
      break;
    case Gene::Kind::PidType:
      config.pid_type = pid_types_[value];
      break;
    case Gene::Kind::NumSmMultiplier:
      config.num_sm_multiplier = int64_t(1) << value;
      break;
    case Gene::Kind::NumWarps:
      config.num_warps = 1 << value;
      break;
    case Gene::Kind::NumStages:
      config.num_stages = value;
      break;
    case Gene::Kind::Tunable:
      config.tunables[gene.index] =
          tunable_from_gene(spec_.facts().tunables[gene.index].fragment, value);
      break;
    default:
      decode_loop_gene(gene, value, config, atomic_indexing);
      break;
    }
  }
  for (TileChoice &tile : config.tiles) {
    if (tile.flatten)
      tile.block_sizes.clear();
    else
      tile.flat_block_size = 0;
  }
  spec_.fit_block_limit(config);
  bool all_same = std::all_of(indexing.begin(), indexing.end(),
                              [&](const std::string &style) { return style == indexing[0]; });
  if (all_same) indexing.resize(1);
  config.indexing = indexing;
  if (config.pid_type == "xyz" && !config_rules::allows_xyz(spec_.facts(), config)) config.pid_type = "flat";
  if (!atomic_indexing.empty()) config.atomic_indexing = std::move(atomic_indexing);
  spec_.settle_loop_fields(config);
  return apply_overrides(config);
}

void ConfigSpace::add_loop_genes() {
  const KernelFacts &facts = spec_.facts();
  int option_max = static_cast<int>(config_rules::kMaxRangeOption);
  eviction_policies_ = config_rules::eviction_policies();
  maxnreg_choices_ = config_rules::maxnreg_choices();
  atomic_styles_ = config_rules::atomic_indexing_styles();
  // Top-level range entries and maxnreg count only for persistent pid
  // types: without those in the space they have no genes.
  bool persistent = has_persistent_pid_type();
  for (size_t i = 0; i < facts.loops.size(); ++i) {
    if (facts.loops[i].top_level && !persistent) continue;
    add_gene(Gene::Kind::RangeUnroll, i, 0, 0, option_max, false,
             indexed("range_unroll_factors", i));
    if (allow_warp_specialize_)
      add_gene(Gene::Kind::RangeWarpSpecialize, i, 0, 0, 2, true,
               indexed("range_warp_specializes", i));
    add_gene(Gene::Kind::RangeNumStages, i, 0, 0, option_max, false,
             indexed("range_num_stages", i));
    add_gene(Gene::Kind::RangeMultiBuffer, i, 0, 0, 2, true, indexed("range_multi_buffers", i));
    add_gene(Gene::Kind::RangeFlatten, i, 0, 0, 2, true, indexed("range_flattens", i));
  }
  size_t statics = config_rules::static_range_loops(facts).size();
  for (size_t k = 0; k < statics; ++k)
    add_gene(Gene::Kind::StaticRange, k, 0, 0, 1, true, indexed("static_ranges", k));
  if (allow_tensor_descriptor_)
    for (int op = 0; op < facts.atomic_ops; ++op)
      add_gene(Gene::Kind::AtomicIndexing, static_cast<size_t>(op), 0, 0, 1, true,
               facts.atomic_ops == 1 ? "atomic_indexing" : indexed("atomic_indexing", op));
  int policies = static_cast<int>(eviction_policies_.size()) - 1;
  for (int load = 0; load < facts.policy_loads; ++load)
    add_gene(Gene::Kind::EvictionPolicy, static_cast<size_t>(load), 0, 0, policies, true,
             indexed("load_eviction_policies", load));
  // A persistent pid type's program may trade registers for occupancy;
  // decode drops maxnreg for the other pid types.
  if (allow_maxnreg_ && persistent)
    add_gene(Gene::Kind::Maxnreg, 0, 0, 0, static_cast<int>(maxnreg_choices_.size()), false,
             "maxnreg");
}

static int optional_bool_gene(const std::optional<bool> &value) {
  return value ? (*value ? 2 : 1) : 0;
}

static std::optional<bool> optional_bool_of_gene(int value) {
  return value == 0 ? std::nullopt : std::optional<bool>(value == 2);
}

template <typename T> static int index_in(const std::vector<T> &values, const T &value) {
  auto found = std::find(values.begin(), values.end(), value);
  return found == values.end() ? 0 : static_cast<int>(found - values.begin());
}

int ConfigSpace::loop_gene_value(const Gene &gene, const Config &config) const {
  auto range = [&]() -> const RangeChoice & { return config.ranges.at(gene.index); };
  switch (gene.kind) {
  case Gene::Kind::RangeUnroll:
    return range().unroll_factor;
  case Gene::Kind::RangeWarpSpecialize:
    return optional_bool_gene(range().warp_specialize);
  case Gene::Kind::RangeNumStages:
    return range().num_stages;
  case Gene::Kind::RangeMultiBuffer:
    return optional_bool_gene(range().multi_buffer);
  case Gene::Kind::RangeFlatten:
    return optional_bool_gene(range().flatten);
  case Gene::Kind::StaticRange:
    return config.static_ranges.at(gene.index) ? 1 : 0;
  case Gene::Kind::AtomicIndexing:
    return index_in(atomic_styles_, config.atomic_indexing_for(
                                        config.atomic_indexing.size() == 1 ? 0 : gene.index));
  case Gene::Kind::EvictionPolicy:
    return index_in(eviction_policies_, config.load_eviction_policies.at(gene.index));
  case Gene::Kind::Maxnreg:
    return config.maxnreg ? 1 + index_in(maxnreg_choices_, *config.maxnreg) : 0;
  default:
    check_internal(false, "loop_gene_value: not a loop gene");
    return 0;
  }
}

void ConfigSpace::decode_loop_gene(const Gene &gene, int value, Config &config,
                                   std::vector<std::string> &atomic_indexing) const {
  switch (gene.kind) {
  case Gene::Kind::RangeUnroll:
    config.ranges.at(gene.index).unroll_factor = value;
    break;
  case Gene::Kind::RangeWarpSpecialize:
    config.ranges.at(gene.index).warp_specialize = optional_bool_of_gene(value);
    break;
  case Gene::Kind::RangeNumStages:
    config.ranges.at(gene.index).num_stages = value;
    break;
  case Gene::Kind::RangeMultiBuffer:
    config.ranges.at(gene.index).multi_buffer = optional_bool_of_gene(value);
    break;
  case Gene::Kind::RangeFlatten:
    config.ranges.at(gene.index).flatten = optional_bool_of_gene(value);
    break;
  case Gene::Kind::StaticRange:
    config.static_ranges.at(gene.index) = value != 0;
    break;
  case Gene::Kind::AtomicIndexing:
    atomic_indexing.push_back(atomic_styles_.at(value));
    break;
  case Gene::Kind::EvictionPolicy:
    config.load_eviction_policies.at(gene.index) = eviction_policies_.at(value);
    break;
  case Gene::Kind::Maxnreg:
    config.maxnreg = value == 0 ? std::nullopt : std::optional<int>(maxnreg_choices_.at(value - 1));
    break;
  default:
    check_internal(false, "decode_loop_gene: not a loop gene");
  }
}

std::vector<double> ConfigSpace::encode(const Config &config) const {
  std::vector<int> values = gene_values(config);
  return std::vector<double>(values.begin(), values.end());
}

/// Both spellings of one field: an override in one replaces the other.
static const char *other_spelling(const std::string &key) {
  if (key == "pid_type") return "use_yz_grid";
  if (key == "use_yz_grid") return "pid_type";
  if (key == "l2_groupings") return "l2_grouping";
  if (key == "l2_grouping") return "l2_groupings";
  return "";
}

Config ConfigSpace::apply_overrides(const Config &config) const {
  if (overrides_.size() == 0) return config;
  Json merged = Json::object();
  Json fields = spec_.to_json(config);
  for (const auto &[key, value] : fields.get_ref<const Json::object_t &>()) {
    bool replaced = overrides_.contains(key) || overrides_.contains(other_spelling(key));
    if (!replaced) merged[key] = value;
  }
  for (const auto &[key, value] : overrides_.get_ref<const Json::object_t &>())
    merged[key] = value;
  try {
    return spec_.normalize(merged);
  } catch (const UserError &) {
    return default_;
  }
}

Config ConfigSpace::random_config(std::mt19937_64 &rng) const {
  // Through the genes, so that choices the space leaves out (xyz for a 1-D
  // grid, tensor descriptors without support) take their canonical value.
  return decode(gene_values(spec_.random_config(rng)));
}

int ConfigSpace::step(const Gene &gene, int value, std::mt19937_64 &rng) const {
  if (gene.high == gene.low) return value;
  auto uniform = [&](int low, int high) {
    return std::uniform_int_distribution<int>(low, high)(rng);
  };
  if (gene.kind == Gene::Kind::LoopOrder && uniform(0, 1) == 0) {
    std::vector<int> order = permutation_from_index(gene.dim, value);
    size_t at = static_cast<size_t>(uniform(0, static_cast<int>(gene.dim) - 2));
    std::swap(order[at], order[at + 1]);
    return static_cast<int>(permutation_index(order));
  }
  if (gene.categorical) {
    int other = uniform(gene.low, gene.high - 1);
    return other >= value ? other + 1 : other;
  }
  if (gene.kind == Gene::Kind::Reduction && uniform(0, 9) < 3) {
    if (value != gene.high) return gene.high;
    return std::max(gene.low, gene.high - 1 - uniform(0, 2));
  }
  int direction = uniform(0, 1) ? 1 : -1;
  if (value + direction > gene.high || value + direction < gene.low) direction = -direction;
  return value + direction;
}

Config ConfigSpace::mutate(const Config &config, std::mt19937_64 &rng) const {
  std::vector<size_t> mutable_genes;
  for (size_t g = 0; g < genes_.size(); ++g)
    if (genes_[g].high > genes_[g].low) mutable_genes.push_back(g);
  if (mutable_genes.empty()) return config;
  std::string original = key(config);
  std::vector<int> values = gene_values(config);
  std::discrete_distribution<int> how_many({5, 3, 2});
  for (int attempt = 0; attempt < 32; ++attempt) {
    std::vector<int> changed = values;
    size_t count = std::min<size_t>(how_many(rng) + 1, mutable_genes.size());
    std::vector<size_t> picks = mutable_genes;
    std::shuffle(picks.begin(), picks.end(), rng);
    for (size_t i = 0; i < count; ++i)
      changed[picks[i]] = step(genes_[picks[i]], changed[picks[i]], rng);
    Config out = decode(changed);
    if (key(out) != original) return out;
  }
  return config;
}

Config ConfigSpace::crossover(const Config &a, const Config &b, std::mt19937_64 &rng) const {
  std::vector<int> left = gene_values(a), right = gene_values(b);
  std::bernoulli_distribution coin(0.5);
  for (size_t g = 0; g < genes_.size(); ++g)
    if (coin(rng)) left[g] = right[g];
  return decode(left);
}

std::vector<Config> ConfigSpace::neighbors(const Config &config) const {
  std::vector<int> values = gene_values(config);
  std::vector<std::string> seen = {key(config)};
  std::vector<Config> out;
  auto add = [&](size_t g, int value) {
    if (value < genes_[g].low || value > genes_[g].high || value == values[g]) return;
    std::vector<int> changed = values;
    changed[g] = value;
    Config neighbor = decode(changed);
    std::string neighbor_key = key(neighbor);
    if (std::find(seen.begin(), seen.end(), neighbor_key) != seen.end()) return;
    seen.push_back(neighbor_key);
    out.push_back(std::move(neighbor));
  };
  for (size_t g = 0; g < genes_.size(); ++g) {
    const Gene &gene = genes_[g];
    if (gene.kind == Gene::Kind::LoopOrder && gene.high >= 24) {
      for (size_t at = 0; at + 1 < gene.dim; ++at) {
        std::vector<int> order = permutation_from_index(gene.dim, values[g]);
        std::swap(order[at], order[at + 1]);
        add(g, static_cast<int>(permutation_index(order)));
      }
      continue;
    }
    if (gene.categorical) {
      for (int value = gene.low; value <= gene.high; ++value)
        add(g, value);
      continue;
    }
    add(g, values[g] - 1);
    add(g, values[g] + 1);
    if (gene.kind == Gene::Kind::Reduction)
      add(g, values[g] == gene.high ? gene.high - 1 : gene.high);
  }
  return out;
}

double ConfigSpace::gene_distance(const std::vector<int> &a, const std::vector<int> &b) const {
  if (genes_.empty()) return 0;
  double total = 0;
  for (size_t g = 0; g < genes_.size(); ++g) {
    const Gene &gene = genes_[g];
    if (a[g] == b[g] || gene.high == gene.low) continue;
    if (gene.categorical)
      total += 1;
    else
      total += std::abs(a[g] - b[g]) / double(gene.high - gene.low);
  }
  return total / static_cast<double>(genes_.size());
}

double ConfigSpace::distance(const Config &a, const Config &b) const {
  return gene_distance(gene_values(a), gene_values(b));
}

std::string ConfigSpace::key(const Config &config) const {
  return dump_text(spec_.to_json(config));
}

} // namespace helion::autotune
