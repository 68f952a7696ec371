#include "types/KernelInputs.h"

#include <algorithm>
#include <set>

namespace helion {

static ArgSpec::Kind arg_kind(const std::string &kind) {
  if (kind == "tensor") return ArgSpec::Kind::Tensor;
  if (kind == "int") return ArgSpec::Kind::Int;
  if (kind == "float") return ArgSpec::Kind::Float;
  if (kind == "bool") return ArgSpec::Kind::Bool;
  if (kind == "constexpr") return ArgSpec::Kind::Constexpr;
  if (kind == "callable") return ArgSpec::Kind::Callable;
  return ArgSpec::Kind::Other;
}

/// The Python type of a non-tensor argument, from the request or its kind.
static std::string python_type(const Json &arg, ArgSpec::Kind kind) {
  if (json_field(arg, "type").is_string())
    return json_field(arg, "type").get_ref<const std::string &>();
  switch (kind) {
  case ArgSpec::Kind::Tensor:
    return "torch.Tensor";
  case ArgSpec::Kind::Int:
    return "int";
  case ArgSpec::Kind::Float:
    return "float";
  case ArgSpec::Kind::Bool:
    return "bool";
  case ArgSpec::Kind::Callable:
    return "function";
  case ArgSpec::Kind::Constexpr:
  case ArgSpec::Kind::Other:
    break;
  }
  const Json &value = json_field(arg, "value");
  if (value.is_null()) return "NoneType";
  if (value.is_boolean()) return "bool";
  if (value.is_number_integer()) return "int";
  if (value.is_number()) return "float";
  if (value.is_string()) return "str";
  return "object";
}

static std::vector<int64_t> int_list(const Json &json) {
  std::vector<int64_t> out;
  if (!json.is_array()) return out;
  for (const Json &v : json.get_ref<const Json::array_t &>())
    out.push_back(json_int(v));
  return out;
}

static std::shared_ptr<const CallableSpec> callable_spec(const Json &json, int depth);

/// A string field, or "" when `json` has none.
static std::string string_field(const Json &json, const std::string &key) {
  const Json &value = json_field(json, key);
  return value.is_string() ? value.get<std::string>() : std::string();
}

/// A global as the request describes it: {"kind": "module", "name": ...},
/// {"kind": "constant", "value": ...}, {"kind": "function", "source": ...}, ...
static GlobalSpec global_spec(const Json &json) {
  using Kind = GlobalSpec::Kind;
  static const std::pair<const char *, Kind> kinds[] = {
      {"module", Kind::Module},     {"constant", Kind::Constant},
      {"dtype", Kind::DType},       {"function", Kind::Function},
      {"fragment", Kind::Fragment}, {"fragment_class", Kind::FragmentClass},
      {"triton_function", Kind::TritonFunction}};
  GlobalSpec global;
  std::string kind = string_field(json, "kind");
  for (const auto &[text, value] : kinds)
    if (kind == text) global.kind = value;
  bool named = global.kind == Kind::Module || global.kind == Kind::DType ||
               global.kind == Kind::FragmentClass || global.kind == Kind::TritonFunction;
  if (named && !json_field(json, "name").is_string()) global.kind = Kind::Other;
  global.name = string_field(json, "name");
  global.value = json_field(json, "value");
  if (json_field(json, "source").is_string()) global.source = string_field(json, "source");
  global.fragment = json_field(json, "fragment");
  global.reads = json_field(json, "reads");
  return global;
}

static bool is_ascii_identifier(const std::string &name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  return true;
}

/// An argument (or a callable's capture) as the request describes it.
static ArgSpec arg_spec(const Json &a, const std::string &name, int depth) {
  ArgSpec spec;
  spec.name = name;
  spec.kind = arg_kind(json_field(a, "kind").get_ref<const std::string &>());
  if (spec.kind == ArgSpec::Kind::Tensor) {
    auto dtype = dtype_from_name(json_field(a, "dtype").get_ref<const std::string &>());
    if (!dtype)
      throw UserError("UnsupportedOp", "argument '" + spec.name + "' has dtype " +
                                           json_field(a, "dtype").get_ref<const std::string &>() +
                                           ", which helion kernels do not support");
    spec.dtype = *dtype;
    spec.shape = int_list(json_field(a, "shape"));
    spec.stride = int_list(json_field(a, "stride"));
    if (spec.shape.size() != spec.stride.size())
      throw InternalError("the request gives tensor '" + spec.name + "' " +
                          std::to_string(spec.shape.size()) + " sizes but " +
                          std::to_string(spec.stride.size()) + " strides");
    spec.device = json_field(a, "device").is_string()
                      ? json_field(a, "device").get_ref<const std::string &>()
                      : "cpu";
  }
  if (a.contains("value")) spec.value = json_field(a, "value");
  spec.type = python_type(a, spec.kind);
  if (spec.kind == ArgSpec::Kind::Callable) spec.callable = callable_spec(a, depth + 1);
  return spec;
}

/// Callables nest (a function an epilogue calls); the Python layer stops at
/// a depth of 8, so deeper requests are malformed.
constexpr int kMaxCallableDepth = 16;

static std::shared_ptr<const CallableSpec> callable_spec(const Json &json, int depth) {
  if (depth > kMaxCallableDepth)
    throw InternalError("the request nests callables deeper than " +
                        std::to_string(kMaxCallableDepth));
  auto spec = std::make_shared<CallableSpec>();
  spec->qualname = json_field(json, "qualname").is_string()
                       ? json_field(json, "qualname").get_ref<const std::string &>()
                       : "<callable>";
  spec->function_name = json_field(json, "function_name").is_string()
                            ? json_field(json, "function_name").get_ref<const std::string &>()
                            : "<lambda>";
  spec->is_lambda =
      json_field(json, "is_lambda").is_boolean() && json_field(json, "is_lambda").get<bool>();
  if (json_field(json, "source").is_string())
    spec->source = json_field(json, "source").get_ref<const std::string &>();
  if (json_field(json, "captures").is_object())
    for (const auto &[name, c] : json_field(json, "captures").get_ref<const Json::object_t &>()) {
      if (!c.is_object() || !json_field(c, "kind").is_string()) continue;
      Capture capture;
      // The name is written into the host code that reads the capture.
      if (!is_ascii_identifier(name)) continue;
      capture.name = name;
      if (json_field(c, "cell").is_number_integer())
        capture.access =
            ".__closure__[" + std::to_string(json_int(json_field(c, "cell"))) + "].cell_contents";
      else
        capture.access = ".__globals__['" + name + "']";
      const std::string &kind = json_field(c, "kind").get_ref<const std::string &>();
      bool is_value = kind == "tensor" || kind == "callable" ||
                      (json_field(c, "cell").is_number_integer() &&
                       (kind == "int" || kind == "float" || kind == "bool" || kind == "constexpr"));
      if (is_value)
        capture.value = arg_spec(c, name, depth);
      else
        capture.global = global_spec(c);
      spec->captures.push_back(std::move(capture));
    }
  return spec;
}

std::vector<std::pair<std::string, GlobalSpec>> read_globals(const Json &globals) {
  std::vector<std::pair<std::string, GlobalSpec>> out;
  for (const auto &[name, global] : globals.get_ref<const Json::object_t &>()) {
    if (!global.is_object())
      throw InternalError("malformed request: global '" + name + "' is not described");
    out.emplace_back(name, global_spec(global));
  }
  return out;
}

KernelInputs KernelInputs::from_request(const Json &request) {
  KernelInputs in;
  in.context = SourceContext::from_request(request);
  for (const Json &a : json_field(request, "args").get_ref<const Json::array_t &>())
    in.args.push_back(arg_spec(a, json_field(a, "name").get_ref<const std::string &>(), 0));
  if (request.contains("globals")) in.globals = read_globals(json_field(request, "globals"));
  if (request.contains("names") && json_field(request, "names").is_array())
    for (const Json &name : json_field(request, "names").get_ref<const Json::array_t &>())
      if (name.is_string()) in.names.push_back(name.get_ref<const std::string &>());
  const Json &settings = json_field(request, "settings");
  if (settings.is_object()) {
    if (settings.contains("static_shapes"))
      in.settings.static_shapes = json_field(settings, "static_shapes").get<bool>();
    if (json_field(settings, "index_dtype").is_string())
      in.settings.index_dtype = json_field(settings, "index_dtype").get_ref<const std::string &>();
    if (json_field(settings, "target").is_string())
      in.settings.interpreter =
          json_field(settings, "target").get_ref<const std::string &>() == "interpreter";
    if (json_field(settings, "dot_precision").is_string())
      in.settings.dot_precision =
          json_field(settings, "dot_precision").get_ref<const std::string &>();
    if (json_field(settings, "persistent_reserved_sms").is_number_integer())
      in.settings.persistent_reserved_sms =
          std::max<int64_t>(json_int(json_field(settings, "persistent_reserved_sms")), 0);
  }
  return in;
}

const ArgSpec *KernelInputs::arg(const std::string &name) const {
  for (const ArgSpec &a : args)
    if (a.name == name) return &a;
  return nullptr;
}

const GlobalSpec *KernelInputs::global(const std::string &name) const {
  for (const auto &[global_name, global] : globals)
    if (global_name == name) return &global;
  return nullptr;
}

bool is_tensor_attribute(const std::string &attr) {
  static const std::set<std::string> attributes = {
      "shape",     "dtype",    "device",    "ndim",      "T",        "size",       "stride",
      "numel",     "dim",      "view",      "reshape",   "flatten",  "contiguous", "t",
      "transpose", "permute",  "unsqueeze", "squeeze",   "expand",   "to",         "float",
      "half",      "bfloat16", "new_empty", "new_zeros", "new_ones", "new_full"};
  return attributes.count(attr) > 0;
}

UserError non_tensor_argument(const ArgSpec &arg, const SourceSpan &span) {
  return UserError("InvalidArgument",
                   "argument '" + arg.name +
                       "' must be a torch.Tensor (the kernel uses it as one here), got " +
                       arg.type + "; pass a tensor",
                   span);
}

static bool is_name(const ast::ExprPtr &e, const std::string &name) {
  return e && e->kind == ast::ExprKind::Name && e->id == name;
}

/// Functions whose first argument is a tensor (hl.load(x, ...), torch.empty_like(x)).
static bool takes_tensor_first(const ast::Expr &call) {
  if (!call.func || call.func->kind != ast::ExprKind::Attribute) return false;
  const std::string &fn = call.func->id;
  static const std::set<std::string> functions = {
      "load",       "store",     "atomic_add", "atomic_max",  "atomic_min",
      "atomic_and", "atomic_or", "atomic_xor", "atomic_xchg", "atomic_cas"};
  bool like = fn.size() > 5 && fn.compare(fn.size() - 5, 5, "_like") == 0;
  return like || functions.count(fn) > 0;
}

namespace {

/// Finds the uses of one argument as a tensor.
struct TensorUseFinder {
  const std::string &name;
  bool indexing_counts; ///< false for containers, which Python code indexes too

