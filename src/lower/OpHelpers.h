#pragma once

// Building blocks shared by the op-family lowerings: argument decoding, and
// ops with torch's dtype rules on top of the IR's checked builders
// (`cx.build()`).

#include "lower/Lowering.h"

#include <optional>
#include <string>
#include <vector>

namespace helion::lower {

/// True for None.
bool is_none(const Operand &o);
/// A Python number known at compile time.
std::optional<double> number_of(const Operand &o);
/// A bool (or int) flag known at compile time; `fallback` for None.
bool flag_arg(const Operand &o, bool fallback, const SourceSpan &span);
/// The entries of a tuple or list operand; the operand itself otherwise.
std::vector<Operand> items_of(const Operand &o);
/// The int a leaf node holds when compiling (an int literal or a host size), if any.
SymInt host_int_of(const ir::Node &n);
/// `axis` counted from the end when negative; RankMismatch when out of range.
int normalize_axis(int64_t axis, int rank, const SourceSpan &span);
/// The call's `input` parameter as a node.
int input_node(LoweringContext &cx, const CallArgs &args);

/// `fn` over `axis`, in `dtype` when given (else the input's); a size-1
/// constant dim is reshaped away.
int reduce(LoweringContext &cx, ir::ReduceFn fn, int x, int axis, bool keepdim,
           const SourceSpan &span, std::optional<DType> dtype = std::nullopt);
/// The number of valid elements along `dim`, as a float32 scalar node.
int extent_of(LoweringContext &cx, const ir::Dim &dim, const SourceSpan &span);

/// Unary math with torch's dtype rules: float32 for integer inputs, computed
/// in float32 for 16-bit floats.
int unary_op(LoweringContext &cx, ir::UnaryFn fn, int x, const SourceSpan &span);
/// Binary op with torch's promotion (weakly typed Python scalars).
int binary_op(LoweringContext &cx, ir::BinaryFn fn, const Operand &a, const Operand &b,
              const SourceSpan &span);
/// where(cond, a, b) with a and b promoted together.
int where_op(LoweringContext &cx, const Operand &cond, const Operand &a, const Operand &b,
             const SourceSpan &span);

} // namespace helion::lower
