#include "lower/OpHelpers.h"
#include "support/Diagnostics.h"
#include "support/Json.h"

namespace helion::lower {

using ir::Dim;
using ir::IndexItem;

namespace {

/// One kernel runs on one device: every tensor it touches must live there.
void check_same_device(ir::DeviceKernel &k, const std::string &name, const std::string &device,
                       const SourceSpan &span) {
  if (device.empty()) return;
  for (const ir::TensorParam &other : k.tensors)
    if (!other.device.empty() && other.device != device)
      throw UserError("DeviceMismatch",
                      "'" + name + "' is on " + device + " but '" + other.name + "' is on " +
                          other.device + "; move every tensor the kernel uses to one device",
                      span);
}

} // namespace

int tensor_param(LoweringContext &cx, const Operand &base, const SourceSpan &span) {
  ir::DeviceKernel &k = cx.kernel();
  for (size_t i = 0; i < k.tensors.size(); ++i)
    if (k.tensors[i].name == base.host_name) return static_cast<int>(i);
  const HostTensor &t = *base.host->tensor;
  check_same_device(k, base.host_name, t.device, span);
  ir::TensorParam p;
  p.name = base.host_name;
  p.dtype = t.dtype;
  p.sizes = t.sizes;
  p.strides = t.strides;
  p.device = t.device;
  if (!t.strides_known)
    for (size_t d = 0; d < t.strides.size(); ++d)
      p.strides[d] = sym_var(p.name + "_stride_" + std::to_string(d),
                             p.name + ".stride(" + std::to_string(d) + ")", sym_hint(t.strides[d]));
  k.tensors.push_back(p);
  return static_cast<int>(k.tensors.size()) - 1;
}

namespace {

std::string describe_size(const SymInt &s) {
  std::string host = sym_to_python(s, SymSide::Host);
  std::string value = std::to_string(sym_hint(s));
  return host == value ? value : value + " (" + host + ")";
}

/// Checks that tile `block` may index dimension `dim` of `tensor` without
/// going out of bounds: the tile's range must end within the dimension (a
/// tile over the first B of B + 1 offsets is fine). Where that holds for the
/// sizes at hand but not for every size, the host code checks it at launch.
/// An access with an extra mask (a tile over the columns of a concatenation)
/// may run past the dimension: false then says the access must be kept
/// within it by a mask of its own.
bool check_tile_fits(LoweringContext &cx, const ir::TensorParam &tensor, int dim, int block,
                     bool user_masked, const SourceSpan &span) {
  const ir::BlockInfo &b = cx.kernel().block(block);
  const SymInt &size = tensor.sizes[dim];
  // A range computed on the device (offsets of jagged rows) is the user's to
  // keep within the tensor, as in Helion.
  if (b.dynamic_range() || sym_equal(b.end, size)) return true;
  if (auto room = sym_constant(sym_sub(size, b.end)); room && *room >= 0) return true;
  std::string message = tensor.name + " is indexed by '" + b.name_hint + "', which spans " +
                        describe_size(b.end) + ", but dimension " + std::to_string(dim) + " of " +
                        tensor.name + " has size " + describe_size(size);
  if (user_masked) return false;
  if (sym_hint(b.end) <= sym_hint(size)) {
    cx.kernel().guards.push_back({b.end, size, message, /*at_most=*/true});
    return true;
  }
  throw UserError("ShapeMismatch",
                  message +
                      "; tile each dimension by its own size, or select the lanes inside it with "
                      "hl.load/hl.store's extra_mask",
                  span);
}

struct ResolvedIndex {
  std::vector<IndexItem> items;
  std::vector<Dim> dims;
  /// Tiles that run past the dimension they index: (block, its size there).
  std::vector<std::pair<int, SymInt>> overhanging;
};

/// A slice bound as Python reads it: counted from the end when negative.
SymInt clamped(const SymInt &bound, const SymInt &size) {
  if (auto c = sym_constant(bound); c && *c < 0) return sym_max(sym_add(size, bound), sym_const(0));
  return bound;
}

/// Whether nodes `a` and `b` compute the same value: the same node, or the
/// same pure operation of the same operands (literals and host values by value).
bool same_value(const ir::DeviceKernel &k, int a, int b, int depth = 0) {
  if (a == b) return true;
  if (depth > 32) return false;
  const ir::Node &x = k.node(a), &y = k.node(b);
  if (x.op != y.op || x.type.dtype != y.type.dtype || x.operands.size() != y.operands.size())
    return false;
  switch (x.op) {
  case ir::OpKind::Constant:
    return x.number == y.number;
  case ir::OpKind::HostScalar:
    return x.scalar == y.scalar && (x.sym ? y.sym && sym_equal(x.sym, y.sym) : !y.sym);
  case ir::OpKind::TileBegin:
  case ir::OpKind::TileEnd:
  case ir::OpKind::TileSize:
    return x.block == y.block;
  case ir::OpKind::Unary:
  case ir::OpKind::Binary:
  case ir::OpKind::Cast:
    if (x.fn != y.fn) return false;
    for (size_t i = 0; i < x.operands.size(); ++i)
      if (!same_value(k, x.operands[i], y.operands[i], depth + 1)) return false;
    return true;
  default:
    return false; // loads and carried values may differ
  }
}

/// `end - begin` for slice bounds computed on the device, where `end` is
/// `begin + n` with `n` known when compiling.
SymInt device_slice_length(const ir::DeviceKernel &k, int begin, int end) {
  const ir::Node &e = k.node(end);
  if (e.op != ir::OpKind::Binary || e.binary_fn() != ir::BinaryFn::Add) return nullptr;
  for (int side = 0; side < 2; ++side)
    if (same_value(k, e.operands[side], begin))
      if (SymInt n = host_int_of(k.node(e.operands[1 - side]))) return n;
  return nullptr;
}

ResolvedIndex resolve_index(LoweringContext &cx, const ir::TensorParam &tensor,
                            std::vector<Operand> index, const SourceSpan &span,
                            bool user_masked = false) {
  int consumed = 0;
  for (const Operand &o : index)
    if (o.kind != Operand::Kind::NewAxis) ++consumed;
  int rank = static_cast<int>(tensor.sizes.size());
  if (consumed > rank)
    throw UserError("RankMismatch",
                    tensor.name + " has rank " + std::to_string(rank) + " but is indexed with " +
                        std::to_string(consumed) + " indices",
                    span);
  for (int i = consumed; i < rank; ++i) {
    Operand all;
    all.kind = Operand::Kind::Slice;
    index.push_back(all); // trailing dims are taken whole, as in torch
  }
  ResolvedIndex out;
  int dim = 0;
  for (const Operand &o : index) {
    IndexItem item;
    switch (o.kind) {
    case Operand::Kind::NewAxis:
      item.kind = IndexItem::Kind::NewAxis;
      out.dims.push_back(Dim::constant(1));
      out.items.push_back(item);
      continue;
    case Operand::Kind::Tile:
      if (!check_tile_fits(cx, tensor, dim, o.block, user_masked, span))
        out.overhanging.emplace_back(o.block, tensor.sizes[dim]);
      item.block = o.block;
      out.dims.push_back(Dim::of_block(o.block));
      break;
    case Operand::Kind::Slice: {
      if (o.slice_begin_node >= 0 || o.slice_end_node >= 0) {
        // `a:a + n` with `a` computed on the device: n elements from a on,
        // those outside the dimension masked.
        SymInt length = o.slice_begin_node >= 0 && o.slice_end_node >= 0
                            ? device_slice_length(cx.kernel(), o.slice_begin_node,
                                                  o.slice_end_node)
                            : nullptr;
        auto constant = length ? sym_constant(length) : std::nullopt;
        if (!length || (constant && *constant <= 0))
          throw UserError("UnsupportedSyntax",
                          "a slice whose bounds are computed on the device reads a length known "
                          "when compiling: write x[..., a:a + n] with the same `a` in both "
                          "bounds and `n` a positive int or size known to the host",
                          span);
        item.block = cx.reduction_block(length, span);
        item.value = o.slice_begin_node;
        out.dims.push_back(Dim::of_block(item.block));
        break;
      }
      // `a:b` reads b - a elements from a on, clamped to the dimension as Python does.
      const SymInt &size = tensor.sizes[dim];
      SymInt end = o.slice_end ? sym_min(clamped(o.slice_end, size), size) : size;
      SymInt begin = o.slice_begin ? sym_min(clamped(o.slice_begin, size), end) : sym_const(0);
      item.block = cx.reduction_block(sym_sub(end, begin), span);
      if (!sym_equal(begin, sym_const(0))) item.start = begin;
      out.dims.push_back(Dim::of_block(item.block));
      break;
    }
    default: {
      if (o.kind == Operand::Kind::Tensor && !cx.type_of(o.node).dims.empty() &&
          is_integral(cx.type_of(o.node).dtype)) {
        // x[idx]: a gather; the index tensor's dims stand where this dim was.
        item.kind = IndexItem::Kind::Gather;
        item.value = o.node;
        const auto &dims = cx.type_of(o.node).dims;
        out.dims.insert(out.dims.end(), dims.begin(), dims.end());
        break;
      }
      bool scalar = LoweringContext::is_scalar_operand(o) ||
                    (o.kind == Operand::Kind::Tensor && cx.type_of(o.node).dims.empty());
      if (!scalar || is_floating(cx.dtype_of(o)))
        throw UserError("InvalidIndexingType",
                        "a tensor is indexed by tiles, `:`, None or integers; this index is " +
                            (o.kind == Operand::Kind::Host ? o.host->describe()
                                                           : std::string("a device tensor")),
                        span);
      item.kind = IndexItem::Kind::Scalar;
      item.value = cx.to_node(o, span);
      break;
    }
    }
    out.items.push_back(item);
    ++dim;
  }
  return out;
}

Operand view_of_device_value(LoweringContext &cx, const Operand &base,
                             const std::vector<Operand> &index, const SourceSpan &span) {
  const ir::TensorType &type = cx.type_of(base.node);
  std::vector<Dim> dims;
  int dim = 0;
  for (const Operand &o : index) {
    if (o.kind == Operand::Kind::NewAxis) {
      dims.push_back(Dim::constant(1));
      continue;
    }
    if (o.kind == Operand::Kind::Slice && (o.slice_begin || o.slice_end))
      throw UserError("InvalidIndexingType",
                      "a value computed on the device takes `:` only, not a slice with bounds; "
                      "slice the tensor when loading it (x[tile, a:b])",
                      span);
    if (o.kind != Operand::Kind::Slice)
      throw UserError("InvalidIndexingType",
                      "a value computed on the device can only be indexed with `:` and None "
                      "(e.g. row[:, None])",
                      span);
    if (dim >= type.rank())
      throw UserError("RankMismatch",
                      "too many indices for a value of rank " + std::to_string(type.rank()), span);
    dims.push_back(type.dims[dim++]);
  }
  for (; dim < type.rank(); ++dim)
    dims.push_back(type.dims[dim]);
  return Operand::tensor(cx.build().reshape(base.node, dims, span));
}

} // namespace

/// Checks an extra mask: bool, and no dims beyond the access's.
void check_extra_mask(LoweringContext &cx, int mask, const std::vector<Dim> &dims,
                      const SourceSpan &span) {
  if (mask < 0) return;
  if (cx.type_of(mask).dtype != DType::Bool)
    throw UserError("TypeError", "extra_mask must be a bool tensor, such as tile.index < n", span);
  if (cx.broadcast(cx.type_of(mask), {DType::Bool, dims}, span) != dims)
    throw UserError("ShapeMismatch",
                    "extra_mask of shape " + cx.shape_text(cx.type_of(mask).dims) +
                        " does not fit an access of shape " + cx.shape_text(dims),
                    span);
}

int and_masks(LoweringContext &cx, int a, int b, const SourceSpan &span) {
  if (a < 0) return b;
  if (b < 0) return a;
  return cx.build().binary(ir::BinaryFn::LogicalAnd, a, b, span);
}

/// `extra_mask` (or -1) limited to the lanes inside the jagged tiles among
/// the access's dims and inside the dimensions its tiles run past.
int with_implied_masks(LoweringContext &cx, int extra_mask, const ResolvedIndex &resolved,
                       const SourceSpan &span) {
  int mask = and_masks(cx, extra_mask, cx.jagged_mask(resolved.dims, span), span);
  for (const auto &[block, size] : resolved.overhanging) {
    std::vector<Dim> shape;
    for (const Dim &d : resolved.dims)
      shape.push_back(d == Dim::of_block(block) ? d : Dim::constant(1));
    int index = cx.build().tile_index(block, span);
    int inside = cx.build().binary(ir::BinaryFn::Lt, index,
                                   cx.cast(cx.build().host_int(size, span),
                                           cx.type_of(index).dtype, span),
                                   span);
    mask = and_masks(cx, mask, cx.build().reshape(inside, shape, span), span);
  }
  return mask;
}

Operand lower_subscript_load(LoweringContext &cx, const Operand &base,
                             const std::vector<Operand> &index, const SourceSpan &span,
                             int extra_mask, std::optional<std::string> eviction_policy) {
  if (base.kind == Operand::Kind::Tensor) return view_of_device_value(cx, base, index, span);
  if (!base.is_host(HostValue::Kind::Tensor)) {
    if (base.is_host(HostValue::Kind::None) && !base.host_name.empty())
      throw UserError("InvalidArgument",
                      "argument '" + base.host_name +
                          "' must be a torch.Tensor (the kernel uses it as one here), got "
                          "NoneType; pass a tensor, or guard the use with `if " +
                          base.host_name + " is not None:`",
                      span);
    throw UserError("InvalidIndexingType", "only tensors can be indexed on the device", span);
  }
  int param = tensor_param(cx, base, span);
  ResolvedIndex resolved =
      resolve_index(cx, cx.kernel().tensors[param], index, span, extra_mask >= 0);
  check_extra_mask(cx, extra_mask, resolved.dims, span);
  extra_mask = with_implied_masks(cx, extra_mask, resolved, span);
  return Operand::tensor(
      cx.build().load(param, resolved.items, resolved.dims, extra_mask, span, eviction_policy));
}

/// `value` with each constant dim of size c (torch.stack's, hl.join's) that
/// stands where `target` has a whole dimension of exactly c elements (`:`
/// over a dim of size c, c a power of two) taking that dimension's name, so
/// `out[tile, :] = torch.stack([a, b], dim=1)` stores both halves.
int as_whole_dims(LoweringContext &cx, int value, const std::vector<Dim> &target,
                  const SourceSpan &span) {
  std::vector<Dim> dims = cx.type_of(value).dims;
  if (dims.size() != target.size()) return value;
  bool renamed = false;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i].is_block() || dims[i].size <= 1 || !target[i].is_block()) continue;
    const ir::BlockInfo &b = cx.kernel().block(target[i].block);
    auto extent = sym_constant(b.extent());
    bool power_of_two = (dims[i].size & (dims[i].size - 1)) == 0;
    if (b.kind != ir::BlockInfo::Kind::Reduction || extent != dims[i].size || !power_of_two)
      continue;
    dims[i] = target[i];
    renamed = true;
  }
  return renamed ? cx.build().regroup(value, dims, span) : value;
}

