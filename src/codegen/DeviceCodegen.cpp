#include "codegen/CodeWriter.h"
#include "codegen/Names.h"
#include "codegen/PythonText.h"
#include "codegen/TritonCodegen.h"
#include "ir/LoopEntries.h"
#include "support/Diagnostics.h"
#include "support/Text.h"

#include <algorithm>
#include <climits>
#include <functional>
#include <map>
#include <optional>
#include <set>

namespace helion::codegen {

using ir::BlockInfo;
using ir::Dim;
using ir::IndexItem;
using ir::Node;
using ir::OpKind;
using ir::Stmt;

namespace {

int64_t next_power_of_two(int64_t n) {
  int64_t p = 1;
  while (p < n)
    p <<= 1;
  return p;
}

/// How one block is iterated under the config.
struct BlockPlan {
  std::string size;       ///< the block size as the kernel spells it (a constexpr name)
  int64_t size_value = 0; ///< the value when known at compile time (0 for a runtime value)
  std::string size_host;  ///< the host expression of the block size
  bool needs_mask = false;
  bool persistent = false; ///< a reduction dimension held whole in one block
  /// The first block of a flattened `hl.tile` call, for each of its blocks:
  /// they share one 1-D range of the flat block size. -1 when not flattened.
  int flat_leader = -1;
};

/// The device code's names for one block's values.
struct BlockNames {
  std::string offset;  ///< first index of the current tile
  std::string indices; ///< the tile's indices
  std::string mask;    ///< the tile's in-bounds lanes
  std::string pid;     ///< the tile's index along the block (grid blocks)
  std::string count;   ///< the number of tiles along the block (grid blocks)
  std::string flat;    ///< the flat range of a flattened call (its leader)
};

class DeviceEmitter {
public:
  DeviceEmitter(const ir::DeviceKernel &kernel, const Config &config, const KernelInputs &inputs,
                const ModuleNames &module, std::string name, bool int64_indices)
      : k_(kernel), config_(config), inputs_(inputs), module_(module), names_(module),
        name_(std::move(name)), int64_indices_(int64_indices),
        out_(split_lines(inputs.context.source), inputs.context.first_line) {}

  DeviceFunction run() {
    // Parameters the user named first, so they keep their names where they can.
    for (const ir::TensorParam &t : k_.tensors)
      tensor_names_.push_back(names_.user(t.name));
    for (const ir::ScalarParam &s : k_.scalars)
      scalar_names_.push_back(names_.user(s.name));
    plan_blocks();
    name_blocks();
    index_loop_entries();
    out_.indent();
    emit_roots();
    out_.dedent();

    DeviceFunction fn;
    fn.name = name_;
    fn.barriers = barrier_count();
    collect_params(fn);
    std::string signature;
    for (const KernelParam &p : fn.params) {
      if (!signature.empty()) signature += ", ";
      signature += p.name + (p.constexpr_ ? ": " + module_.constexpr_annotation() : "");
    }
    fn.text = combine_functions_text() + "@" + module_.triton() + ".jit\ndef " + fn.name + "(" +
              signature + "):\n" + names_.with_module_aliases(out_.str());
    fn.grid = grid_;
    return fn;
  }

private:
  // ---- blocks -----------------------------------------------------------

  std::string kernel_sym(const SymInt &s) { return sym_to_python(device_sym(s), SymSide::Kernel); }

  /// `s` with each variable under its parameter name in the device function.
  SymInt device_sym(const SymInt &s) {
    if (!s || s->op == SymNode::Op::Const) return s;
    auto node = std::make_shared<SymNode>(*s);
    if (s->op == SymNode::Op::Var) {
      auto key = std::make_pair(s->kernel_name, s->host_expr);
      auto it = sym_vars_.find(key);
      if (it == sym_vars_.end()) {
        // An int parameter is the user's variable; `x_size_0` (x.size(0)) is ours.
        bool users = s->kernel_name == s->host_expr;
        std::string name = users ? names_.user(s->kernel_name) : names_.generated(s->kernel_name);
        it = sym_vars_.emplace(key, name).first;
      }
      node->kernel_name = it->second;
      return node;
    }
    node->lhs = device_sym(s->lhs);
    node->rhs = device_sym(s->rhs);
    return node;
  }

  bool is_dot_block(int b) const {
    for (int d : k_.dot_blocks)
      if (d == b) return true;
    return false;
  }

  void plan_blocks() {
    plans_.resize(k_.blocks.size());
    for (size_t b = 0; b < k_.blocks.size(); ++b) {
      const BlockInfo &info = k_.blocks[b];
      BlockPlan &plan = plans_[b];
      SymInt extent = info.extent();
      auto extent_value = sym_constant(extent);
      if (info.kind == BlockInfo::Kind::Tile) {
        // A loop sized by a registered block size over a range of its own
        // takes that size (its source block comes first).
        const TileChoice &choice =
            config_.tiles.at(info.size_from >= 0 ? k_.blocks[info.size_from].tile_call
                                                 : info.tile_call);
        if (choice.flatten) {
          plan_flattened(static_cast<int>(b), choice.flat_block_size);
          continue;
        }
        plan.size_value = choice.block_sizes.at(info.size_from >= 0 ? 0 : info.dim_in_call);
        plan.size = names_.generated("_BLOCK_SIZE_" + std::to_string(b));
        plan.size_host = std::to_string(plan.size_value);
        plan.needs_mask = info.dynamic_range() || !extent_value ||
                          *extent_value % plan.size_value != 0;
        continue;
      }
      const auto &loop = config_.reduction_loops.at(info.reduction);
      int64_t minimum = is_dot_block(static_cast<int>(b)) ? 16 : 1;
      if (loop && (!extent_value || *loop < *extent_value)) {
        plan.size_value = std::max(*loop, minimum);
        plan.size = names_.generated("_BLOCK_SIZE_" + std::to_string(b));
        plan.size_host = std::to_string(plan.size_value);
        plan.needs_mask = !extent_value || *extent_value % plan.size_value != 0;
        continue;
      }
      plan.persistent = true;
      plan.size = names_.generated("_RBLOCK_" + std::to_string(b));
      if (extent_value) {
        plan.size_value = std::max(next_power_of_two(std::max<int64_t>(*extent_value, 1)), minimum);
        plan.size_host = std::to_string(plan.size_value);
        plan.needs_mask = plan.size_value != *extent_value;
      } else {
        std::string host = module_.triton() + ".next_power_of_2(" + module_.host_sym(extent) + ")";
        plan.size_host =
            minimum > 1 ? module_.builtin("max") + "(" + host + ", " + std::to_string(minimum) + ")"
                        : host;
        plan.needs_mask = true;
      }
    }
  }

  void plan_flattened(int b, int64_t flat_block) {
    const ir::TileCall &call = k_.tile_calls[k_.blocks[b].tile_call];
    int leader = call.blocks.front();
    BlockPlan &plan = plans_[b];
    if (b != leader) {
      plan = plans_[leader];
      return;
    }
    plan.flat_leader = leader;
    plan.size_value = flat_block;
    plan.size = names_.generated("_BLOCK_SIZE_" + std::to_string(leader));
    plan.size_host = std::to_string(flat_block);
    auto total = sym_constant(flat_extent(call));
    plan.needs_mask = !total || *total % flat_block != 0;
  }

  /// Every block's names, chosen once so each use spells them alike.
  void name_blocks() {
    std::set<int> grid;
    for (const ir::RootLoop &root : k_.roots) {
      const std::vector<int> &blocks = k_.tile_calls[root.grid_call].blocks;
      grid.insert(blocks.begin(), blocks.end());
    }
    for (size_t b = 0; b < k_.blocks.size(); ++b) {
      std::string id = std::to_string(b);
      BlockNames n;
      n.offset = names_.generated("offset_" + id);
      n.indices = names_.generated("indices_" + id);
      n.mask = names_.generated("mask_" + id);
      if (grid.count(static_cast<int>(b))) {
        n.pid = names_.generated("pid_" + id);
        n.count = names_.generated("num_blocks_" + id);
      }
      if (plans_[b].flat_leader == static_cast<int>(b)) n.flat = names_.generated("flat_" + id);
      block_names_.push_back(n);
    }
  }

  SymInt flat_extent(const ir::TileCall &call) const {
    SymInt total = sym_const(1);
    for (int b : call.blocks)
      total = sym_mul(total, k_.blocks[b].extent());
    return total;
  }

  bool is_flat(int b) const { return plans_[b].flat_leader >= 0; }

  /// The indices of every block of a flattened call from one 1-D range:
  /// loop_order[0] varies fastest.
  void emit_flat_indices(int call_index, const std::string &offset) {
    const ir::TileCall &call = k_.tile_calls[call_index];
    int leader = call.blocks.front();
    const BlockNames &lead = block_names_[leader];
    if (offset != lead.offset) out_.line(lead.offset + " = " + offset);
    out_.line(lead.flat + " = " + lead.offset + " + tl.arange(0, " + plans_[leader].size + ")" +
              index_cast());
    std::vector<int> order = loop_order(call_index);
    std::string divisor;
    for (size_t i = 0; i < order.size(); ++i) {
      int b = call.blocks[order[i]];
      std::string extent = kernel_sym(k_.blocks[b].extent());
      std::string index = divisor.empty() ? lead.flat : lead.flat + " // " + wrap(divisor);
      if (i + 1 < order.size()) index = wrap(index) + " % " + wrap(extent);
      std::string begin = kernel_sym(k_.blocks[b].begin);
      if (begin != "0") index = begin + " + " + index;
      out_.line(block_names_[b].indices + " = " + index);
      divisor = divisor.empty() ? extent : divisor + " * " + wrap(extent);
    }
    if (plans_[leader].needs_mask)
      out_.line(lead.mask + " = " + lead.flat + " < " + kernel_sym(flat_extent(call)));
  }

