#include "lower/OpHelpers.h"
#include "parse/Parser.h"
#include "parse/Unparse.h"
#include "support/Diagnostics.h"

#include <algorithm>
#include <set>

namespace helion::lower {

using ir::Dim;
using ir::Node;
using ir::OpKind;
using ir::Stmt;
using EK = ast::ExprKind;
using SK = ast::StmtKind;

namespace {

const std::map<std::string, std::string> &binop_functions() {
  static const std::map<std::string, std::string> table = {
      {"Add", "torch.add"},
      {"Sub", "torch.sub"},
      {"Mult", "torch.mul"},
      {"Div", "torch.div"},
      {"FloorDiv", "torch.floor_divide"},
      {"Mod", "torch.remainder"},
      {"Pow", "torch.pow"},
      {"MatMult", "torch.matmul"},
      {"BitAnd", "torch.bitwise_and"},
      {"BitOr", "torch.bitwise_or"},
      {"BitXor", "torch.bitwise_xor"},
      {"LShift", "torch.bitwise_left_shift"},
      {"RShift", "torch.bitwise_right_shift"},
  };
  return table;
}

const std::map<std::string, std::string> &compare_functions() {
  static const std::map<std::string, std::string> table = {
      {"Eq", "torch.eq"},  {"NotEq", "torch.ne"}, {"Lt", "torch.lt"},
      {"LtE", "torch.le"}, {"Gt", "torch.gt"},    {"GtE", "torch.ge"},
  };
  return table;
}

std::string statement_name(SK kind) {
  switch (kind) {
  case SK::While:
    return "a while loop";
  case SK::FunctionDef:
    return "a nested function definition";
  case SK::Break:
    return "break";
  case SK::Continue:
    return "continue";
  default:
    return "this statement";
  }
}

std::string expression_name(EK kind) {
  switch (kind) {
  case EK::Lambda:
    return "a lambda";
  case EK::Dict:
    return "a dict";
  case EK::Starred:
    return "*unpacking";
  case EK::Slice:
    return "a slice outside a subscript";
  case EK::JoinedStr:
    return "an f-string";
  default:
    return "this expression";
  }
}

void collect_targets(const ast::Expr &target, std::set<std::string> &out) {
  if (target.kind == EK::Name) out.insert(target.id);
  for (const auto &e : target.elts)
    collect_targets(*e, out);
}

void collect_assigned(const std::vector<ast::StmtPtr> &body, std::set<std::string> &out) {
  for (const auto &s : body) {
    if (s->kind == SK::Assign || s->kind == SK::AugAssign || s->kind == SK::AnnAssign)
      for (const auto &t : s->targets)
        collect_targets(*t, out);
    collect_assigned(s->body, out);
    collect_assigned(s->orelse, out);
  }
}

class DeviceLowering {
  /// A callable argument or a function one captured: its parsed source and
  /// what it captured, as its body sees it.
  struct ForeignCallable {
    std::unique_ptr<ast::Module> module;
    const ast::Expr *lambda = nullptr;
    const ast::Stmt *function = nullptr;
    std::map<std::string, Operand> scope;
    std::string shown; ///< "callable argument 'epilogue'", for messages
  };

public:
  DeviceLowering(const HostProgram &program, const KernelInputs &inputs)
      : program_(program), inputs_(inputs), host_env_(program.env), host_(inputs, host_env_),
        cx_(kernel_, inputs) {
    cx_.set_invoker([this](const Operand &callable, const std::vector<Operand> &args,
                           const SourceSpan &span) { return invoke(callable, args, {}, span); });
    for (const ArgSpec &arg : inputs.args)
      if (arg.callable) callable_specs_[arg.name] = arg.callable;
  }

  ir::DeviceKernel run() {
    for (const RegisteredBlockSize &size : program_.findings.block_sizes)
      add_registered_size(size);
    for (const ast::Stmt *loop : program_.grid_loops)
      lower_root(*loop);
    check_loop_independence();
    return std::move(kernel_);
  }

private:
  // ---- statements -------------------------------------------------------

  /// A top-level device loop: its programs and its body. Each sees only the
  /// host's variables, not another loop's.
  void lower_root(const ast::Stmt &loop) {
    device_env_.clear();
    cx_.set_statement(loop.span);
    int call = make_tile_call(*loop.test, *loop.targets[0], /*is_grid=*/true);
    size_t index = kernel_.roots.size();
    SourceSpan barrier;
    if (index < program_.barrier_before.size() && program_.barrier_before[index])
      barrier = program_.barrier_before[index]->span;
    kernel_.roots.push_back({call, {}, barrier});
    cx_.set_block(&kernel_.roots.back().body);
    open_blocks_ = kernel_.tile_calls[call].blocks;
    bind_loop_target(*loop.targets[0], call);
    lower_block(loop.body);
  }

  /// The loops of one kernel run at the same time unless an hl.barrier()
  /// separates them: one may not touch a tensor an earlier one writes
  /// without a barrier in between.
  void check_loop_independence() const {
    std::vector<std::set<int>> written(kernel_.roots.size()), touched(kernel_.roots.size());
    for (size_t r = 0; r < kernel_.roots.size(); ++r)
      collect_tensors(kernel_.roots[r].body, written[r], touched[r]);
    size_t after_barrier = 0; // the first loop the later one runs at the same time as
    for (size_t later = 1; later < kernel_.roots.size(); ++later) {
      if (kernel_.roots[later].barrier_before.valid()) after_barrier = later;
      for (size_t earlier = after_barrier; earlier < later; ++earlier)
        for (int t : written[earlier])
          if (touched[later].count(t))
            throw UserError("LoopDependencyError",
                            "this device loop uses '" + kernel_.tensors[t].name +
                                "', which an earlier device loop of the kernel writes; the loops "
                                "run at the same time, so put hl.barrier() between them (or "
                                "write this loop as a second kernel)",
                            program_.grid_loops[later]->span);
    }
  }

  void collect_tensors(const std::vector<Stmt> &body, std::set<int> &written,
                       std::set<int> &touched) const {
    for (const Stmt &s : body) {
      if (s.kind == Stmt::Kind::Store) {
        written.insert(s.tensor);
        touched.insert(s.tensor);
      }
      if (s.kind == Stmt::Kind::Compute && kernel_.node(s.value).op == OpKind::Load)
        touched.insert(kernel_.node(s.value).tensor);
      if (s.kind == Stmt::Kind::Compute && kernel_.node(s.value).op == OpKind::Atomic) {
        written.insert(kernel_.node(s.value).tensor);
        touched.insert(kernel_.node(s.value).tensor);
      }
      ir::for_each_region(s, [&](const std::vector<Stmt> &region) {
        collect_tensors(region, written, touched);
      });
    }
  }

  void lower_block(const std::vector<ast::StmtPtr> &body) {
    for (const auto &s : body) {
      // A helper's statements come from another source: the call's line stands for them.
      if (!inside_other_source_) cx_.set_statement(s->span);
      lower_stmt(*s);
    }
  }

  // ---- helper functions and lambdas ---------------------------------------

  /// Calls a lambda or a module-level function: its body is lowered inline,
  /// its parameters bound to `args` (then `keywords`), and its value is what
  /// its final `return` gives.
  Operand invoke(const Operand &callee, const std::vector<Operand> &args,
                 const std::vector<std::pair<std::string, Operand>> &keywords,
                 const SourceSpan &span) {
    if (inline_depth_ >= kMaxInlineDepth)
      throw UserError("UnsupportedSyntax",
                      "helper functions called on the device nest deeper than " +
                          std::to_string(kMaxInlineDepth) +
                          " calls; recursion is not supported there",
                      span);
    Operand callable = resolve_callable(callee, span);
    const ForeignCallable *foreign =
        callable.callable_path.empty() ? nullptr : &foreign_.at(callable.callable_path);
    std::map<std::string, Operand> env;
    if (foreign)
      env = foreign->scope; // what it captured, read from it at launch
    else if (callable.lambda)
      env = device_env_; // a lambda in the kernel sees its variables
    std::string shown = foreign           ? foreign->shown
                        : callable.function ? "helper function '" + callable.function->name + "'"
                                            : "the lambda";
    bind_parameters(callable, shown, args, keywords, env, span);
    auto saved_env = std::move(device_env_);
    // Host expressions in a callable argument's body (`bias.size(0)`) read
    // what it captured and its host-valued parameters.
    std::map<std::string, HostValuePtr> saved_host_env = host_env_;
    if (foreign)
      for (const auto &[name, value] : env)
        if (value.kind == Operand::Kind::Host && value.host) host_env_[name] = value.host;
    device_env_ = std::move(env);
    bool other_source = callable.function != nullptr || foreign;
    std::swap(inside_other_source_, other_source);
    ++inline_depth_;
    struct Restore {
      DeviceLowering &self;
      std::map<std::string, Operand> env;
      std::map<std::string, HostValuePtr> host_env;
      bool other_source;
      ~Restore() {
        self.device_env_ = std::move(env);
        self.host_env_ = std::move(host_env);
        self.inside_other_source_ = other_source;
        --self.inline_depth_;
      }
    } restore{*this, std::move(saved_env), std::move(saved_host_env), other_source};
    try {
      if (callable.lambda) return lower_expr(*callable.lambda->value);
      return lower_function_body(*callable.function, span);
    } catch (const UserError &e) {
      if ((!callable.function && !foreign) || restore.other_source) throw;
      // Spans inside another source would point into the kernel's: name the
      // helper and show the call instead.
      throw UserError(e.kind(), "in " + shown + ": " + e.what(), span);
    }
  }

