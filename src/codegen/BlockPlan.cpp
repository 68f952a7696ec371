#include "codegen/BlockPlan.h"

#include "codegen/DeviceContext.h"
#include "ir/BlockSizes.h"
#include "ir/LoopEntries.h"
#include "support/Diagnostics.h"

#include <algorithm>
#include <set>

namespace helion::codegen {

using ir::BlockInfo;
using ir::Dim;

namespace {

int64_t next_power_of_two(int64_t n) {
  int64_t p = 1;
  while (p < n)
    p <<= 1;
  return p;
}

/// `m[None, :, None]`: `m` broadcast to position `axis` of rank `rank`.
Expr on_axis(Expr m, int axis, int rank) {
  std::vector<Expr> index;
  for (int i = 0; i < rank; ++i)
    index.push_back(i == axis ? full_slice() : name("None"));
  return subscript(std::move(m), std::move(index));
}

} // namespace

BlockPlans::BlockPlans(const ir::DeviceKernel &kernel, const Config &config,
                       const ModuleNames &module, DeviceNames &names)
    : k_(kernel), config_(config) {
  plans_.resize(k_.blocks.size());
  for (size_t b = 0; b < k_.blocks.size(); ++b)
    plan_block(static_cast<int>(b), module, names);
  name_blocks(names);
  index_loop_entries();
}

void BlockPlans::plan_block(int b, const ModuleNames &module, DeviceNames &names) {
  const BlockInfo &info = k_.blocks[b];
  BlockPlan &plan = plans_[b];
  SymInt extent = info.extent();
  auto extent_value = sym_constant(extent);
  if (std::optional<ir::TileBlockSize> tile = ir::tile_block_size(k_, config_, b)) {
    if (tile->flattened) return plan_flattened(b, tile->size, names);
    plan.size_value = tile->size;
    plan.size = names.generated("_BLOCK_SIZE_" + std::to_string(b));
    plan.size_host = std::to_string(plan.size_value);
    plan.needs_mask = info.dynamic_range() || !extent_value || *extent_value % plan.size_value != 0;
    return;
  }
  const auto &loop = config_.reduction_loops.at(info.reduction);
  int64_t minimum = ir::feeds_dot(k_, b) ? ir::kMinDotBlock : 1;
  if (loop && (!extent_value || *loop < *extent_value)) {
    plan.size_value = std::max(*loop, minimum);
    plan.size = names.generated("_BLOCK_SIZE_" + std::to_string(b));
    plan.size_host = std::to_string(plan.size_value);
    plan.needs_mask = !extent_value || *extent_value % plan.size_value != 0;
    return;
  }
  plan.persistent = true;
  plan.size = names.generated("_RBLOCK_" + std::to_string(b));
  if (extent_value) {
    plan.size_value = std::max(next_power_of_two(std::max<int64_t>(*extent_value, 1)), minimum);
    plan.size_host = std::to_string(plan.size_value);
    plan.needs_mask = plan.size_value != *extent_value;
    return;
  }
  Expr host =
      call(module.triton() + ".next_power_of_2", {sym_text(module.host_sym(extent), extent)});
  if (minimum > 1) host = call(module.builtin("max"), {host, literal(minimum)});
  plan.size_host = to_python(host);
  plan.needs_mask = true;
}

void BlockPlans::plan_flattened(int b, int64_t flat_block, DeviceNames &names) {
  const ir::TileCall &call = k_.tile_calls[k_.blocks[b].tile_call];
  int leader = call.blocks.front();
  BlockPlan &plan = plans_[b];
  if (b != leader) {
    plan = plans_[leader];
    return;
  }
  plan.flat_leader = leader;
  plan.size_value = flat_block;
  plan.size = names.generated("_BLOCK_SIZE_" + std::to_string(leader));
  plan.size_host = std::to_string(flat_block);
  auto total = sym_constant(flat_extent(call));
  plan.needs_mask = !total || *total % flat_block != 0;
}

/// Every block's names, chosen once so each use spells them alike.
void BlockPlans::name_blocks(DeviceNames &names) {
  std::set<int> grid;
  for (const ir::RootLoop &root : k_.roots) {
    const std::vector<int> &blocks = k_.tile_calls[root.grid_call].blocks;
    grid.insert(blocks.begin(), blocks.end());
  }
  for (size_t b = 0; b < k_.blocks.size(); ++b) {
    std::string id = std::to_string(b);
    BlockNames n;
    n.offset = names.generated("offset_" + id);
    n.indices = names.generated("indices_" + id);
    n.mask = names.generated("mask_" + id);
    if (grid.count(static_cast<int>(b))) {
      n.pid = names.generated("pid_" + id);
      n.count = names.generated("num_blocks_" + id);
    }
    if (plans_[b].flat_leader == static_cast<int>(b)) n.flat = names.generated("flat_" + id);
    names_.push_back(n);
  }
}

/// Which range entry each loop reads, and which static_ranges entry the
/// loops that have one read.
void BlockPlans::index_loop_entries() {
  std::vector<ir::LoopEntry> entries = ir::loop_entries(k_);
  size_t statics = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    const ir::LoopEntry &entry = entries[i];
    if (entry.kind == ir::LoopEntry::Kind::TopLevel) top_level_entries_.push_back(i);
    if (entry.kind == ir::LoopEntry::Kind::TileDim) range_entry_of_block_[entry.block] = i;
    if (entry.kind == ir::LoopEntry::Kind::Range) range_entry_of_loop_[entry.loop_index] = i;
    if (entry.static_candidate) static_slot_[i] = statics++;
  }
}

