#pragma once

// What every part of the device code generator reads and writes: the kernel
// and its config, the device function's names, the plan of its blocks, the
// lines written so far and the variable that holds each computed value. The
// parts (BlockPlan, ProgramIds, MemoryAccess, the statements in
// DeviceCodegen.cpp) take it by reference; none of them holds another.

#include "codegen/BlockPlan.h"
#include "codegen/CodeWriter.h"
#include "codegen/ExprTree.h"
#include "codegen/Names.h"
#include "config/Config.h"
#include "ir/Ir.h"
#include "types/KernelInputs.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace helion::codegen {

struct DeviceContext {
  DeviceContext(const ir::DeviceKernel &kernel, const Config &config, const KernelInputs &inputs,
                const ModuleNames &module, bool int64_indices,
                const std::set<std::string> &reserved_names);

  const ir::DeviceKernel &kernel;
  const Config &config;
  const KernelInputs &inputs;
  const ModuleNames &module;
  DeviceNames names;
  bool int64_indices;
  /// Parameter names of the kernel's tensors and scalars, chosen before any
  /// generated name so the user's names stay as written where they can.
  std::vector<std::string> tensor_names, scalar_names;
  BlockPlans blocks;
  CodeWriter out;
  std::map<int, Expr> values; ///< node id -> the expression that holds it
  /// (kernel name, host expression) of each size variable -> its parameter's name
  std::map<std::pair<std::string, std::string>, std::string> sym_vars;

  /// The expression for a node: its variable for computed nodes, the literal
  /// for constants, the parameter or size expression for host scalars.
  Expr value(int id);
  /// `id`'s value with leading size-1 axes so it has `rank` dims.
  Expr value_at_rank(int id, int rank);
  /// `s` as kernel code, each variable under its parameter's name.
  Expr kernel_sym(const SymInt &s);
  /// `offset` converted to int64 where the kernel's offsets are.
  Expr index_cast(Expr offset) const;
  /// An integer scalar node as the kernel's index type (a loaded int64
  /// offset in an int32 kernel, whose tensors all fit int32 offsets, or the
  /// reverse).
  Expr in_index_type(int node);
  /// An index value read from `node` (a scalar or gathered indices), in
  /// int64 where offsets are: int32 values times an int32 stride can
  /// overflow though each fits. tl.cast, as the interpreter passes ints as
  /// Python ints.
  Expr widened(int node, Expr value) const;
  /// `[d0, d1]`: a value's shape as the generated code holds it.
  Expr shape_list(const std::vector<ir::Dim> &ir_dims) const;
  /// A block's range as kernel code: sizes, or the device values that bound
  /// a loop over a range computed in the kernel.
  Expr range_begin(int block);
  Expr range_end(int block);
  /// The host expression of the device the kernel's tensors live on (None:
  /// the current CUDA device).
  std::string tensors_device() const;

private:
  SymInt device_sym(const SymInt &s);
};

/// A size expression another printer wrote, with the precedence of its
/// outermost operation.
Expr sym_text(const std::string &text, const SymInt &s);

/// The Triton spelling of `dtype` as an expression (`tl.float32`).
Expr triton_dtype_expr(DType dtype);

} // namespace helion::codegen
