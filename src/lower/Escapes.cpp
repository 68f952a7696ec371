// Escape hatches of device code: hl.device_print and hl.inline_asm_elementwise.

#include "lower/OpHelpers.h"
#include "support/Diagnostics.h"

namespace helion::lower {

namespace {

std::string string_arg(const CallArgs &args, const std::string &name) {
  const Operand &o = args[name];
  if (!o.is_host(HostValue::Kind::String))
    throw UserError("TypeError", args.fn + "'s " + name + " must be a string known when compiling",
                    args.span);
  return o.host->text;
}

/// hl.device_print(prefix, *values): prints from every program, on a GPU and
/// under Triton's interpreter alike.
Operand lower_device_print(LoweringContext &cx, const CallArgs &args) {
  std::string prefix = string_arg(args, "prefix");
  std::vector<int> values;
  for (const Operand &v : items_of(args["values"])) {
    if (v.kind == Operand::Kind::Host && !LoweringContext::is_scalar_operand(v))
      throw UserError("TypeError",
                      "hl.device_print prints device values and scalars; this value is " +
                          v.host->describe(),
                      args.span);
    values.push_back(cx.to_node(v, args.span));
  }
  cx.build().device_print(prefix, values, args.span);
  return Operand::of_host(HostValue::make(HostValue::Kind::None));
}

/// hl.inline_asm_elementwise(asm, constraints, args, dtype, is_pure, pack):
/// the arguments broadcast together; one result of `dtype`.
Operand lower_inline_asm(LoweringContext &cx, const CallArgs &args) {
  std::string assembly = string_arg(args, "asm");
  std::string constraints = string_arg(args, "constraints");
  const Operand &dtype_arg = args["dtype"];
  if (!dtype_arg.is_host(HostValue::Kind::DType))
    throw UserError("UnsupportedOp",
                    "hl.inline_asm_elementwise returns one value here: give dtype as one torch "
                    "dtype (a tuple of dtypes, for several results, is not supported)",
                    args.span);
  bool pure = flag_arg(args["is_pure"], true, args.span);
  std::optional<double> pack = number_of(args["pack"]);
  if (!pack || *pack < 1 || *pack != static_cast<int>(*pack))
    throw UserError("TypeError", "hl.inline_asm_elementwise's pack is a positive int", args.span);
  std::vector<Operand> items = items_of(args["args"]);
  if (items.empty())
    throw UserError("TypeError", "hl.inline_asm_elementwise takes at least one argument",
                    args.span);
  std::vector<int> nodes;
  ir::TensorType type{dtype_arg.host->dtype, {}};
  for (const Operand &item : items) {
    nodes.push_back(cx.to_node(item, args.span));
    type.dims = cx.broadcast(type, cx.type_of(nodes.back()), args.span);
  }
  for (int &n : nodes)
    n = cx.align_to(n, type.dims, args.span);
  return Operand::tensor(cx.build().inline_asm(assembly, constraints, nodes, type, pure,
                                               static_cast<int>(*pack), args.span));
}

} // namespace

void register_escapes(LoweringRegistry &r) {
  r.add("hl.device_print", "(prefix, *values=())", lower_device_print);
  r.add("hl.inline_asm_elementwise", "(asm, constraints, args, dtype, is_pure, pack)",
        lower_inline_asm);
}

} // namespace helion::lower
