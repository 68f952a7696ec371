#include "passes/WidenDotResults.h"

#include <map>
#include <set>
#include <vector>

namespace helion::passes {

using ir::Node;
using ir::OpKind;
using ir::Stmt;

namespace {

bool is_half_float(DType dtype) { return dtype == DType::Float16 || dtype == DType::BFloat16; }

/// Ops whose result, computed from a wider operand, is the same math in the
/// wider type: they join the widened values when their result has the
/// narrow type.
bool widens_with_operands(OpKind op) {
  switch (op) {
  case OpKind::Unary:
  case OpKind::Binary:
  case OpKind::Where:
  case OpKind::Reduce:
  case OpKind::Reshape:
  case OpKind::Permute:
  case OpKind::MaskFill: return true;
  default: return false;
  }
}

class DotResultWidener {
public:
  explicit DotResultWidener(ir::DeviceKernel &kernel)
      : k_(kernel), uses_(ir::count_uses(kernel)) {
    for (const ir::RootLoop &root : k_.roots)
      collect_users(root.body);
  }

  void run() {
    for (const Node &n : k_.nodes)
      if (rounds_a_dot(n) && !seen_.count(n.id)) widen_from(n.id);
  }

private:
  void collect_users(const std::vector<Stmt> &body) {
    for (const Stmt &s : body) {
      if (s.kind == Stmt::Kind::Compute)
        for (int operand : k_.node(s.value).operands)
          users_[operand].push_back(s.value);
      ir::for_each_region(s, [&](const std::vector<Stmt> &region) { collect_users(region); });
    }
  }

  /// A cast of a float32 dot result down to a 16-bit float type.
  bool rounds_a_dot(const Node &n) const {
    if (n.op != OpKind::Cast || !is_half_float(n.type.dtype)) return false;
    const Node &dot = k_.node(n.operands[0]);
    return dot.op == OpKind::Dot && dot.type.dtype == DType::Float32;
  }

  /// Widens the values computed from the rounding cast `start`, or leaves
  /// them all when one of them may not change type.
  void widen_from(int start) {
    DType narrow = k_.node(start).type.dtype;
    std::vector<int> widened{start};
    std::set<int> in_region{start};
    for (size_t i = 0; i < widened.size(); ++i) {
      int id = widened[i];
      seen_.insert(id);
      // Read by a statement: a store, a loop's carry, a condition, an index.
      if (uses_[id].others > 0) return;
      for (int user : users_[id]) {
        const Node &u = k_.node(user);
        if (in_region.count(user) || u.op == OpKind::Cast) continue;
        if (!widens_with_operands(u.op)) return; // a dot operand, an atomic, a call, ...
        if (u.type.dtype == DType::Bool || u.type.dtype == DType::Int64) continue; // compared
        if (u.type.dtype != narrow) return;
        in_region.insert(user);
        widened.push_back(user);
      }
    }
    for (int id : widened)
      k_.nodes[id].type.dtype = DType::Float32;
  }

  ir::DeviceKernel &k_;
  std::vector<ir::NodeUses> uses_;
  std::map<int, std::vector<int>> users_;
  std::set<int> seen_;
};

} // namespace

ir::DeviceKernel widen_dot_results(const ir::DeviceKernel &kernel, const Config &) {
  ir::DeviceKernel out = kernel;
  DotResultWidener(out).run();
  return out;
}

} // namespace helion::passes
