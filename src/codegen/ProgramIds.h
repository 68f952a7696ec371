#pragma once

// How the launch's programs map onto the tiles of the kernel's top-level
// loops: one loop over the whole grid (flat or x/y/z program ids, with or
// without L2 grouping), several loops sharing one 1-D grid, or persistent
// programs (blocked or interleaved) that loop over the tiles of each loop in
// turn, with grid barriers between loops. Also the host's expression of the
// launch grid.

#include "codegen/DeviceContext.h"
#include "codegen/ExprTree.h"
#include "codegen/TritonCodegen.h"
#include "ir/Ir.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace helion::codegen {

/// How many programs a non-persistent launch of the kernel has, where the
/// extents and block sizes are known when generating; nullopt otherwise.
std::optional<int64_t> constant_program_count(const DeviceContext &ctx);

class ProgramIds {
public:
  /// `emit_body` writes a top-level loop's body where this part puts it.
  using BodyWriter = std::function<void(const std::vector<ir::Stmt> &)>;

  ProgramIds(DeviceContext &ctx, BodyWriter emit_body)
      : ctx_(ctx), emit_body_(std::move(emit_body)) {}

  /// Writes the top-level loops with their program-id mapping; returns the
  /// host expression of the launch grid tuple. Throws for a pid type the
  /// kernel cannot take.
  std::string emit_roots();
  /// How many hl.barrier() calls stand between the kernel's top-level loops.
  int barrier_count() const;
  /// The parameters the barriers need (counters, phase), after emit_roots.
  std::vector<KernelParam> barrier_params() const;

private:
  Expr emit_root_ranges(const std::string &program);
  std::string emit_persistent_roots();
  void emit_grid_barrier(int index, const std::string &programs);
  Expr persistent_range(size_t root, const std::string &total, const std::string &programs);
  Expr persistent_grid() const;
  Expr kernel_program_count(const ir::RootLoop &root);
  Expr host_block_count(const SymInt &extent, const BlockPlan &plan) const;
  std::vector<Expr> emit_grid_mapping(const ir::RootLoop &root, const Expr &program_id,
                                      bool allow_xyz);
  void emit_pid_decomposition(const std::vector<int> &blocks, const std::string &program);

  DeviceContext &ctx_;
  BodyWriter emit_body_;
  /// With hl.barrier(): the kernel's counters (one int32 per barrier) and the
  /// constexpr phase to run (< 0: all of them, syncing at the barriers).
  std::string barrier_counts_, barrier_phase_;
};

} // namespace helion::codegen
