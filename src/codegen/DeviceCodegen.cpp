// The device function: its statements (loops, branches, the values they
// carry), the expression of each computed node, combine functions and the
// parameters. Blocks (BlockPlan), program ids (ProgramIds) and memory
// accesses (MemoryAccess) are decided by their own parts, which share the
// DeviceContext.

#include "codegen/BlockPlan.h"
#include "codegen/CodeWriter.h"
#include "codegen/DeviceContext.h"
#include "codegen/ExprTree.h"
#include "codegen/MemoryAccess.h"
#include "codegen/ProgramIds.h"
#include "codegen/PythonText.h"
#include "codegen/TritonCodegen.h"
#include "support/Diagnostics.h"
#include "support/Text.h"
#include "parse/Parser.h"
#include "parse/Unparse.h"

#include <functional>
#include <map>
#include <optional>
#include <set>

namespace helion::codegen {

using ir::Dim;
using ir::Node;
using ir::OpKind;
using ir::Stmt;

namespace {

/// Triton's spelling of a function that maps to one call, if it does.
const char *triton_function(ir::UnaryFn fn) {
  using ir::UnaryFn;
  switch (fn) {
  case UnaryFn::Exp: return "tl.exp";
  case UnaryFn::Log: return "tl.log";
  case UnaryFn::Sqrt: return "tl.sqrt";
  case UnaryFn::Rsqrt: return "tl.rsqrt";
  case UnaryFn::Sigmoid: return "tl.sigmoid";
  case UnaryFn::Tanh: return "libdevice.tanh";
  case UnaryFn::Abs: return "tl.abs";
  case UnaryFn::Sin: return "tl.sin";
  case UnaryFn::Cos: return "tl.cos";
  case UnaryFn::Exp2: return "tl.exp2";
  case UnaryFn::Log2: return "tl.log2";
  case UnaryFn::Log1p: return "libdevice.log1p";
  case UnaryFn::Expm1: return "libdevice.expm1";
  case UnaryFn::Floor: return "tl.floor";
  case UnaryFn::Ceil: return "tl.ceil";
  case UnaryFn::Erf: return "tl.erf";
  default: return nullptr;
  }
}

/// Python's infix operator for a binary function, if it is one.
std::optional<BinaryOp> infix_operator(ir::BinaryFn fn) {
  using ir::BinaryFn;
  switch (fn) {
  case BinaryFn::Add: return BinaryOp::Add;
  case BinaryFn::Sub: return BinaryOp::Sub;
  case BinaryFn::Mul: return BinaryOp::Mul;
  case BinaryFn::TrueDiv: return BinaryOp::TrueDiv;
  case BinaryFn::FloorDiv: return BinaryOp::FloorDiv;
  case BinaryFn::Mod: return BinaryOp::Mod;
  case BinaryFn::Eq: return BinaryOp::Eq;
  case BinaryFn::Ne: return BinaryOp::Ne;
  case BinaryFn::Lt: return BinaryOp::Lt;
  case BinaryFn::Le: return BinaryOp::Le;
  case BinaryFn::Gt: return BinaryOp::Gt;
  case BinaryFn::Ge: return BinaryOp::Ge;
  case BinaryFn::LogicalAnd:
  case BinaryFn::BitAnd: return BinaryOp::BitAnd;
  case BinaryFn::LogicalOr:
  case BinaryFn::BitOr: return BinaryOp::BitOr;
  case BinaryFn::BitXor: return BinaryOp::BitXor;
  case BinaryFn::ShiftLeft: return BinaryOp::ShiftLeft;
  case BinaryFn::ShiftRight: return BinaryOp::ShiftRight;
  default: return std::nullopt;
  }
}

/// One value as itself, several as a tuple.
Expr one_or_tuple(const std::vector<Expr> &items) {
  return items.size() == 1 ? items[0] : tuple(items);
}

/// `name=True` when `on`: a flag keyword argument Triton defaults to False.
std::vector<std::pair<std::string, Expr>> flag(bool on, const std::string &name) {
  if (!on) return {};
  return {{name, literal("True")}};
}

/// The `index`-th of a combined op's results, when it has several.
Expr result_of(Expr value, size_t results, int index) {
  return results == 1 ? value : subscript(std::move(value), {literal(index)});
}

/// The module-level name of each @triton.jit function the kernel calls
/// (hl.triton_kernel), apart from the user's globals and the other
/// functions of the module, which end in `_combine_<n>`.
std::vector<std::string> triton_function_names(const ir::DeviceKernel &kernel,
                                               const ModuleNames &module,
                                               const std::string &device_function) {
  std::vector<std::string> names;
  for (size_t i = 0; i < kernel.triton_functions.size(); ++i) {
    std::string fn = device_function + "_triton_" + std::to_string(i);
    while (module.binds(fn))
      fn += "_";
    names.push_back(fn);
  }
  return names;
}

/// Names no variable of the device function may take: the module's triton
/// functions, and every word of an hl.inline_triton snippet, so that a
/// snippet can neither read nor overwrite a variable of the generated code.
std::set<std::string> reserved_device_names(const ir::DeviceKernel &kernel,
                                            const std::vector<std::string> &triton_functions) {
  std::set<std::string> reserved(triton_functions.begin(), triton_functions.end());
  for (const Node &n : kernel.nodes)
    if (n.op == OpKind::InlineTriton)
      for (const std::string &word : words_in(n.text.at(0)))
        reserved.insert(word);
  return reserved;
}

/// `text` with every whole word that `replacements` names replaced.
std::string replace_words(const std::string &text,
                          const std::map<std::string, std::string> &replacements) {
  auto word_byte = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || static_cast<unsigned char>(c) >= 0x80;
  };
  std::string out;
  for (size_t i = 0; i < text.size();) {
    size_t end = i;
    while (end < text.size() && word_byte(text[end]))
      ++end;
    if (end == i) {
      out += text[i++];
      continue;
    }
    auto it = replacements.find(text.substr(i, end - i));
    out += it != replacements.end() ? it->second : text.substr(i, end - i);
    i = end;
  }
  return out;
}

class DeviceEmitter {
public:
  DeviceEmitter(const ir::DeviceKernel &kernel, const Config &config, const KernelInputs &inputs,
                const ModuleNames &module, std::string name, bool int64_indices)
      : triton_names_(triton_function_names(kernel, module, name)),
        ctx_(kernel, config, inputs, module, int64_indices,
             reserved_device_names(kernel, triton_names_)),
        k_(kernel), name_(std::move(name)),
        memory_(ctx_),
        program_ids_(ctx_, [this](const std::vector<Stmt> &body) { emit_block(body); }) {}

