// Reductions over tile and reduction dimensions: sum, mean, amax/amin,
// full max/min, var/std, and the softmax family built from them.

#include "lower/OpHelpers.h"
#include "support/Diagnostics.h"

#include <algorithm>
#include <cmath>

namespace helion::lower {

namespace {

/// The axes named by `dim` (an int, a sequence, or None for all), highest first.
std::vector<int> axes_arg(LoweringContext &cx, const Operand &dim, int rank,
                          const SourceSpan &span) {
  std::vector<int> axes;
  if (!is_none(dim))
    for (const Operand &item : items_of(dim))
      axes.push_back(normalize_axis(cx.int_arg(item, span), rank, span));
  if (axes.empty())
    for (int i = 0; i < rank; ++i)
      axes.push_back(i);
  std::sort(axes.rbegin(), axes.rend());
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  return axes;
}

/// torch's accumulation dtype for sum: int64 for small integers and bool.
DType sum_dtype(DType dtype) {
  if (is_floating(dtype) || dtype == DType::Int64) return dtype;
  return DType::Int64;
}

int reduce_axes(LoweringContext &cx, ir::ReduceFn fn, int x, const std::vector<int> &axes,
                bool keepdim, const SourceSpan &span) {
  for (int axis : axes)
    x = reduce(cx, fn, x, axis, keepdim, span);
  return x;
}

struct ReduceCall {
  int input;
  std::vector<int> axes;
  bool keepdim;
  std::optional<DType> dtype; ///< `dtype=`
};

/// input, dim, keepdim and (where the op has it) dtype.
ReduceCall parse(LoweringContext &cx, const CallArgs &args, bool has_dtype) {
  ReduceCall c;
  c.input = input_node(cx, args);
  // torch's overloads of sum and mean take keepdim only after a dim.
  if (has_dtype && args.given("keepdim") && is_none(args["dim"]))
    throw UserError("TorchOpTracingError",
                    args.signature->name() + "() takes keepdim only with a dim; its parameters "
                                             "are " + args.signature->describe(),
                    args.span);
  int rank = cx.type_of(c.input).rank();
  c.axes = axes_arg(cx, args["dim"], rank, args.span);
  c.keepdim = flag_arg(args["keepdim"], false, args.span);
  if (has_dtype && !is_none(args["dtype"])) c.dtype = cx.dtype_arg(args["dtype"], args.span);
  return c;
}

Operand lower_sum(LoweringContext &cx, const CallArgs &args) {
  ReduceCall c = parse(cx, args, true);
  DType out = c.dtype ? *c.dtype : sum_dtype(cx.type_of(c.input).dtype);
  int x = cx.cast(c.input, compute_dtype(out), args.span);
  int r = reduce_axes(cx, ir::ReduceFn::Sum, x, c.axes, c.keepdim, args.span);
  return Operand::tensor(cx.cast(r, out, args.span));
}

/// How many elements the reduction over `axes` of `dims` combines (a node).
/// `dims` is a copy: each extent emits nodes, which may move the node a
/// reference would point into.
int element_count(LoweringContext &cx, std::vector<ir::Dim> dims,
                  const std::vector<int> &axes, const SourceSpan &span) {
  int count = -1;
  for (int axis : axes) {
    int n = extent_of(cx, dims[axis], span);
    count = count < 0 ? n : cx.build().binary(ir::BinaryFn::Mul, count, n, span);
  }
  return count < 0 ? cx.constant(1, DType::Int32, span) : count;
}

/// The floating dtype a mean or variance of `c` is returned in.
DType statistic_dtype(LoweringContext &cx, const ReduceCall &c, const char *what,
                      const SourceSpan &span) {
  DType out = c.dtype ? *c.dtype : cx.type_of(c.input).dtype;
  if (!is_floating(out))
    throw UserError("TorchOpTracingError",
                    std::string(what) + " needs a floating point value; got " + dtype_name(out) +
                        ", convert it first with .float()",
                    span);
  return out;
}

/// sum(x) / count over `axes`, computed in `work`.
int mean_of(LoweringContext &cx, int x, const std::vector<int> &axes, bool keepdim, DType work,
            const SourceSpan &span) {
  int count = element_count(cx, cx.type_of(x).dims, axes, span);
  int total = reduce_axes(cx, ir::ReduceFn::Sum, cx.cast(x, work, span), axes, keepdim, span);
  return cx.build().binary(ir::BinaryFn::TrueDiv, total, cx.cast(count, work, span), span);
}

Operand lower_mean(LoweringContext &cx, const CallArgs &args) {
  ReduceCall c = parse(cx, args, true);
  DType out = statistic_dtype(cx, c, "mean", args.span);
  int r = mean_of(cx, c.input, c.axes, c.keepdim, compute_dtype(out), args.span);
  return Operand::tensor(cx.cast(r, out, args.span));
}

/// torch.var / std / var_mean / std_mean: two passes (mean, then the mean
/// square deviation) in float32 for 16-bit inputs; `correction` (default 1,
/// or `unbiased=False` for 0) is subtracted from the count. A bool in the dim
/// position is torch's var(input, unbiased) form.
Operand lower_variance(LoweringContext &cx, const CallArgs &args, bool root, bool with_mean) {
  const SourceSpan &s = args.span;
  ReduceCall c;
  c.input = input_node(cx, args);
  Operand dim = args["dim"], unbiased = args["unbiased"];
  if (dim.is_host(HostValue::Kind::Bool)) {
    if (args.given("unbiased"))
      throw UserError("TorchOpTracingError",
                      args.signature->name() + "() got multiple values for argument 'unbiased'",
                      s);
    unbiased = dim;
    dim = Operand::of_host(HostValue::make(HostValue::Kind::None));
  }
  c.axes = axes_arg(cx, dim, cx.type_of(c.input).rank(), s);
  c.keepdim = flag_arg(args["keepdim"], false, s);
  DType out = statistic_dtype(cx, c, "var", s);
  DType work = compute_dtype(out);
  double correction = 1;
  if (!is_none(args["correction"])) {
    if (!is_none(unbiased))
      throw UserError("TorchOpTracingError",
                      args.signature->name() +
                          "() takes either unbiased or correction, not both",
                      s);
    std::optional<double> given = number_of(args["correction"]);
    if (!given) throw UserError("TorchOpTracingError", "correction must be a number known on the host", s);
    correction = *given;
  }
  if (!is_none(unbiased)) correction = flag_arg(unbiased, true, s) ? 1 : 0;
  int x = cx.cast(c.input, work, s);
  int mean = mean_of(cx, x, c.axes, /*keepdim=*/true, work, s);
  int deviation = cx.build().binary(ir::BinaryFn::Sub, x, mean, s);
  int squares =
      reduce_axes(cx, ir::ReduceFn::Sum, cx.build().binary(ir::BinaryFn::Mul, deviation, deviation, s), c.axes, c.keepdim, s);
  int count = cx.cast(element_count(cx, cx.type_of(x).dims, c.axes, s), work, s);
  int divisor = cx.build().binary(ir::BinaryFn::Sub, count, cx.constant(correction, work, s), s);
  int result = cx.build().binary(ir::BinaryFn::TrueDiv, squares, divisor, s);
  if (root) result = cx.build().unary(ir::UnaryFn::Sqrt, result, s);
  Operand value = Operand::tensor(cx.cast(result, out, s));
  if (!with_mean) return value;
  if (!c.keepdim) {
    std::vector<ir::Dim> dims = cx.type_of(mean).dims;
    for (int axis : c.axes) // highest first
      dims.erase(dims.begin() + axis);
    mean = cx.build().reshape(mean, dims, s);
  }
  Operand pair;
  pair.kind = Operand::Kind::Tuple;
  pair.elements = {value, Operand::tensor(cx.cast(mean, out, s))};
  return pair;
}

Operand lower_extremum(LoweringContext &cx, const CallArgs &args, ir::ReduceFn fn) {
  ReduceCall c = parse(cx, args, false);
  return Operand::tensor(reduce_axes(cx, fn, c.input, c.axes, c.keepdim, args.span));
}

/// The position of the largest (or smallest) element along one reduction
/// dim, as int64: `fn` is ArgMax or ArgMin.
int arg_extremum(LoweringContext &cx, ir::ReduceFn fn, int x, int axis, bool keepdim,
                 const SourceSpan &span) {
  const ir::TensorType &in = cx.type_of(x);
  const ir::Dim &reduced = in.dims.at(axis);
  bool whole_dim =
      reduced.is_block() && cx.kernel().block(reduced.block).kind == ir::BlockInfo::Kind::Reduction;
  if (!whole_dim)
    throw UserError("UnsupportedOp",
                    std::string(ir::name(fn)) + " is supported over a whole dimension (indexed with `:`) only; over a "
                         "tile it would give positions within the tile",
                    span);
  return reduce(cx, fn, x, axis, keepdim, span, DType::Int64);
}

Operand lower_argmax_argmin(LoweringContext &cx, const CallArgs &args, ir::ReduceFn fn) {
  int x = input_node(cx, args);
  const Operand &dim = args["dim"];
  if (is_none(dim))
    throw UserError("UnsupportedOp", args.signature->name() + "() needs a dim on the device",
                    args.span);
  int axis = normalize_axis(cx.int_arg(dim, args.span), cx.type_of(x).rank(), args.span);
  bool keepdim = flag_arg(args["keepdim"], false, args.span);
  return Operand::tensor(arg_extremum(cx, fn, x, axis, keepdim, args.span));
}

/// torch.max/min: a full reduction, elementwise against another tensor
/// (`other`, or a tensor in the dim position), or with a dim the (values,
/// indices) pair.
Operand lower_max_min(LoweringContext &cx, const CallArgs &args, bool max) {
  ir::ReduceFn fn = max ? ir::ReduceFn::Max : ir::ReduceFn::Min;
  const Operand &dim = args["dim"];
  bool elementwise = !is_none(args["other"]) || dim.kind == Operand::Kind::Tensor ||
                     dim.is_host(HostValue::Kind::Tensor);
  if (elementwise) {
    if (args.given("keepdim") || (!is_none(args["other"]) && args.given("dim")))
      throw UserError("TorchOpTracingError",
                      args.signature->name() +
                          "() against another tensor takes no dim or keepdim; its parameters "
                          "are then (input, other)",
                      args.span);
    const Operand &other = is_none(args["other"]) ? dim : args["other"];
    return Operand::tensor(
        binary_op(cx, max ? ir::BinaryFn::Maximum : ir::BinaryFn::Minimum, args["input"], other,
                  args.span));
  }
  int x = input_node(cx, args);
  if (!is_none(dim)) {
    int axis = normalize_axis(cx.int_arg(dim, args.span), cx.type_of(x).rank(), args.span);
    bool keepdim = flag_arg(args["keepdim"], false, args.span);
    Operand pair;
    pair.kind = Operand::Kind::Tuple;
    pair.elements = {Operand::tensor(reduce(cx, fn, x, axis, keepdim, args.span)),
                     Operand::tensor(arg_extremum(cx, max ? ir::ReduceFn::ArgMax : ir::ReduceFn::ArgMin, x,
                                                 axis, keepdim, args.span))};
    return pair;
  }
  if (args.given("keepdim"))
    throw UserError("TorchOpTracingError", args.signature->name() + "() takes keepdim only with a dim",
                    args.span);
  Operand all = Operand::of_host(HostValue::make(HostValue::Kind::None));
  return Operand::tensor(reduce_axes(
      cx, fn, x, axes_arg(cx, all, cx.type_of(x).rank(), args.span), false, args.span));
}

/// softmax and log_softmax along one axis, in float32 for 16-bit inputs.
Operand lower_softmax(LoweringContext &cx, const CallArgs &args, bool log) {
  int x = input_node(cx, args);
  const SourceSpan &s = args.span;
  DType dtype = cx.type_of(x).dtype;
  DType out = is_floating(dtype) ? dtype : DType::Float32;
  if (!is_none(args["dtype"])) out = cx.dtype_arg(args["dtype"], s);
  if (is_none(args["dim"]))
    throw UserError("TorchOpTracingError", args.signature->name() + "() needs a dim", s);
  int axis = normalize_axis(cx.int_arg(args["dim"], s), cx.type_of(x).rank(), s);
  int v = cx.cast(x, compute_dtype(out), s);
  int shifted = cx.build().binary(ir::BinaryFn::Sub, v, reduce(cx, ir::ReduceFn::Max, v, axis, true, s), s);
  int e = cx.build().unary(ir::UnaryFn::Exp, shifted, s);
  int total = reduce(cx, ir::ReduceFn::Sum, e, axis, true, s);
  int r = log ? cx.build().binary(ir::BinaryFn::Sub, shifted, cx.build().unary(ir::UnaryFn::Log, total, s), s)
              : cx.build().binary(ir::BinaryFn::TrueDiv, e, total, s);
  return Operand::tensor(cx.cast(r, out, s));
}

/// logsumexp: log(sum(exp(x - m))) + m with m the max, kept finite so that an
/// all -inf slice gives -inf rather than nan.
Operand lower_logsumexp(LoweringContext &cx, const CallArgs &args) {
  ReduceCall c = parse(cx, args, false);
  const SourceSpan &s = args.span;
  DType dtype = cx.type_of(c.input).dtype;
  DType out = is_floating(dtype) ? dtype : DType::Float32;
  DType work = compute_dtype(out);
  int r = cx.cast(c.input, work, s);
  for (int axis : c.axes) {
    int m = reduce(cx, ir::ReduceFn::Max, r, axis, true, s);
    int infinite = cx.build().binary(ir::BinaryFn::Eq, cx.build().unary(ir::UnaryFn::Abs, m, s), cx.constant(INFINITY, work, s), s);
    Operand zero = Operand::tensor(cx.constant(0, work, s));
    m = where_op(cx, Operand::tensor(infinite), zero, Operand::tensor(m), s);
    int total = reduce(cx, ir::ReduceFn::Sum, cx.build().unary(ir::UnaryFn::Exp, cx.build().binary(ir::BinaryFn::Sub, r, m, s), s), axis, true, s);
    r = cx.build().binary(ir::BinaryFn::Add, cx.build().unary(ir::UnaryFn::Log, total, s), m, s);
    if (!c.keepdim) {
      std::vector<ir::Dim> dims = cx.type_of(r).dims;
      dims.erase(dims.begin() + axis);
      r = cx.build().reshape(r, dims, s);
    }
  }
  return Operand::tensor(cx.cast(r, out, s));
}

} // namespace

void register_reduction(LoweringRegistry &r) {
  const char *with_dtype = "(input, dim=None, keepdim=False, *, dtype=None, ~out=None)";
  r.add_both("sum", with_dtype, lower_sum);
  r.add_both("mean", with_dtype, lower_mean);
  const char *extremum = "(input, dim=(), keepdim=False, *, ~out=None)";
  r.add_both("amax", extremum,
             [](LoweringContext &cx, const CallArgs &a) { return lower_extremum(cx, a, ir::ReduceFn::Max); });
  r.add_both("amin", extremum,
             [](LoweringContext &cx, const CallArgs &a) { return lower_extremum(cx, a, ir::ReduceFn::Min); });
  const char *max_min = "(input, dim=None, keepdim=False, *, other=None, ~out=None)";
  r.add_both("max", max_min,
             [](LoweringContext &cx, const CallArgs &a) { return lower_max_min(cx, a, true); });
  r.add_both("min", max_min,
             [](LoweringContext &cx, const CallArgs &a) { return lower_max_min(cx, a, false); });
  OpLowering softmax = [](LoweringContext &cx, const CallArgs &a) {
    return lower_softmax(cx, a, false);
  };
  OpLowering log_softmax = [](LoweringContext &cx, const CallArgs &a) {
    return lower_softmax(cx, a, true);
  };
  r.add_both("softmax", "(input, dim, dtype=None)", softmax);
  r.add_both("log_softmax", "(input, dim, dtype=None)", log_softmax);
  const char *functional = "(input, dim=None, ~_stacklevel=3, dtype=None)";
  r.add("torch.nn.functional.softmax", functional, softmax);
  r.add("torch.nn.functional.log_softmax", functional, log_softmax);
  r.add_both("logsumexp", "(input, dim, keepdim=False, *, ~out=None)", lower_logsumexp);
  const char *arg_params = "(input, dim=None, keepdim=False)";
  r.add_both("argmax", arg_params, [](LoweringContext &cx, const CallArgs &a) {
    return lower_argmax_argmin(cx, a, ir::ReduceFn::ArgMax);
  });
  r.add_both("argmin", arg_params, [](LoweringContext &cx, const CallArgs &a) {
    return lower_argmax_argmin(cx, a, ir::ReduceFn::ArgMin);
  });
  // torch's overloads (input, dim, unbiased, keepdim), (input, dim, *,
  // correction, keepdim) and (input, unbiased) in one.
  const char *variance = "(input, dim=None, unbiased=None, keepdim=False, *, correction=None, "
                         "~out=None)";
  r.add_both("var", variance, [](LoweringContext &cx, const CallArgs &a) {
    return lower_variance(cx, a, false, false);
  });
  r.add_both("std", variance, [](LoweringContext &cx, const CallArgs &a) {
    return lower_variance(cx, a, true, false);
  });
  const char *with_mean = "(input, dim=None, unbiased=None, keepdim=False, *, correction=None)";
  r.add("torch.var_mean", with_mean, [](LoweringContext &cx, const CallArgs &a) {
    return lower_variance(cx, a, false, true);
  });
  r.add("torch.std_mean", with_mean, [](LoweringContext &cx, const CallArgs &a) {
    return lower_variance(cx, a, true, true);
  });
}

} // namespace helion::lower
