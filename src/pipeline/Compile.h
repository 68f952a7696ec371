#pragma once

// The compiler's entry point: kernel source + argument specs -> Triton module.
//
// The request (JSON, built by the Python layer from the user's arguments):
// {
//   "kernel_name": "matmul", "filename": "/path/file.py", "first_line": 12,
//   "source": "<dedented source, decorators included>",
//   "args": [
//     {"name": "x", "kind": "tensor", "dtype": "float32", "shape": [64, 32],
//      "stride": [32, 1], "device": "cuda:0"},
//     {"name": "eps", "kind": "float"},            // also "int", "bool"
//     {"name": "n", "kind": "constexpr", "value": 3}, // hl.constexpr: by value
//     {"name": "epilogue", "kind": "callable", "qualname": "f.<locals>.<lambda>",
//      "function_name": "<lambda>", "is_lambda": true,
//      "source": "lambda acc, tile: acc + bias[tile[1]]",   // null when unreadable
//      "captures": {"bias": {"kind": "tensor", ..., "cell": 0},  // or "global": "bias"
//                   "torch": {"kind": "module", "name": "torch", "global": "torch"}}}
//   ],  // non-tensors also carry "type": their Python type ("NoneType", "numpy.ndarray");
//       // a capture is described as an argument (tensors, callables, a closure's
//       // scalars) or as a global
//   "globals": {"torch": {"kind": "module", "name": "torch"},
//               "hl": {"kind": "module", "name": "helion.language"},
//               "EPS": {"kind": "constant", "value": 1e-5}},
//   "names": ["out", "tile", "x"],  // optional: every name the kernel's code
//                                   // binds, as Python spells it (NFKC)
//   "settings": {"static_shapes": true, "index_dtype": null | "int32" | "int64",
//                "dot_precision": "tf32", "target": "cuda" | "interpreter",
//                "persistent_reserved_sms": 0}
// }
// Shapes are the real sizes. With static_shapes the compiled kernel is valid
// for exactly these sizes and strides; otherwise sizes 0 and 1 are
// specialized and every other size is symbolic (its value used as a hint).

#include "config/ConfigSpec.h"
#include "support/Json.h"

#include <memory>
#include <string>

namespace helion {

struct AnalyzedKernel; // the parsed, typed kernel and its device IR

class CompiledKernel {
public:
  /// Parses and type-checks the kernel for the request's specialization.
  /// Throws UserError (already rendered with kernel name, line and caret in
  /// its message) or InternalError.
  explicit CompiledKernel(const Json &request);
  ~CompiledKernel();

  const ConfigSpec &config_spec() const;

  /// ConfigSpec::normalize with errors that name the kernel.
  Config normalize(const Json &user_config) const;

  /// The canonical config of `user_config`, normalized once per kernel and
  /// content (key order aside) and kept: a config seen before, or the canonical
  /// form of one, is looked up, not normalized again.
  std::shared_ptr<const Config> canonical(const Json &user_config) const;

  /// How many times this kernel normalized a config (for tests that keep it one per config).
  size_t normalization_count() const;

  /// The whole Triton module for `config`: imports, one @triton.jit kernel
  /// named `_helion_<kernel_name>`, and a host function `<kernel_name>` with
  /// the kernel's signature that runs the host code and launches.
  std::string generate(const Config &config) const;

  /// generate() for the canonical config of `user_config` (see canonical()),
  /// which normalizing validated: it is not validated again.
  std::string generate_canonical(const Json &user_config) const;

  /// Warnings about the kernel, rendered like errors (kind, line, caret).
  std::vector<std::pair<std::string, std::string>> warnings() const; ///< (kind, message)

  /// The IR after each stage, for `config`, as readable text.
  std::string dump_stages(const Config &config) const;

private:
  struct CanonicalConfigs; // canonical() keeps its configs here
  std::string generate_valid(const Config &config) const;

  std::unique_ptr<AnalyzedKernel> kernel_;
  std::unique_ptr<ConfigSpec> spec_;
  std::unique_ptr<CanonicalConfigs> canonical_;
};

/// Parses a kernel's source and checks its signature, without arguments:
/// what can be reported when the kernel is defined. The request needs only
/// kernel_name, filename, first_line and source. Throws like CompiledKernel.
void check_kernel_source(const Json &request);

} // namespace helion
