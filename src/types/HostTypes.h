#pragma once

// Type and shape propagation over a kernel's host code: the statements
// before and after the grid loop. Finds the grid loop and records what every
// host variable holds when the kernel launches.

#include "parse/Ast.h"
#include "types/HostValue.h"
#include "types/KernelInputs.h"
#include "types/OpSignature.h"

#include <map>
#include <string>
#include <vector>

namespace helion {

/// A size `hl.specialize` turned into a constant: host code checks that
/// `host_expr` still has `value` before launching.
struct Specialization {
  std::string host_expr;
  int64_t value = 0;
};

/// `bs = hl.register_block_size(...)`: a block size the config chooses, known
/// to host code as `symbol` (a variable that each config binds to its value).
struct RegisteredBlockSize {
  const ast::Expr *call = nullptr;
  SymInt symbol;
  int64_t min = 1; ///< a power of two
  SymInt max;
};

/// How a registered block size's symbol is named: this and its index.
inline const std::string kRegisteredBlockSizePrefix = "_block_size_";

/// Whether a symbol (by kernel name) stands for a value each config fixes:
/// a registered block size or an int or bool tunable (tunable_symbol).
bool is_config_symbol(const std::string &kernel_name);

/// `v = hl.register_tunable(name, fragment)`: a value the config chooses.
/// Ints and bools are known to host code as the symbol tunable_symbol(index),
/// which each config binds; floats are read at launch from the variable.
struct RegisteredTunable {
  std::vector<const ast::Expr *> calls; ///< each call registering it (the same fragment)
  std::string name;
  Fragment fragment;
};

/// What host-code analysis reports besides types: specialized sizes, block
/// sizes registered for the config, and tensor operations that run as
/// separate PyTorch ops (TensorOperationInWrapper).
struct HostFindings {
  std::vector<Specialization> specializations;
  std::vector<RegisteredBlockSize> block_sizes;
  std::vector<RegisteredTunable> tunables;
  std::vector<std::pair<std::string, SourceSpan>> tensor_operations; ///< message, where
};

struct HostProgram {
  const ast::Stmt *function = nullptr;
  HostFindings findings;
  std::vector<const ast::Stmt *> before; ///< host statements before the first device loop
  /// The top-level device loops, in order: one kernel runs them all.
  std::vector<const ast::Stmt *> grid_loops;
  /// One per grid loop: the `hl.barrier()` that precedes it (so that it
  /// starts only once every program has finished the loops before it), or null.
  std::vector<const ast::Stmt *> barrier_before;
  std::vector<const ast::Stmt *> after;    ///< host statements after the last one
  std::map<std::string, HostValuePtr> env; ///< host variables at the launch
};

/// The kernel's function definition in a parsed source (the one named `name`,
/// else the first one). Throws UserError when the source holds none.
const ast::Stmt &find_kernel_function(const ast::Module &module, const std::string &name);

/// Rejects *args, **kwargs and keyword-only parameters.
void check_kernel_signature(const ast::Stmt &fn);

/// Checks the kernel's signature against the arguments, propagates types
/// through host code and splits it around the grid loop.
HostProgram analyze_host(const ast::Module &module, const KernelInputs &inputs);

/// Evaluates host expressions: names, attributes of modules and tensors,
/// shape arithmetic, tensor allocations. Shared with device lowering, which
/// reads host values through it.
/// A host call's arguments by parameter name.
using HostArgs = BoundArgs<HostValuePtr>;

class HostEvaluator {
public:
  HostEvaluator(const KernelInputs &inputs, std::map<std::string, HostValuePtr> &env,
                HostFindings *findings = nullptr)
      : inputs_(inputs), env_(env), findings_(findings) {}

