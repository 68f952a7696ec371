#pragma once

// Lowering of device code (the body of the grid loop) from the syntax tree to
// the device IR. Torch ops are lowered by functions registered per op family
// (Elementwise.cpp, Reduction.cpp, Matmul.cpp, Creation.cpp, View.cpp); the
// statement walker and subscripts live in DeviceLowering.cpp / Indexing.cpp.

#include "ir/Builder.h"
#include "parse/Ast.h"
#include "types/HostTypes.h"
#include "types/OpSignature.h"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace helion::lower {

/// What a device expression evaluates to before it becomes IR.
struct Operand {
  enum class Kind {
    Tensor,  ///< an IR node (`node`); scalars are rank-0 nodes
    Host,    ///< a host value (`host`) read by device code, bound to `host_name`
    Tile,    ///< a tile loop variable (`block`)
    Tuple,   ///< `elements`
    Dict,    ///< `elements` by `keys`: what a `**kwargs` parameter collects
    Slice,    ///< a full slice `:`
    NewAxis,  ///< None in a subscript
    Callable, ///< a function the device code calls or passes: `lambda` or `def`
  };
  Kind kind = Kind::Host;
  int node = -1;
  HostValuePtr host;
  std::string host_name;
  int block = -1;
  std::vector<Operand> elements;
  std::vector<std::string> keys; ///< Dict: the key of each of `elements`
  /// Slice: the bounds of `a:b` (null where left out).
  SymInt slice_begin, slice_end;
  /// Slice: bounds computed on the device (int scalar nodes), else -1; the
  /// SymInt of such a bound is null.
  int slice_begin_node = -1, slice_end_node = -1;
  /// Callable: a lambda in the kernel, or a module-level function (`def`).
  const ast::Expr *lambda = nullptr;
  const ast::Stmt *function = nullptr;
  /// Callable: the host expression of a callable argument (or of a function
  /// one captured) whose source this is; empty for the kernel's own.
  std::string callable_path;

  static Operand tensor(int node) {
    Operand o;
    o.kind = Kind::Tensor;
    o.node = node;
    return o;
  }
  static Operand tile(int block) {
    Operand o;
    o.kind = Kind::Tile;
    o.block = block;
    return o;
  }
  static Operand of_host(HostValuePtr v, std::string name = "") {
    Operand o;
    o.kind = Kind::Host;
    o.host = std::move(v);
    o.host_name = std::move(name);
    return o;
  }
  bool is_host(HostValue::Kind k) const { return kind == Kind::Host && host && host->kind == k; }
  /// A function the device code can call: a lambda, a global `def` (a host
  /// Function named "global.<name>") or a callable argument (kCallablePrefix).
  bool is_callable() const {
    return kind == Kind::Callable ||
           (is_host(HostValue::Kind::Function) && (host->text.rfind("global.", 0) == 0 ||
                                                   host->text.rfind(kCallablePrefix, 0) == 0));
  }
};

/// The evaluated arguments of a call in device code, bound to the op's
/// parameters by name (defaults filled in).
struct CallArgs {
  std::string fn; ///< the qualified name ("torch.exp", "tensor.sum", "hl.zeros")
  const Signature *signature = nullptr;
  BoundArgs<Operand> bound;
  const ast::Expr *call = nullptr;
  SourceSpan span;

  /// The value of parameter `name`, given or defaulted.
  const Operand &operator[](const std::string &name) const { return bound[name]; }
  bool given(const std::string &name) const { return bound.given(name); }
};

/// Binds device call arguments (a method's receiver first) to `sig`.
BoundArgs<Operand> bind_operands(const Signature &sig, const std::vector<Operand> &args,
                                 const std::vector<std::pair<std::string, Operand>> &keywords,
                                 const SourceSpan &span);

class LoweringContext;
using OpLowering = std::function<Operand(LoweringContext &, const CallArgs &)>;

/// An op's parameters and its lowering.
struct OpEntry {
  Signature signature;
  OpLowering lowering;
};

