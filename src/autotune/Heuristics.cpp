#include "autotune/Heuristics.h"

#include "config/ConfigRules.h"
#include "support/Diagnostics.h"

#include <algorithm>
#include <optional>

namespace helion::autotune {

static constexpr int64_t kMatmulOperandBytes = 2;
static constexpr int64_t kMaxAccumulatorRegisters = 256;
/// A persistent reduction keeps rows * row elements live per program.
static constexpr int64_t kMaxPersistentElements = int64_t(1) << 14;

static int64_t next_power_of_two(int64_t value) {
  int64_t out = 1;
  while (out < value)
    out <<= 1;
  return out;
}

static int64_t product(const std::vector<int64_t> &values) {
  int64_t out = 1;
  for (int64_t value : values)
    out *= value;
  return out;
}

namespace {

/// Builds seed configs in the user's spelling over the default config, with
/// every block clamped into the range the space searches.
class SeedBuilder {
public:
  SeedBuilder(const ConfigSpace &space, const DeviceInfo &device)
      : space_(space), device_(device), ranges_(space.spec().tunable_call_ranges()) {}

  /// The tunable tile calls: (call index, dims, is grid).
  struct Call {
    size_t call;
    size_t tunable_index;
    size_t dims;
    bool grid;
    bool flattenable;
  };

  std::vector<Call> calls() const {
    std::vector<Call> out;
    for (size_t k = 0; k < ranges_.size(); ++k)
      out.push_back(
          {ranges_[k].call, k, ranges_[k].dims(), ranges_[k].grid, ranges_[k].flat.has_value()});
    return out;
  }

  Json start() const { return space_.spec().to_json(space_.default_config()); }

  /// Sets the blocks of a tunable call, clamped per dimension; fixed
  /// dimensions keep their size.
  Json clamp_blocks(const Call &call, const std::vector<int64_t> &blocks) const {
    const TunableCallRange &range = ranges_[call.tunable_index];
    Json out = Json::array();
    for (size_t dim = 0; dim < call.dims; ++dim) {
      if (range.fixed[dim]) {
        out.push_back(Json(*range.fixed[dim]));
        continue;
      }
      int64_t block = dim < blocks.size() ? blocks[dim] : 1;
      out.push_back(Json(std::clamp(block, range.blocks[dim].min, range.blocks[dim].max)));
    }
    return out;
  }

  Json clamp_flat(const Call &call, int64_t block) const {
    const TunableCallRange::Range &flat = *ranges_[call.tunable_index].flat;
    return Json(std::clamp(block, flat.min, flat.max));
  }

  static void set_entry(Json &config, const char *field, size_t index, Json value) {
    config.at(field).at(index) = std::move(value);
  }

  void set_blocks(Json &config, const Call &call, const std::vector<int64_t> &blocks) const {
    set_entry(config, "block_sizes", call.tunable_index, clamp_blocks(call, blocks));
  }

  void set_flat(Json &config, const Call &call, int64_t block) const {
    set_entry(config, "block_sizes", call.tunable_index, clamp_flat(call, block));
  }

  /// `order` for the call's loop_orders entry (only multi-dimensional calls have one).
  void set_loop_order(Json &config, const Call &call, const std::vector<int64_t> &order) const {
    size_t index = 0;
    for (const Call &other : calls()) {
      if (other.call == call.call) break;
      if (other.dims >= 2) ++index;
    }
    Json entry = Json::array();
    for (int64_t dim : order)
      entry.push_back(Json(dim));
    set_entry(config, "loop_orders", index, std::move(entry));
  }

  std::string indexing() const {
    return device_.supports_tensor_descriptor ? "tensor_descriptor" : "block_ptr";
  }

  /// Keeps `config` when it is legal, new and fits the device.
  void add(const Json &config) {
    Config normalized;
    try {
      normalized = space_.apply_overrides(space_.spec().normalize(config));
    } catch (const UserError &) {
      return;
    }
    if (!prune_reason(space_.spec(), normalized, device_).empty()) return;
    std::string key = space_.key(normalized);
    if (std::find(keys_.begin(), keys_.end(), key) != keys_.end()) return;
    keys_.push_back(key);
    seeds_.push_back(std::move(normalized));
  }

