#include "ir/Ops.h"

#include <algorithm>
#include <array>
#include <utility>
#include <vector>

namespace helion::ir {

namespace {

template <typename Fn, size_t N>
const char *lookup_name(const std::array<std::pair<Fn, const char *>, N> &table, Fn fn) {
  for (const auto &[f, text] : table)
    if (f == fn) return text;
  return "?";
}

template <typename Fn, size_t N>
std::optional<Fn> lookup_fn(const std::array<std::pair<Fn, const char *>, N> &table,
                            std::string_view text) {
  for (const auto &[f, name] : table)
    if (text == name) return f;
  return std::nullopt;
}

constexpr std::array<std::pair<UnaryFn, const char *>, 20> unary_names = {{
    {UnaryFn::Neg, "neg"},         {UnaryFn::Relu, "relu"},     {UnaryFn::LogicalNot, "logical_not"},
    {UnaryFn::BitwiseNot, "bitwise_not"}, {UnaryFn::Abs, "abs"}, {UnaryFn::Floor, "floor"},
    {UnaryFn::Ceil, "ceil"},       {UnaryFn::Exp, "exp"},       {UnaryFn::Exp2, "exp2"},
    {UnaryFn::Expm1, "expm1"},     {UnaryFn::Log, "log"},       {UnaryFn::Log2, "log2"},
    {UnaryFn::Log1p, "log1p"},     {UnaryFn::Sqrt, "sqrt"},     {UnaryFn::Rsqrt, "rsqrt"},
    {UnaryFn::Sigmoid, "sigmoid"}, {UnaryFn::Tanh, "tanh"},     {UnaryFn::Sin, "sin"},
    {UnaryFn::Cos, "cos"},         {UnaryFn::Erf, "erf"},
}};

constexpr std::array<std::pair<BinaryFn, const char *>, 22> binary_names = {{
    {BinaryFn::Add, "add"},           {BinaryFn::Sub, "sub"},
    {BinaryFn::Mul, "mul"},           {BinaryFn::TrueDiv, "truediv"},
    {BinaryFn::FloorDiv, "floordiv"}, {BinaryFn::Mod, "mod"},
    {BinaryFn::Pow, "pow"},           {BinaryFn::Maximum, "maximum"},
    {BinaryFn::Minimum, "minimum"},   {BinaryFn::Eq, "eq"},
    {BinaryFn::Ne, "ne"},             {BinaryFn::Lt, "lt"},
    {BinaryFn::Le, "le"},             {BinaryFn::Gt, "gt"},
    {BinaryFn::Ge, "ge"},             {BinaryFn::LogicalAnd, "logical_and"},
    {BinaryFn::LogicalOr, "logical_or"}, {BinaryFn::BitAnd, "bitwise_and"},
    {BinaryFn::BitOr, "bitwise_or"},  {BinaryFn::BitXor, "bitwise_xor"},
    {BinaryFn::ShiftLeft, "bitwise_left_shift"}, {BinaryFn::ShiftRight, "bitwise_right_shift"},
}};

constexpr std::array<std::pair<ReduceFn, const char *>, 5> reduce_names = {{
    {ReduceFn::Sum, "sum"},
    {ReduceFn::Max, "max"},
    {ReduceFn::Min, "min"},
    {ReduceFn::ArgMax, "argmax"},
    {ReduceFn::ArgMin, "argmin"},
}};

constexpr std::array<std::pair<AtomicFn, const char *>, 8> atomic_names = {{
    {AtomicFn::Add, "add"},
    {AtomicFn::Max, "max"},
    {AtomicFn::Min, "min"},
    {AtomicFn::And, "and"},
    {AtomicFn::Or, "or"},
    {AtomicFn::Xor, "xor"},
    {AtomicFn::Xchg, "xchg"},
    {AtomicFn::Cas, "cas"},
}};

constexpr std::array<std::pair<MemorySem, const char *>, 4> sem_names = {{
    {MemorySem::Relaxed, "relaxed"},
    {MemorySem::Acquire, "acquire"},
    {MemorySem::Release, "release"},
    {MemorySem::AcqRel, "acq_rel"},
}};

} // namespace

const char *name(UnaryFn fn) { return lookup_name(unary_names, fn); }
const char *name(BinaryFn fn) { return lookup_name(binary_names, fn); }
const char *name(ReduceFn fn) { return lookup_name(reduce_names, fn); }
const char *name(AtomicFn fn) { return lookup_name(atomic_names, fn); }
const char *name(MemorySem sem) { return lookup_name(sem_names, sem); }

std::optional<UnaryFn> unary_fn_named(std::string_view text) {
  return lookup_fn(unary_names, text);
}
std::optional<BinaryFn> binary_fn_named(std::string_view text) {
  return lookup_fn(binary_names, text);
}
std::optional<ReduceFn> reduce_fn_named(std::string_view text) {
  return lookup_fn(reduce_names, text);
}
std::optional<AtomicFn> atomic_fn_named(std::string_view text) {
  return lookup_fn(atomic_names, text);
}
std::optional<MemorySem> memory_sem_named(std::string_view text) {
  return lookup_fn(sem_names, text);
}

namespace {

/// Triton 3.6's read-modify-writes need 32 or 64 bits (16-bit floats for add
/// only); max and min on floats go through integer atomics of float32 and
/// float64 bits; and, or and xor are integer operations; compare-and-swap
/// takes any 16, 32 or 64 bits.
std::vector<DType> atomic_dtypes(AtomicFn fn) {
  using D = DType;
  switch (fn) {
  case AtomicFn::Add:
    return {D::Int32, D::Int64, D::Float16, D::BFloat16, D::Float32, D::Float64};
  case AtomicFn::Max:
  case AtomicFn::Min:
  case AtomicFn::Xchg:
    return {D::Int32, D::Int64, D::Float32, D::Float64};
  case AtomicFn::And:
  case AtomicFn::Or:
  case AtomicFn::Xor:
    return {D::Int32, D::Int64};
  case AtomicFn::Cas:
    return {D::Int16, D::Int32, D::Int64, D::Float16, D::BFloat16, D::Float32, D::Float64};
  }
  return {};
}

} // namespace

bool atomic_accepts(AtomicFn fn, DType dtype) {
  std::vector<DType> dtypes = atomic_dtypes(fn);
  return std::find(dtypes.begin(), dtypes.end(), dtype) != dtypes.end();
}

bool atomic_returns_old_values(AtomicFn fn, DType dtype) {
  return !(fn == AtomicFn::Min && is_floating(dtype));
}

std::string atomic_dtypes_text(AtomicFn fn) {
  std::string text;
  for (DType dtype : atomic_dtypes(fn))
    text += (text.empty() ? "" : ", ") + dtype_name(dtype);
  return text;
}

bool is_exact(UnaryFn fn) {
  switch (fn) {
  case UnaryFn::Neg:
  case UnaryFn::Relu:
  case UnaryFn::LogicalNot:
  case UnaryFn::BitwiseNot:
  case UnaryFn::Abs:
  case UnaryFn::Floor:
  case UnaryFn::Ceil:
    return true;
  default:
    return false;
  }
}

bool needs_integer_operands(UnaryFn fn) { return fn == UnaryFn::BitwiseNot; }

bool needs_integer_operands(BinaryFn fn) {
  switch (fn) {
  case BinaryFn::BitAnd:
  case BinaryFn::BitOr:
  case BinaryFn::BitXor:
  case BinaryFn::ShiftLeft:
  case BinaryFn::ShiftRight:
    return true;
  default:
    return false;
  }
}

bool yields_bool(BinaryFn fn) {
  switch (fn) {
  case BinaryFn::Eq:
  case BinaryFn::Ne:
  case BinaryFn::Lt:
  case BinaryFn::Le:
  case BinaryFn::Gt:
  case BinaryFn::Ge:
  case BinaryFn::LogicalAnd:
  case BinaryFn::LogicalOr:
    return true;
  default:
    return false;
  }
}

bool yields_bool(UnaryFn fn) { return fn == UnaryFn::LogicalNot; }

bool yields_index(ReduceFn fn) { return fn == ReduceFn::ArgMax || fn == ReduceFn::ArgMin; }

std::optional<BinaryFn> combine_of(ReduceFn fn) {
  switch (fn) {
  case ReduceFn::Sum:
    return BinaryFn::Add;
  case ReduceFn::Max:
    return BinaryFn::Maximum;
  case ReduceFn::Min:
    return BinaryFn::Minimum;
  default:
    return std::nullopt;
  }
}

std::string identity_literal(ReduceFn fn, DType dtype) {
  if (fn == ReduceFn::Sum) return "0";
  bool lowest = fn == ReduceFn::Max || fn == ReduceFn::ArgMax;
  if (is_floating(dtype)) return lowest ? "float('-inf')" : "float('inf')";
  if (dtype == DType::Bool) return lowest ? "0" : "1";
  if (dtype == DType::Int64) return lowest ? "-9223372036854775808" : "9223372036854775807";
  return lowest ? "-2147483648" : "2147483647";
}

} // namespace helion::ir