  DeviceFunction run() {
    ctx_.out.indent();
    memory_.emit_descriptors();
    std::string grid = program_ids_.emit_roots();
    ctx_.out.dedent();

    DeviceFunction fn;
    fn.name = name_;
    fn.barriers = program_ids_.barrier_count();
    fn.params = params();
    std::string signature;
    for (const KernelParam &p : fn.params) {
      if (!signature.empty()) signature += ", ";
      signature += p.name + (p.constexpr_ ? ": " + ctx_.module.constexpr_annotation() : "");
    }
    fn.text = triton_functions_text() + combine_functions_text() + "@" + ctx_.module.triton() + ".jit\ndef " + fn.name + "(" +
              signature + "):\n" + ctx_.names.with_module_aliases(ctx_.out.str());
    fn.grid = grid;
    return fn;
  }

private:
  // ---- statements ---------------------------------------------------------

  void emit_block(const std::vector<Stmt> &body) {
    for (const Stmt &s : body) {
      ctx_.out.set_source(s.span);
      switch (s.kind) {
      case Stmt::Kind::Compute: emit_compute(k_.node(s.value)); break;
      case Stmt::Kind::Store: memory_.emit_store(s); break;
      case Stmt::Kind::TileLoop:
      case Stmt::Kind::ReductionLoop: emit_loop(s); break;
      case Stmt::Kind::RangeLoop: emit_range_loop(s); break;
      case Stmt::Kind::If: emit_if(s); break;
      case Stmt::Kind::While: emit_while(s); break;
      }
    }
  }

  void assign(const Expr &var, const Expr &value) {
    ctx_.out.line(to_python(var) + " = " + to_python(value));
  }

  /// A region's statements one level deeper; `pass` if they wrote no code.
  void emit_region(const std::vector<Stmt> &body, const std::function<void()> &tail = {}) {
    ctx_.out.indent();
    int before = ctx_.out.code_lines();
    emit_block(body);
    if (tail) tail();
    if (ctx_.out.code_lines() == before) ctx_.out.line("pass");
    ctx_.out.dedent();
  }

  /// A value that a variable of a loop or branch takes: a literal is given
  /// its dtype, as Triton needs one type for the variable on every path.
  Expr typed_value(int id) {
    const Node &n = k_.node(id);
    if (n.op != OpKind::Constant) return ctx_.value(id);
    return call("tl.full", {list({}), literal(n.number), triton_dtype_expr(n.type.dtype)});
  }

