#pragma once

// Expressions of the generated Python and Triton code as trees. Code
// generation builds them with the functions below and prints them once;
// the printer decides every parenthesis from Python's precedence and
// associativity, so no caller guesses whether a piece needs wrapping.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace helion::codegen {

/// How tightly an expression binds, loosest first (Python's operator
/// precedence table). An operand looser than its place requires is printed
/// in parentheses.
enum class Precedence {
  Or,
  And,
  Not,
  Comparison,
  BitOr,
  BitXor,
  BitAnd,
  Shift,
  Additive,
  Multiplicative,
  Unary,
  Power,
  Atom, ///< names, literals, calls, attributes, subscripts, tuples, lists
};

enum class UnaryOp { Neg, Invert, Not };

enum class BinaryOp {
  Add,
  Sub,
  Mul,
  TrueDiv,
  FloorDiv,
  Mod,
  Pow,
  ShiftLeft,
  ShiftRight,
  BitAnd,
  BitOr,
  BitXor,
  Eq,
  Ne,
  Lt,
  Le,
  Gt,
  Ge,
  And,
  Or,
};

struct ExprNode;
/// An immutable expression; subtrees are shared freely.
using Expr = std::shared_ptr<const ExprNode>;

struct ExprNode {
  enum class Kind { Text, Call, Attribute, Subscript, Slice, Unary, Binary, Tuple, List };
  Kind kind = Kind::Text;
  /// Text: the text itself; Attribute: the attribute's name.
  std::string text;
  /// Text: how tightly the text binds.
  Precedence precedence = Precedence::Atom;
  UnaryOp unary_op = UnaryOp::Neg;
  BinaryOp binary_op = BinaryOp::Add;
  /// Call: the callee; Attribute and Subscript: the object; Unary: the
  /// operand; Binary: the left operand, then the right.
  std::vector<Expr> operands;
  /// Call: positional arguments; Subscript: index entries; Tuple, List: items.
  std::vector<Expr> items;
  /// Call: keyword arguments, in order.
  std::vector<std::pair<std::string, Expr>> keywords;
};

/// A name, or a dotted path of names (`tl.load`, a module's function).
Expr name(const std::string &text);
/// A literal as Python spells it: `3`, `-1`, `1e-05`, `'evict_first'`,
/// `True`, `float('inf')`. A leading minus sign binds as a unary operator.
Expr literal(const std::string &text);
Expr literal(int64_t value);
/// Text another printer wrote, binding as tightly as `precedence` (a sizes
/// expression, printed with parentheses of its own where it needs them).
Expr printed(const std::string &text, Precedence precedence);

Expr call(Expr callee, std::vector<Expr> args,
          std::vector<std::pair<std::string, Expr>> keywords = {});
/// `call(name(callee), ...)`.
Expr call(const std::string &callee, std::vector<Expr> args,
          std::vector<std::pair<std::string, Expr>> keywords = {});
Expr attribute(Expr object, const std::string &attr);
/// `object.method(args...)`.
Expr method(Expr object, const std::string &method, std::vector<Expr> args,
            std::vector<std::pair<std::string, Expr>> keywords = {});
/// `object[index...]`, the entries separated by commas (`x[:, None]`).
Expr subscript(Expr object, std::vector<Expr> index);
/// `:`, a whole axis in a subscript.
Expr full_slice();
Expr unary(UnaryOp op, Expr operand);
Expr binary(BinaryOp op, Expr lhs, Expr rhs);
/// `(a, b)`; `(a,)` for one item.
Expr tuple(std::vector<Expr> items);
Expr list(std::vector<Expr> items);

/// Shorthands for the common binary operators.
Expr operator+(Expr lhs, Expr rhs);
Expr operator-(Expr lhs, Expr rhs);
Expr operator*(Expr lhs, Expr rhs);
Expr operator&(Expr lhs, Expr rhs);

/// How tightly `e` binds as printed.
Precedence precedence_of(const Expr &e);

/// Python source for `e`, with parentheses exactly where Python needs them.
std::string to_python(const Expr &e);

/// True when `e` prints as `text`.
bool prints_as(const Expr &e, const std::string &text);

} // namespace helion::codegen
