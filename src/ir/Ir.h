#pragma once

// The device IR: the body of a kernel's grid loop as structured statements
// over typed SSA values. Shapes are lists of dimensions, each either a
// block (a tile dimension or a reduction dimension, sized by the config) or a
// constant. Nodes are created through the checked builders of Builder.h
// (which add them with DeviceKernel::add); once added a node is not changed
// by later stages. Control flow is structured: loops, `if` and `while` own
// their regions, and a value a region changes leaves it as a Carry (like
// MLIR's scf.for / scf.if / scf.while results), so every value is defined in
// exactly one place.

#include "ir/Ops.h"
#include "support/SourceSpan.h"
#include "types/DType.h"
#include "types/SymInt.h"

#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace helion::ir {

struct Dim {
  enum class Kind { Block, Const };
  Kind kind = Kind::Const;
  int block = -1;   ///< Block: the block id
  int64_t size = 1; ///< Const: the extent

  static Dim of_block(int id) { return {Kind::Block, id, 0}; }
  static Dim constant(int64_t n) { return {Kind::Const, -1, n}; }
  bool is_block() const { return kind == Kind::Block; }
  bool operator==(const Dim &o) const {
    return kind == o.kind && (is_block() ? block == o.block : size == o.size);
  }
  bool operator!=(const Dim &o) const { return !(*this == o); }
};

struct TensorType {
  DType dtype = DType::Float32;
  std::vector<Dim> dims; ///< empty for a scalar
  int rank() const { return static_cast<int>(dims.size()); }
};

/// A range the kernel iterates in blocks: one dimension of an `hl.tile` call,
/// or a reduction dimension (a full slice such as `x[tile, :]`).
struct BlockInfo {
  enum class Kind { Tile, Reduction };
  Kind kind = Kind::Tile;
  SymInt begin, end;     ///< the range [begin, end)
  int tile_call = -1;    ///< Tile: the `hl.tile` call
  int dim_in_call = 0;   ///< Tile: which dimension of that call
  int reduction = -1;    ///< Reduction: its index in the config's reduction_loops
  std::string name_hint; ///< the loop variable, for readable code
  /// A tile whose block size is another block's (a registered block size
  /// shared by a loop over another range): that block's id.
  int size_from = -1;
  /// A loop inside the kernel over a range computed on the device
  /// (`hl.tile(tile.begin, tile.end)`, loaded offsets): the int32 scalar
  /// nodes of its bounds. `begin`/`end` then only stand in for size hints.
  int begin_value = -1, end_value = -1;
  /// A tile of one index (block size 1; set by squeeze_unit_blocks): no
  /// value has its dim, and its TileIndex is a scalar.
  bool unit = false;
  bool dynamic_range() const { return end_value >= 0; }
  SymInt extent() const { return sym_sub(end, begin); }
};

struct TileCall {
  SourceSpan span;
  std::vector<int> blocks;
  bool is_grid = false;
  bool list_form = false;   ///< `hl.tile([n])`: the loop variable is a tuple of tiles
  bool scalar_grid = false; ///< `hl.grid`: block size 1, the loop variables are indices
  std::vector<std::optional<int64_t>> fixed_block_sizes; ///< from `block_size=`
  /// Per dimension, a `block_size=` that host arithmetic computes from the
  /// config's tunables or registered block sizes (`next_power_of_2(cdiv(k,
  /// split_k))`), else null: fixed for each config, yet no entry of its own.
  /// BindBlockSizes folds it to the config's value.
  std::vector<SymInt> derived_block_sizes;
  /// `hl.register_block_size` in host code: one block and one config entry,
  /// but no loop of its own; loops with `block_size=` that value use it.
  bool registered = false;
};

/// A registered block size: the host variable that names it and its block.
struct RegisteredSize {
  SymInt symbol;
  int block = -1;
};

/// A host tensor the kernel reads or writes (an argument or a host allocation).
struct TensorParam {
  std::string name; ///< the host variable
  std::string device;
  DType dtype;
  std::vector<SymInt> sizes, strides;
};

/// A host scalar the kernel receives by value (e.g. a float argument).
struct ScalarParam {
  std::string name; ///< the host variable
  DType dtype;
};

