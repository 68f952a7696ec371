#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace helion {

enum class DType {
  Bool,
  UInt8,
  Int8,
  Int16,
  Int32,
  Int64,
  Float8E4M3,
  Float8E5M2,
  Float16,
  BFloat16,
  Float32,
  Float64
};

/// "float32", "torch.float32", "float", "half", ... ; nullopt if unknown.
std::optional<DType> dtype_from_name(const std::string &name);
/// The torch spelling without the module: "float32".
std::string dtype_name(DType dtype);
/// The Triton spelling: "tl.float32".
std::string triton_dtype(DType dtype);
int dtype_bytes(DType dtype);
bool is_floating(DType dtype);
bool is_integral(DType dtype); ///< bool excluded
/// float8_e4m3fn or float8_e5m2.
bool is_float8(DType dtype);
/// torch's type promotion for two tensor operands of equal dimension class.
DType promote(DType a, DType b);
/// The type math is computed in: float32 for the 16-bit floats, else itself.
DType compute_dtype(DType dtype);

} // namespace helion
