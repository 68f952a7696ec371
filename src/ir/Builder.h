#pragma once

// Checked builders of device IR nodes: one per op. Each checks its operands'
// types (internal errors: lowering must have converted them) or the user's
// shapes (ShapeMismatch), computes the result type, adds the node and, for a
// computed value, appends a Compute statement at the insertion point (like
// MLIR's OpBuilder). Leaves (constants, host scalars, tile indices, carried
// values) have no statement: code generation spells them where they are used.

#include "ir/Ir.h"

#include <string>
#include <vector>

namespace helion::ir {

class Builder {
public:
  explicit Builder(DeviceKernel &kernel) : k_(kernel) {}

  DeviceKernel &kernel() { return k_; }
  const TensorType &type_of(int id) const { return k_.node(id).type; }

  /// Where Compute statements go; every statement appended gets `span`
  /// (the source statement being built) unless it has one.
  void set_insertion(std::vector<Stmt> *block) { block_ = block; }
  std::vector<Stmt> *insertion() const { return block_; }
  void set_statement_span(const SourceSpan &span) { statement_ = span; }
  const SourceSpan &statement_span() const { return statement_; }
  void append(Stmt stmt);

  // ---- leaves -------------------------------------------------------------
  int constant(double value, DType dtype, const SourceSpan &span);
  /// A constant spelled as Python spells it ("float('-inf')", "-2147483648").
  int literal(std::string text, DType dtype, const SourceSpan &span);
  /// A size or int known to the host code (a symbol or an expression of symbols).
  int host_int(const SymInt &value, const SourceSpan &span);
  /// The kernel's scalar parameter `param` (a float or bool argument).
  int host_scalar(int param, const SourceSpan &span);
  int tile_index(int block, const SourceSpan &span);
  int region_arg(const TensorType &type, const std::string &name);
  int region_result(const TensorType &type, const std::string &name);
  int loop_index(const std::string &name, const SourceSpan &span);

  // ---- computed values ----------------------------------------------------
  int tile_begin(int block, const SourceSpan &span, const std::string &name = "");
  int tile_end(int block, const SourceSpan &span);
  int tile_size(int block, const SourceSpan &span);
  int full(std::vector<Dim> dims, DType dtype, int fill, const SourceSpan &span);
  int unary(UnaryFn fn, int x, const SourceSpan &span);
  /// Both operands of one dtype; the result broadcasts their shapes.
  int binary(BinaryFn fn, int a, int b, const SourceSpan &span);
  /// `cond` bool; `a` and `b` of one dtype.
  int where(int cond, int a, int b, const SourceSpan &span);
  /// `x` in `dtype`; a constant is retyped instead of converted.
  int cast(int x, DType dtype, const SourceSpan &span);
  /// `fn` over `axis` (a block dim); the result in `dtype`.
  int reduce(ReduceFn fn, int x, int axis, bool keepdim, DType dtype, const SourceSpan &span);
  /// `a @ b` (+ `acc` when >= 0) in float32: a [.., m, k], b [.., k, n].
  int dot(int a, int b, int acc, std::vector<Dim> dims, const SourceSpan &span);
  /// `inputs` (of one shape) reduced over `axis` (a block dim) by combine
  /// function `combine`: result `index` of it. Lanes past the axis's end
  /// count as `others` (scalars, one per input).
  int combine_reduce(int combine, const std::vector<int> &inputs, const std::vector<int> &others,
                     int index, int axis, bool keepdim, const SourceSpan &span);
  /// Result `index` of the inclusive scan of `inputs` along `axis` by
  /// `combine`; `reverse` scans from the end. A reverse scan reads the lanes
  /// past the axis's end first: `fills` (one scalar per input, the combine
  /// function's identity) stand there, or none when the user's function has none.
  int scan(int combine, const std::vector<int> &inputs, const std::vector<int> &fills, int index,
           int axis, bool reverse, const SourceSpan &span);
  /// `begin`, `begin` + 1, ... along `dim` (a block, whose block size gives
  /// the length, or a constant power of two), in int32.
  int arange(Dim dim, int64_t begin, const SourceSpan &span);
  /// Philox random numbers for `seed` (an int scalar) at `offsets` (int32):
  /// float32 in [0, 1) or, with `bits`, int32 random bits.
  int random(int seed, int offsets, bool bits, const SourceSpan &span);
  /// `x` with size-1 dims inserted or removed to reach `dims`.
  int reshape(int x, std::vector<Dim> dims, const SourceSpan &span);
  /// `x` with adjacent dims merged or split to reach `dims`, elements in
  /// row-major order (the caller checks the sizes agree).
  int regroup(int x, std::vector<Dim> dims, const SourceSpan &span);
  /// `a` and `b` (of one type) side by side along a new last dim of size 2.
  int join(int a, int b, const SourceSpan &span);
  /// Half `half` (0 or 1) of `x` along its last dim, which has size 2.
  int split(int x, int half, const SourceSpan &span);
  /// Prints `prefix` and `values` from every program (tl.device_print).
  int device_print(std::string prefix, std::vector<int> values, const SourceSpan &span);
  /// Elementwise inline assembly over `args` (aligned to `type`'s dims), of `type`.
  int inline_asm(std::string assembly, std::string constraints, std::vector<int> args,
                 TensorType type, bool pure, int pack, const SourceSpan &span);
  /// A call of the kernel's triton function `callee` on `args`, passed by
  /// `keywords` when given (one per argument), returning `results`. Returns
  /// the ids of the values returned: none, the call itself, or one
  /// TritonResult node per result.
  std::vector<int> triton_call(int callee, std::vector<int> args, std::vector<std::string> keywords,
                               std::vector<TensorType> results, const SourceSpan &span);
  /// Triton statements `snippet` in which `placeholders[i]` (an identifier
  /// the snippet has nowhere else) stands for `args[i]`; its last statement
  /// gives `results`. Returns the values like triton_call.
  std::vector<int> inline_triton(std::string snippet, std::vector<std::string> placeholders,
                                 std::vector<int> args, std::vector<TensorType> results,
                                 const SourceSpan &span);
  /// The address of tensor parameter `tensor`, for a @triton.jit function.
  int tensor_pointer(int tensor, const SourceSpan &span);
  int permute(int x, std::vector<int> perm, const SourceSpan &span);
  /// `x` with the lanes past the end of `block` replaced by `literal`.
  int mask_fill(int x, int block, std::string literal, const SourceSpan &span);
  /// A load of `tensor` at `index`; `mask` (a bool node, or -1) limits the lanes read.
  /// `eviction_policy` is the source's ("evict_first", "evict_last", "" for
  /// none); without one the load takes a load_eviction_policies entry.
  int load(int tensor, std::vector<IndexItem> index, std::vector<Dim> dims, int mask,
           const SourceSpan &span, std::optional<std::string> eviction_policy = std::nullopt);

