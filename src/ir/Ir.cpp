#include "ir/Ir.h"

#include "support/Diagnostics.h"

#include <algorithm>
#include <type_traits>

namespace helion::ir {

int DeviceKernel::add(Node node) {
  for (int operand : node.operands)
    check_internal(operand >= 0 && operand < static_cast<int>(nodes.size()),
                   "ir node refers to an operand that does not exist");
  node.id = static_cast<int>(nodes.size());
  nodes.push_back(std::move(node));
  return nodes.back().id;
}

static const char *op_name(OpKind op) {
  switch (op) {
  case OpKind::Constant:
    return "constant";
  case OpKind::HostScalar:
    return "host_scalar";
  case OpKind::TileIndex:
    return "tile_index";
  case OpKind::TileBegin:
    return "tile_begin";
  case OpKind::TileEnd:
    return "tile_end";
  case OpKind::TileSize:
    return "tile_size";
  case OpKind::Full:
    return "full";
  case OpKind::Load:
    return "load";
  case OpKind::Unary:
    return "unary";
  case OpKind::Binary:
    return "binary";
  case OpKind::Where:
    return "where";
  case OpKind::Cast:
    return "cast";
  case OpKind::Reduce:
    return "reduce";
  case OpKind::Dot:
    return "dot";
  case OpKind::Reshape:
    return "reshape";
  case OpKind::Permute:
    return "permute";
  case OpKind::MaskFill:
    return "mask_fill";
  case OpKind::CombineReduce:
    return "combine_reduce";
  case OpKind::Scan:
    return "scan";
  case OpKind::Random:
    return "random";
  case OpKind::Arange:
    return "arange";
  case OpKind::RegionArg:
    return "region_arg";
  case OpKind::RegionResult:
    return "region_result";
  case OpKind::LoopIndex:
    return "loop_index";
  case OpKind::Join:
    return "join";
  case OpKind::Split:
    return "split";
  case OpKind::Print:
    return "print";
  case OpKind::InlineAsm:
    return "inline_asm";
  case OpKind::Atomic:
    return "atomic";
  case OpKind::TritonCall:
    return "triton_call";
  case OpKind::InlineTriton:
    return "inline_triton";
  case OpKind::TritonResult:
    return "triton_result";
  case OpKind::TensorPointer:
    return "tensor_pointer";
  }
  return "?";
}

std::vector<Dim> access_dims(const DeviceKernel &k, const std::vector<IndexItem> &index) {
  std::vector<Dim> dims;
  for (const IndexItem &item : index) {
    switch (item.kind) {
    case IndexItem::Kind::Block:
      dims.push_back(Dim::of_block(item.block));
      break;
    case IndexItem::Kind::NewAxis:
      dims.push_back(Dim::constant(1));
      break;
    case IndexItem::Kind::Gather: {
      const std::vector<Dim> &gathered = k.node(item.value).type.dims;
      dims.insert(dims.end(), gathered.begin(), gathered.end());
      break;
    }
    case IndexItem::Kind::Scalar:
      break;
    }
  }
  return dims;
}

namespace {

void count_statement_uses(const std::vector<Stmt> &body, std::vector<NodeUses> &uses) {
  auto other = [&](int id) {
    if (id >= 0) ++uses.at(id).others;
  };
  for (const Stmt &s : body) {
    if (s.kind == Stmt::Kind::Store) other(s.value);
    for (int id : {s.mask, s.cond, s.range_begin, s.range_end, s.range_step})
      other(id);
    for (const Carry &c : s.carried)
      for (int id : {c.init, c.yielded, c.else_yielded})
        other(id);
    for (const IndexItem &item : s.index)
      other(item.value);
    for_each_region(s,
                    [&](const std::vector<Stmt> &region) { count_statement_uses(region, uses); });
  }
}

} // namespace

std::vector<NodeUses> count_uses(const DeviceKernel &kernel) {
  std::vector<NodeUses> uses(kernel.nodes.size());
  for (const Node &n : kernel.nodes) {
    for (int operand : n.operands)
      ++uses.at(operand).operands;
    for (const IndexItem &item : n.index)
      if (item.value >= 0) ++uses.at(item.value).others;
  }
  for (const RootLoop &root : kernel.roots)
    count_statement_uses(root.body, uses);
  for (const CombineFn &fn : kernel.combine_fns) {
    count_statement_uses(fn.body, uses);
    for (int id : fn.results)
      ++uses.at(id).others;
  }
  return uses;
}

std::vector<int> regrouped_blocks(const DeviceKernel &kernel, const Node &n) {
  std::vector<int> out;
  if (n.op != OpKind::Reshape || !n.regroup) return out;
  const std::vector<Dim> &from = kernel.node(n.operands.at(0)).type.dims;
  for (const std::vector<Dim> *dims : {&from, &n.type.dims})
    for (const Dim &d : *dims)
      if (d.is_block() &&
          std::count(from.begin(), from.end(), d) != std::count(n.type.dims.begin(),
                                                                n.type.dims.end(), d) &&
          std::find(out.begin(), out.end(), d.block) == out.end())
        out.push_back(d.block);
  return out;
}

static std::string type_text(const TensorType &type) {
  std::string text = dtype_name(type.dtype) + "[";
  for (size_t i = 0; i < type.dims.size(); ++i) {
    if (i) text += ", ";
    const Dim &d = type.dims[i];
    text += d.is_block() ? "b" + std::to_string(d.block) : std::to_string(d.size);
  }
  return text + "]";
}

static std::string operand_text(const DeviceKernel &k, int id);

static std::string index_text(const DeviceKernel &k, const std::vector<IndexItem> &index) {
  std::string text = "[";
  for (size_t i = 0; i < index.size(); ++i) {
    if (i) text += ", ";
    const IndexItem &item = index[i];
    if (item.kind == IndexItem::Kind::Block)
      text += "b" + std::to_string(item.block) +
              (item.start ? " from " + sym_to_python(item.start, SymSide::Host) : "") +
              (item.value >= 0 ? " from " + operand_text(k, item.value) : "");
    if (item.kind == IndexItem::Kind::Scalar) text += operand_text(k, item.value);
    if (item.kind == IndexItem::Kind::Gather) text += "gather %" + std::to_string(item.value);
    if (item.kind == IndexItem::Kind::NewAxis) text += "None";
  }
  return text + "]";
}

/// An operand as the text form shows it: leaves that have no statement of
/// their own (literals, host values) by value, the rest by id.
static std::string operand_text(const DeviceKernel &k, int id) {
  const Node &n = k.node(id);
  if (n.op == OpKind::Constant) return n.number;
  if (n.op == OpKind::HostScalar)
    return "host(" + (n.sym ? sym_to_python(n.sym, SymSide::Host) : k.scalars.at(n.scalar).name) +
           ")";
  if (n.op == OpKind::TileIndex) return "index(b" + std::to_string(n.block) + ")";
  return "%" + std::to_string(id);
}

static void dump_node(std::string &out, const DeviceKernel &k, const Node &n) {
  out += "%" + std::to_string(n.id) + ": " + type_text(n.type) + " = " + op_name(n.op);
  std::visit(
      [&](auto fn) {
        if constexpr (!std::is_same_v<decltype(fn), std::monostate>) out += std::string(".") + name(fn);
      },
      n.fn);
  for (int operand : n.operands)
    out += " " + operand_text(k, operand);
  if (n.op == OpKind::Constant) out += " " + n.number;
  if (n.op == OpKind::HostScalar)
    out += " " + (n.sym ? sym_to_python(n.sym, SymSide::Host) : k.scalars.at(n.scalar).name);
  if (n.block >= 0) out += " b" + std::to_string(n.block);
  if (n.op == OpKind::Load || n.op == OpKind::Atomic)
    out += " " + k.tensors.at(n.tensor).name + index_text(k, n.index);
  if (n.op == OpKind::Atomic && n.sem != MemorySem::Relaxed) out += std::string(" ") + name(n.sem);
  if (n.op == OpKind::Reduce || n.op == OpKind::CombineReduce || n.op == OpKind::Scan)
    out += " axis=" + std::to_string(n.axis) + (n.keepdim ? " keepdim" : "");
  if (n.op == OpKind::TensorPointer) out += " " + k.tensors.at(n.tensor).name;
  if (n.op == OpKind::TritonCall) out += " " + k.triton_functions.at(n.callee).name;
  if (n.op == OpKind::TritonResult) out += " [" + std::to_string(n.result_index) + "]";
  if (n.op == OpKind::TritonCall || n.op == OpKind::InlineTriton) {
    out += " ->";
    for (const TensorType &t : n.results)
      out += " " + type_text(t);
  }
  if (n.combine >= 0)
    out += " combine=" + std::to_string(n.combine) +
           (n.result_index ? "[" + std::to_string(n.result_index) + "]" : "");
}

static std::string ref(int id) {
  return "%" + std::to_string(id);
}

static std::string carries_text(const std::vector<Carry> &carried, bool is_if) {
  std::string out;
  for (const Carry &c : carried)
    out += " " + c.name +
           (is_if ? "(" + ref(c.yielded) + " | " + ref(c.else_yielded) + " -> " + ref(c.result) + ")"
                  : "(" + ref(c.init) + " -> " + ref(c.arg) + " -> " + ref(c.yielded) + " -> " +
                        ref(c.result) + ")");
  return out;
}

static void dump_block(std::string &out, const DeviceKernel &k, const std::vector<Stmt> &body,
                       int depth) {
  std::string pad(depth * 2, ' ');
  for (const Stmt &s : body) {
    switch (s.kind) {
    case Stmt::Kind::Compute:
      out += pad;
      dump_node(out, k, k.node(s.value));
      out += "\n";
      break;
    case Stmt::Kind::Store:
      out += pad + (s.atomic ? std::string("atomic_") + name(*s.atomic) + " " : "store ") +
             k.tensors.at(s.tensor).name + index_text(k, s.index) + " = " + ref(s.value) +
             (s.mask >= 0 ? " mask " + ref(s.mask) : "") +
             (s.atomic && s.sem != MemorySem::Relaxed ? std::string(" ") + name(s.sem) : "") +
             "\n";
      break;
    case Stmt::Kind::TileLoop:
      out += pad + "tile_loop call" + std::to_string(s.tile_call) +
             carries_text(s.carried, false) + "\n";
      dump_block(out, k, s.body, depth + 1);
      break;
    case Stmt::Kind::ReductionLoop:
      out += pad + "reduction_loop b" + std::to_string(s.block) + carries_text(s.carried, false) +
             "\n";
      dump_block(out, k, s.body, depth + 1);
      break;
    case Stmt::Kind::RangeLoop:
      out += pad + "range_loop " + ref(s.loop_index) + " in [" + ref(s.range_begin) + ", " +
             ref(s.range_end) + ") step " + ref(s.range_step) + carries_text(s.carried, false) +
             "\n";
      dump_block(out, k, s.body, depth + 1);
      break;
    case Stmt::Kind::If:
      out += pad + "if " + ref(s.cond) + carries_text(s.carried, true) + "\n";
      dump_block(out, k, s.body, depth + 1);
      out += pad + "else\n";
      dump_block(out, k, s.orelse, depth + 1);
      break;
    case Stmt::Kind::While:
      out += pad + "while " + ref(s.cond) + carries_text(s.carried, false) + "\n";
      out += pad + "  cond\n";
      dump_block(out, k, s.cond_body, depth + 2);
      out += pad + "  body\n";
      dump_block(out, k, s.body, depth + 2);
      break;
    }
  }
}

/// ` block_size <expr>` for a tile whose size host arithmetic derives from
/// the config (TileCall::derived_block_sizes), else "".
static std::string derived_block_size_text(const DeviceKernel &kernel, const BlockInfo &info) {
  if (info.tile_call < 0 || info.dim_in_call < 0) return "";
  const TileCall &call = kernel.tile_calls.at(info.tile_call);
  size_t dim = static_cast<size_t>(info.dim_in_call);
  if (dim >= call.derived_block_sizes.size() || !call.derived_block_sizes[dim]) return "";
  return " block_size " + sym_to_python(call.derived_block_sizes[dim], SymSide::Host);
}

std::string dump(const DeviceKernel &kernel) {
  std::string out;
  for (size_t b = 0; b < kernel.blocks.size(); ++b) {
    const BlockInfo &info = kernel.blocks[b];
    out += "block b" + std::to_string(b) +
           (info.kind == BlockInfo::Kind::Tile ? " tile [" : " reduction [") +
           (info.dynamic_range() ? operand_text(kernel, info.begin_value) + ", " +
                                       operand_text(kernel, info.end_value)
                                 : sym_to_python(info.begin, SymSide::Host) + ", " +
                                       sym_to_python(info.end, SymSide::Host)) +
           ")" + (info.unit ? " unit" : "") + derived_block_size_text(kernel, info) + "\n";
  }
  for (const RootLoop &root : kernel.roots) {
    out += "grid call" + std::to_string(root.grid_call) + "\n";
    dump_block(out, kernel, root.body, 1);
  }
  for (size_t i = 0; i < kernel.combine_fns.size(); ++i) {
    const CombineFn &fn = kernel.combine_fns[i];
    out += "combine " + std::to_string(i) + " (";
    for (size_t p = 0; p < fn.params.size(); ++p)
      out += (p ? ", " : "") + ref(fn.params[p]);
    out += ") ->";
    for (int r : fn.results)
      out += " " + operand_text(kernel, r);
    out += "\n";
    dump_block(out, kernel, fn.body, 1);
  }
  return out;
}

} // namespace helion::ir
