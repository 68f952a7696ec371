#include "codegen/DeviceContext.h"

#include "support/Diagnostics.h"
#include "support/Text.h"

namespace helion::codegen {

using ir::Dim;
using ir::Node;
using ir::OpKind;

namespace {

std::vector<std::string> tensor_parameters(const ir::DeviceKernel &kernel, DeviceNames &names) {
  std::vector<std::string> out;
  for (const ir::TensorParam &t : kernel.tensors)
    out.push_back(names.user(t.name));
  return out;
}

std::vector<std::string> scalar_parameters(const ir::DeviceKernel &kernel, DeviceNames &names) {
  std::vector<std::string> out;
  for (const ir::ScalarParam &s : kernel.scalars)
    out.push_back(names.user(s.name));
  return out;
}

} // namespace

// Parameters the user named come first, so they keep their names where they can.
DeviceContext::DeviceContext(const ir::DeviceKernel &kernel, const Config &config,
                             const KernelInputs &inputs, const ModuleNames &module,
                             bool int64_indices, const std::set<std::string> &reserved_names)
    : kernel(kernel), config(config), inputs(inputs), module(module),
      names(module, reserved_names),
      int64_indices(int64_indices), tensor_names(tensor_parameters(kernel, names)),
      scalar_names(scalar_parameters(kernel, names)), blocks(kernel, config, module, names),
      out(split_lines(inputs.context.source), inputs.context.first_line) {}

Expr sym_text(const std::string &text, const SymInt &s) {
  switch (s->op) {
  case SymNode::Op::Const: return literal(text);
  case SymNode::Op::Add: return printed(text, Precedence::Additive);
  case SymNode::Op::Mul:
  case SymNode::Op::FloorDiv:
  case SymNode::Op::Mod: return printed(text, Precedence::Multiplicative);
  case SymNode::Op::Var:
  case SymNode::Op::NextPow2:
  case SymNode::Op::Min:
  case SymNode::Op::Max: return printed(text, Precedence::Atom);
  }
  return printed(text, Precedence::Or);
}

Expr triton_dtype_expr(DType dtype) {
  return name(triton_dtype(dtype));
}

SymInt DeviceContext::device_sym(const SymInt &s) {
  if (!s || s->op == SymNode::Op::Const) return s;
  auto node = std::make_shared<SymNode>(*s);
  if (s->op == SymNode::Op::Var) {
    auto key = std::make_pair(s->kernel_name, s->host_expr);
    auto it = sym_vars.find(key);
    if (it == sym_vars.end()) {
      // An int parameter is the user's variable; `x_size_0` (x.size(0)) is ours.
      bool users = s->kernel_name == s->host_expr;
      std::string var = users ? names.user(s->kernel_name) : names.generated(s->kernel_name);
      it = sym_vars.emplace(key, var).first;
    }
    node->kernel_name = it->second;
    return node;
  }
  node->lhs = device_sym(s->lhs);
  node->rhs = device_sym(s->rhs);
  return node;
}

Expr DeviceContext::kernel_sym(const SymInt &s) {
  return sym_text(sym_to_python(device_sym(s), SymSide::Kernel), s);
}

Expr DeviceContext::value(int id) {
  const Node &n = kernel.node(id);
  switch (n.op) {
  case OpKind::Constant: return literal(n.number);
  case OpKind::HostScalar:
    if (n.sym) return kernel_sym(n.sym);
    return name(scalar_names.at(n.scalar));
  case OpKind::TileIndex: return name(blocks.names(n.block).indices);
  case OpKind::TensorPointer: return name(tensor_names.at(n.tensor));
  default: break;
  }
  auto it = values.find(id);
  check_internal(it != values.end(),
                 "node %" + std::to_string(id) + " is used before it is computed");
  return it->second;
}

Expr DeviceContext::value_at_rank(int id, int rank) {
  int have = blocks.cg_rank(kernel.node(id).type.dims);
  Expr e = value(id);
  if (have == 0 || have >= rank) return e;
  std::vector<Expr> index;
  for (int i = 0; i < rank - have; ++i)
    index.push_back(name("None"));
  for (int i = 0; i < have; ++i)
    index.push_back(full_slice());
  return subscript(e, std::move(index));
}

Expr DeviceContext::index_cast(Expr offset) const {
  return int64_indices ? method(std::move(offset), "to", {name("tl.int64")}) : offset;
}

Expr DeviceContext::in_index_type(int node) {
  DType have = kernel.node(node).type.dtype;
  DType want = int64_indices ? DType::Int64 : DType::Int32;
  if (have == want || kernel.node(node).op == OpKind::Constant) return value(node);
  return call("tl.cast", {value(node), triton_dtype_expr(want)});
}

Expr DeviceContext::widened(int node, Expr v) const {
  if (!int64_indices || kernel.node(node).type.dtype == DType::Int64) return v;
  return call("tl.cast", {std::move(v), name("tl.int64")});
}

Expr DeviceContext::shape_list(const std::vector<Dim> &ir_dims) const {
  std::vector<Expr> items;
  for (const Dim &d : blocks.cg_shape(ir_dims))
    items.push_back(d.is_block() ? blocks.size(d.block) : literal(d.size));
  return list(std::move(items));
}

Expr DeviceContext::range_begin(int b) {
  const ir::BlockInfo &info = kernel.blocks[b];
  return info.dynamic_range() ? in_index_type(info.begin_value) : kernel_sym(info.begin);
}

Expr DeviceContext::range_end(int b) {
  const ir::BlockInfo &info = kernel.blocks[b];
  return info.dynamic_range() ? in_index_type(info.end_value) : kernel_sym(info.end);
}

std::string DeviceContext::tensors_device() const {
  return kernel.tensors.empty() ? "None" : kernel.tensors.front().name + ".device";
}

} // namespace helion::codegen