  /// A value's dims as the generated code holds them: the blocks of a
  /// flattened call collapse into the one axis of their flat range.
  std::vector<Dim> cg_shape(const std::vector<Dim> &dims) const {
    std::vector<int> leaders;
    for (const Dim &d : dims)
      leaders.push_back(d.is_block() ? plans_[d.block].flat_leader : -1);
    // A size-1 axis beside a flattened dim (`row[:, None]`) already lives on the flat range.
    for (size_t i = 0; i < dims.size(); ++i) {
      if (dims[i] != Dim::constant(1)) continue;
      if (i > 0 && leaders[i - 1] >= 0)
        leaders[i] = leaders[i - 1];
      else if (i + 1 < dims.size() && leaders[i + 1] >= 0)
        leaders[i] = leaders[i + 1];
    }
    std::vector<Dim> out;
    std::set<int> seen;
    int previous = -1;
    for (size_t i = 0; i < dims.size(); ++i) {
      const Dim &d = dims[i];
      int leader = leaders[i];
      if (leader >= 0 && leader == previous) continue;
      if (leader >= 0 && !seen.insert(leader).second)
        throw UserError("InvalidConfig",
                        "this kernel cannot flatten its hl.tile loop: a value uses its dimensions "
                        "out of order; give one block size per dimension");
      out.push_back(leader >= 0 ? Dim::of_block(leader) : d);
      previous = leader;
    }
    return out;
  }

  int cg_rank(const std::vector<Dim> &dims) const {
    return static_cast<int>(cg_shape(dims).size());
  }

  /// The axis of the generated value that IR dim `i` of `dims` lands on.
  int cg_axis(const std::vector<Dim> &dims, size_t i) const {
    check_internal(i < dims.size(), "cg_axis: position past the value's dimensions");
    std::vector<Dim> prefix(dims.begin(), dims.begin() + i + 1);
    return cg_rank(prefix) - 1;
  }

  void reject_flat(const std::vector<Dim> &dims, const std::string &what) const {
    for (const Dim &d : dims)
      if (d.is_block() && is_flat(d.block))
        throw UserError("InvalidConfig", "a flattened hl.tile cannot feed " + what +
                                             "; give one block size per dimension");
  }

  void reject_flat_axis(const Dim &axis, const std::string &what) const {
    if (axis.is_block() && is_flat(axis.block))
      throw UserError("InvalidConfig", "a flattened hl.tile dimension cannot be " + what +
                                           "; give one block size per dimension");
  }

  /// The first `count` operands of a combined reduction or scan, each with
  /// the lanes `mask` excludes replaced by its fill value (the operand
  /// `count` places later).
  std::vector<std::string> masked_inputs(const Node &n, size_t count, const std::string &mask) {
    std::vector<std::string> inputs;
    for (size_t i = 0; i < count; ++i) {
      std::string value = expr(n.operands[i]);
      if (!mask.empty())
        value = "tl.where(" + mask + ", " + value + ", " + expr(n.operands[count + i]) + ")";
      inputs.push_back(value);
    }
    return inputs;
  }

  void emit_block_indices(int b, const std::string &offset) {
    const BlockPlan &plan = plans_[b];
    const BlockNames &n = block_names_[b];
    if (offset != n.offset) out_.line(n.offset + " = " + offset);
    if (k_.blocks[b].unit) {
      // One index, as a scalar: no value has this block's dim, nor needs a mask for it.
      out_.line(n.indices + " = " + n.offset + index_cast());
      return;
    }
    out_.line(n.indices + " = " + n.offset + " + tl.arange(0, " + plan.size + ")" + index_cast());
    if (plan.needs_mask) out_.line(n.mask + " = " + n.indices + " < " + range_end(b));
  }

  /// A block's range as kernel code: sizes, or the device values that bound
  /// a loop over a range computed in the kernel.
  std::string range_begin(int b) {
    const BlockInfo &info = k_.blocks[b];
    return info.dynamic_range() ? in_index_type(info.begin_value) : kernel_sym(info.begin);
  }
  std::string range_end(int b) {
    const BlockInfo &info = k_.blocks[b];
    return info.dynamic_range() ? in_index_type(info.end_value) : kernel_sym(info.end);
  }

  /// An integer scalar as the kernel's index type (a loaded int64 offset in
  /// an int32 kernel, whose tensors all fit int32 offsets, or the reverse).
  std::string in_index_type(int node) {
    DType have = k_.node(node).type.dtype;
    DType want = int64_indices_ ? DType::Int64 : DType::Int32;
    if (have == want || k_.node(node).op == OpKind::Constant) return expr(node);
    return "tl.cast(" + expr(node) + ", " + triton_dtype(want) + ")";
  }

  /// An index value read from `node` (a scalar or gathered indices), in
  /// int64 where offsets are: int32 values times an int32 stride can
  /// overflow though each fits. tl.cast, as the interpreter passes ints as
  /// Python ints.
  std::string widened(int node, const std::string &text) const {
    if (!int64_indices_ || k_.node(node).type.dtype == DType::Int64) return text;
    return "tl.cast(" + text + ", tl.int64)";
  }

  std::string index_cast() const {
    return int64_indices_ ? ".to(tl.int64)" : "";
  }

  std::vector<int> loop_order(int call) const {
    const ir::TileCall &tc = k_.tile_calls[call];
    std::vector<int> order = config_.tiles.at(call).loop_order;
    if (order.size() != tc.blocks.size()) {
      order.clear();
      for (size_t i = 0; i < tc.blocks.size(); ++i)
        order.push_back(static_cast<int>(i));
    }
    return order;
  }

  /// The kernel's top-level loops: one maps onto the whole grid; several
  /// share one 1-D grid, each loop on a range of program ids of its own.
  /// Persistent pid types launch a fixed grid whose programs loop over those
  /// program ids instead.
  void emit_roots() {
    emit_descriptors();
    if (barrier_count() > 0) {
      // Validation refuses other pid types; a kernel generated anyway must not hang.
      if (config_.pid_type != "persistent_blocked")
        throw UserError("BarrierRequiresPersistent",
                        "hl.barrier() needs pid_type \"persistent_blocked\", not " +
                            python_string(config_.pid_type));
      barrier_counts_ = names_.generated("barrier_counts");
      barrier_phase_ = names_.generated("barrier_phase");
    }
    if (config_.is_persistent()) {
      emit_persistent_roots();
      return;
    }
    if (k_.roots.size() == 1) {
      grid_ = "(" + emit_grid_mapping(k_.roots[0], "tl.program_id(0)", true) + ",)";
      emit_block(k_.roots[0].body);
      return;
    }
    if (config_.pid_type == "xyz")
      throw UserError("InvalidConfig", "pid_type \"xyz\" maps one top-level loop onto the grid; "
                                       "this kernel has several, so use \"flat\"");
    std::string program = names_.generated("program");
    out_.line(program + " = tl.program_id(0)");
    grid_ = "(" + emit_root_ranges(program) + ",)";
  }

  /// Each top-level loop on its range of the program ids in `program`;
  /// returns the host code's count of all of them.
  std::string emit_root_ranges(const std::string &program) {
    std::string kernel_start = "0", host_total;
    for (const ir::RootLoop &root : k_.roots) {
      std::string count_here = wrap(kernel_program_count(root));
      std::string kernel_end = kernel_start == "0" ? count_here : kernel_start + " + " + count_here;
      out_.line(std::string(&root == &k_.roots.front() ? "if " : "elif ") + program + " < " +
                kernel_end + ":");
      out_.indent();
      std::string local = kernel_start == "0" ? program : program + " - (" + kernel_start + ")";
      std::string count = emit_grid_mapping(root, local, false);
      host_total += (host_total.empty() ? "" : " + ") + wrap(count);
      emit_block(root.body);
      out_.dedent();
      out_.forget_source();
      kernel_start = kernel_end;
    }
    return host_total;
  }

  /// A grid of SMs times num_sm_multiplier programs. Each program loops over
  /// the tiles of each top-level loop in turn: a contiguous range of them
  /// (persistent_blocked) or every grid-size-th one (persistent_interleaved).
  /// A loop of its own per top-level loop lets each take its range_* entry.
  void emit_persistent_roots() {
    std::string programs = names_.generated("num_programs");
    out_.set_source(k_.tile_calls[k_.roots.front().grid_call].span);
    out_.line(programs + " = tl.num_programs(0)");
    int phase = 0;
    for (size_t r = 0; r < k_.roots.size(); ++r) {
      const ir::RootLoop &root = k_.roots[r];
      if (root.barrier_before.valid()) {
        out_.set_source(root.barrier_before);
        emit_grid_barrier(phase++, programs);
      }
      out_.set_source(k_.tile_calls[root.grid_call].span);
      // A launch of one phase (see barrier_phase_) runs only its loops.
      if (!barrier_phase_.empty()) {
        out_.line("if " + barrier_phase_ + " < 0 or " + barrier_phase_ +
                  " == " + std::to_string(phase) + ":");
        out_.indent();
      }
      std::string total = names_.generated("total_tiles");
      std::string tile = names_.generated("virtual_pid");
      out_.line(total + " = " + kernel_program_count(root));
      out_.line("for " + tile + " in " + persistent_range(r, total, programs) + ":");
      out_.indent();
      out_.forget_source(); // the loop's body says again which loop it is
      emit_grid_mapping(root, tile, false);
      emit_block(root.body);
      out_.dedent();
      if (!barrier_phase_.empty()) out_.dedent();
      out_.forget_source();
    }
    grid_ = "(" + persistent_grid() + ",)";
  }

