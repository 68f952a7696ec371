// What a tile tells about itself: `tile.index`, `.begin`, `.end`,
// `.block_size`, `.id`, `.count`, and the `hl.tile_*` functions that read them.

#include "lower/OpHelpers.h"
#include "support/Diagnostics.h"
#include "types/HostTypes.h"

#include <algorithm>

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

static bool is_power_of_two(int64_t n) {
  return n > 0 && (n & (n - 1)) == 0;
}

static UserError not_a_power_of_two(const std::string &text, int64_t value,
                                    const std::string &when, const SourceSpan &span) {
  return UserError("InvalidConfig",
                   "block_size " + text + " is " + std::to_string(value) + when +
                       "; a block size must be a power of two: round it up with "
                       "helion.next_power_of_2(...), or pass None to let the config choose",
                   span);
}

/// The first value `s` reads that no config fixes, as host code spells it
/// (`x.size(1)`, an int argument, a variable host code computed).
static std::string first_runtime_value(const SymInt &s) {
  if (!s) return "";
  if (s->op == SymNode::Op::Var) return is_config_symbol(s->kernel_name) ? "" : s->host_expr;
  std::string found = first_runtime_value(s->lhs);
  return found.empty() ? first_runtime_value(s->rhs) : found;
}

/// A block size that sizes, int arguments or tensor data decide: Triton
/// needs it when compiling, and a kernel compiled for any such value would
/// have to be specialized on it, which only the user can ask for.
static UserError not_constant(const std::string &text, const SymInt &sym,
                              const SourceSpan &span) {
  return UserError("ShapeSpecializingCall",
                   "block_size " + text + " depends on " + first_runtime_value(sym) +
                       ", known only when the kernel runs, but Triton needs a block size when "
                       "compiling; use static_shapes=True or hl.specialize() for a size, "
                       "annotate an int argument hl.constexpr, or compute it from "
                       "hl.register_tunable values and constants",
                   span);
}

TileBlockSize tile_block_size(const HostValuePtr &value, const std::string &text,
                              const SourceSpan &span) {
  if (!value || value->kind != HostValue::Kind::Int)
    throw UserError("InvalidConfig",
                    "block_size " + text + " is " +
                        (value ? value->describe() : std::string("a value on the device")) +
                        "; give a power of two known when compiling (an int, or host "
                        "arithmetic on hl.register_tunable values), or None",
                    span);
  if (auto constant = sym_constant(value->sym)) {
    if (!is_power_of_two(*constant)) throw not_a_power_of_two(text, *constant, "", span);
    return {*constant, nullptr};
  }
  std::vector<std::string> variables = sym_variables(value->sym);
  if (!std::all_of(variables.begin(), variables.end(), is_config_symbol))
    throw not_constant(text, value->sym, span);
  // Each config's value is checked when the config is read; the default
  // config's here, so that a kernel that cannot compile says so at once.
  int64_t at_default = sym_hint(value->sym);
  if (!is_power_of_two(at_default))
    throw not_a_power_of_two(text, at_default, " with the tunables' default values", span);
  return {std::nullopt, value->sym};
}

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
