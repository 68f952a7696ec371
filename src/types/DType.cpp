#include "types/DType.h"

#include <map>

namespace helion {

std::optional<DType> dtype_from_name(const std::string &raw) {
  static const std::map<std::string, DType> names = {
      {"bool", DType::Bool},       {"uint8", DType::UInt8},   {"int8", DType::Int8},
      {"int16", DType::Int16},     {"short", DType::Int16},   {"int32", DType::Int32},
      {"int", DType::Int32},       {"int64", DType::Int64},   {"long", DType::Int64},
      {"float16", DType::Float16}, {"half", DType::Float16},  {"bfloat16", DType::BFloat16},
      {"float32", DType::Float32}, {"float", DType::Float32}, {"float64", DType::Float64},
      {"double", DType::Float64},  {"float8_e4m3fn", DType::Float8E4M3},
      {"float8_e5m2", DType::Float8E5M2},
  };
  std::string name = raw;
  for (const char *prefix : {"torch.", "tl."}) {
    std::string p(prefix);
    if (name.compare(0, p.size(), p) == 0) name = name.substr(p.size());
  }
  auto it = names.find(name);
  if (it == names.end()) return std::nullopt;
  return it->second;
}

std::string dtype_name(DType dtype) {
  switch (dtype) {
  case DType::Bool:
    return "bool";
  case DType::UInt8:
    return "uint8";
  case DType::Int8:
    return "int8";
  case DType::Int16:
    return "int16";
  case DType::Int32:
    return "int32";
  case DType::Int64:
    return "int64";
  case DType::Float8E4M3:
    return "float8_e4m3fn";
  case DType::Float8E5M2:
    return "float8_e5m2";
  case DType::Float16:
    return "float16";
  case DType::BFloat16:
    return "bfloat16";
  case DType::Float32:
    return "float32";
  case DType::Float64:
    return "float64";
  }
  return "?";
}

std::string triton_dtype(DType dtype) {
  if (dtype == DType::Bool) return "tl.int1";
  // Triton's names of the float8 formats torch calls float8_e4m3fn and float8_e5m2.
  if (dtype == DType::Float8E4M3) return "tl.float8e4nv";
  if (dtype == DType::Float8E5M2) return "tl.float8e5";
  return "tl." + dtype_name(dtype);
}

int dtype_bytes(DType dtype) {
  switch (dtype) {
  case DType::Bool:
  case DType::UInt8:
  case DType::Int8:
  case DType::Float8E4M3:
  case DType::Float8E5M2:
    return 1;
  case DType::Int16:
  case DType::Float16:
  case DType::BFloat16:
    return 2;
  case DType::Int32:
  case DType::Float32:
    return 4;
  case DType::Int64:
  case DType::Float64:
    return 8;
  }
  return 0;
}

bool is_floating(DType dtype) {
  return is_float8(dtype) || dtype == DType::Float16 || dtype == DType::BFloat16 ||
         dtype == DType::Float32 || dtype == DType::Float64;
}

bool is_float8(DType dtype) {
  return dtype == DType::Float8E4M3 || dtype == DType::Float8E5M2;
}

bool is_integral(DType dtype) {
  return !is_floating(dtype) && dtype != DType::Bool;
}

DType promote(DType a, DType b) {
  if (a == b) return a;
  if (a == DType::Bool) return b;
  if (b == DType::Bool) return a;
  if (is_floating(a) != is_floating(b)) return is_floating(a) ? a : b;
  if (is_floating(a)) {
    // float16 and bfloat16 have no common 16-bit type, nor the float8 formats a
    // common 8-bit one.
    if (dtype_bytes(a) == dtype_bytes(b) && dtype_bytes(a) <= 2) return DType::Float32;
    return dtype_bytes(a) >= dtype_bytes(b) ? a : b;
  }
  if ((a == DType::UInt8 && b == DType::Int8) || (a == DType::Int8 && b == DType::UInt8))
    return DType::Int16;
  return dtype_bytes(a) >= dtype_bytes(b) ? a : b;
}

DType compute_dtype(DType dtype) {
  if (is_float8(dtype) || dtype == DType::Float16 || dtype == DType::BFloat16)
    return DType::Float32;
  return dtype;
}

} // namespace helion
