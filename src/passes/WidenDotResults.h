#pragma once

#include "config/Config.h"
#include "ir/Ir.h"

namespace helion::passes {

/// Keeps a dot's float32 result at float32 where torch rounds it to the
/// operands' 16-bit type (`torch.bmm(q, k)` of float16 tiles is float16) and
/// everything computed from the rounded value is elementwise math,
/// reductions and reshapes that end in casts: `qk * scale - m[:, None]`
/// cast up to float32 for `exp2`. Those ops then compute in float32 and the
/// value is rounded once, at the cast that ends it, as torch.compile computes
/// half-precision math too: no stored value and no dot operand changes type,
/// and the results differ from eager torch by less than its roundings. On an
/// H200, attention's fp16 round trip of its score tile cost 10% of its time.
/// A value stored, fed to a dot, carried by a loop or read by a statement
/// keeps its type, and with it every value it is computed with.
ir::DeviceKernel widen_dot_results(const ir::DeviceKernel &kernel, const Config &config);

} // namespace helion::passes