Expr BlockPlans::range_call(size_t entry, Expr begin, Expr end, Expr step) const {
  std::vector<Expr> args = {std::move(begin), std::move(end), std::move(step)};
  auto slot = static_slot_.find(entry);
  if (slot != static_slot_.end() && slot->second < config_.static_ranges.size() &&
      config_.static_ranges[slot->second])
    return call("tl.static_range", std::move(args));
  std::vector<std::pair<std::string, Expr>> keywords;
  if (entry < config_.ranges.size())
    for (const std::string &keyword : config_.ranges[entry].keyword_arguments()) {
      size_t equals = keyword.find('=');
      keywords.emplace_back(keyword.substr(0, equals), literal(keyword.substr(equals + 1)));
    }
  return call("tl.range", std::move(args), std::move(keywords));
}

SymInt BlockPlans::flat_extent(const ir::TileCall &call) const {
  SymInt total = sym_const(1);
  for (int b : call.blocks)
    total = sym_mul(total, k_.blocks[b].extent());
  return total;
}

std::vector<int> BlockPlans::loop_order(int call) const {
  const ir::TileCall &tc = k_.tile_calls[call];
  std::vector<int> order = config_.tiles.at(call).loop_order;
  if (order.size() != tc.blocks.size()) {
    order.clear();
    for (size_t i = 0; i < tc.blocks.size(); ++i)
      order.push_back(static_cast<int>(i));
  }
  return order;
}

std::vector<Dim> BlockPlans::cg_shape(const std::vector<Dim> &dims) const {
  std::vector<int> leaders;
  for (const Dim &d : dims)
    leaders.push_back(d.is_block() ? plans_[d.block].flat_leader : -1);
  // A size-1 axis beside a flattened dim (`row[:, None]`) already lives on the flat range.
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] != Dim::constant(1)) continue;
    if (i > 0 && leaders[i - 1] >= 0)
      leaders[i] = leaders[i - 1];
    else if (i + 1 < dims.size() && leaders[i + 1] >= 0)
      leaders[i] = leaders[i + 1];
  }
  std::vector<Dim> out;
  std::set<int> seen;
  int previous = -1;
  for (size_t i = 0; i < dims.size(); ++i) {
    const Dim &d = dims[i];
    int leader = leaders[i];
    if (leader >= 0 && leader == previous) continue;
    if (leader >= 0 && !seen.insert(leader).second)
      throw UserError("InvalidConfig",
                      "this kernel cannot flatten its hl.tile loop: a value uses its dimensions "
                      "out of order; give one block size per dimension");
    out.push_back(leader >= 0 ? Dim::of_block(leader) : d);
    previous = leader;
  }
  return out;
}

