#pragma once

// What a kernel is compiled for: its arguments' specs, the globals it names,
// and the settings that change code generation. Read from the request JSON.

#include "support/Diagnostics.h"
#include "support/Json.h"
#include "types/DType.h"

#include <string>
#include <vector>

namespace helion {

struct ArgSpec {
  enum class Kind { Tensor, Int, Float, Bool, Constexpr, Other };
  std::string name;
  Kind kind = Kind::Other;
  DType dtype = DType::Float32;
  std::vector<int64_t> shape, stride;
  std::string device;
  Json value; ///< Constexpr: the value
};

struct CompileSettings {
  bool static_shapes = true;
  std::string index_dtype = "int32";
  std::string dot_precision = "tf32";
  /// Triton's interpreter has no libdevice: math functions are spelled with
  /// core ops there.
  bool interpreter = false;
};

struct KernelInputs {
  SourceContext context;
  std::vector<ArgSpec> args;
  Json globals; ///< name -> {"kind": "module" | "constant" | "dtype" | "function" | "object", ...}
  CompileSettings settings;
  /// Identifiers the kernel's code binds, as Python spells them (NFKC
  /// normalized); the request's optional "names".
  std::vector<std::string> names;

  static KernelInputs from_request(const Json &request);
};

} // namespace helion
