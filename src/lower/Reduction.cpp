// Reductions over tile and reduction dimensions: sum, mean, amax/amin,
// full max/min, var/std, and the softmax family built from them.

#include "lower/OpHelpers.h"
#include "support/Diagnostics.h"

#include <algorithm>
#include <cmath>

namespace helion::lower {

namespace {

/// The axes named by `dim` (an int, a sequence, or None for all), highest first.
std::vector<int> axes_arg(LoweringContext &cx, const Operand *dim, int rank,
                          const SourceSpan &span) {
  std::vector<int> axes;
  if (!is_none(dim))
    for (const Operand &item : items_of(*dim))
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

int reduce_axes(LoweringContext &cx, const std::string &fn, int x, const std::vector<int> &axes,
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

ReduceCall parse(LoweringContext &cx, const CallArgs &args) {
  ReduceCall c;
  c.input = input_node(cx, args);
  int rank = cx.type_of(c.input).rank();
  c.axes = axes_arg(cx, args.get(1, "dim"), rank, args.span);
  c.keepdim = flag_arg(args.get(2, "keepdim"), false, args.span);
  if (const Operand *d = keyword_arg(args, "dtype"); !is_none(d))
    c.dtype = cx.dtype_arg(*d, args.span);
  return c;
}

Operand lower_sum(LoweringContext &cx, const CallArgs &args) {
  ReduceCall c = parse(cx, args);
  DType out = c.dtype ? *c.dtype : sum_dtype(cx.type_of(c.input).dtype);
  int x = cx.cast(c.input, compute_dtype(out), args.span);
  int r = reduce_axes(cx, "sum", x, c.axes, c.keepdim, args.span);
  return Operand::tensor(cx.cast(r, out, args.span));
}

/// How many elements the reduction over `axes` of `dims` combines (a node).
int element_count(LoweringContext &cx, const std::vector<ir::Dim> &dims,
                  const std::vector<int> &axes, const SourceSpan &span) {
  int count = -1;
  for (int axis : axes) {
    int n = extent_of(cx, dims[axis], span);
    count = count < 0 ? n : binary(cx, "mul", count, n, span);
  }
  return count < 0 ? cx.constant(1, DType::Int32, span) : count;
}

/// The floating dtype a mean or variance of `c` is returned in.
DType statistic_dtype(LoweringContext &cx, const ReduceCall &c, const char *what,
                      const SourceSpan &span) {
  DType out = c.dtype ? *c.dtype : cx.type_of(c.input).dtype;
  if (!is_floating(out))
    throw UserError("TypeError",
                    std::string(what) + " needs a floating point value; got " + dtype_name(out) +
                        ", convert it first with .float()",
                    span);
  return out;
}

/// sum(x) / count over `axes`, computed in `work`.
int mean_of(LoweringContext &cx, int x, const std::vector<int> &axes, bool keepdim, DType work,
            const SourceSpan &span) {
  int count = element_count(cx, cx.type_of(x).dims, axes, span);
  int total = reduce_axes(cx, "sum", cx.cast(x, work, span), axes, keepdim, span);
  return binary(cx, "truediv", total, cx.cast(count, work, span), span);
}

Operand lower_mean(LoweringContext &cx, const CallArgs &args) {
  ReduceCall c = parse(cx, args);
  DType out = statistic_dtype(cx, c, "mean", args.span);
  int r = mean_of(cx, c.input, c.axes, c.keepdim, compute_dtype(out), args.span);
  return Operand::tensor(cx.cast(r, out, args.span));
}

/// torch.var / std / var_mean / std_mean: two passes (mean, then the mean
/// square deviation) in float32 for 16-bit inputs; `correction` (default 1,
/// or `unbiased=False` for 0) is subtracted from the count.
Operand lower_variance(LoweringContext &cx, const CallArgs &args, bool root, bool with_mean) {
  const SourceSpan &s = args.span;
  ReduceCall c = parse(cx, args);
  DType out = statistic_dtype(cx, c, "var", s);
  DType work = compute_dtype(out);
  double correction = 1;
  if (const Operand *o = keyword_arg(args, "correction"); !is_none(o)) {
    std::optional<double> given = number_of(*o);
    if (!given) throw UserError("TypeError", "correction must be a number known on the host", s);
    correction = *given;
  }
  if (const Operand *o = keyword_arg(args, "unbiased"); !is_none(o))
    correction = flag_arg(o, true, s) ? 1 : 0;
  int x = cx.cast(c.input, work, s);
  int mean = mean_of(cx, x, c.axes, /*keepdim=*/true, work, s);
  int deviation = binary(cx, "sub", x, mean, s);
  int squares =
      reduce_axes(cx, "sum", binary(cx, "mul", deviation, deviation, s), c.axes, c.keepdim, s);
  int count = cx.cast(element_count(cx, cx.type_of(x).dims, c.axes, s), work, s);
  int divisor = binary(cx, "sub", count, cx.constant(correction, work, s), s);
  int result = binary(cx, "truediv", squares, divisor, s);
  if (root) result = unary(cx, "sqrt", result, s);
  Operand value = Operand::tensor(cx.cast(result, out, s));
  if (!with_mean) return value;
  if (!c.keepdim) {
    std::vector<ir::Dim> dims = cx.type_of(mean).dims;
    for (int axis : c.axes) // highest first
      dims.erase(dims.begin() + axis);
    mean = reshape(cx, mean, dims, s);
  }
  Operand pair;
  pair.kind = Operand::Kind::Tuple;
  pair.elements = {value, Operand::tensor(cx.cast(mean, out, s))};
  return pair;
}

Operand lower_extremum(LoweringContext &cx, const CallArgs &args, const std::string &fn) {
  ReduceCall c = parse(cx, args);
  return Operand::tensor(reduce_axes(cx, fn, c.input, c.axes, c.keepdim, args.span));
}

/// The position of the largest (or smallest) element along one reduction
/// dim, as int64: `fn` is "argmax" or "argmin".
int arg_extremum(LoweringContext &cx, const std::string &fn, int x, int axis, bool keepdim,
                 const SourceSpan &span) {
  const ir::TensorType &in = cx.type_of(x);
  const ir::Dim &reduced = in.dims.at(axis);
  bool whole_dim =
      reduced.is_block() && cx.kernel().block(reduced.block).kind == ir::BlockInfo::Kind::Reduction;
  if (!whole_dim)
    throw UserError("UnsupportedOp",
                    fn + " is supported over a whole dimension (indexed with `:`) only; over a "
                         "tile it would give positions within the tile",
                    span);
  return reduce(cx, fn, x, axis, keepdim, span, DType::Int64);
}

Operand lower_argmax_argmin(LoweringContext &cx, const CallArgs &args, const std::string &fn) {
  int x = input_node(cx, args);
  const Operand *dim = args.get(1, "dim");
  if (is_none(dim))
    throw UserError("UnsupportedOp", "torch." + fn + " needs a dim on the device", args.span);
  int axis = normalize_axis(cx.int_arg(*dim, args.span), cx.type_of(x).rank(), args.span);
  bool keepdim = flag_arg(args.get(2, "keepdim"), false, args.span);
  return Operand::tensor(arg_extremum(cx, fn, x, axis, keepdim, args.span));
}

/// torch.max/min: a full reduction, elementwise against another tensor, or
/// with a dim the (values, indices) pair.
Operand lower_max_min(LoweringContext &cx, const CallArgs &args, const std::string &fn) {
  const Operand *second = args.get(1, "dim");
  if (second && second->kind == Operand::Kind::Tensor && !keyword_arg(args, "dim"))
    return Operand::tensor(binary_op(cx, fn == "max" ? "maximum" : "minimum",
                                     require_arg(args, 0, "input"), *second, args.span));
  if (second) {
    int x = input_node(cx, args);
    int axis = normalize_axis(cx.int_arg(*second, args.span), cx.type_of(x).rank(), args.span);
    bool keepdim = flag_arg(args.get(2, "keepdim"), false, args.span);
    Operand pair;
    pair.kind = Operand::Kind::Tuple;
    pair.elements = {Operand::tensor(reduce(cx, fn, x, axis, keepdim, args.span)),
                     Operand::tensor(arg_extremum(cx, "arg" + fn, x, axis, keepdim, args.span))};
    return pair;
  }
  int x = input_node(cx, args);
  return Operand::tensor(reduce_axes(
      cx, fn, x, axes_arg(cx, nullptr, cx.type_of(x).rank(), args.span), false, args.span));
}

/// softmax and log_softmax along one axis, in float32 for 16-bit inputs.
Operand lower_softmax(LoweringContext &cx, const CallArgs &args, bool log) {
  int x = input_node(cx, args);
  const SourceSpan &s = args.span;
  DType dtype = cx.type_of(x).dtype;
  DType out = is_floating(dtype) ? dtype : DType::Float32;
  if (const Operand *d = args.get(2, "dtype"); !is_none(d)) out = cx.dtype_arg(*d, s);
  int axis = normalize_axis(cx.int_arg(require_arg(args, 1, "dim"), s), cx.type_of(x).rank(), s);
  int v = cx.cast(x, compute_dtype(out), s);
  int shifted = binary(cx, "sub", v, reduce(cx, "max", v, axis, true, s), s);
  int e = unary(cx, "exp", shifted, s);
  int total = reduce(cx, "sum", e, axis, true, s);
  int r = log ? binary(cx, "sub", shifted, unary(cx, "log", total, s), s)
              : binary(cx, "truediv", e, total, s);
  return Operand::tensor(cx.cast(r, out, s));
}

/// logsumexp: log(sum(exp(x - m))) + m with m the max, kept finite so that an
/// all -inf slice gives -inf rather than nan.
Operand lower_logsumexp(LoweringContext &cx, const CallArgs &args) {
  ReduceCall c = parse(cx, args);
  const SourceSpan &s = args.span;
  DType dtype = cx.type_of(c.input).dtype;
  DType out = is_floating(dtype) ? dtype : DType::Float32;
  DType work = compute_dtype(out);
  int r = cx.cast(c.input, work, s);
  for (int axis : c.axes) {
    int m = reduce(cx, "max", r, axis, true, s);
    int infinite = binary(cx, "eq", unary(cx, "abs", m, s), cx.constant(INFINITY, work, s), s);
    Operand zero = Operand::tensor(cx.constant(0, work, s));
    m = where_op(cx, Operand::tensor(infinite), zero, Operand::tensor(m), s);
    int total = reduce(cx, "sum", unary(cx, "exp", binary(cx, "sub", r, m, s), s), axis, true, s);
    r = binary(cx, "add", unary(cx, "log", total, s), m, s);
    if (!c.keepdim) {
      std::vector<ir::Dim> dims = cx.type_of(r).dims;
      dims.erase(dims.begin() + axis);
      r = reshape(cx, r, dims, s);
    }
  }
  return Operand::tensor(cx.cast(r, out, s));
}

} // namespace

void register_reduction(LoweringRegistry &r) {
  auto both = [&r](const std::string &name, OpLowering fn) {
    r.add("torch." + name, fn);
    r.add("tensor." + name, std::move(fn));
  };
  both("sum", lower_sum);
  both("mean", lower_mean);
  both("amax", [](LoweringContext &cx, const CallArgs &a) { return lower_extremum(cx, a, "max"); });
  both("amin", [](LoweringContext &cx, const CallArgs &a) { return lower_extremum(cx, a, "min"); });
  both("max", [](LoweringContext &cx, const CallArgs &a) { return lower_max_min(cx, a, "max"); });
  both("min", [](LoweringContext &cx, const CallArgs &a) { return lower_max_min(cx, a, "min"); });
  both("softmax",
       [](LoweringContext &cx, const CallArgs &a) { return lower_softmax(cx, a, false); });
  both("log_softmax",
       [](LoweringContext &cx, const CallArgs &a) { return lower_softmax(cx, a, true); });
  both("logsumexp", lower_logsumexp);
  both("argmax",
       [](LoweringContext &cx, const CallArgs &a) { return lower_argmax_argmin(cx, a, "argmax"); });
  both("argmin",
       [](LoweringContext &cx, const CallArgs &a) { return lower_argmax_argmin(cx, a, "argmin"); });
  both("var",
       [](LoweringContext &cx, const CallArgs &a) { return lower_variance(cx, a, false, false); });
  both("std",
       [](LoweringContext &cx, const CallArgs &a) { return lower_variance(cx, a, true, false); });
  r.add("torch.var_mean",
        [](LoweringContext &cx, const CallArgs &a) { return lower_variance(cx, a, false, true); });
  r.add("torch.std_mean",
        [](LoweringContext &cx, const CallArgs &a) { return lower_variance(cx, a, true, true); });
}

} // namespace helion::lower
