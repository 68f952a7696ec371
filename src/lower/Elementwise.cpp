// Pointwise ops: math functions, arithmetic and comparisons, where/clamp,
// activations and dtype conversions.

#include "lower/OpHelpers.h"
#include "support/Diagnostics.h"

namespace helion::lower {

using ir::BinaryFn;
using ir::UnaryFn;

namespace {

Operand lower_binary(LoweringContext &cx, const CallArgs &args, BinaryFn fn,
                     const std::string &second) {
  const Operand &a = args["input"];
  Operand b = args[second];
  if (fn == BinaryFn::Add || fn == BinaryFn::Sub) {
    const Operand &alpha = args["alpha"];
    std::optional<double> scale = number_of(alpha);
    if (!scale || *scale != 1) b = Operand::tensor(binary_op(cx, BinaryFn::Mul, b, alpha, args.span));
  }
  if (fn == BinaryFn::TrueDiv) {
    const Operand &mode = args["rounding_mode"];
    if (!is_none(mode)) {
      if (mode.is_host(HostValue::Kind::String) && mode.host->text == "floor")
        return Operand::tensor(binary_op(cx, BinaryFn::FloorDiv, a, b, args.span));
      throw UserError("UnsupportedOp",
                      "torch.div supports rounding_mode None or 'floor' on the device; for "
                      "truncation convert the quotient with .to(torch.int32)",
                      args.span);
    }
  }
  return Operand::tensor(binary_op(cx, fn, a, b, args.span));
}

DType float_result(DType dtype) {
  return is_floating(dtype) ? dtype : DType::Float32;
}

bool is_device_name(const Operand &o) {
  if (o.is_host(HostValue::Kind::Device)) return true;
  if (!o.is_host(HostValue::Kind::String)) return false;
  for (const char *prefix : {"cuda", "cpu", "xpu", "mps", "meta"})
    if (o.host->text.rfind(prefix, 0) == 0) return true;
  return false;
}

Operand lower_gelu(LoweringContext &cx, const CallArgs &args) {
  int x = input_node(cx, args);
  const Operand &approx = args["approximate"];
  std::string mode = approx.is_host(HostValue::Kind::String) ? approx.host->text : "?";
  if (mode != "none" && mode != "tanh")
    throw UserError("TypeError", "gelu's approximate must be 'none' or 'tanh'", args.span);
  const SourceSpan &s = args.span;
  DType out = float_result(cx.type_of(x).dtype);
  DType work = compute_dtype(out);
  int v = cx.cast(x, work, s);
  auto k = [&](double c) { return cx.constant(c, work, s); };
  int inner;
  if (mode == "none") {
    inner = cx.build().unary(UnaryFn::Erf, cx.build().binary(BinaryFn::Mul, v, k(0.70710678118654752440), s), s);
  } else {
    // sqrt(2/pi) * (x + 0.044715 x^3)
    int cube = cx.build().binary(BinaryFn::Mul, cx.build().binary(BinaryFn::Mul, v, v, s), v, s);
    int poly = cx.build().binary(BinaryFn::Add, v, cx.build().binary(BinaryFn::Mul, cube, k(0.044715), s), s);
    inner = cx.build().unary(UnaryFn::Tanh, cx.build().binary(BinaryFn::Mul, poly, k(0.79788456080286535588), s), s);
  }
  int half_x = cx.build().binary(BinaryFn::Mul, v, k(0.5), s);
  int r = cx.build().binary(BinaryFn::Mul, half_x, cx.build().binary(BinaryFn::Add, inner, k(1.0), s), s);
  return Operand::tensor(cx.cast(r, out, s));
}

Operand lower_silu(LoweringContext &cx, const CallArgs &args) {
  int x = input_node(cx, args);
  DType out = float_result(cx.type_of(x).dtype);
  int v = cx.cast(x, compute_dtype(out), args.span);
  int r = cx.build().binary(BinaryFn::Mul, v, cx.build().unary(UnaryFn::Sigmoid, v, args.span), args.span);
  return Operand::tensor(cx.cast(r, out, args.span));
}

/// clamp and its one-sided forms: `min` and `max` are the parameters the op has.
Operand lower_clamp(LoweringContext &cx, const CallArgs &args, bool lower, bool upper) {
  Operand r = args["input"];
  Operand none = Operand::of_host(HostValue::make(HostValue::Kind::None));
  const Operand &min = lower ? args["min"] : none;
  const Operand &max = upper ? args["max"] : none;
  if (is_none(min) && is_none(max))
    throw UserError("TypeError", args.signature->name() + "() needs at least one of min and max",
                    args.span);
  if (!is_none(min)) r = Operand::tensor(binary_op(cx, BinaryFn::Maximum, r, min, args.span));
  if (!is_none(max)) r = Operand::tensor(binary_op(cx, BinaryFn::Minimum, r, max, args.span));
  return r;
}

Operand lower_where(LoweringContext &cx, const CallArgs &args) {
  return Operand::tensor(
      where_op(cx, args["condition"], args["input"], args["other"], args.span));
}

/// Tensor.to(dtype), to(device, dtype), to(other) and the keyword forms; the
/// device is the kernel's already.
Operand lower_to(LoweringContext &cx, const CallArgs &args) {
  int x = input_node(cx, args);
  std::optional<DType> dtype;
  auto take = [&](const Operand &o) {
    if (o.is_host(HostValue::Kind::DType))
      dtype = o.host->dtype;
    else if (o.kind == Operand::Kind::Tensor)
      dtype = cx.type_of(o.node).dtype;
    else if (o.is_host(HostValue::Kind::Tensor))
      dtype = o.host->tensor->dtype;
    else if (!is_device_name(o) && !is_none(o))
      throw UserError("TypeError",
                      "Tensor.to on the device takes a dtype, e.g. x.to(torch.float32)", args.span);
  };
  std::vector<Operand> leading;
  if (args.given("args")) leading = items_of(args["args"]);
  // to(dtype | device | other, [dtype], [non_blocking], [copy])
  size_t described = 0;
  while (described < leading.size() && described < 2 &&
         !leading[described].is_host(HostValue::Kind::Bool)) {
    if (described == 1 && !is_device_name(leading[0])) break;
    take(leading[described++]);
  }
  for (size_t i = described; i < leading.size(); ++i)
    if (!(leading[i].is_host(HostValue::Kind::Bool) && leading[i].host->truth == false))
      throw UserError("UnsupportedOp",
                      "Tensor.to() on the device takes a dtype, a device or a tensor, then "
                      "non_blocking=False and copy=False only",
                      args.span);
  for (const char *name : {"device", "dtype", "other"})
    if (args.given(name)) take(args[name]);
  if (!dtype)
    throw UserError("TypeError", "Tensor.to on the device needs a dtype, e.g. x.to(torch.float32)",
                    args.span);
  return Operand::tensor(cx.cast(x, *dtype, args.span));
}

Operand lower_type_as(LoweringContext &cx, const CallArgs &args) {
  const Operand &other = args["other"];
  DType dtype =
      other.is_host(HostValue::Kind::Tensor) ? other.host->tensor->dtype : cx.dtype_of(other);
  return Operand::tensor(cx.cast(input_node(cx, args), dtype, args.span));
}

} // namespace

void register_elementwise(LoweringRegistry &r) {
  const char *unary_params = "(input, *, ~out=None)";
  static const std::pair<const char *, UnaryFn> unary_fns[] = {
      {"exp", UnaryFn::Exp},         {"log", UnaryFn::Log},
      {"sqrt", UnaryFn::Sqrt},       {"rsqrt", UnaryFn::Rsqrt},
      {"sigmoid", UnaryFn::Sigmoid}, {"tanh", UnaryFn::Tanh},
      {"abs", UnaryFn::Abs},         {"sin", UnaryFn::Sin},
      {"cos", UnaryFn::Cos},         {"exp2", UnaryFn::Exp2},
      {"log2", UnaryFn::Log2},       {"log1p", UnaryFn::Log1p},
      {"expm1", UnaryFn::Expm1},     {"floor", UnaryFn::Floor},
      {"ceil", UnaryFn::Ceil},       {"erf", UnaryFn::Erf},
      {"neg", UnaryFn::Neg},         {"negative", UnaryFn::Neg},
      {"logical_not", UnaryFn::LogicalNot}, {"bitwise_not", UnaryFn::BitwiseNot}};
  for (const auto &[name, fn] : unary_fns) {
    UnaryFn ir_fn = fn;
    r.add_both(name, unary_params, [ir_fn](LoweringContext &cx, const CallArgs &args) {
      return Operand::tensor(unary_op(cx, ir_fn, input_node(cx, args), args.span));
    });
  }
  OpLowering relu = [](LoweringContext &cx, const CallArgs &args) {
    return Operand::tensor(unary_op(cx, UnaryFn::Relu, input_node(cx, args), args.span));
  };
  r.add_both("relu", "(input)", relu);
  r.add("torch.nn.functional.relu", "(input, ~inplace=False)", relu);
  for (const char *name : {"sigmoid", "tanh"})
    r.add(std::string("torch.nn.functional.") + name, "(input)",
          r.find(std::string("torch.") + name)->lowering);

  static const std::pair<const char *, BinaryFn> binary_fns[] = {
      {"mul", BinaryFn::Mul},
      {"multiply", BinaryFn::Mul},
      {"true_divide", BinaryFn::TrueDiv},
      {"floor_divide", BinaryFn::FloorDiv},
      {"remainder", BinaryFn::Mod},
      {"maximum", BinaryFn::Maximum},
      {"minimum", BinaryFn::Minimum},
      {"eq", BinaryFn::Eq},
      {"ne", BinaryFn::Ne},
      {"lt", BinaryFn::Lt},
      {"le", BinaryFn::Le},
      {"gt", BinaryFn::Gt},
      {"ge", BinaryFn::Ge},
      {"logical_and", BinaryFn::LogicalAnd},
      {"logical_or", BinaryFn::LogicalOr},
      {"bitwise_and", BinaryFn::BitAnd},
      {"bitwise_or", BinaryFn::BitOr},
      {"bitwise_xor", BinaryFn::BitXor},
      {"bitwise_left_shift", BinaryFn::ShiftLeft},
      {"bitwise_right_shift", BinaryFn::ShiftRight}};
  auto binary_lowering = [](BinaryFn ir_fn, const std::string &second) -> OpLowering {
    return [ir_fn, second](LoweringContext &cx, const CallArgs &args) {
      return lower_binary(cx, args, ir_fn, second);
    };
  };
  for (const auto &[name, fn] : binary_fns)
    r.add_both(name, "(input, other, *, ~out=None)", binary_lowering(fn, "other"));
  for (const auto &[name, fn] : {std::pair<const char *, BinaryFn>{"add", BinaryFn::Add},
                                 {"sub", BinaryFn::Sub},
                                 {"subtract", BinaryFn::Sub}})
    r.add_both(name, "(input, other, *, alpha=1, ~out=None)", binary_lowering(fn, "other"));
  for (const char *name : {"div", "divide"})
    r.add_both(name, "(input, other, *, rounding_mode=None, ~out=None)",
               binary_lowering(BinaryFn::TrueDiv, "other"));
  r.add_both("pow", "(input, exponent, *, ~out=None)", binary_lowering(BinaryFn::Pow, "exponent"));

  r.add_both("square", unary_params, [](LoweringContext &cx, const CallArgs &args) {
    const Operand &x = args["input"];
    return Operand::tensor(binary_op(cx, BinaryFn::Mul, x, x, args.span));
  });
  r.add_both("reciprocal", unary_params, [](LoweringContext &cx, const CallArgs &args) {
    Operand one = Operand::of_host(HostValue::make_float(1.0));
    return Operand::tensor(binary_op(cx, BinaryFn::TrueDiv, one, args["input"], args.span));
  });
  r.add("torch.where", "(condition, input, other, *, ~out=None)", lower_where);
  r.add("tensor.where", "(input, condition, other)", lower_where);
  OpLowering clamp = [](LoweringContext &cx, const CallArgs &args) {
    return lower_clamp(cx, args, true, true);
  };
  r.add_both("clamp", "(input, min=None, max=None, *, ~out=None)", clamp);
  r.add_both("clip", "(input, min=None, max=None, *, ~out=None)", clamp);
  r.add_both("clamp_min", "(input, min, *, ~out=None)",
             [](LoweringContext &cx, const CallArgs &args) {
               return lower_clamp(cx, args, true, false);
             });
  r.add_both("clamp_max", "(input, max, *, ~out=None)",
             [](LoweringContext &cx, const CallArgs &args) {
               return lower_clamp(cx, args, false, true);
             });

  // Activations that only torch.nn.functional has.
  r.add("torch.nn.functional.gelu", "(input, approximate='none')", lower_gelu);
  r.add("torch.nn.functional.silu", "(input, ~inplace=False)", lower_silu);

  // Conversions.
  r.add("tensor.to",
        "(input, *args=(), device=None, dtype=None, other=None, ~non_blocking=False, ~copy=False, "
        "~memory_format=None)",
        lower_to);
  r.add("tensor.type_as", "(input, other)", lower_type_as);
  static const std::pair<const char *, DType> conversions[] = {
      {"float", DType::Float32},  {"half", DType::Float16}, {"bfloat16", DType::BFloat16},
      {"double", DType::Float64}, {"int", DType::Int32},    {"long", DType::Int64},
      {"bool", DType::Bool}};
  for (const auto &[name, dtype] : conversions) {
    DType target = dtype;
    r.add(std::string("tensor.") + name, "(input, ~memory_format=None)",
          [target](LoweringContext &cx, const CallArgs &args) {
            return Operand::tensor(cx.cast(input_node(cx, args), target, args.span));
          });
  }
}

} // namespace helion::lower
