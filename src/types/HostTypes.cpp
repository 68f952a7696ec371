#include "types/HostTypes.h"

#include "support/Diagnostics.h"
#include "types/OpSignature.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <set>

namespace helion {

using Kind = HostValue::Kind;

std::vector<SymInt> contiguous_strides(const std::vector<SymInt> &sizes) {
  std::vector<SymInt> strides(sizes.size());
  SymInt running = sym_const(1);
  for (size_t i = sizes.size(); i-- > 0;) {
    strides[i] = running;
    running = sym_mul(running, sym_max(sizes[i], sym_const(1)));
  }
  return strides;
}

/// Row-major with no gaps (a size-1 dim may have any stride).
static bool is_contiguous(const HostTensor &t) {
  if (!t.strides_known) return false;
  std::vector<SymInt> expected = contiguous_strides(t.sizes);
  for (size_t i = 0; i < expected.size(); ++i)
    if (sym_constant(t.sizes[i]) != 1 && !sym_equal(expected[i], t.strides[i])) return false;
  return true;
}

std::optional<std::vector<SymInt>> shape_of(const HostValue &value) {
  if (value.kind == Kind::Int) return std::vector<SymInt>{value.sym};
  if (value.kind != Kind::Tuple) return std::nullopt;
  std::vector<SymInt> sizes;
  for (const HostValuePtr &e : value.elements) {
    if (e->kind != Kind::Int) return std::nullopt;
    sizes.push_back(e->sym);
  }
  return sizes;
}

static bool is_hl_loop_call(const ast::Expr &expr, HostEvaluator &eval) {
  if (expr.kind != ast::ExprKind::Call) return false;
  HostValuePtr fn = eval.eval(*expr.func);
  return fn->kind == Kind::Function && (fn->text == "hl.tile" || fn->text == "hl.grid");
}

HostValuePtr global_value(const GlobalSpec &g, const std::string &name) {
  using GlobalKind = GlobalSpec::Kind;
  switch (g.kind) {
  case GlobalKind::Module:
    return HostValue::make(Kind::Module, g.name);
  case GlobalKind::DType:
    if (auto d = dtype_from_name(g.name)) return HostValue::make_dtype(*d);
    break;
  case GlobalKind::Constant: {
    const Json &v = g.value;
    if (v.is_boolean()) return HostValue::make_bool(v.get<bool>());
    if (v.is_number_integer()) return HostValue::make_int(sym_const(json_int(v)));
    if (v.is_number()) return HostValue::make_float(json_number(v));
    if (v.is_string()) return HostValue::make(Kind::String, v.get<std::string>());
    if (v.is_null()) return HostValue::make(Kind::None);
    break;
  }
  case GlobalKind::Function:
    return HostValue::make(Kind::Function, "global." + name);
  case GlobalKind::FragmentClass:
    return HostValue::make(Kind::Function, "fragment." + g.name);
  case GlobalKind::TritonFunction:
    return HostValue::make(Kind::Function, "triton_function." + name);
  case GlobalKind::Fragment:
    return HostValue::make_fragment(fragment_from_description(g.fragment));
  case GlobalKind::Other:
    break;
  }
  return HostValue::make(Kind::Unknown, name);
}

HostValuePtr HostEvaluator::lookup_global(const std::string &name) const {
  if (const GlobalSpec *g = inputs_.global(name)) return global_value(*g, name);
  static const std::set<std::string> builtins = {"len",   "min",   "max",        "int",
                                                 "float", "range", "abs",        "print",
                                                 "bool",  "slice", "isinstance"};
  if (builtins.count(name)) return HostValue::make(Kind::Function, "builtins." + name);
  return nullptr;
}

HostValuePtr HostEvaluator::module_attribute(const std::string &module, const std::string &attr,
                                             const SourceSpan &span) const {
  if (module == "torch") {
    if (auto d = dtype_from_name(attr)) return HostValue::make_dtype(*d);
    if (attr == "Tensor") return HostValue::make(Kind::Unknown, "torch.Tensor");
    return HostValue::make(Kind::Function, "torch." + attr);
  }
  if (module == "helion.language") return HostValue::make(Kind::Function, "hl." + attr);
  if (module == "helion.autotuner") {
    for (const auto &[cls, params] : fragment_signatures())
      if (attr == cls) return HostValue::make(Kind::Function, "fragment." + cls);
    return HostValue::make(Kind::Unknown, module + "." + attr);
  }
  if (module == "helion") {
    if (attr == "language") return HostValue::make(Kind::Module, "helion.language");
    if (attr == "autotuner") return HostValue::make(Kind::Module, "helion.autotuner");
    return HostValue::make(Kind::Function, "helion." + attr);
  }
  if (module == "math") {
    if (attr == "pi") return HostValue::make_float(M_PI);
    if (attr == "e") return HostValue::make_float(M_E);
    if (attr == "inf") return HostValue::make_float(INFINITY);
    return HostValue::make(Kind::Function, "math." + attr);
  }
  if (module == "torch.nn.functional")
    return HostValue::make(Kind::Function, "torch.nn.functional." + attr);
  if (module == "triton.language" || module == "triton")
    return HostValue::make(Kind::Function, "tl." + attr);
  return HostValue::make(Kind::Unknown, module + "." + attr);
}

HostValuePtr HostEvaluator::eval(const ast::Expr &expr) {
  using EK = ast::ExprKind;
  switch (expr.kind) {
  case EK::Name: {
    auto it = env_.find(expr.id);
    if (it != env_.end()) return it->second;
    if (HostValuePtr g = lookup_global(expr.id)) return g;
    throw UserError("UndefinedVariable",
                    "name '" + expr.id +
                        "' is not defined; define it before use or pass it as an argument",
                    expr.span);
  }
  case EK::Constant: {
    const ast::Constant &c = expr.constant;
    switch (c.kind) {
    case ast::ConstantKind::Int:
      return HostValue::make_int(sym_const(c.int_value));
    case ast::ConstantKind::Float:
      return HostValue::make_float(c.float_value);
    case ast::ConstantKind::Bool:
      return HostValue::make_bool(c.bool_value);
    case ast::ConstantKind::String:
      return HostValue::make(Kind::String, c.string_value);
    default:
      return HostValue::make(Kind::None);
    }
  }
  case EK::Attribute:
    return eval_attribute(expr);
  case EK::Subscript:
    return eval_subscript(expr);
  case EK::Call:
    return eval_call(expr);
  case EK::BinOp:
    return eval_binop(expr);
  case EK::UnaryOp: {
    HostValuePtr v = eval(*expr.extra);
    if (expr.op == "USub" && v->kind == Kind::Int)
      return HostValue::make_int(sym_mul(v->sym, sym_const(-1)));
    if (expr.op == "USub" && v->kind == Kind::Float)
      return HostValue::make_float(v->number ? std::optional<double>(-*v->number) : std::nullopt);
    if (expr.op == "Not") return HostValue::make_bool(std::nullopt);
    return v->kind == Kind::Tensor ? HostValue::make(Kind::Unknown) : v;
  }
  case EK::Tuple:
  case EK::List: {
    std::vector<HostValuePtr> elements;
    for (const auto &e : expr.elts) {
      if (e->kind != EK::Starred) {
        elements.push_back(eval(*e));
        continue;
      }
      HostValuePtr spliced = eval(*e->value); // [*x.shape[:-1], n]
      if (spliced->kind != Kind::Tuple) return HostValue::make(Kind::Unknown);
      elements.insert(elements.end(), spliced->elements.begin(), spliced->elements.end());
    }
    return HostValue::make_tuple(std::move(elements), expr.kind == EK::List);
  }
  case EK::Compare:
    return eval_compare(expr);
  case EK::BoolOp:
    return eval_bool_op(expr);
  default:
    return HostValue::make(Kind::Unknown);
  }
}

void HostEvaluator::require_tensor(const ast::Expr &expr, const HostValuePtr &value) const {
  if (value->kind == Kind::Tensor || expr.kind != ast::ExprKind::Name) return;
  auto it = arguments_.find(expr.id);
  const ArgSpec *arg = inputs_.arg(expr.id);
  if (it == arguments_.end() || it->second != value || !arg) return;
  throw non_tensor_argument(*arg, expr.span);
}

HostValuePtr HostEvaluator::eval_attribute(const ast::Expr &expr) {
  HostValuePtr base = eval(*expr.value);
  const std::string &attr = expr.id;
  if (is_tensor_attribute(attr)) require_tensor(*expr.value, base);
  if (base->kind == Kind::Module) return module_attribute(base->text, attr, expr.span);
  if (base->kind == Kind::Tensor) {
    const HostTensor &t = *base->tensor;
    if (attr == "shape") {
      std::vector<HostValuePtr> sizes;
      for (const SymInt &s : t.sizes)
        sizes.push_back(HostValue::make_int(s));
      return HostValue::make_tuple(std::move(sizes));
    }
    if (attr == "dtype") return HostValue::make_dtype(t.dtype);
    if (attr == "device") return HostValue::make(Kind::Device, t.device);
    if (attr == "ndim") return HostValue::make_int(sym_const(static_cast<int64_t>(t.sizes.size())));
    if (attr == "T")
      if (auto view = view_of(t, "t", {}, expr.span))
        return HostValue::make_tensor(std::make_shared<HostTensor>(*view));
    auto method = std::make_shared<HostValue>();
    method->kind = Kind::Function;
    method->text = "tensor." + attr;
    method->self = base;
    return method;
  }
  // A module's function may have attributes; a bound method (`x.view.foo`)
  // has none the compiler knows, and no receiver would go with them.
  if (base->kind == Kind::Function && !base->self && base->text.rfind("global.", 0) != 0)
    return HostValue::make(Kind::Function, base->text + "." + attr);
  return HostValue::make(Kind::Unknown);
}

static int64_t normalize_dim(int64_t dim, size_t rank, const SourceSpan &span) {
  int64_t r = static_cast<int64_t>(rank);
  if (dim < -r || dim >= r)
    throw UserError("RankMismatch",
                    "dimension " + std::to_string(dim) + " is out of range for a tensor of rank " +
                        std::to_string(rank),
                    span);
  return dim < 0 ? dim + r : dim;
}

/// An int known at compile time, for slice bounds.
static std::optional<int64_t> known_int(const HostValue &v) {
  return v.kind == Kind::Int ? sym_constant(v.sym) : std::nullopt;
}

HostValuePtr HostEvaluator::eval_subscript(const ast::Expr &expr) {
  HostValuePtr base = eval(*expr.value);
  if (base->kind == Kind::None || base->kind == Kind::Int || base->kind == Kind::Float ||
      base->kind == Kind::Bool)
    require_tensor(*expr.value, base);
  if (base->kind != Kind::Tuple) return HostValue::make(Kind::Unknown);
  if (expr.slice->kind == ast::ExprKind::Slice) { // x.shape[:-1], x.shape[1:]
    const ast::Expr &slice = *expr.slice;
    int64_t size = static_cast<int64_t>(base->elements.size());
    auto bound = [&](const ast::ExprPtr &e, int64_t fallback) -> std::optional<int64_t> {
      if (!e) return fallback;
      auto v = known_int(*eval(*e));
      if (!v) return std::nullopt;
      return std::clamp<int64_t>(*v < 0 ? *v + size : *v, 0, size);
    };
    auto lower = bound(slice.left, 0), upper = bound(slice.right, size);
    if (!lower || !upper || slice.extra) return HostValue::make(Kind::Unknown);
    std::vector<HostValuePtr> part;
    for (int64_t i = *lower; i < *upper; ++i)
      part.push_back(base->elements[i]);
    return HostValue::make_tuple(std::move(part), base->is_list);
  }
  HostValuePtr index = eval(*expr.slice);
  if (index->kind != Kind::Int || !sym_constant(index->sym)) return HostValue::make(Kind::Unknown);
  int64_t i = normalize_dim(*sym_constant(index->sym), base->elements.size(), expr.span);
  return base->elements[i];
}

static std::optional<double> as_number(const HostValue &v) {
  if (v.kind == Kind::Float) return v.number;
  if (v.kind == Kind::Int && sym_constant(v.sym)) return static_cast<double>(*sym_constant(v.sym));
  return std::nullopt;
}

/// `a is b` where one side is None: known from the other side's kind, as
/// the arguments' specialization fixes which optional arguments are None.
static std::optional<bool> identity_with_none(const HostValue &a, const HostValue &b) {
  if (a.kind != Kind::None && b.kind != Kind::None) return std::nullopt;
  const HostValue &other = a.kind == Kind::None ? b : a;
  if (other.kind == Kind::None) return true;
  if (other.kind == Kind::Unknown) return std::nullopt;
  return false;
}

HostValuePtr HostEvaluator::eval_bool_op(const ast::Expr &expr) {
  // Known only when every operand's truth is: `bias is not None and n > 0`.
  bool is_and = expr.op == "And";
  for (const auto &value : expr.elts) {
    HostValuePtr v = eval(*value);
    std::optional<bool> truth = v->kind == Kind::Bool ? v->truth : std::nullopt;
    if (!truth) return HostValue::make_bool(std::nullopt);
    if (*truth != is_and) return HostValue::make_bool(*truth);
  }
  return HostValue::make_bool(is_and);
}

HostValuePtr HostEvaluator::eval_compare(const ast::Expr &expr) {
  if (expr.ops.size() == 1 && (expr.ops[0] == "Is" || expr.ops[0] == "IsNot")) {
    auto same = identity_with_none(*eval(*expr.left), *eval(*expr.comparators[0]));
    if (!same) return HostValue::make_bool(std::nullopt);
    return HostValue::make_bool(expr.ops[0] == "Is" ? *same : !*same);
  }
  // Strings and dtypes (arguments are specialized on them) compare when compiling.
  if (expr.ops.size() == 1 && (expr.ops[0] == "Eq" || expr.ops[0] == "NotEq")) {
    HostValuePtr a = eval(*expr.left), b = eval(*expr.comparators[0]);
    std::optional<bool> same;
    if (a->kind == Kind::String && b->kind == Kind::String) same = a->text == b->text;
    if (a->kind == Kind::DType && b->kind == Kind::DType) same = a->dtype == b->dtype;
    if (same) return HostValue::make_bool(expr.ops[0] == "Eq" ? *same : !*same);
  }
  // Otherwise only comparisons of ints known at compile time have a known outcome.
  std::optional<int64_t> left = known_int(*eval(*expr.left));
  bool truth = true;
  for (size_t i = 0; i < expr.ops.size(); ++i) {
    std::optional<int64_t> right = known_int(*eval(*expr.comparators[i]));
    if (!left || !right) return HostValue::make_bool(std::nullopt);
    const std::string &op = expr.ops[i];
    if (op == "Eq")
      truth = truth && *left == *right;
    else if (op == "NotEq")
      truth = truth && *left != *right;
    else if (op == "Lt")
      truth = truth && *left < *right;
    else if (op == "LtE")
      truth = truth && *left <= *right;
    else if (op == "Gt")
      truth = truth && *left > *right;
    else if (op == "GtE")
      truth = truth && *left >= *right;
    else
      return HostValue::make_bool(std::nullopt);
    left = right;
  }
  return HostValue::make_bool(truth);
}

void HostEvaluator::note_tensor_operation(const std::string &what, const SourceSpan &span) {
  if (!findings_) return;
  findings_->tensor_operations.push_back(
      {what +
           " in host code runs as its own PyTorch op, outside the kernel; move it into the "
           "device loop to fuse it, or pass ignore_warnings=[helion.exc.TensorOperationInWrapper]",
       span});
}

HostValuePtr HostEvaluator::eval_binop(const ast::Expr &expr) {
  HostValuePtr a = eval(*expr.left), b = eval(*expr.right);
  const std::string &op = expr.op;
  if (a->kind == Kind::Tensor || b->kind == Kind::Tensor) {
    note_tensor_operation("this tensor arithmetic", expr.span);
    return HostValue::make(Kind::Unknown);
  }
  if (op == "Add" && a->kind == Kind::Tuple && b->kind == Kind::Tuple) { // shape + (n,)
    std::vector<HostValuePtr> joined = a->elements;
    joined.insert(joined.end(), b->elements.begin(), b->elements.end());
    return HostValue::make_tuple(std::move(joined), a->is_list);
  }
  if (a->kind == Kind::Int && b->kind == Kind::Int) {
    if (op == "Add") return HostValue::make_int(sym_add(a->sym, b->sym));
    if (op == "Sub") return HostValue::make_int(sym_sub(a->sym, b->sym));
    if (op == "Mult") return HostValue::make_int(sym_mul(a->sym, b->sym));
    if (op == "FloorDiv") return HostValue::make_int(sym_floordiv(a->sym, b->sym));
    if (op == "Mod") return HostValue::make_int(sym_mod(a->sym, b->sym));
  }
  bool numeric = (a->kind == Kind::Int || a->kind == Kind::Float) &&
                 (b->kind == Kind::Int || b->kind == Kind::Float);
  if (!numeric) return HostValue::make(Kind::Unknown);
  auto x = as_number(*a), y = as_number(*b);
  if (!x || !y) return HostValue::make_float(std::nullopt);
  if (op == "Add") return HostValue::make_float(*x + *y);
  if (op == "Sub") return HostValue::make_float(*x - *y);
  if (op == "Mult") return HostValue::make_float(*x * *y);
  if (op == "Div" && *y != 0) return HostValue::make_float(*x / *y);
  if (op == "Pow") return HostValue::make_float(std::pow(*x, *y));
  return HostValue::make_float(std::nullopt);
}

namespace {

/// The host calls type propagation models, by qualified name, with torch's
/// parameters (a method's receiver first).
const std::map<std::string, Signature> &host_signatures() {
  static const std::map<std::string, Signature> table = [] {
    std::map<std::string, Signature> t;
    auto add = [&t](const std::string &name, const std::string &params) {
      bool method = name.rfind("tensor.", 0) == 0;
      std::string shown = method ? "Tensor." + name.substr(7) : name;
      t.emplace(name, Signature::parse(shown, params, method));
    };
    add("hl.specialize", "(value)");
    add("hl.register_block_size", "(min_or_max, max=None, /)");
    add("hl.register_tunable", "(name, fragment)");
    for (const auto &[cls, params] : fragment_signatures())
      add("fragment." + cls, params);
    add("tensor.size", "(input, dim=None)");
    add("tensor.stride", "(input, dim=None)");
    add("tensor.numel", "(input)");
    add("tensor.dim", "(input)");
    const std::string factory = "dtype=None, layout=None, device=None, pin_memory=False, "
                                "requires_grad=False";
    add("torch.empty", "(*size, ~out=None, " + factory + ", ~memory_format=None)");
    add("torch.zeros", "(*size, ~out=None, " + factory + ")");
    add("torch.ones", "(*size, ~out=None, " + factory + ")");
    add("torch.full", "(size, fill_value, *, ~out=None, " + factory + ")");
    add("torch.randn", "(*size, ~generator=None, ~out=None, " + factory + ")");
    add("torch.rand", "(*size, ~generator=None, ~out=None, " + factory + ")");
    for (const char *like : {"torch.empty_like", "torch.zeros_like", "torch.ones_like",
                             "torch.randn_like", "torch.rand_like"})
      add(like, "(input, *, " + factory + ", ~memory_format=None)");
    add("torch.full_like", "(input, fill_value, *, " + factory + ", ~memory_format=None)");
    for (const char *fn : {"tensor.new_empty", "tensor.new_zeros", "tensor.new_ones"})
      add(fn, "(input, *size, " + factory + ")");
    add("tensor.new_full", "(input, size, fill_value, *, " + factory + ")");
    add("tensor.contiguous", "(input, ~memory_format=None)");
    add("tensor.t", "(input)");
    add("tensor.transpose", "(input, dim0, dim1)");
    add("tensor.permute", "(input, *dims)");
    add("tensor.unsqueeze", "(input, dim)");
    add("tensor.view", "(input, *size)");
    add("tensor.reshape", "(input, *shape)");
    add("tensor.flatten", "(input, start_dim=0, end_dim=-1)");
    add("tensor.to", "(input, *args=(), device=None, dtype=None, other=None, "
                     "~non_blocking=False, ~copy=False, ~memory_format=None)");
    for (const char *fn : {"tensor.float", "tensor.half", "tensor.bfloat16"})
      add(fn, "(input, ~memory_format=None)");
    return t;
  }();
  return table;
}

/// Host arguments are host values already (and defaults are host values).
HostValuePtr as_host_value(const HostValuePtr &v) {
  return v;
}

HostValuePtr host_tuple(std::vector<HostValuePtr> items) {
  return HostValue::make_tuple(std::move(items));
}

/// Binds host call arguments (a method's receiver first) to `sig`.
HostArgs bind_host(const Signature &sig, const std::vector<HostValuePtr> &positional,
                   const std::vector<std::pair<std::string, HostValuePtr>> &keywords,
                   const SourceSpan &span) {
  return HostArgs(sig, positional, keywords, span, as_host_value, host_tuple, as_host_value);
}

/// The dtype torch.full infers from its fill value when no dtype is given.
DType fill_dtype(const HostValue &fill) {
  if (fill.kind == Kind::Bool) return DType::Bool;
  if (fill.kind == Kind::Int) return DType::Int64;
  return DType::Float32;
}

} // namespace

HostValuePtr HostEvaluator::eval_call(const ast::Expr &expr) {
  HostValuePtr fn = eval(*expr.func);
  if (fn->kind != Kind::Function) return HostValue::make(Kind::Unknown);
  std::vector<HostValuePtr> args;
  bool spread = false; // *args of unknown length or **kwargs: not bound
  if (fn->self) args.push_back(fn->self);
  for (const auto &a : expr.elts) {
    if (a->kind != ast::ExprKind::Starred) {
      args.push_back(eval(*a));
      continue;
    }
    HostValuePtr spliced = eval(*a->value);
    if (spliced->kind != Kind::Tuple) spread = true;
    else args.insert(args.end(), spliced->elements.begin(), spliced->elements.end());
  }
  std::vector<std::pair<std::string, HostValuePtr>> keywords;
  for (const ast::Keyword &kw : expr.keywords) {
    if (kw.arg.empty()) spread = true;
    keywords.emplace_back(kw.arg, eval(*kw.value));
  }
  const std::string &name = fn->text;
  auto sig = host_signatures().find(name);
  if (name.rfind("hl.", 0) == 0 && name != "hl.specialize" && name != "hl.register_block_size" &&
      name != "hl.register_tunable")
    throw UserError("NotInsideKernel",
                    name + " can only be called inside a device loop (`for ... in hl.tile(...)`)",
                    expr.span);
  if (sig == host_signatures().end() || spread) {
    std::vector<HostValuePtr> plain(args.begin() + (fn->self ? 1 : 0), args.end());
    return eval_unbound_call(name, plain, expr.span);
  }
  HostArgs bound = bind_host(sig->second, args, keywords, expr.span);
  if (name == "hl.specialize") return specialize(bound["value"], expr.span);
  if (name == "hl.register_block_size")
    return register_block_size(expr, bound["min_or_max"], bound["max"]);
  if (name == "hl.register_tunable") return register_tunable(expr, bound["name"], bound["fragment"]);
  if (name.rfind("fragment.", 0) == 0) return make_fragment(name.substr(9), bound, expr.span);
  if (name == "tensor.size" || name == "tensor.stride") {
    const HostTensor &t = *fn->self->tensor;
    const auto &values = name == "tensor.size" ? t.sizes : t.strides;
    const HostValuePtr &dim = bound["dim"];
    if (dim->kind == Kind::None) {
      std::vector<HostValuePtr> out;
      for (const SymInt &s : values)
        out.push_back(HostValue::make_int(s));
      return HostValue::make_tuple(std::move(out));
    }
    if (dim->kind != Kind::Int || !sym_constant(dim->sym)) return HostValue::make(Kind::Unknown);
    return HostValue::make_int(
        values[normalize_dim(*sym_constant(dim->sym), values.size(), expr.span)]);
  }
  if (name == "tensor.numel") {
    SymInt n = sym_const(1);
    for (const SymInt &s : fn->self->tensor->sizes)
      n = sym_mul(n, s);
    return HostValue::make_int(n);
  }
  if (name == "tensor.dim")
    return HostValue::make_int(sym_const(static_cast<int64_t>(fn->self->tensor->sizes.size())));
  if (name.rfind("tensor.", 0) == 0 && name.rfind("tensor.new_", 0) != 0) {
    if (auto view = view_of(*fn->self->tensor, name.substr(7), bound, expr.span))
      return HostValue::make_tensor(std::make_shared<HostTensor>(*view));
    note_tensor_operation("Tensor." + name.substr(7), expr.span);
    return HostValue::make(Kind::Unknown);
  }
  return allocate(name, bound, expr.span);
}

/// An int host code computes from what only the run knows (the device's SM
/// count): once assigned to a variable, the kernel reads it from that variable
/// at launch, with this as its hint.
static const char *const kRuntimeInt = "<int known at run time>";
constexpr int64_t kRuntimeIntHint = 132;

/// torch.broadcast_tensors on tensors whose sizes broadcast by rule alone
/// (each pair equal or one of them 1, sizes 1 being specialized): views of
/// the common shape whose strides are read when the kernel launches.
static HostValuePtr broadcast_tensors(const std::vector<HostValuePtr> &args) {
  std::vector<SymInt> shape;
  for (const HostValuePtr &arg : args) {
    if (arg->kind != Kind::Tensor) return nullptr;
    const std::vector<SymInt> &sizes = arg->tensor->sizes;
    if (sizes.size() > shape.size()) shape.insert(shape.begin(), sizes.size() - shape.size(), sym_const(1));
    for (size_t i = 0; i < sizes.size(); ++i) {
      SymInt &out = shape[shape.size() - sizes.size() + i];
      if (sym_constant(sizes[i]) == 1) continue;
      if (sym_constant(out) == 1 || sym_equal(out, sizes[i])) {
        out = sizes[i];
        continue;
      }
      return nullptr;
    }
  }
  std::vector<HostValuePtr> views;
  for (const HostValuePtr &arg : args) {
    auto view = std::make_shared<HostTensor>(*arg->tensor);
    view->sizes = shape;
    view->strides.assign(shape.size(), sym_const(0));
    view->strides_known = false;
    views.push_back(HostValue::make_tensor(view));
  }
  return HostValue::make_tuple(std::move(views));
}

/// helion.cdiv and helion.next_power_of_2 (and triton's, which host code
/// may call too) on ints: symbolic like the operators, so that a block size
/// computed from a tunable stays known per config. nullptr for other calls.
static HostValuePtr size_arithmetic(const std::string &name, const std::vector<HostValuePtr> &args) {
  auto all_ints = [&](size_t count) {
    return args.size() == count &&
           std::all_of(args.begin(), args.end(), [](const HostValuePtr &a) { return a->kind == Kind::Int; });
  };
  if ((name == "helion.cdiv" || name == "tl.cdiv") && all_ints(2))
    return HostValue::make_int(sym_cdiv(args[0]->sym, args[1]->sym));
  if ((name == "helion.next_power_of_2" || name == "tl.next_power_of_2") && all_ints(1))
    return HostValue::make_int(sym_next_power_of_2(args[0]->sym));
  return nullptr;
}

HostValuePtr HostEvaluator::eval_unbound_call(const std::string &name,
                                              const std::vector<HostValuePtr> &args,
                                              const SourceSpan &span) {
  if (name == "builtins.len" && args.size() == 1 && args[0]->kind == Kind::Tuple)
    return HostValue::make_int(sym_const(static_cast<int64_t>(args[0]->elements.size())));
  if ((name == "builtins.min" || name == "builtins.max") && args.size() == 2 &&
      args[0]->kind == Kind::Int && args[1]->kind == Kind::Int)
    return HostValue::make_int(name == "builtins.min" ? sym_min(args[0]->sym, args[1]->sym)
                                                      : sym_max(args[0]->sym, args[1]->sym));
  if (name == "builtins.int" && args.size() == 1 && args[0]->kind == Kind::Int) return args[0];
  if (HostValuePtr rounded = size_arithmetic(name, args)) return rounded;
  // int(x[-1].item()): an int all the same, which the kernel reads at launch.
  if (name == "builtins.int" && args.size() == 1 && args[0]->kind == Kind::Unknown)
    return HostValue::make(Kind::Unknown, kRuntimeInt);
  if (name == "builtins.float" && args.size() == 1 && args[0]->kind == Kind::String) {
    const std::string &text = args[0]->text;
    char *end = nullptr;
    double value = std::strtod(text.c_str(), &end);
    if (end == text.c_str() || *end != '\0')
      throw UserError("TypeError", "could not convert string to float: '" + text + "'", span);
    return HostValue::make_float(value);
  }
  if (name == "builtins.float" && args.size() == 1)
    return HostValue::make_float(as_number(*args[0]));
  if (name == "math.sqrt" && args.size() == 1) {
    auto v = as_number(*args[0]);
    return HostValue::make_float(v ? std::optional<double>(std::sqrt(*v)) : std::nullopt);
  }
  if (name == "torch.promote_types" && args.size() == 2 && args[0]->kind == Kind::DType &&
      args[1]->kind == Kind::DType)
    return HostValue::make_dtype(promote(args[0]->dtype, args[1]->dtype));
  if (name == "torch.broadcast_tensors")
    if (HostValuePtr views = broadcast_tensors(args)) return views;
  // An int only the run knows: a variable it is assigned to is read at launch.
  if (name == "helion.runtime.get_num_sm") return HostValue::make(Kind::Unknown, kRuntimeInt);
  if (name.rfind("tensor.", 0) == 0)
    note_tensor_operation("Tensor." + name.substr(7), span);
  else if (name.rfind("torch.", 0) == 0)
    note_tensor_operation(name, span);
  return HostValue::make(Kind::Unknown);
}

/// `t` with the same elements in a new layout of `sizes`: contiguous when
/// `t` is; otherwise the strides are read from the tensor at run time.
static HostTensor relayout(const HostTensor &t, std::vector<SymInt> sizes) {
  HostTensor out = t;
  out.strides = contiguous_strides(sizes);
  out.strides_known = is_contiguous(t);
  out.sizes = std::move(sizes);
  return out;
}

/// The sizes a shape parameter holds (an int or a sequence of ints).
static std::optional<std::vector<SymInt>> sizes_of(const HostValue &v) {
  return shape_of(v);
}

std::optional<HostTensor> HostEvaluator::view_of(const HostTensor &t, const std::string &method,
                                                 const HostArgs &args, const SourceSpan &span) {
  int64_t rank = static_cast<int64_t>(t.sizes.size());
  auto int_arg = [&](const std::string &param) -> std::optional<int64_t> {
    const HostValuePtr &v = args[param];
    if (v->kind != Kind::Int) return std::nullopt;
    return sym_constant(v->sym);
  };
  if (method == "contiguous") {
    HostTensor out = t;
    out.strides = contiguous_strides(t.sizes);
    out.strides_known = true;
    return out;
  }
  if (method == "t" || method == "transpose" || method == "permute") {
    std::vector<int64_t> perm;
    for (int64_t i = 0; i < rank; ++i)
      perm.push_back(rank - 1 - i);
    if (method == "transpose") {
      auto a = int_arg("dim0"), b = int_arg("dim1");
      if (!a || !b) return std::nullopt;
      for (int64_t i = 0; i < rank; ++i)
        perm[i] = i;
      std::swap(perm[normalize_dim(*a, rank, span)], perm[normalize_dim(*b, rank, span)]);
    }
    if (method == "permute") {
      auto given = sizes_of(*args["dims"]);
      if (!given || static_cast<int64_t>(given->size()) != rank) return std::nullopt;
      for (int64_t i = 0; i < rank; ++i) {
        auto c = sym_constant((*given)[i]);
        if (!c) return std::nullopt;
        perm[i] = normalize_dim(*c, rank, span);
      }
    }
    HostTensor out = t;
    for (int64_t i = 0; i < rank; ++i) {
      out.sizes[i] = t.sizes[perm[i]];
      out.strides[i] = t.strides[perm[i]];
    }
    return out;
  }
  if (method == "unsqueeze") {
    auto d = int_arg("dim");
    if (!d) return std::nullopt;
    int64_t at = normalize_dim(*d, rank + 1, span);
    HostTensor out = t;
    SymInt stride = at < rank ? sym_mul(t.sizes[at], t.strides[at]) : sym_const(1);
    out.sizes.insert(out.sizes.begin() + at, sym_const(1));
    out.strides.insert(out.strides.begin() + at, stride);
    return out;
  }
  if (method == "view" || method == "reshape" || method == "flatten") {
    std::vector<SymInt> sizes;
    if (method == "flatten") {
      if (int_arg("start_dim") != 0 || int_arg("end_dim") != -1) return std::nullopt;
      sizes.push_back(sym_const(-1));
    } else {
      auto shape = sizes_of(*args[method == "view" ? "size" : "shape"]);
      if (!shape) return std::nullopt;
      sizes = *shape;
    }
    SymInt numel = sym_const(1), known = sym_const(1);
    for (const SymInt &s : t.sizes)
      numel = sym_mul(numel, s);
    int inferred = -1;
    for (size_t i = 0; i < sizes.size(); ++i) {
      if (sym_constant(sizes[i]) == -1) {
        if (inferred >= 0)
          throw UserError("ShapeMismatch", "only one dimension can be -1 in " + method, span);
        inferred = static_cast<int>(i);
      } else {
        known = sym_mul(known, sizes[i]);
      }
    }
    if (inferred >= 0)
      sizes[inferred] = sym_floordiv(numel, known);
    else if (sym_hint(known) != sym_hint(numel))
      throw UserError("ShapeMismatch",
                      "cannot " + method + " " + std::to_string(sym_hint(numel)) +
                          " elements into a shape of " + std::to_string(sym_hint(known)),
                      span);
    return relayout(t, std::move(sizes));
  }
  std::optional<DType> dtype = method == "float"      ? std::optional<DType>(DType::Float32)
                               : method == "half"     ? std::optional<DType>(DType::Float16)
                               : method == "bfloat16" ? std::optional<DType>(DType::BFloat16)
                                                      : std::nullopt;
  if (method == "to") {
    // to(dtype) and to(dtype=...): other forms (devices, tensors) are not modeled.
    const HostValuePtr &leading = args["args"];
    bool only_dtype_keyword = leading->kind == Kind::Tuple && leading->elements.empty() &&
                              args["device"]->kind == Kind::None &&
                              args["other"]->kind == Kind::None;
    if (leading->kind == Kind::DType && args["dtype"]->kind == Kind::None &&
        args["device"]->kind == Kind::None && args["other"]->kind == Kind::None)
      dtype = leading->dtype;
    else if (only_dtype_keyword && args["dtype"]->kind == Kind::DType)
      dtype = args["dtype"]->dtype;
  }
  if (dtype) {
    HostTensor out = relayout(t, t.sizes);
    out.dtype = *dtype;
    return out;
  }
  return std::nullopt;
}

HostValuePtr HostEvaluator::specialize(const HostValuePtr &value, const SourceSpan &span) {
  if (value->kind != Kind::Int)
    throw UserError("TypeError", "hl.specialize takes one int, such as x.size(1)", span);
  if (sym_constant(value->sym)) return value;
  if (!findings_)
    throw UserError("SpecializeOnDevice",
                    "hl.specialize belongs in host code, before the device loop", span);
  findings_->specializations.push_back(
      {sym_to_python(value->sym, SymSide::Host), sym_hint(value->sym)});
  return HostValue::make_int(sym_const(sym_hint(value->sym)));
}

HostValuePtr HostEvaluator::register_block_size(const ast::Expr &call,
                                               const HostValuePtr &min_or_max,
                                               const HostValuePtr &max) {
  if (!findings_)
    throw UserError("UnsupportedOp",
                    "hl.register_block_size belongs in host code, before the device loop; "
                    "pass its result to hl.tile(..., block_size=) inside",
                    call.span);
  bool two = max->kind != Kind::None;
  const HostValuePtr &upper = two ? max : min_or_max;
  if (upper->kind != Kind::Int)
    throw UserError("TypeError",
                    "hl.register_block_size takes sizes: an int or a size such as x.size(0)",
                    call.span);
  int64_t min = 1;
  if (two) {
    auto low = min_or_max->kind == Kind::Int ? sym_constant(min_or_max->sym) : std::nullopt;
    if (!low || *low < 1)
      throw UserError("IncorrectTileUsage",
                      "hl.register_block_size's minimum must be an int of at least 1 known at "
                      "compile time",
                      call.span);
    while (min < *low) min *= 2; // rounded up to a power of two
  }
  // The same call evaluated again (a host statement read twice) is the same block size.
  for (const RegisteredBlockSize &known : findings_->block_sizes)
    if (known.call == &call) return HostValue::make_int(known.symbol);
  std::string name = kRegisteredBlockSizePrefix + std::to_string(findings_->block_sizes.size());
  int64_t hint = std::max<int64_t>(min, std::min<int64_t>(64, std::max<int64_t>(sym_hint(upper->sym), 1)));
  RegisteredBlockSize registered{&call, sym_var(name, name, hint), min, upper->sym};
  findings_->block_sizes.push_back(registered);
  return HostValue::make_int(registered.symbol);
}

/// An ASCII Python identifier: what a keyword argument can be.
static bool is_identifier(const std::string &text) {
  if (text.empty() || std::isdigit(static_cast<unsigned char>(text[0]))) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

/// A fragment constructor's argument as the fragment rules read it: a
/// constant, a tuple of constants or an inner fragment.
static Json fragment_argument(const std::string &cls, const std::string &param,
                              const HostValue &value, const SourceSpan &span) {
  switch (value.kind) {
  case Kind::Int:
    if (auto constant = sym_constant(value.sym)) return Json(*constant);
    throw UserError("ConfigSpecFragmentWithSymInt",
                    cls + "'s " + param + " is " + sym_to_python(value.sym, SymSide::Host) +
                        ", a size known only when the kernel runs; a fragment's bounds must be "
                        "constants (hl.specialize the size to make it one)",
                    span);
  case Kind::Float:
    if (value.number) return Json(*value.number);
    break;
  case Kind::Bool:
    if (value.truth) return Json(*value.truth);
    break;
  case Kind::String:
    return Json(value.text);
  case Kind::None:
    return Json();
  case Kind::Tuple: {
    Json items = Json::array();
    for (const HostValuePtr &item : value.elements)
      items.push_back(fragment_argument(cls, param, *item, span));
    return items;
  }
  case Kind::Fragment:
    return value.fragment->describe();
  default:
    break;
  }
  throw UserError("RegisterTunableArgTypes",
                  cls + "'s " + param + " is " + value.describe() +
                      "; a fragment is built from constants written in the kernel",
                  span);
}

HostValuePtr HostEvaluator::make_fragment(const std::string &cls, const HostArgs &args,
                                          const SourceSpan &span) const {
  Json described = Json::object();
  for (const Parameter &param : host_signatures().at("fragment." + cls).params())
    described[param.name] = fragment_argument(cls, param.name, *args[param.name], span);
  try {
    return HostValue::make_fragment(helion::make_fragment(cls, described));
  } catch (const UserError &error) {
    throw UserError(error.kind(), error.what(), span);
  }
}

HostValuePtr HostEvaluator::register_tunable(const ast::Expr &call, const HostValuePtr &name,
                                             const HostValuePtr &fragment) {
  if (!findings_)
    throw UserError("UnsupportedOp",
                    "hl.register_tunable belongs in host code, before the device loop; bind its "
                    "result to a name there and use the name inside",
                    call.span);
  if (name->kind != Kind::String || fragment->kind != Kind::Fragment)
    throw UserError("RegisterTunableArgTypes",
                    "hl.register_tunable takes a name (a string constant) and a fragment from "
                    "helion.autotuner (e.g. PowerOfTwoFragment(16, 128)); got " +
                        name->describe() + " and " + fragment->describe(),
                    call.span);
  const std::string &key = name->text;
  if (!is_identifier(key))
    throw UserError("RegisterTunableArgTypes",
                    "hl.register_tunable's name '" + key +
                        "' is not a Python identifier; a config names it as a keyword "
                        "(helion.Config(" + key + "=...)), so use letters, digits and _",
                    call.span);
  const Fragment &space = *fragment->fragment;
  if (space.value_type() == Fragment::ValueType::Other)
    throw UserError("TunableTypeNotSupported",
                    "hl.register_tunable('" + key + "', " + space.repr() +
                        "): a tunable is an int, a float or a bool; use PowerOfTwoFragment, "
                        "IntegerFragment, BooleanFragment or an EnumFragment of numbers",
                    call.span);
  size_t index = 0;
  while (index < findings_->tunables.size() && findings_->tunables[index].name != key)
    ++index;
  if (index == findings_->tunables.size()) {
    findings_->tunables.push_back({{}, key, space});
  } else if (!(findings_->tunables[index].fragment == space)) {
    throw UserError("TunableNameConflict",
                    "hl.register_tunable('" + key + "', " + space.repr() +
                        ") was registered before with " +
                        findings_->tunables[index].fragment.repr() +
                        "; register each name once, or always with the same fragment",
                    call.span);
  }
  RegisteredTunable &tunable = findings_->tunables[index];
  if (std::find(tunable.calls.begin(), tunable.calls.end(), &call) == tunable.calls.end())
    tunable.calls.push_back(&call);
  // Floats reach the device as a scalar argument: the variable holds the
  // config's value when the kernel launches.
  if (space.value_type() == Fragment::ValueType::Float) return HostValue::make_float(std::nullopt);
  Json value = space.default_value();
  int64_t hint = value.is_boolean() ? (value.get<bool>() ? 1 : 0) : json_int(value);
  std::string symbol = tunable_symbol(index);
  return HostValue::make_int(sym_var(symbol, symbol, hint));
}

HostValuePtr HostEvaluator::allocate(const std::string &fn, const HostArgs &args,
                                     const SourceSpan &span) {
  auto tensor = std::make_shared<HostTensor>();
  bool like = fn.size() > 5 && fn.compare(fn.size() - 5, 5, "_like") == 0;
  bool method = fn.rfind("tensor.", 0) == 0;
  bool full = fn == "torch.full" || fn == "tensor.new_full" || fn == "torch.full_like";
  if (like) {
    const HostValuePtr &input = args["input"];
    if (input->kind != Kind::Tensor) {
      for (const auto &[name, value] : arguments_)
        if (value == input && inputs_.arg(name)) throw non_tensor_argument(*inputs_.arg(name), span);
      throw UserError("UnsupportedOp", fn + " needs a tensor as its first argument", span);
    }
    *tensor = *input->tensor;
    // torch keeps a dense input's layout; we only model the contiguous case.
    tensor->strides_known = is_contiguous(*tensor);
  } else {
    auto sizes = shape_of(*args["size"]);
    if (!sizes) return HostValue::make(Kind::Unknown);
    tensor->sizes = *sizes;
    tensor->strides = contiguous_strides(*sizes);
    const HostTensor *self = method ? args["input"]->tensor.get() : nullptr;
    tensor->dtype = self ? self->dtype : full ? fill_dtype(*args["fill_value"]) : DType::Float32;
    tensor->device = self ? self->device : "cpu";
  }
  const HostValuePtr &dtype = args["dtype"];
  if (dtype->kind == Kind::DType) tensor->dtype = dtype->dtype;
  else if (dtype->kind != Kind::None) return HostValue::make(Kind::Unknown);
  const HostValuePtr &device = args["device"];
  if (device->kind == Kind::Device || device->kind == Kind::String) tensor->device = device->text;
  return HostValue::make_tensor(tensor);
}

bool is_config_symbol(const std::string &kernel_name) {
  return kernel_name.rfind(kTunableSymbolPrefix, 0) == 0 ||
         kernel_name.rfind(kRegisteredBlockSizePrefix, 0) == 0;
}

/// next_power_of_2 of a size known only at run time has no spelling in
/// kernel code: the kernel reads the host variable holding it instead. Of
/// the config's own choices it folds to a constant per config.
static bool needs_host_variable(const SymInt &s) {
  bool rounds = false;
  std::function<void(const SymInt &)> visit = [&](const SymInt &n) {
    if (!n) return;
    rounds = rounds || n->op == SymNode::Op::NextPow2;
    visit(n->lhs);
    visit(n->rhs);
  };
  visit(s);
  if (!rounds) return false;
  std::vector<std::string> variables = sym_variables(s);
  return !std::all_of(variables.begin(), variables.end(), is_config_symbol);
}

void HostEvaluator::assign(const ast::Expr &target, HostValuePtr value) {
  using EK = ast::ExprKind;
  if (target.kind == EK::Name) {
    if (value->kind == Kind::Unknown && value->text == kRuntimeInt)
      value = HostValue::make_int(sym_var(target.id, target.id, kRuntimeIntHint));
    if (value->kind == Kind::Int && needs_host_variable(value->sym))
      value = HostValue::make_int(sym_var(target.id, target.id, sym_hint(value->sym)));
    env_[target.id] = std::move(value);
    return;
  }
  if (target.kind == EK::Tuple || target.kind == EK::List) {
    if (value->kind == Kind::Tuple && value->elements.size() != target.elts.size())
      throw UserError("ShapeMismatch",
                      "cannot unpack " + std::to_string(value->elements.size()) + " values into " +
                          std::to_string(target.elts.size()) + " names",
                      target.span);
    for (size_t i = 0; i < target.elts.size(); ++i)
      assign(*target.elts[i],
             value->kind == Kind::Tuple ? value->elements[i] : HostValue::make(Kind::Unknown));
    return;
  }
  // Subscript and attribute stores on host leave variables' types unchanged.
}

static SymInt size_symbol(const ArgSpec &arg, size_t dim, bool is_stride, bool static_shapes) {
  int64_t value = is_stride ? arg.stride.at(dim) : arg.shape.at(dim);
  // Sizes 0 and 1 are always specialized: they change which code is valid.
  if (static_shapes || (!is_stride && value <= 1)) return sym_const(value);
  std::string what = is_stride ? "stride" : "size";
  return sym_var(arg.name + "_" + what + "_" + std::to_string(dim),
                 arg.name + "." + what + "(" + std::to_string(dim) + ")", value);
}

/// Without static shapes, sizes of equal value share one symbol (the key the
/// Python layer computes records which sizes are equal), so tensors of
/// matching shapes type-check against each other.
using SizeSymbols = std::map<int64_t, SymInt>;

static HostValuePtr argument_value(const ArgSpec &arg, const CompileSettings &settings,
                                   SizeSymbols &sizes) {
  switch (arg.kind) {
  case ArgSpec::Kind::Tensor: {
    auto t = std::make_shared<HostTensor>();
    t->dtype = arg.dtype;
    t->device = arg.device;
    for (size_t d = 0; d < arg.shape.size(); ++d) {
      SymInt size = size_symbol(arg, d, false, settings.static_shapes);
      if (!sym_constant(size)) size = sizes.emplace(arg.shape[d], size).first->second;
      t->sizes.push_back(size);
      t->strides.push_back(size_symbol(arg, d, true, settings.static_shapes));
    }
    return HostValue::make_tensor(t);
  }
  case ArgSpec::Kind::Int:
    return HostValue::make_int(
        sym_var(arg.name, arg.name, arg.value.is_number_integer() ? json_int(arg.value) : 2));
  case ArgSpec::Kind::Float:
    return HostValue::make_float(std::nullopt);
  case ArgSpec::Kind::Bool:
    return HostValue::make_bool(std::nullopt);
  case ArgSpec::Kind::Constexpr: {
    const Json &v = arg.value;
    if (v.is_boolean()) return HostValue::make_bool(v.get<bool>());
    if (v.is_number_integer()) return HostValue::make_int(sym_const(json_int(v)));
    if (v.is_number()) return HostValue::make_float(json_number(v));
    // None is part of the specialization: `if bias is not None` is decided
    // when compiling.
    if (v.is_null()) return HostValue::make(HostValue::Kind::None);
    if (v.is_string())
      return HostValue::make(HostValue::Kind::String, v.get_ref<const std::string &>());
    return HostValue::make(HostValue::Kind::Unknown);
  }
  case ArgSpec::Kind::Callable:
    return HostValue::make(HostValue::Kind::Function, kCallablePrefix + arg.name);
  case ArgSpec::Kind::Other:
    return HostValue::make(HostValue::Kind::Unknown);
  }
  return HostValue::make(HostValue::Kind::Unknown);
}

HostValuePtr captured_value(const ArgSpec &spec, const CompileSettings &settings) {
  SizeSymbols own_sizes;
  return argument_value(spec, settings, own_sizes);
}

const ast::Stmt &find_kernel_function(const ast::Module &module, const std::string &name) {
  const ast::Stmt *found = nullptr;
  for (const auto &s : module.body) {
    if (s->kind != ast::StmtKind::FunctionDef) continue;
    if (!found || s->name == name) found = s.get();
  }
  if (!found)
    throw UserError("UnsupportedSyntax",
                    "the kernel's source holds no function definition; define the kernel with a "
                    "`def` statement");
  return *found;
}

void check_kernel_signature(const ast::Stmt &fn) {
  const ast::Arguments &a = fn.args;
  if (a.vararg || a.kwarg || !a.kwonlyargs.empty()) {
    SourceSpan span = a.vararg ? a.vararg->span : a.kwarg ? a.kwarg->span : a.kwonlyargs[0].span;
    throw UserError("UnsupportedSignature",
                    "*args, **kwargs and keyword-only parameters are not supported in kernels; "
                    "pass each value as its own positional parameter",
                    span);
  }
}

/// True when `stmts` (recursively) hold an hl.tile / hl.grid loop.
static bool contains_device_loop(const std::vector<ast::StmtPtr> &stmts, HostEvaluator &eval) {
  for (const auto &s : stmts) {
    if (s->kind == ast::StmtKind::For && is_hl_loop_call(*s->test, eval)) return true;
    if (contains_device_loop(s->body, eval) || contains_device_loop(s->orelse, eval)) return true;
  }
  return false;
}

/// Every name assigned anywhere in `stmts`.
static void assigned_names(const std::vector<ast::StmtPtr> &stmts, std::set<std::string> &out);

static void target_names(const ast::Expr &target, std::set<std::string> &out) {
  if (target.kind == ast::ExprKind::Name) out.insert(target.id);
  for (const auto &e : target.elts)
    target_names(*e, out);
}

static void assigned_names(const std::vector<ast::StmtPtr> &stmts, std::set<std::string> &out) {
  for (const auto &s : stmts) {
    for (const auto &t : s->targets)
      target_names(*t, out);
    assigned_names(s->body, out);
    assigned_names(s->orelse, out);
  }
}

static void propagate_host_stmt(const ast::Stmt &s, HostEvaluator &eval,
                                std::map<std::string, HostValuePtr> &env);

/// The value `name` holds after a host `if` whose condition is known only
/// when the kernel runs, from its values at the end of either branch: the
/// same value, or a scalar of one kind that the kernel then reads from the
/// host variable at launch (`num_groups = H // Hk` or `1`), else unknown.
static HostValuePtr merged_value(const std::string &name, const HostValuePtr &a,
                                 const HostValuePtr &b) {
  using Kind = HostValue::Kind;
  if (a == b) return a;
  if (!a || !b || a->kind != b->kind) return HostValue::make(Kind::Unknown);
  switch (a->kind) {
  case Kind::Int:
    if (sym_equal(a->sym, b->sym)) return a;
    return HostValue::make_int(sym_var(name, name, sym_hint(a->sym)));
  case Kind::Float:
    if (a->number && b->number && *a->number == *b->number) return a;
    return HostValue::make_float(std::nullopt);
  case Kind::Bool:
    if (a->truth && b->truth && *a->truth == *b->truth) return a;
    return HostValue::make_bool(std::nullopt);
  case Kind::DType:
    if (a->dtype == b->dtype) return a;
    return HostValue::make(Kind::Unknown);
  default:
    return HostValue::make(Kind::Unknown);
  }
}

/// A host `if` whose condition only the run decides: both branches are
/// followed on copies of the variables, and what they assign is merged.
static void merge_host_branches(const ast::Stmt &s, HostEvaluator &eval,
                                std::map<std::string, HostValuePtr> &env) {
  std::set<std::string> names;
  assigned_names(s.body, names);
  assigned_names(s.orelse, names);
  auto follow = [&](const std::vector<ast::StmtPtr> &branch) {
    std::map<std::string, HostValuePtr> copy = env;
    HostFindings scratch; // what a branch registers would hold on one path only
    HostEvaluator branch_eval = eval.with_env(copy, &scratch);
    try {
      for (const auto &inner : branch)
        propagate_host_stmt(*inner, branch_eval, copy);
    } catch (const UserError &) {
      for (const std::string &n : names)
        copy[n] = HostValue::make(HostValue::Kind::Unknown);
    }
    return copy;
  };
  std::map<std::string, HostValuePtr> then_env = follow(s.body), else_env = follow(s.orelse);
  for (const std::string &n : names) {
    auto a = then_env.find(n), b = else_env.find(n);
    env[n] = merged_value(n, a == then_env.end() ? nullptr : a->second,
                          b == else_env.end() ? nullptr : b->second);
  }
}

static void propagate_host_stmt(const ast::Stmt &s, HostEvaluator &eval,
                                std::map<std::string, HostValuePtr> &env) {
  using SK = ast::StmtKind;
  switch (s.kind) {
  case SK::Assign: {
    HostValuePtr v = eval.eval(*s.value);
    for (const auto &t : s.targets)
      eval.assign(*t, v);
    return;
  }
  case SK::AnnAssign:
    if (s.value) eval.assign(*s.targets[0], eval.eval(*s.value));
    return;
  case SK::AugAssign: {
    if (s.targets[0]->kind != ast::ExprKind::Name) return;
    HostValuePtr lhs = eval.eval(*s.targets[0]);
    HostValuePtr rhs = eval.eval(*s.value);
    HostValuePtr result = HostValue::make(HostValue::Kind::Unknown);
    if (lhs->kind == HostValue::Kind::Int && rhs->kind == HostValue::Kind::Int) {
      if (s.op == "Add") result = HostValue::make_int(sym_add(lhs->sym, rhs->sym));
      if (s.op == "Sub") result = HostValue::make_int(sym_sub(lhs->sym, rhs->sym));
      if (s.op == "Mult") result = HostValue::make_int(sym_mul(lhs->sym, rhs->sym));
    }
    env[s.targets[0]->id] = result;
    return;
  }
  case SK::Expr:
  case SK::Assert:
    eval.eval(s.kind == SK::Expr ? *s.value : *s.test);
    return;
  case SK::If: {
    // A condition known at compile time (x.ndim == 2) picks its branch.
    HostValuePtr test = eval.eval(*s.test);
    if (test->kind == HostValue::Kind::Bool && test->truth) {
      for (const auto &inner : *test->truth ? s.body : s.orelse)
        propagate_host_stmt(*inner, eval, env);
      return;
    }
    merge_host_branches(s, eval, env);
    return;
  }
  case SK::For:
  case SK::While: {
    // Host control flow runs as written; what it assigns is unknown afterwards.
    std::set<std::string> names;
    assigned_names(s.body, names);
    assigned_names(s.orelse, names);
    if (s.kind == SK::For) target_names(*s.targets[0], names);
    for (const std::string &n : names)
      env[n] = HostValue::make(HostValue::Kind::Unknown);
    return;
  }
  default:
    return;
  }
}

/// Rejects device code that uses as a tensor an argument that is not one and
/// that host code left as it came. None is left to lowering: an optional
/// argument is used under `if arg is not None`, which lowering decides.
static void check_device_arguments(const HostProgram &program, const KernelInputs &inputs,
                                   const std::map<std::string, HostValuePtr> &arguments) {
  std::set<std::string> assigned;
  for (const ast::Stmt *loop : program.grid_loops) {
    assigned_names(loop->body, assigned);
    target_names(*loop->targets[0], assigned);
  }
  for (const ArgSpec &arg : inputs.args) {
    if (arg.kind == ArgSpec::Kind::Tensor || arg.type == "NoneType" || assigned.count(arg.name))
      continue;
    if (program.env.at(arg.name) != arguments.at(arg.name)) continue;
    for (const ast::Stmt *loop : program.grid_loops)
      if (const ast::Expr *use = find_tensor_use(*loop, arg))
        throw non_tensor_argument(arg, use->span);
  }
}

/// `hl.barrier()` as a statement.
static bool is_barrier(const ast::Stmt &s, HostEvaluator &eval) {
  if (s.kind != ast::StmtKind::Expr || s.value->kind != ast::ExprKind::Call) return false;
  const ast::Expr &func = *s.value->func;
  bool named = (func.kind == ast::ExprKind::Attribute || func.kind == ast::ExprKind::Name) &&
               func.id == "barrier";
  if (!named) return false;
  try {
    HostValuePtr fn = eval.eval(func);
    return fn->kind == Kind::Function && fn->text == "hl.barrier";
  } catch (const UserError &) {
    return false; // not ours: the statement reports its own error where it runs
  }
}

/// A barrier waits for the loops before it and holds back the ones after:
/// it belongs between two top-level device loops, with no arguments.
static void check_barrier(const ast::Stmt &barrier, const HostProgram &program) {
  const ast::Expr &call = *barrier.value;
  if (!call.elts.empty() || !call.keywords.empty())
    throw UserError("UnsupportedOp", "hl.barrier() takes no arguments", call.span);
  if (program.grid_loops.empty())
    throw UserError("UnsupportedOp",
                    "hl.barrier() before the first device loop has nothing to wait for; put it "
                    "between two top-level device loops",
                    barrier.span);
}

HostProgram analyze_host(const ast::Module &module, const KernelInputs &inputs) {
  HostProgram program;
  const ast::Stmt &fn = find_kernel_function(module, inputs.context.kernel_name);
  program.function = &fn;
  check_kernel_signature(fn);
  if (fn.args.posonlyargs.size() + fn.args.args.size() != inputs.args.size())
    throw InternalError("argument specs do not match the kernel's parameters");
  SizeSymbols sizes;
  for (const ArgSpec &arg : inputs.args)
    program.env[arg.name] = argument_value(arg, inputs.settings, sizes);
  const std::map<std::string, HostValuePtr> arguments = program.env;

  HostEvaluator eval(inputs, program.env, &program.findings);
  eval.set_arguments(arguments);
  std::map<std::string, HostValuePtr> env_after;
  const ast::Stmt *pending_barrier = nullptr; ///< an hl.barrier() since the last device loop
  for (const auto &stmt : fn.body) {
    const ast::Stmt &s = *stmt;
    bool is_device_loop = s.kind == ast::StmtKind::For && is_hl_loop_call(*s.test, eval);
    if (s.kind == ast::StmtKind::For && s.test->kind == ast::ExprKind::Call) {
      HostValuePtr fn = eval.eval(*s.test->func);
      if (fn->kind == Kind::Function && fn->text == "hl.jagged_tile")
        throw UserError("InvalidJaggedTileUsage",
                        "hl.jagged_tile makes a loop inside a device loop, over lengths loaded "
                        "there; the outermost loop is hl.tile(...) or hl.grid(...)",
                        s.span);
    }
    if (is_device_loop) {
      // Several device loops run in one kernel, each on programs of its own;
      // host code between them would have nowhere to run.
      if (!program.after.empty())
        throw UserError("TopLevelStatementBetweenLoops",
                        "host code between two device loops cannot run inside the kernel "
                        "that runs both; move it before the first loop or after the last (only "
                        "hl.barrier() may stand between them)",
                        program.after.front()->span);
      program.grid_loops.push_back(&s);
      program.barrier_before.push_back(pending_barrier);
      pending_barrier = nullptr;
      continue;
    }
    if (is_barrier(s, eval)) {
      // Host code before it (program.after) is refused at the next loop.
      check_barrier(s, program);
      pending_barrier = &s;
      continue;
    }
    if (contains_device_loop(s.body, eval) || contains_device_loop(s.orelse, eval))
      throw UserError("NestedGridLoop",
                      "a device loop (hl.tile) must be a top-level statement of the kernel, not "
                      "nested in host control flow",
                      s.span);
    (program.grid_loops.empty() ? program.before : program.after).push_back(&s);
    if (program.grid_loops.empty()) propagate_host_stmt(s, eval, program.env);
  }
  if (pending_barrier)
    throw UserError("UnsupportedOp",
                    "hl.barrier() after the last device loop has nothing to hold back; put it "
                    "between two top-level device loops",
                    pending_barrier->span);
  if (program.grid_loops.empty())
    throw UserError("NoDeviceLoopsInKernel",
                    "the kernel has no device loop; put the work in `for tile in hl.tile(...)`",
                    fn.span);
  check_device_arguments(program, inputs, arguments);
  return program;
}

} // namespace helion
