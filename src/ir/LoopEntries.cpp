#include "ir/LoopEntries.h"

#include <set>

namespace helion::ir {

namespace {

/// The value of an int scalar node that the generated code spells as a
/// literal: a literal or a specialized host size (tl.static_range needs
/// constexpr bounds, which a computed cast is not).
std::optional<int64_t> constant_int(const DeviceKernel &kernel, int id) {
  const Node &n = kernel.node(id);
  switch (n.op) {
  case OpKind::Constant:
    if (n.number.empty() || n.number.find_first_not_of("-0123456789") != std::string::npos)
      return std::nullopt;
    try {
      return std::stoll(n.number);
    } catch (const std::exception &) {
      return std::nullopt;
    }
  case OpKind::HostScalar:
    return n.sym ? sym_constant(n.sym) : std::nullopt;
  default:
    return std::nullopt;
  }
}

bool small_trip_count(int64_t iterations) {
  return iterations >= 0 && iterations <= kMaxStaticRangeIterations;
}

/// A tile dimension's loop unrolls statically when its range is known and
/// every legal block size gives few iterations: with a fixed block size the
/// count is known; otherwise the block may be 1, so the extent must be small.
bool static_tile_dim(const DeviceKernel &kernel, const TileCall &call, size_t dim) {
  const BlockInfo &block = kernel.block(call.blocks[dim]);
  if (block.dynamic_range()) return false;
  auto begin = sym_constant(block.begin), end = sym_constant(block.end);
  if (!begin || !end) return false;
  int64_t extent = *end - *begin;
  std::optional<int64_t> fixed =
      dim < call.fixed_block_sizes.size() ? call.fixed_block_sizes[dim] : std::nullopt;
  if (fixed && *fixed > 0 && block.size_from < 0)
    return small_trip_count((extent + *fixed - 1) / *fixed);
  return small_trip_count(extent);
}

bool static_range_loop(const DeviceKernel &kernel, const Stmt &s) {
  auto begin = constant_int(kernel, s.range_begin), end = constant_int(kernel, s.range_end),
       step = constant_int(kernel, s.range_step);
  if (!begin || !end || !step || *step <= 0) return false;
  int64_t span = *end - *begin;
  return small_trip_count(span <= 0 ? 0 : (span + *step - 1) / *step);
}

class Walker {
public:
  explicit Walker(const DeviceKernel &kernel) : kernel_(kernel) {}

  std::vector<LoopEntry> run() {
    for (const RootLoop &root : kernel_.roots) {
      LoopEntry entry;
      entry.kind = LoopEntry::Kind::TopLevel;
      entry.tile_call = root.grid_call;
      if (root.grid_call >= 0) entry.span = kernel_.tile_calls.at(root.grid_call).span;
      entries_.push_back(entry);
      walk(root.body);
    }
    return std::move(entries_);
  }

private:
  void walk(const std::vector<Stmt> &body) {
    for (const Stmt &s : body) {
      if (s.kind == Stmt::Kind::TileLoop) add_tile_loop(s);
      if (s.kind == Stmt::Kind::RangeLoop) add_range_loop(s);
      for_each_region(s, [&](const std::vector<Stmt> &region) { walk(region); });
    }
  }

  void add_tile_loop(const Stmt &s) {
    if (s.tile_call < 0 || !seen_calls_.insert(s.tile_call).second) return;
    const TileCall &call = kernel_.tile_calls.at(s.tile_call);
    if (call.registered) return;
    for (size_t dim = 0; dim < call.blocks.size(); ++dim) {
      LoopEntry entry;
      entry.kind = LoopEntry::Kind::TileDim;
      entry.span = call.span;
      entry.tile_call = s.tile_call;
      entry.block = call.blocks[dim];
      entry.static_candidate = static_tile_dim(kernel_, call, dim);
      entries_.push_back(entry);
    }
  }

  void add_range_loop(const Stmt &s) {
    if (!seen_ranges_.insert(s.loop_index).second) return;
    LoopEntry entry;
    entry.kind = LoopEntry::Kind::Range;
    entry.span = s.span;
    entry.loop_index = s.loop_index;
    entry.static_candidate = static_range_loop(kernel_, s);
    entries_.push_back(entry);
  }

  const DeviceKernel &kernel_;
  std::vector<LoopEntry> entries_;
  std::set<int> seen_calls_, seen_ranges_;
};

} // namespace

std::vector<LoopEntry> loop_entries(const DeviceKernel &kernel) {
  return Walker(kernel).run();
}

} // namespace helion::ir
