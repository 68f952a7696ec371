// Matrix products: `@`, torch.matmul/mm/bmm/addmm/baddbmm and hl.dot, all
// accumulating in float32 through a Dot node.

#include "lower/OpHelpers.h"
#include "support/Diagnostics.h"

#include <algorithm>

namespace helion::lower {

using ir::Dim;

namespace {

struct Operands {
  int a, b;
  DType dtype; ///< the promoted input dtype
};

/// Checks and promotes the two factors of a product: [M, K] @ [K, N], or
/// batched [B, M, K] @ [B, K, N] when `batched` allows it.
Operands factors(LoweringContext &cx, const Operand &lhs, const Operand &rhs,
                 const std::string &what, const SourceSpan &span, bool batched) {
  int a = cx.to_node(lhs, span), b = cx.to_node(rhs, span);
  const ir::TensorType &ta = cx.type_of(a), &tb = cx.type_of(b);
  int rank = ta.rank();
  bool rank_ok = rank == tb.rank() && (rank == 2 || (batched && rank == 3));
  if (!rank_ok)
    throw UserError("RankMismatch",
                    what + " on the device needs " + (batched ? "2-D or 3-D" : "2-D") +
                        " operands of equal rank; got shapes " + cx.shape_text(ta.dims) + " and " +
                        cx.shape_text(tb.dims),
                    span);
  if (rank == 3 && ta.dims[0] != tb.dims[0])
    throw UserError("ShapeMismatch",
                    what + " batch dimensions of " + cx.shape_text(ta.dims) + " and " +
                        cx.shape_text(tb.dims) + " differ; use the same tile for both",
                    span);
  if (ta.dims[rank - 1] != tb.dims[rank - 2])
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

/// The shape of a's product with b: [(B,) M, N].
std::vector<Dim> product_dims(LoweringContext &cx, const Operands &f) {
  const std::vector<Dim> &a = cx.type_of(f.a).dims, &b = cx.type_of(f.b).dims;
  std::vector<Dim> dims(a.begin(), a.end() - 1);
  dims.push_back(b.back());
  return dims;
}

/// Dot(a, b[, acc]) in float32, recording the blocks that feed it (the
/// matrix dims need blocks of at least 16; a batch dim does not).
int dot(LoweringContext &cx, const Operands &f, int acc, const SourceSpan &span) {
  ir::DeviceKernel &k = cx.kernel();
  for (int x : {f.a, f.b}) {
    const std::vector<Dim> &dims = cx.type_of(x).dims;
    for (size_t i = dims.size() - 2; i < dims.size(); ++i)
      if (dims[i].is_block() &&
          std::find(k.dot_blocks.begin(), k.dot_blocks.end(), dims[i].block) == k.dot_blocks.end())
        k.dot_blocks.push_back(dims[i].block);
  }
  k.has_matmul = true;
  return cx.build().dot(f.a, f.b, acc, product_dims(cx, f), span);
}

/// matmul(input, other) and mm/bmm(input, mat2): `second` names the parameter.
/// `takes_out_dtype`: torch.mm and torch.bmm have an overload whose third
/// argument is the result's dtype (`torch.bmm(q, k, torch.float32)`).
Operand lower_matmul(LoweringContext &cx, const CallArgs &args, const std::string &second,
                     bool takes_out_dtype) {
  bool batched = args.fn != "torch.mm" && args.fn != "tensor.mm";
  Operands f = factors(cx, args["input"], args[second], "matmul", args.span, batched);
  DType out = f.dtype;
  if (takes_out_dtype && !is_none(args["out_dtype"]))
    out = cx.dtype_arg(args["out_dtype"], args.span);
  return Operand::tensor(cx.cast(dot(cx, f, -1, args.span), out, args.span));
}

Operand lower_hl_dot(LoweringContext &cx, const CallArgs &args) {
  const SourceSpan &s = args.span;
  Operands f = factors(cx, args["mat1"], args["mat2"], "hl.dot", s, true);
  const Operand &acc_arg = args["acc"];
  const Operand &out_arg = args["out_dtype"];
  DType out = is_none(out_arg) ? f.dtype : cx.dtype_arg(out_arg, s);
  if (is_none(acc_arg)) return Operand::tensor(cx.cast(dot(cx, f, -1, s), out, s));
  int acc = cx.to_node(acc_arg, s);
  std::vector<Dim> expected = product_dims(cx, f);
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

/// acc + a @ b: torch.addmm (2-D) and torch.baddbmm (3-D).
Operand lower_add_product(LoweringContext &cx, const CallArgs &args) {
  const SourceSpan &s = args.span;
  bool batched = args.fn.find("baddbmm") != std::string::npos;
  std::string what = batched ? "baddbmm" : "addmm";
  for (const char *scale : {"beta", "alpha"}) {
    std::optional<double> v = number_of(args[scale]);
    if (!v || *v != 1)
      throw UserError("UnsupportedOp",
                      "torch." + what + " supports only " + scale +
                          "=1 on the device; scale the operands explicitly",
                      s);
  }
  const Operand &acc_arg = args["input"];
  const Operand &lhs = args[batched ? "batch1" : "mat1"];
  Operands f = factors(cx, lhs, args[batched ? "batch2" : "mat2"], what, s, batched);
  if (batched != (cx.type_of(f.a).rank() == 3))
    throw UserError("RankMismatch",
                    "torch." + what + " needs " + (batched ? "3-D" : "2-D") + " operands", s);
  int acc = cx.to_node(acc_arg, s);
  const ir::TensorType &ta = cx.type_of(acc);
  if (ta.dtype == DType::Float32 && ta.dims == product_dims(cx, f))
    return Operand::tensor(dot(cx, f, acc, s));
  DType out = cx.promote(acc_arg, lhs);
  int product = dot(cx, f, -1, s);
  int sum = cx.build().binary(ir::BinaryFn::Add, product, cx.cast(acc, DType::Float32, s), s);
  return Operand::tensor(cx.cast(sum, out, s));
}

} // namespace

void register_matmul(LoweringRegistry &r) {
  auto matmul = [](const std::string &second, bool takes_out_dtype) -> OpLowering {
    return [second, takes_out_dtype](LoweringContext &cx, const CallArgs &a) {
      return lower_matmul(cx, a, second, takes_out_dtype);
    };
  };
  r.add_both("matmul", "(input, other, *, ~out=None)", matmul("other", false));
  r.add_both("mm", "(input, mat2, out_dtype=None, *, ~out=None)", matmul("mat2", true));
  r.add_both("bmm", "(input, mat2, out_dtype=None, *, ~out=None)", matmul("mat2", true));
  r.add("hl.dot", "(mat1, mat2, acc=None, out_dtype=None)", lower_hl_dot);
  r.add_both("addmm", "(input, mat1, mat2, *, beta=1, alpha=1, ~out=None)", lower_add_product);
  r.add_both("baddbmm", "(input, batch1, batch2, *, beta=1, alpha=1, ~out=None)",
             lower_add_product);
}

} // namespace helion::lower
