#include "lower/OpHelpers.h"
#include "support/Diagnostics.h"

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
public:
  DeviceLowering(const HostProgram &program, const KernelInputs &inputs)
      : program_(program), host_env_(program.env), host_(inputs, host_env_), cx_(kernel_) {}

  ir::DeviceKernel run() {
    const ast::Stmt &loop = *program_.grid_loop;
    cx_.set_statement(loop.span);
    int call = make_tile_call(*loop.test, *loop.targets[0], /*is_grid=*/true);
    kernel_.grid_call = call;
    cx_.set_block(&kernel_.body);
    bind_loop_target(*loop.targets[0], call);
    lower_block(loop.body);
    return std::move(kernel_);
  }

private:
  // ---- statements -------------------------------------------------------

  void lower_block(const std::vector<ast::StmtPtr> &body) {
    for (const auto &s : body) {
      cx_.set_statement(s->span);
      lower_stmt(*s);
    }
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
    case SK::Expr:
      if (s.value->kind == EK::Constant) return; // a docstring or a bare literal
      lower_expr(*s.value);
      return;
    case SK::Pass:
      return;
    case SK::Return:
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
    throw UserError("UnsupportedSyntax",
                    "`if` inside a device loop needs a condition known at compile time (a "
                    "constant or an hl.constexpr argument)",
                    s.test->span);
  }

  /// `for i in hl.static_range(n)` and `for x in (a, b)`: the body is
  /// lowered once per value, with the loop variable bound to it.
  bool lower_unrolled_loop(const ast::Stmt &s) {
    std::vector<Operand> values;
    if (s.test->kind == EK::Tuple || s.test->kind == EK::List) {
      Operand items = lower_expr(*s.test);
      values = items.elements;
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
    bool device_loop = iter.is_host(HostValue::Kind::Function) &&
                       (iter.host->text == "hl.tile" || iter.host->text == "hl.grid");
    if (!device_loop)
      throw UserError("InvalidDeviceForLoop",
                      "a for loop inside a device loop must iterate over hl.tile(...), "
                      "hl.grid(...), hl.static_range(...) or a tuple",
                      s.span);
    int call = make_tile_call(*s.test, *s.targets[0], /*is_grid=*/false);

    std::set<std::string> assigned;
    collect_assigned(s.body, assigned);
    Stmt loop;
    loop.kind = Stmt::Kind::TileLoop;
    loop.tile_call = call;
    loop.span = s.span;
    for (const std::string &name : assigned) {
      auto it = device_env_.find(name);
      if (it == device_env_.end() || it->second.kind != Operand::Kind::Tensor) continue;
      ir::Carry carry;
      carry.name = name;
      carry.init = it->second.node;
      carry.arg = cx_.build().region_arg(cx_.type_of(carry.init), name);
      it->second = Operand::tensor(carry.arg);
      loop.carried.push_back(carry);
    }

    auto outer_env = device_env_;
    std::vector<Stmt> *outer_block = cx_.current_block();
    cx_.set_block(&loop.body);
    bind_loop_target(*s.targets[0], call);
    lower_block(s.body);
    cx_.set_statement(s.span);
    for (ir::Carry &carry : loop.carried) {
      const Operand &now = device_env_.at(carry.name);
      if (now.kind != Operand::Kind::Tensor)
        throw UserError("TypeError", "'" + carry.name + "' must stay a tensor in the loop", s.span);
      const ir::TensorType &want = cx_.type_of(carry.init);
      if (cx_.type_of(now.node).dims != want.dims)
        throw UserError("ShapeMismatch",
                        "'" + carry.name + "' changes shape inside the loop, from " +
                            cx_.shape_text(want.dims) + " to " +
                            cx_.shape_text(cx_.type_of(now.node).dims),
                        s.span);
      carry.yielded = cx_.cast(now.node, want.dtype, s.span);
    }
    cx_.set_block(outer_block);
    device_env_ = outer_env; // names first bound inside the loop end with it
    for (ir::Carry &carry : loop.carried) {
      carry.result = cx_.build().region_result(cx_.type_of(carry.init), carry.name);
      device_env_[carry.name] = Operand::tensor(carry.result);
    }
    cx_.emit_stmt(std::move(loop));
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
    std::vector<SymInt> begins, ends;
    auto sizes = [&](const Operand &o) {
      std::vector<SymInt> out;
      if (o.is_host(HostValue::Kind::Int)) return std::vector<SymInt>{o.host->sym};
      if (o.is_host(HostValue::Kind::Tuple))
        if (auto shape = shape_of(*o.host)) return *shape;
      if (o.kind == Operand::Kind::Tuple) {
        for (const Operand &e : o.elements)
          if (e.is_host(HostValue::Kind::Int)) out.push_back(e.host->sym);
        if (out.size() == o.elements.size()) return out;
      }
      throw UserError("TypeError",
                      "hl.tile takes sizes known on the host: an int or a list of ints (e.g. "
                      "x.size(0) or [m, n])",
                      call.span);
    };
    const Operand &last = is_none(args["end_or_none"]) ? args["begin_or_end"] : args["end_or_none"];
    if (is_none(args["end_or_none"])) {
      ends = sizes(args["begin_or_end"]);
      begins.assign(ends.size(), sym_const(0));
    } else {
      begins = sizes(args["begin_or_end"]);
      ends = sizes(args["end_or_none"]);
      if (begins.size() != ends.size())
        throw UserError("RankMismatch", "hl.tile's begin and end have different lengths",
                        call.span);
    }
    std::vector<std::optional<int64_t>> fixed(ends.size());
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
      for (size_t i = 0; i < items.size(); ++i) {
        if (items[i] && items[i]->kind == HostValue::Kind::None) continue;
        auto c = items[i] && items[i]->kind == HostValue::Kind::Int ? sym_constant(items[i]->sym)
                                                                    : std::nullopt;
        if (!c || *c <= 0 || (*c & (*c - 1)))
          throw UserError("InvalidConfig", "block_size must be a power of two (or None)",
                          call.span);
        fixed[i] = *c;
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
    tc.scalar_grid = scalar_grid;
    tc.list_form = last.is_host(HostValue::Kind::Tuple) || last.kind == Operand::Kind::Tuple;
    int call_index = static_cast<int>(kernel_.tile_calls.size());
    for (size_t d = 0; d < ends.size(); ++d) {
      ir::BlockInfo b;
      b.kind = ir::BlockInfo::Kind::Tile;
      b.begin = begins[d];
      b.end = ends[d];
      b.tile_call = call_index;
      b.dim_in_call = static_cast<int>(d);
      b.name_hint = d < names.size() ? names[d] : "tile";
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
        if (e.left || e.right || e.extra)
          throw UserError("UnsupportedSyntax",
                          "slices with bounds are not supported on the device yet; use `:` or a "
                          "tile",
                          e.span);
        Operand o;
        o.kind = Operand::Kind::Slice;
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
    if (base.kind == Operand::Kind::Tile) return tile_attribute(base.block, attr, e.span);
    if (base.is_host(HostValue::Kind::Tensor)) return Operand::of_host(host_.eval(e));
    if (base.kind == Operand::Kind::Tensor) {
      if (attr == "dtype")
        return Operand::of_host(HostValue::make_dtype(cx_.type_of(base.node).dtype));
      if (attr == "T") return call_function("tensor.t", {base}, {}, e.span, &e);
      Operand method =
          Operand::of_host(HostValue::make(HostValue::Kind::Function, "tensor." + attr));
      method.elements.push_back(base);
      return method;
    }
    throw UserError("UnsupportedOp", "attribute '" + attr + "' is not supported here", e.span);
  }

  Operand tile_attribute(int block, const std::string &attr, const SourceSpan &span) {
    if (attr == "index") return Operand::tensor(cx_.build().tile_index(block, span));
    if (attr == "begin") return Operand::tensor(cx_.build().tile_begin(block, span));
    if (attr == "end") return Operand::tensor(cx_.build().tile_end(block, span));
    if (attr == "block_size") return Operand::tensor(cx_.build().tile_size(block, span));
    throw UserError("IncorrectTileUsage",
                    "a tile has no attribute '" + attr + "'; use index, begin, end or block_size",
                    span);
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
      if (a->kind == EK::Starred)
        throw UserError("UnsupportedSyntax", "*args in a device call is not supported", a->span);
      out.positional.push_back(lower_expr(*a));
    }
    for (const ast::Keyword &kw : call.keywords) {
      if (kw.arg.empty())
        throw UserError("UnsupportedSyntax", "**kwargs in a device call is not supported", kw.span);
      out.keywords.emplace_back(kw.arg, lower_expr(*kw.value));
    }
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
    if (!callee.is_host(HostValue::Kind::Function))
      throw UserError("UnsupportedOp", "this call is not supported on the device", e.span);
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
      return lower_subscript_load(cx_, base, lower_index(*e.slice), e.span);
    }
    case EK::BinOp: {
      Operand a = lower_expr(*e.left), b = lower_expr(*e.right);
      if (all_host_scalars({a, b})) return Operand::of_host(host_.eval(e));
      auto fn = binop_functions().find(e.op);
      if (fn == binop_functions().end())
        throw UserError("UnsupportedOp", "operator " + e.op + " is not supported on the device",
                        e.span);
      return call_function(fn->second, {a, b}, {}, e.span, &e);
    }
    case EK::UnaryOp: {
      Operand v = lower_expr(*e.extra);
      if (all_host_scalars({v})) return Operand::of_host(host_.eval(e));
      if (e.op == "UAdd") return v;
      std::string fn = e.op == "USub"  ? "torch.neg"
                       : e.op == "Not" ? "torch.logical_not"
                                       : "torch.bitwise_not";
      return call_function(fn, {v}, {}, e.span, &e);
    }
    case EK::Compare: {
      Operand left = lower_expr(*e.left);
      Operand result;
      for (size_t i = 0; i < e.ops.size(); ++i) {
        Operand right = lower_expr(*e.comparators[i]);
        auto fn = compare_functions().find(e.ops[i]);
        if (fn == compare_functions().end())
          throw UserError("UnsupportedOp",
                          "comparison " + e.ops[i] + " is not supported on the device", e.span);
        Operand r = all_host_scalars({left, right}) && e.ops.size() == 1
                        ? Operand::of_host(host_.eval(e))
                        : call_function(fn->second, {left, right}, {}, e.span, &e);
        result = i == 0 ? r : call_function("torch.logical_and", {result, r}, {}, e.span, &e);
        left = right;
      }
      return result;
    }
    case EK::IfExp: {
      Operand test = lower_expr(*e.left);
      if (test.is_host(HostValue::Kind::Bool) && test.host->truth)
        return lower_expr(*test.host->truth ? *e.right : *e.extra);
      throw UserError("UnsupportedSyntax",
                      "a conditional expression on the device needs a condition known at compile "
                      "time; use torch.where for values",
                      e.span);
    }
    case EK::Tuple:
    case EK::List: {
      Operand t;
      t.kind = Operand::Kind::Tuple;
      for (const auto &x : e.elts)
        t.elements.push_back(lower_expr(*x));
      return t;
    }
    case EK::BoolOp:
      throw UserError("UnsupportedSyntax",
                      "`and`/`or` on device values is not supported; use `&` / `|` or "
                      "torch.logical_and / torch.logical_or",
                      e.span);
    default:
      throw UserError("UnsupportedSyntax",
                      expression_name(e.kind) +
                          " is not supported inside a device loop; compute it with torch "
                          "operations or move it to host code",
                      e.span);
    }
  }

  const HostProgram &program_;
  std::map<std::string, HostValuePtr> host_env_;
  HostEvaluator host_;
  ir::DeviceKernel kernel_;
  LoweringContext cx_;
  std::map<std::string, Operand> device_env_;
};

} // namespace

ir::DeviceKernel lower_device(const HostProgram &program, const KernelInputs &inputs) {
  return DeviceLowering(program, inputs).run();
}

} // namespace helion::lower