  /// Writes `value` into `var` unless it is already there.
  void update(const Expr &var, const Expr &value) {
    if (to_python(value) != to_python(var)) assign(var, value);
  }

  /// Before a loop: each carried value starts in the variable that holds it
  /// inside the body and after the loop.
  void emit_carried_inits(const Stmt &s) {
    for (const ir::Carry &c : s.carried) {
      Expr var = carried_name(c);
      ctx_.values[c.arg] = var;
      ctx_.values[c.result] = var;
      update(var, typed_value(c.init));
    }
  }

  /// At the end of a loop body: the values for the next iteration.
  void emit_carried_yields(const Stmt &s) {
    for (const ir::Carry &c : s.carried)
      update(ctx_.values[c.arg], typed_value(c.yielded));
  }

  void emit_range_loop(const Stmt &s) {
    emit_carried_inits(s);
    std::string index = ctx_.names.user(k_.node(s.loop_index).name_hint);
    ctx_.values[s.loop_index] = name(index);
    Expr range =
        ctx_.blocks.range_call(ctx_.blocks.range_entry(s.loop_index), ctx_.value(s.range_begin),
                               ctx_.value(s.range_end), ctx_.value(s.range_step));
    ctx_.out.line("for " + index + " in " + to_python(range) + ":");
    emit_region(s.body, [&] { emit_carried_yields(s); });
    ctx_.out.forget_source();
  }

  void emit_if(const Stmt &s) {
    std::vector<Expr> results;
    for (const ir::Carry &c : s.carried) {
      results.push_back(name(ctx_.names.user(c.name)));
      ctx_.values[c.result] = results.back();
    }
    auto yields = [&](bool then_branch) {
      for (size_t i = 0; i < s.carried.size(); ++i) {
        const ir::Carry &c = s.carried[i];
        update(results[i], typed_value(then_branch ? c.yielded : c.else_yielded));
      }
    };
    ctx_.out.line("if " + to_python(ctx_.value(s.cond)) + ":");
    emit_region(s.body, [&] { yields(true); });
    ctx_.out.line("else:");
    emit_region(s.orelse, [&] { yields(false); });
    ctx_.out.forget_source();
  }

  /// The condition is computed before the loop and again at the end of each
  /// iteration, into the same variable.
  void emit_while(const Stmt &s) {
    emit_carried_inits(s);
    emit_block(s.cond_body);
    Expr cond = ctx_.value(s.cond);
    if (k_.node(s.cond).op == OpKind::Constant || k_.node(s.cond).op == OpKind::HostScalar) {
      // A condition no iteration can change: bind it once so the loop reads a variable.
      Expr var = name(ctx_.names.temporary());
      assign(var, cond);
      cond = var;
    }
    ctx_.out.line("while " + to_python(cond) + ":");
    emit_region(s.body, [&] {
      emit_carried_yields(s);
      emit_block(s.cond_body);
    });
    ctx_.out.forget_source();
  }

  void emit_loop(const Stmt &s) {
    const BlockPlans &plans = ctx_.blocks;
    emit_carried_inits(s);
    std::vector<int> blocks;
    if (s.kind == Stmt::Kind::ReductionLoop) {
      blocks.push_back(s.block);
    } else {
      std::vector<int> order = plans.loop_order(s.tile_call);
      const ir::TileCall &tc = k_.tile_calls[s.tile_call];
      for (size_t i = order.size(); i-- > 0;)
        blocks.push_back(tc.blocks[order[i]]); // slowest first
      if (!tc.blocks.empty() && plans.is_flat(tc.blocks.front())) {
        int leader = tc.blocks.front();
        const std::string &offset = plans.names(leader).offset;
        Expr range = plans.range_call(plans.tile_entry(leader), literal(0),
                                      ctx_.kernel_sym(plans.flat_extent(tc)), plans.size(leader));
        ctx_.out.line("for " + offset + " in " + to_python(range) + ":");
        ctx_.out.indent();
        emit_flat_indices(ctx_, s.tile_call, name(offset));
        blocks = {leader};
      }
    }
    for (int b : blocks) {
      if (plans.is_flat(b)) break;
      const std::string &offset = plans.names(b).offset;
      Expr range = s.kind == Stmt::Kind::ReductionLoop
                       ? call("tl.range", {ctx_.range_begin(b), ctx_.range_end(b), plans.size(b)})
                       : plans.range_call(plans.tile_entry(b), ctx_.range_begin(b),
                                          ctx_.range_end(b), plans.size(b));
      ctx_.out.line("for " + offset + " in " + to_python(range) + ":");
      ctx_.out.indent();
      emit_block_indices(ctx_, b, name(offset));
    }
    emit_block(s.body);
    emit_carried_yields(s);
    for (size_t i = 0; i < blocks.size(); ++i)
      ctx_.out.dedent();
    ctx_.out.forget_source();
  }

