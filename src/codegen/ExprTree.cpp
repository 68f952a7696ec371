#include "codegen/ExprTree.h"

#include "support/Diagnostics.h"

#include <cctype>

namespace helion::codegen {

namespace {

Expr make(ExprNode node) {
  return std::make_shared<const ExprNode>(std::move(node));
}

Expr text_node(std::string text, Precedence precedence) {
  ExprNode n;
  n.text = std::move(text);
  n.precedence = precedence;
  return make(std::move(n));
}

Expr checked(Expr e, const char *what) {
  check_internal(e != nullptr, std::string("expression tree: missing ") + what);
  return e;
}

const char *spelling(BinaryOp op) {
  switch (op) {
  case BinaryOp::Add: return "+";
  case BinaryOp::Sub: return "-";
  case BinaryOp::Mul: return "*";
  case BinaryOp::TrueDiv: return "/";
  case BinaryOp::FloorDiv: return "//";
  case BinaryOp::Mod: return "%";
  case BinaryOp::Pow: return "**";
  case BinaryOp::ShiftLeft: return "<<";
  case BinaryOp::ShiftRight: return ">>";
  case BinaryOp::BitAnd: return "&";
  case BinaryOp::BitOr: return "|";
  case BinaryOp::BitXor: return "^";
  case BinaryOp::Eq: return "==";
  case BinaryOp::Ne: return "!=";
  case BinaryOp::Lt: return "<";
  case BinaryOp::Le: return "<=";
  case BinaryOp::Gt: return ">";
  case BinaryOp::Ge: return ">=";
  case BinaryOp::And: return "and";
  case BinaryOp::Or: return "or";
  }
  return "?";
}

Precedence precedence(BinaryOp op) {
  switch (op) {
  case BinaryOp::Add:
  case BinaryOp::Sub: return Precedence::Additive;
  case BinaryOp::Mul:
  case BinaryOp::TrueDiv:
  case BinaryOp::FloorDiv:
  case BinaryOp::Mod: return Precedence::Multiplicative;
  case BinaryOp::Pow: return Precedence::Power;
  case BinaryOp::ShiftLeft:
  case BinaryOp::ShiftRight: return Precedence::Shift;
  case BinaryOp::BitAnd: return Precedence::BitAnd;
  case BinaryOp::BitOr: return Precedence::BitOr;
  case BinaryOp::BitXor: return Precedence::BitXor;
  case BinaryOp::Eq:
  case BinaryOp::Ne:
  case BinaryOp::Lt:
  case BinaryOp::Le:
  case BinaryOp::Gt:
  case BinaryOp::Ge: return Precedence::Comparison;
  case BinaryOp::And: return Precedence::And;
  case BinaryOp::Or: return Precedence::Or;
  }
  return Precedence::Atom;
}

/// `e`, in parentheses when it binds looser than `least`.
std::string operand(const Expr &e, Precedence least) {
  std::string text = to_python(e);
  return precedence_of(e) < least ? "(" + text + ")" : text;
}

/// Python reads `1.real` as a malformed float: an integer literal takes
/// parentheses before an attribute.
bool is_integer_literal(const Expr &e) {
  if (e->kind != ExprNode::Kind::Text || e->text.empty()) return false;
  for (char c : e->text)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

Expr sequence(ExprNode::Kind kind, std::vector<Expr> items) {
  ExprNode n;
  n.kind = kind;
  for (const Expr &item : items)
    checked(item, "item");
  n.items = std::move(items);
  return make(std::move(n));
}

std::string joined(const std::vector<Expr> &items) {
  std::string text;
  for (const Expr &item : items)
    text += (text.empty() ? "" : ", ") + to_python(item);
  return text;
}

std::string binary_text(const ExprNode &n) {
  Precedence p = precedence(n.binary_op);
  Precedence left = p, right = p;
  switch (p) {
  case Precedence::Power:
    // Right-associative; its right operand may be a unary (`a ** -b`), its
    // left one must be tighter than a power (`(-a) ** b`, `(a ** b) ** c`).
    left = Precedence::Atom;
    right = Precedence::Unary;
    break;
  case Precedence::Comparison:
    // Comparisons chain (`a < b < c` is not `(a < b) < c`): neither side may be one.
    left = right = Precedence::BitOr;
    break;
  default:
    // Left-associative: a right operand of the same precedence keeps its parentheses.
    right = static_cast<Precedence>(static_cast<int>(p) + 1);
    break;
  }
  return operand(n.operands[0], left) + " " + spelling(n.binary_op) + " " +
         operand(n.operands[1], right);
}

std::string unary_text(const ExprNode &n) {
  switch (n.unary_op) {
  case UnaryOp::Neg: return "-" + operand(n.operands[0], Precedence::Unary);
  case UnaryOp::Invert: return "~" + operand(n.operands[0], Precedence::Unary);
  case UnaryOp::Not: return "not " + operand(n.operands[0], Precedence::Not);
  }
  return "?";
}

std::string call_text(const ExprNode &n) {
  std::string args = joined(n.items);
  for (const auto &[keyword, value] : n.keywords)
    args += (args.empty() ? "" : ", ") + keyword + "=" + to_python(value);
  return operand(n.operands[0], Precedence::Atom) + "(" + args + ")";
}

} // namespace

Expr name(const std::string &text) {
  check_internal(!text.empty(), "expression tree: an empty name");
  return text_node(text, Precedence::Atom);
}

Expr literal(const std::string &text) {
  check_internal(!text.empty(), "expression tree: an empty literal");
  return text_node(text, text[0] == '-' ? Precedence::Unary : Precedence::Atom);
}

Expr literal(int64_t value) {
  return literal(std::to_string(value));
}

Expr printed(const std::string &text, Precedence precedence) {
  check_internal(!text.empty(), "expression tree: empty printed text");
  return text_node(text, precedence);
}

Expr call(Expr callee, std::vector<Expr> args, std::vector<std::pair<std::string, Expr>> keywords) {
  ExprNode n;
  n.kind = ExprNode::Kind::Call;
  n.operands = {checked(std::move(callee), "callee")};
  for (const Expr &a : args)
    checked(a, "argument");
  for (const auto &keyword : keywords)
    checked(keyword.second, "keyword argument");
  n.items = std::move(args);
  n.keywords = std::move(keywords);
  return make(std::move(n));
}

Expr call(const std::string &callee, std::vector<Expr> args,
          std::vector<std::pair<std::string, Expr>> keywords) {
  return call(name(callee), std::move(args), std::move(keywords));
}

Expr attribute(Expr object, const std::string &attr) {
  ExprNode n;
  n.kind = ExprNode::Kind::Attribute;
  n.text = attr;
  n.operands = {checked(std::move(object), "object")};
  return make(std::move(n));
}

Expr method(Expr object, const std::string &method, std::vector<Expr> args,
            std::vector<std::pair<std::string, Expr>> keywords) {
  return call(attribute(std::move(object), method), std::move(args), std::move(keywords));
}

Expr subscript(Expr object, std::vector<Expr> index) {
  check_internal(!index.empty(), "expression tree: a subscript without an index");
  ExprNode n;
  n.kind = ExprNode::Kind::Subscript;
  n.operands = {checked(std::move(object), "object")};
  for (const Expr &entry : index)
    checked(entry, "index entry");
  n.items = std::move(index);
  return make(std::move(n));
}

Expr full_slice() {
  ExprNode n;
  n.kind = ExprNode::Kind::Slice;
  return make(std::move(n));
}

Expr unary(UnaryOp op, Expr operand) {
  ExprNode n;
  n.kind = ExprNode::Kind::Unary;
  n.unary_op = op;
  n.operands = {checked(std::move(operand), "operand")};
  return make(std::move(n));
}

Expr binary(BinaryOp op, Expr lhs, Expr rhs) {
  ExprNode n;
  n.kind = ExprNode::Kind::Binary;
  n.binary_op = op;
  n.operands = {checked(std::move(lhs), "left operand"), checked(std::move(rhs), "right operand")};
  return make(std::move(n));
}

Expr tuple(std::vector<Expr> items) {
  return sequence(ExprNode::Kind::Tuple, std::move(items));
}

Expr list(std::vector<Expr> items) {
  return sequence(ExprNode::Kind::List, std::move(items));
}

Expr operator+(Expr lhs, Expr rhs) {
  return binary(BinaryOp::Add, std::move(lhs), std::move(rhs));
}
Expr operator-(Expr lhs, Expr rhs) {
  return binary(BinaryOp::Sub, std::move(lhs), std::move(rhs));
}
Expr operator*(Expr lhs, Expr rhs) {
  return binary(BinaryOp::Mul, std::move(lhs), std::move(rhs));
}
Expr operator&(Expr lhs, Expr rhs) {
  return binary(BinaryOp::BitAnd, std::move(lhs), std::move(rhs));
}

Precedence precedence_of(const Expr &e) {
  switch (e->kind) {
  case ExprNode::Kind::Text: return e->precedence;
  case ExprNode::Kind::Unary:
    return e->unary_op == UnaryOp::Not ? Precedence::Not : Precedence::Unary;
  case ExprNode::Kind::Binary: return precedence(e->binary_op);
  default: return Precedence::Atom;
  }
}

std::string to_python(const Expr &e) {
  const ExprNode &n = *e;
  switch (n.kind) {
  case ExprNode::Kind::Text: return n.text;
  case ExprNode::Kind::Call: return call_text(n);
  case ExprNode::Kind::Attribute:
    if (is_integer_literal(n.operands[0])) return "(" + n.operands[0]->text + ")." + n.text;
    return operand(n.operands[0], Precedence::Atom) + "." + n.text;
  case ExprNode::Kind::Subscript:
    return operand(n.operands[0], Precedence::Atom) + "[" + joined(n.items) + "]";
  case ExprNode::Kind::Slice: return ":";
  case ExprNode::Kind::Unary: return unary_text(n);
  case ExprNode::Kind::Binary: return binary_text(n);
  case ExprNode::Kind::Tuple: return "(" + joined(n.items) + (n.items.size() == 1 ? ",)" : ")");
  case ExprNode::Kind::List: return "[" + joined(n.items) + "]";
  }
  return "?";
}

bool prints_as(const Expr &e, const std::string &text) {
  return to_python(e) == text;
}

} // namespace helion::codegen