  /// The `index`-th hl.barrier(): every program adds one to its counter (a
  /// zeroed int32 the host allocates per launch) once its threads' stores are
  /// done, then waits until all `programs` have. Every program of a
  /// persistent_blocked launch is resident (the launch is cooperative), so
  /// the wait ends. Launches of one phase (Triton's interpreter, whose
  /// programs run one after another) leave it out.
  void emit_grid_barrier(int index, const std::string &programs) {
    std::string counter = barrier_counts_ + " + " + std::to_string(index);
    std::string arrived = names_.generated("arrived");
    auto poll = [&] {
      out_.line(arrived + " = tl.atomic_add(" + counter + ", 0, sem=\"acquire\", scope=\"gpu\")");
    };
    out_.line("if " + barrier_phase_ + " < 0:");
    out_.indent();
    out_.line("tl.debug_barrier()");
    out_.line("tl.atomic_add(" + counter + ", 1, sem=\"release\", scope=\"gpu\")");
    poll();
    out_.line("while " + arrived + " < " + programs + ":");
    out_.indent();
    poll();
    out_.dedent();
    out_.line("tl.debug_barrier()");
    out_.dedent();
  }

  /// How many hl.barrier() calls stand between the kernel's top-level loops.
  int barrier_count() const {
    int count = 0;
    for (const ir::RootLoop &root : k_.roots)
      count += root.barrier_before.valid() ? 1 : 0;
    return count;
  }

  /// The program's virtual program ids among the `total` tiles of the `root`-th
  /// top-level loop, iterated with that loop's range options.
  std::string persistent_range(size_t root, const std::string &total,
                               const std::string &programs) {
    size_t entry = top_level_entries_.at(root);
    if (config_.pid_type == "persistent_interleaved")
      return range_call(entry, "tl.program_id(0)", total, programs);
    std::string per_program = names_.generated("tiles_per_program");
    std::string first = names_.generated("first_tile");
    std::string end = names_.generated("end_tile");
    out_.line(per_program + " = tl.cdiv(" + total + ", " + programs + ")");
    out_.line(first + " = tl.program_id(0) * " + per_program);
    out_.line(end + " = tl.minimum(" + first + " + " + per_program + ", " + total + ")");
    return range_call(entry, first, end, "1");
  }

  /// The host code's program count of a persistent kernel: the SMs of the
  /// device the tensors live on, read at launch.
  std::string persistent_grid() const {
    return module_.runtime() + ".persistent_programs(" + tensors_device() + ", " +
           std::to_string(config_.num_sm_multiplier) + ", " +
           std::to_string(inputs_.settings.persistent_reserved_sms) + ")";
  }

  /// The host expression of the device the kernel's tensors live on (None:
  /// the current CUDA device).
  std::string tensors_device() const {
    return k_.tensors.empty() ? "None" : k_.tensors.front().name + ".device";
  }

  /// How many programs `root` takes, as kernel code.
  std::string kernel_program_count(const ir::RootLoop &root) {
    const ir::TileCall &tc = k_.tile_calls[root.grid_call];
    if (tc.blocks.empty()) return "1";
    if (is_flat(tc.blocks.front()))
      return "tl.cdiv(" + kernel_sym(flat_extent(tc)) + ", " + plans_[tc.blocks.front()].size + ")";
    std::string total;
    for (int b : tc.blocks)
      total += (total.empty() ? "" : " * ") + std::string("tl.cdiv(") +
               kernel_sym(k_.blocks[b].extent()) + ", " + plans_[b].size + ")";
    return total;
  }

  /// The host's count of `plan`'s blocks covering `extent`, as `triton.cdiv`
  /// computes it: a constant where the extent is one, else integer arithmetic
  /// (a call of `triton.cdiv` costs about a microsecond per launch).
  std::string host_block_count(const SymInt &extent, const BlockPlan &plan) const {
    int64_t size = plan.size_value;
    std::string host = module_.host_sym(extent);
    if (size <= 0) // a size known only at run time
      return module_.triton() + ".cdiv(" + host + ", " + plan.size_host + ")";
    std::optional<int64_t> value = sym_constant(extent);
    if (value && *value >= 0 && *value <= INT64_MAX - size)
      return std::to_string((*value + size - 1) / size);
    if (host.find(' ') != std::string::npos) host = "(" + host + ")";
    // Parenthesized whole: counts are multiplied together, and `a // b * c // d` is not
    // `(a // b) * (c // d)`.
    return "((" + host + " + " + std::to_string(size - 1) + ") // " + std::to_string(size) + ")";
  }

  /// Maps `program_id` (kernel code) onto `root`'s tiles; returns the host
  /// code's count of its programs (with `allow_xyz`, the x, y, z counts).
  std::string emit_grid_mapping(const ir::RootLoop &root, const std::string &program_id,
                                bool allow_xyz) {
    const ir::TileCall &tc = k_.tile_calls[root.grid_call];
    out_.set_source(tc.span);
    if (tc.blocks.empty()) { // `hl.tile([])`, e.g. over a 0-d tensor's size: one program
      emit_persistent_indices();
      return "1";
    }
    if (is_flat(tc.blocks.front())) {
      int leader = tc.blocks.front();
      emit_flat_indices(root.grid_call,
                        wrap(program_id) + index_cast() + " * " + plans_[leader].size);
      emit_persistent_indices();
      return host_block_count(flat_extent(tc), plans_[leader]);
    }
    std::vector<int> blocks;
    for (int dim : loop_order(root.grid_call))
      blocks.push_back(tc.blocks[dim]);
    auto count = [&](int b) { return block_names_[b].count; };
    auto pid = [&](int b) { return block_names_[b].pid; };
    std::vector<std::string> host_counts;
    for (int b : blocks)
      host_counts.push_back(host_block_count(k_.blocks[b].extent(), plans_[b]));

    std::string grid;
    bool xyz = allow_xyz && config_.pid_type == "xyz" && blocks.size() <= 3 &&
               config_.l2_grouping <= 1;
    if (xyz) {
      for (size_t i = 0; i < blocks.size(); ++i) {
        out_.line(pid(blocks[i]) + " = tl.program_id(" + std::to_string(i) + ")");
        grid += (i ? ", " : "") + host_counts[i];
      }
    } else {
      for (const std::string &c : host_counts)
        grid += (grid.empty() ? "" : " * ") + c;
      std::string program = names_.generated("pid");
      out_.line(program + " = " + program_id);
      for (int b : blocks)
        out_.line(count(b) + " = tl.cdiv(" + kernel_sym(k_.blocks[b].extent()) + ", " +
                  plans_[b].size + ")");
      size_t first = 0;
      std::string rest = program;
      if (config_.l2_grouping > 1 && blocks.size() >= 2) {
        // Consecutive programs walk G tiles along the fastest block before
        // moving along the next, so the tiles they share stay in L2.
        std::string g = std::to_string(config_.l2_grouping);
        std::string a = count(blocks[0]), c = count(blocks[1]);
        std::string plane = blocks.size() > 2 ? program + " % (" + a + " * " + c + ")" : program;
        std::string in_group = names_.generated("num_pid_in_group");
        std::string group = names_.generated("group_id");
        std::string first_pid = names_.generated("first_pid");
        std::string size = names_.generated("group_size");
        std::string pid_in_group = names_.generated("pid_in_group");
        out_.line(in_group + " = " + g + " * " + c);
        out_.line(group + " = " + wrap(plane) + " // " + in_group);
        out_.line(first_pid + " = " + group + " * " + g);
        out_.line(size + " = tl.minimum(" + a + " - " + first_pid + ", " + g + ")");
        out_.line(pid_in_group + " = " + wrap(plane) + " % " + in_group);
        out_.line(pid(blocks[0]) + " = " + first_pid + " + " + pid_in_group + " % " + size);
        out_.line(pid(blocks[1]) + " = " + pid_in_group + " // " + size);
        first = 2;
        rest = program + " // (" + a + " * " + c + ")";
      }
      for (size_t i = first; i < blocks.size(); ++i) {
        bool last = i + 1 == blocks.size();
        out_.line(pid(blocks[i]) + " = " + (last ? rest : wrap(rest) + " % " + count(blocks[i])));
        rest = wrap(rest) + " // " + count(blocks[i]);
      }
    }
    for (int b : tc.blocks) {
      std::string begin = kernel_sym(k_.blocks[b].begin);
      std::string offset = pid(b) + index_cast() + " * " + plans_[b].size;
      emit_block_indices(b, begin == "0" ? offset : begin + " + " + offset);
    }
    emit_persistent_indices();
    return grid;
  }

  void emit_persistent_indices() {
    for (size_t b = 0; b < k_.blocks.size(); ++b)
      if (plans_[b].persistent) emit_block_indices(static_cast<int>(b), "0");
  }

  // ---- statements ---------------------------------------------------------

  void emit_block(const std::vector<Stmt> &body) {
    for (const Stmt &s : body) {
      out_.set_source(s.span);
      switch (s.kind) {
      case Stmt::Kind::Compute:
        emit_compute(k_.node(s.value));
        break;
      case Stmt::Kind::Store:
        emit_store(s);
        break;
      case Stmt::Kind::TileLoop:
      case Stmt::Kind::ReductionLoop:
        emit_loop(s);
        break;
      case Stmt::Kind::RangeLoop:
        emit_range_loop(s);
        break;
      case Stmt::Kind::If:
        emit_if(s);
        break;
      case Stmt::Kind::While:
        emit_while(s);
        break;
      }
    }
  }

  /// A region's statements one level deeper; `pass` if they wrote no code.
  void emit_region(const std::vector<Stmt> &body, const std::function<void()> &tail = {}) {
    out_.indent();
    int before = out_.code_lines();
    emit_block(body);
    if (tail) tail();
    if (out_.code_lines() == before) out_.line("pass");
    out_.dedent();
  }

  /// A value that a variable of a loop or branch takes: a literal is given
  /// its dtype, as Triton needs one type for the variable on every path.
  std::string typed_value(int id) {
    const Node &n = k_.node(id);
    if (n.op != OpKind::Constant) return expr(id);
    return "tl.full([], " + n.number + ", " + triton_dtype(n.type.dtype) + ")";
  }

