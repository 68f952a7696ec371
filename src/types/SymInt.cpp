#include "types/SymInt.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <functional>
#include <map>

namespace helion {

using Op = SymNode::Op;

static SymInt make(Op op, SymInt lhs, SymInt rhs) {
  auto node = std::make_shared<SymNode>();
  node->op = op;
  node->depth = 1 + std::max(lhs->depth, rhs->depth);
  node->lhs = std::move(lhs);
  node->rhs = std::move(rhs);
  return node;
}

SymInt sym_const(int64_t value) {
  auto node = std::make_shared<SymNode>();
  node->value = value;
  return node;
}

SymInt sym_var(std::string kernel_name, std::string host_expr, int64_t hint) {
  auto node = std::make_shared<SymNode>();
  node->op = Op::Var;
  node->value = hint;
  node->kernel_name = std::move(kernel_name);
  node->host_expr = std::move(host_expr);
  return node;
}

std::optional<int64_t> sym_constant(const SymInt &s) {
  if (s->op == Op::Const) return s->value;
  return std::nullopt;
}

/// Sizes arrive from users' code and arguments: arithmetic on them saturates
/// at the int64 limits instead of overflowing (which C++ leaves undefined).
/// No real tensor comes near those limits, and checks against them (the
/// int32 index range, memory) still see a value too large.
static int64_t saturate(bool overflowed, int64_t result, bool positive) {
  if (!overflowed) return result;
  return positive ? INT64_MAX : INT64_MIN;
}

static int64_t floordiv(int64_t a, int64_t b) {
  if (a == INT64_MIN && b == -1) return INT64_MAX;
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

/// Python's `a % b`: the sign follows the divisor.
static int64_t floormod(int64_t a, int64_t b) {
  if (b == -1) return 0;
  int64_t r = a % b;
  if (r != 0 && (r < 0) != (b < 0)) r += b;
  return r;
}

/// Python's `1 if n <= 1 else 1 << (n - 1).bit_length()`, saturating at
/// the largest power of two an int64 holds.
static int64_t next_power_of_2(int64_t n) {
  int64_t power = 1;
  while (power < n && power <= INT64_MAX / 2)
    power *= 2;
  return power;
}

static int64_t apply(Op op, int64_t a, int64_t b) {
  switch (op) {
  case Op::Add: {
    int64_t sum;
    bool overflowed = __builtin_add_overflow(a, b, &sum);
    return saturate(overflowed, sum, a > 0);
  }
  case Op::Mul: {
    int64_t product;
    bool overflowed = __builtin_mul_overflow(a, b, &product);
    return saturate(overflowed, product, (a < 0) == (b < 0));
  }
  case Op::FloorDiv:
    return b == 0 ? 0 : floordiv(a, b);
  case Op::Mod:
    return b == 0 ? 0 : floormod(a, b);
  case Op::Min:
    return std::min(a, b);
  case Op::Max:
    return std::max(a, b);
  case Op::NextPow2:
    return next_power_of_2(a);
  default:
    return 0;
  }
}

static SymInt fold(Op op, const SymInt &a, const SymInt &b) {
  if (op == Op::NextPow2) {
    if (auto c = sym_constant(a)) return sym_const(next_power_of_2(*c));
    // A power of two already: next_power_of_2(next_power_of_2(n)).
    if (a->op == Op::NextPow2) return a;
    auto node = std::make_shared<SymNode>();
    node->op = op;
    node->depth = 1 + a->depth;
    node->lhs = a;
    return node;
  }
  auto ca = sym_constant(a), cb = sym_constant(b);
  if (ca && cb) return sym_const(apply(op, *ca, *cb));
  if (op == Op::Add) {
    if (ca && *ca == 0) return b;
    if (cb && *cb == 0) return a;
  }
  if (op == Op::Mul) {
    if ((ca && *ca == 0) || (cb && *cb == 0)) return sym_const(0);
    if (ca && *ca == 1) return b;
    if (cb && *cb == 1) return a;
  }
  if (op == Op::FloorDiv && cb && *cb == 1) return a;
  if ((op == Op::Min || op == Op::Max) && sym_equal(a, b)) return a;
  // Commutative operations keep the constant on the right for stable printing.
  if ((op == Op::Add || op == Op::Mul) && ca) return make(op, b, a);
  return make(op, a, b);
}

SymInt sym_add(const SymInt &a, const SymInt &b) {
  return fold(Op::Add, a, b);
}
SymInt sym_sub(const SymInt &a, const SymInt &b) {
  if (sym_equal(a, b)) return sym_const(0);
  return fold(Op::Add, a, fold(Op::Mul, b, sym_const(-1)));
}
SymInt sym_mul(const SymInt &a, const SymInt &b) {
  return fold(Op::Mul, a, b);
}
SymInt sym_floordiv(const SymInt &a, const SymInt &b) {
  return fold(Op::FloorDiv, a, b);
}
SymInt sym_mod(const SymInt &a, const SymInt &b) {
  return fold(Op::Mod, a, b);
}
SymInt sym_min(const SymInt &a, const SymInt &b) {
  return fold(Op::Min, a, b);
}
SymInt sym_max(const SymInt &a, const SymInt &b) {
  return fold(Op::Max, a, b);
}

SymInt sym_cdiv(const SymInt &a, const SymInt &b) {
  return sym_floordiv(sym_add(a, sym_sub(b, sym_const(1))), b);
}
SymInt sym_next_power_of_2(const SymInt &a) {
  return fold(Op::NextPow2, a, nullptr);
}

std::vector<std::string> sym_variables(const SymInt &s) {
  std::vector<std::string> names;
  std::function<void(const SymInt &)> visit = [&](const SymInt &n) {
    if (!n) return;
    if (n->op == Op::Var && std::find(names.begin(), names.end(), n->kernel_name) == names.end())
      names.push_back(n->kernel_name);
    visit(n->lhs);
    visit(n->rhs);
  };
  visit(s);
  return names;
}

SymInt sym_bind(const SymInt &s, const std::map<std::string, int64_t> &values) {
  if (!s || s->op == Op::Const) return s;
  if (s->op == Op::Var) {
    auto it = values.find(s->kernel_name);
    return it == values.end() ? s : sym_const(it->second);
  }
  SymInt lhs = sym_bind(s->lhs, values), rhs = s->rhs ? sym_bind(s->rhs, values) : nullptr;
  if (lhs == s->lhs && rhs == s->rhs) return s;
  return fold(s->op, lhs, rhs);
}

int64_t sym_hint(const SymInt &s) {
  if (s->op == Op::Const || s->op == Op::Var) return s->value;
  return apply(s->op, sym_hint(s->lhs), s->rhs ? sym_hint(s->rhs) : 0);
}

bool sym_equal(const SymInt &a, const SymInt &b) {
  if (a == b) return true;
  if (a->op != b->op) return false;
  switch (a->op) {
  case Op::Const:
    return a->value == b->value;
  case Op::Var:
    // An int parameter named `x_size_0` is not the size of `x`.
    return a->kernel_name == b->kernel_name && a->host_expr == b->host_expr;
  default:
    break;
  }
  if (a->op == Op::NextPow2) return sym_equal(a->lhs, b->lhs);
  if (sym_equal(a->lhs, b->lhs) && sym_equal(a->rhs, b->rhs)) return true;
  bool commutative = a->op == Op::Add || a->op == Op::Mul || a->op == Op::Min || a->op == Op::Max;
  return commutative && sym_equal(a->lhs, b->rhs) && sym_equal(a->rhs, b->lhs);
}

static int precedence(Op op) {
  switch (op) {
  case Op::Add:
    return 1;
  case Op::Mul:
  case Op::FloorDiv:
  case Op::Mod:
    return 2;
  default:
    return 3;
  }
}

static std::string wrap(const SymInt &s, SymSide side, int parent_precedence,
                        const std::string &host_min, const std::string &host_max) {
  std::string text = sym_to_python(s, side, host_min, host_max);
  bool negative_constant = s->op == Op::Const && s->value < 0;
  if (precedence(s->op) < parent_precedence || (negative_constant && parent_precedence > 1))
    return "(" + text + ")";
  return text;
}

std::string sym_to_python(const SymInt &s, SymSide side, const std::string &host_min,
                          const std::string &host_max) {
  auto wrap = [&](const SymInt &operand, SymSide operand_side, int parent_precedence) {
    return helion::wrap(operand, operand_side, parent_precedence, host_min, host_max);
  };
  switch (s->op) {
  case Op::Const:
    return std::to_string(s->value);
  case Op::Var:
    return side == SymSide::Host ? s->host_expr : s->kernel_name;
  case Op::Add: {
    // a + b * -1 reads better as a - b.
    if (s->rhs->op == Op::Mul && sym_constant(s->rhs->rhs) == -1)
      return wrap(s->lhs, side, 1) + " - " + wrap(s->rhs->lhs, side, 2);
    if (auto c = sym_constant(s->rhs); c && *c < 0 && *c != std::numeric_limits<int64_t>::min())
      return wrap(s->lhs, side, 1) + " - " + std::to_string(-*c);
    return wrap(s->lhs, side, 1) + " + " + wrap(s->rhs, side, 2);
  }
  case Op::Mul:
    return wrap(s->lhs, side, 2) + " * " + wrap(s->rhs, side, 3);
  case Op::FloorDiv:
    return wrap(s->lhs, side, 2) + " // " + wrap(s->rhs, side, 3);
  case Op::Mod:
    return wrap(s->lhs, side, 2) + " % " + wrap(s->rhs, side, 3);
  case Op::NextPow2:
    return "triton.next_power_of_2(" + sym_to_python(s->lhs, side, host_min, host_max) + ")";
  case Op::Min:
  case Op::Max: {
    std::string fn = s->op == Op::Min ? host_min : host_max;
    if (side == SymSide::Kernel) fn = "tl.minimum";
    if (side == SymSide::Kernel && s->op == Op::Max) fn = "tl.maximum";
    return fn + "(" + sym_to_python(s->lhs, side, host_min, host_max) + ", " +
           sym_to_python(s->rhs, side, host_min, host_max) + ")";
  }
  }
  return "?";
}

} // namespace helion
