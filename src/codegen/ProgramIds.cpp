#include "codegen/ProgramIds.h"

#include "codegen/PythonText.h"
#include "support/Diagnostics.h"

#include <climits>
#include <optional>

namespace helion::codegen {

namespace {

/// The launch grid as the host writes it: `(x,)`, `(x, y,)`.
std::string grid_tuple(const std::vector<Expr> &dims) {
  std::string text;
  for (const Expr &d : dims)
    text += (text.empty() ? "" : ", ") + to_python(d);
  return "(" + text + ",)";
}

Expr sum(const std::vector<Expr> &terms) {
  Expr total;
  for (const Expr &t : terms)
    total = total ? total + t : t;
  return total;
}

Expr product(const std::vector<Expr> &factors) {
  Expr total;
  for (const Expr &f : factors)
    total = total ? total * f : f;
  return total;
}

Expr floor_div(Expr a, Expr b) {
  return binary(BinaryOp::FloorDiv, std::move(a), std::move(b));
}
Expr mod(Expr a, Expr b) {
  return binary(BinaryOp::Mod, std::move(a), std::move(b));
}

} // namespace

/// The kernel's top-level loops: one maps onto the whole grid; several share
/// one 1-D grid, each loop on a range of program ids of its own. Persistent
/// pid types launch a fixed grid whose programs loop over those program ids
/// instead.
std::string ProgramIds::emit_roots() {
  const ir::DeviceKernel &k = ctx_.kernel;
  const Config &config = ctx_.config;
  if (barrier_count() > 0) {
    // Validation refuses other pid types; a kernel generated anyway must not hang.
    if (config.pid_type != "persistent_blocked")
      throw UserError("BarrierRequiresPersistent",
                      "hl.barrier() needs pid_type \"persistent_blocked\", not " +
                          python_string(config.pid_type));
    barrier_counts_ = ctx_.names.generated("barrier_counts");
    barrier_phase_ = ctx_.names.generated("barrier_phase");
  }
  if (config.is_persistent()) return emit_persistent_roots();
  if (k.roots.size() == 1) {
    Expr program_id = call("tl.program_id", {literal(0)});
    std::string grid = grid_tuple(emit_grid_mapping(k.roots[0], program_id, true));
    emit_body_(k.roots[0].body);
    return grid;
  }
  if (config.pid_type == "xyz")
    throw UserError("InvalidConfig", "pid_type \"xyz\" maps one top-level loop onto the grid; "
                                     "this kernel has several, so use \"flat\"");
  std::string program = ctx_.names.generated("program");
  ctx_.out.line(program + " = tl.program_id(0)");
  return grid_tuple({emit_root_ranges(program)});
}

/// Each top-level loop on its range of the program ids in `program`; returns
/// the host code's count of all of them.
Expr ProgramIds::emit_root_ranges(const std::string &program) {
  const ir::DeviceKernel &k = ctx_.kernel;
  Expr kernel_start;
  std::vector<Expr> host_counts;
  for (const ir::RootLoop &root : k.roots) {
    Expr count_here = kernel_program_count(root);
    Expr kernel_end = kernel_start ? kernel_start + count_here : count_here;
    ctx_.out.line(std::string(&root == &k.roots.front() ? "if " : "elif ") +
                  to_python(binary(BinaryOp::Lt, name(program), kernel_end)) + ":");
    ctx_.out.indent();
    Expr local = kernel_start ? name(program) - kernel_start : name(program);
    std::vector<Expr> counts = emit_grid_mapping(root, local, false);
    host_counts.push_back(counts.front());
    emit_body_(root.body);
    ctx_.out.dedent();
    ctx_.out.forget_source();
    kernel_start = kernel_end;
  }
  return sum(host_counts);
}

/// A grid of SMs times num_sm_multiplier programs. Each program loops over
/// the tiles of each top-level loop in turn: a contiguous range of them
/// (persistent_blocked) or every grid-size-th one (persistent_interleaved).
/// A loop of its own per top-level loop lets each take its range_* entry.
std::string ProgramIds::emit_persistent_roots() {
  const ir::DeviceKernel &k = ctx_.kernel;
  CodeWriter &out = ctx_.out;
  std::string programs = ctx_.names.generated("num_programs");
  out.set_source(k.tile_calls[k.roots.front().grid_call].span);
  out.line(programs + " = tl.num_programs(0)");
  int phase = 0;
  for (size_t r = 0; r < k.roots.size(); ++r) {
    const ir::RootLoop &root = k.roots[r];
    if (root.barrier_before.valid()) {
      out.set_source(root.barrier_before);
      emit_grid_barrier(phase++, programs);
    }
    out.set_source(k.tile_calls[root.grid_call].span);
    // A launch of one phase (see barrier_phase_) runs only its loops.
    if (!barrier_phase_.empty()) {
      Expr all = binary(BinaryOp::Lt, name(barrier_phase_), literal(0));
      Expr this_one = binary(BinaryOp::Eq, name(barrier_phase_), literal(phase));
      out.line("if " + to_python(binary(BinaryOp::Or, all, this_one)) + ":");
      out.indent();
    }
    std::string total = ctx_.names.generated("total_tiles");
    std::string tile = ctx_.names.generated("virtual_pid");
    out.line(total + " = " + to_python(kernel_program_count(root)));
    out.line("for " + tile + " in " + to_python(persistent_range(r, total, programs)) + ":");
    out.indent();
    out.forget_source(); // the loop's body says again which loop it is
    emit_grid_mapping(root, name(tile), false);
    emit_body_(root.body);
    out.dedent();
    if (!barrier_phase_.empty()) out.dedent();
    out.forget_source();
  }
  return grid_tuple({persistent_grid()});
}

/// The `index`-th hl.barrier(): every program adds one to its counter (a
/// zeroed int32 the host allocates per launch) once its threads' stores are
/// done, then waits until all `programs` have. Every program of a
/// persistent_blocked launch is resident (the launch is cooperative), so the
/// wait ends. Launches of one phase (Triton's interpreter, whose programs run
/// one after another) leave it out.
void ProgramIds::emit_grid_barrier(int index, const std::string &programs) {
  CodeWriter &out = ctx_.out;
  Expr counter = name(barrier_counts_) + literal(index);
  std::string arrived = ctx_.names.generated("arrived");
  auto atomic_add = [&](int64_t value, const char *sem) {
    return call("tl.atomic_add", {counter, literal(value)},
                {{"sem", literal(std::string("\"") + sem + "\"")}, {"scope", literal("\"gpu\"")}});
  };
  auto poll = [&] { out.line(arrived + " = " + to_python(atomic_add(0, "acquire"))); };
  out.line("if " + to_python(binary(BinaryOp::Lt, name(barrier_phase_), literal(0))) + ":");
  out.indent();
  out.line("tl.debug_barrier()");
  out.line(to_python(atomic_add(1, "release")));
  poll();
  out.line("while " + to_python(binary(BinaryOp::Lt, name(arrived), name(programs))) + ":");
  out.indent();
  poll();
  out.dedent();
  out.line("tl.debug_barrier()");
  out.dedent();
}

int ProgramIds::barrier_count() const {
  int count = 0;
  for (const ir::RootLoop &root : ctx_.kernel.roots)
    count += root.barrier_before.valid() ? 1 : 0;
  return count;
}

std::vector<KernelParam> ProgramIds::barrier_params() const {
  int barriers = barrier_count();
  if (barriers == 0) return {};
  std::string counts = ctx_.module.runtime() + ".barrier_counts(" + ctx_.tensors_device() + ", " +
                       std::to_string(barriers) + ")";
  return {{barrier_counts_, counts, false}, {barrier_phase_, ctx_.module.barrier_phase(), true}};
}

/// The program's virtual program ids among the `total` tiles of the `root`-th
/// top-level loop, iterated with that loop's range options.
Expr ProgramIds::persistent_range(size_t root, const std::string &total,
                                  const std::string &programs) {
  size_t entry = ctx_.blocks.top_level_entry(root);
  Expr program_id = call("tl.program_id", {literal(0)});
  if (ctx_.config.pid_type == "persistent_interleaved")
    return ctx_.blocks.range_call(entry, program_id, name(total), name(programs));
  std::string per_program = ctx_.names.generated("tiles_per_program");
  std::string first = ctx_.names.generated("first_tile");
  std::string end = ctx_.names.generated("end_tile");
  ctx_.out.line(per_program + " = " + to_python(call("tl.cdiv", {name(total), name(programs)})));
  ctx_.out.line(first + " = " + to_python(program_id * name(per_program)));
  ctx_.out.line(end + " = " +
                to_python(call("tl.minimum", {name(first) + name(per_program), name(total)})));
  return ctx_.blocks.range_call(entry, name(first), name(end), literal(1));
}

/// The host code's program count of a persistent kernel: the SMs of the
/// device the tensors live on, read at launch.
Expr ProgramIds::persistent_grid() const {
  return call(ctx_.module.runtime() + ".persistent_programs",
              {name(ctx_.tensors_device()), literal(ctx_.config.num_sm_multiplier),
               literal(ctx_.inputs.settings.persistent_reserved_sms)});
}

std::optional<int64_t> constant_program_count(const DeviceContext &ctx) {
  int64_t total = 0;
  for (const ir::RootLoop &root : ctx.kernel.roots) {
    const ir::TileCall &tc = ctx.kernel.tile_calls[root.grid_call];
    std::vector<std::pair<SymInt, int>> extents; // (extent, block) per grid dimension
    if (!tc.blocks.empty() && ctx.blocks.is_flat(tc.blocks.front()))
      extents.emplace_back(ctx.blocks.flat_extent(tc), tc.blocks.front());
    else
      for (int b : tc.blocks)
        extents.emplace_back(ctx.kernel.blocks[b].extent(), b);
    int64_t count = 1;
    for (const auto &[extent, block] : extents) {
      std::optional<int64_t> n = sym_constant(extent);
      int64_t size = ctx.blocks.plan(block).size_value;
      if (!n || *n < 0 || size <= 0) return std::nullopt;
      int64_t tiles = *n / size + (*n % size != 0);
      if (tiles != 0 && count > INT64_MAX / 4 / tiles) return std::nullopt; // beyond any grid
      count *= tiles;
    }
    total += count;
    if (total > INT64_MAX / 4) return std::nullopt;
  }
  return total;
}

/// How many programs `root` takes, as kernel code.
Expr ProgramIds::kernel_program_count(const ir::RootLoop &root) {
  const ir::TileCall &tc = ctx_.kernel.tile_calls[root.grid_call];
  const BlockPlans &blocks = ctx_.blocks;
  if (tc.blocks.empty()) return literal(1);
  if (blocks.is_flat(tc.blocks.front()))
    return call("tl.cdiv",
                {ctx_.kernel_sym(blocks.flat_extent(tc)), blocks.size(tc.blocks.front())});
  std::vector<Expr> counts;
  for (int b : tc.blocks)
    counts.push_back(
        call("tl.cdiv", {ctx_.kernel_sym(ctx_.kernel.blocks[b].extent()), blocks.size(b)}));
  return product(counts);
}

/// The host's count of `plan`'s blocks covering `extent`, as `triton.cdiv`
/// computes it: a constant where the extent is one, else integer arithmetic
/// (a call of `triton.cdiv` costs about a microsecond per launch).
Expr ProgramIds::host_block_count(const SymInt &extent, const BlockPlan &plan) const {
  int64_t size = plan.size_value;
  Expr host = sym_text(ctx_.module.host_sym(extent), extent);
  if (size <= 0) // a size known only at run time
    return call(ctx_.module.triton() + ".cdiv", {host, name(plan.size_host)});
  std::optional<int64_t> value = sym_constant(extent);
  if (value && *value >= 0 && *value <= INT64_MAX - size)
    return literal((*value + size - 1) / size);
  return floor_div(host + literal(size - 1), literal(size));
}

/// Maps `program_id` (kernel code) onto `root`'s tiles; returns the host
/// code's count of its programs (with `allow_xyz`, the x, y, z counts).
std::vector<Expr> ProgramIds::emit_grid_mapping(const ir::RootLoop &root, const Expr &program_id,
                                                bool allow_xyz) {
  const ir::DeviceKernel &k = ctx_.kernel;
  const BlockPlans &plans = ctx_.blocks;
  const ir::TileCall &tc = k.tile_calls[root.grid_call];
  ctx_.out.set_source(tc.span);
  if (tc.blocks.empty()) { // `hl.tile([])`, e.g. over a 0-d tensor's size: one program
    emit_persistent_indices(ctx_);
    return {literal(1)};
  }
  if (plans.is_flat(tc.blocks.front())) {
    int leader = tc.blocks.front();
    emit_flat_indices(ctx_, root.grid_call, ctx_.index_cast(program_id) * plans.size(leader));
    emit_persistent_indices(ctx_);
    return {host_block_count(plans.flat_extent(tc), plans.plan(leader))};
  }
  std::vector<int> blocks;
  for (int dim : plans.loop_order(root.grid_call))
    blocks.push_back(tc.blocks[dim]);
  std::vector<Expr> host_counts;
  for (int b : blocks)
    host_counts.push_back(host_block_count(k.blocks[b].extent(), plans.plan(b)));

  std::vector<Expr> grid;
  bool xyz = allow_xyz && ctx_.config.pid_type == "xyz" && blocks.size() <= 3 &&
             ctx_.config.l2_grouping <= 1;
  if (xyz) {
    for (size_t i = 0; i < blocks.size(); ++i)
      ctx_.out.line(plans.names(blocks[i]).pid + " = " +
                    to_python(call("tl.program_id", {literal(static_cast<int64_t>(i))})));
    grid = host_counts;
  } else {
    grid = {product(host_counts)};
    std::string program = ctx_.names.generated("pid");
    ctx_.out.line(program + " = " + to_python(program_id));
    emit_pid_decomposition(blocks, program);
  }
  for (int b : tc.blocks) {
    Expr begin = ctx_.kernel_sym(k.blocks[b].begin);
    Expr offset = ctx_.index_cast(name(plans.names(b).pid)) * plans.size(b);
    emit_block_indices(ctx_, b, prints_as(begin, "0") ? offset : begin + offset);
  }
  emit_persistent_indices(ctx_);
  return grid;
}

/// Splits the flat program id `program` into one tile index per block,
/// `blocks` fastest first.
void ProgramIds::emit_pid_decomposition(const std::vector<int> &blocks,
                                        const std::string &program) {
  const BlockPlans &plans = ctx_.blocks;
  CodeWriter &out = ctx_.out;
  auto count = [&](int b) { return name(plans.names(b).count); };
  auto pid = [&](int b) { return plans.names(b).pid; };
  for (int b : blocks)
    out.line(plans.names(b).count + " = " +
             to_python(call("tl.cdiv",
                            {ctx_.kernel_sym(ctx_.kernel.blocks[b].extent()), plans.size(b)})));
  size_t first = 0;
  Expr rest = name(program);
  if (ctx_.config.l2_grouping > 1 && blocks.size() >= 2) {
    // Consecutive programs walk G tiles along the fastest block before
    // moving along the next, so the tiles they share stay in L2.
    Expr g = literal(ctx_.config.l2_grouping);
    Expr a = count(blocks[0]), c = count(blocks[1]);
    Expr plane = blocks.size() > 2 ? mod(name(program), a * c) : name(program);
    Expr in_group = name(ctx_.names.generated("num_pid_in_group"));
    Expr group = name(ctx_.names.generated("group_id"));
    Expr first_pid = name(ctx_.names.generated("first_pid"));
    Expr size = name(ctx_.names.generated("group_size"));
    Expr pid_in_group = name(ctx_.names.generated("pid_in_group"));
    auto assign = [&](const Expr &var, const Expr &value) {
      out.line(to_python(var) + " = " + to_python(value));
    };
    assign(in_group, g * c);
    assign(group, floor_div(plane, in_group));
    assign(first_pid, group * g);
    assign(size, call("tl.minimum", {a - first_pid, g}));
    assign(pid_in_group, mod(plane, in_group));
    assign(name(pid(blocks[0])), first_pid + mod(pid_in_group, size));
    assign(name(pid(blocks[1])), floor_div(pid_in_group, size));
    first = 2;
    rest = floor_div(name(program), a * c);
  }
  for (size_t i = first; i < blocks.size(); ++i) {
    bool last = i + 1 == blocks.size();
    out.line(pid(blocks[i]) + " = " + to_python(last ? rest : mod(rest, count(blocks[i]))));
    rest = floor_div(rest, count(blocks[i]));
  }
}

} // namespace helion::codegen