  Expr carried_name(const ir::Carry &c) {
    auto it = ctx_.values.find(c.arg);
    if (it != ctx_.values.end()) return it->second;
    // `acc = hl.zeros(...)` then a loop over `acc`: one variable throughout.
    auto init = ctx_.values.find(c.init);
    if (init != ctx_.values.end() && k_.node(c.init).name_hint == c.name) return init->second;
    return name(ctx_.names.user(c.name));
  }

  /// Computes a node into its variable. A node recomputed inside another
  /// reduction loop keeps its name, so the code reads the same each time.
  void emit_compute(const Node &n) {
    if (n.op == OpKind::Print) return emit_print(n);
    if (n.op == OpKind::TritonCall || n.op == OpKind::InlineTriton) return emit_triton(n);
    if (n.op == OpKind::TritonResult) return; // the call bound it
    Expr value = compute(n);
    if (n.op == OpKind::MaskFill && prints_as(value, to_python(ctx_.value(n.operands[0])))) {
      ctx_.values[n.id] = value; // nothing to mask: the same value
      return;
    }
    auto it = ctx_.values.find(n.id);
    Expr var = it != ctx_.values.end() ? it->second
               : n.name_hint.empty()   ? name(ctx_.names.temporary())
                                       : name(ctx_.names.user(n.name_hint));
    ctx_.values[n.id] = var;
    assign(var, value);
  }

  /// hl.device_print: a statement of its own; nothing reads its value.
  void emit_print(const Node &n) {
    Expr prefix = literal(python_literal(Json(n.text.at(0))));
    // Triton's interpreter prints a prefix only with values after it.
    if (n.operands.empty() && ctx_.inputs.settings.interpreter)
      return ctx_.out.line(to_python(call("print", {prefix})));
    std::vector<Expr> args = {prefix};
    for (int v : n.operands)
      args.push_back(ctx_.value(v));
    ctx_.out.line(to_python(call("tl.device_print", args)));
  }

  /// hl.triton_kernel and hl.inline_triton: the call (or the snippet's
  /// statements, then its last expression) bound to the variables of its
  /// results; a statement of its own when it returns nothing.
  void emit_triton(const Node &n) {
    Expr value = n.op == OpKind::TritonCall ? triton_call(n) : emit_snippet(n);
    if (n.results.empty()) {
      if (value) ctx_.out.line(to_python(value));
      return;
    }
    std::vector<Expr> vars;
    if (n.results.size() == 1) {
      vars.push_back(result_variable(n));
    } else {
      for (const Node &item : k_.nodes)
        if (item.op == OpKind::TritonResult && item.operands[0] == n.id)
          vars.push_back(result_variable(item));
    }
    ctx_.out.line(join_expressions(vars) + " = " + to_python(value));
  }

  Expr result_variable(const Node &n) {
    Expr var = n.name_hint.empty() ? name(ctx_.names.temporary()) : name(ctx_.names.user(n.name_hint));
    ctx_.values[n.id] = var;
    return var;
  }

  static std::string join_expressions(const std::vector<Expr> &items) {
    std::string text;
    for (const Expr &e : items)
      text += (text.empty() ? "" : ", ") + to_python(e);
    return text;
  }

  Expr triton_call(const Node &n) {
    std::vector<Expr> args;
    std::vector<std::pair<std::string, Expr>> keywords;
    for (size_t i = 0; i < n.operands.size(); ++i) {
      if (n.text.empty()) args.push_back(ctx_.value(n.operands[i]));
      else keywords.emplace_back(n.text[i], ctx_.value(n.operands[i]));
    }
    return call(triton_names_.at(n.callee), args, keywords);
  }

  /// Writes the snippet's statements, its arguments' expressions in place of
  /// their placeholders; returns its last expression when it has results.
  Expr emit_snippet(const Node &n) {
    std::map<std::string, std::string> arguments;
    for (size_t i = 0; i < n.operands.size(); ++i) {
      Expr value = ctx_.value(n.operands[i]);
      std::string text = to_python(value);
      arguments[n.text.at(1 + i)] =
          precedence_of(value) == Precedence::Atom ? text : "(" + text + ")";
    }
    ast::Module snippet = parse_module(n.text.at(0));
    size_t statements = snippet.body.size() - (n.results.empty() ? 0 : 1);
    for (size_t i = 0; i < statements; ++i)
      for (const std::string &line : split_lines(unparse(*snippet.body[i])))
        if (!line.empty()) ctx_.out.line(replace_words(line, arguments));
    if (n.results.empty()) return nullptr;
    return printed(replace_words(unparse(*snippet.body.back()->value), arguments),
                   Precedence::Or);
  }

