// Reductions and scans by a combine function: hl.reduce and
// hl.associative_scan with the user's function (a lambda or a helper), and
// cumsum / cumprod, whose combine function is + or *. Each lowers the
// combine function once, over two scalars, into a region of its own.

#include "lower/OpHelpers.h"
#include "support/Diagnostics.h"

namespace helion::lower {

namespace {

/// Adds a combine function over one scalar of each of `dtypes` from either
/// side: the callable `fn` inlined on its parameters (left values, then right
/// ones), or `builtin` applied to a single pair.
int combine_region(LoweringContext &cx, const std::vector<DType> &dtypes, const SourceSpan &span,
                   const Operand *fn, std::optional<ir::BinaryFn> builtin = std::nullopt) {
  ir::CombineFn region;
  for (const char *side : {"left", "right"})
    for (DType dtype : dtypes)
      region.params.push_back(cx.build().region_arg({dtype, {}}, side));
  std::vector<ir::Stmt> *outer = cx.current_block();
  cx.set_block(&region.body);
  if (builtin) {
    region.results = {cx.build().binary(*builtin, region.params[0], region.params[1], span)};
  } else {
    std::vector<Operand> args;
    for (int p : region.params)
      args.push_back(Operand::tensor(p));
    Operand value = cx.invoke(*fn, args, span);
    std::vector<Operand> values = value.kind == Operand::Kind::Tuple ? value.elements
                                                                      : std::vector<Operand>{value};
    if (values.size() != dtypes.size())
      throw UserError("TypeError",
                      "a combine function over " + std::to_string(dtypes.size()) +
                          " values returns as many; this one returns " +
                          std::to_string(values.size()),
                      span);
    for (size_t i = 0; i < values.size(); ++i) {
      int result = cx.to_node(values[i], span);
      if (cx.type_of(result).rank() != 0)
        throw UserError("TypeError",
                        "a combine function must return values computed from its arguments, "
                        "one per input",
                        span);
      region.results.push_back(cx.cast(result, dtypes[i], span));
    }
  }
  cx.set_block(outer);
  cx.kernel().combine_fns.push_back(std::move(region));
  return static_cast<int>(cx.kernel().combine_fns.size()) - 1;
}

/// The input of a combined reduction or scan: one tensor, or a tuple of
/// tensors broadcast to one shape.
std::vector<int> combined_inputs(LoweringContext &cx, const Operand &input, const SourceSpan &span,
                                 std::optional<DType> dtype = std::nullopt) {
  std::vector<int> nodes;
  for (const Operand &item : input.kind == Operand::Kind::Tuple ? input.elements
                                                                : std::vector<Operand>{input}) {
    int node = cx.to_node(item, span);
    nodes.push_back(dtype ? cx.cast(node, *dtype, span) : node);
  }
  std::vector<ir::Dim> dims = cx.type_of(nodes[0]).dims;
  for (int n : nodes)
    dims = cx.broadcast({DType::Float32, dims}, cx.type_of(n), span);
  for (int &n : nodes)
    if (cx.type_of(n).dims != dims) {
      // Broadcast by selecting the value itself under an all-true mask of the shape.
      int all = cx.build().full(dims, DType::Bool, cx.constant(1, DType::Bool, span), span);
      n = cx.build().where(all, n, n, span);
    }
  return nodes;
}

std::vector<DType> dtypes_of(LoweringContext &cx, const std::vector<int> &nodes) {
  std::vector<DType> out;
  for (int n : nodes)
    out.push_back(cx.type_of(n).dtype);
  return out;
}

/// One result per input: a tuple when there are several.
Operand results(std::vector<int> nodes) {
  if (nodes.size() == 1) return Operand::tensor(nodes[0]);
  Operand tuple;
  tuple.kind = Operand::Kind::Tuple;
  for (int n : nodes)
    tuple.elements.push_back(Operand::tensor(n));
  return tuple;
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
  bool reverse = flag_arg(args["reverse"], false, args.span);
  std::vector<int> inputs = combined_inputs(cx, args["input"], args.span, dtype);
  int axis = block_axis(cx, inputs[0], args["dim"], args);
  if (axis < 0) return results(inputs);
  int combine = combine_region(cx, dtypes_of(cx, inputs), args.span, fn, builtin);
  // + and * have identities for the lanes a reverse scan meets first.
  std::vector<int> fills;
  if (reverse && builtin)
    fills.push_back(cx.constant(*builtin == ir::BinaryFn::Add ? 0 : 1,
                                cx.type_of(inputs[0]).dtype, args.span));
  std::vector<int> scanned;
  for (size_t i = 0; i < inputs.size(); ++i)
    scanned.push_back(cx.build().scan(combine, inputs, fills, static_cast<int>(i), axis, reverse,
                                      args.span));
  return results(scanned);
}

/// cumsum/cumprod: torch accumulates integers and bools in int64.
std::optional<DType> accumulation_dtype(LoweringContext &cx, const CallArgs &args) {
  if (args.signature->find_keyword("dtype") >= 0 && !is_none(args["dtype"]))
    return cx.dtype_arg(args["dtype"], args.span);
  DType in = cx.dtype_of(args["input"]);
  return is_floating(in) ? in : DType::Int64;
}

/// hl.reduce: over `dim` (every dim when None), lanes past the end counting
/// as `other` (one per input for a tuple).
Operand lower_reduce(LoweringContext &cx, const CallArgs &args) {
  const Operand &fn = callable_arg(args);
  std::vector<int> inputs = combined_inputs(cx, args["input"], args.span);
  std::vector<Operand> others = items_of(args["other"]);
  if (others.size() == 1) others.assign(inputs.size(), others[0]);
  if (others.size() != inputs.size())
    throw UserError("TypeError", "hl.reduce takes one `other` per input", args.span);
  std::vector<int> fills;
  for (size_t i = 0; i < inputs.size(); ++i) {
    auto value = number_of(others[i]);
    if (!value)
      throw UserError("TypeError", "hl.reduce's other must be a number known at compile time",
                      args.span);
    fills.push_back(cx.constant(*value, cx.type_of(inputs[i]).dtype, args.span));
  }
  bool keepdim = flag_arg(args["keep_dims"], false, args.span);
  int rank = cx.type_of(inputs[0]).rank();
  std::vector<int> axes;
  if (is_none(args["dim"]))
    for (int a = rank - 1; a >= 0; --a)
      axes.push_back(a); // highest first, so lower axes keep their positions
  else
    axes.push_back(normalize_axis(cx.int_arg(args["dim"], args.span), rank, args.span));
  int combine = -1;
  for (int axis : axes) {
    if (!cx.type_of(inputs[0]).dims[axis].is_block()) {
      for (int &x : inputs) // a size-1 dimension
        x = reduce(cx, ir::ReduceFn::Sum, x, axis, keepdim, args.span);
      continue;
    }
    if (combine < 0) combine = combine_region(cx, dtypes_of(cx, inputs), args.span, &fn);
    std::vector<int> reduced;
    for (size_t i = 0; i < inputs.size(); ++i)
      reduced.push_back(cx.build().combine_reduce(combine, inputs, fills, static_cast<int>(i),
                                                  axis, keepdim, args.span));
    inputs = reduced;
  }
  return results(inputs);
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
    r.add_both(name, "(input, dim, *, dtype=None, reverse=False, ~out=None)", lowering);
  }
}

} // namespace helion::lower
