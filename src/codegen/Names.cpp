#include "codegen/Names.h"

#include "codegen/PythonText.h"

#include <functional>

namespace helion::codegen {

namespace {

bool is_word_byte(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         u >= 0x80;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

/// The module a user global names, or "" when it is not a module.
std::string global_module(const KernelInputs &inputs, const std::string &name) {
  const GlobalSpec *g = inputs.global(name);
  return g && g->kind == GlobalSpec::Kind::Module ? g->name : "";
}

bool is_libdevice_module(const std::string &module) {
  const std::string prefix = "triton.language.extra.";
  const std::string suffix = "libdevice";
  return module.size() >= prefix.size() + suffix.size() &&
         module.compare(0, prefix.size(), prefix) == 0 &&
         module.compare(module.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void target_names(const ast::Expr &target, std::set<std::string> &out) {
  if (target.kind == ast::ExprKind::Name) out.insert(target.id);
  if (target.kind == ast::ExprKind::Starred && target.value) target_names(*target.value, out);
  for (const auto &e : target.elts)
    target_names(*e, out);
}

void add_arguments(const ast::Arguments &a, std::set<std::string> &out);

void lambda_params(const ast::Expr &e, std::set<std::string> &out) {
  if (e.kind == ast::ExprKind::Lambda) add_arguments(*e.arguments, out);
  for (const ast::Expr *child :
       {e.value.get(), e.slice.get(), e.left.get(), e.right.get(), e.extra.get(), e.func.get()})
    if (child) lambda_params(*child, out);
  for (const auto *list : {&e.elts, &e.keys, &e.comparators})
    for (const auto &child : *list)
      if (child) lambda_params(*child, out);
  for (const ast::Keyword &k : e.keywords)
    if (k.value) lambda_params(*k.value, out);
}

void add_arguments(const ast::Arguments &a, std::set<std::string> &out) {
  for (const auto *list : {&a.posonlyargs, &a.args, &a.kwonlyargs})
    for (const ast::Arg &arg : *list)
      out.insert(arg.name);
  if (a.vararg) out.insert(a.vararg->name);
  if (a.kwarg) out.insert(a.kwarg->name);
}

void bound_names(const std::vector<ast::StmtPtr> &stmts, std::set<std::string> &out) {
  for (const auto &s : stmts) {
    for (const auto &t : s->targets)
      target_names(*t, out);
    if (s->kind == ast::StmtKind::FunctionDef) {
      out.insert(s->name);
      add_arguments(s->args, out);
    }
    for (const ast::Expr *e : {s->value.get(), s->test.get(), s->msg.get()})
      if (e) lambda_params(*e, out);
    bound_names(s->body, out);
    bound_names(s->orelse, out);
  }
}

} // namespace

bool is_plain_identifier(const std::string &name) {
  for (char c : name)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return is_python_name(name);
}

std::set<std::string> user_names(const KernelInputs &inputs) {
  std::set<std::string> names;
  // Every word of the source, strings and comments included: more than the
  // code binds, which only costs a generated name its first choice.
  const std::string &source = inputs.context.source;
  for (size_t i = 0; i < source.size();) {
    if (!is_word_byte(source[i])) {
      ++i;
      continue;
    }
    size_t end = i;
    while (end < source.size() && is_word_byte(source[end]))
      ++end;
    if (!is_digit(source[i])) names.insert(source.substr(i, end - i));
    i = end;
  }
  for (const ArgSpec &a : inputs.args)
    names.insert(a.name);
  for (const auto &global : inputs.globals)
    names.insert(global.first);
  names.insert(inputs.names.begin(), inputs.names.end());
  names.insert(inputs.context.kernel_name);
  return names;
}

ModuleNames::ModuleNames(const KernelInputs &inputs, const ast::Stmt &function)
    : inputs_(inputs), user_(user_names(inputs)) {
  // Names the user's code binds: a generated reference to a builtin of the
  // same name would find the user's value instead.
  add_arguments(function.args, bound_);
  bound_names(function.body, bound_);
  for (const ArgSpec &a : inputs.args)
    bound_.insert(a.name);
  for (const auto &global : inputs.globals)
    bound_.insert(global.first);
  bound_.insert(inputs.names.begin(), inputs.names.end());

  host_function_ = inputs.context.kernel_name;
  taken_.insert(host_function_);
  // Host code calls triton.cdiv; torch, tl and libdevice are read only at
  // module level and in the device function, whose names are all allocated.
  torch_ = module_alias("torch", "torch", false);
  triton_ = module_alias("triton", "triton", true);
  tl_ = module_alias("tl", "triton.language", false);
  libdevice_ = module_alias("libdevice", "", false);
  builtins_ = fresh("builtins");
  runtime_ = module_alias("helion_runtime", "helion.runtime", true);
  // Triton names the compiled kernel after this function: ASCII only.
  const std::string &kernel = inputs.context.kernel_name;
  device_function_ = fresh("_helion_" + (is_plain_identifier(kernel) ? kernel : "kernel"));
  device_function_int64_ = fresh(device_function_ + "_int64");
  barrier_phase_ = fresh("_helion_phase");
}

std::string ModuleNames::fresh(const std::string &preferred) {
  std::string name = preferred;
  for (int i = 1; user_.count(name) || taken_.count(name); ++i)
    name = preferred + "_" + std::to_string(i);
  taken_.insert(name);
  return name;
}

std::string ModuleNames::module_alias(const std::string &preferred, const std::string &module,
                                      bool host_reads) {
  // The user's own global of that name bound to the same module is shared:
  // `torch` in the user's code and in the generated code are one import.
  std::string global = global_module(inputs_, preferred);
  bool same = (module.empty() ? is_libdevice_module(global) : global == module) &&
              preferred != inputs_.context.kernel_name;
  bool is_global = inputs_.global(preferred) != nullptr;
  bool clash = host_reads ? user_.count(preferred) > 0
                          : is_global || preferred == inputs_.context.kernel_name;
  if (!taken_.count(preferred) && (!clash || same)) {
    taken_.insert(preferred);
    return preferred;
  }
  return fresh(preferred);
}

const std::string &ModuleNames::runtime() const {
  runtime_used_ = true;
  return runtime_;
}

std::string ModuleNames::constexpr_annotation() const {
  // Triton's interpreter recognizes the annotation by its text, which must
  // read `tl.constexpr` (see imports()); compiling for a GPU evaluates it.
  if (tl_ == "tl" || inputs_.settings.interpreter) return "tl.constexpr";
  return tl_ + ".constexpr";
}

bool ModuleNames::binds(const std::string &name) const {
  return bound_.count(name) > 0;
}

std::string ModuleNames::builtin(const std::string &name) const {
  if (!bound_.count(name)) return name;
  builtins_used_ = true;
  return builtins_ + "." + name;
}

std::string ModuleNames::host_sym(const SymInt &s) const {
  bool min_max = false;
  std::function<void(const SymInt &)> visit = [&](const SymInt &n) {
    if (!n) return;
    min_max = min_max || n->op == SymNode::Op::Min || n->op == SymNode::Op::Max;
    visit(n->lhs);
    visit(n->rhs);
  };
  visit(s);
  if (!min_max || (!binds("min") && !binds("max"))) return sym_to_python(s, SymSide::Host);
  return sym_to_python(s, SymSide::Host, builtin("min"), builtin("max"));
}

std::string ModuleNames::literal(const Json &value) const {
  std::string text = python_literal(value);
  if (text.find("float('") == std::string::npos || !binds("float")) return text;
  return python_literal(value, builtin("float"));
}

bool ModuleNames::imported(const std::string &name) const {
  std::string module = global_module(inputs_, name);
  if (module.empty()) return false;
  return (name == torch_ && module == "torch") || (name == triton_ && module == "triton") ||
         (name == tl_ && module == "triton.language") ||
         (name == libdevice_ && is_libdevice_module(module)) ||
         (name == runtime_ && module == "helion.runtime" && runtime_used_);
}

std::vector<std::string> ModuleNames::imports() const {
  auto as = [](const std::string &module, const std::string &alias) {
    return module == alias ? "" : " as " + alias;
  };
  std::vector<std::string> lines;
  // Where `tl` is the user's, the interpreter's `tl.constexpr` annotations
  // must stay text.
  if (constexpr_annotation() != tl_ + ".constexpr")
    lines.push_back("from __future__ import annotations");
  lines.insert(lines.end(),
               {
                   "import torch" + as("torch", torch_),
                   "import triton" + as("triton", triton_),
                   "import triton.language as " + tl_,
                   "from triton.language.extra import libdevice" + as("libdevice", libdevice_),
               });
  if (builtins_used_) lines.push_back("import builtins" + as("builtins", builtins_));
  if (runtime_used_) lines.push_back("import helion.runtime as " + runtime_);
  return lines;
}

DeviceNames::DeviceNames(const ModuleNames &module, const std::set<std::string> &reserved)
    : module_(module), taken_(reserved) {
  // Module-level names the device code reads, under their spelling in the
  // code (`tl.`, `libdevice.`, `float(`) and under their aliases.
  for (const std::string &name :
       {std::string("tl"), std::string("libdevice"), std::string("float"), std::string("triton"),
        std::string("torch"), module.tl(), module.libdevice(), module.triton(), module.torch(),
        module.device_function(), module.device_function_int64()})
    taken_.insert(name);
  // Names a launch binds beside the kernel's parameters: the keywords the
  // launch passes or Triton adds (a parameter of the same name gets two
  // values), the compile options any of them may name, and the names
  // Triton's argument binder reads.
  for (const char *name : {"num_warps",
                           "num_stages",
                           "num_ctas",
                           "warp_size",
                           "maxnreg",
                           "ptx_version",
                           "ptx_options",
                           "ir_override",
                           "enable_fp_fusion",
                           "enable_reflect_ftz",
                           "launch_cooperative_grid",
                           "launch_pdl",
                           "default_dot_input_precision",
                           "allowed_dot_input_precisions",
                           "max_num_imprecise_acc_default",
                           "extern_libs",
                           "debug",
                           "backend_name",
                           "sanitize_overflow",
                           "arch",
                           "instrumentation_mode",
                           "grid",
                           "warmup",
                           "options",
                           "backend",
                           "specialize_impl",
                           "JITCallable",
                           "params",
                           "specialization",
                           "dynamic_func"})
    taken_.insert(name);
}

std::string DeviceNames::first_free(const std::string &base, bool avoid_user) {
  auto free = [&](const std::string &name) {
    return !taken_.count(name) && !(avoid_user && module_.user().count(name));
  };
  std::string name = base;
  for (int i = 1; !free(name); ++i)
    name = base + "_" + std::to_string(i);
  taken_.insert(name);
  return name;
}

std::string DeviceNames::generated(const std::string &preferred) {
  return first_free(preferred, true);
}

std::string DeviceNames::user(const std::string &hint) {
  return first_free(is_plain_identifier(hint) ? hint : "v", false);
}

std::string DeviceNames::temporary() {
  std::string name;
  do
    name = "v_" + std::to_string(temporaries_++);
  while (taken_.count(name) || module_.user().count(name));
  taken_.insert(name);
  return name;
}

std::string DeviceNames::with_module_aliases(const std::string &text) const {
  std::map<std::string, std::string> renames;
  if (module_.tl() != "tl") renames["tl"] = module_.tl();
  if (module_.libdevice() != "libdevice") renames["libdevice"] = module_.libdevice();
  if (module_.binds("float")) renames["float"] = module_.builtin("float");
  if (renames.empty()) return text;
  std::string out;
  char previous = ' '; // the last character of code, spaces aside
  for (size_t i = 0; i < text.size();) {
    char c = text[i];
    if (c == '#') {
      size_t end = text.find('\n', i);
      if (end == std::string::npos) end = text.size();
      out += text.substr(i, end - i);
      i = end;
      continue;
    }
    if (c == '\'' || c == '"') {
      size_t end = i + 1;
      while (end < text.size() && text[end] != c && text[end] != '\n')
        end += text[end] == '\\' ? 2 : 1;
      end = std::min(end + 1, text.size());
      out += text.substr(i, end - i);
      previous = c;
      i = end;
      continue;
    }
    if (!is_word_byte(c)) {
      out += c;
      if (c != ' ' && c != '\n') previous = c;
      ++i;
      continue;
    }
    size_t end = i;
    while (end < text.size() && is_word_byte(text[end]))
      ++end;
    std::string word = text.substr(i, end - i);
    auto it = renames.find(word);
    out += it != renames.end() && previous != '.' ? it->second : word;
    previous = 'a';
    i = end;
  }
  return out;
}

} // namespace helion::codegen
