// Views of device values: size-1 dims added or removed (unsqueeze, squeeze,
// view/reshape), dims merged or split (view/reshape), permutations (permute,
// transpose, t, .T), expand, and values side by side (torch.stack, hl.join,
// hl.split).

#include "lower/OpHelpers.h"
#include "support/Diagnostics.h"

#include <algorithm>

namespace helion::lower {

using ir::Dim;

namespace {

const Dim kOne = Dim::constant(1);

/// Whether the size `item` (an int or a tile) names the dimension `dim`.
bool names_dim(LoweringContext &cx, const Operand &item, const Dim &dim) {
  if (item.kind == Operand::Kind::Tile) return dim == Dim::of_block(item.block);
  if (!item.is_host(HostValue::Kind::Int)) return false;
  if (!dim.is_block()) {
    auto c = sym_constant(item.host->sym);
    return c && *c == dim.size;
  }
  const ir::BlockInfo &b = cx.kernel().block(dim.block);
  return b.kind == ir::BlockInfo::Kind::Reduction && sym_equal(b.extent(), item.host->sym);
}

bool is_int(const Operand &o, int64_t value) {
  std::optional<double> n = number_of(o);
  return n && o.is_host(HostValue::Kind::Int) && *n == value;
}

Operand lower_unsqueeze(LoweringContext &cx, const CallArgs &args) {
  int x = input_node(cx, args);
  std::vector<Dim> dims = cx.type_of(x).dims;
  int64_t d = cx.int_arg(args["dim"], args.span);
  int axis = normalize_axis(d, static_cast<int>(dims.size()) + 1, args.span);
  dims.insert(dims.begin() + axis, kOne);
  return Operand::tensor(cx.build().reshape(x, dims, args.span));
}

Operand lower_squeeze(LoweringContext &cx, const CallArgs &args) {
  int x = input_node(cx, args);
  std::vector<Dim> dims = cx.type_of(x).dims;
  const Operand &dim = args["dim"];
  std::vector<int> axes;
  if (is_none(dim)) {
    for (int i = 0; i < static_cast<int>(dims.size()); ++i)
      if (dims[i] == kOne) axes.push_back(i);
  } else {
    for (const Operand &item : items_of(dim))
      axes.push_back(normalize_axis(cx.int_arg(item, args.span), cx.type_of(x).rank(), args.span));
  }
  std::sort(axes.rbegin(), axes.rend());
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  for (int axis : axes) {
    // Like torch, a dimension whose size is not 1 is left alone. A tile's
    // dimension counts as such whatever its block size, so the value keeps
    // one shape under every config.
    if (dims[axis] == kOne) dims.erase(dims.begin() + axis);
  }
  return Operand::tensor(cx.build().reshape(x, dims, args.span));
}

/// The number of elements dimension `d` holds in a block, when compiling
/// knows it: a constant, a tile sized by a registered block size (its
/// symbol), or a whole dimension whose block it fills exactly (a power-of-two
/// extent: a constant, or a multiple of a registered block size). Null for a
/// tile whose block size only the config knows.
SymInt exact_size(LoweringContext &cx, const Dim &d) {
  if (!d.is_block()) return sym_const(d.size);
  const ir::DeviceKernel &k = cx.kernel();
  const ir::BlockInfo &b = k.block(d.block);
  if (b.kind == ir::BlockInfo::Kind::Tile) {
    for (const ir::RegisteredSize &r : k.registered_sizes)
      if (r.block == d.block || r.block == b.size_from) return r.symbol;
    return nullptr;
  }
  auto power_of_two = [](int64_t v) { return v > 0 && (v & (v - 1)) == 0; };
  SymInt extent = b.extent();
  if (auto c = sym_constant(extent)) return power_of_two(*c) ? extent : nullptr;
  int64_t hint = sym_hint(extent);
  for (const ir::RegisteredSize &r : k.registered_sizes) {
    int64_t unit = std::max<int64_t>(sym_hint(r.symbol), 1);
    int64_t factor = hint / unit;
    if (hint % unit == 0 && power_of_two(factor) &&
        sym_equal(extent, sym_mul(sym_const(factor), r.symbol)))
      return extent;
  }
  return nullptr;
}

/// A size a reshape asks for: how many elements, when known, and the dim
/// it names (a tile, `tile.block_size`, a registered block size), if any.
struct WantedSize {
  SymInt size;
  std::optional<Dim> dim;
  bool wildcard = false; ///< -1
};

WantedSize wanted_size(LoweringContext &cx, const Operand &item, const SourceSpan &span) {
  WantedSize w;
  if (is_int(item, -1)) {
    w.wildcard = true;
    return w;
  }
  if (item.kind == Operand::Kind::Tile) {
    w.dim = Dim::of_block(item.block);
    w.size = exact_size(cx, *w.dim);
    return w;
  }
  if (item.is_host(HostValue::Kind::Int)) {
    w.size = item.host->sym;
    if (auto c = sym_constant(w.size)) {
      w.dim = Dim::constant(*c);
      return w;
    }
    for (const ir::RegisteredSize &r : cx.kernel().registered_sizes)
      if (sym_equal(r.symbol, w.size)) w.dim = Dim::of_block(r.block);
    return w;
  }
  if (item.kind == Operand::Kind::Tensor && cx.type_of(item.node).dims.empty()) {
    // tile.block_size, or tile.block_size * c
    const ir::Node &n = cx.node(item.node);
    if (n.op == ir::OpKind::TileSize) {
      w.dim = Dim::of_block(n.block);
      w.size = exact_size(cx, *w.dim);
      return w;
    }
    if (SymInt c = host_int_of(n)) {
      w.size = c;
      return w;
    }
    if (n.op == ir::OpKind::Binary && n.binary_fn() == ir::BinaryFn::Mul)
      for (int side = 0; side < 2; ++side) {
        const ir::Node &tile = cx.node(n.operands[side]);
        SymInt factor = host_int_of(cx.node(n.operands[1 - side]));
        if (tile.op != ir::OpKind::TileSize || !factor) continue;
        SymInt unit = exact_size(cx, Dim::of_block(tile.block));
        if (unit) w.size = sym_mul(factor, unit);
        return w;
      }
  }
  throw UserError("UnsupportedOp",
                  "a size on the device is an int, a size known to the host, a tile or "
                  "tile.block_size (times an int)",
                  span);
}

/// view/reshape that merges adjacent dims into one or splits one into
/// several, elements in row-major order as in torch. Each dim so merged or
/// split must hold a number of elements known when compiling (see
/// exact_size); dims passing through unchanged may be any. Returns -1 when
/// the sizes do not line up.
int regroup_view(LoweringContext &cx, int x, const std::vector<Dim> &core,
                 const std::vector<Operand> &items, const SourceSpan &span) {
  std::vector<WantedSize> wanted;
  int wildcard = -1;
  for (const Operand &item : items) {
    wanted.push_back(wanted_size(cx, item, span));
    if (wanted.back().wildcard) {
      if (wildcard >= 0) return -1;
      wildcard = static_cast<int>(wanted.size()) - 1;
    }
  }
  if (wildcard >= 0) {
    // -1: the elements left over, where every size is known.
    SymInt total = sym_const(1), asked = sym_const(1);
    for (const Dim &d : core) {
      SymInt s = exact_size(cx, d);
      if (!s) return -1;
      total = sym_mul(total, s);
    }
    for (const WantedSize &w : wanted) {
      if (w.wildcard) continue;
      if (!w.size) return -1;
      asked = sym_mul(asked, w.size);
    }
    SymInt rest = sym_floordiv(total, asked);
    if (!sym_equal(sym_mul(rest, asked), total)) return -1;
    wanted[wildcard].wildcard = false;
    wanted[wildcard].size = rest;
    if (auto c = sym_constant(rest)) wanted[wildcard].dim = Dim::constant(*c);
  }
  // The dim a merged or split size becomes: the one it names, else a
  // constant, else a whole dimension of that many elements.
  auto dim_for = [&](const WantedSize &w) -> Dim {
    if (w.dim) return *w.dim;
    if (auto c = sym_constant(w.size)) return Dim::constant(*c);
    return Dim::of_block(cx.reduction_block(w.size, span));
  };
  std::vector<Dim> dims;
  size_t i = 0, j = 0;
  while (j < wanted.size()) {
    const WantedSize &w = wanted[j];
    if (w.dim == kOne) {
      dims.push_back(kOne);
      ++j;
      continue;
    }
    if (i >= core.size()) return -1;
    if (w.dim && *w.dim == core[i]) { // passes through
      dims.push_back(core[i++]);
      ++j;
      continue;
    }
    SymInt have = exact_size(cx, core[i]);
    if (!have || !w.size) return -1;
    if (sym_equal(have, w.size)) { // the same size under another name: the value's dim
      dims.push_back(core[i++]);
      ++j;
      continue;
    }
    if (sym_hint(have) < sym_hint(w.size)) {
      // Several dims of the value merge into this one.
      size_t first = i++;
      while (i < core.size() && sym_hint(have) < sym_hint(w.size)) {
        SymInt next = exact_size(cx, core[i++]);
        if (!next) return -1;
        have = sym_mul(have, next);
      }
      if (!sym_equal(have, w.size) || i - first < 2) return -1;
      dims.push_back(dim_for(w));
      ++j;
      continue;
    }
    // This dim of the value splits into several.
    SymInt got = w.size;
    std::vector<Dim> parts = {dim_for(w)};
    ++j;
    while (j < wanted.size() && sym_hint(got) < sym_hint(have)) {
      const WantedSize &next = wanted[j++];
      if (next.dim == kOne) {
        parts.push_back(kOne);
        continue;
      }
      if (!next.size) return -1;
      got = sym_mul(got, next.size);
      parts.push_back(dim_for(next));
    }
    if (!sym_equal(got, have)) return -1;
    dims.insert(dims.end(), parts.begin(), parts.end());
    ++i;
  }
  if (i != core.size()) return -1;
  return cx.build().regroup(x, dims, span);
}

/// view/reshape: size-1 dims may come or go (-1 stands for the one
/// remaining dimension it replaces), and dims of sizes known when compiling
/// may merge or split. `sizes` names the parameter.
Operand lower_view(LoweringContext &cx, const CallArgs &args, const std::string &sizes) {
  int x = input_node(cx, args);
  std::vector<Dim> source = cx.type_of(x).dims;
  std::vector<Operand> items = items_of(args[sizes]);
  if (items.size() == 1 && items[0].is_host(HostValue::Kind::DType))
    throw UserError("UnsupportedOp",
                    "reinterpreting a value's bits with view(dtype) is not "
                    "supported on the device; convert with .to(dtype)",
                    args.span);
  std::vector<Dim> core;
  for (const Dim &d : source)
    if (d != kOne) core.push_back(d);
  size_t explicit_sizes = 0, wildcards = 0;
  for (const Operand &item : items) {
    if (is_int(item, -1))
      ++wildcards;
    else if (!is_int(item, 1))
      ++explicit_sizes;
  }
  // -1 stands for a dimension of the value when the explicit sizes leave one.
  bool wildcard_is_dim = explicit_sizes < core.size();
  std::vector<Dim> dims;
  size_t next = 0;
  bool fits = wildcards <= 1;
  for (const Operand &item : items) {
    bool wildcard = is_int(item, -1);
    if (next < core.size() && (wildcard ? wildcard_is_dim : names_dim(cx, item, core[next]))) {
      dims.push_back(core[next++]);
      continue;
    }
    if (wildcard || is_int(item, 1)) {
      dims.push_back(kOne);
      continue;
    }
    fits = false;
  }
  if (fits && next == core.size()) return Operand::tensor(cx.build().reshape(x, dims, args.span));
  int regrouped = regroup_view(cx, x, core, items, args.span);
  if (regrouped < 0)
    throw UserError("UnsupportedOp",
                    "view/reshape on the device adds or removes size-1 dimensions of " +
                        cx.shape_text(source) +
                        " (give the tiles in order, with 1 for new dimensions), or merges or "
                        "splits dimensions whose sizes are known when compiling: constants, "
                        "tiles of a block size from hl.register_block_size and "
                        "tile.block_size times an int",
                    args.span);
  return Operand::tensor(regrouped);
}

int permute(LoweringContext &cx, int x, const std::vector<int> &perm, const SourceSpan &span) {
  ir::TensorType type = cx.type_of(x);
  std::vector<int> seen = perm;
  std::sort(seen.begin(), seen.end());
  bool valid = seen.size() == type.dims.size();
  for (int i = 0; valid && i < static_cast<int>(seen.size()); ++i)
    valid = seen[i] == i;
  if (!valid)
    throw UserError("TypeError",
                    "permute needs each of the " + std::to_string(type.rank()) +
                        " dimensions exactly once",
                    span);
  bool identity = true;
  std::vector<Dim> dims;
  for (size_t i = 0; i < perm.size(); ++i) {
    identity = identity && perm[i] == static_cast<int>(i);
    dims.push_back(type.dims[perm[i]]);
  }
  if (identity) return x;
  return cx.build().permute(x, perm, span);
}

Operand lower_permute(LoweringContext &cx, const CallArgs &args) {
  int x = input_node(cx, args);
  int rank = cx.type_of(x).rank();
  std::vector<int> perm;
  for (const Operand &item : items_of(args["dims"]))
    perm.push_back(normalize_axis(cx.int_arg(item, args.span), rank, args.span));
  if (static_cast<int>(perm.size()) != rank)
    throw UserError("RankMismatch",
                    "permute got " + std::to_string(perm.size()) +
                        " dimensions for a value of rank " + std::to_string(rank),
                    args.span);
  return Operand::tensor(permute(cx, x, perm, args.span));
}

/// transpose(dim0, dim1) and swapaxes(axis0, axis1): `first` and `second` name the parameters.
Operand lower_transpose(LoweringContext &cx, const CallArgs &args, const std::string &first,
                        const std::string &second) {
  int x = input_node(cx, args);
  int rank = cx.type_of(x).rank();
  int a = normalize_axis(cx.int_arg(args[first], args.span), rank, args.span);
  int b = normalize_axis(cx.int_arg(args[second], args.span), rank, args.span);
  std::vector<int> perm(rank);
  for (int i = 0; i < rank; ++i)
    perm[i] = i;
  if (rank > 0) std::swap(perm[a], perm[b]);
  return Operand::tensor(permute(cx, x, perm, args.span));
}

/// t() swaps the two dims of a matrix; `.T` (which lowers here too) reverses them.
Operand lower_t(LoweringContext &cx, const CallArgs &args) {
  int x = input_node(cx, args);
  int rank = cx.type_of(x).rank();
  std::vector<int> perm(rank);
  for (int i = 0; i < rank; ++i)
    perm[i] = rank - 1 - i;
  return Operand::tensor(permute(cx, x, perm, args.span));
}

/// expand: broadcasting against a true mask of the target shape keeps every
/// value exact (no arithmetic on them).
int expand_to(LoweringContext &cx, int x, const std::vector<Dim> &dims, const SourceSpan &span) {
  if (cx.type_of(x).dims == dims) return x;
  std::vector<Dim> shape = cx.broadcast(cx.type_of(x), {DType::Bool, dims}, span);
  if (shape != dims)
    throw UserError("ShapeMismatch",
                    "cannot expand a value of shape " + cx.shape_text(cx.type_of(x).dims) + " to " +
                        cx.shape_text(dims),
                    span);
  int mask = cx.build().full(dims, DType::Bool, cx.constant(1, DType::Bool, span), span);
  Operand x_op = Operand::tensor(x);
  return where_op(cx, Operand::tensor(mask), x_op, x_op, span);
}

Operand lower_expand(LoweringContext &cx, const CallArgs &args) {
  int x = input_node(cx, args);
  std::vector<Dim> source = cx.type_of(x).dims;
  std::vector<Operand> items = items_of(args["size"]);
  if (items.size() < source.size())
    throw UserError("RankMismatch", "expand needs at least as many sizes as the value has dims",
                    args.span);
  std::vector<Dim> dims;
  size_t offset = items.size() - source.size();
  for (size_t i = 0; i < items.size(); ++i) {
    if (i >= offset && is_int(items[i], -1)) {
      dims.push_back(source[i - offset]);
      continue;
    }
    std::vector<Dim> d = cx.shape_arg(items[i], args.span);
    dims.push_back(d.at(0));
  }
  return Operand::tensor(expand_to(cx, x, dims, args.span));
}

Operand lower_expand_as(LoweringContext &cx, const CallArgs &args) {
  int x = input_node(cx, args);
  int other = cx.to_node(args["other"], args.span);
  return Operand::tensor(expand_to(cx, x, cx.type_of(other).dims, args.span));
}

/// A dimension of a device value as a size: its tile (which shapes and
/// views take as that dimension), a reduction dimension's extent, or a constant.
Operand size_of_dim(LoweringContext &cx, const Dim &d) {
  if (!d.is_block()) return Operand::of_host(HostValue::make_int(sym_const(d.size)));
  const ir::BlockInfo &b = cx.kernel().block(d.block);
  if (b.kind == ir::BlockInfo::Kind::Reduction)
    return Operand::of_host(HostValue::make_int(b.extent()));
  return Operand::tile(d.block);
}

/// `a` and `b` promoted to one dtype and broadcast to one shape.
std::pair<int, int> same_type(LoweringContext &cx, const Operand &a, const Operand &b,
                              const SourceSpan &span) {
  DType dtype = cx.promote(a, b);
  int x = cx.cast(cx.to_node(a, span), dtype, span);
  int y = cx.cast(cx.to_node(b, span), dtype, span);
  std::vector<Dim> dims = cx.broadcast(cx.type_of(x), cx.type_of(y), span);
  return {expand_to(cx, x, dims, span), expand_to(cx, y, dims, span)};
}

/// `values` (of one type, a power of two of them) along a new last dim:
/// joined pairwise, the pairs of pairs merged.
int stack_last(LoweringContext &cx, const std::vector<int> &values, const SourceSpan &span) {
  if (values.size() == 1) {
    std::vector<Dim> dims = cx.type_of(values[0]).dims;
    dims.push_back(kOne);
    return cx.build().reshape(values[0], dims, span);
  }
  if (values.size() == 2) return cx.build().join(values[0], values[1], span);
  std::vector<int> even, odd;
  for (size_t i = 0; i < values.size(); ++i)
    (i % 2 ? odd : even).push_back(values[i]);
  // [..., n/2, 2]: element (i, j) is values[2i + j]; merged, values[k] at k.
  int pairs = cx.build().join(stack_last(cx, even, span), stack_last(cx, odd, span), span);
  std::vector<Dim> dims = cx.type_of(values[0]).dims;
  dims.push_back(Dim::constant(static_cast<int64_t>(values.size())));
  return cx.build().regroup(pairs, dims, span);
}

/// torch.stack(tensors, dim): a power of two of values of one shape, side
/// by side along a new dim `dim`.
Operand lower_stack(LoweringContext &cx, const CallArgs &args) {
  std::vector<Operand> items = items_of(args["tensors"]);
  size_t n = items.size();
  if (n == 0 || (n & (n - 1)) != 0)
    throw UserError("UnsupportedOp",
                    "torch.stack on the device stacks a power of two of values (Triton's "
                    "shapes are powers of two); this stacks " +
                        std::to_string(n),
                    args.span);
  // torch.stack promotes its tensors to one dtype.
  DType dtype = cx.dtype_of(items[0]);
  for (const Operand &item : items)
    dtype = promote(dtype, cx.dtype_of(item));
  std::vector<int> values;
  for (const Operand &item : items) {
    values.push_back(cx.cast(cx.to_node(item, args.span), dtype, args.span));
    if (cx.type_of(values.back()).dims != cx.type_of(values[0]).dims)
      throw UserError("ShapeMismatch",
                      "torch.stack takes values of one shape; got " +
                          cx.shape_text(cx.type_of(values[0]).dims) + " and " +
                          cx.shape_text(cx.type_of(values.back()).dims),
                      args.span);
  }
  int rank = cx.type_of(values[0]).rank();
  int dim = normalize_axis(cx.int_arg(args["dim"], args.span), rank + 1, args.span);
  int stacked = stack_last(cx, values, args.span);
  if (dim == rank) return Operand::tensor(stacked);
  std::vector<int> perm;
  for (int i = 0; i < rank; ++i) {
    if (i == dim) perm.push_back(rank);
    perm.push_back(i);
  }
  return Operand::tensor(cx.build().permute(stacked, perm, args.span));
}

/// hl.join(a, b): broadcast together, side by side along a new last dim of size 2.
Operand lower_join(LoweringContext &cx, const CallArgs &args) {
  auto [a, b] = same_type(cx, args["a"], args["b"], args.span);
  return Operand::tensor(cx.build().join(a, b, args.span));
}

/// hl.split(t): the two halves of a last dim of size 2.
Operand lower_split(LoweringContext &cx, const CallArgs &args) {
  int x = cx.to_node(args["t"], args.span);
  const std::vector<Dim> &dims = cx.type_of(x).dims;
  if (dims.empty() || dims.back() != Dim::constant(2))
    throw UserError("ShapeMismatch",
                    "hl.split takes a value whose last dimension has size 2; this one has shape " +
                        cx.shape_text(dims),
                    args.span);
  Operand halves;
  halves.kind = Operand::Kind::Tuple;
  halves.elements = {Operand::tensor(cx.build().split(x, 0, args.span)),
                     Operand::tensor(cx.build().split(x, 1, args.span))};
  return halves;
}

/// x.size() / x.size(d) / x.shape of a device value.
Operand lower_size(LoweringContext &cx, const CallArgs &args) {
  int x = input_node(cx, args);
  const std::vector<Dim> dims = cx.type_of(x).dims;
  if (!is_none(args["dim"]))
    return size_of_dim(
        cx, dims[normalize_axis(cx.int_arg(args["dim"], args.span), static_cast<int>(dims.size()),
                                args.span)]);
  Operand sizes;
  sizes.kind = Operand::Kind::Tuple;
  for (const Dim &d : dims)
    sizes.elements.push_back(size_of_dim(cx, d));
  return sizes;
}

} // namespace

void register_view(LoweringRegistry &r) {
  r.add("tensor.size", "(input, dim=None)", lower_size);
  r.add_both("unsqueeze", "(input, dim)", lower_unsqueeze);
  r.add_both("squeeze", "(input, dim=None)", lower_squeeze);
  auto view = [](const std::string &sizes) -> OpLowering {
    return [sizes](LoweringContext &cx, const CallArgs &a) { return lower_view(cx, a, sizes); };
  };
  r.add("torch.reshape", "(input, shape)", view("shape"));
  r.add("tensor.reshape", "(input, *shape)", view("shape"));
  r.add("tensor.view", "(input, *size)", view("size"));
  r.add("torch.permute", "(input, dims)", lower_permute);
  r.add("tensor.permute", "(input, *dims)", lower_permute);
  auto transpose = [](const std::string &first, const std::string &second) -> OpLowering {
    return [first, second](LoweringContext &cx, const CallArgs &a) {
      return lower_transpose(cx, a, first, second);
    };
  };
  r.add_both("transpose", "(input, dim0, dim1)", transpose("dim0", "dim1"));
  r.add_both("swapaxes", "(input, axis0, axis1)", transpose("axis0", "axis1"));
  r.add_both("t", "(input)", lower_t);
  r.add("tensor.expand", "(input, *size, ~implicit=False)", lower_expand);
  r.add("tensor.expand_as", "(input, other)", lower_expand_as);
  r.add("torch.stack", "(tensors, dim=0, *, ~out=None)", lower_stack);
  r.add("hl.join", "(a, b)", lower_join);
  r.add("hl.split", "(t)", lower_split);
}

} // namespace helion::lower
