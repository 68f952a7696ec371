#include "passes/SqueezeUnitBlocks.h"

#include "ir/BlockSizes.h"
#include "ir/Builder.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

namespace helion::passes {

using ir::Dim;
using ir::IndexItem;
using ir::Node;
using ir::OpKind;
using ir::Stmt;

namespace {

/// Whether the config gives tile block `b` a size of one of its own (not a
/// flattened call, not `hl.grid`, whose loop variables are scalars already).
bool unit_tile(const ir::DeviceKernel &k, const Config &config, int b) {
  std::optional<ir::TileBlockSize> size = ir::tile_block_size(k, config, b);
  return size && !size->flattened && !k.tile_calls.at(size->call).scalar_grid && size->size == 1;
}

void for_each_stmt(const std::vector<Stmt> &body, const std::function<void(const Stmt &)> &visit) {
  for (const Stmt &s : body) {
    visit(s);
    ir::for_each_region(s, [&](const std::vector<Stmt> &region) { for_each_stmt(region, visit); });
  }
}

void for_each_stmt(std::vector<Stmt> &body, const std::function<void(Stmt &)> &visit) {
  for (Stmt &s : body) {
    visit(s);
    for (std::vector<Stmt> *region : {&s.cond_body, &s.body, &s.orelse})
      for_each_stmt(*region, visit);
  }
}

bool is_block_dim(const Dim &d, const std::set<int> &blocks) {
  return d.is_block() && blocks.count(d.block);
}

/// Which tiles of block size 1 can lose their dimension.
class UnitBlockFinder {
public:
  UnitBlockFinder(const ir::DeviceKernel &kernel, const Config &config) : k_(kernel) {
    for (size_t b = 0; b < k_.blocks.size(); ++b) {
      int id = static_cast<int>(b);
      if (unit_tile(k_, config, id) && !ir::feeds_dot(k_, id)) units_.insert(id);
    }
  }

  std::set<int> find() {
    for (const Node &n : k_.nodes)
      check_node(n);
    for (const ir::RootLoop &root : k_.roots)
      for_each_stmt(root.body, [&](const Stmt &s) { check_stmt(s); });
    return units_;
  }

private:
  /// `operand` broadcasts against `result` aligned from the right: a unit
  /// block of `result` must meet the same block, or no dim at all.
  void check_aligned(const std::vector<Dim> &result, const std::vector<Dim> &operand) {
    for (size_t i = 0; i < result.size(); ++i) {
      if (!is_block_dim(result[i], units_)) continue;
      size_t from_right = result.size() - i;
      if (operand.size() >= from_right && operand[operand.size() - from_right] != result[i])
        units_.erase(result[i].block);
    }
    // A unit block the operand has but the result lacks moved or vanished.
    for (const Dim &d : operand)
      if (is_block_dim(d, units_) && std::find(result.begin(), result.end(), d) == result.end())
        units_.erase(d.block);
  }

  void check_operands_aligned(const Node &n, size_t first, size_t count) {
    for (size_t i = first; i < std::min(n.operands.size(), first + count); ++i)
      check_aligned(n.type.dims, k_.node(n.operands[i]).type.dims);
  }

  void check_index(const std::vector<IndexItem> &index) {
    for (const IndexItem &item : index)
      if (item.kind == IndexItem::Kind::Block && (item.start || item.value >= 0))
        units_.erase(item.block);
  }

  void check_node(const Node &n) {
    switch (n.op) {
    case OpKind::Binary:
    case OpKind::Where:
    case OpKind::Dot:
      check_operands_aligned(n, 0, n.operands.size());
      break;
    case OpKind::Load:
      check_index(n.index);
      check_operands_aligned(n, 0, 1); // the mask
      break;
    case OpKind::Random:
      check_operands_aligned(n, 1, 1); // the offsets
      break;
    case OpKind::Reshape: {
      const std::vector<Dim> &from = k_.node(n.operands[0]).type.dims;
      for (const std::vector<Dim> *dims : {&from, &n.type.dims})
        for (const Dim &d : *dims)
          if (is_block_dim(d, units_) &&
              (std::count(from.begin(), from.end(), d) != std::count(n.type.dims.begin(),
                                                                     n.type.dims.end(), d)))
            units_.erase(d.block);
      break;
    }
    case OpKind::Reduce:
    case OpKind::CombineReduce: {
      // keepdim would leave a size-1 axis where the block was: keep those blocks.
      const Dim &axis = k_.node(n.operands[0]).type.dims.at(n.axis);
      if (n.keepdim && is_block_dim(axis, units_)) units_.erase(axis.block);
      break;
    }
    case OpKind::Arange:
      for (const Dim &d : n.type.dims)
        if (d.is_block()) units_.erase(d.block);
      break;
    default:
      break;
    }
  }