  /// The lambda, or the parsed `def` of a global function, that `callee` names.
  Operand resolve_callable(const Operand &callee, const SourceSpan &span) {
    if (callee.kind == Operand::Kind::Callable) return callee;
    if (callee.host->text.rfind(kCallablePrefix, 0) == 0) {
      std::string path = callee.host->text.substr(kCallablePrefix.size());
      const ForeignCallable &foreign = foreign_callable(path, span);
      Operand callable;
      callable.kind = Operand::Kind::Callable;
      callable.lambda = foreign.lambda;
      callable.function = foreign.function;
      callable.callable_path = path;
      return callable;
    }
    std::string name = callee.host->text.substr(std::string("global.").size());
    auto known = helper_functions_.find(name);
    if (known == helper_functions_.end()) {
      const GlobalSpec *global = inputs_.global(name);
      const std::optional<std::string> *source = global ? &global->source : nullptr;
      if (!source || !*source)
        throw UserError("UnsupportedOp",
                        "cannot read the source of function '" + name +
                            "', which device code calls; define it in a file",
                        span);
      auto module = std::make_unique<ast::Module>();
      try {
        *module = parse_module(**source);
      } catch (const UserError &e) {
        throw UserError(e.kind(), "in helper function '" + name + "': " + e.what(), span);
      }
      const ast::Stmt *def = nullptr;
      for (const auto &stmt : module->body)
        if (stmt->kind == SK::FunctionDef && stmt->name == name) def = stmt.get();
      if (!def)
        throw UserError("UnsupportedOp", "'" + name + "' is not a plain function definition",
                        span);
      known = helper_functions_.emplace(name, std::make_pair(std::move(module), def)).first;
    }
    Operand callable;
    callable.kind = Operand::Kind::Callable;
    callable.function = known->second.second;
    return callable;
  }

  /// A callable argument (or a function one captured), parsed once: `path`
  /// is the host expression that reads it.
  const ForeignCallable &foreign_callable(const std::string &path, const SourceSpan &span) {
    auto known = foreign_.find(path);
    if (known != foreign_.end()) return known->second;
    auto spec_it = callable_specs_.find(path);
    check_internal(spec_it != callable_specs_.end(), "no description of callable " + path);
    const CallableSpec &spec = *spec_it->second;
    ForeignCallable fc;
    fc.shown = (path.find('.') == std::string::npos ? "callable argument '" + path + "'"
                                                    : "function '" + spec.qualname + "'");
    if (!spec.source)
      throw UserError("UnsupportedOp",
                      "cannot read the source of " + fc.shown + " ('" + spec.qualname +
                          "'), which device code calls; define it in a file",
                      span);
    fc.module = std::make_unique<ast::Module>();
    try {
      // A lambda's text is an expression, which may span lines as written.
      *fc.module = parse_module(spec.is_lambda ? "(\n" + *spec.source + "\n)\n" : *spec.source);
    } catch (const UserError &e) {
      throw UserError(e.kind(), "in " + fc.shown + ": " + e.what(), span);
    }
    for (const auto &stmt : fc.module->body) {
      if (spec.is_lambda && stmt->kind == SK::Expr && stmt->value->kind == EK::Lambda)
        fc.lambda = stmt->value.get();
      if (!spec.is_lambda && stmt->kind == SK::FunctionDef && stmt->name == spec.function_name)
        fc.function = stmt.get();
    }
    if (!fc.lambda && !fc.function)
      throw UserError("UnsupportedOp",
                      fc.shown + " is neither a plain function definition nor a lambda", span);
    for (const Capture &c : spec.captures)
      fc.scope[c.name] = captured_operand(path, c);
    return foreign_.emplace(path, std::move(fc)).first->second;
  }

  /// What a callable captured, as its body sees it. Tensors and scalars are
  /// read from the callable into a host variable before each launch.
  Operand captured_operand(const std::string &path, const Capture &c) {
    std::string host_expr = path + c.access;
    switch (c.value.kind) {
    case ArgSpec::Kind::Callable:
      callable_specs_[host_expr] = c.value.callable;
      return Operand::of_host(
          HostValue::make(HostValue::Kind::Function, kCallablePrefix + host_expr));
    case ArgSpec::Kind::Other:
      return Operand::of_host(global_value(c.global, c.name));
    case ArgSpec::Kind::Constexpr:
      return Operand::of_host(captured_value(c.value, inputs_.settings));
    default:
      break;
    }
    ArgSpec spec = c.value;
    spec.name = fresh_host_name(path.substr(0, path.find('.')) + "_" + c.name);
    kernel_.host_bindings.push_back({spec.name, host_expr});
    return Operand::of_host(captured_value(spec, inputs_.settings), spec.name);
  }

  /// A host variable name that no name of the kernel's source, global or
  /// earlier binding uses.
  std::string fresh_host_name(const std::string &base) {
    auto taken = [&](const std::string &name) {
      if (host_env_.count(name) || inputs_.global(name)) return true;
      if (std::find(inputs_.names.begin(), inputs_.names.end(), name) != inputs_.names.end())
        return true;
      for (const ir::HostBinding &b : kernel_.host_bindings)
        if (b.name == name) return true;
      return contains_word(inputs_.context.source, name);
    };
    std::string name = base;
    for (int i = 1; taken(name); ++i)
      name = base + "_" + std::to_string(i);
    return name;
  }

  static bool contains_word(const std::string &text, const std::string &word) {
    auto is_word = [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '_' || static_cast<unsigned char>(c) >= 0x80;
    };
    for (size_t at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) {
      bool starts = at == 0 || !is_word(text[at - 1]);
      bool ends = at + word.size() == text.size() || !is_word(text[at + word.size()]);
      if (starts && ends) return true;
    }
    return false;
  }

  static const ast::Arguments &arguments_of(const Operand &callable) {
    return callable.lambda ? *callable.lambda->arguments : callable.function->args;
  }

  /// Binds a call's arguments to the callee's parameters as Python does:
  /// positional ones in order (extra ones into a `*args` tuple), keywords by
  /// name (unknown ones into a `**kwargs` dict), then defaults.
  void bind_parameters(const Operand &callable, const std::string &shown,
                       const std::vector<Operand> &args,
                       const std::vector<std::pair<std::string, Operand>> &keywords,
                       std::map<std::string, Operand> &env, const SourceSpan &span) {
    const ast::Arguments &a = arguments_of(callable);
    std::vector<const ast::Arg *> positional;
    for (const auto *list : {&a.posonlyargs, &a.args})
      for (const ast::Arg &arg : *list)
        positional.push_back(&arg);
    const size_t n = positional.size();
    Operand rest;
    rest.kind = Operand::Kind::Tuple;
    Operand extra;
    extra.kind = Operand::Kind::Dict;
    std::vector<std::optional<Operand>> bound(n), bound_kw(a.kwonlyargs.size());
    for (size_t i = 0; i < args.size(); ++i) {
      if (i < n)
        bound[i] = args[i];
      else if (a.vararg)
        rest.elements.push_back(args[i]);
      else
        throw UserError("TypeError",
                        shown + " takes " + std::to_string(n) +
                            " positional arguments but was given " + std::to_string(args.size()),
                        span);
    }
    for (const auto &[name, value] : keywords) {
      std::optional<Operand> *slot = nullptr;
      for (size_t i = a.posonlyargs.size(); i < n; ++i)
        if (positional[i]->name == name) slot = &bound[i];
      for (size_t i = 0; i < a.kwonlyargs.size(); ++i)
        if (a.kwonlyargs[i].name == name) slot = &bound_kw[i];
      bool repeated = slot ? slot->has_value()
                           : std::find(extra.keys.begin(), extra.keys.end(), name) !=
                                 extra.keys.end();
      if (repeated)
        throw UserError("TypeError", shown + " got several values for argument '" + name + "'",
                        span);
      if (slot) {
        *slot = value;
      } else if (a.kwarg) {
        extra.keys.push_back(name);
        extra.elements.push_back(value);
      } else {
        throw UserError("TypeError", shown + " has no parameter named '" + name + "'", span);
      }
    }
    const size_t first_default = n - a.defaults.size();
    for (size_t i = 0; i < n; ++i) {
      if (!bound[i] && i >= first_default)
        bound[i] = Operand::of_host(host_.eval(*a.defaults[i - first_default]));
      if (!bound[i])
        throw UserError("TypeError", shown + " is missing argument '" + positional[i]->name + "'",
                        span);
      env[positional[i]->name] = *bound[i];
    }
    for (size_t i = 0; i < a.kwonlyargs.size(); ++i) {
      if (!bound_kw[i] && i < a.kw_defaults.size() && a.kw_defaults[i])
        bound_kw[i] = Operand::of_host(host_.eval(*a.kw_defaults[i]));
      if (!bound_kw[i])
        throw UserError("TypeError",
                        shown + " is missing keyword-only argument '" + a.kwonlyargs[i].name +
                            "'",
                        span);
      env[a.kwonlyargs[i].name] = *bound_kw[i];
    }
    if (a.vararg) env[a.vararg->name] = std::move(rest);
    if (a.kwarg) env[a.kwarg->name] = std::move(extra);
  }