int BlockPlans::cg_rank(const std::vector<Dim> &dims) const {
  return static_cast<int>(cg_shape(dims).size());
}

int BlockPlans::cg_axis(const std::vector<Dim> &dims, size_t i) const {
  check_internal(i < dims.size(), "cg_axis: position past the value's dimensions");
  std::vector<Dim> prefix(dims.begin(), dims.begin() + i + 1);
  return cg_rank(prefix) - 1;
}

Expr BlockPlans::block_mask(int block, int axis, int rank) const {
  if (!plans_[block].needs_mask) return nullptr;
  if (is_flat(block)) block = plans_[block].flat_leader;
  Expr m = name(names_[block].mask);
  return rank <= 1 ? m : on_axis(m, axis, rank);
}

void BlockPlans::reject_flat(const std::vector<Dim> &dims, const std::string &what) const {
  for (const Dim &d : dims)
    if (d.is_block() && is_flat(d.block))
      throw UserError("InvalidConfig", "a flattened hl.tile cannot feed " + what +
                                           "; give one block size per dimension");
}

void BlockPlans::reject_flat_axis(const Dim &axis, const std::string &what) const {
  if (axis.is_block() && is_flat(axis.block))
    throw UserError("InvalidConfig", "a flattened hl.tile dimension cannot be " + what +
                                         "; give one block size per dimension");
}

void emit_block_indices(DeviceContext &ctx, int b, const Expr &offset) {
  const BlockNames &n = ctx.blocks.names(b);
  Expr own = name(n.offset);
  if (!prints_as(offset, n.offset)) ctx.out.line(n.offset + " = " + to_python(offset));
  if (ctx.kernel.blocks[b].unit) {
    // One index, as a scalar: no value has this block's dim, nor needs a mask for it.
    ctx.out.line(n.indices + " = " + to_python(ctx.index_cast(own)));
    return;
  }
  Expr lanes = ctx.index_cast(call("tl.arange", {literal(0), ctx.blocks.size(b)}));
  ctx.out.line(n.indices + " = " + to_python(own + lanes));
  if (ctx.blocks.plan(b).needs_mask)
    ctx.out.line(n.mask + " = " +
                 to_python(binary(BinaryOp::Lt, name(n.indices), ctx.range_end(b))));
}

void emit_flat_indices(DeviceContext &ctx, int call_index, const Expr &offset) {
  const ir::TileCall &call = ctx.kernel.tile_calls[call_index];
  int leader = call.blocks.front();
  const BlockNames &lead = ctx.blocks.names(leader);
  if (!prints_as(offset, lead.offset)) ctx.out.line(lead.offset + " = " + to_python(offset));
  Expr lanes =
      ctx.index_cast(helion::codegen::call("tl.arange", {literal(0), ctx.blocks.size(leader)}));
  ctx.out.line(lead.flat + " = " + to_python(name(lead.offset) + lanes));
  std::vector<int> order = ctx.blocks.loop_order(call_index);
  Expr divisor;
  for (size_t i = 0; i < order.size(); ++i) {
    int b = call.blocks[order[i]];
    Expr extent = ctx.kernel_sym(ctx.kernel.blocks[b].extent());
    Expr index = name(lead.flat);
    if (divisor) index = binary(BinaryOp::FloorDiv, index, divisor);
    if (i + 1 < order.size()) index = binary(BinaryOp::Mod, index, extent);
    Expr begin = ctx.kernel_sym(ctx.kernel.blocks[b].begin);
    if (!prints_as(begin, "0")) index = begin + index;
    ctx.out.line(ctx.blocks.names(b).indices + " = " + to_python(index));
    divisor = divisor ? divisor * extent : extent;
  }
  if (ctx.blocks.plan(leader).needs_mask)
    ctx.out.line(lead.mask + " = " +
                 to_python(binary(BinaryOp::Lt, name(lead.flat),
                                  ctx.kernel_sym(ctx.blocks.flat_extent(call)))));
}

void emit_persistent_indices(DeviceContext &ctx) {
  for (int b = 0; b < ctx.blocks.count(); ++b)
    if (ctx.blocks.plan(b).persistent) emit_block_indices(ctx, b, literal(0));
}

} // namespace helion::codegen