/// `value` as a node that broadcasts to the access's `dims`, or ShapeMismatch.
int written_value(LoweringContext &cx, const Operand &value, const Operand &base, DType dtype,
                  const std::vector<Dim> &dims, const SourceSpan &span) {
  int written = as_whole_dims(cx, cx.to_node(value, span), dims, span);
  std::vector<Dim> shape = cx.broadcast(cx.type_of(written), {dtype, dims}, span);
  if (shape != dims)
    throw UserError("ShapeMismatch",
                    "cannot store a value of shape " + cx.shape_text(cx.type_of(written).dims) +
                        " into " + base.host_name + cx.shape_text(dims),
                    span);
  return written;
}

void lower_subscript_store(LoweringContext &cx, const Operand &base,
                           const std::vector<Operand> &index, const Operand &value,
                           const SourceSpan &span, int extra_mask) {
  if (!base.is_host(HostValue::Kind::Tensor))
    throw UserError("NotAllowedOnDevice",
                    "only host tensors can be stored into on the device; build device values "
                    "with operations instead",
                    span);
  int param = tensor_param(cx, base, span);
  const ir::TensorParam &tensor = cx.kernel().tensors[param];
  ResolvedIndex resolved = resolve_index(cx, tensor, index, span, extra_mask >= 0);
  ir::Stmt s;
  s.kind = ir::Stmt::Kind::Store;
  s.tensor = param;
  s.index = resolved.items;
  s.value = written_value(cx, value, base, tensor.dtype, resolved.dims, span);
  check_extra_mask(cx, extra_mask, resolved.dims, span);
  s.mask = with_implied_masks(cx, extra_mask, resolved, span);
  s.memory_op = cx.kernel().memory_ops++;
  cx.emit_stmt(std::move(s));
}