  /// A helper's statements, its value the final `return`'s.
  Operand lower_function_body(const ast::Stmt &def, const SourceSpan &span) {
    for (size_t i = 0; i < def.body.size(); ++i) {
      const ast::Stmt &s = *def.body[i];
      if (s.kind != SK::Return) {
        lower_stmt(s);
        continue;
      }
      if (i + 1 != def.body.size())
        throw UserError("UnsupportedSyntax",
                        "a helper function called on the device returns only as its last "
                        "statement",
                        span);
      if (!s.value) break;
      return lower_expr(*s.value);
    }
    return Operand::of_host(HostValue::make(HostValue::Kind::None));
  }

  void lower_stmt(const ast::Stmt &s) {
    switch (s.kind) {
    case SK::Assign: {
      Operand value = lower_expr(*s.value);
      for (const auto &t : s.targets)
        assign(*t, value);
      return;
    }
    case SK::AnnAssign:
      if (s.value) assign(*s.targets[0], lower_expr(*s.value));
      return;
    case SK::AugAssign:
      return lower_aug_assign(s);
    case SK::For:
      return lower_nested_loop(s);
    case SK::If:
      return lower_if(s);
    case SK::While:
      return lower_while(s);
    case SK::Expr: {
      if (s.value->kind == EK::Constant) return; // a docstring or a bare literal
      const ast::Expr *outer = cx_.discarded_call();
      cx_.set_discarded_call(s.value.get());
      lower_expr(*s.value);
      cx_.set_discarded_call(outer);
      return;
    }
    case SK::Pass:
      return;
    case SK::Return:
      if (inline_depth_ > 0)
        throw UserError("UnsupportedSyntax",
                        "a helper function called on the device returns only as its last "
                        "statement, not inside a loop or branch",
                        s.span);
      throw UserError("NotAllowedOnDevice",
                      "return is not allowed inside a device loop; store results into an output "
                      "tensor and return it after the loop",
                      s.span);
    case SK::Assert:
      throw UserError("NotAllowedOnDevice",
                      "assert is not allowed inside a device loop; check shapes in host code "
                      "before the loop",
                      s.span);
    default:
      throw UserError("UnsupportedSyntax",
                      statement_name(s.kind) +
                          " is not supported inside a device loop yet; use nested hl.tile loops "
                          "and torch operations, or move it to host code",
                      s.span);
    }
  }

  void assign(const ast::Expr &target, const Operand &value) {
    if (target.kind == EK::Name) {
      if (!device_env_.count(target.id) && host_env_.count(target.id))
        throw UserError("CannotModifyHostVariableOnDevice",
                        "'" + target.id +
                            "' is a host variable and cannot be assigned inside a device loop; "
                            "use a new name",
                        target.span);
      device_env_[target.id] = value;
      name_node(value, target.id);
      return;
    }
    if (target.kind == EK::Tuple || target.kind == EK::List) {
      if (value.kind != Operand::Kind::Tuple || value.elements.size() != target.elts.size())
        throw UserError("TypeError",
                        "cannot unpack this value into " + std::to_string(target.elts.size()) +
                            " names",
                        target.span);
      for (size_t i = 0; i < target.elts.size(); ++i)
        assign(*target.elts[i], value.elements[i]);
      return;
    }
    if (target.kind == EK::Subscript) {
      Operand base = lower_expr(*target.value);
      lower_subscript_store(cx_, base, lower_index(*target.slice), value, target.span);
      return;
    }
    throw UserError("UnsupportedSyntax", "this assignment target is not supported on the device",
                    target.span);
  }

  /// The first variable a computed value is bound to names it in the generated code.
  void name_node(const Operand &value, const std::string &name) {
    if (value.kind != Operand::Kind::Tensor) return;
    Node &n = kernel_.nodes[value.node];
    bool computed = n.op != OpKind::Constant && n.op != OpKind::HostScalar &&
                    n.op != OpKind::TileIndex && n.op != OpKind::RegionArg &&
                    n.op != OpKind::RegionResult && n.op != OpKind::LoopIndex;
    if (computed && (n.name_hint.empty() || n.name_hint == "load")) n.name_hint = name;
  }

  void lower_aug_assign(const ast::Stmt &s) {
    const ast::Expr &target = *s.targets[0];
    auto fn = binop_functions().find(s.op);
    if (fn == binop_functions().end())
      throw UserError("UnsupportedOp", "operator " + s.op + "= is not supported on the device",
                      s.span);
    Operand current = lower_expr(target);
    Operand result =
        call_function(fn->second, {current, lower_expr(*s.value)}, {}, s.span, nullptr);
    if (target.kind == EK::Name && current.kind == Operand::Kind::Tensor &&
        result.kind == Operand::Kind::Tensor)
      // In-place ops keep the variable's dtype, as torch's `+=` does.
      result = Operand::tensor(cx_.cast(result.node, cx_.type_of(current.node).dtype, s.span));
    assign(target, result);
  }

  void lower_if(const ast::Stmt &s) {
    Operand test = lower_expr(*s.test);
    if (test.is_host(HostValue::Kind::Bool) && test.host->truth) {
      lower_block(*test.host->truth ? s.body : s.orelse);
      return;
    }
    Stmt branch;
    branch.kind = Stmt::Kind::If;
    branch.span = s.span;
    branch.cond = scalar_condition(test, *s.test, "if");
    auto before = device_env_;
    std::vector<Stmt> *outer_block = cx_.current_block();
    cx_.set_block(&branch.body);
    lower_block(s.body);
    auto then_env = std::move(device_env_);
    device_env_ = before;
    cx_.set_block(&branch.orelse);
    lower_block(s.orelse);
    auto else_env = std::move(device_env_);
    device_env_ = before;
    cx_.set_statement(s.span);
    merge_branches(branch, then_env, else_env);
    cx_.set_block(outer_block);
    for (ir::Carry &carry : branch.carried) {
      carry.result = cx_.build().region_result(cx_.type_of(carry.yielded), carry.name);
      device_env_[carry.name] = Operand::tensor(carry.result);
    }
    cx_.emit_stmt(std::move(branch));
  }

  /// The names an `if` changes become its results: each branch yields its
  /// value, converted to a common dtype. A name only one branch defines ends
  /// with the `if`.
  void merge_branches(Stmt &branch, const std::map<std::string, Operand> &then_env,
                      const std::map<std::string, Operand> &else_env) {
    for (const auto &[name, then_value] : then_env) {
      auto other = else_env.find(name);
      auto old = device_env_.find(name);
      bool changed = old == device_env_.end() || !same_operand(old->second, then_value) ||
                     other == else_env.end() || !same_operand(old->second, other->second);
      if (!changed) continue;
      auto device_value = [&](const Operand &o, std::vector<Stmt> &region) -> int {
        if (o.kind == Operand::Kind::Tensor) return o.node;
        if (!LoweringContext::is_scalar_operand(o)) return -1;
        cx_.set_block(&region);
        return cx_.to_node(o, branch.span); // a number a branch sets becomes a device scalar
      };
      int then_node = device_value(then_value, branch.body);
      int else_node = other == else_env.end() ? -1 : device_value(other->second, branch.orelse);
      if (then_node < 0 || else_node < 0) {
        device_env_.erase(name);
        one_branch_names_.insert(name);
        continue;
      }
      const ir::TensorType a = cx_.type_of(then_node), b = cx_.type_of(else_node);
      if (a.dims != b.dims)
        throw UserError("ShapeMismatch",
                        "'" + name + "' has shape " + cx_.shape_text(a.dims) +
                            " after one branch of this if and " + cx_.shape_text(b.dims) +
                            " after the other; both branches must leave it the same shape",
                        branch.span);
      DType dtype = old != device_env_.end() && old->second.kind == Operand::Kind::Tensor
                        ? cx_.type_of(old->second.node).dtype
                        : helion::promote(a.dtype, b.dtype);
      ir::Carry carry;
      carry.name = name;
      cx_.set_block(&branch.body);
      carry.yielded = cx_.cast(then_node, dtype, branch.span);
      cx_.set_block(&branch.orelse);
      carry.else_yielded = cx_.cast(else_node, dtype, branch.span);
      branch.carried.push_back(carry);
    }
    for (const auto &[name, value] : else_env)
      if (!then_env.count(name)) {
        device_env_.erase(name);
        one_branch_names_.insert(name);
      }
  }