  // ---- expressions --------------------------------------------------------

  /// hl.inline_asm_elementwise, which only a GPU can run (the launch under
  /// Triton's interpreter says so).
  Expr inline_asm(const Node &n) {
    std::vector<Expr> args;
    for (int a : n.operands)
      args.push_back(ctx_.value(a));
    return call("tl.inline_asm_elementwise",
                {literal(python_literal(Json(n.text.at(0)))),
                 literal(python_literal(Json(n.text.at(1)))), list(args)},
                {{"dtype", triton_dtype_expr(n.type.dtype)},
                 {"is_pure", literal(n.pure ? "True" : "False")},
                 {"pack", literal(n.pack)}});
  }

  Expr unary_value(const Node &n, const Expr &x) {
    using ir::UnaryFn;
    switch (n.unary_fn()) {
    case UnaryFn::Neg: return unary(UnaryOp::Neg, x);
    case UnaryFn::Relu: return call("tl.maximum", {x, literal(0)});
    case UnaryFn::LogicalNot: return binary(BinaryOp::Eq, x, literal(0));
    case UnaryFn::BitwiseNot: return unary(UnaryOp::Invert, x);
    default: break;
    }
    if (ctx_.inputs.settings.interpreter) {
      // Triton's interpreter has no libdevice.
      if (n.unary_fn() == UnaryFn::Tanh)
        return literal(2) * call("tl.sigmoid", {literal(2) * x}) - literal(1);
      if (n.unary_fn() == UnaryFn::Log1p) return call("tl.log", {literal(1) + x});
      if (n.unary_fn() == UnaryFn::Expm1) return call("tl.exp", {x}) - literal(1);
    }
    const char *fn = triton_function(n.unary_fn());
    check_internal(fn != nullptr, std::string("no triton spelling for ") + ir::name(n.unary_fn()));
    return call(fn, {x});
  }

  Expr binary_value(const Node &n, const Expr &a, const Expr &b) {
    using ir::BinaryFn;
    switch (n.binary_fn()) {
    case BinaryFn::Maximum: return call("tl.maximum", {a, b});
    case BinaryFn::Minimum: return call("tl.minimum", {a, b});
    case BinaryFn::Pow:
      if (ctx_.inputs.settings.interpreter) return call("tl.exp2", {call("tl.log2", {a}) * b});
      return call("libdevice.pow", {a, b});
    default: break;
    }
    std::optional<BinaryOp> op = infix_operator(n.binary_fn());
    check_internal(op.has_value(),
                   std::string("no triton spelling for ") + ir::name(n.binary_fn()));
    Expr value = binary(*op, a, b);
    // Triton divides 16-bit floats in float32; torch rounds back to the input type.
    if (n.binary_fn() == BinaryFn::TrueDiv && dtype_bytes(n.type.dtype) == 2 &&
        is_floating(n.type.dtype))
      return method(value, "to", {triton_dtype_expr(n.type.dtype)});
    return value;
  }

  Expr cast_value(const Node &n) {
    Expr v = ctx_.value(n.operands[0]);
    if (n.type.dtype == DType::Bool) return binary(BinaryOp::Ne, v, literal(0));
    // A scalar argument may arrive as a Python number, which has no `.to`:
    // Triton specializes an int equal to 1 as a constant, and its
    // interpreter passes floats as Python floats. tl.cast takes both.
    const Node &from = k_.node(n.operands[0]);
    if (from.op == OpKind::HostScalar) return call("tl.cast", {v, triton_dtype_expr(n.type.dtype)});
    if (from.type.dtype == n.type.dtype) return v; // e.g. after widen_dot_results
    return method(v, "to", {triton_dtype_expr(n.type.dtype)});
  }

  Expr mask_fill(const Node &n, int rank) {
    int axis = -1;
    for (size_t i = 0; i < n.type.dims.size(); ++i)
      if (n.type.dims[i] == Dim::of_block(n.block)) axis = ctx_.blocks.cg_axis(n.type.dims, i);
    Expr mask = axis < 0 ? nullptr : ctx_.blocks.block_mask(n.block, axis, rank);
    if (!mask) return ctx_.value(n.operands[0]);
    return call("tl.where", {mask, ctx_.value(n.operands[0]), literal(n.number)});
  }