/// Op lowerings by qualified name, each with its parameters. Each family file
/// registers its own.
class LoweringRegistry {
public:
  static const LoweringRegistry &instance();
  /// `name` is "torch.<fn>", "tensor.<method>" (the receiver is the first of
  /// `params`), "torch.nn.functional.<fn>" or "hl.<fn>"; `params` is
  /// Signature::parse's text.
  void add(const std::string &name, const std::string &params, OpLowering fn);
  /// torch.<name> and the method Tensor.<name>, with the same parameters.
  void add_both(const std::string &name, const std::string &params, const OpLowering &fn);
  const OpEntry *find(const std::string &name) const;
  std::vector<std::string> names() const;

private:
  std::map<std::string, OpEntry> table_;
};

void register_elementwise(LoweringRegistry &r);
void register_reduction(LoweringRegistry &r);
void register_matmul(LoweringRegistry &r);
void register_creation(LoweringRegistry &r);
void register_view(LoweringRegistry &r);
void register_indexing(LoweringRegistry &r);
void register_tiles(LoweringRegistry &r);
void register_combine(LoweringRegistry &r);
void register_random(LoweringRegistry &r);
void register_escapes(LoweringRegistry &r);
void register_triton_escapes(LoweringRegistry &r);

/// `tile.<attr>` of the tile over `block`: index, begin, end, block_size, id, count.
Operand tile_attribute(LoweringContext &cx, int block, const std::string &attr,
                       const SourceSpan &span);

/// A dimension's `block_size=` of an hl.tile: a constant, or a value the
/// config fixes through host arithmetic on its tunables (`derived`).
struct TileBlockSize {
  std::optional<int64_t> fixed;
  SymInt derived;
};

/// Reads the `block_size=` entry `value` (spelled `text` in the source) of
/// one dimension: a power of two known when compiling, possibly per config.
/// A value that depends on sizes or ints known only when the kernel runs, or
/// on tensor data, is a UserError saying how to make it a constant.
TileBlockSize tile_block_size(const HostValuePtr &value, const std::string &text,
                              const SourceSpan &span);

/// What the op lowerings share: the IR builder (positioned at the block being
/// built), operand conversion and torch's dtype rules.
class LoweringContext {
public:
  LoweringContext(ir::DeviceKernel &kernel, const KernelInputs &inputs)
      : kernel_(kernel), inputs_(inputs), builder_(kernel) {}
  /// What the request gives: arguments, globals, settings.
  const KernelInputs &inputs() const { return inputs_; }

  ir::DeviceKernel &kernel() { return kernel_; }
  ir::Builder &build() { return builder_; }

  /// Calls a callable operand (a lambda or a helper function) on `args`,
  /// inlining its body at the builder's insertion point.
  using Invoker =
      std::function<Operand(const Operand &callable, const std::vector<Operand> &args,
                            const SourceSpan &span)>;
  void set_invoker(Invoker invoker) { invoker_ = std::move(invoker); }
  Operand invoke(const Operand &callable, const std::vector<Operand> &args,
                 const SourceSpan &span) const {
    return invoker_(callable, args, span);
  }
  /// Appends a statement to the block being built.
  void emit_stmt(ir::Stmt stmt) { builder_.append(std::move(stmt)); }
  std::vector<ir::Stmt> *current_block() { return builder_.insertion(); }
  void set_block(std::vector<ir::Stmt> *block) { builder_.set_insertion(block); }
  /// The source statement being lowered: every statement emitted carries it.
  void set_statement(const SourceSpan &span) { builder_.set_statement_span(span); }
  const SourceSpan &statement() const { return builder_.statement_span(); }

  /// The call an expression statement consists of, whose result nothing
  /// reads (an atomic there updates without returning its old values).
  void set_discarded_call(const ast::Expr *call) { discarded_call_ = call; }
  const ast::Expr *discarded_call() const { return discarded_call_; }
  bool is_discarded(const ast::Expr *call) const { return call && call == discarded_call_; }

  const ir::Node &node(int id) const { return kernel_.node(id); }
  const ir::TensorType &type_of(int id) const { return kernel_.node(id).type; }