  /// Before a loop: each carried value starts in the variable that holds it
  /// inside the body and after the loop.
  void emit_carried_inits(const Stmt &s) {
    for (const ir::Carry &c : s.carried) {
      std::string var = carried_name(c);
      values_[c.arg] = var;
      values_[c.result] = var;
      std::string init = typed_value(c.init);
      if (init != var) out_.line(var + " = " + init);
    }
  }

  /// At the end of a loop body: the values for the next iteration.
  void emit_carried_yields(const Stmt &s) {
    for (const ir::Carry &c : s.carried) {
      std::string value = typed_value(c.yielded);
      if (value != values_[c.arg]) out_.line(values_[c.arg] + " = " + value);
    }
  }

  /// Which range entry (ir/LoopEntries.h) each loop reads, and which
  /// static_ranges entry the loops that have one read.
  void index_loop_entries() {
    std::vector<ir::LoopEntry> entries = ir::loop_entries(k_);
    size_t statics = 0;
    for (size_t i = 0; i < entries.size(); ++i) {
      const ir::LoopEntry &entry = entries[i];
      if (entry.kind == ir::LoopEntry::Kind::TopLevel) top_level_entries_.push_back(i);
      if (entry.kind == ir::LoopEntry::Kind::TileDim) range_entry_of_block_[entry.block] = i;
      if (entry.kind == ir::LoopEntry::Kind::Range) range_entry_of_loop_[entry.loop_index] = i;
      if (entry.static_candidate) static_slot_[i] = statics++;
    }
  }

  /// The iterator of a loop inside the kernel, or of a persistent program's
  /// loop over tiles: `tl.static_range` where the config unrolls it, else
  /// `tl.range` with the loop's options.
  std::string range_call(size_t entry, const std::string &begin, const std::string &end,
                         const std::string &step) {
    std::string args = begin + ", " + end + ", " + step;
    auto slot = static_slot_.find(entry);
    if (slot != static_slot_.end() && slot->second < config_.static_ranges.size() &&
        config_.static_ranges[slot->second])
      return "tl.static_range(" + args + ")";
    if (entry < config_.ranges.size())
      for (const std::string &keyword : config_.ranges[entry].keyword_arguments())
        args += ", " + keyword;
    return "tl.range(" + args + ")";
  }

  void emit_range_loop(const Stmt &s) {
    emit_carried_inits(s);
    std::string index = names_.user(k_.node(s.loop_index).name_hint);
    values_[s.loop_index] = index;
    out_.line("for " + index + " in " +
              range_call(range_entry_of_loop_.at(s.loop_index), expr(s.range_begin),
                         expr(s.range_end), expr(s.range_step)) +
              ":");
    emit_region(s.body, [&] { emit_carried_yields(s); });
    out_.forget_source();
  }

  void emit_if(const Stmt &s) {
    std::vector<std::string> results;
    for (const ir::Carry &c : s.carried) {
      results.push_back(names_.user(c.name));
      values_[c.result] = results.back();
    }
    auto yields = [&](bool then_branch) {
      for (size_t i = 0; i < s.carried.size(); ++i) {
        const ir::Carry &c = s.carried[i];
        std::string value = typed_value(then_branch ? c.yielded : c.else_yielded);
        if (value != results[i]) out_.line(results[i] + " = " + value);
      }
    };
    out_.line("if " + expr(s.cond) + ":");
    emit_region(s.body, [&] { yields(true); });
    out_.line("else:");
    emit_region(s.orelse, [&] { yields(false); });
    out_.forget_source();
  }

  /// The condition is computed before the loop and again at the end of each
  /// iteration, into the same variable.
  void emit_while(const Stmt &s) {
    emit_carried_inits(s);
    emit_block(s.cond_body);
    std::string cond = expr(s.cond);
    if (k_.node(s.cond).op == OpKind::Constant || k_.node(s.cond).op == OpKind::HostScalar) {
      // A condition no iteration can change: bind it once so the loop reads a variable.
      std::string var = names_.temporary();
      out_.line(var + " = " + cond);
      cond = var;
    }
    out_.line("while " + cond + ":");
    emit_region(s.body, [&] {
      emit_carried_yields(s);
      emit_block(s.cond_body);
    });
    out_.forget_source();
  }

  void emit_loop(const Stmt &s) {
    emit_carried_inits(s);
    std::vector<int> blocks;
    if (s.kind == Stmt::Kind::ReductionLoop) {
      blocks.push_back(s.block);
    } else {
      std::vector<int> order = loop_order(s.tile_call);
      const ir::TileCall &tc = k_.tile_calls[s.tile_call];
      for (size_t i = order.size(); i-- > 0;)
        blocks.push_back(tc.blocks[order[i]]); // slowest first
      if (!tc.blocks.empty() && is_flat(tc.blocks.front())) {
        int leader = tc.blocks.front();
        const std::string &offset = block_names_[leader].offset;
        out_.line("for " + offset + " in " +
                  range_call(range_entry_of_block_.at(leader), "0", kernel_sym(flat_extent(tc)),
                             plans_[leader].size) +
                  ":");
        out_.indent();
        emit_flat_indices(s.tile_call, offset);
        blocks = {leader};
      }
    }
    for (int b : blocks) {
      if (is_flat(b)) break;
      const std::string &offset = block_names_[b].offset;
      std::string range =
          s.kind == Stmt::Kind::ReductionLoop
              ? "tl.range(" + range_begin(b) + ", " + range_end(b) + ", " + plans_[b].size + ")"
              : range_call(range_entry_of_block_.at(b), range_begin(b), range_end(b),
                           plans_[b].size);
      out_.line("for " + offset + " in " + range + ":");
      out_.indent();
      emit_block_indices(b, offset);
    }
    emit_block(s.body);
    emit_carried_yields(s);
    for (size_t i = 0; i < blocks.size(); ++i)
      out_.dedent();
    out_.forget_source();
  }

  std::string carried_name(const ir::Carry &c) {
    auto it = values_.find(c.arg);
    if (it != values_.end()) return it->second;
    // `acc = hl.zeros(...)` then a loop over `acc`: one variable throughout.
    auto init = values_.find(c.init);
    if (init != values_.end() && k_.node(c.init).name_hint == c.name) return init->second;
    return names_.user(c.name);
  }

  /// Computes a node into its variable. A node recomputed inside another
  /// reduction loop keeps its name, so the code reads the same each time.
  void emit_compute(const Node &n) {
    if (n.op == OpKind::Print) return emit_print(n);
    std::string text = compute_text(n);
    if (n.op == OpKind::MaskFill && text == expr(n.operands[0])) {
      values_[n.id] = text; // nothing to mask: the same value
      return;
    }
    auto it = values_.find(n.id);
    std::string name = it != values_.end()   ? it->second
                       : n.name_hint.empty() ? names_.temporary()
                                             : names_.user(n.name_hint);
    values_[n.id] = name;
    out_.line(name + " = " + text);
  }

  /// hl.device_print: a statement of its own; nothing reads its value.
  void emit_print(const Node &n) {
    std::string prefix = python_literal(Json(n.text.at(0)));
    // Triton's interpreter prints a prefix only with values after it.
    if (n.operands.empty() && inputs_.settings.interpreter)
      return out_.line("print(" + prefix + ")");
    std::string text = "tl.device_print(" + prefix;
    for (int v : n.operands)
      text += ", " + expr(v);
    out_.line(text + ")");
  }

  /// hl.inline_asm_elementwise, which only a GPU can run (the launch under
  /// Triton's interpreter says so).
  std::string inline_asm_text(const Node &n) {
    std::string args;
    for (int a : n.operands)
      args += (args.empty() ? "" : ", ") + expr(a);
    return "tl.inline_asm_elementwise(" + python_literal(Json(n.text.at(0))) + ", " +
           python_literal(Json(n.text.at(1))) + ", [" + args + "], dtype=" +
           triton_dtype(n.type.dtype) + ", is_pure=" + (n.pure ? "True" : "False") +
           ", pack=" + std::to_string(n.pack) + ")";
  }

  // ---- expressions --------------------------------------------------------

  /// The expression for a node: a variable for computed nodes, the literal
  /// text for constants and host scalars.
  std::string expr(int id) {
    const Node &n = k_.node(id);
    switch (n.op) {
    case OpKind::Constant:
      return n.number;
    case OpKind::HostScalar:
      if (n.sym) return kernel_sym(n.sym);
      return scalar_names_.at(n.scalar);
    case OpKind::TileIndex:
      return block_names_[n.block].indices;
    default:
      break;
    }
    auto it = values_.find(id);
    check_internal(it != values_.end(),
                   "node %" + std::to_string(id) + " is used before it is computed");
    return it->second;
  }

  /// `id`'s expression with leading size-1 axes so it has `rank` dims.
  std::string expr_at_rank(int id, int rank) {
    int have = cg_rank(k_.node(id).type.dims);
    std::string e = expr(id);
    if (have == 0 || have >= rank) return e;
    std::string index = "[";
    for (int i = 0; i < rank - have; ++i)
      index += "None, ";
    for (int i = 0; i < have; ++i)
      index += i + 1 < have ? ":, " : ":";
    return e + index + "]";
  }

  std::string shape_list(const std::vector<Dim> &ir_dims) {
    std::vector<Dim> dims = cg_shape(ir_dims);
    std::string text = "[";
    for (size_t i = 0; i < dims.size(); ++i) {
      if (i) text += ", ";
      text += dims[i].is_block() ? plans_[dims[i].block].size : std::to_string(dims[i].size);
    }
    return text + "]";
  }

  /// `mask_b` broadcast to position `axis` of a value of rank `rank`; empty if none needed.
  std::string block_mask(int block, int axis, int rank) const {
    if (!plans_[block].needs_mask) return "";
    if (is_flat(block)) block = plans_[block].flat_leader;
    std::string m = block_names_[block].mask;
    if (rank <= 1) return m;
    std::string index = "[";
    for (int i = 0; i < rank; ++i)
      index += std::string(i ? ", " : "") + (i == axis ? ":" : "None");
    return m + index + "]";
  }