  Expr arange(const Node &n) {
    const Dim &d = n.type.dims.at(0);
    if (d.is_block()) ctx_.blocks.reject_flat(n.type.dims, "hl.arange");
    Expr size = d.is_block() ? ctx_.blocks.size(d.block) : literal(d.size);
    Expr values = call("tl.arange", {literal(0), size});
    return n.number == "0" ? values : values + literal(n.number);
  }

  Expr random(const Node &n, const Expr &offsets) {
    Expr seed = ctx_.value(n.operands[0]);
    if (n.type.dtype == DType::Float32) return call("tl.rand", {seed, offsets});
    return method(call("tl.randint", {seed, offsets}), "to", {name("tl.int32")},
                  {{"bitcast", literal("True")}});
  }

  Expr dot(const Node &n) {
    ctx_.blocks.reject_flat(k_.node(n.operands[0]).type.dims, "a matmul");
    ctx_.blocks.reject_flat(k_.node(n.operands[1]).type.dims, "a matmul");
    std::vector<std::pair<std::string, Expr>> keywords;
    if (n.operands.size() > 2) keywords.emplace_back("acc", ctx_.value(n.operands[2]));
    if (k_.node(n.operands[0]).type.dtype == DType::Float32)
      keywords.emplace_back("input_precision",
                            literal("'" + ctx_.inputs.settings.dot_precision + "'"));
    keywords.emplace_back("out_dtype", name("tl.float32"));
    return call("tl.dot", {ctx_.value(n.operands[0]), ctx_.value(n.operands[1])}, keywords);
  }

  Expr permute(const Node &n) {
    ctx_.blocks.reject_flat(n.type.dims, "a permute");
    std::vector<Expr> perm;
    for (int p : n.perm)
      perm.push_back(literal(p));
    return call("tl.permute", {ctx_.value(n.operands[0]), tuple(perm)});
  }

  Expr compute(const Node &n) {
    int rank = ctx_.blocks.cg_rank(n.type.dims);
    auto operand = [&](size_t i) { return ctx_.value_at_rank(n.operands.at(i), rank); };
    switch (n.op) {
    case OpKind::TileBegin:
    case OpKind::TileEnd:
    case OpKind::TileSize:
      if (ctx_.blocks.is_flat(n.block))
        throw UserError("InvalidConfig", "tile.begin/end/block_size need an unflattened hl.tile; "
                                         "give one block size per dimension");
      break;
    default: break;
    }
    switch (n.op) {
    case OpKind::TileBegin: return name(ctx_.blocks.names(n.block).offset);
    case OpKind::TileSize: return ctx_.blocks.size(n.block);
    case OpKind::TileEnd:
      return call("tl.minimum",
                  {name(ctx_.blocks.names(n.block).offset) + ctx_.blocks.size(n.block),
                   ctx_.range_end(n.block)});
    case OpKind::Full:
      return call("tl.full", {ctx_.shape_list(n.type.dims), ctx_.value(n.operands[0]),
                              triton_dtype_expr(n.type.dtype)});
    case OpKind::Load: return memory_.load(n);
    case OpKind::Atomic: return memory_.atomic(n);
    case OpKind::Unary: return unary_value(n, operand(0));
    case OpKind::Binary: return binary_value(n, operand(0), operand(1));
    case OpKind::Where: return call("tl.where", {operand(0), operand(1), operand(2)});
    case OpKind::Cast: return cast_value(n);
    case OpKind::MaskFill: return mask_fill(n, rank);
    case OpKind::Reduce: return reduce(n);
    case OpKind::CombineReduce: return combine_reduce(n);
    case OpKind::Arange: return arange(n);
    case OpKind::Random: return random(n, operand(1));
    case OpKind::Scan: return scan(n);
    case OpKind::Dot: return dot(n);
    case OpKind::Reshape:
      if (n.regroup) {
        ctx_.blocks.reject_flat(n.type.dims, "a reshape that merges or splits dimensions");
        ctx_.blocks.reject_flat(k_.node(n.operands[0]).type.dims,
                                "a reshape that merges or splits dimensions");
        return call("tl.reshape", {ctx_.value(n.operands[0]), ctx_.shape_list(n.type.dims)});
      }
      return reshape(n);
    case OpKind::InlineAsm: return inline_asm(n);
    case OpKind::Join:
      return call("tl.join", {ctx_.value(n.operands[0]), ctx_.value(n.operands[1])});
    case OpKind::Split:
      return subscript(call("tl.split", {ctx_.value(n.operands[0])}), {literal(n.result_index)});
    case OpKind::Permute: return permute(n);
    default: break;
    }
    throw InternalError("no code for device operation %" + std::to_string(n.id));
  }

