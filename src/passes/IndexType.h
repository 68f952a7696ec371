#pragma once

#include "ir/Ir.h"
#include "types/KernelInputs.h"

#include <string>
#include <vector>

namespace helion::passes {

/// A span the kernel's offsets reach: the elements of a tensor it touches
/// (from its first to its last element, strides included) or a range it
/// iterates. int32 offsets are right only while every span fits in int32.
struct IndexSpan {
  SymInt elements;
  std::string what; ///< for messages: "tensor 'out'", "the range of tile_m"
};

/// The integer type of the kernel's offsets. With `index_dtype` unset it is
/// int32 unless a span exceeds int32 at the sizes the kernel is specialized
/// for; then int64. Spans that depend on symbolic sizes can still outgrow
/// int32 on a later call: `int32_limits` lists them, and the host code checks
/// them at every launch (falling back to an int64 kernel, or raising when the
/// user fixed int32). Throws IndexOffsetOutOfRangeForInt32 when the user fixed
/// int32 and a span already exceeds it.
struct IndexType {
  bool int64 = false;
  std::vector<IndexSpan> int32_limits;
};

IndexType choose_index_type(const ir::DeviceKernel &kernel, const CompileSettings &settings);

/// The largest offset an int32 kernel may compute.
constexpr int64_t kInt32Max = 2147483647;

} // namespace helion::passes