  /// Triton's spelling of a function that maps to one call, if it does.
  static const char *triton_function(ir::UnaryFn fn) {
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
  static const char *infix_operator(ir::BinaryFn fn) {
    using ir::BinaryFn;
    switch (fn) {
    case BinaryFn::Add: return "+";
    case BinaryFn::Sub: return "-";
    case BinaryFn::Mul: return "*";
    case BinaryFn::TrueDiv: return "/";
    case BinaryFn::FloorDiv: return "//";
    case BinaryFn::Mod: return "%";
    case BinaryFn::Eq: return "==";
    case BinaryFn::Ne: return "!=";
    case BinaryFn::Lt: return "<";
    case BinaryFn::Le: return "<=";
    case BinaryFn::Gt: return ">";
    case BinaryFn::Ge: return ">=";
    case BinaryFn::LogicalAnd:
    case BinaryFn::BitAnd: return "&";
    case BinaryFn::LogicalOr:
    case BinaryFn::BitOr: return "|";
    case BinaryFn::BitXor: return "^";
    case BinaryFn::ShiftLeft: return "<<";
    case BinaryFn::ShiftRight: return ">>";
    default: return nullptr;
    }
  }

  std::string unary_text(const Node &n, const std::string &x) {
    using ir::UnaryFn;
    switch (n.unary_fn()) {
    case UnaryFn::Neg: return "-" + wrap(x);
    case UnaryFn::Relu: return "tl.maximum(" + x + ", 0)";
    case UnaryFn::LogicalNot: return wrap(x) + " == 0";
    case UnaryFn::BitwiseNot: return "~" + wrap(x);
    default: break;
    }
    if (inputs_.settings.interpreter) {
      // Triton's interpreter has no libdevice.
      if (n.unary_fn() == UnaryFn::Tanh) return "2 * tl.sigmoid(2 * " + wrap(x) + ") - 1";
      if (n.unary_fn() == UnaryFn::Log1p) return "tl.log(1 + " + wrap(x) + ")";
      if (n.unary_fn() == UnaryFn::Expm1) return "tl.exp(" + x + ") - 1";
    }
    const char *fn = triton_function(n.unary_fn());
    check_internal(fn != nullptr, std::string("no triton spelling for ") + ir::name(n.unary_fn()));
    return std::string(fn) + "(" + x + ")";
  }

  std::string binary_text(const Node &n, const std::string &a, const std::string &b) {
    using ir::BinaryFn;
    switch (n.binary_fn()) {
    case BinaryFn::Maximum: return "tl.maximum(" + a + ", " + b + ")";
    case BinaryFn::Minimum: return "tl.minimum(" + a + ", " + b + ")";
    case BinaryFn::Pow:
      if (inputs_.settings.interpreter) return "tl.exp2(tl.log2(" + a + ") * " + wrap(b) + ")";
      return "libdevice.pow(" + a + ", " + b + ")";
    default: break;
    }
    const char *op = infix_operator(n.binary_fn());
    check_internal(op != nullptr, std::string("no triton spelling for ") + ir::name(n.binary_fn()));
    std::string text = wrap(a) + " " + op + " " + wrap(b);
    // Triton divides 16-bit floats in float32; torch rounds back to the input type.
    if (n.binary_fn() == BinaryFn::TrueDiv && dtype_bytes(n.type.dtype) == 2 &&
        is_floating(n.type.dtype))
      return "(" + text + ").to(" + triton_dtype(n.type.dtype) + ")";
    return text;
  }

  std::string compute_text(const Node &n) {
    int rank = cg_rank(n.type.dims);
    auto operand = [&](size_t i) { return expr_at_rank(n.operands.at(i), rank); };
    switch (n.op) {
    case OpKind::TileBegin:
    case OpKind::TileEnd:
    case OpKind::TileSize:
      if (is_flat(n.block))
        throw UserError("InvalidConfig", "tile.begin/end/block_size need an unflattened hl.tile; "
                                         "give one block size per dimension");
      break;
    default:
      break;
    }
    switch (n.op) {
    case OpKind::TileBegin:
      return block_names_[n.block].offset;
    case OpKind::TileSize:
      return plans_[n.block].size;
    case OpKind::TileEnd:
      return "tl.minimum(" + block_names_[n.block].offset + " + " + plans_[n.block].size + ", " +
             range_end(n.block) + ")";
    case OpKind::Full:
      return "tl.full(" + shape_list(n.type.dims) + ", " + expr(n.operands[0]) + ", " +
             triton_dtype(n.type.dtype) + ")";
    case OpKind::Load:
      return load_text(n);
    case OpKind::Atomic:
      return atomic_text(n);
    case OpKind::Unary:
      return unary_text(n, operand(0));
    case OpKind::Binary:
      return binary_text(n, operand(0), operand(1));
    case OpKind::Where:
      return "tl.where(" + operand(0) + ", " + operand(1) + ", " + operand(2) + ")";
    case OpKind::Cast: {
      std::string v = wrap(expr(n.operands[0]));
      if (n.type.dtype == DType::Bool) return v + " != 0";
      // A scalar argument may arrive as a Python number, which has no `.to`:
      // Triton specializes an int equal to 1 as a constant, and its
      // interpreter passes floats as Python floats. tl.cast takes both.
      if (k_.node(n.operands[0]).op == OpKind::HostScalar)
        return "tl.cast(" + v + ", " + triton_dtype(n.type.dtype) + ")";
      return v + ".to(" + triton_dtype(n.type.dtype) + ")";
    }
    case OpKind::MaskFill: {
      int axis = -1;
      for (size_t i = 0; i < n.type.dims.size(); ++i)
        if (n.type.dims[i] == Dim::of_block(n.block)) axis = cg_axis(n.type.dims, i);
      std::string mask = axis < 0 ? "" : block_mask(n.block, axis, rank);
      if (mask.empty()) return expr(n.operands[0]);
      return "tl.where(" + mask + ", " + expr(n.operands[0]) + ", " + n.number + ")";
    }
    case OpKind::Reduce:
      return reduce_text(n);
    case OpKind::CombineReduce:
      return combine_reduce_text(n);
    case OpKind::Arange: {
      const Dim &d = n.type.dims.at(0);
      if (d.is_block()) reject_flat(n.type.dims, "hl.arange");
      std::string size = d.is_block() ? plans_[d.block].size : std::to_string(d.size);
      std::string values = "tl.arange(0, " + size + ")";
      return n.number == "0" ? values : values + " + " + n.number;
    }
    case OpKind::Random: {
      std::string seed = expr(n.operands[0]), offsets = operand(1);
      if (n.type.dtype == DType::Float32) return "tl.rand(" + seed + ", " + offsets + ")";
      return "tl.randint(" + seed + ", " + offsets + ").to(tl.int32, bitcast=True)";
    }
    case OpKind::Scan: {
      const Dim &axis_dim = k_.node(n.operands[0]).type.dims.at(n.axis);
      reject_flat_axis(axis_dim, "scanned along");
      // Lanes past the end of the axis come after every valid lane, so a
      // forward scan leaves the valid ones as they are; a reverse scan meets
      // them first, so they must hold the combine function's identity.
      size_t count = k_.combine_fns.at(n.combine).results.size();
      bool fills = n.operands.size() > count;
      int axis = cg_axis(n.type.dims, n.axis);
      std::string mask =
          n.reverse ? block_mask(axis_dim.block, axis, cg_rank(n.type.dims)) : std::string();
      if (!mask.empty() && !fills)
        throw UserError("InvalidConfig",
                        "a reverse scan with a combine function of your own needs whole blocks "
                        "along its dimension (the padding has no identity); use a block size "
                        "that divides the dimension, or a power-of-two length");
      std::vector<std::string> inputs = masked_inputs(n, count, mask);
      return "tl.associative_scan(" + tuple_text(inputs) + ", " + std::to_string(axis) + ", " +
             combine_name(n.combine) + (n.reverse ? ", reverse=True)" : ")") +
             result_of(count, n.result_index);
    }
    case OpKind::Dot: {
      reject_flat(k_.node(n.operands[0]).type.dims, "a matmul");
      reject_flat(k_.node(n.operands[1]).type.dims, "a matmul");
      std::string text = "tl.dot(" + expr(n.operands[0]) + ", " + expr(n.operands[1]);
      if (n.operands.size() > 2) text += ", acc=" + expr(n.operands[2]);
      DType in = k_.node(n.operands[0]).type.dtype;
      if (in == DType::Float32)
        text += ", input_precision='" + inputs_.settings.dot_precision + "'";
      return text + ", out_dtype=tl.float32)";
    }
    case OpKind::Reshape:
      if (n.regroup) {
        reject_flat(n.type.dims, "a reshape that merges or splits dimensions");
        reject_flat(k_.node(n.operands[0]).type.dims,
                    "a reshape that merges or splits dimensions");
        return "tl.reshape(" + expr(n.operands[0]) + ", " + shape_list(n.type.dims) + ")";
      }
      return reshape_text(n);
    case OpKind::InlineAsm:
      return inline_asm_text(n);
    case OpKind::Join:
      return "tl.join(" + expr(n.operands[0]) + ", " + expr(n.operands[1]) + ")";
    case OpKind::Split:
      return "tl.split(" + expr(n.operands[0]) + ")[" + std::to_string(n.result_index) + "]";
    case OpKind::Permute: {
      reject_flat(n.type.dims, "a permute");
      std::string perm;
      for (size_t i = 0; i < n.perm.size(); ++i)
        perm += (i ? ", " : "") + std::to_string(n.perm[i]);
      return "tl.permute(" + expr(n.operands[0]) + ", (" + perm + "))";
    }
    default:
      break;
    }
    throw InternalError("no code for device operation %" + std::to_string(n.id));
  }

  /// Parenthesizes `e` unless it is a name, a call, a subscript or a literal.
  static std::string wrap(const std::string &e) {
    int depth = 0;
    for (size_t i = 0; i < e.size(); ++i) {
      char c = e[i];
      if (c == '(' || c == '[') ++depth;
      if (c == ')' || c == ']') --depth;
      if (depth == 0 && (c == ' ' || (c == '-' && i == 0))) return "(" + e + ")";
    }
    return e;
  }

  std::string reduce_text(const Node &n) {
    int operand = n.operands[0];
    const ir::TensorType &in = k_.node(operand).type;
    std::string value = expr(operand);
    const Dim &axis_dim = in.dims.at(n.axis);
    // After a reduction loop the accumulator's masked lanes already hold the identity.
    reject_flat_axis(axis_dim, "reduced over");
    int axis = cg_axis(in.dims, n.axis);
    if (axis_dim.is_block() && k_.node(operand).op != OpKind::RegionResult) {
      std::string mask = block_mask(axis_dim.block, axis, cg_rank(in.dims));
      if (!mask.empty())
        value = "tl.where(" + mask + ", " + value + ", " +
                ir::identity_literal(n.reduce_fn(), in.dtype) + ")";
    }
    std::string text =
        std::string("tl.") + ir::name(n.reduce_fn()) + "(" + value + ", " + std::to_string(axis);
    if (n.keepdim) text += ", keep_dims=True";
    // Triton's positions are int32; torch's are int64.
    if (ir::yields_index(n.reduce_fn())) return text + ").to(tl.int64)";
    return text + ")";
  }

  std::string combine_reduce_text(const Node &n) {
    size_t count = n.operands.size() / 2; // the inputs, then one fill value each
    const ir::TensorType &in = k_.node(n.operands[0]).type;
    const Dim &axis_dim = in.dims.at(n.axis);
    reject_flat_axis(axis_dim, "reduced over");
    int axis = cg_axis(in.dims, n.axis);
    std::string mask = block_mask(axis_dim.block, axis, cg_rank(in.dims));
    std::vector<std::string> inputs = masked_inputs(n, count, mask);
    return "tl.reduce(" + tuple_text(inputs) + ", " + std::to_string(axis) + ", " +
           combine_name(n.combine) + (n.keepdim ? ", keep_dims=True)" : ")") +
           result_of(inputs.size(), n.result_index);
  }

  /// One value as itself, several as a tuple.
  static std::string tuple_text(const std::vector<std::string> &items) {
    if (items.size() == 1) return items[0];
    std::string text;
    for (const std::string &item : items)
      text += (text.empty() ? "" : ", ") + item;
    return "(" + text + ")";
  }

  /// The `index`-th of a combined op's results, when it has several.
  static std::string result_of(size_t results, int index) {
    return results == 1 ? "" : "[" + std::to_string(index) + "]";
  }

  /// The @triton.jit function of combine function `index`, named apart from
  /// the user's globals.
  std::string combine_name(int index) {
    auto it = combine_names_.find(index);
    if (it != combine_names_.end()) return it->second;
    std::string name = name_ + "_combine_" + std::to_string(index);
    while (module_.binds(name))
      name += "_";
    return combine_names_[index] = name;
  }

  /// The combine functions the kernel uses, each a @triton.jit function of
  /// scalars (the left values, then the right ones), with its own variables.
  std::string combine_functions_text() {
    std::string text;
    for (const auto &[index, name] : combine_names_) {
      const ir::CombineFn &fn = k_.combine_fns.at(index);
      CodeWriter body(split_lines(inputs_.context.source), inputs_.context.first_line);
      std::swap(out_, body);
      std::map<int, std::string> kernel_values = std::move(values_);
      values_.clear();
      std::vector<std::string> params, results;
      for (size_t i = 0; i < fn.params.size(); ++i) {
        bool left = i < fn.params.size() / 2;
        params.push_back(names_.generated(left ? "left" : "right"));
        values_[fn.params[i]] = params.back();
      }
      out_.indent();
      emit_block(fn.body);
      for (int r : fn.results)
        results.push_back(expr(r));
      std::string returned = tuple_text(results);
      if (results.size() > 1) returned = returned.substr(1, returned.size() - 2);
      out_.line("return " + returned);
      out_.dedent();
      std::string signature;
      for (const std::string &p : params)
        signature += (signature.empty() ? "" : ", ") + p;
      text += "@" + module_.triton() + ".jit\ndef " + name + "(" + signature + "):\n" +
              names_.with_module_aliases(out_.str()) + "\n\n";
      std::swap(out_, body);
      values_ = std::move(kernel_values);
    }
    return text;
  }

  std::string reshape_text(const Node &n) {
    std::vector<Dim> in = cg_shape(k_.node(n.operands[0]).type.dims);
    std::vector<Dim> out = cg_shape(n.type.dims);
    // Inserting size-1 axes reads best as `x[:, None]`.
    std::string index;
    size_t j = 0;
    bool only_inserts = true;
    for (const Dim &d : out) {
      if (j < in.size() && in[j] == d) {
        index += ":, ";
        ++j;
      } else if (d == Dim::constant(1)) {
        index += "None, ";
      } else {
        only_inserts = false;
      }
    }
    if (only_inserts && j == in.size() && !index.empty())
      return expr(n.operands[0]) + "[" + index.substr(0, index.size() - 2) + "]";
    return "tl.reshape(" + expr(n.operands[0]) + ", " + shape_list(n.type.dims) + ")";
  }

  // ---- memory -------------------------------------------------------------

  /// The block a subscript entry covers as block pointers and descriptors see
  /// it: its block, or the tile of one index whose scalar index it holds
  /// (squeeze_unit_blocks), addressed as a block of size 1; else -1.
  int addressed_block(const IndexItem &item) const {
    if (item.kind == IndexItem::Kind::Block) return item.block;
    if (item.kind != IndexItem::Kind::Scalar) return -1;
    const Node &n = k_.node(item.value);
    return n.op == OpKind::TileIndex && k_.blocks[n.block].unit ? n.block : -1;
  }

  bool has_unit_blocks(const std::vector<IndexItem> &index) const {
    for (const IndexItem &item : index)
      if (item.kind == IndexItem::Kind::Scalar && addressed_block(item) >= 0) return true;
    return false;
  }

  /// The indexing style a memory op gets: the config's choice when the
  /// access allows it, else the next simpler one.
  std::string access_style(int tensor, const std::vector<IndexItem> &index, int memory_op) {
    std::string want = config_.indexing.empty() ? "pointer" : config_.indexing_for(memory_op);
    return style_for_access(tensor, index, want);
  }

  /// `want` where the access allows it, else the next simpler style.
  std::string style_for_access(int tensor, const std::vector<IndexItem> &index,
                               const std::string &want) {
    if (want == "pointer") return want;
    const ir::TensorParam &t = k_.tensors[tensor];
    for (size_t d = 0; d < index.size(); ++d) {
      int block = addressed_block(index[d]);
      bool device_start = index[d].kind == IndexItem::Kind::Block && index[d].value >= 0;
      if (block < 0 || is_flat(block) || index[d].start || device_start) return "pointer";
      const BlockInfo &b = k_.blocks[block];
      // Block pointers check bounds against the tensor, so the tile must span it.
      if (b.dynamic_range() || !sym_equal(b.begin, sym_const(0)) || !sym_equal(b.end, t.sizes[d]))
        return "pointer";
    }
    // A single element (every entry a scalar) is one pointer.
    if (access_dims(index).empty()) return "pointer";
    if (want == "block_ptr") return want;
    // Tensor descriptors (TMA) need a unit inner stride, 16-byte aligned outer
    // strides and an inner block of at least 16 bytes. The inner dimension
    // must span whole 16-byte units too: on an H100 a store through a
    // descriptor of 33 floats also wrote elements 33 to 35.
    int bytes = dtype_bytes(t.dtype);
    if (sym_constant(t.strides.back()) != 1) return "block_ptr";
    auto inner = sym_constant(t.sizes.back());
    if (!inner || (*inner * bytes) % 16 != 0) return "block_ptr";
    for (size_t d = 0; d + 1 < t.strides.size(); ++d) {
      auto s = sym_constant(t.strides[d]);
      if (!s || (*s * bytes) % 16 != 0) return "block_ptr";
    }
    for (const IndexItem &item : index) {
      int64_t size = plans_[addressed_block(item)].size_value;
      if (size == 0 || size > 256) return "block_ptr";
    }
    if (plans_[addressed_block(index.back())].size_value * bytes < 16) return "block_ptr";
    return want;
  }

  std::string list_of(const std::vector<SymInt> &values) {
    std::string text = "[";
    for (size_t i = 0; i < values.size(); ++i)
      text += (i ? ", " : "") + kernel_sym(values[i]);
    return text + "]";
  }

  std::string block_shape(const std::vector<IndexItem> &index) {
    std::string text = "[";
    for (size_t i = 0; i < index.size(); ++i)
      text += (i ? ", " : "") + plans_[addressed_block(index[i])].size;
    return text + "]";
  }

  std::string block_offsets(const std::vector<IndexItem> &index) {
    std::string text = "[";
    for (size_t i = 0; i < index.size(); ++i) {
      int b = addressed_block(index[i]);
      text += (i ? ", " : "") + (plans_[b].persistent ? std::string("0") : block_names_[b].offset);
    }
    return text + "]";
  }

  /// The dims a block pointer must bounds-check: "[0, 1]", or "" for none.
  std::string boundary_dims(const std::vector<IndexItem> &index) {
    std::string dims;
    for (size_t i = 0; i < index.size(); ++i)
      if (plans_[addressed_block(index[i])].needs_mask)
        dims += (dims.empty() ? "" : ", ") + std::to_string(i);
    return dims.empty() ? "" : "[" + dims + "]";
  }

  /// Creates tensor descriptors once at the top of the kernel: creating one
  /// writes it to global memory, which is too slow to repeat in loops.
  void emit_descriptors() {
    std::vector<std::pair<int, const std::vector<IndexItem> *>> accesses;
    for (const ir::RootLoop &root : k_.roots)
      collect_accesses(root.body, accesses);
    for (const auto &[memory_op, index] : accesses) {
      int tensor = access_tensor_[memory_op];
      if (access_style(tensor, *index, memory_op) != "tensor_descriptor") continue;
      const ir::TensorParam &t = k_.tensors[tensor];
      const std::string &base = tensor_names_[tensor];
      std::string name = names_.generated(base + "_desc_" + std::to_string(memory_op));
      out_.line(name + " = tl.make_tensor_descriptor(" + base + ", " + list_of(t.sizes) + ", " +
                list_of(t.strides) + ", " + block_shape(*index) + ")");
      descriptors_[memory_op] = name;
    }
    for (const ir::RootLoop &root : k_.roots)
      emit_atomic_descriptors(root.body);
  }

  /// Whether an atomic goes through a tensor descriptor: the config asks
  /// for one, the access could use a descriptor store, and Triton 3.6 has a
  /// descriptor form of the op for the dtype (tensor_descriptor.atomic_add,
  /// _min, _max, _and, _or, _xor; no xchg or cas; each for a few dtypes).
  /// Otherwise, and under Triton's interpreter (which has no descriptor
  /// atomics), the atomic takes pointers. Descriptor atomics return nothing
  /// and have no memory order: only a relaxed atomic statement takes one.
  bool atomic_through_descriptor(const Stmt &s) {
    if (s.mask >= 0 || s.sem != ir::MemorySem::Relaxed || inputs_.settings.interpreter)
      return false;
    if (config_.atomic_indexing_for(static_cast<size_t>(s.atomic_op)) != "tensor_descriptor")
      return false;
    DType dtype = k_.tensors[s.tensor].dtype;
    auto one_of = [&](std::initializer_list<DType> dtypes) {
      return std::find(dtypes.begin(), dtypes.end(), dtype) != dtypes.end();
    };
    bool supported = false;
    switch (*s.atomic) {
    case ir::AtomicFn::Add:
      supported = one_of({DType::Int32, DType::Float32, DType::Float16, DType::BFloat16});
      break;
    case ir::AtomicFn::Max:
    case ir::AtomicFn::Min:
      supported = one_of({DType::Int32, DType::Int64, DType::Float16, DType::BFloat16});
      break;
    case ir::AtomicFn::And:
    case ir::AtomicFn::Or:
    case ir::AtomicFn::Xor:
      supported = one_of({DType::Int32, DType::Int64});
      break;
    case ir::AtomicFn::Xchg:
    case ir::AtomicFn::Cas:
      break;
    }
    return supported &&
           style_for_access(s.tensor, s.index, "tensor_descriptor") == "tensor_descriptor";
  }

  /// One descriptor per atomic that uses one, made with the others at the top.
  void emit_atomic_descriptors(const std::vector<Stmt> &body) {
    for (const Stmt &s : body) {
      if (s.kind == Stmt::Kind::Store && s.atomic && atomic_through_descriptor(s)) {
        const ir::TensorParam &t = k_.tensors[s.tensor];
        const std::string &base = tensor_names_[s.tensor];
        std::string name = names_.generated(base + "_atomic_desc_" + std::to_string(s.atomic_op));
        out_.line(name + " = tl.make_tensor_descriptor(" + base + ", " + list_of(t.sizes) + ", " +
                  list_of(t.strides) + ", " + block_shape(s.index) + ")");
        atomic_descriptors_[s.atomic_op] = name;
      }
      ir::for_each_region(
          s, [&](const std::vector<Stmt> &region) { emit_atomic_descriptors(region); });
    }
  }

  void collect_accesses(const std::vector<Stmt> &body,
                        std::vector<std::pair<int, const std::vector<IndexItem> *>> &out) {
    for (const Stmt &s : body) {
      if (s.kind == Stmt::Kind::Store && !s.atomic) {
        access_tensor_[s.memory_op] = s.tensor;
        out.emplace_back(s.memory_op, &s.index);
      }
      if (s.kind == Stmt::Kind::Compute && k_.node(s.value).op == OpKind::Load) {
        const Node &n = k_.node(s.value);
        if (!access_tensor_.count(n.memory_op)) out.emplace_back(n.memory_op, &n.index);
        access_tensor_[n.memory_op] = n.tensor;
      }
      ir::for_each_region(s, [&](const std::vector<Stmt> &region) { collect_accesses(region, out); });
    }
  }

  /// Pointer arithmetic and mask for `index` into `tensor`, shaped like the
  /// access's result (rank `rank`).
  /// The dims of the value an access reads or writes, in IR terms.
  std::vector<Dim> access_dims(const std::vector<IndexItem> &index) const {
    std::vector<Dim> dims;
    for (const IndexItem &item : index) {
      if (item.kind == IndexItem::Kind::Block) dims.push_back(Dim::of_block(item.block));
      if (item.kind == IndexItem::Kind::NewAxis) dims.push_back(Dim::constant(1));
      if (item.kind == IndexItem::Kind::Gather) {
        const std::vector<Dim> &gathered = k_.node(item.value).type.dims;
        dims.insert(dims.end(), gathered.begin(), gathered.end());
      }
    }
    return dims;
  }

  /// `mask_b` of every masked block among `dims[first, first + count)`,
  /// broadcast into a value of `dims`.
  void add_masks(const std::vector<Dim> &dims, size_t first, size_t count,
                 std::set<std::string> &masks, std::string &mask) const {
    int rank = cg_rank(dims);
    for (size_t i = first; i < first + count; ++i) {
      if (!dims[i].is_block()) continue;
      std::string m = block_mask(dims[i].block, cg_axis(dims, i), rank);
      if (!m.empty() && masks.insert(m).second) mask += (mask.empty() ? "" : " & ") + m;
    }
  }

  std::pair<std::string, std::string> pointer_and_mask(int tensor,
                                                       const std::vector<IndexItem> &index) {
    const ir::TensorParam &t = k_.tensors[tensor];
    std::vector<Dim> dims = access_dims(index);
    int rank = cg_rank(dims);
    std::string pointer = tensor_names_[tensor], mask;
    std::set<std::string> masks;
    size_t position = 0; // among the access's dims
    int dim = 0;         // among the tensor's dims
    for (const IndexItem &item : index) {
      if (item.kind == IndexItem::Kind::NewAxis) {
        ++position;
        continue;
      }
      std::optional<int64_t> size = sym_constant(t.sizes[dim]);
      std::string stride = kernel_sym(t.strides[dim++]);
      std::string term;
      // A dimension of size 1 broadcasts, as block masks of flex attention
      // shared by every head do: any scalar index reads its one element.
      // An index tensor squeezed to one element (a tile of block size 1
      // computed it) indexes like a scalar.
      bool scalar = item.kind == IndexItem::Kind::Scalar ||
                    (item.kind == IndexItem::Kind::Gather && k_.node(item.value).type.dims.empty());
      if (scalar && size && *size == 1) continue;
      if (scalar) {
        std::string value = expr(item.value);
        term = widened(item.value, value);
        if (term == value) term = wrap(value);
      } else if (item.kind == IndexItem::Kind::Gather) {
        // The index tensor's axes sit at this position of the access.
        const std::vector<Dim> &gathered = k_.node(item.value).type.dims;
        int first = cg_axis(dims, position), count = cg_rank(gathered);
        std::string sub = "[";
        for (int i = 0; i < rank; ++i)
          sub += std::string(i ? ", " : "") + (i >= first && i < first + count ? ":" : "None");
        term = widened(item.value, expr(item.value)) + (rank > count ? sub + "]" : "");
        add_masks(dims, position, gathered.size(), masks, mask);
        position += gathered.size();
      } else {
        int axis = cg_axis(dims, position++);
        term = block_names_[item.block].indices;
        if (item.start) term = "(" + term + " + " + kernel_sym(item.start) + ")";
        if (item.value >= 0) term = "(" + term + " + " + expr(item.value) + ")";
        if (rank > 1) {
          std::string sub = "[";
          for (int i = 0; i < rank; ++i)
            sub += std::string(i ? ", " : "") + (i == axis ? ":" : "None");
          term += sub + "]";
        }
        std::string m = block_mask(item.block, axis, rank);
        if (!m.empty() && masks.insert(m).second) mask += (mask.empty() ? "" : " & ") + m;
        if (item.value >= 0) {
          // A start computed on the device may put lanes outside the dimension.
          std::string inside = "(" + term + " >= 0) & (" + term + " < " +
                               wrap(kernel_sym(t.sizes[dim - 1])) + ")";
          mask += (mask.empty() ? "" : " & ") + inside;
        }
      }
      pointer += " + " + (stride == "1" ? term : term + " * " + wrap(stride));
    }
    return {pointer, mask};
  }

  /// `, eviction_policy='evict_first'` for a load the source or the config
  /// gives a policy, else nothing. Triton 3.6's descriptor loads take none
  /// (tensor_descriptor.load passes ""), so descriptors drop it.
  std::string eviction_keyword(const Node &n) {
    std::string policy = n.policy_load >= 0
                             ? config_.eviction_policy_for(static_cast<size_t>(n.policy_load))
                             : n.eviction_policy;
    return policy.empty() ? "" : ", eviction_policy='" + policy + "'";
  }

  std::string load_text(const Node &n) {
    bool extra_mask = !n.operands.empty();
    std::string style = extra_mask ? "pointer" : access_style(n.tensor, n.index, n.memory_op);
    if (style != "pointer" && has_unit_blocks(n.index))
      // The block has a size-1 axis per tile of one index; the value has none.
      return "tl.reshape(" + block_load_text(n, style) + ", " + shape_list(n.type.dims) + ")";
    if (style != "pointer") return block_load_text(n, style);
    const ir::TensorParam &t = k_.tensors[n.tensor];
    std::string eviction = eviction_keyword(n);
    auto [pointer, mask] = pointer_and_mask(n.tensor, n.index);
    if (extra_mask) mask = and_extra_mask(mask, n.operands[0], access_dims(n.index));
    if (mask.empty()) return "tl.load(" + pointer + eviction + ")";
    if (is_float8(t.dtype))
      // Triton cannot convert `other=0` to a float8 type: the bytes are loaded
      // instead (all zero bits is +0.0 in both float8 formats).
      return "tl.load((" + pointer + ").to(tl.pointer_type(tl.uint8)), " + mask + ", other=0" +
             eviction + ").to(" + triton_dtype(t.dtype) + ", bitcast=True)";
    return "tl.load(" + pointer + ", " + mask + ", other=0" + eviction + ")";
  }

  /// A load through a tensor descriptor or a block pointer.
  std::string block_load_text(const Node &n, const std::string &style) {
    if (style == "tensor_descriptor")
      return descriptors_.at(n.memory_op) + ".load(" + block_offsets(n.index) + ")";
    const ir::TensorParam &t = k_.tensors[n.tensor];
    return "tl.load(tl.make_block_ptr(" + tensor_names_[n.tensor] + ", " + list_of(t.sizes) +
           ", " + list_of(t.strides) + ", " + block_offsets(n.index) + ", " +
           block_shape(n.index) + ", " + order(n.index.size()) + ")" + load_bounds(n.index) +
           eviction_keyword(n) + ")";
  }

  /// `mask` and the user's extra mask node, broadcast to the access's dims.
  std::string and_extra_mask(const std::string &mask, int extra, const std::vector<Dim> &dims) {
    std::string m = wrap(expr_at_rank(extra, cg_rank(dims)));
    return mask.empty() ? m : mask + " & " + m;
  }

  std::string load_bounds(const std::vector<IndexItem> &index) {
    std::string dims = boundary_dims(index);
    return dims.empty() ? "" : ", boundary_check=" + dims + ", padding_option='zero'";
  }

  static std::string order(size_t rank) {
    std::string text = "[";
    for (size_t i = rank; i-- > 0;)
      text += std::to_string(i) + (i ? ", " : "");
    return text + "]";
  }

  /// An atomic whose old values are read, through pointers (Triton 3.6's
  /// descriptor atomics return nothing). Its operands come in the target's
  /// shape and dtype, as tl.atomic_cas converts and broadcasts neither.
  /// tl.atomic_cas takes no mask either: a lane masked off compares the
  /// target's first element with its own expected value and swaps that in,
  /// which changes nothing.
  std::string atomic_text(const Node &n) {
    std::vector<Dim> dims = access_dims(n.index);
    auto operand = [&](size_t i) {
      const Node &v = k_.node(n.operands.at(i));
      if (v.op == OpKind::Constant)
        return "tl.full(" + shape_list(dims) + ", " + v.number + ", " + triton_dtype(v.type.dtype) +
               ")";
      std::string text = expr_at_rank(v.id, cg_rank(dims));
      return v.type.dims == dims ? text : "tl.broadcast_to(" + text + ", " + shape_list(dims) + ")";
    };
    auto [pointer, mask] = pointer_and_mask(n.tensor, n.index);
    if (n.atomic_mask() >= 0) mask = and_extra_mask(mask, n.atomic_mask(), dims);
    std::string sem = std::string(", sem='") + ir::name(n.sem) + "')";
    std::string value = operand(n.atomic_values() - 1);
    if (n.atomic_fn() != ir::AtomicFn::Cas)
      return std::string("tl.atomic_") + ir::name(n.atomic_fn()) + "(" + pointer + ", " + value +
             (mask.empty() ? "" : ", mask=" + mask) + sem;
    std::string expected = operand(0);
    if (!mask.empty()) {
      pointer = "tl.where(" + mask + ", " + pointer + ", " + tensor_names_[n.tensor] + ")";
      value = "tl.where(" + mask + ", " + value + ", " + expected + ")";
    }
    return "tl.atomic_cas(" + pointer + ", " + expected + ", " + value + sem;
  }

  void emit_store(const Stmt &s) {
    const ir::TensorParam &t = k_.tensors[s.tensor];
    std::vector<Dim> dims = access_dims(s.index);
    std::string value = expr_at_rank(s.value, cg_rank(dims));
    if (k_.node(s.value).type.dtype != t.dtype)
      value = wrap(value) + ".to(" + triton_dtype(t.dtype) + ")";
    if (s.atomic) {
      if (atomic_descriptors_.count(s.atomic_op)) {
        if (k_.node(s.value).type.dims != dims)
          value = "tl.broadcast_to(" + value + ", " + shape_list(dims) + ")";
        out_.line(atomic_descriptors_.at(s.atomic_op) + ".atomic_" + ir::name(*s.atomic) + "(" +
                  block_offsets(s.index) + ", " + value + ")");
        return;
      }
      auto [pointer, mask] = pointer_and_mask(s.tensor, s.index);
      if (s.mask >= 0) mask = and_extra_mask(mask, s.mask, dims);
      out_.line(std::string("tl.atomic_") + ir::name(*s.atomic) + "(" + pointer + ", " + value +
                (mask.empty() ? "" : ", mask=" + mask) + ", sem='" + ir::name(s.sem) + "')");
      return;
    }
    std::string style = s.mask >= 0 ? "pointer" : access_style(s.tensor, s.index, s.memory_op);
    if (style != "pointer" && k_.node(s.value).type.dims != dims)
      value = "tl.broadcast_to(" + value + ", " + shape_list(dims) + ")";
    if (style != "pointer" && has_unit_blocks(s.index))
      value = "tl.reshape(" + value + ", " + block_shape(s.index) + ")";
    if (style == "tensor_descriptor") {
      out_.line(descriptors_.at(s.memory_op) + ".store(" + block_offsets(s.index) + ", " + value +
                ")");
      return;
    }
    if (style == "block_ptr") {
      out_.line(
          "tl.store(tl.make_block_ptr(" + tensor_names_[s.tensor] + ", " + list_of(t.sizes) + ", " +
          list_of(t.strides) + ", " + block_offsets(s.index) + ", " + block_shape(s.index) + ", " +
          order(s.index.size()) + "), " + value +
          (boundary_dims(s.index).empty() ? "" : ", boundary_check=" + boundary_dims(s.index)) +
          ")");
      return;
    }
    auto [pointer, mask] = pointer_and_mask(s.tensor, s.index);
    if (s.mask >= 0) mask = and_extra_mask(mask, s.mask, dims);
    out_.line("tl.store(" + pointer + ", " + value + (mask.empty() ? "" : ", " + mask) + ")");
  }

  // ---- parameters ---------------------------------------------------------

  void collect_params(DeviceFunction &fn) {
    for (size_t i = 0; i < k_.tensors.size(); ++i)
      fn.params.push_back({tensor_names_[i], k_.tensors[i].name, false});
    for (const auto &[key, name] : sym_vars_)
      fn.params.push_back({name, key.second, false});
    for (size_t i = 0; i < k_.scalars.size(); ++i)
      fn.params.push_back({scalar_names_[i], k_.scalars[i].name, false});
    for (size_t b = 0; b < plans_.size(); ++b)
      if (!is_flat(static_cast<int>(b)) || plans_[b].flat_leader == static_cast<int>(b))
        fn.params.push_back({plans_[b].size, plans_[b].size_host, true});
    if (fn.barriers > 0) {
      fn.params.push_back({barrier_counts_,
                           module_.runtime() + ".barrier_counts(" + tensors_device() + ", " +
                               std::to_string(fn.barriers) + ")",
                           false});
      fn.params.push_back({barrier_phase_, module_.barrier_phase(), true});
    }
  }

  const ir::DeviceKernel &k_;
  const Config &config_;
  const KernelInputs &inputs_;
  const ModuleNames &module_;
  DeviceNames names_;
  std::string name_;
  bool int64_indices_;
  CodeWriter out_;
  std::vector<BlockPlan> plans_;
  std::vector<BlockNames> block_names_;
  std::vector<std::string> tensor_names_, scalar_names_; ///< their parameters' names
  std::map<int, std::string> values_;                    ///< node id -> its variable
  /// (kernel name, host expression) of each size variable -> its parameter's name
  std::map<std::pair<std::string, std::string>, std::string> sym_vars_;
  std::map<int, int> access_tensor_;
  std::map<int, std::string> descriptors_;
  std::map<int, std::string> atomic_descriptors_; ///< atomic op -> its tensor descriptor
  std::vector<size_t> top_level_entries_;         ///< each top-level loop's range entry
  /// With hl.barrier(): the kernel's counters (one int32 per barrier) and the
  /// constexpr phase to run (< 0: all of them, syncing at the barriers).
  std::string barrier_counts_, barrier_phase_;
  std::map<int, size_t> range_entry_of_block_;    ///< inner tile loop block -> its range entry
  std::map<int, size_t> range_entry_of_loop_;     ///< range() loop's LoopIndex -> its range entry
  std::map<size_t, size_t> static_slot_;          ///< range entry -> its static_ranges entry
  std::map<int, std::string> combine_names_; ///< combine function -> its @triton.jit function
  std::string grid_;
};

} // namespace

DeviceFunction generate_device_function(const ir::DeviceKernel &kernel, const Config &config,
                                        const KernelInputs &inputs, const ModuleNames &names,
                                        const std::string &name, bool int64_indices) {
  return DeviceEmitter(kernel, config, inputs, names, name, int64_indices).run();
}

} // namespace helion::codegen