  static bool same_operand(const Operand &a, const Operand &b) {
    if (a.kind != b.kind) return false;
    switch (a.kind) {
    case Operand::Kind::Tensor:
      return a.node == b.node;
    case Operand::Kind::Tile:
      return a.block == b.block;
    case Operand::Kind::Host:
      return a.host == b.host;
    case Operand::Kind::Callable:
      return a.lambda == b.lambda && a.function == b.function;
    case Operand::Kind::Tuple:
    case Operand::Kind::Dict:
      if (a.elements.size() != b.elements.size() || a.keys != b.keys) return false;
      for (size_t i = 0; i < a.elements.size(); ++i)
        if (!same_operand(a.elements[i], b.elements[i])) return false;
      return true;
    default:
      return false;
    }
  }

  /// `for i in hl.static_range(n)` and `for x in (a, b)`: the body is
  /// lowered once per value, with the loop variable bound to it.
  bool lower_unrolled_loop(const ast::Stmt &s) {
    std::vector<Operand> values;
    auto named = s.test->kind == EK::Name ? device_env_.find(s.test->id) : device_env_.end();
    if (s.test->kind == EK::Tuple || s.test->kind == EK::List) {
      Operand items = lower_expr(*s.test);
      values = items.elements;
    } else if (named != device_env_.end() && named->second.kind == Operand::Kind::Tuple) {
      values = named->second.elements; // a tuple built on the device, or a helper's *args
    } else if (s.test->kind == EK::Call) {
      Operand callee = lower_expr(*s.test->func);
      if (!callee.is_host(HostValue::Kind::Function) || callee.host->text != "hl.static_range")
        return false;
      CallArgs range = bind_call(static_range_signature(), *s.test);
      int64_t first = cx_.int_arg(range["begin_or_end"], s.test->span);
      bool one_bound = is_none(range["end_or_none"]);
      int64_t begin = one_bound ? 0 : first;
      int64_t end = one_bound ? first : cx_.int_arg(range["end_or_none"], s.test->span);
      int64_t step = cx_.int_arg(range["step"], s.test->span);
      if (step <= 0)
        throw UserError("TypeError", "hl.static_range needs a positive step", s.test->span);
      for (int64_t i = begin; i < end; i += step)
        values.push_back(Operand::of_host(HostValue::make_int(sym_const(i))));
    } else {
      return false;
    }
    for (const Operand &value : values) {
      bind_unrolled(*s.targets[0], value);
      lower_block(s.body);
    }
    return true;
  }

  void bind_unrolled(const ast::Expr &target, const Operand &value) {
    if (target.kind == EK::Name) {
      device_env_[target.id] = value;
      return;
    }
    if (value.kind != Operand::Kind::Tuple || value.elements.size() != target.elts.size())
      throw UserError("TypeError", "cannot unpack this value into the loop targets", target.span);
    for (size_t i = 0; i < target.elts.size(); ++i)
      bind_unrolled(*target.elts[i], value.elements[i]);
  }

  void lower_nested_loop(const ast::Stmt &s) {
    if (lower_unrolled_loop(s)) return;
    Operand iter = s.test->kind == EK::Call ? lower_expr(*s.test->func) : Operand();
    bool tile_loop = iter.is_host(HostValue::Kind::Function) &&
                     (iter.host->text == "hl.tile" || iter.host->text == "hl.grid");
    if (iter.is_host(HostValue::Kind::Function) && iter.host->text == "builtins.range")
      return lower_range_loop(s);
    if (iter.is_host(HostValue::Kind::Function) && iter.host->text == "hl.jagged_tile")
      return lower_jagged_loop(s);
    if (!tile_loop)
      throw UserError("InvalidDeviceForLoop",
                      "a for loop inside a device loop must iterate over hl.tile(...), "
                      "hl.grid(...), range(...), hl.static_range(...) or a tuple",
                      s.span);
    Stmt loop;
    loop.kind = Stmt::Kind::TileLoop;
    loop.tile_call = make_tile_call(*s.test, *s.targets[0], /*is_grid=*/false);
    loop.span = s.span;
    int call = loop.tile_call;
    const std::vector<int> blocks = kernel_.tile_calls[call].blocks;
    open_blocks_.insert(open_blocks_.end(), blocks.begin(), blocks.end());
    lower_loop(std::move(loop), s.body, [&] { bind_loop_target(*s.targets[0], call); });
    open_blocks_.resize(open_blocks_.size() - blocks.size());
  }

  /// `for tile_k in hl.jagged_tile(parent)`: a tile loop over [0, max(parent))
  /// whose lanes past their own row's `parent` value are masked: loads read
  /// 0 there, stores skip them and reductions leave them out.
  void lower_jagged_loop(const ast::Stmt &s) {
    static const Signature sig = Signature::parse("hl.jagged_tile", "(parent)");
    CallArgs args = bind_call(sig, *s.test);
    const Operand &parent = args["parent"];
    auto usage = [&](const std::string &what) {
      return UserError("InvalidJaggedTileUsage",
                       "hl.jagged_tile takes the per-row lengths as a device tensor whose "
                       "dimensions are enclosing tiles (e.g. lengths[tile_b]); " + what,
                       s.test->span);
    };
    if (parent.kind != Operand::Kind::Tensor)
      throw usage("this is " + (parent.host ? parent.host->describe() : std::string("no tensor")));
    const ir::TensorType type = cx_.type_of(parent.node);
    if (type.rank() == 0 || !is_integral(type.dtype))
      throw usage("this one has shape " + cx_.shape_text(type.dims) + " and dtype " +
                  dtype_name(type.dtype));
    for (const Dim &d : type.dims)
      if (!d.is_block() ||
          std::find(open_blocks_.begin(), open_blocks_.end(), d.block) == open_blocks_.end())
        throw usage("a dimension of shape " + cx_.shape_text(type.dims) +
                    " is no tile of a loop around it");
    if (s.targets[0]->kind != EK::Name)
      throw UserError("FailedToUnpackTile", "hl.jagged_tile gives one tile; bind it to one name",
                      s.targets[0]->span);
    int longest = parent.node;
    for (int axis = type.rank() - 1; axis >= 0; --axis)
      longest = reduce(cx_, ir::ReduceFn::Max, longest, axis, false, s.test->span);
    Stmt loop;
    loop.kind = Stmt::Kind::TileLoop;
    loop.span = s.span;
    ir::TileCall tc;
    tc.span = s.test->span;
    tc.fixed_block_sizes.resize(1);
    int call = static_cast<int>(kernel_.tile_calls.size());
    ir::BlockInfo b;
    b.kind = ir::BlockInfo::Kind::Tile;
    // Row lengths are unknown until the kernel runs: 64 stands in for block size limits.
    set_range(b, Bound{sym_const(0), -1},
              Bound{sym_const(64), cx_.cast(longest, DType::Int32, s.span)});
    b.tile_call = call;
    b.name_hint = s.targets[0]->id;
    kernel_.blocks.push_back(b);
    int block = static_cast<int>(kernel_.blocks.size()) - 1;
    tc.blocks.push_back(block);
    kernel_.tile_calls.push_back(tc);
    cx_.add_jagged(block, parent.node);
    loop.tile_call = call;
    open_blocks_.push_back(block);
    lower_loop(std::move(loop), s.body,
               [&] { device_env_[s.targets[0]->id] = Operand::tile(block); });
    open_blocks_.pop_back();
  }

  /// `for i in range(begin, end, step)` over scalars: one iteration at a time.
  void lower_range_loop(const ast::Stmt &s) {
    CallArgs range = bind_call(range_signature(), *s.test);
    bool one_bound = is_none(range["end_or_none"]);
    auto scalar = [&](const Operand &o) {
      int node = cx_.to_node(o, s.test->span);
      if (cx_.type_of(node).rank() != 0 || !is_integral(cx_.type_of(node).dtype))
        throw UserError("TypeError",
                        "range() on the device takes int scalars (sizes, tile.begin, loaded "
                        "scalars); got a value of shape " +
                            cx_.shape_text(cx_.type_of(node).dims),
                        s.test->span);
      return cx_.cast(node, DType::Int32, s.test->span);
    };
    if (s.targets[0]->kind != EK::Name)
      throw UserError("UnsupportedSyntax", "a range() loop on the device needs one name as target",
                      s.targets[0]->span);
    Stmt loop;
    loop.kind = Stmt::Kind::RangeLoop;
    loop.span = s.span;
    loop.range_begin = one_bound ? cx_.constant(0, DType::Int32, s.span)
                                 : scalar(range["begin_or_end"]);
    loop.range_end = scalar(one_bound ? range["begin_or_end"] : range["end_or_none"]);
    loop.range_step = scalar(range["step"]);
    if (auto step = cx_.node(loop.range_step).op == OpKind::Constant
                        ? std::optional<std::string>(cx_.node(loop.range_step).number)
                        : std::nullopt;
        step && std::stoll(*step) <= 0)
      throw UserError("TypeError", "range() on the device needs a positive step", s.test->span);
    const std::string &name = s.targets[0]->id;
    loop.loop_index = cx_.build().loop_index(name, s.targets[0]->span);
    int index = loop.loop_index;
    lower_loop(std::move(loop), s.body,
               [&] { device_env_[name] = Operand::tensor(index); });
  }

