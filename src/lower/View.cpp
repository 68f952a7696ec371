// Views of device values: size-1 dims added or removed (unsqueeze, squeeze,
// view/reshape), permutations (permute, transpose, t, .T) and expand.

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

/// view/reshape: only size-1 dims may come or go; -1 stands for the one
/// remaining dimension it replaces. `sizes` names the parameter.
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
  if (!fits || next != core.size())
    throw UserError("UnsupportedOp",
                    "view/reshape on the device can only add or remove size-1 dimensions of " +
                        cx.shape_text(source) +
                        "; give the tiles in order, with 1 for new dimensions",
                    args.span);
  return Operand::tensor(cx.build().reshape(x, dims, args.span));
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
}

} // namespace helion::lower
