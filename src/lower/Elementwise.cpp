// Pointwise ops: math functions, arithmetic and comparisons, where/clamp,
// activations and dtype conversions.

#include "lower/OpHelpers.h"
#include "support/Diagnostics.h"

namespace helion::lower {

namespace {

/// Registers `lowering` as torch.<name> and as the method Tensor.<name>.
void add_both(LoweringRegistry &r, const std::string &name, OpLowering lowering) {
  r.add("torch." + name, lowering);
  r.add("tensor." + name, std::move(lowering));
}

Operand lower_binary(LoweringContext &cx, const CallArgs &args, const std::string &fn) {
  const Operand &a = require_arg(args, 0, "input");
  Operand b = require_arg(args, 1, "other");
  if (fn == "add" || fn == "sub") {
    if (const Operand *alpha = keyword_arg(args, "alpha"); !is_none(alpha)) {
      std::optional<double> scale = number_of(*alpha);
      if (!scale || *scale != 1) b = Operand::tensor(binary_op(cx, "mul", b, *alpha, args.span));
    }
  }
  if (fn == "truediv") {
    const Operand *mode = keyword_arg(args, "rounding_mode");
    if (!is_none(mode)) {
      if (mode->is_host(HostValue::Kind::String) && mode->host->text == "floor")
        return Operand::tensor(binary_op(cx, "floordiv", a, b, args.span));
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
  const Operand *approx = args.get(1, "approximate");
  std::string mode = is_none(approx)                            ? "none"
                     : approx->is_host(HostValue::Kind::String) ? approx->host->text
                                                                : "?";
  if (mode != "none" && mode != "tanh")
    throw UserError("TypeError", "gelu's approximate must be 'none' or 'tanh'", args.span);
  const SourceSpan &s = args.span;
  DType out = float_result(cx.type_of(x).dtype);
  DType work = compute_dtype(out);
  int v = cx.cast(x, work, s);
  auto k = [&](double c) { return cx.constant(c, work, s); };
  int inner;
  if (mode == "none") {
    inner = unary(cx, "erf", binary(cx, "mul", v, k(0.70710678118654752440), s), s);
  } else {
    // sqrt(2/pi) * (x + 0.044715 x^3)
    int cube = binary(cx, "mul", binary(cx, "mul", v, v, s), v, s);
    int poly = binary(cx, "add", v, binary(cx, "mul", cube, k(0.044715), s), s);
    inner = unary(cx, "tanh", binary(cx, "mul", poly, k(0.79788456080286535588), s), s);
  }
  int half_x = binary(cx, "mul", v, k(0.5), s);
  int r = binary(cx, "mul", half_x, binary(cx, "add", inner, k(1.0), s), s);
  return Operand::tensor(cx.cast(r, out, s));
}

Operand lower_silu(LoweringContext &cx, const CallArgs &args) {
  int x = input_node(cx, args);
  DType out = float_result(cx.type_of(x).dtype);
  int v = cx.cast(x, compute_dtype(out), args.span);
  int r = binary(cx, "mul", v, unary(cx, "sigmoid", v, args.span), args.span);
  return Operand::tensor(cx.cast(r, out, args.span));
}

Operand lower_clamp(LoweringContext &cx, const CallArgs &args, bool lower, bool upper) {
  Operand r = require_arg(args, 0, "input");
  size_t position = 1;
  const Operand *min = lower ? args.get(position++, "min") : nullptr;
  const Operand *max = upper ? args.get(position, "max") : nullptr;
  if (is_none(min) && is_none(max))
    throw UserError("TypeError", "clamp needs at least one of min and max", args.span);
  if (!is_none(min)) r = Operand::tensor(binary_op(cx, "maximum", r, *min, args.span));
  if (!is_none(max)) r = Operand::tensor(binary_op(cx, "minimum", r, *max, args.span));
  return r;
}

Operand lower_where(LoweringContext &cx, const CallArgs &args) {
  if (args.fn == "tensor.where")
    return Operand::tensor(where_op(cx, require_arg(args, 1, "condition"), args.args[0],
                                    require_arg(args, 2, "other"), args.span));
  return Operand::tensor(where_op(cx, require_arg(args, 0, "condition"),
                                  require_arg(args, 1, "input"), require_arg(args, 2, "other"),
                                  args.span));
}

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
    else if (!is_device_name(o) && !o.is_host(HostValue::Kind::None))
      throw UserError("TypeError",
                      "Tensor.to on the device takes a dtype, e.g. x.to(torch.float32)", args.span);
  };
  for (size_t i = 1; i < args.args.size(); ++i)
    take(args.args[i]);
  for (const auto &kw : args.keywords)
    if (kw.first == "dtype" || kw.first == "other" || kw.first == "device") take(kw.second);
  if (!dtype)
    throw UserError("TypeError", "Tensor.to on the device needs a dtype, e.g. x.to(torch.float32)",
                    args.span);
  return Operand::tensor(cx.cast(x, *dtype, args.span));
}

Operand lower_type_as(LoweringContext &cx, const CallArgs &args) {
  const Operand &other = require_arg(args, 1, "other");
  DType dtype =
      other.is_host(HostValue::Kind::Tensor) ? other.host->tensor->dtype : cx.dtype_of(other);
  return Operand::tensor(cx.cast(input_node(cx, args), dtype, args.span));
}

} // namespace

void register_elementwise(LoweringRegistry &r) {
  static const char *const unary_fns[] = {"exp",  "log",  "sqrt",  "rsqrt",       "sigmoid",
                                          "tanh", "relu", "abs",   "sin",         "cos",
                                          "exp2", "log2", "log1p", "expm1",       "floor",
                                          "ceil", "erf",  "neg",   "logical_not", "bitwise_not"};
  for (const char *fn : unary_fns) {
    std::string name = fn;
    add_both(r, name, [name](LoweringContext &cx, const CallArgs &args) {
      return Operand::tensor(unary_op(cx, name, input_node(cx, args), args.span));
    });
  }
  r.add("torch.negative", *r.find("torch.neg"));

  // torch name -> IR fn
  static const std::pair<const char *, const char *> binary_fns[] = {
      {"add", "add"},
      {"sub", "sub"},
      {"subtract", "sub"},
      {"mul", "mul"},
      {"multiply", "mul"},
      {"div", "truediv"},
      {"divide", "truediv"},
      {"true_divide", "truediv"},
      {"floor_divide", "floordiv"},
      {"remainder", "mod"},
      {"pow", "pow"},
      {"maximum", "maximum"},
      {"minimum", "minimum"},
      {"eq", "eq"},
      {"ne", "ne"},
      {"lt", "lt"},
      {"le", "le"},
      {"gt", "gt"},
      {"ge", "ge"},
      {"logical_and", "logical_and"},
      {"logical_or", "logical_or"},
      {"bitwise_and", "bitwise_and"},
      {"bitwise_or", "bitwise_or"},
      {"bitwise_xor", "bitwise_xor"}};
  for (const auto &[name, fn] : binary_fns) {
    std::string ir_fn = fn;
    add_both(r, name, [ir_fn](LoweringContext &cx, const CallArgs &args) {
      return lower_binary(cx, args, ir_fn);
    });
  }

  add_both(r, "square", [](LoweringContext &cx, const CallArgs &args) {
    const Operand &x = require_arg(args, 0, "input");
    return Operand::tensor(binary_op(cx, "mul", x, x, args.span));
  });
  add_both(r, "reciprocal", [](LoweringContext &cx, const CallArgs &args) {
    Operand one = Operand::of_host(HostValue::make_float(1.0));
    return Operand::tensor(binary_op(cx, "truediv", one, require_arg(args, 0, "input"), args.span));
  });
  add_both(r, "where", lower_where);
  add_both(r, "clamp", [](LoweringContext &cx, const CallArgs &args) {
    return lower_clamp(cx, args, true, true);
  });
  r.add("torch.clip", *r.find("torch.clamp"));
  r.add("tensor.clip", *r.find("tensor.clamp"));
  add_both(r, "clamp_min", [](LoweringContext &cx, const CallArgs &args) {
    return lower_clamp(cx, args, true, false);
  });
  add_both(r, "clamp_max", [](LoweringContext &cx, const CallArgs &args) {
    return lower_clamp(cx, args, false, true);
  });

  // Activations (torch.nn.functional lowers to torch.<fn>).
  add_both(r, "gelu", lower_gelu);
  add_both(r, "silu", lower_silu);

  // Conversions.
  r.add("tensor.to", lower_to);
  r.add("tensor.type_as", lower_type_as);
  static const std::pair<const char *, DType> conversions[] = {
      {"float", DType::Float32},  {"half", DType::Float16}, {"bfloat16", DType::BFloat16},
      {"double", DType::Float64}, {"int", DType::Int32},    {"long", DType::Int64},
      {"bool", DType::Bool}};
  for (const auto &[name, dtype] : conversions) {
    DType target = dtype;
    r.add(std::string("tensor.") + name, [target](LoweringContext &cx, const CallArgs &args) {
      return Operand::tensor(cx.cast(input_node(cx, args), target, args.span));
    });
  }
}

} // namespace helion::lower