  /// `while cond:` with a scalar condition, computed before each iteration.
  void lower_while(const ast::Stmt &s) {
    if (!s.orelse.empty())
      throw UserError("UnsupportedSyntax", "while ... else is not supported on the device",
                      s.span);
    Stmt loop;
    loop.kind = Stmt::Kind::While;
    loop.span = s.span;
    lower_loop(std::move(loop), s.body, [] {}, s.test.get());
  }

  /// Lowers a loop's body into `loop`, with every device value the body
  /// assigns carried through it; `bind_target` binds the loop variables
  /// inside the body. A while loop's `condition` is lowered into its own
  /// region, which reads the carried values too.
  template <typename BindTarget>
  void lower_loop(Stmt loop, const std::vector<ast::StmtPtr> &body, BindTarget bind_target,
                  const ast::Expr *condition = nullptr) {
    const SourceSpan span = loop.span;
    std::set<std::string> assigned;
    collect_assigned(body, assigned);
    for (const std::string &name : assigned) {
      auto it = device_env_.find(name);
      if (it == device_env_.end()) continue;
      // A Python number the body changes (`steps = steps + 1`) is a device
      // scalar from here on, so each iteration sees the last one's value.
      if (LoweringContext::is_scalar_operand(it->second))
        it->second = Operand::tensor(cx_.to_node(it->second, span));
      if (it->second.kind != Operand::Kind::Tensor) continue;
      ir::Carry carry;
      carry.name = name;
      carry.init = it->second.node;
      carry.arg = cx_.build().region_arg(cx_.type_of(carry.init), name);
      it->second = Operand::tensor(carry.arg);
      loop.carried.push_back(carry);
    }
    auto outer_env = device_env_;
    std::vector<Stmt> *outer_block = cx_.current_block();
    if (condition) {
      cx_.set_block(&loop.cond_body);
      loop.cond = scalar_condition(lower_expr(*condition), *condition, "while");
    }
    cx_.set_block(&loop.body);
    bind_target();
    lower_block(body);
    cx_.set_statement(span);
    for (ir::Carry &carry : loop.carried) {
      const ir::TensorType want = cx_.type_of(carry.init);
      carry.yielded = yielded_value(carry.name, want, "loop", span);
    }
    cx_.set_block(outer_block);
    device_env_ = outer_env; // names first bound inside the loop end with it
    for (ir::Carry &carry : loop.carried) {
      carry.result = cx_.build().region_result(cx_.type_of(carry.init), carry.name);
      device_env_[carry.name] = Operand::tensor(carry.result);
    }
    cx_.emit_stmt(std::move(loop));
  }

  /// The value `name` holds at the end of a region, as a tensor of `want`'s
  /// shape converted to its dtype.
  int yielded_value(const std::string &name, const ir::TensorType &want, const char *region,
                    const SourceSpan &span) {
    const Operand &now = device_env_.at(name);
    if (now.kind != Operand::Kind::Tensor)
      throw UserError("TypeError",
                      "'" + name + "' must stay a tensor in the " + std::string(region), span);
    if (cx_.type_of(now.node).dims != want.dims)
      throw UserError("ShapeMismatch",
                      "'" + name + "' changes shape inside the " + region + ", from " +
                          cx_.shape_text(want.dims) + " to " +
                          cx_.shape_text(cx_.type_of(now.node).dims),
                      span);
    return cx_.cast(now.node, want.dtype, span);
  }

  /// The condition of a device `if` or `while`: a bool scalar node.
  int scalar_condition(const Operand &value, const ast::Expr &test, const char *statement) {
    int node = cx_.to_node(value, test.span);
    if (cx_.type_of(node).rank() != 0)
      throw UserError("UnsupportedSyntax",
                      std::string("the condition of a device `") + statement +
                          "` must be a scalar; this one has shape " +
                          cx_.shape_text(cx_.type_of(node).dims) +
                          " (use torch.where to choose per element)",
                      test.span);
    return cx_.cast(node, DType::Bool, test.span);
  }

  /// One bound of an `hl.tile` range: a size the host knows, or (in a loop
  /// inside the kernel) a scalar computed on the device: `tile.begin`, a
  /// loaded offset. `sym` then holds a stand-in for the size hints.
  struct Bound {
    SymInt sym;
    int node = -1;
  };

  /// A registered block size becomes a tile call of one block with no loop:
  /// its config entry comes first, in source order, like Helion's.
  void add_registered_size(const RegisteredBlockSize &size) {
    ir::TileCall tc;
    tc.span = size.call->span;
    tc.registered = true;
    tc.fixed_block_sizes.resize(1);
    ir::BlockInfo b;
    b.kind = ir::BlockInfo::Kind::Tile;
    b.begin = sym_const(0);
    b.end = size.max;
    b.tile_call = static_cast<int>(kernel_.tile_calls.size());
    b.name_hint = "block_size";
    kernel_.blocks.push_back(b);
    tc.blocks.push_back(static_cast<int>(kernel_.blocks.size()) - 1);
    kernel_.tile_calls.push_back(tc);
    kernel_.registered_sizes.push_back({size.symbol, tc.blocks.back()});
  }

  /// The block of a registered block size `value` names, or -1.
  int registered_block(const HostValuePtr &value) const {
    if (!value || value->kind != HostValue::Kind::Int) return -1;
    for (const ir::RegisteredSize &r : kernel_.registered_sizes)
      if (sym_equal(r.symbol, value->sym)) return r.block;
    return -1;
  }

  /// The block for dimension `d` of a tile call with `block_size=` a
  /// registered size (`shared`): that size's own block when the loop covers
  /// its whole range and no enclosing loop iterates it already, else a new
  /// block of the same size.
  int shared_block(int shared, const Bound &begin, const Bound &end) {
    ir::BlockInfo &registered = kernel_.blocks[shared];
    bool open = std::find(open_blocks_.begin(), open_blocks_.end(), shared) != open_blocks_.end();
    bool whole_range = begin.node < 0 && end.node < 0 && sym_equal(begin.sym, sym_const(0)) &&
                       sym_equal(end.sym, registered.end);
    if (!open && whole_range) return shared;
    ir::BlockInfo b;
    b.kind = ir::BlockInfo::Kind::Tile;
    set_range(b, begin, end);
    b.size_from = shared;
    kernel_.blocks.push_back(b);
    return static_cast<int>(kernel_.blocks.size()) - 1;
  }

  Bound tile_bound(const Operand &o, bool is_grid, const SourceSpan &span) {
    if (o.is_host(HostValue::Kind::Int)) return {o.host->sym, -1};
    if (o.kind == Operand::Kind::Tile)
      throw UserError("TileOfTile",
                      "a tile cannot bound another hl.tile; use hl.tile(t.begin, t.end)", span);
    if (o.kind == Operand::Kind::Tensor && cx_.type_of(o.node).rank() == 0 &&
        is_integral(cx_.type_of(o.node).dtype)) {
      if (is_grid)
        throw UserError("NotAllowedOnDevice",
                        "the top-level hl.tile needs bounds known to the host; a bound computed "
                        "on the device fits a loop inside the kernel",
                        span);
      return {sym_const(dynamic_extent_hint(o.node)), o.node}; // code generation casts it
    }
    throw UserError("TypeError",
                    "hl.tile takes sizes: ints, sizes known on the host (x.size(0), [m, n]) or, "
                    "in a loop inside the kernel, int scalars such as tile.begin or a loaded "
                    "offset",
                    span);
  }

  /// A size to search block sizes for a range known only on the device: the
  /// enclosing tile's range for `tile.begin`/`tile.end`, else a default.
  int64_t dynamic_extent_hint(int node) const {
    const ir::Node &n = cx_.node(node);
    if (n.op == OpKind::TileBegin || n.op == OpKind::TileEnd)
      return std::max<int64_t>(sym_hint(kernel_.block(n.block).extent()), 1);
    return 64;
  }

  /// A block's range; with a bound computed on the device, [0, hint) stands in
  /// for the sizes and the nodes give the range itself.
  void set_range(ir::BlockInfo &b, const Bound &begin, const Bound &end) {
    bool dynamic = begin.node >= 0 || end.node >= 0;
    b.begin = dynamic ? sym_const(0) : begin.sym;
    b.end = dynamic ? sym_sub(end.sym, begin.node >= 0 ? sym_const(0) : begin.sym) : end.sym;
    if (!dynamic) return;
    const SourceSpan &span = cx_.statement();
    b.begin_value = begin.node >= 0 ? begin.node : cx_.build().host_int(begin.sym, span);
    b.end_value = end.node >= 0 ? end.node : cx_.build().host_int(end.sym, span);
  }

  /// The `block_size=` argument as written: the keyword's value or the third
  /// positional argument.
  static const ast::Expr &block_size_expr(const ast::Expr &call) {
    for (const ast::Keyword &kw : call.keywords)
      if (kw.arg == "block_size") return *kw.value;
    return call.elts.size() >= 3 ? *call.elts[2] : call;
  }