  void check_stmt(const Stmt &s) {
    if (s.kind != Stmt::Kind::Store) return;
    check_index(s.index);
    std::vector<Dim> access = ir::access_dims(k_, s.index);
    check_aligned(access, k_.node(s.value).type.dims);
    if (s.mask >= 0) check_aligned(access, k_.node(s.mask).type.dims);
  }

  const ir::DeviceKernel &k_;
  std::set<int> units_;
};

/// Rewrites a kernel without the dims of `units` (read from `before`, written to `after`).
class UnitBlockSqueezer {
public:
  UnitBlockSqueezer(const ir::DeviceKernel &before, ir::DeviceKernel &after, std::set<int> units)
      : before_(before), after_(after), units_(std::move(units)) {}

  void run() {
    ir::Builder build(after_);
    for (int b : units_) {
      scalar_index_[b] = build.tile_index(b, {});
      after_.blocks[b].unit = true;
    }
    zero_ = build.literal("0", DType::Int64, {});
    for (size_t id = 0; id < before_.nodes.size(); ++id)
      rewrite_node(after_.nodes[id], before_.nodes[id]);
    for (Node &n : after_.nodes)
      drop_units(n.type.dims);
    for (ir::RootLoop &root : after_.roots)
      for_each_stmt(root.body, [&](Stmt &s) { rewrite_index(s.index); });
  }

private:
  void drop_units(std::vector<Dim> &dims) const {
    dims.erase(std::remove_if(dims.begin(), dims.end(),
                              [&](const Dim &d) { return is_block_dim(d, units_); }),
               dims.end());
  }

  /// `axis` of `dims` once the unit dims before it are gone.
  int renumbered(const std::vector<Dim> &dims, int axis) const {
    int dropped = 0;
    for (int i = 0; i < axis; ++i)
      dropped += is_block_dim(dims[i], units_);
    return axis - dropped;
  }

  void rewrite_index(std::vector<IndexItem> &index) {
    for (IndexItem &item : index) {
      if (item.kind != IndexItem::Kind::Block || !units_.count(item.block)) continue;
      item.kind = IndexItem::Kind::Scalar;
      item.value = scalar_index_.at(item.block);
      item.block = -1;
    }
  }

  /// The node now yields operand `source` unchanged (in its own dtype).
  static void become_cast_of(Node &n, int source) {
    n.op = OpKind::Cast;
    n.operands = {source};
    n.fn = std::monostate{};
    n.axis = -1;
    n.combine = -1;
    n.result_index = 0;
    n.reverse = false;
    n.keepdim = false;
  }

  void rewrite_node(Node &n, const Node &old) {
    switch (old.op) {
    case OpKind::Load:
      rewrite_index(n.index);
      break;
    case OpKind::Reduce:
    case OpKind::CombineReduce:
    case OpKind::Scan: {
      const std::vector<Dim> &input = before_.node(old.operands[0]).type.dims;
      if (!is_block_dim(input.at(old.axis), units_)) {
        n.axis = renumbered(input, old.axis);
        break;
      }
      // Over one element a reduction or a scan is that element.
      if (old.op == OpKind::Reduce &&
          (old.reduce_fn() == ir::ReduceFn::ArgMax || old.reduce_fn() == ir::ReduceFn::ArgMin)) {
        become_cast_of(n, zero_);
        n.op = OpKind::Full;
      } else {
        become_cast_of(n, old.operands.at(old.op == OpKind::Reduce ? 0 : old.result_index));
      }
      break;
    }
    case OpKind::MaskFill:
      // A tile of one index never runs past its range.
      if (units_.count(old.block)) become_cast_of(n, old.operands[0]);
      break;
    case OpKind::Permute: {
      const std::vector<Dim> &input = before_.node(old.operands[0]).type.dims;
      n.perm.clear();
      for (int axis : old.perm)
        if (!is_block_dim(input.at(axis), units_)) n.perm.push_back(renumbered(input, axis));
      break;
    }
    default:
      break;
    }
  }

  const ir::DeviceKernel &before_;
  ir::DeviceKernel &after_;
  std::set<int> units_;
  std::map<int, int> scalar_index_; ///< block -> its (scalar) TileIndex node
  int zero_ = -1;
};

} // namespace

ir::DeviceKernel squeeze_unit_blocks(const ir::DeviceKernel &kernel, const Config &config) {
  ir::DeviceKernel out = kernel;
  std::set<int> units = UnitBlockFinder(kernel, config).find();
  if (units.empty()) return out;
  UnitBlockSqueezer(kernel, out, std::move(units)).run();
  return out;
}

} // namespace helion::passes
