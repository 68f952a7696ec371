// What a tile tells about itself: `tile.index`, `.begin`, `.end`,
// `.block_size`, `.id`, `.count`, and the `hl.tile_*` functions that read them.

#include "lower/OpHelpers.h"
#include "support/Diagnostics.h"

namespace helion::lower {

using ir::BinaryFn;

namespace {

/// The bounds of `block`'s range as int32 scalar nodes, like tile.begin.
int range_begin(LoweringContext &cx, int block, const SourceSpan &span) {
  const ir::BlockInfo info = cx.kernel().block(block);
  if (!info.dynamic_range()) return cx.build().host_int(info.begin, span);
  return cx.cast(info.begin_value, DType::Int32, span);
}

int range_end(LoweringContext &cx, int block, const SourceSpan &span) {
  const ir::BlockInfo info = cx.kernel().block(block);
  if (!info.dynamic_range()) return cx.build().host_int(info.end, span);
  return cx.cast(info.end_value, DType::Int32, span);
}

} // namespace

Operand tile_attribute(LoweringContext &cx, int block, const std::string &attr,
                       const SourceSpan &span) {
  ir::Builder &b = cx.build();
  if (attr == "index") return Operand::tensor(b.tile_index(block, span));
  if (attr == "begin") return Operand::tensor(b.tile_begin(block, span));
  if (attr == "end") return Operand::tensor(b.tile_end(block, span));
  if (attr == "block_size") return Operand::tensor(b.tile_size(block, span));
  if (attr == "id") {
    // The tile's position among its loop's tiles: begin // block_size, counted
    // from the start of the range.
    int from_start =
        b.binary(BinaryFn::Sub, b.tile_begin(block, span), range_begin(cx, block, span), span);
    return Operand::tensor(b.binary(BinaryFn::FloorDiv, from_start, b.tile_size(block, span), span));
  }
  if (attr == "count") {
    // cdiv(end - begin, block_size) over the loop's range.
    int size = b.tile_size(block, span);
    int extent = b.binary(BinaryFn::Sub, range_end(cx, block, span),
                          range_begin(cx, block, span), span);
    int rounded = b.binary(BinaryFn::Sub, b.binary(BinaryFn::Add, extent, size, span),
                           b.constant(1, DType::Int32, span), span);
    return Operand::tensor(b.binary(BinaryFn::FloorDiv, rounded, size, span));
  }
  throw UserError("IncorrectTileUsage",
                  "a tile has no attribute '" + attr +
                      "'; use index, begin, end, block_size, id or count",
                  span);
}

/// hl.arange(end) / hl.arange(begin, end): the length is a tile's block size
/// (`hl.arange(tile.block_size)`), a registered block size, or a constant
/// power of two; the values count from `begin` (0 by default).
Operand lower_arange(LoweringContext &cx, const CallArgs &args) {
  const Operand &first = args["begin_or_end"], &second = args["end_or_none"];
  int64_t begin = 0;
  const Operand &length = is_none(second) ? first : second;
  if (!is_none(second)) begin = cx.int_arg(first, args.span);
  if (!is_none(args["step"]) && cx.int_arg(args["step"], args.span) != 1)
    throw UserError("UnsupportedOp", "hl.arange takes step 1 only", args.span);
  ir::Dim dim;
  if (length.kind == Operand::Kind::Tensor && cx.node(length.node).op == ir::OpKind::TileSize &&
      begin == 0) {
    dim = ir::Dim::of_block(cx.node(length.node).block);
  } else if (length.is_host(HostValue::Kind::Int) && !sym_constant(length.host->sym)) {
    std::vector<ir::Dim> dims = cx.shape_arg(length, args.span);
    if (dims.size() != 1 || !dims[0].is_block() || begin != 0)
      throw UserError("UnsupportedOp",
                      "hl.arange's length is a block size or a constant power of two", args.span);
    dim = dims[0];
  } else {
    int64_t n = cx.int_arg(length, args.span) - begin;
    if (n <= 0 || (n & (n - 1)))
      throw UserError("UnsupportedOp",
                      "hl.arange's length must be a power of two (Triton's tl.arange); got " +
                          std::to_string(n),
                      args.span);
    dim = ir::Dim::constant(n);
  }
  int values = cx.build().arange(dim, begin, args.span);
  DType dtype = is_none(args["dtype"]) ? DType::Int32 : cx.dtype_arg(args["dtype"], args.span);
  return Operand::tensor(cx.cast(values, dtype, args.span));
}

void register_tiles(LoweringRegistry &r) {
  r.add("hl.arange", "(begin_or_end, end_or_none=None, step=None, *, dtype=None, device=None)",
        lower_arange);
  for (const char *attr : {"index", "begin", "end", "block_size", "id"}) {
    std::string name = attr;
    r.add("hl.tile_" + name, "(tile)", [name](LoweringContext &cx, const CallArgs &args) {
      const Operand &tile = args["tile"];
      if (tile.kind != Operand::Kind::Tile)
        throw UserError("IncorrectTileUsage",
                        "hl.tile_" + name + " takes a tile, the loop variable of hl.tile",
                        args.span);
      return tile_attribute(cx, tile.block, name, args.span);
    });
  }
}

} // namespace helion::lower
