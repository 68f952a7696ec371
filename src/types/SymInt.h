#pragma once

// Symbolic integers: tensor sizes, strides and the host arithmetic on them.
// With static shapes every value folds to a constant; otherwise sizes are
// variables that carry the value seen at specialization as a hint.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace helion {

struct SymNode;
using SymInt = std::shared_ptr<const SymNode>;

struct SymNode {
  enum class Op { Const, Var, Add, Mul, FloorDiv, Mod, Min, Max, NextPow2 };
  Op op = Op::Const;
  int64_t value = 0;       ///< Const: the value; Var: the hint
  std::string kernel_name; ///< Var: its name as a kernel argument (`x_size_0`)
  std::string host_expr;   ///< Var: how host code computes it (`x.size(0)`)
  SymInt lhs, rhs; ///< NextPow2 has `lhs` only
  int depth = 1; ///< levels of nodes in this expression, this one included
};

/// How deep a symbolic value host code may build before the compiler stops
/// modelling it (HostValue::make_int): a loop-free run of `n = n * 2 + 1`
/// statements would otherwise grow an expression that every function here
/// recurses over. Real shape arithmetic stays a few levels deep.
constexpr int kMaxSymDepth = 100;

SymInt sym_const(int64_t value);
SymInt sym_var(std::string kernel_name, std::string host_expr, int64_t hint);
SymInt sym_add(const SymInt &a, const SymInt &b);
SymInt sym_sub(const SymInt &a, const SymInt &b);
SymInt sym_mul(const SymInt &a, const SymInt &b);
SymInt sym_floordiv(const SymInt &a, const SymInt &b);
SymInt sym_mod(const SymInt &a, const SymInt &b);
SymInt sym_min(const SymInt &a, const SymInt &b);
SymInt sym_max(const SymInt &a, const SymInt &b);
/// helion.cdiv / triton.cdiv: `(a + b - 1) // b`, as Python computes it.
SymInt sym_cdiv(const SymInt &a, const SymInt &b);
/// helion.next_power_of_2 / triton.next_power_of_2: the smallest power of
/// two not below `a` (1 for `a <= 1`).
SymInt sym_next_power_of_2(const SymInt &a);
/// The kernel names of the variables `s` reads, in first-seen order.
std::vector<std::string> sym_variables(const SymInt &s);

std::optional<int64_t> sym_constant(const SymInt &s);
/// `s` with each variable named (by kernel name) in `values` replaced by its value.
SymInt sym_bind(const SymInt &s, const std::map<std::string, int64_t> &values);
/// The value with every variable replaced by its hint.
int64_t sym_hint(const SymInt &s);
/// Structural equality after folding: true means provably equal.
bool sym_equal(const SymInt &a, const SymInt &b);

enum class SymSide { Host, Kernel };
/// A Python expression for the value, as host code or kernel code spells it;
/// host code calls the builtins min and max as `host_min` and `host_max`.
/// NextPow2 has no kernel spelling: host code assigns such a value to a
/// variable that the kernel reads (HostEvaluator::assign) unless the config
/// alone decides it, and then BindBlockSizes folds it to a constant.
std::string sym_to_python(const SymInt &s, SymSide side, const std::string &host_min = "min",
                          const std::string &host_max = "max");

} // namespace helion