  std::vector<Config> take() { return std::move(seeds_); }

private:
  const ConfigSpace &space_;
  const DeviceInfo &device_;
  std::vector<TunableCallRange> ranges_;
  std::vector<std::string> keys_;
  std::vector<Config> seeds_;
};

struct MatmulTiling {
  int64_t m, n, k;
  int warps, stages;
  bool persistent = false;
};

} // namespace

static bool feeds_matmul(const TileCallFacts &call, size_t dim) {
  return dim < call.feeds_matmul.size() && call.feeds_matmul[dim];
}

/// A grid call's blocks for a matmul tiling: the dims that feed the matmul
/// take its M and then N, the others (batch, heads) take 1.
static std::vector<int64_t> matmul_grid_blocks(const TileCallFacts &call,
                                               const MatmulTiling &tiling) {
  std::vector<int64_t> blocks(call.size_hints.size(), 1);
  const int64_t sizes[] = {tiling.m, tiling.n};
  size_t used = 0;
  for (size_t dim = 0; dim < blocks.size() && used < 2; ++dim)
    if (feeds_matmul(call, dim)) blocks[dim] = sizes[used++];
  return blocks;
}

/// The dims that feed the matmul vary fastest, the batch dims slowest:
/// programs next to each other then share operands in L2, and l2_grouping
/// (over the first two) swizzles M and N.
static std::vector<int64_t> matmul_loop_order(const TileCallFacts &call) {
  std::vector<int64_t> order;
  for (bool matmul_first : {true, false})
    for (size_t dim = 0; dim < call.size_hints.size(); ++dim)
      if (feeds_matmul(call, dim) == matmul_first) order.push_back(static_cast<int64_t>(dim));
  return order;
}

/// Whether a grid call tiles both M and N of a matmul (a GEMM's shape; in
/// attention the grid tiles only the queries).
static bool tiles_m_and_n(const KernelFacts &facts) {
  for (const TileCallFacts &call : facts.tiles) {
    if (!call.is_grid) continue;
    size_t dims = 0;
    for (size_t dim = 0; dim < call.size_hints.size(); ++dim)
      dims += feeds_matmul(call, dim);
    if (dims >= 2) return true;
  }
  return false;
}

/// A range_* list that is true for the entries of top-level loops (the
/// persistent programs' tile loops) and unset for the others.
static Json top_level_flags(const KernelFacts &facts) {
  Json flags = Json::array();
  for (const LoopFacts &loop : facts.loops)
    flags.push_back(loop.top_level ? Json(true) : Json());
  return flags;
}

static void matmul_seeds(SeedBuilder &builder, const KernelFacts &facts) {
  // Tilings that win most often for 16-bit GEMMs on Hopper, best first.
  // Persistent ones run a program per SM that loads and stores through tensor
  // descriptors and flattens its tile loop into the K loop, so that one
  // tile's epilogue overlaps the next tile's loads: on an H100 the first beat
  // every other config on bmm at 64x512^3 and 8x2048^3.
  static const MatmulTiling tilings[] = {
      {128, 256, 64, 8, 3, true}, {128, 128, 64, 8, 3}, {128, 256, 64, 8, 3},
      {128, 128, 64, 4, 4},       {128, 128, 64, 8, 4, true}, {256, 128, 64, 8, 3, true},
      {64, 128, 64, 4, 4},        {64, 256, 64, 8, 3},  {128, 128, 32, 4, 4},
      {128, 256, 32, 8, 4},       {64, 128, 32, 4, 4},  {64, 256, 32, 4, 4},
      {256, 128, 64, 8, 3},       {128, 64, 64, 4, 4},  {128, 128, 64, 8, 4},
      {64, 128, 64, 4, 3},        {128, 64, 32, 4, 4},  {64, 64, 64, 4, 3},
      {64, 64, 32, 4, 4},
  };
  auto calls = builder.calls();
  bool persistent = builder.indexing() == "tensor_descriptor" && tiles_m_and_n(facts);
  for (const MatmulTiling &tiling : tilings) {
    if (tiling.persistent && !persistent) continue;
    Json config = builder.start();
    for (const auto &call : calls) {
      if (call.grid) {
        const TileCallFacts &tile = facts.tiles.at(call.call);
        builder.set_blocks(config, call, matmul_grid_blocks(tile, tiling));
        if (call.dims >= 2) builder.set_loop_order(config, call, matmul_loop_order(tile));
      } else {
        builder.set_blocks(config, call, std::vector<int64_t>(call.dims, tiling.k));
      }
    }
    config["l2_grouping"] = Json(8);
    config["indexing"] = Json(builder.indexing());
    config["num_warps"] = Json(tiling.warps);
    config["num_stages"] = Json(tiling.stages);
    if (tiling.persistent) {
      config["pid_type"] = Json("persistent_interleaved");
      config["range_flattens"] = top_level_flags(facts);
    }
    builder.add(config);
  }
}

static int warps_for_row(int64_t row) {
  if (row <= 1024) return 4;
  if (row <= 4096) return 8;
  return 16;
}

static void reduction_seeds(SeedBuilder &builder, const KernelFacts &facts) {
  int64_t row = 1;
  for (const auto &reduction : facts.reductions)
    row = std::max(row, next_power_of_two(reduction.size_hint));
  auto calls = builder.calls();
  auto with_rows = [&](int64_t rows) {
    Json config = builder.start();
    for (const auto &call : calls) {
      if (!call.grid) continue;
      std::vector<int64_t> blocks(call.dims, 1);
      blocks[call.dims - 1] = rows;
      builder.set_blocks(config, call, blocks);
    }
    return config;
  };
  auto loops = [&](std::optional<int64_t> block) {
    Json out = Json::array();
    for (const auto &reduction : facts.reductions) {
      int64_t extent = next_power_of_two(reduction.size_hint);
      if (!block || *block >= extent)
        out.push_back(Json());
      else
        out.push_back(Json(*block));
    }
    return out;
  };
  for (int64_t rows : {1, 2, 4}) {
    if (row * rows <= kMaxPersistentElements) {
      int warps = warps_for_row(row);
      for (int w : {warps, std::min(warps * 2, 32)}) {
        Json config = with_rows(rows);
        config["reduction_loops"] = loops(std::nullopt);
        config["num_warps"] = Json(w);
        config["num_stages"] = Json(1);
        builder.add(config);
      }
      continue;
    }
    for (int64_t block : {int64_t(4096), int64_t(2048), int64_t(1024)}) {
      Json config = with_rows(rows);
      config["reduction_loops"] = loops(block);
      config["num_warps"] = Json(warps_for_row(block));
      config["num_stages"] = Json(2);
      builder.add(config);
    }
  }
}

static void elementwise_seeds(SeedBuilder &builder) {
  auto calls = builder.calls();
  auto each_grid = [&](auto &&fill) {
    Json config = builder.start();
    for (const auto &call : calls)
      if (call.grid) fill(config, call);
    return config;
  };
  for (int64_t total : {int64_t(1024), int64_t(2048), int64_t(4096)}) {
    for (int warps : {4, 8}) {
      // Blocks of `total` elements, the innermost dimension widest.
      for (int64_t inner : {int64_t(1024), int64_t(512), int64_t(256), int64_t(128)}) {
        for (bool contiguous_fastest : {true, false}) {
          Json config = each_grid([&](Json &config, const SeedBuilder::Call &call) {
            std::vector<int64_t> blocks(call.dims, 1);
            if (call.dims == 1) {
              blocks[0] = total;
            } else {
              blocks[call.dims - 1] = std::min(inner, total);
              blocks[call.dims - 2] = std::max<int64_t>(1, total / inner);
              std::vector<int64_t> order;
              for (size_t dim = 0; dim < call.dims; ++dim)
                order.push_back(contiguous_fastest ? int64_t(call.dims - 1 - dim) : int64_t(dim));
              builder.set_loop_order(config, call, order);
            }
            builder.set_blocks(config, call, blocks);
          });
          config["num_warps"] = Json(warps);
          builder.add(config);
        }
      }
      Json flat = each_grid([&](Json &config, const SeedBuilder::Call &call) {
        if (call.flattenable) builder.set_flat(config, call, total);
      });
      flat["num_warps"] = Json(warps);
      builder.add(flat);
    }
  }
}

std::vector<Config> heuristic_seeds(const ConfigSpace &space, const DeviceInfo &device) {
  SeedBuilder builder(space, device);
  const KernelFacts &facts = space.spec().facts();
  if (facts.has_matmul)
    matmul_seeds(builder, facts);
  else if (!facts.reductions.empty())
    reduction_seeds(builder, facts);
  else
    elementwise_seeds(builder);
  return builder.take();
}

/// Elements of one program's grid block: the largest over grid tile calls.
static int64_t grid_block_elements(const ConfigSpec &spec, const Config &config) {
  int64_t elements = 1;
  const auto &tiles = spec.facts().tiles;
  for (size_t i = 0; i < tiles.size() && i < config.tiles.size(); ++i) {
    if (!tiles[i].is_grid) continue;
    const TileChoice &tile = config.tiles[i];
    elements = std::max(elements, tile.flatten ? tile.flat_block_size : product(tile.block_sizes));
  }
  return elements;
}

/// The extent of every dimension a dot consumes whole (a full slice like
/// attention's head dimension), multiplied; 1 when there is none.
static int64_t whole_dot_dimensions(const KernelFacts &facts) {
  int64_t out = 1;
  for (const auto &reduction : facts.reductions)
    if (reduction.persistent_only) out *= next_power_of_two(reduction.size_hint);
  return out;
}

int64_t matmul_shared_memory_bytes(const ConfigSpec &spec, const Config &config) {
  const KernelFacts &facts = spec.facts();
  if (!facts.has_matmul) return 0;
  const std::vector<int64_t> *grid = nullptr;
  int64_t k = 0;
  for (size_t i = 0; i < facts.tiles.size() && i < config.tiles.size(); ++i) {
    const TileChoice &tile = config.tiles[i];
    if (tile.flatten || tile.block_sizes.empty()) continue;
    if (facts.tiles[i].is_grid && !grid)
      grid = &tile.block_sizes;
    else if (!facts.tiles[i].is_grid && k == 0)
      k = tile.block_sizes.back();
  }
  if (!grid) return 0;
  int64_t stages = std::max(1, config.num_stages);
  int64_t whole = whole_dot_dimensions(facts);
  if (whole > 1 && k > 0) {
    // Attention's shape: the loop loads operands of (leading grid blocks x
    // loop block x whole dimension), K and V, kept stages - 1 deep (one buffer
    // for both with one stage), beside the grid's own operand (Q) loaded once.
    // Matches Triton 3.6's counts on an H100 to the barrier's bytes.
    int64_t rows = grid->back();
    int64_t batch = product(*grid) / std::max<int64_t>(1, rows);
    int64_t loop_operands = std::clamp<int64_t>(facts.memory_ops - 2, 1, 2);
    int64_t buffers = stages >= 2 ? (stages - 1) * loop_operands : 1;
    return (buffers * batch * k * whole + batch * rows * whole) * kMatmulOperandBytes;
  }
  // A matmul's operand tiles, BM x BK and BK x BN, kept `stages` deep (Triton 3.6's count).
  if (grid->size() < 2) return 0;
  int64_t m = (*grid)[grid->size() - 2], n = grid->back();
  int64_t bytes = stages * (m * k + k * n) * kMatmulOperandBytes;
  // A persistent program that stores through a tensor descriptor stages its
  // BM x BN result in shared memory beside the pipelined operands (a
  // one-shot program reuses theirs): 262176 bytes required for 128x256x64 in
  // 4 stages on an H100, where the operands alone take 196608.
  bool descriptor = std::find(config.indexing.begin(), config.indexing.end(),
                              "tensor_descriptor") != config.indexing.end();
  if (config_rules::is_persistent(config.pid_type) && descriptor)
    bytes += m * n * kMatmulOperandBytes;
  return bytes;
}

int64_t accumulator_registers(const ConfigSpec &spec, const Config &config) {
  int64_t elements = grid_block_elements(spec, config);
  int64_t row = 1;
  const auto &reductions = spec.facts().reductions;
  for (size_t r = 0; r < reductions.size() && r < config.reduction_loops.size(); ++r)
    row = std::max(row,
                   config.reduction_loops[r].value_or(next_power_of_two(reductions[r].size_hint)));
  return elements * row / (32 * int64_t(std::max(1, config.num_warps)));
}

std::string prune_reason(const ConfigSpec &spec, const Config &config, const DeviceInfo &device) {
  int64_t shared = matmul_shared_memory_bytes(spec, config);
  if (shared > device.shared_memory_per_block)
    return "pruned: needs " + std::to_string(shared) + " bytes of shared memory";
  int64_t registers = accumulator_registers(spec, config);
  if (registers > kMaxAccumulatorRegisters)
    return "pruned: needs " + std::to_string(registers) + " registers per thread";
  return "";
}

} // namespace helion::autotune