  /// The operand as an IR node: tensors as is, host scalars as HostScalar
  /// nodes, Python numbers as constants. Anything else is a user error.
  int to_node(const Operand &operand, const SourceSpan &span);
  /// True for a Python number or a host scalar (weakly typed in promotion).
  static bool is_scalar_operand(const Operand &o);
  /// The dtype of a device value (tensor operand) or a scalar's natural dtype.
  DType dtype_of(const Operand &operand) const;
  /// torch's result dtype for a binary op between `a` and `b`.
  DType promote(const Operand &a, const Operand &b) const;
  int cast(int node, DType dtype, const SourceSpan &span) {
    return builder_.cast(node, dtype, span);
  }
  int constant(double value, DType dtype, const SourceSpan &span) {
    return builder_.constant(value, dtype, span);
  }
  std::vector<ir::Dim> broadcast(const ir::TensorType &a, const ir::TensorType &b,
                                 const SourceSpan &span) const {
    return builder_.broadcast(a, b, span);
  }
  std::string shape_text(const std::vector<ir::Dim> &dims) const {
    return builder_.shape_text(dims);
  }
  /// The block of a reduction dimension of `size`, shared by equal sizes.
  int reduction_block(const SymInt &size, const SourceSpan &span);
  /// The dtype named by an operand (torch.float32), or UserError.
  DType dtype_arg(const Operand &operand, const SourceSpan &span) const;
  /// A shape list of tiles, ints and host sizes -> dims.
  std::vector<ir::Dim> shape_arg(const Operand &operand, const SourceSpan &span);
  /// An int known at compile time, or UserError.
  int64_t int_arg(const Operand &operand, const SourceSpan &span) const;

  /// `hl.jagged_tile(parent)`: its block runs to the largest of `parent`'s
  /// lanes, and each lane ends at its own value.
  void add_jagged(int block, int parent) { jagged_parents_[block] = parent; }
  /// The parent node of a jagged tile's block, or -1 for other blocks.
  int jagged_parent(int block) const {
    auto it = jagged_parents_.find(block);
    return it == jagged_parents_.end() ? -1 : it->second;
  }
  /// The lanes of a value of `dims` inside every jagged tile among them, as
  /// a bool node of that rank (size 1 where no jagged tile or parent is), or
  /// -1 when no jagged tile is among them. InvalidJaggedTileUsage when a
  /// jagged tile comes without the tiles of its parent.
  int jagged_mask(const std::vector<ir::Dim> &dims, const SourceSpan &span);
  /// `node`'s dims (tiles among `dims`) placed where they stand in `dims`,
  /// size 1 elsewhere.
  int align_to(int node, const std::vector<ir::Dim> &dims, const SourceSpan &span);

private:

  ir::DeviceKernel &kernel_;
  const KernelInputs &inputs_;
  ir::Builder builder_;
  Invoker invoker_;
  std::map<int, int> jagged_parents_;
  const ast::Expr *discarded_call_ = nullptr;
};

/// The kernel's parameter for host tensor `base` (added on first use).
int tensor_param(LoweringContext &cx, const Operand &base, const SourceSpan &span);

/// Subscripts: loads and stores of host tensors, views of device values.
/// `extra_mask` (a bool node, or -1) limits the lanes read or written;
/// `eviction_policy` is hl.load's, as Triton spells it (none: the load takes a
/// load_eviction_policies entry).
Operand lower_subscript_load(LoweringContext &cx, const Operand &base,
                             const std::vector<Operand> &index, const SourceSpan &span,
                             int extra_mask = -1,
                             std::optional<std::string> eviction_policy = std::nullopt);
void lower_subscript_store(LoweringContext &cx, const Operand &base,
                           const std::vector<Operand> &index, const Operand &value,
                           const SourceSpan &span, int extra_mask = -1);

/// Builds the device IR for the program's grid loop.
ir::DeviceKernel lower_device(const HostProgram &program, const KernelInputs &inputs);

} // namespace helion::lower
