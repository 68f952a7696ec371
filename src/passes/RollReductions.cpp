#include "passes/RollReductions.h"

#include "ir/Builder.h"
#include "support/Diagnostics.h"

#include <algorithm>
#include <set>

namespace helion::passes {

using ir::Dim;
using ir::Node;
using ir::OpKind;
using ir::Stmt;

namespace {

class ReductionRoller {
public:
  ReductionRoller(ir::DeviceKernel &kernel, std::set<int> looped)
      : k_(kernel), looped_(std::move(looped)) {}

  std::vector<Stmt> roll(const std::vector<Stmt> &body) {
    std::vector<Stmt> out;
    for (const Stmt &s : body) {
      switch (s.kind) {
      case Stmt::Kind::Compute:
        roll_compute(s, out);
        break;
      case Stmt::Kind::Store: {
        int block = looped_block_of_store(s);
        if (block < 0) {
          flush_if_needed({s.value}, out);
          out.push_back(s);
        } else {
          add_store_sink(s, block, out);
        }
        break;
      }
      case Stmt::Kind::TileLoop:
      case Stmt::Kind::ReductionLoop:
      case Stmt::Kind::RangeLoop:
      case Stmt::Kind::If:
      case Stmt::Kind::While: {
        flush(out);
        reject_looped_carries(s);
        Stmt copy = s;
        copy.cond_body = roll(s.cond_body);
        copy.body = roll(s.body);
        copy.orelse = roll(s.orelse);
        out.push_back(std::move(copy));
        break;
      }
      }
    }
    flush(out);
    return out;
  }

private:
  /// A value that a loop or branch changes is computed whole at each step;
  /// one along a looped reduction dimension cannot be.
  void reject_looped_carries(const Stmt &s) const {
    for (const ir::Carry &c : s.carried)
      if (looped_block(k_.node(c.result).type.dims) >= 0)
        throw UserError("InvalidConfig",
                        "'" + c.name +
                            "' spans a looped reduction dimension and changes inside a loop or "
                            "branch; use reduction_loops=[None] for it",
                        s.span);
  }

  /// The looped block among `dims`, or -1.
  int looped_block(const std::vector<Dim> &dims) const {
    for (const Dim &d : dims)
      if (d.is_block() && looped_.count(d.block)) return d.block;
    return -1;
  }

  int looped_block_of_store(const Stmt &s) const {
    for (const ir::IndexItem &item : s.index)
      if (item.kind == ir::IndexItem::Kind::Block && looped_.count(item.block)) return item.block;
    return looped_block(k_.node(s.value).type.dims);
  }

  void roll_compute(const Stmt &s, std::vector<Stmt> &out) {
    const Node &n = k_.node(s.value);
    if (n.op == OpKind::Atomic && looped_block(n.type.dims) >= 0)
      // Recomputing it would update the target once per use, or never.
      throw UserError("InvalidConfig",
                      "an atomic whose old values are read cannot run block by block along a "
                      "looped reduction dimension; use reduction_loops=[None] for it",
                      s.span);
    bool triton = n.op == OpKind::TritonCall || n.op == OpKind::InlineTriton;
    for (const ir::TensorType &result : triton ? n.results : std::vector<ir::TensorType>{})
      if (looped_block(result.dims) >= 0)
        // Recomputing it would run the user's Triton code once per use.
        throw UserError("InvalidConfig",
                        "hl.triton_kernel and hl.inline_triton need the whole reduction "
                        "dimension at once; use reduction_loops=[None] for this kernel",
                        s.span);
    if (looped_block(n.type.dims) >= 0) return; // recomputed inside each loop that needs it
    if (n.op == OpKind::Reduce) {
      const ir::TensorType &in = k_.node(n.operands[0]).type;
      const Dim &axis = in.dims.at(n.axis);
      if (axis.is_block() && looped_.count(axis.block)) {
        if (!ir::combine_of(n.reduce_fn()))
          throw UserError("InvalidConfig",
                          std::string(ir::name(n.reduce_fn())) +
                              " needs the whole reduction dimension at once; use "
                              "reduction_loops=[None] for it",
                          s.span);
        add_reduce_sink(s, axis.block, out);
        return;
      }
    }
    for (int operand : n.operands)
      if (looped_block(k_.node(operand).type.dims) >= 0)
        throw UserError("InvalidConfig",
                        "this operation needs the whole reduction dimension at once; use "
                        "reduction_loops=[None] for it",
                        s.span);
    flush_if_needed(n.operands, out);
    out.push_back(s);
  }

  bool along(const Node &n, int block) const {
    return std::find(n.type.dims.begin(), n.type.dims.end(), Dim::of_block(block)) !=
           n.type.dims.end();
  }