  const ast::Expr *in(const std::vector<ast::ExprPtr> &exprs) const {
    for (const ast::ExprPtr &e : exprs)
      if (const ast::Expr *use = in(e)) return use;
    return nullptr;
  }

  const ast::Expr *in(const ast::ExprPtr &e) const {
    if (!e) return nullptr;
    using EK = ast::ExprKind;
    if (e->kind == EK::Subscript && indexing_counts && is_name(e->value, name))
      return e->value.get();
    if (e->kind == EK::Attribute && is_name(e->value, name) && is_tensor_attribute(e->id))
      return e->value.get();
    if (e->kind == EK::Call && !e->elts.empty() && is_name(e->elts[0], name) &&
        takes_tensor_first(*e))
      return e->elts[0].get();
    if (e->kind == EK::Lambda) return nullptr; // its parameters may shadow the name
    for (const ast::ExprPtr *child :
         {&e->value, &e->slice, &e->left, &e->right, &e->extra, &e->func})
      if (const ast::Expr *use = in(*child)) return use;
    for (const auto *list : {&e->elts, &e->keys, &e->comparators})
      if (const ast::Expr *use = in(*list)) return use;
    for (const ast::Keyword &k : e->keywords)
      if (const ast::Expr *use = in(k.value)) return use;
    return nullptr;
  }

  const ast::Expr *in(const ast::Stmt &stmt) const {
    if (const ast::Expr *use = in(stmt.targets)) return use;
    for (const ast::ExprPtr *child : {&stmt.value, &stmt.test, &stmt.msg})
      if (const ast::Expr *use = in(*child)) return use;
    for (const auto *block : {&stmt.body, &stmt.orelse})
      for (const ast::StmtPtr &s : *block)
        if (const ast::Expr *use = in(*s)) return use;
    return nullptr;
  }
};

} // namespace

const ast::Expr *find_tensor_use(const ast::Stmt &stmt, const ArgSpec &arg) {
  static const std::set<std::string> containers = {"list", "tuple", "dict", "torch.Size"};
  return TensorUseFinder{arg.name, !containers.count(arg.type)}.in(stmt);
}

} // namespace helion
