#include "lower/Lowering.h"
#include "support/Diagnostics.h"

#include <algorithm>
#include <set>

namespace helion::lower {

using ir::Dim;

namespace {

HostValuePtr host_of(const Operand &o) {
  return o.kind == Operand::Kind::Host ? o.host : nullptr;
}

} // namespace

BoundArgs<Operand> bind_operands(const Signature &sig, const std::vector<Operand> &args,
                                 const std::vector<std::pair<std::string, Operand>> &keywords,
                                 const SourceSpan &span) {
  auto make_default = [](const HostValuePtr &v) { return Operand::of_host(v); };
  auto make_tuple = [](std::vector<Operand> items) {
    Operand t;
    t.kind = Operand::Kind::Tuple;
    t.elements = std::move(items);
    return t;
  };
  return BoundArgs<Operand>(sig, args, keywords, span, make_default, make_tuple, host_of);
}

/// How users spell an op: "Tensor.sum" for the method tensor.sum.
static std::string shown_name(const std::string &name) {
  return name.rfind("tensor.", 0) == 0 ? "Tensor." + name.substr(7) : name;
}

void LoweringRegistry::add(const std::string &name, const std::string &params, OpLowering fn) {
  bool method = name.rfind("tensor.", 0) == 0;
  table_[name] = {Signature::parse(shown_name(name), params, method), std::move(fn)};
}

void LoweringRegistry::add_both(const std::string &name, const std::string &params,
                                const OpLowering &fn) {
  add("torch." + name, params, fn);
  add("tensor." + name, params, fn);
}

const LoweringRegistry &LoweringRegistry::instance() {
  static const LoweringRegistry registry = [] {
    LoweringRegistry r;
    register_elementwise(r);
    register_reduction(r);
    register_matmul(r);
    register_creation(r);
    register_view(r);
    register_indexing(r);
    register_tiles(r);
    register_combine(r);
    register_random(r);
    register_escapes(r);
    register_triton_escapes(r);
    return r;
  }();
  return registry;
}

const OpEntry *LoweringRegistry::find(const std::string &name) const {
  auto it = table_.find(name);
  return it == table_.end() ? nullptr : &it->second;
}

std::vector<std::string> LoweringRegistry::names() const {
  std::vector<std::string> out;
  for (const auto &entry : table_)
    out.push_back(entry.first);
  return out;
}

bool LoweringContext::is_scalar_operand(const Operand &o) {
  if (o.kind != Operand::Kind::Host) return false;
  auto k = o.host->kind;
  return k == HostValue::Kind::Int || k == HostValue::Kind::Float || k == HostValue::Kind::Bool;
}

DType LoweringContext::dtype_of(const Operand &o) const {
  if (o.kind == Operand::Kind::Tensor) return type_of(o.node).dtype;
  if (o.kind == Operand::Kind::Tile) return DType::Int32;
  if (o.kind == Operand::Kind::Host) {
    if (o.host->kind == HostValue::Kind::Int) return DType::Int64;
    if (o.host->kind == HostValue::Kind::Bool) return DType::Bool;
  }
  return DType::Float32;
}

DType LoweringContext::promote(const Operand &a, const Operand &b) const {
  bool a_scalar = is_scalar_operand(a), b_scalar = is_scalar_operand(b);
  DType da = dtype_of(a), db = dtype_of(b);
  if (a_scalar == b_scalar) {
    if (a_scalar && da == DType::Int64 && db == DType::Int64) return DType::Int32;
    return helion::promote(da, db);
  }
  // A Python scalar only changes the category (int -> float), never the width.
  DType tensor_dtype = a_scalar ? db : da;
  DType scalar_dtype = a_scalar ? da : db;
  if (is_floating(scalar_dtype) && !is_floating(tensor_dtype)) return DType::Float32;
  if (scalar_dtype != DType::Bool && tensor_dtype == DType::Bool) return DType::Int32;
  return tensor_dtype;
}

int LoweringContext::to_node(const Operand &o, const SourceSpan &span) {
  switch (o.kind) {
  case Operand::Kind::Tensor:
    return o.node;
  case Operand::Kind::Tile:
    return builder_.tile_index(o.block, span);
  case Operand::Kind::Host:
    break;
  default:
    throw UserError("InvalidIndexingType", "a slice or None is only valid inside a subscript",
                    span);
  }
  const HostValue &h = *o.host;
  switch (h.kind) {
  case HostValue::Kind::Int:
    return builder_.host_int(h.sym, span);
  case HostValue::Kind::Float:
  case HostValue::Kind::Bool: {
    DType dtype = h.kind == HostValue::Kind::Float ? DType::Float32 : DType::Bool;
    if (h.number) return constant(*h.number, dtype, span);
    if (h.truth) return constant(*h.truth ? 1 : 0, dtype, span);
    check_internal(!o.host_name.empty(), "runtime host scalar without a name");
    int index = -1;
    for (size_t i = 0; i < kernel_.scalars.size(); ++i)
      if (kernel_.scalars[i].name == o.host_name) index = static_cast<int>(i);
    if (index < 0) {
      index = static_cast<int>(kernel_.scalars.size());
      kernel_.scalars.push_back({o.host_name, dtype});
    }
    return builder_.host_scalar(index, span);
  }
  case HostValue::Kind::Tensor:
    throw UserError("HostTensorDirectUsage",
                    "host tensor '" + o.host_name +
                        "' is used directly on the device; index it with tiles, e.g. " +
                        o.host_name + "[tile]",
                    span);
  default:
    throw UserError("NotAllowedOnDevice",
                    h.describe() + " cannot be used as a value in device code", span);
  }
}

int LoweringContext::reduction_block(const SymInt &size, const SourceSpan &span) {
  for (int id : kernel_.reductions)
    if (sym_equal(kernel_.block(id).end, size)) return id;
  ir::BlockInfo b;
  b.kind = ir::BlockInfo::Kind::Reduction;
  b.begin = sym_const(0);
  b.end = size;
  b.reduction = static_cast<int>(kernel_.reductions.size());
  b.name_hint = "r" + std::to_string(b.reduction);
  kernel_.blocks.push_back(b);
  int id = static_cast<int>(kernel_.blocks.size()) - 1;
  kernel_.reductions.push_back(id);
  return id;
}

DType LoweringContext::dtype_arg(const Operand &o, const SourceSpan &span) const {
  if (o.is_host(HostValue::Kind::DType)) return o.host->dtype;
  throw UserError("TypeError", "expected a dtype such as torch.float32", span);
}

int64_t LoweringContext::int_arg(const Operand &o, const SourceSpan &span) const {
  if (o.is_host(HostValue::Kind::Int))
    if (auto c = sym_constant(o.host->sym)) return *c;
  throw UserError("TypeError", "expected an int known at compile time", span);
}

std::vector<Dim> LoweringContext::shape_arg(const Operand &o, const SourceSpan &span) {
  std::vector<Operand> items;
  if (o.kind == Operand::Kind::Tuple)
    items = o.elements;
  else if (o.is_host(HostValue::Kind::Tuple))
    for (const auto &e : o.host->elements)
      items.push_back(Operand::of_host(e));
  else
    items.push_back(o);
  std::vector<Dim> dims;
  for (const Operand &item : items) {
    if (item.kind == Operand::Kind::Tile) {
      dims.push_back(Dim::of_block(item.block));
      continue;
    }
    if (item.is_host(HostValue::Kind::Int)) {
      auto registered = std::find_if(
          kernel_.registered_sizes.begin(), kernel_.registered_sizes.end(),
          [&](const ir::RegisteredSize &r) { return sym_equal(r.symbol, item.host->sym); });
      if (registered != kernel_.registered_sizes.end()) {
        dims.push_back(Dim::of_block(registered->block)); // `hl.zeros([tile_m, bs])`
        continue;
      }
      if (sym_constant(item.host->sym) == 1) {
        dims.push_back(Dim::constant(1));
        continue;
      }
      // A whole dimension, the same as `x[tile, :]` over a dim of that size.
      dims.push_back(Dim::of_block(reduction_block(item.host->sym, span)));
      continue;
    }
    throw UserError("TypeError",
                    "a shape on the device is a list of tiles and sizes, e.g. [tile_m, tile_n]",
                    span);
  }
  return dims;
}

int LoweringContext::align_to(int node, const std::vector<Dim> &dims, const SourceSpan &span) {
  std::vector<Dim> own = type_of(node).dims;
  auto position = [&](const Dim &d) {
    return static_cast<int>(std::find(dims.begin(), dims.end(), d) - dims.begin());
  };
  std::vector<int> perm(own.size());
  for (size_t i = 0; i < perm.size(); ++i)
    perm[i] = static_cast<int>(i);
  std::stable_sort(perm.begin(), perm.end(),
                   [&](int a, int b) { return position(own[a]) < position(own[b]); });
  bool identity = true;
  for (size_t i = 0; i < perm.size(); ++i)
    identity = identity && perm[i] == static_cast<int>(i);
  if (!identity) node = builder_.permute(node, perm, span);
  std::vector<Dim> shape;
  for (const Dim &d : dims)
    shape.push_back(std::find(own.begin(), own.end(), d) != own.end() ? d : Dim::constant(1));
  return builder_.reshape(node, shape, span);
}

int LoweringContext::jagged_mask(const std::vector<Dim> &dims, const SourceSpan &span) {
  int mask = -1;
  std::set<int> seen;
  for (const Dim &d : dims) {
    if (!d.is_block() || !seen.insert(d.block).second) continue;
    int parent = jagged_parent(d.block);
    if (parent < 0) continue;
    for (const Dim &p : type_of(parent).dims)
      if (std::find(dims.begin(), dims.end(), p) == dims.end())
        throw UserError("InvalidJaggedTileUsage",
                        "'" + kernel_.block(d.block).name_hint +
                            "' is a jagged tile whose length depends on '" +
                            (p.is_block() ? kernel_.block(p.block).name_hint : "?") +
                            "'; index with both, e.g. x[tile_b, tile_k], so each row stops at "
                            "its own length",
                        span);
    int index = align_to(builder_.tile_index(d.block, span), dims, span);
    int bound = align_to(parent, dims, span);
    int inside = builder_.binary(ir::BinaryFn::Lt, cast(index, type_of(bound).dtype, span), bound,
                                 span);
    mask = mask < 0 ? inside : builder_.binary(ir::BinaryFn::LogicalAnd, mask, inside, span);
  }
  return mask;
}

} // namespace helion::lower