enum class OpKind {
  Constant,   ///< scalar literal: `number` (text), type scalar
  HostScalar, ///< scalar from host code: `sym` (SymInt) or `scalar` (ScalarParam)
  TileIndex,  ///< the element indices of `block`, shape [block]
  TileBegin,  ///< first index of `block`'s current tile (scalar)
  TileEnd,    ///< one past the last valid index of the current tile (scalar)
  TileSize,   ///< `block`'s block size (scalar)
  Full,       ///< a tensor of `type` filled with operand 0 (a scalar)
  Load,       ///< `tensor` at `index`; operand 0, when present, masks the lanes read
  Unary,      ///< `fn` (a UnaryFn) of operand 0
  Binary,     ///< `fn` (a BinaryFn) of operands 0 and 1 (broadcasting)
  Where,      ///< where(operand 0, operand 1, operand 2)
  Cast,       ///< operand 0 converted to type.dtype
  Reduce,     ///< `fn` (a ReduceFn) of operand 0 over `axis`
  Dot,        ///< operand 0 @ operand 1 (+ operand 2 as accumulator when present)
  Reshape,    ///< operand 0 with size-1 dims inserted or removed to reach `type`, or
              ///< (`regroup`) adjacent dims merged or split, elements in row-major order
  Permute,    ///< operand 0 with dims permuted by `perm`
  MaskFill,   ///< operand 0 with lanes past the end of `block` replaced by `number`
  CombineReduce, ///< k inputs of one shape (the first k operands) reduced over `axis` by
                 ///< combine function `combine`, its result `result_index`; lanes past
                 ///< the axis's end count as the last k operands (scalars)
  Scan,          ///< the inclusive prefix (`reverse`: suffix) of the first k operands along
                 ///< `axis` by combine function `combine`, its result `result_index`; the
                 ///< last k operands, when present, fill the lanes past the axis's end
  Arange,        ///< 0, 1, ... along its one dim (a block's size or a constant), plus `number`
  Random,        ///< Philox random numbers keyed by operand 0 (the seed) at operand 1's
                 ///< offsets: float32 in [0, 1), or uint32 bits when `type` is int
  RegionArg,    ///< a carried value inside a loop's body (its value at the iteration's start)
  RegionResult, ///< a carried value after its statement (loop, if or while)
  LoopIndex,    ///< a range loop's induction variable (a scalar)
  Join,         ///< operands 0 and 1 (one type) side by side along a new last dim of size 2
  Split,        ///< half `result_index` of operand 0 along its last dim (of size 2)
  Print,        ///< prints `text[0]` then the operands (hl.device_print); its value is unused
  InlineAsm,    ///< assembly `text[0]` with constraints `text[1]` over the operands,
                ///< elementwise (hl.inline_asm_elementwise); `pure`, `pack`
  Atomic,       ///< the old values of `tensor` at `index`, which `fn` (an AtomicFn) updates
                ///< with operand 0 (Cas: compares with operand 0, swaps in operand 1) under
                ///< memory order `sem`; a last operand past those, when present, masks the
                ///< lanes updated. An atomic whose old values nobody reads is a Store.
  TritonCall,   ///< the kernel's @triton.jit function `callee` called on the operands
                ///< (positionally, or by the `text` keywords when there are as many);
                ///< returns `results` (see Node::results)
  InlineTriton, ///< Triton statements `text[0]` (hl.inline_triton), each operand's value
                ///< standing where `text[1 + i]` does; its last statement gives `results`
  TritonResult, ///< result `result_index` of operand 0, a TritonCall or InlineTriton with
                ///< several results
  TensorPointer, ///< the address of `tensor`'s first element, for a @triton.jit function
                 ///< that reads or writes it itself (a scalar of the tensor's dtype)
};

/// The function a Unary, Binary, Reduce or Atomic node applies.
using OpFn = std::variant<std::monostate, UnaryFn, BinaryFn, ReduceFn, AtomicFn>;

/// One entry of a tensor subscript, per dimension of the tensor (or a new axis).
struct IndexItem {
  enum class Kind { Block, Scalar, NewAxis, Gather };
  Kind kind = Kind::Block;
  int block = -1; ///< Block: tile or reduction block indexing this dim
  /// Block: the first element a bounded slice (`x[:, a:b]`) reads; its
  /// block then counts from 0 to b - a.
  SymInt start;
  /// Scalar: node id of the scalar index; Gather: node id of an integer
  /// tensor of indices, whose dims become the access's dims at this position.
  /// Block: -1, or the int scalar node of a first element computed on the
  /// device (`x[:, a:a + n]`, `a` from device values; then `start` is null),
  /// the lanes outside the dimension masked.
  int value = -1;
};

