#include "lower/Lowering.h"
#include "support/Diagnostics.h"
#include "support/Text.h"

#include <cmath>

namespace helion::lower {

using ir::Dim;
using ir::Node;
using ir::OpKind;

namespace {

HostValuePtr host_of(const Operand &o) {
  return o.kind == Operand::Kind::Host ? o.host : nullptr;
}

} // namespace

BoundArgs<Operand> bind_operands(const Signature &sig, const std::vector<Operand> &args,
                                 const std::vector<std::pair<std::string, Operand>> &keywords,
                                 const SourceSpan &span) {
  auto make_default = [](const HostValuePtr &v) { return Operand::of_host(v); };
  auto make_tuple = [](std::vector<Operand> items) {
    Operand t;
    t.kind = Operand::Kind::Tuple;
    t.elements = std::move(items);
    return t;
  };
  return BoundArgs<Operand>(sig, args, keywords, span, make_default, make_tuple, host_of);
}

/// How users spell an op: "Tensor.sum" for the method tensor.sum.
static std::string shown_name(const std::string &name) {
  return name.rfind("tensor.", 0) == 0 ? "Tensor." + name.substr(7) : name;
}

void LoweringRegistry::add(const std::string &name, const std::string &params, OpLowering fn) {
  bool method = name.rfind("tensor.", 0) == 0;
  table_[name] = {Signature::parse(shown_name(name), params, method), std::move(fn)};
}

void LoweringRegistry::add_both(const std::string &name, const std::string &params,
                                const OpLowering &fn) {
  add("torch." + name, params, fn);
  add("tensor." + name, params, fn);
}

const LoweringRegistry &LoweringRegistry::instance() {
  static const LoweringRegistry registry = [] {
    LoweringRegistry r;
    register_elementwise(r);
    register_reduction(r);
    register_matmul(r);
    register_creation(r);
    register_view(r);
    register_indexing(r);
    return r;
  }();
  return registry;
}

const OpEntry *LoweringRegistry::find(const std::string &name) const {
  auto it = table_.find(name);
  return it == table_.end() ? nullptr : &it->second;
}

std::vector<std::string> LoweringRegistry::names() const {
  std::vector<std::string> out;
  for (const auto &entry : table_)
    out.push_back(entry.first);
  return out;
}

int LoweringContext::emit(Node node) {
  int id = kernel_.add(std::move(node));
  ir::Stmt stmt;
  stmt.kind = ir::Stmt::Kind::Compute;
  stmt.value = id;
  emit_stmt(std::move(stmt));
  return id;
}

void LoweringContext::emit_stmt(ir::Stmt stmt) {
  check_internal(block_ != nullptr, "device lowering has no block to emit into");
  if (!stmt.span.valid()) stmt.span = statement_;
  block_->push_back(std::move(stmt));
}

bool LoweringContext::is_scalar_operand(const Operand &o) {
  if (o.kind != Operand::Kind::Host) return false;
  auto k = o.host->kind;
  return k == HostValue::Kind::Int || k == HostValue::Kind::Float || k == HostValue::Kind::Bool;
}

DType LoweringContext::dtype_of(const Operand &o) const {
  if (o.kind == Operand::Kind::Tensor) return type_of(o.node).dtype;
  if (o.kind == Operand::Kind::Tile) return DType::Int32;
  if (o.kind == Operand::Kind::Host) {
    if (o.host->kind == HostValue::Kind::Int) return DType::Int64;
    if (o.host->kind == HostValue::Kind::Bool) return DType::Bool;
  }
  return DType::Float32;
}

DType LoweringContext::promote(const Operand &a, const Operand &b) const {
  bool a_scalar = is_scalar_operand(a), b_scalar = is_scalar_operand(b);
  DType da = dtype_of(a), db = dtype_of(b);
  if (a_scalar == b_scalar) {
    if (a_scalar && da == DType::Int64 && db == DType::Int64) return DType::Int32;
    return helion::promote(da, db);
  }
  // A Python scalar only changes the category (int -> float), never the width.
  DType tensor_dtype = a_scalar ? db : da;
  DType scalar_dtype = a_scalar ? da : db;
  if (is_floating(scalar_dtype) && !is_floating(tensor_dtype)) return DType::Float32;
  if (scalar_dtype != DType::Bool && tensor_dtype == DType::Bool) return DType::Int32;
  return tensor_dtype;
}

static std::string format_number(double v) {
  std::string text = shortest_double(v);
  if (text == "inf") return "float('inf')";
  if (text == "-inf") return "float('-inf')";
  if (text == "nan" || text == "-nan") return "float('nan')";
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

int LoweringContext::constant(double value, DType dtype, const SourceSpan &span) {
  Node n;
  n.op = OpKind::Constant;
  n.type.dtype = dtype;
  if (dtype == DType::Bool)
    n.number = value != 0 ? "True" : "False";
  else if (is_floating(dtype))
    n.number = format_number(value);
  else
    n.number = std::to_string(static_cast<int64_t>(value));
  n.span = span;
  return kernel_.add(std::move(n));
}

int LoweringContext::to_node(const Operand &o, const SourceSpan &span) {
  switch (o.kind) {
  case Operand::Kind::Tensor:
    return o.node;
  case Operand::Kind::Tile: {
    Node n;
    n.op = OpKind::TileIndex;
    n.block = o.block;
    n.type = {DType::Int32, {Dim::of_block(o.block)}};
    n.span = span;
    return kernel_.add(std::move(n)); // spelled inline as `indices_<b>`, like constants
  }
  case Operand::Kind::Host:
    break;
  default:
    throw UserError("InvalidIndexingType", "a slice or None is only valid inside a subscript",
                    span);
  }
  const HostValue &h = *o.host;
  switch (h.kind) {
  case HostValue::Kind::Int: {
    if (auto c = sym_constant(h.sym)) return constant(static_cast<double>(*c), DType::Int32, span);
    Node n;
    n.op = OpKind::HostScalar;
    n.sym = h.sym;
    n.type.dtype = DType::Int32;
    n.span = span;
    return kernel_.add(std::move(n));
  }
  case HostValue::Kind::Float:
  case HostValue::Kind::Bool: {
    DType dtype = h.kind == HostValue::Kind::Float ? DType::Float32 : DType::Bool;
    if (h.number) return constant(*h.number, dtype, span);
    if (h.truth) return constant(*h.truth ? 1 : 0, dtype, span);
    check_internal(!o.host_name.empty(), "runtime host scalar without a name");
    int index = -1;
    for (size_t i = 0; i < kernel_.scalars.size(); ++i)
      if (kernel_.scalars[i].name == o.host_name) index = static_cast<int>(i);
    if (index < 0) {
      index = static_cast<int>(kernel_.scalars.size());
      kernel_.scalars.push_back({o.host_name, dtype});
    }
    Node n;
    n.op = OpKind::HostScalar;
    n.scalar = index;
    n.type.dtype = dtype;
    n.span = span;
    return kernel_.add(std::move(n));
  }
  case HostValue::Kind::Tensor:
    throw UserError("HostTensorDirectUsage",
                    "host tensor '" + o.host_name +
                        "' is used directly on the device; index it with tiles, e.g. " +
                        o.host_name + "[tile]",
                    span);
  default:
    throw UserError("NotAllowedOnDevice",
                    h.describe() + " cannot be used as a value in device code", span);
  }
}

int LoweringContext::cast(int node, DType dtype, const SourceSpan &span) {
  if (type_of(node).dtype == dtype) return node;
  // Literals are retyped rather than converted at run time.
  if (kernel_.node(node).op == OpKind::Constant) {
    const std::string &text = kernel_.node(node).number;
    double value = text == "True"                           ? 1
                   : text == "False"                        ? 0
                   : text.find("-inf") != std::string::npos ? -INFINITY
                   : text.find("inf") != std::string::npos  ? INFINITY
                   : text.find("nan") != std::string::npos  ? NAN
                                                            : std::stod(text);
    return constant(value, dtype, span);
  }
  Node n;
  n.op = OpKind::Cast;
  n.operands = {node};
  n.type = {dtype, type_of(node).dims};
  n.span = span;
  return emit(std::move(n));
}

std::string LoweringContext::shape_text(const std::vector<Dim> &dims) const {
  std::string text = "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) text += ", ";
    if (!dims[i].is_block()) {
      text += std::to_string(dims[i].size);
      continue;
    }
    const ir::BlockInfo &b = kernel_.block(dims[i].block);
    if (b.kind == ir::BlockInfo::Kind::Tile)
      text += b.name_hint.empty() ? "tile" : b.name_hint;
    else
      text += ":" + sym_to_python(b.end, SymSide::Host);
  }
  return text + "]";
}

std::vector<Dim> LoweringContext::broadcast(const ir::TensorType &a, const ir::TensorType &b,
                                            const SourceSpan &span) const {
  size_t rank = std::max(a.dims.size(), b.dims.size());
  std::vector<Dim> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    // Align from the right, like torch.
    const Dim *da = i < rank - a.dims.size() ? nullptr : &a.dims[i - (rank - a.dims.size())];
    const Dim *db = i < rank - b.dims.size() ? nullptr : &b.dims[i - (rank - b.dims.size())];
    if (!da) {
      out[i] = *db;
      continue;
    }
    if (!db) {
      out[i] = *da;
      continue;
    }
    if (*da == *db || *db == Dim::constant(1)) {
      out[i] = *da;
      continue;
    }
    if (*da == Dim::constant(1)) {
      out[i] = *db;
      continue;
    }
    throw UserError("ShapeMismatch",
                    "shapes " + shape_text(a.dims) + " and " + shape_text(b.dims) +
                        " do not broadcast (dimension " + std::to_string(i) +
                        "); operands must use the same tiles",
                    span);
  }
  return out;
}

