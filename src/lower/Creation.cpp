// Tensors created on the device: hl.zeros/hl.full and the torch *_like family.

#include "lower/OpHelpers.h"
#include "support/Diagnostics.h"

namespace helion::lower {

namespace {

/// A `dims`-shaped tensor of `dtype` filled with the scalar `value`.
int full(LoweringContext &cx, std::vector<ir::Dim> dims, DType dtype, const Operand &value,
         const SourceSpan &span) {
  int fill = cx.to_node(value, span);
  if (cx.type_of(fill).rank() != 0)
    throw UserError("TorchOpTracingError",
                    "the fill value must be a scalar; got a value of shape " +
                        cx.shape_text(cx.type_of(fill).dims),
                    span);
  return cx.build().full(std::move(dims), dtype, cx.cast(fill, dtype, span), span);
}

Operand number(double v) {
  return Operand::of_host(HostValue::make_float(v));
}

DType dtype_or(LoweringContext &cx, const CallArgs &args, DType fallback) {
  const Operand &d = args["dtype"];
  return is_none(d) ? fallback : cx.dtype_arg(d, args.span);
}

Operand lower_hl_full(LoweringContext &cx, const CallArgs &args, std::optional<double> value) {
  std::vector<ir::Dim> dims = cx.shape_arg(args["shape"], args.span);
  Operand fill = value ? number(*value) : args["value"];
  DType dtype = dtype_or(cx, args, DType::Float32);
  return Operand::tensor(full(cx, std::move(dims), dtype, fill, args.span));
}

Operand lower_like(LoweringContext &cx, const CallArgs &args, std::optional<double> value) {
  int x = input_node(cx, args);
  Operand fill = value ? number(*value) : args["fill_value"];
  ir::TensorType type = cx.type_of(x);
  DType dtype = dtype_or(cx, args, type.dtype);
  return Operand::tensor(full(cx, type.dims, dtype, fill, args.span));
}

/// x.new_zeros(size), new_ones, new_empty, new_full(size, fill): a new value
/// of that shape, of x's dtype unless `dtype=` says otherwise. `x` may be a
/// host tensor: only its dtype is read.
Operand lower_new(LoweringContext &cx, const CallArgs &args, std::optional<double> value) {
  const Operand &input = args["input"];
  DType dtype = input.is_host(HostValue::Kind::Tensor) ? input.host->tensor->dtype
                                                        : cx.dtype_of(input);
  std::vector<ir::Dim> dims = cx.shape_arg(args["size"], args.span);
  Operand fill = value ? number(*value) : args["fill_value"];
  return Operand::tensor(full(cx, std::move(dims), dtype_or(cx, args, dtype), fill, args.span));
}

} // namespace

void register_creation(LoweringRegistry &r) {
  // The device of a value built in a kernel is the kernel's.
  r.add("hl.zeros", "(shape, dtype=torch.float32, device=None)",
        [](LoweringContext &cx, const CallArgs &a) { return lower_hl_full(cx, a, 0.0); });
  r.add("hl.full", "(shape, value, dtype=torch.float32, device=None)",
        [](LoweringContext &cx, const CallArgs &a) { return lower_hl_full(cx, a, std::nullopt); });
  const std::string options = "*, dtype=None, ~layout=None, device=None, ~requires_grad=False, "
                              "~pin_memory=False, ~memory_format=None)";
  // empty_like leaves its contents unspecified, so zeros are as good as any.
  static const std::pair<const char *, double> constant_likes[] = {
      {"torch.zeros_like", 0.0}, {"torch.ones_like", 1.0}, {"torch.empty_like", 0.0}};
  for (const auto &[name, v] : constant_likes) {
    double fill = v;
    r.add(name, "(input, " + options,
          [fill](LoweringContext &cx, const CallArgs &a) { return lower_like(cx, a, fill); });
  }
  r.add("torch.full_like", "(input, fill_value, " + options,
        [](LoweringContext &cx, const CallArgs &a) { return lower_like(cx, a, std::nullopt); });
  // new_empty leaves its contents unspecified, so zeros are as good as any.
  static const std::pair<const char *, double> constant_news[] = {
      {"tensor.new_zeros", 0.0}, {"tensor.new_ones", 1.0}, {"tensor.new_empty", 0.0}};
  for (const auto &[name, v] : constant_news) {
    double fill = v;
    r.add(name, "(input, *size, " + options,
          [fill](LoweringContext &cx, const CallArgs &a) { return lower_new(cx, a, fill); });
  }
  r.add("tensor.new_full", "(input, size, fill_value, " + options,
        [](LoweringContext &cx, const CallArgs &a) { return lower_new(cx, a, std::nullopt); });
}

} // namespace helion::lower