struct Node {
  int id = -1;
  OpKind op = OpKind::Constant;
  TensorType type;
  std::vector<int> operands;
  OpFn fn;
  std::string number; ///< Constant: the literal as Python/Triton spells it
  SymInt sym;         ///< HostScalar
  int scalar = -1;    ///< HostScalar: ScalarParam index when not a SymInt
  int block = -1;     ///< Tile*: the block
  int tensor = -1;    ///< Load, Atomic: TensorParam index
  std::vector<IndexItem> index;
  int memory_op = -1; ///< Load: ordinal among loads and stores (indexing choice)
  int atomic_op = -1; ///< Atomic: ordinal among atomics (atomic_indexing choice)
  MemorySem sem = MemorySem::Relaxed; ///< Atomic
  /// Load: its entry in load_eviction_policies, or -1 for a load whose
  /// policy the source gives (`hl.load(..., eviction_policy=...)`).
  int policy_load = -1;
  /// Load: the policy the source gives, as Triton spells it ("evict_first",
  /// "evict_last"); empty for none.
  std::string eviction_policy;
  int axis = -1;      ///< Reduce, CombineReduce, Scan
  bool keepdim = false;
  int combine = -1;     ///< CombineReduce, Scan: the DeviceKernel's combine function
  int result_index = 0; ///< CombineReduce, Scan: which of the combine function's results;
                        ///< Split: which half
  bool reverse = false; ///< Scan: from the end of the axis towards its start
  std::vector<int> perm; ///< Permute
  bool regroup = false;  ///< Reshape: dims merged or split, not only size-1 ones moved
  std::vector<std::string> text; ///< Print: the prefix; InlineAsm: assembly, constraints
  /// TritonCall, InlineTriton: the types of the values returned, as
  /// `output_like` declares them (trusted, not checked): none (the node's
  /// value is unused), one (the node's type) or several (TritonResult nodes).
  std::vector<TensorType> results;
  int callee = -1;               ///< TritonCall: the DeviceKernel's triton function
  bool pure = true;              ///< InlineAsm: no side effects
  int pack = 1;                  ///< InlineAsm: elements each instance processes
  std::string name_hint;
  SourceSpan span;

  UnaryFn unary_fn() const { return std::get<UnaryFn>(fn); }
  BinaryFn binary_fn() const { return std::get<BinaryFn>(fn); }
  ReduceFn reduce_fn() const { return std::get<ReduceFn>(fn); }
  AtomicFn atomic_fn() const { return std::get<AtomicFn>(fn); }
  /// Atomic: how many operands are values (Cas: the expected and the new one).
  size_t atomic_values() const { return atomic_fn() == AtomicFn::Cas ? 2 : 1; }
  /// Atomic: the bool node masking the lanes updated, or -1.
  int atomic_mask() const { return operands.size() > atomic_values() ? operands.back() : -1; }
};

struct Stmt;

/// A source variable that a region statement may change. Loops: `init`
/// before the loop, `arg` (a RegionArg) inside the body, `yielded` at the
/// end of the body, `result` after the loop. If: `yielded` at the end of the
/// then-region, `else_yielded` at the end of the else-region, `result` after.
/// While: as loops; the condition region reads `arg` too.
struct Carry {
  std::string name;
  int init = -1;
  int arg = -1;
  int yielded = -1;
  int else_yielded = -1;
  int result = -1;
};

struct Stmt {
  enum class Kind { Compute, Store, TileLoop, ReductionLoop, RangeLoop, If, While };
  Kind kind = Kind::Compute;
  SourceSpan span;
  int value = -1; ///< Compute: the node; Store: the stored node
  // Store
  int tensor = -1;
  std::vector<IndexItem> index;
  int memory_op = -1;             ///< Store: ordinal among loads and stores; -1 for an atomic
  std::optional<AtomicFn> atomic; ///< Store: a read-modify-write instead of a plain store
  int atomic_op = -1;             ///< atomic Store: ordinal among atomics (atomic_indexing choice)
  MemorySem sem = MemorySem::Relaxed; ///< atomic Store: its memory order
  int mask = -1;      ///< Store: a bool node limiting which lanes are written (extra_mask)
  // TileLoop (nested `hl.tile`), ReductionLoop (a looped reduction dim),
  // RangeLoop (`for i in range(...)`), If and While.
  int tile_call = -1;
  int block = -1;
  std::vector<Carry> carried;
  std::vector<Stmt> body;   ///< the loop body; If: the then-region
  std::vector<Stmt> orelse; ///< If: the else-region
  /// If: the condition (a bool scalar). While: the condition, computed by
  /// `cond_body` before each iteration.
  int cond = -1;
  std::vector<Stmt> cond_body;
  int range_begin = -1, range_end = -1, range_step = -1; ///< RangeLoop: int scalars
  int loop_index = -1;                                   ///< RangeLoop: its LoopIndex node
};