int LoweringContext::reduction_block(const SymInt &size, const SourceSpan &span) {
  for (int id : kernel_.reductions)
    if (sym_equal(kernel_.block(id).end, size)) return id;
  ir::BlockInfo b;
  b.kind = ir::BlockInfo::Kind::Reduction;
  b.begin = sym_const(0);
  b.end = size;
  b.reduction = static_cast<int>(kernel_.reductions.size());
  b.name_hint = "r" + std::to_string(b.reduction);
  kernel_.blocks.push_back(b);
  int id = static_cast<int>(kernel_.blocks.size()) - 1;
  kernel_.reductions.push_back(id);
  return id;
}

DType LoweringContext::dtype_arg(const Operand &o, const SourceSpan &span) const {
  if (o.is_host(HostValue::Kind::DType)) return o.host->dtype;
  throw UserError("TypeError", "expected a dtype such as torch.float32", span);
}

int64_t LoweringContext::int_arg(const Operand &o, const SourceSpan &span) const {
  if (o.is_host(HostValue::Kind::Int))
    if (auto c = sym_constant(o.host->sym)) return *c;
  throw UserError("TypeError", "expected an int known at compile time", span);
}

std::vector<Dim> LoweringContext::shape_arg(const Operand &o, const SourceSpan &span) {
  std::vector<Operand> items;
  if (o.kind == Operand::Kind::Tuple)
    items = o.elements;
  else if (o.is_host(HostValue::Kind::Tuple))
    for (const auto &e : o.host->elements)
      items.push_back(Operand::of_host(e));
  else
    items.push_back(o);
  std::vector<Dim> dims;
  for (const Operand &item : items) {
    if (item.kind == Operand::Kind::Tile) {
      dims.push_back(Dim::of_block(item.block));
      continue;
    }
    if (item.is_host(HostValue::Kind::Int)) {
      if (sym_constant(item.host->sym) == 1) {
        dims.push_back(Dim::constant(1));
        continue;
      }
      // A whole dimension, the same as `x[tile, :]` over a dim of that size.
      dims.push_back(Dim::of_block(reduction_block(item.host->sym, span)));
      continue;
    }
    throw UserError("TypeError",
                    "a shape on the device is a list of tiles and sizes, e.g. [tile_m, tile_n]",
                    span);
  }
  return dims;
}

} // namespace helion::lower