  HostValuePtr eval(const ast::Expr &expr);
  /// An evaluator like this one over other variables (a branch of a host
  /// `if` followed on its own copy), recording into `findings`.
  HostEvaluator with_env(std::map<std::string, HostValuePtr> &env, HostFindings *findings) const {
    HostEvaluator other(inputs_, env, findings);
    other.arguments_ = arguments_;
    return other;
  }
  /// A global or builtin name; nullptr when undefined.
  HostValuePtr lookup_global(const std::string &name) const;
  /// `module.attr` for the modules kernels use (torch, helion.language, math).
  HostValuePtr module_attribute(const std::string &module, const std::string &attr,
                                const SourceSpan &span) const;
  /// Binds `value` to an assignment target (a name or a tuple of names).
  void assign(const ast::Expr &target, HostValuePtr value);
  /// The values the kernel's parameters start with: using one of them that is
  /// not a tensor as a tensor raises InvalidArgument naming the argument.
  void set_arguments(std::map<std::string, HostValuePtr> arguments) {
    arguments_ = std::move(arguments);
  }

private:
  HostValuePtr eval_call(const ast::Expr &expr);
  HostValuePtr eval_attribute(const ast::Expr &expr);
  HostValuePtr eval_subscript(const ast::Expr &expr);
  HostValuePtr eval_binop(const ast::Expr &expr);
  HostValuePtr eval_compare(const ast::Expr &expr);
  HostValuePtr register_block_size(const ast::Expr &call, const HostValuePtr &min_or_max,
                                   const HostValuePtr &max);
  HostValuePtr register_tunable(const ast::Expr &call, const HostValuePtr &name,
                                const HostValuePtr &fragment);
  HostValuePtr make_fragment(const std::string &cls, const HostArgs &args,
                             const SourceSpan &span) const;
  HostValuePtr eval_bool_op(const ast::Expr &expr);
  /// Calls without a signature (builtins, math, unmodeled torch ops).
  HostValuePtr eval_unbound_call(const std::string &name, const std::vector<HostValuePtr> &args,
                                 const SourceSpan &span);
  HostValuePtr allocate(const std::string &fn, const HostArgs &args, const SourceSpan &span);
  /// Views and copies of a host tensor (view, reshape, flatten, contiguous,
  /// t, transpose, permute, unsqueeze, to(dtype), float, half, bfloat16);
  /// nullopt for anything else.
  static std::optional<HostTensor> view_of(const HostTensor &t, const std::string &method,
                                           const HostArgs &args, const SourceSpan &span);

  HostValuePtr specialize(const HostValuePtr &value, const SourceSpan &span);

  const KernelInputs &inputs_;
  std::map<std::string, HostValuePtr> &env_;
  /// Records a tensor op in host code (when analysing host code, not device code).
  void note_tensor_operation(const std::string &what, const SourceSpan &span);

  HostFindings *findings_;
  std::map<std::string, HostValuePtr> arguments_;
  /// Throws when `expr`, used as a tensor, still holds a non-tensor argument.
  void require_tensor(const ast::Expr &expr, const HostValuePtr &value) const;
};

/// A host Function whose text starts with this names a callable the kernel
/// was passed: the rest is the host expression that reads it (`epilogue`, or
/// `epilogue.__closure__[0].cell_contents` for one that callable captured).
inline const std::string kCallablePrefix = "callable:";

/// A value a global description of the request stands for (a module, a
/// constant, a dtype, a function by name); Unknown for other objects.
HostValuePtr global_value(const GlobalSpec &global, const std::string &name);

/// The host value of a tensor or scalar a callable argument captured, bound
/// to the host variable `spec.name`; its sizes get symbols of their own.
HostValuePtr captured_value(const ArgSpec &spec, const CompileSettings &settings);

/// A shape given as a list, a tuple or torch.Size of ints: nullopt otherwise.
std::optional<std::vector<SymInt>> shape_of(const HostValue &value);

/// Contiguous strides for `sizes`.
std::vector<SymInt> contiguous_strides(const std::vector<SymInt> &sizes);

} // namespace helion