  /// Every node `roots` depend on (themselves included), in program order.
  /// With `block` >= 0, only nodes along that block, reached through such nodes.
  std::vector<int> closure(const std::vector<int> &roots, int block = -1) const {
    std::set<int> seen;
    std::vector<int> stack = roots;
    while (!stack.empty()) {
      int id = stack.back();
      stack.pop_back();
      const Node &n = k_.node(id);
      if (block >= 0 && !along(n, block)) continue;
      if (!seen.insert(id).second) continue;
      if (n.op == OpKind::RegionResult || n.op == OpKind::RegionArg) continue;
      for (int operand : n.operands)
        stack.push_back(operand);
      for (const ir::IndexItem &item : n.index)
        if (item.value >= 0) stack.push_back(item.value);
    }
    return {seen.begin(), seen.end()}; // ids grow in program order
  }

  bool depends_on_group(const std::vector<int> &roots) const {
    for (int id : closure(roots))
      if (group_results_.count(id)) return true;
    return false;
  }

  void flush_if_needed(const std::vector<int> &roots, std::vector<Stmt> &out) {
    if (!group_results_.empty() && depends_on_group(roots)) flush(out);
  }

  /// Starts or continues the open loop over `block` for a sink reading `roots`.
  Stmt &open_loop(int block, const std::vector<int> &roots, const SourceSpan &span,
                  std::vector<Stmt> &out) {
    if (group_ && (group_->block != block || depends_on_group(roots))) flush(out);
    if (!group_) {
      group_ = Stmt();
      group_->kind = Stmt::Kind::ReductionLoop;
      group_->block = block;
      group_->span = span;
      computed_in_group_.clear();
    }
    // Recompute what the sink reads along the looped dimension.
    for (int id : closure(roots, block)) {
      const Node &n = k_.node(id);
      bool inline_only = n.op == OpKind::Constant || n.op == OpKind::HostScalar ||
                         n.op == OpKind::TileIndex || n.op == OpKind::RegionArg ||
                         n.op == OpKind::RegionResult || n.op == OpKind::LoopIndex;
      if (inline_only || !computed_in_group_.insert(id).second) continue;
      Stmt compute;
      compute.kind = Stmt::Kind::Compute;
      compute.value = id;
      compute.span = n.span.valid() ? n.span : span;
      group_->body.push_back(compute);
    }
    return *group_;
  }

  void add_store_sink(const Stmt &s, int block, std::vector<Stmt> &out) {
    std::vector<int> roots = {s.value};
    if (s.mask >= 0) roots.push_back(s.mask);
    Stmt &loop = open_loop(block, roots, s.span, out);
    loop.body.push_back(s);
  }

  void add_reduce_sink(const Stmt &s, int block, std::vector<Stmt> &out) {
    const Node reduce = k_.node(s.value);
    int chunk = reduce.operands[0];
    const ir::TensorType type = k_.node(chunk).type; // a copy: adding nodes moves them
    Stmt &loop = open_loop(block, {chunk}, s.span, out);
    ir::ReduceFn fn = reduce.reduce_fn();
    auto combine_fn = ir::combine_of(fn);
    check_internal(combine_fn.has_value(), "a looped reduction needs a combine function");
    std::string identity = ir::identity_literal(fn, type.dtype);

    ir::Builder build(k_);
    build.set_statement_span(s.span);
    build.set_insertion(&group_inits_);
    int fill = build.literal(identity, type.dtype, s.span);
    int init = build.full(type.dims, type.dtype, fill, s.span);
    build.name_value(init, "acc");
    int arg = build.region_arg(type, "acc");
    build.set_insertion(&loop.body);
    int masked = build.mask_fill(chunk, block, identity, s.span);
    int combined = build.binary(*combine_fn, arg, masked, s.span);
    int result = build.region_result(type, "acc");
    loop.carried.push_back({"acc", init, arg, combined, -1, result});
    // The reduction now folds the accumulator's lanes once the loop is done.
    k_.nodes[reduce.id].operands[0] = result;
    group_results_.insert(reduce.id);
    group_finals_.push_back(s);
  }

  void flush(std::vector<Stmt> &out) {
    if (!group_) return;
    for (Stmt &s : group_inits_)
      out.push_back(s);
    out.push_back(std::move(*group_));
    for (Stmt &s : group_finals_)
      out.push_back(s);
    group_.reset();
    group_inits_.clear();
    group_finals_.clear();
    group_results_.clear();
  }

  ir::DeviceKernel &k_;
  std::set<int> looped_;
  std::optional<Stmt> group_;
  std::vector<Stmt> group_inits_, group_finals_;
  std::set<int> group_results_;
  std::set<int> computed_in_group_;
};

} // namespace

ir::DeviceKernel roll_reductions(const ir::DeviceKernel &kernel, const Config &config) {
  ir::DeviceKernel out = kernel;
  std::set<int> looped;
  for (int b : kernel.reductions) {
    const ir::BlockInfo &info = kernel.block(b);
    const auto &choice = config.reduction_loops.at(info.reduction);
    auto extent = sym_constant(info.extent());
    if (choice && (!extent || *choice < *extent)) looped.insert(b);
  }
  if (looped.empty()) return out;
  for (size_t r = 0; r < kernel.roots.size(); ++r)
    out.roots[r].body = ReductionRoller(out, looped).roll(kernel.roots[r].body);
  return out;
}

} // namespace helion::passes
