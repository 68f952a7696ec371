#pragma once

// The functions that the device IR's Unary, Binary and Reduce nodes apply,
// as typed enums, with the facts each stage needs about them. This file is
// the only place that knows a function by name: lowering maps torch's names
// onto these enums, the IR's text form prints them, and code generation
// switches over them.

#include "types/DType.h"

#include <optional>
#include <string>
#include <string_view>

namespace helion::ir {

enum class UnaryFn {
  Neg,
  Relu,
  LogicalNot,
  BitwiseNot,
  Abs,
  Floor,
  Ceil,
  Exp,
  Exp2,
  Expm1,
  Log,
  Log2,
  Log1p,
  Sqrt,
  Rsqrt,
  Sigmoid,
  Tanh,
  Sin,
  Cos,
  Erf,
};

enum class BinaryFn {
  Add,
  Sub,
  Mul,
  TrueDiv,
  FloorDiv,
  Mod,
  Pow,
  Maximum,
  Minimum,
  Eq,
  Ne,
  Lt,
  Le,
  Gt,
  Ge,
  LogicalAnd,
  LogicalOr,
  BitAnd,
  BitOr,
  BitXor,
  ShiftLeft,
  ShiftRight,
};

enum class ReduceFn { Sum, Max, Min, ArgMax, ArgMin };

/// A read-modify-write of a store (`hl.atomic_<fn>`); Cas compares with an
/// expected value before it swaps.
enum class AtomicFn { Add, Max, Min, And, Or, Xor, Xchg, Cas };

/// The memory order of an atomic (`sem=`), as Triton spells it.
enum class MemorySem { Relaxed, Acquire, Release, AcqRel };

const char *name(UnaryFn fn);
const char *name(BinaryFn fn);
const char *name(ReduceFn fn);
const char *name(AtomicFn fn);
const char *name(MemorySem sem);

/// The function spelled `text` (the names above, e.g. "logical_not"), if any.
std::optional<UnaryFn> unary_fn_named(std::string_view text);
std::optional<BinaryFn> binary_fn_named(std::string_view text);
std::optional<ReduceFn> reduce_fn_named(std::string_view text);
std::optional<AtomicFn> atomic_fn_named(std::string_view text);
std::optional<MemorySem> memory_sem_named(std::string_view text);

/// Whether Triton 3.6 has `fn` for targets of `dtype` (tl.atomic_* rejects
/// the others when it compiles the kernel).
bool atomic_accepts(AtomicFn fn, DType dtype);
/// Whether Triton 3.6 returns the right old values of `fn` on `dtype`: its
/// atomic_min of floats builds them from a value typed as a pointer.
bool atomic_returns_old_values(AtomicFn fn, DType dtype);
/// The dtypes atomic_accepts takes for `fn`, for messages: "int32, int64".
std::string atomic_dtypes_text(AtomicFn fn);

/// A unary function whose result is exact in its input's dtype (negation,
/// abs, rounding, logical and bitwise not): torch computes it without going
/// through float32.
bool is_exact(UnaryFn fn);
/// Integer and bool operands only (bitwise not, and, or, xor, shifts).
bool needs_integer_operands(UnaryFn fn);
bool needs_integer_operands(BinaryFn fn);
/// Comparisons and logical and/or: their result is bool.
bool yields_bool(BinaryFn fn);
/// Logical not: its result is bool.
bool yields_bool(UnaryFn fn);
/// A reduction whose result is a position (argmax, argmin): int64.
bool yields_index(ReduceFn fn);
/// A reduction a loop over the dimension can compute block by block: the
/// binary function that combines two partial results, if there is one.
std::optional<BinaryFn> combine_of(ReduceFn fn);
/// The value that leaves the reduction unchanged, as a Python literal for
/// `dtype` (the lowest or highest value for max and min).
std::string identity_literal(ReduceFn fn, DType dtype);

} // namespace helion::ir
