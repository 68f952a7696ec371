#pragma once

// Building blocks shared by the op-family lowerings: argument decoding and
// node builders. The raw builders (`unary`, `binary`, `reduce`) check shapes
// and emit one node; the `*_op` forms also apply torch's dtype rules.

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
/// `axis` counted from the end when negative; RankMismatch when out of range.
int normalize_axis(int64_t axis, int rank, const SourceSpan &span);
/// The call's `input` parameter as a node.
int input_node(LoweringContext &cx, const CallArgs &args);

/// Unary `fn` with operand `x`: result type is x's (bool for logical_not).
int unary(LoweringContext &cx, const std::string &fn, int x, const SourceSpan &span);
/// Binary `fn` of two nodes of one dtype; bool for comparisons and logical ops.
int binary(LoweringContext &cx, const std::string &fn, int a, int b, const SourceSpan &span);
/// `x` with size-1 dims inserted or removed to reach `dims`.
int reshape(LoweringContext &cx, int x, std::vector<ir::Dim> dims, const SourceSpan &span);
/// `fn` ("sum", "max", "min", "argmax", "argmin") over `axis`, in `dtype` when given;
/// a size-1 constant dim is reshaped away.
int reduce(LoweringContext &cx, const std::string &fn, int x, int axis, bool keepdim,
           const SourceSpan &span, std::optional<DType> dtype = std::nullopt);
/// The number of valid elements along `dim`, as a float32 scalar node.
int extent_of(LoweringContext &cx, const ir::Dim &dim, const SourceSpan &span);

/// Unary math with torch's dtype rules: float32 for integer inputs, computed
/// in float32 for 16-bit floats.
int unary_op(LoweringContext &cx, const std::string &fn, int x, const SourceSpan &span);
/// Binary op with torch's promotion (weakly typed Python scalars).
int binary_op(LoweringContext &cx, const std::string &fn, const Operand &a, const Operand &b,
              const SourceSpan &span);
/// where(cond, a, b) with a and b promoted together.
int where_op(LoweringContext &cx, const Operand &cond, const Operand &a, const Operand &b,
             const SourceSpan &span);

} // namespace helion::lower
