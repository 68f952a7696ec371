// hl.rand and hl.randint: Philox random numbers keyed by an explicit seed.
// An element's offset is its row-major position over the whole extent of the
// shape's dimensions (not within a tile), so the numbers do not depend on
// block sizes or any other config choice.

#include "lower/OpHelpers.h"
#include "support/Diagnostics.h"

namespace helion::lower {

namespace {

using ir::BinaryFn;

/// The seed as an int scalar node: an int, or element 0 of a one-element tensor.
int seed_node(LoweringContext &cx, const Operand &seed, const SourceSpan &span) {
  if (seed.is_host(HostValue::Kind::Tensor)) {
    Operand zero = Operand::of_host(HostValue::make_int(sym_const(0)));
    Operand loaded = lower_subscript_load(cx, seed, {zero}, span);
    return loaded.node;
  }
  int node = cx.to_node(seed, span);
  if (cx.type_of(node).rank() != 0 || !is_integral(cx.type_of(node).dtype))
    throw UserError("TypeError",
                    "a random seed is an int or a one-element int tensor, such as seed=123",
                    span);
  return node;
}

/// The row-major position of each element of `dims` over the dimensions' whole extents.
int linear_offsets(LoweringContext &cx, const std::vector<ir::Dim> &dims, const SourceSpan &span) {
  ir::Builder &b = cx.build();
  int offsets = b.constant(0, DType::Int32, span);
  SymInt stride = sym_const(1);
  for (size_t i = dims.size(); i-- > 0;) {
    const ir::Dim &d = dims[i];
    if (!d.is_block()) continue; // a size-1 dimension adds nothing
    const ir::BlockInfo info = cx.kernel().block(d.block);
    std::vector<ir::Dim> shape(dims.size(), ir::Dim::constant(1));
    shape[i] = d;
    int index = b.reshape(b.tile_index(d.block, span), shape, span);
    int scaled = b.binary(BinaryFn::Mul, index, b.host_int(stride, span), span);
    offsets = b.binary(BinaryFn::Add, offsets, scaled, span);
    stride = sym_mul(stride, info.end);
  }
  return b.reshape(offsets, dims, span);
}

Operand lower_random(LoweringContext &cx, const CallArgs &args, bool integers) {
  int seed = seed_node(cx, args["seed"], args.span);
  int offsets;
  if (!is_none(args["offsets"])) {
    offsets = cx.cast(cx.to_node(args["offsets"], args.span), DType::Int32, args.span);
  } else {
    std::vector<ir::Dim> dims = cx.shape_arg(args["shape"], args.span);
    offsets = linear_offsets(cx, dims, args.span);
  }
  if (!integers) return Operand::tensor(cx.build().random(seed, offsets, false, args.span));
  // low + bits mod (high - low), the bits taken as non-negative.
  int bits = cx.build().random(seed, offsets, true, args.span);
  int low = cx.cast(cx.to_node(args["low"], args.span), DType::Int32, args.span);
  int high = cx.cast(cx.to_node(args["high"], args.span), DType::Int32, args.span);
  int positive = cx.build().binary(BinaryFn::BitAnd, bits,
                                   cx.constant(0x7fffffff, DType::Int32, args.span), args.span);
  int range = cx.build().binary(BinaryFn::Sub, high, low, args.span);
  int within = cx.build().binary(BinaryFn::Mod, positive, range, args.span);
  return Operand::tensor(cx.build().binary(BinaryFn::Add, low, within, args.span));
}

} // namespace

void register_random(LoweringRegistry &r) {
  r.add("hl.rand", "(shape, seed, device=None, offsets=None)",
        [](LoweringContext &cx, const CallArgs &args) { return lower_random(cx, args, false); });
  r.add("hl.randint", "(shape, low, high, seed, device=None, offsets=None)",
        [](LoweringContext &cx, const CallArgs &args) { return lower_random(cx, args, true); });
}

} // namespace helion::lower
