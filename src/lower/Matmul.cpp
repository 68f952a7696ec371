// Matrix products: `@`, torch.matmul/mm/addmm and hl.dot, all accumulating
// in float32 through a Dot node.

#include "lower/OpHelpers.h"

#include "support/Diagnostics.h"

#include <algorithm>

namespace helion::lower {

using ir::Dim;
using ir::Node;
using ir::OpKind;

namespace {

struct Operands {
  int a, b;
  DType dtype; ///< the promoted input dtype
};

/// Checks and promotes the two factors of a product.
Operands factors(LoweringContext &cx, const Operand &lhs, const Operand &rhs,
                 const std::string &what, const SourceSpan &span) {
  int a = cx.to_node(lhs, span), b = cx.to_node(rhs, span);
  const ir::TensorType &ta = cx.type_of(a), &tb = cx.type_of(b);
  if (ta.rank() != 2 || tb.rank() != 2)
    throw UserError("RankMismatch",
                    what + " on the device needs 2-D operands; got shapes " +
                        cx.shape_text(ta.dims) + " and " + cx.shape_text(tb.dims) +
                        ", index the batch dimension with a scalar or a tile of size 1 and squeeze it",
                    span);
  if (ta.dims[1] != tb.dims[0])
    throw UserError("ShapeMismatch",
                    what + " inner dimensions of " + cx.shape_text(ta.dims) + " and " +
                        cx.shape_text(tb.dims) + " differ; use the same tile for both",
                    span);
  DType dtype = cx.promote(lhs, rhs);
  if (!is_floating(dtype))
    throw UserError("UnsupportedOp",
                    what + " of " + dtype_name(dtype) +
                        " values is not supported on the device; convert them with .float()",
                    span);
  return {cx.cast(a, dtype, span), cx.cast(b, dtype, span), dtype};
}

/// Dot(a, b[, acc]) in float32, recording the blocks that feed it.
int dot(LoweringContext &cx, const Operands &f, int acc, const SourceSpan &span) {
  ir::DeviceKernel &k = cx.kernel();
  std::vector<Dim> dims = {cx.type_of(f.a).dims[0], cx.type_of(f.b).dims[1]};
  for (int x : {f.a, f.b})
    for (const Dim &d : cx.type_of(x).dims)
      if (d.is_block() && std::find(k.dot_blocks.begin(), k.dot_blocks.end(), d.block) ==
                              k.dot_blocks.end())
        k.dot_blocks.push_back(d.block);
  k.has_matmul = true;
  Node n;
  n.op = OpKind::Dot;
  n.operands = {f.a, f.b};
  if (acc >= 0) n.operands.push_back(acc);
  n.type = {DType::Float32, dims};
  n.span = span;
  return cx.emit(std::move(n));
}

Operand lower_matmul(LoweringContext &cx, const CallArgs &args) {
  Operands f = factors(cx, require_arg(args, 0, "input"), require_arg(args, 1, "other"),
                       "matmul", args.span);
  return Operand::tensor(cx.cast(dot(cx, f, -1, args.span), f.dtype, args.span));
}

Operand lower_hl_dot(LoweringContext &cx, const CallArgs &args) {
  const SourceSpan &s = args.span;
  Operands f = factors(cx, require_arg(args, 0, "mat1"), require_arg(args, 1, "mat2"), "hl.dot", s);
  const Operand *acc_arg = args.get(2, "acc");
  const Operand *out_arg = args.get(3, "out_dtype");
  DType out = is_none(out_arg) ? f.dtype : cx.dtype_arg(*out_arg, s);
  if (is_none(acc_arg)) return Operand::tensor(cx.cast(dot(cx, f, -1, s), out, s));
  int acc = cx.to_node(*acc_arg, s);
  std::vector<Dim> expected = {cx.type_of(f.a).dims[0], cx.type_of(f.b).dims[1]};
  if (cx.type_of(acc).dims != expected)
    throw UserError("ShapeMismatch",
                    "hl.dot accumulator has shape " + cx.shape_text(cx.type_of(acc).dims) +
                        " but the product has shape " + cx.shape_text(expected) +
                        "; create it with hl.zeros over the same tiles",
                    s);
  if (is_none(out_arg)) out = cx.type_of(acc).dtype;
  int r = dot(cx, f, cx.cast(acc, DType::Float32, s), s);
  return Operand::tensor(cx.cast(r, out, s));
}

Operand lower_addmm(LoweringContext &cx, const CallArgs &args) {
  const SourceSpan &s = args.span;
  for (const char *scale : {"beta", "alpha"}) {
    const Operand *o = keyword_arg(args, scale);
    std::optional<double> v = o ? number_of(*o) : 1.0;
    if (!v || *v != 1)
      throw UserError("UnsupportedOp",
                      std::string("torch.addmm supports only ") + scale +
                          "=1 on the device; scale the operands explicitly",
                      s);
  }
  const Operand &acc_arg = require_arg(args, 0, "input");
  const Operand &lhs = require_arg(args, 1, "mat1");
  Operands f = factors(cx, lhs, require_arg(args, 2, "mat2"), "addmm", s);
  int acc = cx.to_node(acc_arg, s);
  std::vector<Dim> dims = {cx.type_of(f.a).dims[0], cx.type_of(f.b).dims[1]};
  const ir::TensorType &ta = cx.type_of(acc);
  if (ta.dtype == DType::Float32 && ta.dims == dims) return Operand::tensor(dot(cx, f, acc, s));
  DType out = cx.promote(acc_arg, lhs);
  int product = dot(cx, f, -1, s);
  int sum = binary(cx, "add", product, cx.cast(acc, DType::Float32, s), s);
  return Operand::tensor(cx.cast(sum, out, s));
}

Operand lower_batched(LoweringContext &, const CallArgs &args) {
  throw UserError("UnsupportedOp",
                  args.fn + " is not supported on the device; tile the batch dimension, index it "
                            "with a scalar and use torch.mm or hl.dot per batch",
                  args.span);
}

} // namespace

void register_matmul(LoweringRegistry &r) {
  for (const char *name : {"torch.matmul", "torch.mm", "tensor.matmul", "tensor.mm"})
    r.add(name, lower_matmul);
  r.add("hl.dot", lower_hl_dot);
  r.add("torch.addmm", lower_addmm);
  r.add("tensor.addmm", lower_addmm);
  for (const char *name : {"torch.bmm", "torch.baddbmm", "tensor.bmm", "tensor.baddbmm"})
    r.add(name, lower_batched);
}

} // namespace helion::lower
