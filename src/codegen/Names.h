#pragma once

// The namespace of a generated module. The host function is the user's code
// printed back, so every name the user wrote keeps its spelling there; each
// name the compiler adds at module level is chosen apart from the user's: a
// name host code reads (triton, the device function, builtins.<name>) from
// every name the user writes, one only the module and the device function
// read (torch, tl, libdevice) from the user's globals. Inside the device
// function every name, the user's included, is allocated from one scope, so
// a user's `mask_0` and the generated mask of block 0 get different names.

#include "parse/Ast.h"
#include "types/KernelInputs.h"
#include "types/SymInt.h"

#include <map>
#include <set>
#include <string>
#include <vector>

namespace helion::codegen {

/// Every identifier the user's code can bind or read: the words of the
/// kernel's source, its parameters, the globals it names, and the request's
/// `names` (identifiers as Python normalizes them).
std::set<std::string> user_names(const KernelInputs &inputs);

/// True for an ASCII Python identifier that is not a keyword.
bool is_plain_identifier(const std::string &name);

/// The module-level names of one generated module.
class ModuleNames {
public:
  /// `function` is the kernel's definition in the parsed source.
  ModuleNames(const KernelInputs &inputs, const ast::Stmt &function);

  const std::set<std::string> &user() const { return user_; }
  /// The user's code binds `name` (a parameter, an assignment, a global).
  bool binds(const std::string &name) const;

  const std::string &torch() const { return torch_; }
  const std::string &triton() const { return triton_; }
  const std::string &tl() const { return tl_; }
  const std::string &libdevice() const { return libdevice_; }
  const std::string &device_function() const { return device_function_; }
  /// The device function's twin with int64 offsets (see passes::IndexType).
  const std::string &device_function_int64() const { return device_function_int64_; }
  const std::string &host_function() const { return host_function_; }
  /// The host loop variable over the phases of a kernel with hl.barrier()
  /// (helion.runtime.barrier_phases).
  const std::string &barrier_phase() const { return barrier_phase_; }
  /// How host code spells the `helion.runtime` module; imported only once
  /// this was asked for.
  const std::string &runtime() const;

  /// How generated code spells builtin `name` ("max", or "builtins_1.max"
  /// where the user binds that name).
  std::string builtin(const std::string &name) const;
  /// A host expression for `s`, with the builtins it calls spelled as
  /// `builtin` does.
  std::string host_sym(const SymInt &s) const;
  /// python_literal(value), with the builtin float spelled as `builtin` does.
  std::string literal(const Json &value) const;

  /// How the device function annotates its constexpr parameters.
  std::string constexpr_annotation() const;

  /// The user global `name` is a module the generated imports already bind
  /// under that name.
  bool imported(const std::string &name) const;

  /// The import lines of the module, ending with the builtins import when
  /// `builtin` gave an alias.
  std::vector<std::string> imports() const;

private:
  /// `host_reads`: the host function reads the alias, so no name the user
  /// writes may hide it; otherwise only the user's globals can.
  std::string module_alias(const std::string &preferred, const std::string &module,
                           bool host_reads);
  std::string fresh(const std::string &preferred);

  const KernelInputs &inputs_;
  std::set<std::string> user_;
  std::set<std::string> bound_;
  std::set<std::string> taken_;
  std::string torch_, triton_, tl_, libdevice_, builtins_, device_function_,
      device_function_int64_, host_function_, runtime_, barrier_phase_;
  mutable bool builtins_used_ = false;
  mutable bool runtime_used_ = false;
};

/// The names of the device function: parameters and locals, the user's and
/// the compiler's, each spelled once.
class DeviceNames {
public:
  /// `reserved`: names no variable of the device function may take (the
  /// words of hl.inline_triton snippets, the module's triton functions).
  DeviceNames(const ModuleNames &module, const std::set<std::string> &reserved = {});

  /// A name for something the compiler made: `preferred` unless the user
  /// wrote it or it is taken, else `preferred_1`, `preferred_2`...
  std::string generated(const std::string &preferred);
  /// A name for a user variable: `hint` unless taken, else `hint_1`...
  /// Hints that are not plain identifiers become `v`.
  std::string user(const std::string &hint);
  /// A generated temporary: v_0, v_1, ...
  std::string temporary();

  /// `text` with the module aliases the device code spells `tl.` and
  /// `libdevice.` replaced where they differ (strings and comments kept).
  std::string with_module_aliases(const std::string &text) const;

private:
  std::string first_free(const std::string &base, bool avoid_user);

  const ModuleNames &module_;
  std::set<std::string> taken_;
  int temporaries_ = 0;
};

} // namespace helion::codegen
