#pragma once

// Code generation: the device IR and the host program -> one Python module
// holding the @triton.jit kernel and the host function that launches it.

#include "codegen/Names.h"
#include "config/Config.h"
#include "ir/Ir.h"
#include "passes/IndexType.h"
#include "types/HostTypes.h"

#include <string>
#include <vector>

namespace helion::codegen {

/// One parameter of the generated kernel and what the host passes for it.
struct KernelParam {
  std::string name;       ///< in the kernel's signature
  std::string host_value; ///< a host expression
  bool constexpr_ = false;
};

struct DeviceFunction {
  std::string name;
  std::string text; ///< the decorated function, at indentation 0
  std::vector<KernelParam> params;
  std::string grid; ///< host expression of the launch grid tuple
  /// hl.barrier() calls between its top-level loops: the host launches it
  /// cooperatively, once per helion.runtime.barrier_phases(barriers).
  int barriers = 0;
};

/// The @triton.jit function `name` for `kernel` under `config`, its other
/// names chosen apart from `names`, computing offsets in int64 when
/// `int64_indices`. Throws UserError("InvalidConfig")
/// for a choice the kernel cannot honour.
DeviceFunction generate_device_function(const ir::DeviceKernel &kernel, const Config &config,
                                        const KernelInputs &inputs, const ModuleNames &names,
                                        const std::string &name, bool int64_indices);

/// The whole module: imports, the device function, the host function. When
/// `index_type` is int32 with limits to check, the module holds an int64
/// twin of the device function that the host function launches instead
/// whenever a limit is exceeded (or, with index_dtype fixed to int32, raises).
std::string generate_module(const HostProgram &host, const ir::DeviceKernel &kernel,
                            const Config &config, const KernelInputs &inputs,
                            const passes::IndexType &index_type);

} // namespace helion::codegen
