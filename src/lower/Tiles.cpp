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

void register_tiles(LoweringRegistry &r) {
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