  /// The first `count` operands of a combined reduction or scan, each with
  /// the lanes `mask` excludes replaced by its fill value (the operand
  /// `count` places later).
  std::vector<Expr> masked_inputs(const Node &n, size_t count, const Expr &mask) {
    std::vector<Expr> inputs;
    for (size_t i = 0; i < count; ++i) {
      Expr value = ctx_.value(n.operands[i]);
      if (mask) value = call("tl.where", {mask, value, ctx_.value(n.operands[count + i])});
      inputs.push_back(value);
    }
    return inputs;
  }

  Expr scan(const Node &n) {
    const Dim &axis_dim = k_.node(n.operands[0]).type.dims.at(n.axis);
    ctx_.blocks.reject_flat_axis(axis_dim, "scanned along");
    // Lanes past the end of the axis come after every valid lane, so a
    // forward scan leaves the valid ones as they are; a reverse scan meets
    // them first, so they must hold the combine function's identity.
    size_t count = k_.combine_fns.at(n.combine).results.size();
    bool fills = n.operands.size() > count;
    int axis = ctx_.blocks.cg_axis(n.type.dims, n.axis);
    Expr mask = n.reverse
                    ? ctx_.blocks.block_mask(axis_dim.block, axis, ctx_.blocks.cg_rank(n.type.dims))
                    : nullptr;
    if (mask && !fills)
      throw UserError("InvalidConfig",
                      "a reverse scan with a combine function of your own needs whole blocks "
                      "along its dimension (the padding has no identity); use a block size "
                      "that divides the dimension, or a power-of-two length");
    std::vector<Expr> inputs = masked_inputs(n, count, mask);
    Expr scanned = call("tl.associative_scan",
                        {one_or_tuple(inputs), literal(axis), name(combine_name(n.combine))},
                        flag(n.reverse, "reverse"));
    return result_of(scanned, count, n.result_index);
  }

  Expr reduce(const Node &n) {
    int operand = n.operands[0];
    const ir::TensorType &in = k_.node(operand).type;
    Expr value = ctx_.value(operand);
    const Dim &axis_dim = in.dims.at(n.axis);
    ctx_.blocks.reject_flat_axis(axis_dim, "reduced over");
    int axis = ctx_.blocks.cg_axis(in.dims, n.axis);
    // After a reduction loop the accumulator's masked lanes already hold the identity.
    if (axis_dim.is_block() && k_.node(operand).op != OpKind::RegionResult) {
      if (Expr mask = ctx_.blocks.block_mask(axis_dim.block, axis, ctx_.blocks.cg_rank(in.dims)))
        value =
            call("tl.where", {mask, value, literal(ir::identity_literal(n.reduce_fn(), in.dtype))});
    }
    Expr reduced = call(std::string("tl.") + ir::name(n.reduce_fn()), {value, literal(axis)},
                        flag(n.keepdim, "keep_dims"));
    // Triton's positions are int32; torch's are int64.
    if (ir::yields_index(n.reduce_fn())) return method(reduced, "to", {name("tl.int64")});
    return reduced;
  }

  Expr combine_reduce(const Node &n) {
    size_t count = n.operands.size() / 2; // the inputs, then one fill value each
    const ir::TensorType &in = k_.node(n.operands[0]).type;
    const Dim &axis_dim = in.dims.at(n.axis);
    ctx_.blocks.reject_flat_axis(axis_dim, "reduced over");
    int axis = ctx_.blocks.cg_axis(in.dims, n.axis);
    Expr mask = ctx_.blocks.block_mask(axis_dim.block, axis, ctx_.blocks.cg_rank(in.dims));
    std::vector<Expr> inputs = masked_inputs(n, count, mask);
    Expr reduced =
        call("tl.reduce", {one_or_tuple(inputs), literal(axis), name(combine_name(n.combine))},
             flag(n.keepdim, "keep_dims"));
    return result_of(reduced, inputs.size(), n.result_index);
  }

  Expr reshape(const Node &n) {
    std::vector<Dim> in = ctx_.blocks.cg_shape(k_.node(n.operands[0]).type.dims);
    std::vector<Dim> out = ctx_.blocks.cg_shape(n.type.dims);
    // Inserting size-1 axes reads best as `x[:, None]`.
    std::vector<Expr> index;
    size_t j = 0;
    bool only_inserts = true;
    for (const Dim &d : out) {
      if (j < in.size() && in[j] == d) {
        index.push_back(full_slice());
        ++j;
      } else if (d == Dim::constant(1)) {
        index.push_back(name("None"));
      } else {
        only_inserts = false;
      }
    }
    if (only_inserts && j == in.size() && !index.empty())
      return subscript(ctx_.value(n.operands[0]), std::move(index));
    return call("tl.reshape", {ctx_.value(n.operands[0]), ctx_.shape_list(n.type.dims)});
  }