namespace {

/// The index list of hl.load / hl.store: one entry per tensor dim.
std::vector<Operand> index_list(const CallArgs &args) {
  const Operand &index = args["index"];
  if (index.kind == Operand::Kind::Tuple) return index.elements;
  if (index.is_host(HostValue::Kind::Tuple)) {
    std::vector<Operand> items;
    for (const HostValuePtr &e : index.host->elements)
      items.push_back(Operand::of_host(e));
    return items;
  }
  return {index};
}

/// The extra_mask argument as a node, or -1 for None.
int extra_mask_node(LoweringContext &cx, const CallArgs &args) {
  const Operand &mask = args["extra_mask"];
  if (is_none(mask)) return -1;
  return cx.to_node(mask, args.span);
}

/// hl.load's eviction_policy as Triton spells it: None leaves the choice to
/// the config (load_eviction_policies); "evict_normal" is Triton's default,
/// which Triton 3.6 takes only as "".
std::optional<std::string> eviction_policy_arg(const CallArgs &args) {
  const Operand &policy = args["eviction_policy"];
  if (is_none(policy)) return std::nullopt;
  static const char *const allowed = "use \"evict_first\", \"evict_last\", \"evict_normal\" or "
                                     "\"\" (Triton's default), or None to let the config choose";
  if (!policy.is_host(HostValue::Kind::String))
    throw UserError("InvalidAPIUsage",
                    std::string("hl.load's eviction_policy must be a string; ") + allowed,
                    args.span);
  const std::string &text = policy.host->text;
  if (text == "evict_first" || text == "evict_last") return text;
  if (text.empty() || text == "evict_normal") return std::string();
  throw UserError("InvalidAPIUsage",
                  "hl.load got eviction_policy=" + dump_text(Json(text)) + "; " + allowed,
                  args.span);
}

Operand lower_hl_load(LoweringContext &cx, const CallArgs &args) {
  return lower_subscript_load(cx, args["tensor"], index_list(args), args.span,
                              extra_mask_node(cx, args), eviction_policy_arg(args));
}

Operand lower_hl_store(LoweringContext &cx, const CallArgs &args) {
  lower_subscript_store(cx, args["tensor"], index_list(args), args["value"], args.span,
                        extra_mask_node(cx, args));
  return Operand::of_host(HostValue::make(HostValue::Kind::None));
}

/// hl.atomic_*'s sem: one of Triton's memory orders.
ir::MemorySem memory_sem_arg(const CallArgs &args) {
  const Operand &sem = args["sem"];
  std::optional<ir::MemorySem> named;
  if (sem.is_host(HostValue::Kind::String)) named = ir::memory_sem_named(sem.host->text);
  if (named) return *named;
  std::string given = sem.is_host(HostValue::Kind::String)
                          ? " got sem=" + dump_text(Json(sem.host->text))
                          : "'s sem must be a string";
  throw UserError("InvalidAPIUsage",
                  args.fn + given +
                      "; use \"relaxed\", \"acquire\", \"release\" or \"acq_rel\"",
                  args.span);
}

/// A value operand of an atomic whose old values are read, in the target's
/// dtype: numbers and host scalars take it, and so do device values of
/// hl.atomic_add and the like (as Triton converts them); a compare-and-swap
/// compares bits, so its device values must have the target's dtype already.
int atomic_value(LoweringContext &cx, const CallArgs &args, const char *param, ir::AtomicFn fn,
                 const Operand &base, DType dtype, const std::vector<Dim> &dims) {
  const Operand &value = args[param];
  int node = written_value(cx, value, base, dtype, dims, args.span);
  DType given = cx.type_of(node).dtype;
  if (fn == ir::AtomicFn::Cas && given != dtype && !LoweringContext::is_scalar_operand(value))
    throw UserError("InvalidAPIUsage",
                    args.fn + "'s " + param + " has dtype " + dtype_name(given) + " but '" +
                        base.host_name + "' has dtype " + dtype_name(dtype) +
                        "; convert it with .to(torch." + dtype_name(dtype) + ")",
                    args.span);
  return given == dtype ? node : cx.cast(node, dtype, args.span);
}

/// hl.atomic_<fn>(target, index, value, sem="relaxed") and
/// hl.atomic_cas(target, index, expected, value, sem="relaxed"): the old
/// values at target[index]. As a statement of its own, an atomic other than
/// a compare-and-swap updates without returning them.
OpLowering atomic_lowering(ir::AtomicFn fn) {
  return [fn](LoweringContext &cx, const CallArgs &args) {
    const Operand &base = args["target"];
    if (!base.is_host(HostValue::Kind::Tensor))
      throw UserError("AtomicOnDeviceTensor",
                      args.fn + " updates a host tensor (an argument or a tensor allocated in "
                                "host code), not a value computed on the device",
                      args.span);
    ir::MemorySem sem = memory_sem_arg(args);
    int param = tensor_param(cx, base, args.span);
    const ir::TensorParam &tensor = cx.kernel().tensors[param];
    DType dtype = tensor.dtype;
    ResolvedIndex resolved = resolve_index(cx, tensor, index_list(args), args.span);
    int mask = with_implied_masks(cx, -1, resolved, args.span);
    if (fn != ir::AtomicFn::Cas && cx.is_discarded(args.call)) {
      int value = written_value(cx, args["value"], base, dtype, resolved.dims, args.span);
      cx.build().atomic_update(fn, sem, param, resolved.items, value, mask, args.span);
      return Operand::of_host(HostValue::make(HostValue::Kind::None));
    }
    std::vector<int> values;
    if (fn == ir::AtomicFn::Cas)
      values.push_back(atomic_value(cx, args, "expected", fn, base, dtype, resolved.dims));
    values.push_back(atomic_value(cx, args, "value", fn, base, dtype, resolved.dims));
    return Operand::tensor(cx.build().atomic(fn, sem, param, resolved.items, resolved.dims,
                                             std::move(values), mask, args.span));
  };
}

} // namespace

void register_indexing(LoweringRegistry &r) {
  r.add("hl.load", "(tensor, index, extra_mask=None, eviction_policy=None)", lower_hl_load);
  r.add("hl.store", "(tensor, index, value, extra_mask=None)", lower_hl_store);
  using ir::AtomicFn;
  for (AtomicFn fn : {AtomicFn::Add, AtomicFn::Max, AtomicFn::Min, AtomicFn::And, AtomicFn::Or,
                      AtomicFn::Xor, AtomicFn::Xchg})
    r.add(std::string("hl.atomic_") + ir::name(fn), "(target, index, value, sem='relaxed')",
          atomic_lowering(fn));
  r.add("hl.atomic_cas", "(target, index, expected, value, sem='relaxed')",
        atomic_lowering(AtomicFn::Cas));
}

} // namespace helion::lower