/// A function of scalars that combines two partial results (hl.reduce,
/// hl.associative_scan, cumsum, cumprod) of one value or of a tuple of k
/// values: `params` are 2k RegionArg nodes (the left operand's values, then
/// the right one's), `body` computes the k `results` from them.
struct CombineFn {
  std::vector<int> params;
  std::vector<Stmt> body;
  std::vector<int> results;
};

/// A @triton.jit function the kernel calls (hl.triton_kernel): defined once
/// in the generated module under a name of its own, its text otherwise the
/// user's (`def` line onwards, decorators dropped).
struct TritonFunction {
  std::string name;   ///< as the user's `def` names it
  std::string source; ///< from `def` on, dedented
};

/// A top-level device loop: the tile call that maps it onto programs, and its body.
struct RootLoop {
  int grid_call = -1;
  std::vector<Stmt> body;
  /// The hl.barrier() before it, if any (valid span): it starts once every
  /// program has finished the loops before it (persistent_blocked programs
  /// wait for each other).
  SourceSpan barrier_before;
};

/// A size relation the compiler relies on but cannot prove for every
/// specialization: checked by the host code before the launch.
struct HostGuard {
  SymInt lhs, rhs;
  std::string message;
  bool at_most = false; ///< lhs <= rhs instead of lhs == rhs
};

/// A value the kernel reads out of a callable argument (a tensor or scalar
/// its closure or module holds): the host code binds `name` to `host_expr`
/// before the launch, and the kernel takes `name` like any host variable.
struct HostBinding {
  std::string name, host_expr;
};

struct DeviceKernel {
  std::vector<Node> nodes;
  std::vector<BlockInfo> blocks;
  std::vector<TileCall> tile_calls;
  std::vector<int> reductions; ///< block id of each reduction dim, in config order
  std::vector<TensorParam> tensors;
  std::vector<ScalarParam> scalars;
  int memory_ops = 0;
  int policy_loads = 0; ///< loads without an explicit eviction policy
  int atomic_ops = 0;
  bool has_matmul = false;
  std::vector<int> dot_blocks; ///< blocks feeding a matmul (they need at least 16)
  std::vector<HostGuard> guards;
  std::vector<RegisteredSize> registered_sizes;
  std::vector<CombineFn> combine_fns;
  std::vector<TritonFunction> triton_functions;
  std::vector<HostBinding> host_bindings;
  /// The top-level device loops, in order; each runs on programs of its own.
  std::vector<RootLoop> roots;

  /// Adds `node`, checking its operands exist, and returns its id.
  int add(Node node);
  const Node &node(int id) const { return nodes.at(id); }
  const BlockInfo &block(int id) const { return blocks.at(id); }
};

/// Calls `visit` on each region `stmt` owns, in program order (a while's
/// condition region first).
template <typename Visit> void for_each_region(const Stmt &stmt, Visit visit) {
  visit(stmt.cond_body);
  visit(stmt.body);
  visit(stmt.orelse);
}

/// The blocks a Reshape that merges or splits dims (`n.regroup`) folds into
/// or out of others: those whose dim does not pass through unchanged. Empty
/// for every other node.
std::vector<int> regrouped_blocks(const DeviceKernel &kernel, const Node &n);

/// The dims of the value a subscript reads or writes, in order: its blocks,
/// its new axes and the dims of its index tensors (what a stored value
/// broadcasts against).
std::vector<Dim> access_dims(const DeviceKernel &kernel, const std::vector<IndexItem> &index);

/// How often each node is read: as another node's operand, and elsewhere
/// (statements' values, masks, conditions, bounds and carried values,
/// subscripts' index values, combine functions' results).
struct NodeUses {
  int operands = 0;
  int others = 0;
  int total() const { return operands + others; }
};
std::vector<NodeUses> count_uses(const DeviceKernel &kernel);

/// Readable text of the kernel's IR, one statement per line.
std::string dump(const DeviceKernel &kernel);

} // namespace helion::ir