  // ---- combine functions ----------------------------------------------------

  /// The @triton.jit function of combine function `index`, named apart from
  /// the user's globals.
  std::string combine_name(int index) {
    auto it = combine_names_.find(index);
    if (it != combine_names_.end()) return it->second;
    std::string combine = name_ + "_combine_" + std::to_string(index);
    while (ctx_.module.binds(combine))
      combine += "_";
    return combine_names_[index] = combine;
  }

  /// The combine functions the kernel uses, each a @triton.jit function of
  /// scalars (the left values, then the right ones), with its own variables.
  std::string combine_functions_text() {
    std::string text;
    for (const auto &[index, combine] : combine_names_) {
      const ir::CombineFn &fn = k_.combine_fns.at(index);
      CodeWriter body(split_lines(ctx_.inputs.context.source), ctx_.inputs.context.first_line);
      std::swap(ctx_.out, body);
      std::map<int, Expr> kernel_values = std::move(ctx_.values);
      ctx_.values.clear();
      std::string signature;
      for (size_t i = 0; i < fn.params.size(); ++i) {
        bool left = i < fn.params.size() / 2;
        std::string param = ctx_.names.generated(left ? "left" : "right");
        signature += (signature.empty() ? "" : ", ") + param;
        ctx_.values[fn.params[i]] = name(param);
      }
      ctx_.out.indent();
      emit_block(fn.body);
      std::string returned;
      for (int r : fn.results)
        returned += (returned.empty() ? "" : ", ") + to_python(ctx_.value(r));
      ctx_.out.line("return " + returned);
      ctx_.out.dedent();
      text += "@" + ctx_.module.triton() + ".jit\ndef " + combine + "(" + signature + "):\n" +
              ctx_.names.with_module_aliases(ctx_.out.str()) + "\n\n";
      std::swap(ctx_.out, body);
      ctx_.values = std::move(kernel_values);
    }
    return text;
  }

  /// The @triton.jit functions the kernel calls, each under its module name.
  std::string triton_functions_text() const {
    std::string text;
    for (size_t i = 0; i < k_.triton_functions.size(); ++i) {
      const ir::TritonFunction &fn = k_.triton_functions[i];
      // The `def` line names the function as the user did; only that name changes.
      size_t at = fn.source.find_first_not_of(" \t", fn.source.find("def") + 3);
      std::string source =
          fn.source.substr(0, at) + triton_names_[i] + fn.source.substr(at + fn.name.size());
      if (!source.empty() && source.back() != '\n') source += "\n";
      text += "@" + ctx_.module.triton() + ".jit\n" + ctx_.names.with_module_aliases(source) +
              "\n\n";
    }
    return text;
  }

  // ---- parameters ---------------------------------------------------------

  std::vector<KernelParam> params() const {
    std::vector<KernelParam> out;
    for (size_t i = 0; i < k_.tensors.size(); ++i)
      out.push_back({ctx_.tensor_names[i], k_.tensors[i].name, false});
    for (const auto &[key, var] : ctx_.sym_vars)
      out.push_back({var, key.second, false});
    for (size_t i = 0; i < k_.scalars.size(); ++i)
      out.push_back({ctx_.scalar_names[i], k_.scalars[i].name, false});
    for (int b = 0; b < ctx_.blocks.count(); ++b) {
      const BlockPlan &plan = ctx_.blocks.plan(b);
      if (plan.flat_leader < 0 || plan.flat_leader == b)
        out.push_back({plan.size, plan.size_host, true});
    }
    for (const KernelParam &p : program_ids_.barrier_params())
      out.push_back(p);
    return out;
  }

  std::vector<std::string> triton_names_; ///< triton function -> its name in the module
  DeviceContext ctx_;
  const ir::DeviceKernel &k_;
  std::string name_;
  MemoryAccess memory_;
  ProgramIds program_ids_;
  std::map<int, std::string> combine_names_; ///< combine function -> its @triton.jit function
};

} // namespace

DeviceFunction generate_device_function(const ir::DeviceKernel &kernel, const Config &config,
                                        const KernelInputs &inputs, const ModuleNames &names,
                                        const std::string &name, bool int64_indices) {
  return DeviceEmitter(kernel, config, inputs, names, name, int64_indices).run();
}

} // namespace helion::codegen