  /// Creates the blocks of an `hl.tile(...)` call.
  int make_tile_call(const ast::Expr &call, const ast::Expr &target, bool is_grid) {
    if (call.kind != EK::Call)
      throw UserError("InvalidDeviceForLoop", "expected hl.tile(...)", call.span);
    Operand callee = lower_expr(*call.func);
    // hl.grid iterates one index at a time: a tile of fixed size 1 whose loop
    // variable is that index.
    bool scalar_grid = callee.is_host(HostValue::Kind::Function) && callee.host->text == "hl.grid";
    CallArgs args = bind_call(scalar_grid ? grid_signature() : tile_signature(), call);
    std::vector<Bound> begins, ends;
    auto sizes = [&](const Operand &o) {
      std::vector<Bound> out;
      for (const Operand &item : o.kind == Operand::Kind::Tuple ? o.elements : items_of(o))
        out.push_back(tile_bound(item, is_grid, call.span));
      return out;
    };
    const Operand &last = is_none(args["end_or_none"]) ? args["begin_or_end"] : args["end_or_none"];
    if (is_none(args["end_or_none"])) {
      ends = sizes(args["begin_or_end"]);
      begins.assign(ends.size(), Bound{sym_const(0), -1});
    } else {
      begins = sizes(args["begin_or_end"]);
      ends = sizes(args["end_or_none"]);
      if (begins.size() != ends.size())
        throw UserError("IncorrectTileUsage", "hl.tile's begin and end have different lengths",
                        call.span);
    }
    std::vector<std::optional<int64_t>> fixed(ends.size());
    std::vector<int> shared(ends.size(), -1); // registered block sizes
    std::vector<SymInt> derived(ends.size()); // fixed per config by host arithmetic
    if (scalar_grid) fixed.assign(ends.size(), int64_t{1});
    if (!scalar_grid && !is_none(args["block_size"])) {
      const Operand &bs = args["block_size"];
      std::vector<HostValuePtr> items;
      if (bs.kind == Operand::Kind::Tuple)
        for (const Operand &e : bs.elements)
          items.push_back(e.host ? e.host : HostValue::make(HostValue::Kind::Unknown));
      else
        items = bs.is_host(HostValue::Kind::Tuple) ? bs.host->elements
                                                   : std::vector<HostValuePtr>{bs.host};
      if (items.size() != ends.size())
        throw UserError("RankMismatch", "block_size needs one entry per tiled dimension",
                        call.span);
      const ast::Expr &bs_expr = block_size_expr(call);
      for (size_t i = 0; i < items.size(); ++i) {
        if (items[i] && items[i]->kind == HostValue::Kind::None) continue;
        if ((shared[i] = registered_block(items[i])) >= 0) continue;
        bool listed = bs_expr.elts.size() == items.size();
        const ast::Expr &item = listed ? *bs_expr.elts[i] : bs_expr;
        TileBlockSize size = tile_block_size(items[i], unparse(item), item.span);
        fixed[i] = size.fixed;
        derived[i] = size.derived;
      }
    }
    std::vector<std::string> names;
    if (target.kind == EK::Name && ends.size() == 1) names.push_back(target.id);
    for (const auto &e : target.elts)
      names.push_back(e->kind == EK::Name ? e->id : "tile");

    ir::TileCall tc;
    tc.span = call.span;
    tc.is_grid = is_grid;
    tc.fixed_block_sizes = fixed;
    tc.derived_block_sizes = derived;
    tc.scalar_grid = scalar_grid;
    tc.list_form = last.is_host(HostValue::Kind::Tuple) || last.kind == Operand::Kind::Tuple;
    int call_index = static_cast<int>(kernel_.tile_calls.size());
    for (size_t d = 0; d < ends.size(); ++d) {
      std::string name = d < names.size() ? names[d] : "tile";
      if (shared[d] >= 0) {
        int block = shared_block(shared[d], begins[d], ends[d]);
        kernel_.blocks[block].name_hint = name;
        tc.blocks.push_back(block);
        continue;
      }
      ir::BlockInfo b;
      b.kind = ir::BlockInfo::Kind::Tile;
      set_range(b, begins[d], ends[d]);
      b.tile_call = call_index;
      b.dim_in_call = static_cast<int>(d);
      b.name_hint = name;
      kernel_.blocks.push_back(b);
      tc.blocks.push_back(static_cast<int>(kernel_.blocks.size()) - 1);
    }
    kernel_.tile_calls.push_back(tc);
    return call_index;
  }

  void bind_loop_target(const ast::Expr &target, int call) {
    const ir::TileCall &tc = kernel_.tile_calls[call];
    Operand tiles;
    tiles.kind = Operand::Kind::Tuple;
    for (int b : tc.blocks) {
      if (!tc.scalar_grid) {
        tiles.elements.push_back(Operand::tile(b));
        continue;
      }
      tiles.elements.push_back(Operand::tensor(
          cx_.build().tile_begin(b, target.span, kernel_.blocks[b].name_hint)));
    }
    Operand value = tc.list_form ? tiles : tiles.elements[0];
    if (target.kind == EK::Name) {
      device_env_[target.id] = value;
      return;
    }
    if (value.kind != Operand::Kind::Tuple || target.elts.size() != value.elements.size())
      throw UserError("TypeError",
                      "hl.tile over " + std::to_string(tc.blocks.size()) +
                          " dimensions gives that many tiles; unpack into as many names",
                      target.span);
    for (size_t i = 0; i < target.elts.size(); ++i) {
      if (target.elts[i]->kind != EK::Name)
        throw UserError("UnsupportedSyntax", "loop targets must be names", target.elts[i]->span);
      device_env_[target.elts[i]->id] = value.elements[i];
    }
  }

  // ---- expressions ------------------------------------------------------

  std::vector<Operand> lower_index(const ast::Expr &slice) {
    std::vector<Operand> items;
    auto one = [&](const ast::Expr &e) {
      if (e.kind == EK::Slice) {
        Operand o;
        o.kind = Operand::Kind::Slice;
        if (e.extra)
          throw UserError("UnsupportedSyntax",
                          "slices with a step are not supported on the device; use `a:b`", e.span);
        auto bound = [&](const ast::ExprPtr &b, int &node) -> SymInt {
          if (!b) return nullptr;
          Operand value = lower_expr(*b);
          // A bound computed on the device (`tile.begin * 2`, a loaded offset).
          if (value.kind == Operand::Kind::Tensor && cx_.type_of(value.node).dims.empty() &&
              is_integral(cx_.type_of(value.node).dtype) &&
              cx_.type_of(value.node).dtype != DType::Bool) {
            node = value.node;
            return nullptr;
          }
          if (!value.is_host(HostValue::Kind::Int))
            throw UserError("UnsupportedSyntax",
                            "slice bounds on the device are ints or sizes known to the host (e.g. "
                            "x[tile, :n] or x[tile, k:]) or int scalars computed on the device "
                            "(x[tile, a:a + n]); for a range of varying length use "
                            "hl.tile(begin, end)",
                            b->span);
          return value.host->sym;
        };
        o.slice_begin = bound(e.left, o.slice_begin_node);
        o.slice_end = bound(e.right, o.slice_end_node);
        items.push_back(o);
        return;
      }
      if (e.kind == EK::Constant && e.constant.kind == ast::ConstantKind::None) {
        Operand o;
        o.kind = Operand::Kind::NewAxis;
        items.push_back(o);
        return;
      }
      if (e.kind == EK::Constant && e.constant.kind == ast::ConstantKind::Ellipsis)
        throw UserError("UnsupportedSyntax", "`...` in a device subscript is not supported yet",
                        e.span);
      Operand item = lower_expr(e);
      if (item.kind == Operand::Kind::Tuple) // a tuple of tiles indexes several dims
        items.insert(items.end(), item.elements.begin(), item.elements.end());
      else
        items.push_back(item);
    };
    if (slice.kind == EK::Tuple)
      for (const auto &e : slice.elts)
        one(*e);
    else
      one(slice);
    return items;
  }

  /// `slice(stop)` / `slice(start, stop)` in an index list: `start:stop`.
  Operand slice_object(const ast::Expr &call) {
    EvaluatedArgs args = evaluate_arguments(call, {});
    if (!args.keywords.empty() || args.positional.empty() || args.positional.size() > 3 ||
        (args.positional.size() == 3 && !is_none(args.positional[2])))
      throw UserError("UnsupportedSyntax",
                      "slice() on the device takes stop or start, stop (step 1)", call.span);
    auto bound = [&](const Operand &o) -> SymInt {
      if (is_none(o)) return nullptr;
      if (!o.is_host(HostValue::Kind::Int))
        throw UserError("UnsupportedSyntax",
                        "slice bounds on the device are ints or sizes known to the host",
                        call.span);
      return o.host->sym;
    };
    Operand slice;
    slice.kind = Operand::Kind::Slice;
    bool one = args.positional.size() == 1;
    slice.slice_begin = one ? nullptr : bound(args.positional[0]);
    slice.slice_end = bound(args.positional[one ? 0 : 1]);
    return slice;
  }

