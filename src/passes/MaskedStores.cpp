#include "passes/MaskedStores.h"

#include <algorithm>
#include <set>

namespace helion::passes {

using ir::IndexItem;
using ir::Node;
using ir::OpKind;
using ir::Stmt;

namespace {

bool same_index(const std::vector<IndexItem> &a, const std::vector<IndexItem> &b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](const IndexItem &x, const IndexItem &y) {
                      return x.kind == y.kind && x.block == y.block && x.value == y.value &&
                             sym_equal(x.start, y.start);
                    });
}

/// Whether computing `n` may write memory. Every kind is listed, so that a
/// new one is decided here too.
bool writes_memory(const Node &n) {
  switch (n.op) {
  case OpKind::Atomic:
  case OpKind::TritonCall:   // the user's function may store through its pointers
  case OpKind::InlineTriton: return true;
  case OpKind::InlineAsm: return !n.pure;
  case OpKind::Constant:
  case OpKind::HostScalar:
  case OpKind::TileIndex:
  case OpKind::TileBegin:
  case OpKind::TileEnd:
  case OpKind::TileSize:
  case OpKind::Full:
  case OpKind::Load:
  case OpKind::Unary:
  case OpKind::Binary:
  case OpKind::Where:
  case OpKind::Cast:
  case OpKind::Reduce:
  case OpKind::Dot:
  case OpKind::Reshape:
  case OpKind::Permute:
  case OpKind::MaskFill:
  case OpKind::CombineReduce:
  case OpKind::Scan:
  case OpKind::Arange:
  case OpKind::Random:
  case OpKind::RegionArg:
  case OpKind::RegionResult:
  case OpKind::LoopIndex:
  case OpKind::Join:
  case OpKind::Split:
  case OpKind::Print:
  case OpKind::TritonResult:
  case OpKind::TensorPointer: return false;
  }
  return true;
}

/// Whether `s`, or a statement of a region it owns, may write memory.
bool writes_memory(const ir::DeviceKernel &k, const Stmt &s) {
  if (s.kind == Stmt::Kind::Store) return true;
  if (s.kind == Stmt::Kind::Compute && writes_memory(k.node(s.value))) return true;
  bool writes = false;
  ir::for_each_region(s, [&](const std::vector<Stmt> &region) {
    for (const Stmt &inner : region)
      writes = writes || writes_memory(k, inner);
  });
  return writes;
}

class StoreMasker {
public:
  explicit StoreMasker(ir::DeviceKernel &kernel) : k_(kernel), uses_(ir::count_uses(kernel)) {}

  void run() {
    for (ir::RootLoop &root : k_.roots)
      visit(root.body);
  }

private:
  void visit(std::vector<Stmt> &body) {
    for (size_t i = 0; i < body.size(); ++i) {
      if (body[i].kind == Stmt::Kind::Store) mask_store(body, i);
      for (std::vector<Stmt> *region : {&body[i].cond_body, &body[i].body, &body[i].orelse})
        visit(*region);
    }
    // Computations the masked stores no longer read.
    body.erase(std::remove_if(body.begin(), body.end(),
                              [&](const Stmt &s) {
                                return s.kind == Stmt::Kind::Compute && dropped_.count(s.value);
                              }),
               body.end());
  }

  /// The position in `body` of the statement computing node `id`, or past its end.
  static size_t computed_at(const std::vector<Stmt> &body, int id) {
    for (size_t i = 0; i < body.size(); ++i)
      if (body[i].kind == Stmt::Kind::Compute && body[i].value == id) return i;
    return body.size();
  }

  void mask_store(std::vector<Stmt> &body, size_t at) {
    Stmt &store = body[at];
    if (store.atomic || store.mask >= 0) return;
    const Node &select = k_.node(store.value);
    if (select.op != OpKind::Where) return;
    const Node &old = k_.node(select.operands[2]);
    // A read with a mask of its own holds zeros, not memory, where it is off.
    if (old.op != OpKind::Load || old.tensor != store.tensor || !old.operands.empty() ||
        !same_index(old.index, store.index))
      return;
    size_t read_at = computed_at(body, old.id);
    if (read_at >= at) return;
    for (size_t i = read_at + 1; i < at; ++i)
      if (writes_memory(k_, body[i])) return;
    store.value = select.operands[1];
    store.mask = select.operands[0];
    ++uses_[store.value].others;
    ++uses_[store.mask].others;
    --uses_[select.id].others;
    drop_if_unused(select.id);
  }

  /// Drops the select or the read a masked store no longer needs, once
  /// nothing reads it; the read goes with its select.
  void drop_if_unused(int id) {
    const Node &n = k_.node(id);
    if (uses_[id].total() > 0 || dropped_.count(id)) return;
    dropped_.insert(id);
    for (int operand : n.operands)
      --uses_[operand].operands;
    if (n.op == OpKind::Where) drop_if_unused(n.operands[2]);
  }

  ir::DeviceKernel &k_;
  std::vector<ir::NodeUses> uses_;
  std::set<int> dropped_;
};

} // namespace

ir::DeviceKernel masked_stores(const ir::DeviceKernel &kernel, const Config &) {
  ir::DeviceKernel out = kernel;
  StoreMasker(out).run();
  return out;
}

} // namespace helion::passes
