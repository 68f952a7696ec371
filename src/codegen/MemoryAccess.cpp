#include "codegen/MemoryAccess.h"

#include "codegen/ProgramIds.h"
#include "codegen/PythonText.h"

#include <algorithm>
#include <set>

namespace helion::codegen {

using ir::BlockInfo;
using ir::Dim;
using ir::IndexItem;
using ir::Node;
using ir::OpKind;
using ir::Stmt;

namespace {

/// The lanes both masks keep; either may be null (no mask).
Expr both(Expr mask, Expr more) {
  if (!mask) return more;
  return more ? mask & more : mask;
}

/// `[rank - 1, ..., 0]`: block pointers of row-major tensors.
Expr row_major_order(size_t rank) {
  std::vector<Expr> items;
  for (size_t i = rank; i-- > 0;)
    items.push_back(literal(static_cast<int64_t>(i)));
  return list(std::move(items));
}

} // namespace

/// The block a subscript entry covers as block pointers and descriptors see
/// it: its block, or the tile of one index whose scalar index it holds
/// (squeeze_unit_blocks), addressed as a block of size 1; else -1.
int MemoryAccess::addressed_block(const IndexItem &item) const {
  if (item.kind == IndexItem::Kind::Block) return item.block;
  if (item.kind != IndexItem::Kind::Scalar) return -1;
  const Node &n = ctx_.kernel.node(item.value);
  return n.op == OpKind::TileIndex && ctx_.kernel.blocks[n.block].unit ? n.block : -1;
}

bool MemoryAccess::has_unit_blocks(const std::vector<IndexItem> &index) const {
  for (const IndexItem &item : index)
    if (item.kind == IndexItem::Kind::Scalar && addressed_block(item) >= 0) return true;
  return false;
}

/// The indexing style a memory op gets: the config's choice when the access
/// allows it, else the next simpler one.
std::string MemoryAccess::access_style(int tensor, const std::vector<IndexItem> &index,
                                       int memory_op) {
  const Config &config = ctx_.config;
  std::string want = config.indexing.empty() ? "pointer" : config.indexing_for(memory_op);
  return style_for_access(tensor, index, want);
}

/// `want` where the access allows it, else the next simpler style.
std::string MemoryAccess::style_for_access(int tensor, const std::vector<IndexItem> &index,
                                           const std::string &want) {
  if (want == "pointer") return want;
  const ir::TensorParam &t = ctx_.kernel.tensors[tensor];
  for (size_t d = 0; d < index.size(); ++d) {
    int block = addressed_block(index[d]);
    bool device_start = index[d].kind == IndexItem::Kind::Block && index[d].value >= 0;
    if (block < 0 || ctx_.blocks.is_flat(block) || index[d].start || device_start) return "pointer";
    const BlockInfo &b = ctx_.kernel.blocks[block];
    // Block pointers check bounds against the tensor, so the tile must span it.
    if (b.dynamic_range() || !sym_equal(b.begin, sym_const(0)) || !sym_equal(b.end, t.sizes[d]))
      return "pointer";
  }
  // A single element (every entry a scalar) is one pointer.
  if (ir::access_dims(ctx_.kernel, index).empty()) return "pointer";
  if (want == "block_ptr") return want;
  // Tensor descriptors (TMA) need a unit inner stride, 16-byte aligned outer
  // strides and an inner block of at least 16 bytes. The inner dimension
  // must span whole 16-byte units too: on an H100 a store through a
  // descriptor of 33 floats also wrote elements 33 to 35.
  int bytes = dtype_bytes(t.dtype);
  if (sym_constant(t.strides.back()) != 1) return "block_ptr";
  auto inner = sym_constant(t.sizes.back());
  if (!inner || (*inner * bytes) % 16 != 0) return "block_ptr";
  for (size_t d = 0; d + 1 < t.strides.size(); ++d) {
    auto s = sym_constant(t.strides[d]);
    if (!s || (*s * bytes) % 16 != 0) return "block_ptr";
  }
  for (const IndexItem &item : index) {
    int64_t size = ctx_.blocks.plan(addressed_block(item)).size_value;
    if (size == 0 || size > 256) return "block_ptr";
  }
  if (ctx_.blocks.plan(addressed_block(index.back())).size_value * bytes < 16) return "block_ptr";
  if (!descriptor_scratch_fits()) return "block_ptr";
  return want;
}

/// Each tensor descriptor a kernel makes takes 128 bytes of global scratch per
/// program, which Triton 3.6 addresses with 32-bit offsets: past 2 GiB in all,
/// programs write outside it (an illegal address on an H200 for an 8192x8192
/// add in 1x8 tiles, three descriptors per program). Persistent grids are a few
/// programs per SM; other grids must be known to fit, with a descriptor
/// counted for every load, store and atomic.
bool MemoryAccess::descriptor_scratch_fits() const {
  if (ctx_.config.pid_type.rfind("persistent", 0) == 0) return true;
  std::optional<int64_t> programs = constant_program_count(ctx_);
  if (!programs) return false;
  constexpr int64_t kScratchPerDescriptor = 128;
  int64_t descriptors = std::max(1, ctx_.kernel.memory_ops + ctx_.kernel.atomic_ops);
  return *programs <= INT32_MAX / (kScratchPerDescriptor * descriptors);
}

Expr MemoryAccess::sizes_list(const std::vector<SymInt> &values) {
  std::vector<Expr> items;
  for (const SymInt &v : values)
    items.push_back(ctx_.kernel_sym(v));
  return list(std::move(items));
}

Expr MemoryAccess::block_shape(const std::vector<IndexItem> &index) const {
  std::vector<Expr> items;
  for (const IndexItem &item : index)
    items.push_back(ctx_.blocks.size(addressed_block(item)));
  return list(std::move(items));
}

Expr MemoryAccess::block_offsets(const std::vector<IndexItem> &index) const {
  std::vector<Expr> items;
  for (const IndexItem &item : index) {
    int b = addressed_block(item);
    items.push_back(ctx_.blocks.plan(b).persistent ? literal(0)
                                                   : name(ctx_.blocks.names(b).offset));
  }
  return list(std::move(items));
}

/// The dims a block pointer must bounds-check (`[0, 1]`); null for none.
Expr MemoryAccess::boundary_dims(const std::vector<IndexItem> &index) const {
  std::vector<Expr> dims;
  for (size_t i = 0; i < index.size(); ++i)
    if (ctx_.blocks.plan(addressed_block(index[i])).needs_mask)
      dims.push_back(literal(static_cast<int64_t>(i)));
  return dims.empty() ? nullptr : list(std::move(dims));
}

Expr MemoryAccess::make_descriptor(int tensor, const std::vector<IndexItem> &index) {
  const ir::TensorParam &t = ctx_.kernel.tensors[tensor];
  return call("tl.make_tensor_descriptor", {name(ctx_.tensor_names[tensor]), sizes_list(t.sizes),
                                            sizes_list(t.strides), block_shape(index)});
}

Expr MemoryAccess::make_block_ptr(int tensor, const std::vector<IndexItem> &index) {
  const ir::TensorParam &t = ctx_.kernel.tensors[tensor];
  return call("tl.make_block_ptr",
              {name(ctx_.tensor_names[tensor]), sizes_list(t.sizes), sizes_list(t.strides),
               block_offsets(index), block_shape(index), row_major_order(index.size())});
}

void MemoryAccess::emit_descriptors() {
  std::vector<Access> accesses;
  for (const ir::RootLoop &root : ctx_.kernel.roots)
    collect_accesses(root.body, accesses);
  for (const auto &[memory_op, index] : accesses) {
    int tensor = access_tensor_[memory_op];
    if (access_style(tensor, *index, memory_op) != "tensor_descriptor") continue;
    std::string base = ctx_.tensor_names[tensor];
    std::string desc = ctx_.names.generated(base + "_desc_" + std::to_string(memory_op));
    ctx_.out.line(desc + " = " + to_python(make_descriptor(tensor, *index)));
    descriptors_[memory_op] = desc;
  }
  for (const ir::RootLoop &root : ctx_.kernel.roots)
    emit_atomic_descriptors(root.body);
}

/// Whether an atomic goes through a tensor descriptor: the config asks for
/// one, the access could use a descriptor store, and Triton 3.6 has a
/// descriptor form of the op for the dtype (tensor_descriptor.atomic_add,
/// _min, _max, _and, _or, _xor; no xchg or cas; each for a few dtypes).
/// Otherwise, and under Triton's interpreter (which has no descriptor
/// atomics), the atomic takes pointers. Descriptor atomics return nothing
/// and have no memory order: only a relaxed atomic statement takes one.
bool MemoryAccess::atomic_through_descriptor(const Stmt &s) {
  if (s.mask >= 0 || s.sem != ir::MemorySem::Relaxed || ctx_.inputs.settings.interpreter)
    return false;
  if (ctx_.config.atomic_indexing_for(static_cast<size_t>(s.atomic_op)) != "tensor_descriptor")
    return false;
  DType dtype = ctx_.kernel.tensors[s.tensor].dtype;
  auto one_of = [&](std::initializer_list<DType> dtypes) {
    return std::find(dtypes.begin(), dtypes.end(), dtype) != dtypes.end();
  };
  bool supported = false;
  switch (*s.atomic) {
  case ir::AtomicFn::Add:
    supported = one_of({DType::Int32, DType::Float32, DType::Float16, DType::BFloat16});
    break;
  case ir::AtomicFn::Max:
  case ir::AtomicFn::Min:
    supported = one_of({DType::Int32, DType::Int64, DType::Float16, DType::BFloat16});
    break;
  case ir::AtomicFn::And:
  case ir::AtomicFn::Or:
  case ir::AtomicFn::Xor: supported = one_of({DType::Int32, DType::Int64}); break;
  case ir::AtomicFn::Xchg:
  case ir::AtomicFn::Cas: break;
  }
  return supported &&
         style_for_access(s.tensor, s.index, "tensor_descriptor") == "tensor_descriptor";
}

/// One descriptor per atomic that uses one, made with the others at the top.
void MemoryAccess::emit_atomic_descriptors(const std::vector<Stmt> &body) {
  for (const Stmt &s : body) {
    if (s.kind == Stmt::Kind::Store && s.atomic && atomic_through_descriptor(s)) {
      std::string base = ctx_.tensor_names[s.tensor];
      std::string desc = ctx_.names.generated(base + "_atomic_desc_" + std::to_string(s.atomic_op));
      ctx_.out.line(desc + " = " + to_python(make_descriptor(s.tensor, s.index)));
      atomic_descriptors_[s.atomic_op] = desc;
    }
    ir::for_each_region(s,
                        [&](const std::vector<Stmt> &region) { emit_atomic_descriptors(region); });
  }
}

void MemoryAccess::collect_accesses(const std::vector<Stmt> &body, std::vector<Access> &out) {
  for (const Stmt &s : body) {
    if (s.kind == Stmt::Kind::Store && !s.atomic) {
      access_tensor_[s.memory_op] = s.tensor;
      out.emplace_back(s.memory_op, &s.index);
    }
    if (s.kind == Stmt::Kind::Compute && ctx_.kernel.node(s.value).op == OpKind::Load) {
      const Node &n = ctx_.kernel.node(s.value);
      if (!access_tensor_.count(n.memory_op)) out.emplace_back(n.memory_op, &n.index);
      access_tensor_[n.memory_op] = n.tensor;
    }
    ir::for_each_region(s, [&](const std::vector<Stmt> &region) { collect_accesses(region, out); });
  }
}

/// Pointer arithmetic and mask for `index` into `tensor`, shaped like the
/// access's result.
MemoryAccess::PointerAndMask MemoryAccess::pointer_and_mask(int tensor,
                                                            const std::vector<IndexItem> &index) {
  const ir::TensorParam &t = ctx_.kernel.tensors[tensor];
  const BlockPlans &blocks = ctx_.blocks;
  std::vector<Dim> dims = ir::access_dims(ctx_.kernel, index);
  int rank = blocks.cg_rank(dims);
  PointerAndMask out{name(ctx_.tensor_names[tensor]), nullptr};
  std::set<std::string> masks; // each block mask once
  auto add_mask = [&](const Expr &m) {
    if (m && masks.insert(to_python(m)).second) out.mask = both(out.mask, m);
  };
  size_t position = 0; // among the access's dims
  int dim = 0;         // among the tensor's dims
  for (const IndexItem &item : index) {
    if (item.kind == IndexItem::Kind::NewAxis) {
      ++position;
      continue;
    }
    std::optional<int64_t> size = sym_constant(t.sizes[dim]);
    Expr stride = ctx_.kernel_sym(t.strides[dim++]);
    Expr term;
    // A dimension of size 1 broadcasts, as block masks of flex attention
    // shared by every head do: any scalar index reads its one element.
    // An index tensor squeezed to one element (a tile of block size 1
    // computed it) indexes like a scalar.
    bool scalar =
        item.kind == IndexItem::Kind::Scalar ||
        (item.kind == IndexItem::Kind::Gather && ctx_.kernel.node(item.value).type.dims.empty());
    if (scalar && size && *size == 1) continue;
    if (scalar) {
      term = ctx_.widened(item.value, ctx_.value(item.value));
    } else if (item.kind == IndexItem::Kind::Gather) {
      // The index tensor's axes sit at this position of the access.
      const std::vector<Dim> &gathered = ctx_.kernel.node(item.value).type.dims;
      int first = blocks.cg_axis(dims, position), count = blocks.cg_rank(gathered);
      term = ctx_.widened(item.value, ctx_.value(item.value));
      if (rank > count) {
        std::vector<Expr> sub;
        for (int i = 0; i < rank; ++i)
          sub.push_back(i >= first && i < first + count ? full_slice() : name("None"));
        term = subscript(term, std::move(sub));
      }
      for (size_t i = position; i < position + gathered.size(); ++i)
        if (dims[i].is_block())
          add_mask(blocks.block_mask(dims[i].block, blocks.cg_axis(dims, i), rank));
      position += gathered.size();
    } else {
      int axis = blocks.cg_axis(dims, position++);
      term = name(blocks.names(item.block).indices);
      if (item.start) term = term + ctx_.kernel_sym(item.start);
      if (item.value >= 0) term = term + ctx_.value(item.value);
      if (rank > 1) {
        std::vector<Expr> sub;
        for (int i = 0; i < rank; ++i)
          sub.push_back(i == axis ? full_slice() : name("None"));
        term = subscript(term, std::move(sub));
      }
      add_mask(blocks.block_mask(item.block, axis, rank));
      if (item.value >= 0) {
        // A start computed on the device may put lanes outside the dimension.
        out.mask = both(out.mask, binary(BinaryOp::Ge, term, literal(0)));
        out.mask = out.mask & binary(BinaryOp::Lt, term, ctx_.kernel_sym(t.sizes[dim - 1]));
      }
    }
    out.pointer = out.pointer + (prints_as(stride, "1") ? term : term * stride);
  }
  return out;
}

/// `mask` and the user's extra mask node, broadcast to the access's dims.
Expr MemoryAccess::with_extra_mask(Expr mask, int extra, const std::vector<Dim> &dims) {
  return both(std::move(mask), ctx_.value_at_rank(extra, ctx_.blocks.cg_rank(dims)));
}

/// `eviction_policy='evict_first'` for a load the source or the config gives
/// a policy, else nothing. Triton 3.6's descriptor loads take none
/// (tensor_descriptor.load passes ""), so descriptors drop it.
std::vector<std::pair<std::string, Expr>> MemoryAccess::eviction_keyword(const Node &n) const {
  std::string policy = n.policy_load >= 0
                           ? ctx_.config.eviction_policy_for(static_cast<size_t>(n.policy_load))
                           : n.eviction_policy;
  if (policy.empty()) return {};
  return {{"eviction_policy", literal("'" + policy + "'")}};
}

Expr MemoryAccess::load(const Node &n) {
  bool extra_mask = !n.operands.empty();
  std::string style = extra_mask ? "pointer" : access_style(n.tensor, n.index, n.memory_op);
  if (style != "pointer" && has_unit_blocks(n.index))
    // The block has a size-1 axis per tile of one index; the value has none.
    return call("tl.reshape", {block_load(n, style), ctx_.shape_list(n.type.dims)});
  if (style != "pointer") return block_load(n, style);
  const ir::TensorParam &t = ctx_.kernel.tensors[n.tensor];
  auto eviction = eviction_keyword(n);
  auto [pointer, mask] = pointer_and_mask(n.tensor, n.index);
  if (extra_mask)
    mask = with_extra_mask(mask, n.operands[0], ir::access_dims(ctx_.kernel, n.index));
  if (!mask) return call("tl.load", {pointer}, eviction);
  std::vector<std::pair<std::string, Expr>> keywords = {{"other", literal(0)}};
  keywords.insert(keywords.end(), eviction.begin(), eviction.end());
  if (is_float8(t.dtype)) {
    // Triton cannot convert `other=0` to a float8 type: the bytes are loaded
    // instead (all zero bits is +0.0 in both float8 formats).
    Expr bytes = method(pointer, "to", {call("tl.pointer_type", {name("tl.uint8")})});
    return method(call("tl.load", {bytes, mask}, keywords), "to", {triton_dtype_expr(t.dtype)},
                  {{"bitcast", literal("True")}});
  }
  return call("tl.load", {pointer, mask}, keywords);
}

/// A load through a tensor descriptor or a block pointer.
Expr MemoryAccess::block_load(const Node &n, const std::string &style) {
  if (style == "tensor_descriptor")
    return method(name(descriptors_.at(n.memory_op)), "load", {block_offsets(n.index)});
  std::vector<std::pair<std::string, Expr>> keywords;
  if (Expr dims = boundary_dims(n.index)) {
    keywords.emplace_back("boundary_check", dims);
    keywords.emplace_back("padding_option", literal("'zero'"));
  }
  for (auto &keyword : eviction_keyword(n))
    keywords.push_back(keyword);
  return call("tl.load", {make_block_ptr(n.tensor, n.index)}, keywords);
}

Expr MemoryAccess::sem_keyword(ir::MemorySem sem) {
  return literal(std::string("'") + ir::name(sem) + "'");
}

/// An atomic whose old values are read, through pointers (Triton 3.6's
/// descriptor atomics return nothing). Its operands come in the target's
/// shape and dtype, as tl.atomic_cas converts and broadcasts neither.
/// tl.atomic_cas takes no mask either: a lane masked off compares the
/// target's first element with its own expected value and swaps that in,
/// which changes nothing.
Expr MemoryAccess::atomic(const Node &n) {
  std::vector<Dim> dims = ir::access_dims(ctx_.kernel, n.index);
  auto operand = [&](size_t i) {
    const Node &v = ctx_.kernel.node(n.operands.at(i));
    if (v.op == OpKind::Constant)
      return call("tl.full",
                  {ctx_.shape_list(dims), literal(v.number), triton_dtype_expr(v.type.dtype)});
    Expr e = ctx_.value_at_rank(v.id, ctx_.blocks.cg_rank(dims));
    return v.type.dims == dims ? e : call("tl.broadcast_to", {e, ctx_.shape_list(dims)});
  };
  auto [pointer, mask] = pointer_and_mask(n.tensor, n.index);
  if (n.atomic_mask() >= 0) mask = with_extra_mask(mask, n.atomic_mask(), dims);
  Expr value = operand(n.atomic_values() - 1);
  std::vector<std::pair<std::string, Expr>> keywords;
  if (n.atomic_fn() != ir::AtomicFn::Cas) {
    if (mask) keywords.emplace_back("mask", mask);
    keywords.emplace_back("sem", sem_keyword(n.sem));
    return call(std::string("tl.atomic_") + ir::name(n.atomic_fn()), {pointer, value}, keywords);
  }
  Expr expected = operand(0);
  if (mask) {
    pointer = call("tl.where", {mask, pointer, name(ctx_.tensor_names[n.tensor])});
    value = call("tl.where", {mask, value, expected});
  }
  keywords.emplace_back("sem", sem_keyword(n.sem));
  return call("tl.atomic_cas", {pointer, expected, value}, keywords);
}

void MemoryAccess::emit_store(const Stmt &s) {
  const ir::TensorParam &t = ctx_.kernel.tensors[s.tensor];
  std::vector<Dim> dims = ir::access_dims(ctx_.kernel, s.index);
  const std::vector<Dim> &value_dims = ctx_.kernel.node(s.value).type.dims;
  Expr value = ctx_.value_at_rank(s.value, ctx_.blocks.cg_rank(dims));
  if (ctx_.kernel.node(s.value).type.dtype != t.dtype)
    value = method(value, "to", {triton_dtype_expr(t.dtype)});
  if (s.atomic) {
    std::string op = std::string("atomic_") + ir::name(*s.atomic);
    if (atomic_descriptors_.count(s.atomic_op)) {
      if (value_dims != dims) value = call("tl.broadcast_to", {value, ctx_.shape_list(dims)});
      Expr desc = name(atomic_descriptors_.at(s.atomic_op));
      ctx_.out.line(to_python(method(desc, op, {block_offsets(s.index), value})));
      return;
    }
    auto [pointer, mask] = pointer_and_mask(s.tensor, s.index);
    if (s.mask >= 0) mask = with_extra_mask(mask, s.mask, dims);
    std::vector<std::pair<std::string, Expr>> keywords;
    if (mask) keywords.emplace_back("mask", mask);
    keywords.emplace_back("sem", sem_keyword(s.sem));
    ctx_.out.line(to_python(call("tl." + op, {pointer, value}, keywords)));
    return;
  }
  std::string style = s.mask >= 0 ? "pointer" : access_style(s.tensor, s.index, s.memory_op);
  if (style != "pointer" && value_dims != dims)
    value = call("tl.broadcast_to", {value, ctx_.shape_list(dims)});
  if (style != "pointer" && has_unit_blocks(s.index))
    value = call("tl.reshape", {value, block_shape(s.index)});
  if (style == "tensor_descriptor") {
    Expr desc = name(descriptors_.at(s.memory_op));
    ctx_.out.line(to_python(method(desc, "store", {block_offsets(s.index), value})));
    return;
  }
  if (style == "block_ptr") {
    std::vector<std::pair<std::string, Expr>> keywords;
    if (Expr check = boundary_dims(s.index)) keywords.emplace_back("boundary_check", check);
    ctx_.out.line(
        to_python(call("tl.store", {make_block_ptr(s.tensor, s.index), value}, keywords)));
    return;
  }
  auto [pointer, mask] = pointer_and_mask(s.tensor, s.index);
  if (s.mask >= 0) mask = with_extra_mask(mask, s.mask, dims);
  std::vector<Expr> args = {pointer, value};
  if (mask) args.push_back(mask);
  ctx_.out.line(to_python(call("tl.store", args)));
}

} // namespace helion::codegen