  /// `tiles[1]` of a tuple built on the device (tiles, values): an int
  /// known when compiling picks the item, counted from the end when negative.
  Operand tuple_item(const Operand &tuple, const ast::Expr &index) {
    Operand i = lower_expr(index);
    auto n = i.is_host(HostValue::Kind::Int) ? sym_constant(i.host->sym) : std::nullopt;
    if (!n)
      throw UserError("InvalidSequenceSubscription",
                      "a tuple on the device is indexed by an int known when compiling",
                      index.span);
    int64_t size = static_cast<int64_t>(tuple.elements.size());
    int64_t at = *n < 0 ? *n + size : *n;
    if (at < 0 || at >= size)
      throw UserError("InvalidSequenceSubscription",
                      "tuple index " + std::to_string(*n) + " is out of range for a tuple of " +
                          std::to_string(size),
                      index.span);
    return tuple.elements[at];
  }

  /// `kwargs["name"]` of what a `**kwargs` parameter collected.
  Operand dict_item(const Operand &dict, const ast::Expr &index) {
    Operand key = lower_expr(index);
    if (!key.is_host(HostValue::Kind::String))
      throw UserError("InvalidSequenceSubscription",
                      "a **kwargs dict on the device is indexed by a string known when compiling",
                      index.span);
    for (size_t i = 0; i < dict.keys.size(); ++i)
      if (dict.keys[i] == key.host->text) return dict.elements[i];
    throw UserError("InvalidSequenceSubscription",
                    "the call passed no keyword argument '" + key.host->text + "'", index.span);
  }

  Operand lower_name(const ast::Expr &e) {
    auto it = device_env_.find(e.id);
    if (it != device_env_.end()) return it->second;
    auto h = host_env_.find(e.id);
    if (h != host_env_.end()) {
      if (h->second->kind == HostValue::Kind::Unknown)
        throw UserError("NotAllowedOnDevice",
                        "'" + e.id +
                            "' is computed by host code the compiler does not model, so device "
                            "code cannot use it; compute it from sizes and arguments",
                        e.span);
      return Operand::of_host(h->second, e.id);
    }
    if (one_branch_names_.count(e.id))
      throw UserError("UndefinedVariable",
                      "'" + e.id +
                          "' is assigned in only one branch of an if on the device; assign it "
                          "before the if or in both branches",
                      e.span);
    if (HostValuePtr g = host_.lookup_global(e.id)) return Operand::of_host(g, e.id);
    throw UserError("UndefinedVariable",
                    "name '" + e.id +
                        "' is not defined; define it before use or pass it as an argument",
                    e.span);
  }

  Operand lower_attribute(const ast::Expr &e) {
    Operand base = lower_expr(*e.value);
    const std::string &attr = e.id;
    if (base.is_host(HostValue::Kind::Module))
      return Operand::of_host(host_.module_attribute(base.host->text, attr, e.span));
    if (base.is_host(HostValue::Kind::Function))
      return Operand::of_host(
          HostValue::make(HostValue::Kind::Function, base.host->text + "." + attr));
    if (base.kind == Operand::Kind::Tile) return tile_attribute(cx_, base.block, attr, e.span);
    if (base.is_host(HostValue::Kind::Tensor)) return Operand::of_host(host_.eval(e));
    if (base.kind == Operand::Kind::Tensor) {
      if (attr == "dtype")
        return Operand::of_host(HostValue::make_dtype(cx_.type_of(base.node).dtype));
      if (attr == "T") return call_function("tensor.t", {base}, {}, e.span, &e);
      if (attr == "shape") return call_function("tensor.size", {base}, {}, e.span, &e);
      Operand method =
          Operand::of_host(HostValue::make(HostValue::Kind::Function, "tensor." + attr));
      method.elements.push_back(base);
      return method;
    }
    throw UserError("UnsupportedOp", "attribute '" + attr + "' is not supported here", e.span);
  }

  static const Signature &tile_signature() {
    static const Signature sig =
        Signature::parse("hl.tile", "(begin_or_end, end_or_none=None, /, block_size=None)");
    return sig;
  }
  static const Signature &grid_signature() {
    static const Signature sig =
        Signature::parse("hl.grid", "(begin_or_end, end_or_none=None, /, ~step=None)");
    return sig;
  }
  static const Signature &range_signature() {
    static const Signature sig =
        Signature::parse("range", "(begin_or_end, end_or_none=None, step=1, /)");
    return sig;
  }
  static const Signature &static_range_signature() {
    static const Signature sig =
        Signature::parse("hl.static_range", "(begin_or_end, end_or_none=None, /, step=1)");
    return sig;
  }

  struct EvaluatedArgs {
    std::vector<Operand> positional;
    std::vector<std::pair<std::string, Operand>> keywords;
  };

  /// The arguments of `call`, evaluated, after a method's `receiver`.
  EvaluatedArgs evaluate_arguments(const ast::Expr &call, std::vector<Operand> receiver) {
    EvaluatedArgs out;
    out.positional = std::move(receiver);
    for (const auto &a : call.elts) {
      if (a->kind != EK::Starred) {
        out.positional.push_back(lower_expr(*a));
        continue;
      }
      // f(*args): the items of a tuple known when compiling.
      Operand items = lower_expr(*a->value);
      if (items.kind == Operand::Kind::Tuple)
        out.positional.insert(out.positional.end(), items.elements.begin(), items.elements.end());
      else if (items.is_host(HostValue::Kind::Tuple))
        for (const HostValuePtr &item : items.host->elements)
          out.positional.push_back(Operand::of_host(item));
      else
        throw UserError("StarredArgsNotSupportedOnDevice",
                        "*x in a device call unpacks a tuple or list (a helper's *args "
                        "parameter); pass the arguments one by one",
                        a->span);
    }
    for (const ast::Keyword &kw : call.keywords) {
      if (!kw.arg.empty()) {
        out.keywords.emplace_back(kw.arg, lower_expr(*kw.value));
        continue;
      }
      // f(**kwargs): what a helper's **kwargs parameter collected.
      Operand items = lower_expr(*kw.value);
      if (items.kind != Operand::Kind::Dict)
        throw UserError("StarredArgsNotSupportedOnDevice",
                        "**x in a device call unpacks a helper's **kwargs parameter only; pass "
                        "the arguments by name",
                        kw.span);
      for (size_t i = 0; i < items.keys.size(); ++i)
        out.keywords.emplace_back(items.keys[i], items.elements[i]);
    }
    for (size_t i = 0; i < out.keywords.size(); ++i)
      for (size_t j = 0; j < i; ++j)
        if (out.keywords[i].first == out.keywords[j].first)
          throw UserError("TypeError",
                          "the call passes keyword argument '" + out.keywords[i].first +
                              "' twice",
                          call.span);
    return out;
  }

  /// The arguments of `call` bound to `sig` (hl.tile, hl.grid, hl.static_range).
  CallArgs bind_call(const Signature &sig, const ast::Expr &call) {
    EvaluatedArgs args = evaluate_arguments(call, {});
    CallArgs ca;
    ca.fn = sig.name();
    ca.signature = &sig;
    ca.bound = bind_operands(sig, args.positional, args.keywords, call.span);
    ca.call = &call;
    ca.span = call.span;
    return ca;
  }

  Operand lower_call(const ast::Expr &e) {
    Operand callee = lower_expr(*e.func);
    if (callee.is_callable()) {
      EvaluatedArgs args = evaluate_arguments(e, {});
      return invoke(callee, args.positional, args.keywords, e.span);
    }
    if (!callee.is_host(HostValue::Kind::Function))
      throw UserError("UnsupportedOp", "this call is not supported on the device", e.span);
    if (callee.host->text == "builtins.slice") return slice_object(e);
    // x.new_zeros(n) builds a device value even where x is a host tensor.
    static const std::set<std::string> device_methods = {"tensor.new_zeros", "tensor.new_ones",
                                                         "tensor.new_empty", "tensor.new_full"};
    if (callee.host->self && device_methods.count(callee.host->text)) {
      EvaluatedArgs args = evaluate_arguments(e, {Operand::of_host(callee.host->self)});
      return call_function(callee.host->text, std::move(args.positional),
                           std::move(args.keywords), e.span, &e);
    }
    if (callee.host->self) return Operand::of_host(host_.eval(e)); // x.size(0) and the like
    // float("-inf"), min(a, b), math.sqrt(d): host values known when compiling.
    bool host_function =
        callee.host->text.rfind("builtins.", 0) == 0 || callee.host->text.rfind("math.", 0) == 0;
    if (host_function) {
      HostValuePtr value = host_.eval(e);
      if (value->kind != HostValue::Kind::Unknown) return Operand::of_host(value);
    }
    EvaluatedArgs args = evaluate_arguments(e, callee.elements);
    return call_function(callee.host->text, std::move(args.positional), std::move(args.keywords),
                         e.span, &e);
  }