  /// hl.atomic_<fn> of `tensor` at `index` (the access's dims `dims`) whose
  /// old values are read: `values` (Cas: the expected values, then the new
  /// ones) of the target's dtype and broadcasting to `dims`; `mask` (a bool
  /// node, or -1) limits the lanes updated. A target dtype Triton has no such
  /// atomic for is the user's UnsupportedOp.
  int atomic(AtomicFn fn, MemorySem sem, int tensor, std::vector<IndexItem> index,
             std::vector<Dim> dims, std::vector<int> values, int mask, const SourceSpan &span);
  /// The same update when nothing reads the old values: a Store statement,
  /// which code generation may send through a tensor descriptor. `value`
  /// may have another dtype (code generation converts it); not Cas.
  void atomic_update(AtomicFn fn, MemorySem sem, int tensor, std::vector<IndexItem> index,
                     int value, int mask, const SourceSpan &span);

  /// Names the variable that holds `id` in the generated code (the only
  /// change a node may see after it is built: it does not change meaning).
  void name_value(int id, const std::string &name) { k_.nodes.at(id).name_hint = name; }

  // ---- shapes -------------------------------------------------------------
  /// The broadcast shape of two types; ShapeMismatch names both shapes.
  std::vector<Dim> broadcast(const TensorType &a, const TensorType &b,
                             const SourceSpan &span) const;
  /// A dimension of one element, which broadcasts: a constant 1 or a whole
  /// dimension of size 1.
  bool is_unit(const Dim &d) const;
  /// Readable form of a shape for messages: "[tile_m, tile_n]".
  std::string shape_text(const std::vector<Dim> &dims) const;

private:
  int leaf(Node node);
  int computed(Node node);
  void check_operand(int id) const;
  void check_combine(int combine, const std::vector<int> &inputs, int axis) const;
  /// Adds a TritonCall or InlineTriton node `n` and the values it returns.
  std::vector<int> triton_values(Node n);
  void check_atomic_target(AtomicFn fn, int tensor, const std::vector<IndexItem> &index,
                           int mask, const SourceSpan &span) const;

  DeviceKernel &k_;
  std::vector<Stmt> *block_ = nullptr;
  SourceSpan statement_;
};

} // namespace helion::ir
