#include "lower/OpHelpers.h"

#include "support/Diagnostics.h"

#include <set>

namespace helion::lower {

using ir::Dim;
using ir::Node;
using ir::OpKind;

bool is_none(const Operand &o) {
  return o.is_host(HostValue::Kind::None);
}

std::optional<double> number_of(const Operand &o) {
  if (o.kind != Operand::Kind::Host) return std::nullopt;
  if (o.host->kind == HostValue::Kind::Int)
    if (auto c = sym_constant(o.host->sym)) return static_cast<double>(*c);
  if (o.host->kind == HostValue::Kind::Float) return o.host->number;
  return std::nullopt;
}

bool flag_arg(const Operand &o, bool fallback, const SourceSpan &span) {
  if (is_none(o)) return fallback;
  if (o.is_host(HostValue::Kind::Bool) && o.host->truth) return *o.host->truth;
  if (auto n = number_of(o)) return *n != 0;
  throw UserError("TypeError", "expected True or False known at compile time", span);
}

std::vector<Operand> items_of(const Operand &o) {
  if (o.kind == Operand::Kind::Tuple) return o.elements;
  if (!o.is_host(HostValue::Kind::Tuple)) return {o};
  std::vector<Operand> items;
  for (const auto &e : o.host->elements)
    items.push_back(Operand::of_host(e));
  return items;
}

int normalize_axis(int64_t axis, int rank, const SourceSpan &span) {
  int64_t bound = std::max(rank, 1);
  if (axis < -bound || axis >= bound)
    throw UserError("RankMismatch",
                    "dimension " + std::to_string(axis) + " is out of range for a value of rank " +
                        std::to_string(rank),
                    span);
  return static_cast<int>(axis < 0 ? axis + bound : axis);
}

int input_node(LoweringContext &cx, const CallArgs &args) {
  return cx.to_node(args["input"], args.span);
}

static bool is_comparison(const std::string &fn) {
  static const std::set<std::string> fns = {"eq", "ne", "lt",          "le",
                                            "gt", "ge", "logical_and", "logical_or"};
  return fns.count(fn) > 0;
}

static int make(LoweringContext &cx, OpKind op, std::vector<int> operands, ir::TensorType type,
                const std::string &fn, const SourceSpan &span) {
  Node n;
  n.op = op;
  n.operands = std::move(operands);
  n.type = std::move(type);
  n.fn = fn;
  n.span = span;
  return cx.emit(std::move(n));
}

int unary(LoweringContext &cx, const std::string &fn, int x, const SourceSpan &span) {
  ir::TensorType type = cx.type_of(x);
  if (fn == "logical_not") type.dtype = DType::Bool;
  return make(cx, OpKind::Unary, {x}, type, fn, span);
}

int binary(LoweringContext &cx, const std::string &fn, int a, int b, const SourceSpan &span) {
  check_internal(cx.type_of(a).dtype == cx.type_of(b).dtype, "binary operands differ in dtype");
  ir::TensorType type{cx.type_of(a).dtype, cx.broadcast(cx.type_of(a), cx.type_of(b), span)};
  if (is_comparison(fn)) type.dtype = DType::Bool;
  return make(cx, OpKind::Binary, {a, b}, type, fn, span);
}

int reshape(LoweringContext &cx, int x, std::vector<Dim> dims, const SourceSpan &span) {
  ir::TensorType type = cx.type_of(x);
  if (type.dims == dims) return x;
  type.dims = std::move(dims);
  return make(cx, OpKind::Reshape, {x}, type, "", span);
}

int reduce(LoweringContext &cx, const std::string &fn, int x, int axis, bool keepdim,
           const SourceSpan &span, std::optional<DType> dtype) {
  ir::TensorType type = cx.type_of(x);
  if (dtype) type.dtype = *dtype;
  Dim reduced = type.dims.at(axis);
  if (keepdim)
    type.dims[axis] = Dim::constant(1);
  else
    type.dims.erase(type.dims.begin() + axis);
  if (!reduced.is_block()) {
    if (reduced.size != 1)
      throw UserError("UnsupportedOp",
                      "reducing a dimension of constant size " + std::to_string(reduced.size) +
                          " is not supported; index that dimension with a full slice `:` instead",
                      span);
    return reshape(cx, x, type.dims, span);
  }
  Node n;
  n.op = OpKind::Reduce;
  n.operands = {x};
  n.type = type;
  n.fn = fn;
  n.axis = axis;
  n.keepdim = keepdim;
  n.span = span;
  return cx.emit(std::move(n));
}

int extent_of(LoweringContext &cx, const Dim &dim_ref, const SourceSpan &span) {
  const Dim dim = dim_ref; // emitting nodes may move the node `dim_ref` lives in
  if (!dim.is_block()) return cx.constant(static_cast<double>(dim.size), DType::Float32, span);
  const ir::BlockInfo &block = cx.kernel().block(dim.block);
  int count;
  if (block.kind == ir::BlockInfo::Kind::Reduction) {
    SymInt extent = block.extent();
    if (auto c = sym_constant(extent))
      return cx.constant(static_cast<double>(*c), DType::Float32, span);
    Node n;
    n.op = OpKind::HostScalar;
    n.sym = extent;
    n.type.dtype = DType::Int32;
    n.span = span;
    count = cx.kernel().add(std::move(n));
  } else {
    // The last tile may be partial: count its valid elements.
    ir::TensorType scalar{DType::Int32, {}};
    Node end, begin;
    end.op = OpKind::TileEnd;
    begin.op = OpKind::TileBegin;
    for (Node *n : {&end, &begin}) {
      n->block = dim.block;
      n->type = scalar;
      n->span = span;
    }
    int e = cx.emit(std::move(end)), b = cx.emit(std::move(begin));
    count = binary(cx, "sub", e, b, span);
  }
  return cx.cast(count, DType::Float32, span);
}

int unary_op(LoweringContext &cx, const std::string &fn, int x, const SourceSpan &span) {
  static const std::set<std::string> exact = {"relu", "neg",         "abs",        "floor",
                                              "ceil", "logical_not", "bitwise_not"};
  DType dtype = cx.type_of(x).dtype;
  if (fn == "bitwise_not" && is_floating(dtype))
    throw UserError("TypeError",
                    "bitwise_not needs an integer or bool value; got " + dtype_name(dtype), span);
  if (exact.count(fn)) {
    if ((fn == "floor" || fn == "ceil") && !is_floating(dtype)) return x;
    return unary(cx, fn, x, span);
  }
  DType out = is_floating(dtype) ? dtype : DType::Float32;
  int r = unary(cx, fn, cx.cast(x, compute_dtype(out), span), span);
  return cx.cast(r, out, span);
}

int binary_op(LoweringContext &cx, const std::string &fn, const Operand &a, const Operand &b,
              const SourceSpan &span) {
  int x = cx.to_node(a, span);
  DType dtype = cx.promote(a, b);
  std::optional<double> exponent = fn == "pow" ? number_of(b) : std::nullopt;
  if (exponent && *exponent == 2) {
    int base = cx.cast(x, dtype, span);
    return binary(cx, "mul", base, base, span);
  }
  if (exponent && *exponent == 0.5 && is_floating(dtype))
    return unary_op(cx, "sqrt", cx.cast(x, dtype, span), span);
  int y = cx.to_node(b, span);
  if (fn == "logical_and" || fn == "logical_or")
    return binary(cx, fn, cx.cast(x, DType::Bool, span), cx.cast(y, DType::Bool, span), span);
  if (fn.rfind("bitwise_", 0) == 0 && is_floating(dtype))
    throw UserError("TypeError", fn + " needs integer or bool operands; got " + dtype_name(dtype),
                    span);
  if (fn == "truediv" && !is_floating(dtype)) dtype = DType::Float32;
  if (fn == "pow") {
    DType work = compute_dtype(dtype);
    int r = binary(cx, fn, cx.cast(x, work, span), cx.cast(y, work, span), span);
    return cx.cast(r, dtype, span);
  }
  return binary(cx, fn, cx.cast(x, dtype, span), cx.cast(y, dtype, span), span);
}

int where_op(LoweringContext &cx, const Operand &cond, const Operand &a, const Operand &b,
             const SourceSpan &span) {
  int c = cx.cast(cx.to_node(cond, span), DType::Bool, span);
  DType dtype = cx.promote(a, b);
  int x = cx.cast(cx.to_node(a, span), dtype, span);
  int y = cx.cast(cx.to_node(b, span), dtype, span);
  std::vector<Dim> dims = cx.broadcast(cx.type_of(c), cx.type_of(x), span);
  dims = cx.broadcast({dtype, dims}, cx.type_of(y), span);
  return make(cx, OpKind::Where, {c, x, y}, {dtype, dims}, "", span);
}

} // namespace helion::lower
