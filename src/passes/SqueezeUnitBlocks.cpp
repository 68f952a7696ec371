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

/// Reshapes that only put size-1 dims in front of their operand (`m[None]`)
/// and feed nothing but elementwise binary ops and `where`s: broadcasting
/// aligns from the right, so their operand gives the same results. Such a
/// size-1 dim may stand against a unit block, which then still goes.
std::set<int> leading_unsqueezes(const ir::DeviceKernel &k) {
  std::set<int> found;
  for (const Node &n : k.nodes) {
    if (n.op != OpKind::Reshape) continue;
    const std::vector<Dim> &from = k.node(n.operands[0]).type.dims;
    const std::vector<Dim> &to = n.type.dims;
    size_t added = to.size() - std::min(to.size(), from.size());
    auto is_one = [](const Dim &d) { return d == Dim::constant(1); };
    bool only_leading_ones = added > 0 &&
                             std::equal(from.begin(), from.end(), to.begin() + added) &&
                             std::all_of(to.begin(), to.begin() + added, is_one);
    if (only_leading_ones) found.insert(n.id);
  }
  for (const Node &n : k.nodes) {
    if (n.op == OpKind::Binary || n.op == OpKind::Where) continue;
    for (int operand : n.operands)
      found.erase(operand);
  }
  std::vector<ir::NodeUses> uses = ir::count_uses(k);
  for (auto it = found.begin(); it != found.end();)
    it = uses[*it].others > 0 ? found.erase(it) : std::next(it);
  return found;
}

/// Which tiles of block size 1 can lose their dimension.
class UnitBlockFinder {
public:
  UnitBlockFinder(const ir::DeviceKernel &kernel, const Config &config)
      : k_(kernel), unsqueezes_(leading_unsqueezes(kernel)) {
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

  /// The leading unsqueezes to drop: those whose size-1 dims stand against
  /// one of the unit blocks that go.
  std::set<int> unsqueezes_to_drop() const {
    std::set<int> out;
    for (const auto &[id, blocks] : unsqueeze_meets_)
      for (int b : blocks)
        if (units_.count(b)) out.insert(id);
    return out;
  }

private:
  /// The dims `operand` broadcasts with: a leading unsqueeze's operand's.
  const std::vector<Dim> &broadcast_dims(int operand) const {
    int source = unsqueezes_.count(operand) ? k_.node(operand).operands[0] : operand;
    return k_.node(source).type.dims;
  }

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
    for (size_t i = first; i < std::min(n.operands.size(), first + count); ++i) {
      int operand = n.operands[i];
      check_aligned(n.type.dims, broadcast_dims(operand));
      if (unsqueezes_.count(operand)) note_unsqueeze_meets(n.type.dims, operand);
    }
  }

  /// The blocks of `result` that `unsqueeze`'s leading size-1 dims stand against.
  void note_unsqueeze_meets(const std::vector<Dim> &result, int unsqueeze) {
    size_t rank = k_.node(unsqueeze).type.dims.size();
    size_t added = rank - broadcast_dims(unsqueeze).size();
    for (size_t i = 0; i < added; ++i) {
      const Dim &d = result.at(result.size() - rank + i);
      if (d.is_block()) unsqueeze_meets_[unsqueeze].insert(d.block);
    }
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
    case OpKind::Atomic:
      check_index(n.index);
      check_operands_aligned(n, 0, n.operands.size()); // the values and the mask
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
    case OpKind::TritonCall:
    case OpKind::InlineTriton:
      // The user's Triton code sees the shapes the kernel's code gives them.
      for (int operand : n.operands)
        keep_blocks(k_.node(operand).type.dims);
      for (const ir::TensorType &result : n.results)
        keep_blocks(result.dims);
      break;
    default:
      break;
    }
  }

  void keep_blocks(const std::vector<Dim> &dims) {
    for (const Dim &d : dims)
      if (d.is_block()) units_.erase(d.block);
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
  std::set<int> unsqueezes_;
  std::map<int, std::set<int>> unsqueeze_meets_; ///< leading unsqueeze -> blocks it meets
};

/// Rewrites a kernel without the dims of `units` (read from `before`, written
/// to `after`); `unsqueezes` become their operands.
class UnitBlockSqueezer {
public:
  UnitBlockSqueezer(const ir::DeviceKernel &before, ir::DeviceKernel &after, std::set<int> units,
                    std::set<int> unsqueezes)
      : before_(before), after_(after), units_(std::move(units)),
        unsqueezes_(std::move(unsqueezes)) {}

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
    if (unsqueezes_.count(old.id)) {
      become_cast_of(n, old.operands[0]);
      n.type.dims = before_.node(old.operands[0]).type.dims;
      return;
    }
    switch (old.op) {
    case OpKind::Load:
    case OpKind::Atomic:
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
  std::set<int> units_, unsqueezes_;
  std::map<int, int> scalar_index_; ///< block -> its (scalar) TileIndex node
  int zero_ = -1;
};

} // namespace

ir::DeviceKernel squeeze_unit_blocks(const ir::DeviceKernel &kernel, const Config &config) {
  ir::DeviceKernel out = kernel;
  UnitBlockFinder finder(kernel, config);
  std::set<int> units = finder.find();
  if (units.empty()) return out;
  UnitBlockSqueezer(kernel, out, std::move(units), finder.unsqueezes_to_drop()).run();
  return out;
}

} // namespace helion::passes
