#include "lower/OpHelpers.h"

#include "support/Diagnostics.h"

#include <set>

namespace helion::lower {

using ir::Dim;

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

int reduce(LoweringContext &cx, ir::ReduceFn fn, int x, int axis, bool keepdim,
           const SourceSpan &span, std::optional<DType> dtype) {
  const ir::TensorType &type = cx.type_of(x);
  Dim reduced = type.dims.at(axis);
  if (!reduced.is_block()) {
    if (reduced.size != 1)
      throw UserError("UnsupportedOp",
                      "reducing a dimension of constant size " + std::to_string(reduced.size) +
                          " is not supported; index that dimension with a full slice `:` instead",
                      span);
    std::vector<Dim> dims = type.dims;
    if (!keepdim) dims.erase(dims.begin() + axis);
    int kept = cx.build().reshape(x, dims, span);
    return dtype ? cx.cast(kept, *dtype, span) : kept;
  }
  if (cx.jagged_parent(reduced.block) >= 0) {
    // Lanes past a row's own length hold whatever was computed there.
    std::vector<Dim> dims = type.dims;
    int inside = cx.jagged_mask(dims, span);
    DType in = cx.type_of(x).dtype;
    int identity = cx.build().literal(ir::identity_literal(fn, in), in, span);
    x = cx.build().where(inside, x, identity, span);
  }
  return cx.build().reduce(fn, x, axis, keepdim, dtype.value_or(cx.type_of(x).dtype), span);
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
    count = cx.build().host_int(extent, span);
  } else {
    // The last tile may be partial: count its valid elements.
    int e = cx.build().tile_end(dim.block, span), b = cx.build().tile_begin(dim.block, span);
    count = cx.build().binary(ir::BinaryFn::Sub, e, b, span);
  }
  return cx.cast(count, DType::Float32, span);
}

int unary_op(LoweringContext &cx, ir::UnaryFn fn, int x, const SourceSpan &span) {
  DType dtype = cx.type_of(x).dtype;
  if (ir::needs_integer_operands(fn) && is_floating(dtype))
    throw UserError("TypeError",
                    std::string(ir::name(fn)) + " needs an integer or bool value; got " +
                        dtype_name(dtype),
                    span);
  if (ir::is_exact(fn)) {
    if ((fn == ir::UnaryFn::Floor || fn == ir::UnaryFn::Ceil) && !is_floating(dtype)) return x;
    return cx.build().unary(fn, x, span);
  }
  DType out = is_floating(dtype) ? dtype : DType::Float32;
  int r = cx.build().unary(fn, cx.cast(x, compute_dtype(out), span), span);
  return cx.cast(r, out, span);
}

int binary_op(LoweringContext &cx, ir::BinaryFn fn, const Operand &a, const Operand &b,
              const SourceSpan &span) {
  using ir::BinaryFn;
  int x = cx.to_node(a, span);
  DType dtype = cx.promote(a, b);
  std::optional<double> exponent = fn == BinaryFn::Pow ? number_of(b) : std::nullopt;
  if (exponent && *exponent == 2) {
    int base = cx.cast(x, dtype, span);
    return cx.build().binary(BinaryFn::Mul, base, base, span);
  }
  if (exponent && *exponent == 0.5 && is_floating(dtype))
    return unary_op(cx, ir::UnaryFn::Sqrt, cx.cast(x, dtype, span), span);
  int y = cx.to_node(b, span);
  if (fn == BinaryFn::LogicalAnd || fn == BinaryFn::LogicalOr)
    return cx.build().binary(fn, cx.cast(x, DType::Bool, span), cx.cast(y, DType::Bool, span),
                             span);
  if (ir::needs_integer_operands(fn) && is_floating(dtype))
    throw UserError("TypeError",
                    std::string(ir::name(fn)) + " needs integer or bool operands; got " +
                        dtype_name(dtype),
                    span);
  if (fn == BinaryFn::TrueDiv && !is_floating(dtype)) dtype = DType::Float32;
  if (fn == BinaryFn::Pow) {
    DType work = compute_dtype(dtype);
    int r = cx.build().binary(fn, cx.cast(x, work, span), cx.cast(y, work, span), span);
    return cx.cast(r, dtype, span);
  }
  return cx.build().binary(fn, cx.cast(x, dtype, span), cx.cast(y, dtype, span), span);
}

/// The int a leaf node holds when compiling (a literal or a host size), if any.
SymInt host_int_of(const ir::Node &n) {
  if (!is_integral(n.type.dtype)) return nullptr;
  if (n.op == ir::OpKind::HostScalar && n.sym) return n.sym;
  if (n.op == ir::OpKind::Constant) {
    try {
      size_t used = 0;
      int64_t value = std::stoll(n.number, &used);
      if (used == n.number.size()) return sym_const(value);
    } catch (const std::exception &) {
    }
  }
  return nullptr;
}

int where_op(LoweringContext &cx, const Operand &cond, const Operand &a, const Operand &b,
             const SourceSpan &span) {
  int c = cx.cast(cx.to_node(cond, span), DType::Bool, span);
  DType dtype = cx.promote(a, b);
  int x = cx.cast(cx.to_node(a, span), dtype, span);
  int y = cx.cast(cx.to_node(b, span), dtype, span);
  return cx.build().where(c, x, y, span);
}

} // namespace helion::lower
