// Reductions and scans by a combine function: hl.reduce and
// hl.associative_scan with the user's function (a lambda or a helper), and
// cumsum / cumprod, whose combine function is + or *. Each lowers the
// combine function once, over two scalars, into a region of its own.

#include "lower/OpHelpers.h"
#include "support/Diagnostics.h"

namespace helion::lower {

namespace {

/// Adds a combine function over scalars of `dtype`: the callable `fn`
/// inlined on its two parameters, or `builtin` applied to them.
int combine_region(LoweringContext &cx, DType dtype, const SourceSpan &span,
                   const Operand *fn, std::optional<ir::BinaryFn> builtin = std::nullopt) {
  ir::TensorType scalar{dtype, {}};
  ir::CombineFn region;
  region.params = {cx.build().region_arg(scalar, "left"), cx.build().region_arg(scalar, "right")};
  std::vector<ir::Stmt> *outer = cx.current_block();
  cx.set_block(&region.body);
  int result;
  if (builtin) {
    result = cx.build().binary(*builtin, region.params[0], region.params[1], span);
  } else {
    Operand value = cx.invoke(*fn, {Operand::tensor(region.params[0]),
                                    Operand::tensor(region.params[1])},
                              span);
    if (value.kind == Operand::Kind::Tuple)
      throw UserError("UnsupportedOp",
                      "combine functions over tuples of tensors are not supported yet; combine "
                      "one tensor at a time",
                      span);
    result = cx.to_node(value, span);
    if (cx.type_of(result).rank() != 0)
      throw UserError("TypeError",
                      "a combine function must return one value computed from its two "
                      "arguments",
                      span);
    result = cx.cast(result, dtype, span);
  }
  cx.set_block(outer);
  region.result = result;
  cx.kernel().combine_fns.push_back(std::move(region));
  return static_cast<int>(cx.kernel().combine_fns.size()) - 1;
}

const Operand &callable_arg(const CallArgs &args) {
  const Operand &fn = args["combine_fn"];
  if (!fn.is_callable())
    throw UserError("TypeError",
                    args.signature->name() +
                        "'s combine_fn must be a function: a lambda or a function defined at "
                        "module level",
                    args.span);
  return fn;
}

/// The axis a scan runs along: a block dimension, or -1 for a dimension of
/// size 1 (along which a scan changes nothing).
int block_axis(LoweringContext &cx, int x, const Operand &dim, const CallArgs &args) {
  int axis = normalize_axis(cx.int_arg(dim, args.span), cx.type_of(x).rank(), args.span);
  if (cx.type_of(x).dims[axis] == ir::Dim::constant(1)) return -1;
  if (!cx.type_of(x).dims[axis].is_block())
    throw UserError("UnsupportedOp",
                    args.signature->name() + " runs along a tile or a full slice `:`; dimension " +
                        std::to_string(axis) + " has constant size",
                    args.span);
  return axis;
}

Operand lower_scan(LoweringContext &cx, const CallArgs &args, const Operand *fn,
                   std::optional<ir::BinaryFn> builtin, std::optional<DType> dtype) {
  if (args.signature->find_keyword("reverse") >= 0 && flag_arg(args["reverse"], false, args.span))
    throw UserError("UnsupportedOp",
                    args.signature->name() + " with reverse=True is not supported yet; flip "
                                             "the input with an index that counts down",
                    args.span);
  int x = input_node(cx, args);
  if (dtype) x = cx.cast(x, *dtype, args.span);
  int axis = block_axis(cx, x, args["dim"], args);
  if (axis < 0) return Operand::tensor(x);
  int combine = combine_region(cx, cx.type_of(x).dtype, args.span, fn, builtin);
  return Operand::tensor(cx.build().scan(combine, x, axis, args.span));
}

/// cumsum/cumprod: torch accumulates integers and bools in int64.
std::optional<DType> accumulation_dtype(LoweringContext &cx, const CallArgs &args) {
  if (args.signature->find_keyword("dtype") >= 0 && !is_none(args["dtype"]))
    return cx.dtype_arg(args["dtype"], args.span);
  DType in = cx.dtype_of(args["input"]);
  return is_floating(in) ? in : DType::Int64;
}

/// hl.reduce: over `dim` (every dim when None), lanes past the end counting as `other`.
Operand lower_reduce(LoweringContext &cx, const CallArgs &args) {
  const Operand &fn = callable_arg(args);
  int x = input_node(cx, args);
  auto other = number_of(args["other"]);
  if (!other)
    throw UserError("TypeError", "hl.reduce's other must be a number known at compile time",
                    args.span);
  DType dtype = cx.type_of(x).dtype;
  int fill = cx.constant(*other, dtype, args.span);
  std::string literal = cx.node(fill).number;
  bool keepdim = flag_arg(args["keep_dims"], false, args.span);
  std::vector<int> axes;
  if (is_none(args["dim"])) {
    for (int a = cx.type_of(x).rank() - 1; a >= 0; --a)
      axes.push_back(a);
  } else {
    axes.push_back(normalize_axis(cx.int_arg(args["dim"], args.span), cx.type_of(x).rank(),
                                  args.span));
  }
  int combine = -1;
  for (int axis : axes) { // highest first, so lower axes keep their positions
    if (!cx.type_of(x).dims[axis].is_block()) {
      x = reduce(cx, ir::ReduceFn::Sum, x, axis, keepdim, args.span); // a size-1 dim
      continue;
    }
    if (combine < 0) combine = combine_region(cx, dtype, args.span, &fn);
    x = cx.build().combine_reduce(combine, x, axis, keepdim, literal, args.span);
  }
  return Operand::tensor(x);
}

} // namespace

void register_combine(LoweringRegistry &r) {
  r.add("hl.reduce", "(combine_fn, input, dim=None, other=0, keep_dims=False)", lower_reduce);
  r.add("hl.associative_scan", "(combine_fn, input, dim, reverse=False)",
        [](LoweringContext &cx, const CallArgs &args) {
          return lower_scan(cx, args, &callable_arg(args), std::nullopt, std::nullopt);
        });
  for (auto [name, fn] : {std::pair<const char *, ir::BinaryFn>{"cumsum", ir::BinaryFn::Add},
                          {"cumprod", ir::BinaryFn::Mul}}) {
    ir::BinaryFn op = fn;
    OpLowering lowering = [op](LoweringContext &cx, const CallArgs &args) {
      return lower_scan(cx, args, nullptr, op, accumulation_dtype(cx, args));
    };
    r.add(std::string("hl.") + name, "(input, dim, reverse=False)", lowering);
    r.add_both(name, "(input, dim, *, dtype=None, ~out=None)", lowering);
  }
}

} // namespace helion::lower