  Operand call_function(const std::string &fn, std::vector<Operand> args,
                        std::vector<std::pair<std::string, Operand>> keywords,
                        const SourceSpan &span, const ast::Expr *call) {
    const OpEntry *entry = LoweringRegistry::instance().find(fn);
    bool fragment = fn.rfind("fragment.", 0) == 0; // a tunable's search space
    if (fn == "hl.register_block_size" || fn == "hl.register_tunable" || fragment)
      throw UserError("UnsupportedOp",
                      (fragment ? fn.substr(9) : fn) +
                          " belongs in host code, before the device loop; bind its result to a "
                          "name there and use the name inside",
                      span);
    if (fn == "hl.barrier")
      throw UserError("BarrierOnlyAllowedAtTopLevel",
                      "hl.barrier() synchronizes the whole grid between two top-level device "
                      "loops; call it in host code, between the loops, not inside one",
                      span);
    if (!entry) {
      std::string shown = fn.rfind("tensor.", 0) == 0 ? "Tensor." + fn.substr(7) : fn;
      throw UserError("UnsupportedOp",
                      shown + " is not supported inside a device loop; supported are pointwise "
                              "math and activations, comparisons, torch.where, casts, reductions "
                              "(sum, mean, amax/amin, max/min, argmax/argmin, var/std, softmax, "
                              "logsumexp), matmuls (@, mm, bmm, addmm, baddbmm, hl.dot), views, "
                              "hl.zeros/hl.full, hl.load/hl.store and hl.atomic_*",
                      span);
    }
    CallArgs ca;
    ca.fn = fn;
    ca.signature = &entry->signature;
    ca.bound = bind_operands(entry->signature, args, keywords, span);
    ca.call = call;
    ca.span = span;
    return entry->lowering(cx_, ca);
  }

  /// A host expression's value when the compiler knows it, or the host
  /// variable it names; nullopt for a value computed at run time from host
  /// scalars (`1 - beta`), which the device then computes itself.
  std::optional<Operand> host_scalar_value(const ast::Expr &e) {
    HostValuePtr value = host_.eval(e);
    bool runtime = (value->kind == HostValue::Kind::Float && !value->number) ||
                   (value->kind == HostValue::Kind::Bool && !value->truth);
    if (runtime) return std::nullopt;
    return Operand::of_host(value);
  }

  /// `a and b` / `a or b`: operands known at compile time decide it there;
  /// the rest are scalars combined on the device (both sides are evaluated:
  /// device code has no side effects).
  /// `{"name": value, ...}` with string keys: what hl.inline_triton and
  /// hl.triton_kernel take as named arguments.
  Operand lower_dict(const ast::Expr &e) {
    Operand d;
    d.kind = Operand::Kind::Dict;
    for (size_t i = 0; i < e.keys.size(); ++i) {
      const ast::Expr *key = e.keys[i].get();
      if (!key || key->kind != EK::Constant || key->constant.kind != ast::ConstantKind::String)
        throw UserError("UnsupportedSyntax",
                        "a dict in device code needs string keys written as literals", e.span);
      d.keys.push_back(key->constant.string_value);
      d.elements.push_back(lower_expr(*e.elts.at(i)));
    }
    return d;
  }

  Operand lower_bool_op(const ast::Expr &e) {
    bool is_and = e.op == "And";
    std::optional<Operand> result;
    for (const auto &operand : e.elts) {
      Operand value = lower_expr(*operand);
      if (value.is_host(HostValue::Kind::Bool) && value.host->truth) {
        if (*value.host->truth != is_and) return value; // decides the whole expression
        continue;
      }
      int node = cx_.to_node(value, operand->span);
      if (cx_.type_of(node).rank() != 0)
        throw UserError("UnsupportedSyntax",
                        "`and`/`or` on the device takes scalars; for tensors use `&` / `|` or "
                        "torch.logical_and / torch.logical_or",
                        operand->span);
      Operand flag = Operand::tensor(cx_.cast(node, DType::Bool, operand->span));
      result = !result ? flag
                       : call_function(is_and ? "torch.logical_and" : "torch.logical_or",
                                       {*result, flag}, {}, e.span, &e);
    }
    return result ? *result : Operand::of_host(HostValue::make_bool(is_and));
  }

  bool all_host_scalars(const std::vector<Operand> &ops) {
    for (const Operand &o : ops)
      if (!LoweringContext::is_scalar_operand(o)) return false;
    return true;
  }

  Operand lower_expr(const ast::Expr &e) {
    switch (e.kind) {
    case EK::Name:
      return lower_name(e);
    case EK::Constant:
      return Operand::of_host(host_.eval(e));
    case EK::Attribute:
      return lower_attribute(e);
    case EK::Call:
      return lower_call(e);
    case EK::Subscript: {
      Operand base = lower_expr(*e.value);
      if (base.kind == Operand::Kind::Host && base.host->kind == HostValue::Kind::Tuple)
        return Operand::of_host(host_.eval(e));
      if (base.kind == Operand::Kind::Tuple) return tuple_item(base, *e.slice);
      if (base.kind == Operand::Kind::Dict) return dict_item(base, *e.slice);
      return lower_subscript_load(cx_, base, lower_index(*e.slice), e.span);
    }
    case EK::BinOp: {
      Operand a = lower_expr(*e.left), b = lower_expr(*e.right);
      if (all_host_scalars({a, b}))
        if (auto host = host_scalar_value(e)) return *host;
      auto fn = binop_functions().find(e.op);
      if (fn == binop_functions().end())
        throw UserError("UnsupportedOp", "operator " + e.op + " is not supported on the device",
                        e.span);
      return call_function(fn->second, {a, b}, {}, e.span, &e);
    }
    case EK::UnaryOp: {
      Operand v = lower_expr(*e.extra);
      if (all_host_scalars({v}))
        if (auto host = host_scalar_value(e)) return *host;
      if (e.op == "UAdd") return v;
      std::string fn = e.op == "USub"  ? "torch.neg"
                       : e.op == "Not" ? "torch.logical_not"
                                       : "torch.bitwise_not";
      return call_function(fn, {v}, {}, e.span, &e);
    }
    case EK::Compare: {
      if (e.ops.size() == 1 && (e.ops[0] == "Is" || e.ops[0] == "IsNot")) {
        HostValuePtr known = host_.eval(e);
        if (!known->truth)
          throw UserError("UnsupportedSyntax",
                          "`is` and `is not` on the device compare an argument with None only",
                          e.span);
        return Operand::of_host(known);
      }
      Operand left = lower_expr(*e.left);
      Operand result;
      for (size_t i = 0; i < e.ops.size(); ++i) {
        Operand right = lower_expr(*e.comparators[i]);
        auto fn = compare_functions().find(e.ops[i]);
        if (fn == compare_functions().end())
          throw UserError("UnsupportedOp",
                          "comparison " + e.ops[i] + " is not supported on the device", e.span);
        std::optional<Operand> host;
        auto host_non_tensor = [](const Operand &o) {
          return o.kind == Operand::Kind::Host && o.host->kind != HostValue::Kind::Tensor;
        };
        bool host_values = host_non_tensor(left) && host_non_tensor(right);
        if (host_values && e.ops.size() == 1) host = host_scalar_value(e);
        Operand r = host ? *host : call_function(fn->second, {left, right}, {}, e.span, &e);
        result = i == 0 ? r : call_function("torch.logical_and", {result, r}, {}, e.span, &e);
        left = right;
      }
      return result;
    }
    case EK::IfExp: {
      Operand test = lower_expr(*e.left);
      if (test.is_host(HostValue::Kind::Bool) && test.host->truth)
        return lower_expr(*test.host->truth ? *e.right : *e.extra);
      // Over a scalar condition both sides are computed and one is chosen.
      int cond = scalar_condition(test, *e.left, "... if ... else ...");
      return Operand::tensor(where_op(cx_, Operand::tensor(cond), lower_expr(*e.right),
                                      lower_expr(*e.extra), e.span));
    }
    case EK::Tuple:
    case EK::List: {
      Operand t;
      t.kind = Operand::Kind::Tuple;
      for (const auto &x : e.elts)
        t.elements.push_back(lower_expr(*x));
      return t;
    }
    case EK::Dict:
      return lower_dict(e);
    case EK::BoolOp:
      return lower_bool_op(e);
    case EK::Lambda: {
      Operand callable;
      callable.kind = Operand::Kind::Callable;
      callable.lambda = &e;
      return callable;
    }
    default:
      throw UserError("UnsupportedSyntax",
                      expression_name(e.kind) +
                          " is not supported inside a device loop; compute it with torch "
                          "operations or move it to host code",
                      e.span);
    }
  }

  const HostProgram &program_;
  const KernelInputs &inputs_;
  std::map<std::string, HostValuePtr> host_env_;
  HostEvaluator host_;
  ir::DeviceKernel kernel_;
  LoweringContext cx_;
  std::map<std::string, Operand> device_env_;
  /// By the host expression that reads the callable.
  std::map<std::string, std::shared_ptr<const CallableSpec>> callable_specs_;
  std::map<std::string, ForeignCallable> foreign_;
  /// Global functions device code calls, parsed from their source once.
  std::map<std::string, std::pair<std::unique_ptr<ast::Module>, const ast::Stmt *>>
      helper_functions_;
  static constexpr int kMaxInlineDepth = 16;
  int inline_depth_ = 0;
  bool inside_other_source_ = false;
  /// Blocks the loops around the statement being lowered iterate.
  std::vector<int> open_blocks_;
  /// Names only one branch of a device `if` defined: used after it, they are
  /// an error that says so.
  std::set<std::string> one_branch_names_;
};

} // namespace

ir::DeviceKernel lower_device(const HostProgram &program, const KernelInputs &inputs) {
  return DeviceLowering(program, inputs).run();
}

} // namespace helion::lower
