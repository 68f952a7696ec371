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
  if (arg["type"].is_string()) return arg["type"].as_string();
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
  const Json &value = arg["value"];
  if (value.is_null()) return "NoneType";
  if (value.is_bool()) return "bool";
  if (value.is_int()) return "int";
  if (value.is_number()) return "float";
  if (value.is_string()) return "str";
  return "object";
}

static std::vector<int64_t> int_list(const Json &json) {
  std::vector<int64_t> out;
  if (!json.is_array()) return out;
  for (const Json &v : json.as_array())
    out.push_back(v.as_int());
  return out;
}

static std::shared_ptr<const CallableSpec> callable_spec(const Json &json, int depth);

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
  spec.kind = arg_kind(a["kind"].as_string());
  if (spec.kind == ArgSpec::Kind::Tensor) {
    auto dtype = dtype_from_name(a["dtype"].as_string());
    if (!dtype)
      throw UserError("UnsupportedOp", "argument '" + spec.name + "' has dtype " +
                                           a["dtype"].as_string() +
                                           ", which helion kernels do not support");
    spec.dtype = *dtype;
    spec.shape = int_list(a["shape"]);
    spec.stride = int_list(a["stride"]);
    if (spec.shape.size() != spec.stride.size())
      throw InternalError("the request gives tensor '" + spec.name + "' " +
                          std::to_string(spec.shape.size()) + " sizes but " +
                          std::to_string(spec.stride.size()) + " strides");
    spec.device = a["device"].is_string() ? a["device"].as_string() : "cpu";
  }
  if (a.contains("value")) spec.value = a["value"];
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
  spec->qualname = json["qualname"].is_string() ? json["qualname"].as_string() : "<callable>";
  spec->function_name =
      json["function_name"].is_string() ? json["function_name"].as_string() : "<lambda>";
  spec->is_lambda = json["is_lambda"].is_bool() && json["is_lambda"].as_bool();
  if (json["source"].is_string()) spec->source = json["source"].as_string();
  if (json["captures"].is_object())
    for (const auto &[name, c] : json["captures"].as_object()) {
      if (!c.is_object() || !c["kind"].is_string()) continue;
      Capture capture;
      // The name is written into the host code that reads the capture.
      if (!is_ascii_identifier(name)) continue;
      capture.name = name;
      if (c["cell"].is_int())
        capture.access = ".__closure__[" + std::to_string(c["cell"].as_int()) + "].cell_contents";
      else
        capture.access = ".__globals__['" + name + "']";
      const std::string &kind = c["kind"].as_string();
      bool is_value = kind == "tensor" || kind == "callable" ||
                      (c["cell"].is_int() && (kind == "int" || kind == "float" || kind == "bool" ||
                                              kind == "constexpr"));
      if (is_value)
        capture.value = arg_spec(c, name, depth);
      else
        capture.global = c;
      spec->captures.push_back(std::move(capture));
    }
  return spec;
}

KernelInputs KernelInputs::from_request(const Json &request) {
  KernelInputs in;
  in.context = SourceContext::from_request(request);
  for (const Json &a : request["args"].as_array())
    in.args.push_back(arg_spec(a, a["name"].as_string(), 0));
  in.globals = request.contains("globals") ? request["globals"] : Json::object();
  if (request.contains("names") && request["names"].is_array())
    for (const Json &name : request["names"].as_array())
      if (name.is_string()) in.names.push_back(name.as_string());
  const Json &settings = request["settings"];
  if (settings.is_object()) {
    if (settings.contains("static_shapes"))
      in.settings.static_shapes = settings["static_shapes"].as_bool();
    if (settings["index_dtype"].is_string())
      in.settings.index_dtype = settings["index_dtype"].as_string();
    if (settings["target"].is_string())
      in.settings.interpreter = settings["target"].as_string() == "interpreter";
    if (settings["dot_precision"].is_string())
      in.settings.dot_precision = settings["dot_precision"].as_string();
    if (settings["persistent_reserved_sms"].is_int())
      in.settings.persistent_reserved_sms =
          std::max<int64_t>(settings["persistent_reserved_sms"].as_int(), 0);
  }
  return in;
}

const ArgSpec *KernelInputs::arg(const std::string &name) const {
  for (const ArgSpec &a : args)
    if (a.name == name) return &a;
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
