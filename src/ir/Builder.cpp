#include "ir/Builder.h"

#include "support/Diagnostics.h"
#include "support/Text.h"

#include <algorithm>
#include <cmath>

namespace helion::ir {

namespace {

std::string number_literal(double value, DType dtype) {
  if (dtype == DType::Bool) return value != 0 ? "True" : "False";
  if (!is_floating(dtype)) return std::to_string(static_cast<int64_t>(value));
  std::string text = shortest_double(value);
  if (text == "inf") return "float('inf')";
  if (text == "-inf") return "float('-inf')";
  if (text == "nan" || text == "-nan") return "float('nan')";
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

double literal_value(const std::string &text) {
  if (text == "True") return 1;
  if (text == "False") return 0;
  if (text.find("-inf") != std::string::npos) return -INFINITY;
  if (text.find("inf") != std::string::npos) return INFINITY;
  if (text.find("nan") != std::string::npos) return NAN;
  return std::stod(text);
}

bool is_scalar(const TensorType &t) { return t.dims.empty(); }

} // namespace

void Builder::append(Stmt stmt) {
  check_internal(block_ != nullptr, "the ir builder has no block to append to");
  if (!stmt.span.valid()) stmt.span = statement_;
  block_->push_back(std::move(stmt));
}

void Builder::check_operand(int id) const {
  check_internal(id >= 0 && id < static_cast<int>(k_.nodes.size()),
                 "ir operand refers to a node that does not exist");
}

int Builder::leaf(Node node) {
  return k_.add(std::move(node));
}

int Builder::computed(Node node) {
  int id = k_.add(std::move(node));
  Stmt stmt;
  stmt.kind = Stmt::Kind::Compute;
  stmt.value = id;
  append(std::move(stmt));
  return id;
}

int Builder::constant(double value, DType dtype, const SourceSpan &span) {
  return literal(number_literal(value, dtype), dtype, span);
}

int Builder::literal(std::string text, DType dtype, const SourceSpan &span) {
  Node n;
  n.op = OpKind::Constant;
  n.type.dtype = dtype;
  n.number = std::move(text);
  n.span = span;
  return leaf(std::move(n));
}

int Builder::host_int(const SymInt &value, const SourceSpan &span) {
  if (auto c = sym_constant(value)) return constant(static_cast<double>(*c), DType::Int32, span);
  Node n;
  n.op = OpKind::HostScalar;
  n.sym = value;
  n.type.dtype = DType::Int32;
  n.span = span;
  return leaf(std::move(n));
}

int Builder::host_scalar(int param, const SourceSpan &span) {
  check_internal(param >= 0 && param < static_cast<int>(k_.scalars.size()),
                 "host scalar refers to a parameter that does not exist");
  Node n;
  n.op = OpKind::HostScalar;
  n.scalar = param;
  n.type.dtype = k_.scalars[param].dtype;
  n.span = span;
  return leaf(std::move(n));
}

int Builder::tile_index(int block, const SourceSpan &span) {
  Node n;
  n.op = OpKind::TileIndex;
  n.block = block;
  n.type = {DType::Int32, {Dim::of_block(block)}};
  n.span = span;
  return leaf(std::move(n));
}

int Builder::region_arg(const TensorType &type, const std::string &name) {
  Node n;
  n.op = OpKind::RegionArg;
  n.type = type;
  n.name_hint = name;
  return leaf(std::move(n));
}

int Builder::region_result(const TensorType &type, const std::string &name) {
  Node n;
  n.op = OpKind::RegionResult;
  n.type = type;
  n.name_hint = name;
  return leaf(std::move(n));
}

int Builder::loop_index(const std::string &name, const SourceSpan &span) {
  Node n;
  n.op = OpKind::LoopIndex;
  n.type.dtype = DType::Int32;
  n.name_hint = name;
  n.span = span;
  return leaf(std::move(n));
}

static Node tile_scalar(OpKind op, int block, const SourceSpan &span) {
  Node n;
  n.op = op;
  n.block = block;
  n.type.dtype = DType::Int32;
  n.span = span;
  return n;
}

int Builder::tile_begin(int block, const SourceSpan &span, const std::string &name) {
  Node n = tile_scalar(OpKind::TileBegin, block, span);
  n.name_hint = name;
  return computed(std::move(n));
}

int Builder::tile_end(int block, const SourceSpan &span) {
  return computed(tile_scalar(OpKind::TileEnd, block, span));
}

int Builder::tile_size(int block, const SourceSpan &span) {
  return computed(tile_scalar(OpKind::TileSize, block, span));
}

int Builder::full(std::vector<Dim> dims, DType dtype, int fill, const SourceSpan &span) {
  check_operand(fill);
  check_internal(is_scalar(type_of(fill)) && type_of(fill).dtype == dtype,
                 "full needs a scalar fill value of its dtype");
  Node n;
  n.op = OpKind::Full;
  n.operands = {fill};
  n.type = {dtype, std::move(dims)};
  n.span = span;
  return computed(std::move(n));
}

int Builder::unary(UnaryFn fn, int x, const SourceSpan &span) {
  check_operand(x);
  TensorType type = type_of(x);
  check_internal(!needs_integer_operands(fn) || !is_floating(type.dtype),
                 std::string(name(fn)) + " needs an integer operand");
  if (yields_bool(fn)) type.dtype = DType::Bool;
  Node n;
  n.op = OpKind::Unary;
  n.fn = fn;
  n.operands = {x};
  n.type = std::move(type);
  n.span = span;
  return computed(std::move(n));
}

int Builder::binary(BinaryFn fn, int a, int b, const SourceSpan &span) {
  check_operand(a);
  check_operand(b);
  DType dtype = type_of(a).dtype;
  check_internal(dtype == type_of(b).dtype,
                 std::string("operands of ") + name(fn) + " differ in dtype");
  check_internal(!needs_integer_operands(fn) || !is_floating(dtype),
                 std::string(name(fn)) + " needs integer operands");
  Node n;
  n.op = OpKind::Binary;
  n.fn = fn;
  n.operands = {a, b};
  n.type = {yields_bool(fn) ? DType::Bool : dtype, broadcast(type_of(a), type_of(b), span)};
  n.span = span;
  return computed(std::move(n));
}

int Builder::where(int cond, int a, int b, const SourceSpan &span) {
  for (int id : {cond, a, b})
    check_operand(id);
  check_internal(type_of(cond).dtype == DType::Bool, "where needs a bool condition");
  DType dtype = type_of(a).dtype;
  check_internal(dtype == type_of(b).dtype, "where's operands differ in dtype");
  std::vector<Dim> dims = broadcast(type_of(cond), type_of(a), span);
  dims = broadcast({dtype, dims}, type_of(b), span);
  Node n;
  n.op = OpKind::Where;
  n.operands = {cond, a, b};
  n.type = {dtype, std::move(dims)};
  n.span = span;
  return computed(std::move(n));
}

int Builder::cast(int x, DType dtype, const SourceSpan &span) {
  check_operand(x);
  if (type_of(x).dtype == dtype) return x;
  if (k_.node(x).op == OpKind::Constant)
    return constant(literal_value(k_.node(x).number), dtype, span);
  Node n;
  n.op = OpKind::Cast;
  n.operands = {x};
  n.type = {dtype, type_of(x).dims};
  n.span = span;
  return computed(std::move(n));
}

int Builder::reduce(ReduceFn fn, int x, int axis, bool keepdim, DType dtype,
                    const SourceSpan &span) {
  check_operand(x);
  TensorType type = type_of(x);
  check_internal(axis >= 0 && axis < type.rank() && type.dims[axis].is_block(),
                 "a reduction needs a block dimension as its axis");
  check_internal(!yields_index(fn) || dtype == DType::Int64, "argmax/argmin yield int64");
  type.dtype = dtype;
  if (keepdim)
    type.dims[axis] = Dim::constant(1);
  else
    type.dims.erase(type.dims.begin() + axis);
  Node n;
  n.op = OpKind::Reduce;
  n.fn = fn;
  n.operands = {x};
  n.type = std::move(type);
  n.axis = axis;
  n.keepdim = keepdim;
  n.span = span;
  return computed(std::move(n));
}

/// Checks that `combine` exists and combines scalars of the dtypes of `inputs`,
/// which share one shape with a block dimension at `axis`.
void Builder::check_combine(int combine, const std::vector<int> &inputs, int axis) const {
  check_internal(combine >= 0 && combine < static_cast<int>(k_.combine_fns.size()),
                 "a combine function that does not exist");
  const CombineFn &fn = k_.combine_fns[combine];
  check_internal(!inputs.empty() && fn.params.size() == 2 * inputs.size() &&
                     fn.results.size() == inputs.size(),
                 "a combine function takes two values per input and gives one per input");
  for (size_t i = 0; i < inputs.size(); ++i) {
    check_operand(inputs[i]);
    const TensorType &result = type_of(fn.results[i]);
    check_internal(result.rank() == 0 && result.dtype == type_of(inputs[i]).dtype,
                   "a combine function's results are scalars of its inputs' dtypes");
    check_internal(type_of(inputs[i]).dims == type_of(inputs[0]).dims,
                   "the inputs of a combined reduction or scan share one shape");
  }
  const TensorType &type = type_of(inputs[0]);
  check_internal(axis >= 0 && axis < type.rank() && type.dims[axis].is_block(),
                 "a reduction or scan needs a block dimension as its axis");
}

int Builder::combine_reduce(int combine, const std::vector<int> &inputs,
                            const std::vector<int> &others, int index, int axis, bool keepdim,
                            const SourceSpan &span) {
  check_combine(combine, inputs, axis);
  check_internal(others.size() == inputs.size(), "one fill value per input");
  for (size_t i = 0; i < others.size(); ++i)
    check_internal(type_of(others[i]).rank() == 0 &&
                       type_of(others[i]).dtype == type_of(inputs[i]).dtype,
                   "fill values are scalars of the inputs' dtypes");
  TensorType type = type_of(inputs.at(index));
  if (keepdim)
    type.dims[axis] = Dim::constant(1);
  else
    type.dims.erase(type.dims.begin() + axis);
  Node n;
  n.op = OpKind::CombineReduce;
  n.operands = inputs;
  n.operands.insert(n.operands.end(), others.begin(), others.end());
  n.type = std::move(type);
  n.axis = axis;
  n.keepdim = keepdim;
  n.combine = combine;
  n.result_index = index;
  n.span = span;
  return computed(std::move(n));
}

int Builder::scan(int combine, const std::vector<int> &inputs, const std::vector<int> &fills,
                  int index, int axis, bool reverse, const SourceSpan &span) {
  check_combine(combine, inputs, axis);
  check_internal(fills.empty() || fills.size() == inputs.size(), "one fill value per input");
  Node n;
  n.op = OpKind::Scan;
  n.operands = inputs;
  n.operands.insert(n.operands.end(), fills.begin(), fills.end());
  n.reverse = reverse;
  n.type = type_of(inputs.at(index));
  n.axis = axis;
  n.combine = combine;
  n.result_index = index;
  n.span = span;
  return computed(std::move(n));
}

int Builder::arange(Dim dim, int64_t begin, const SourceSpan &span) {
  check_internal(dim.is_block() || (dim.size > 0 && (dim.size & (dim.size - 1)) == 0),
                 "arange needs a block or a power-of-two length");
  Node n;
  n.op = OpKind::Arange;
  n.type = {DType::Int32, {dim}};
  n.number = std::to_string(begin);
  n.span = span;
  return computed(std::move(n));
}

int Builder::random(int seed, int offsets, bool bits, const SourceSpan &span) {
  check_operand(seed);
  check_operand(offsets);
  check_internal(type_of(seed).rank() == 0 && is_integral(type_of(seed).dtype),
                 "a random seed is an int scalar");
  check_internal(type_of(offsets).dtype == DType::Int32, "random offsets are int32");
  Node n;
  n.op = OpKind::Random;
  n.operands = {seed, offsets};
  n.type = {bits ? DType::Int32 : DType::Float32, type_of(offsets).dims};
  n.span = span;
  return computed(std::move(n));
}

int Builder::dot(int a, int b, int acc, std::vector<Dim> dims, const SourceSpan &span) {
  check_operand(a);
  check_operand(b);
  const TensorType &ta = type_of(a), &tb = type_of(b);
  check_internal(ta.rank() >= 2 && ta.rank() == tb.rank(), "dot needs operands of one rank >= 2");
  check_internal(ta.dims[ta.rank() - 1] == tb.dims[tb.rank() - 2],
                 "dot's operands disagree on the contracted dimension");
  check_internal(ta.dtype == tb.dtype, "dot's operands differ in dtype");
  Node n;
  n.op = OpKind::Dot;
  n.operands = {a, b};
  if (acc >= 0) {
    check_operand(acc);
    check_internal(type_of(acc).dtype == DType::Float32 && type_of(acc).dims == dims,
                   "dot's accumulator must be float32 of the product's shape");
    n.operands.push_back(acc);
  }
  n.type = {DType::Float32, std::move(dims)};
  n.span = span;
  return computed(std::move(n));
}

int Builder::reshape(int x, std::vector<Dim> dims, const SourceSpan &span) {
  check_operand(x);
  TensorType type = type_of(x);
  if (type.dims == dims) return x;
  auto non_unit = [](const std::vector<Dim> &d) {
    std::vector<Dim> out;
    std::copy_if(d.begin(), d.end(), std::back_inserter(out),
                 [](const Dim &x) { return x != Dim::constant(1); });
    return out;
  };
  check_internal(non_unit(type.dims) == non_unit(dims),
                 "reshape may only insert or remove size-1 dimensions");
  Node n;
  n.op = OpKind::Reshape;
  n.operands = {x};
  n.type = {type.dtype, std::move(dims)};
  n.span = span;
  return computed(std::move(n));
}

int Builder::regroup(int x, std::vector<Dim> dims, const SourceSpan &span) {
  check_operand(x);
  const TensorType &type = type_of(x);
  Node n;
  n.op = OpKind::Reshape;
  n.regroup = true;
  n.operands = {x};
  n.type = {type.dtype, std::move(dims)};
  n.span = span;
  return computed(std::move(n));
}

int Builder::join(int a, int b, const SourceSpan &span) {
  check_operand(a);
  check_operand(b);
  const TensorType &type = type_of(a);
  check_internal(type.dtype == type_of(b).dtype && type.dims == type_of(b).dims,
                 "join needs two values of one type");
  Node n;
  n.op = OpKind::Join;
  n.operands = {a, b};
  n.type = type;
  n.type.dims.push_back(Dim::constant(2));
  n.span = span;
  return computed(std::move(n));
}

int Builder::split(int x, int half, const SourceSpan &span) {
  check_operand(x);
  const TensorType &type = type_of(x);
  check_internal(!type.dims.empty() && type.dims.back() == Dim::constant(2) &&
                     (half == 0 || half == 1),
                 "split needs a last dim of size 2");
  Node n;
  n.op = OpKind::Split;
  n.operands = {x};
  n.type = type;
  n.type.dims.pop_back();
  n.result_index = half;
  n.span = span;
  return computed(std::move(n));
}

int Builder::device_print(std::string prefix, std::vector<int> values, const SourceSpan &span) {
  for (int v : values)
    check_operand(v);
  Node n;
  n.op = OpKind::Print;
  n.operands = std::move(values);
  n.type = {DType::Int32, {}};
  n.text = {std::move(prefix)};
  n.span = span;
  return computed(std::move(n));
}

int Builder::inline_asm(std::string assembly, std::string constraints, std::vector<int> args,
                        TensorType type, bool pure, int pack, const SourceSpan &span) {
  check_internal(!args.empty() && pack >= 1, "inline assembly needs arguments");
  for (int a : args)
    check_operand(a);
  Node n;
  n.op = OpKind::InlineAsm;
  n.operands = std::move(args);
  n.type = std::move(type);
  n.text = {std::move(assembly), std::move(constraints)};
  n.pure = pure;
  n.pack = pack;
  n.span = span;
  return computed(std::move(n));
}

std::vector<int> Builder::triton_values(Node n) {
  for (int a : n.operands)
    check_operand(a);
  std::vector<TensorType> results = n.results;
  // A call returning nothing or a tuple has no value of its own.
  n.type = results.size() == 1 ? results[0] : TensorType{DType::Int32, {}};
  int call = computed(std::move(n));
  if (results.size() < 2) return results.empty() ? std::vector<int>{} : std::vector<int>{call};
  std::vector<int> values;
  for (size_t i = 0; i < results.size(); ++i) {
    Node item;
    item.op = OpKind::TritonResult;
    item.operands = {call};
    item.type = results[i];
    item.result_index = static_cast<int>(i);
    item.span = k_.node(call).span;
    values.push_back(computed(std::move(item)));
  }
  return values;
}

std::vector<int> Builder::triton_call(int callee, std::vector<int> args,
                                      std::vector<std::string> keywords,
                                      std::vector<TensorType> results, const SourceSpan &span) {
  check_internal(callee >= 0 && callee < static_cast<int>(k_.triton_functions.size()),
                 "a triton call names a function the kernel does not have");
  check_internal(keywords.empty() || keywords.size() == args.size(),
                 "a triton call passes every argument by keyword or none");
  Node n;
  n.op = OpKind::TritonCall;
  n.callee = callee;
  n.operands = std::move(args);
  n.text = std::move(keywords);
  n.results = std::move(results);
  n.span = span;
  return triton_values(std::move(n));
}

std::vector<int> Builder::inline_triton(std::string snippet, std::vector<std::string> placeholders,
                                        std::vector<int> args, std::vector<TensorType> results,
                                        const SourceSpan &span) {
  check_internal(placeholders.size() == args.size(),
                 "inline triton needs one placeholder per argument");
  Node n;
  n.op = OpKind::InlineTriton;
  n.operands = std::move(args);
  n.text = {std::move(snippet)};
  n.text.insert(n.text.end(), placeholders.begin(), placeholders.end());
  n.results = std::move(results);
  n.span = span;
  return triton_values(std::move(n));
}

int Builder::tensor_pointer(int tensor, const SourceSpan &span) {
  check_internal(tensor >= 0 && tensor < static_cast<int>(k_.tensors.size()),
                 "a tensor pointer names a tensor the kernel does not take");
  Node n;
  n.op = OpKind::TensorPointer;
  n.tensor = tensor;
  n.type = {k_.tensors[tensor].dtype, {}};
  n.span = span;
  return leaf(std::move(n));
}

int Builder::permute(int x, std::vector<int> perm, const SourceSpan &span) {
  check_operand(x);
  const TensorType &type = type_of(x);
  check_internal(static_cast<int>(perm.size()) == type.rank(), "permute needs one entry per dim");
  std::vector<bool> seen(perm.size());
  std::vector<Dim> dims;
  for (int p : perm) {
    check_internal(p >= 0 && p < type.rank() && !seen[p], "permute needs a permutation");
    seen[p] = true;
    dims.push_back(type.dims[p]);
  }
  Node n;
  n.op = OpKind::Permute;
  n.operands = {x};
  n.type = {type.dtype, std::move(dims)};
  n.perm = std::move(perm);
  n.span = span;
  return computed(std::move(n));
}

int Builder::mask_fill(int x, int block, std::string literal, const SourceSpan &span) {
  check_operand(x);
  Node n;
  n.op = OpKind::MaskFill;
  n.operands = {x};
  n.type = type_of(x);
  n.block = block;
  n.number = std::move(literal);
  n.span = span;
  return computed(std::move(n));
}

int Builder::load(int tensor, std::vector<IndexItem> index, std::vector<Dim> dims, int mask,
                  const SourceSpan &span, std::optional<std::string> eviction_policy) {
  check_internal(tensor >= 0 && tensor < static_cast<int>(k_.tensors.size()),
                 "load of a tensor that is not a parameter");
  for (const IndexItem &item : index)
    if (item.value >= 0) check_operand(item.value);
  Node n;
  n.op = OpKind::Load;
  n.tensor = tensor;
  n.index = std::move(index);
  n.type = {k_.tensors[tensor].dtype, std::move(dims)};
  if (mask >= 0) {
    check_operand(mask);
    check_internal(type_of(mask).dtype == DType::Bool, "a load's mask must be bool");
    n.operands = {mask};
  }
  n.memory_op = k_.memory_ops++;
  if (eviction_policy)
    n.eviction_policy = *eviction_policy;
  else
    n.policy_load = k_.policy_loads++;
  n.name_hint = "load";
  n.span = span;
  return computed(std::move(n));
}

void Builder::check_atomic_target(AtomicFn fn, int tensor, const std::vector<IndexItem> &index,
                                  int mask, const SourceSpan &span) const {
  check_internal(tensor >= 0 && tensor < static_cast<int>(k_.tensors.size()),
                 "atomic on a tensor that is not a parameter");
  for (const IndexItem &item : index)
    if (item.value >= 0) check_operand(item.value);
  if (mask >= 0) {
    check_operand(mask);
    check_internal(type_of(mask).dtype == DType::Bool, "an atomic's mask must be bool");
  }
  const TensorParam &t = k_.tensors[tensor];
  if (!atomic_accepts(fn, t.dtype))
    throw UserError("UnsupportedOp",
                    std::string("hl.atomic_") + name(fn) + " cannot update '" + t.name +
                        "' of dtype " + dtype_name(t.dtype) + ": Triton has it for " +
                        atomic_dtypes_text(fn) + " only; allocate the target in one of those",
                    span);
}

int Builder::atomic(AtomicFn fn, MemorySem sem, int tensor, std::vector<IndexItem> index,
                    std::vector<Dim> dims, std::vector<int> values, int mask,
                    const SourceSpan &span) {
  check_atomic_target(fn, tensor, index, mask, span);
  const TensorParam &t = k_.tensors[tensor];
  if (!atomic_returns_old_values(fn, t.dtype))
    throw UserError("UnsupportedOp",
                    std::string("hl.atomic_") + name(fn) + " on '" + t.name + "' of dtype " +
                        dtype_name(t.dtype) +
                        " cannot return the old values: Triton 3.6 computes them wrongly for "
                        "floats; call it as a statement of its own, or keep the values in an "
                        "integer target",
                    span);
  Node n;
  n.op = OpKind::Atomic;
  n.fn = fn;
  n.type = {t.dtype, std::move(dims)};
  check_internal(values.size() == n.atomic_values(),
                 std::string("hl.atomic_") + name(fn) + " takes " +
                     std::to_string(n.atomic_values()) + " value operand(s)");
  for (int v : values) {
    check_operand(v);
    check_internal(type_of(v).dtype == n.type.dtype,
                   "an atomic's values must have its target's dtype");
    check_internal(broadcast(type_of(v), n.type, span) == n.type.dims,
                   "an atomic's values must broadcast to the indexed region");
  }
  n.operands = std::move(values);
  if (mask >= 0) n.operands.push_back(mask);
  n.sem = sem;
  n.tensor = tensor;
  n.index = std::move(index);
  n.atomic_op = k_.atomic_ops++;
  n.span = span;
  return computed(std::move(n));
}

void Builder::atomic_update(AtomicFn fn, MemorySem sem, int tensor, std::vector<IndexItem> index,
                            int value, int mask, const SourceSpan &span) {
  check_internal(fn != AtomicFn::Cas, "a compare-and-swap is always a value");
  check_atomic_target(fn, tensor, index, mask, span);
  check_operand(value);
  Stmt s;
  s.kind = Stmt::Kind::Store;
  s.tensor = tensor;
  s.index = std::move(index);
  s.value = value;
  s.atomic = fn;
  s.sem = sem;
  s.mask = mask;
  s.atomic_op = k_.atomic_ops++;
  append(std::move(s));
}

std::string Builder::shape_text(const std::vector<Dim> &dims) const {
  std::string text = "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) text += ", ";
    if (!dims[i].is_block()) {
      text += std::to_string(dims[i].size);
      continue;
    }
    const BlockInfo &b = k_.block(dims[i].block);
    if (b.kind == BlockInfo::Kind::Tile)
      text += b.name_hint.empty() ? "tile" : b.name_hint;
    else
      text += ":" + sym_to_python(b.end, SymSide::Host);
  }
  return text + "]";
}

bool Builder::is_unit(const Dim &d) const {
  if (d == Dim::constant(1)) return true;
  // A whole dimension of size 1 (`x[tile, :]` over an [m, 1] tensor).
  return d.is_block() && k_.block(d.block).kind == BlockInfo::Kind::Reduction &&
         sym_constant(k_.block(d.block).extent()) == 1;
}

std::vector<Dim> Builder::broadcast(const TensorType &a, const TensorType &b,
                                    const SourceSpan &span) const {
  size_t rank = std::max(a.dims.size(), b.dims.size());
  std::vector<Dim> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    // Align from the right, like torch.
    const Dim *da = i < rank - a.dims.size() ? nullptr : &a.dims[i - (rank - a.dims.size())];
    const Dim *db = i < rank - b.dims.size() ? nullptr : &b.dims[i - (rank - b.dims.size())];
    if (!da || (db && is_unit(*da)))
      out[i] = *db;
    else if (!db || *da == *db || is_unit(*db))
      out[i] = *da;
    else
      throw UserError("ShapeMismatch",
                      "shapes " + shape_text(a.dims) + " and " + shape_text(b.dims) +
                          " do not broadcast (dimension " + std::to_string(i) +
                          "); operands must use the same tiles",
                      span);
  }
  return out;
}

} // namespace helion::ir
