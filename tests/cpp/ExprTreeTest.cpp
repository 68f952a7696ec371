// The expression printer: every operator class, Python's precedence and
// associativity, and the spellings code generation relies on.

#include "codegen/ExprTree.h"

#include <gtest/gtest.h>

namespace helion::codegen {
namespace {

const Expr a = name("a"), b = name("b"), c = name("c");

Expr op(BinaryOp o, Expr l, Expr r) {
  return binary(o, std::move(l), std::move(r));
}

TEST(ExprTreeTest, LeftAssociativeOperatorsKeepParenthesesOnTheRight) {
  EXPECT_EQ(to_python(a - (b - c)), "a - (b - c)");
  EXPECT_EQ(to_python((a - b) - c), "a - b - c");
  EXPECT_EQ(to_python(a + (b + c)), "a + (b + c)");
  EXPECT_EQ(to_python(op(BinaryOp::FloorDiv, a, op(BinaryOp::FloorDiv, b, c))), "a // (b // c)");
  EXPECT_EQ(to_python(op(BinaryOp::Mod, op(BinaryOp::FloorDiv, a, b), c)), "a // b % c");
  EXPECT_EQ(to_python(a * op(BinaryOp::FloorDiv, b, c)), "a * (b // c)");
  EXPECT_EQ(to_python(op(BinaryOp::ShiftLeft, a, op(BinaryOp::ShiftRight, b, c))), "a << (b >> c)");
}

TEST(ExprTreeTest, TighterOperandsNeedNoParentheses) {
  EXPECT_EQ(to_python((a + b) * c), "(a + b) * c");
  EXPECT_EQ(to_python(a + b * c), "a + b * c");
  EXPECT_EQ(to_python(a * b + c), "a * b + c");
  EXPECT_EQ(to_python(op(BinaryOp::ShiftLeft, a + b, c)), "a + b << c");
  EXPECT_EQ(to_python(op(BinaryOp::BitOr, a & b, op(BinaryOp::BitXor, b, c))), "a & b | b ^ c");
  EXPECT_EQ(to_python(op(BinaryOp::BitXor, op(BinaryOp::BitOr, a, b), c)), "(a | b) ^ c");
  EXPECT_EQ(to_python(op(BinaryOp::BitAnd, op(BinaryOp::BitXor, a, b), c)), "(a ^ b) & c");
  EXPECT_EQ(to_python(op(BinaryOp::BitAnd, op(BinaryOp::ShiftLeft, a, b), c)), "a << b & c");
}

TEST(ExprTreeTest, ComparisonsInsideBitwiseOperatorsAreParenthesized) {
  Expr lt = op(BinaryOp::Lt, a, b), ge = op(BinaryOp::Ge, c, literal(0));
  EXPECT_EQ(to_python(lt & ge), "(a < b) & (c >= 0)");
  EXPECT_EQ(to_python(op(BinaryOp::BitOr, lt, ge)), "(a < b) | (c >= 0)");
  // An arithmetic operand of a comparison binds tighter.
  EXPECT_EQ(to_python(op(BinaryOp::Lt, a + b, c * literal(2))), "a + b < c * 2");
  EXPECT_EQ(to_python(op(BinaryOp::Eq, a & b, literal(0))), "a & b == 0");
}

TEST(ExprTreeTest, ComparisonsNeverChain) {
  EXPECT_EQ(to_python(op(BinaryOp::Lt, op(BinaryOp::Lt, a, b), c)), "(a < b) < c");
  EXPECT_EQ(to_python(op(BinaryOp::Eq, a, op(BinaryOp::Ne, b, c))), "a == (b != c)");
  for (BinaryOp o :
       {BinaryOp::Eq, BinaryOp::Ne, BinaryOp::Lt, BinaryOp::Le, BinaryOp::Gt, BinaryOp::Ge}) {
    std::string text = to_python(op(o, op(o, a, b), c));
    EXPECT_EQ(text.substr(0, 1), "(") << text;
  }
}

TEST(ExprTreeTest, PowerIsRightAssociativeAndBindsTighterThanUnaryOnItsLeft) {
  EXPECT_EQ(to_python(op(BinaryOp::Pow, a, op(BinaryOp::Pow, b, c))), "a ** b ** c");
  EXPECT_EQ(to_python(op(BinaryOp::Pow, op(BinaryOp::Pow, a, b), c)), "(a ** b) ** c");
  EXPECT_EQ(to_python(op(BinaryOp::Pow, a, unary(UnaryOp::Neg, b))), "a ** -b");
  EXPECT_EQ(to_python(op(BinaryOp::Pow, unary(UnaryOp::Neg, a), b)), "(-a) ** b");
  EXPECT_EQ(to_python(op(BinaryOp::Pow, literal(-2), b)), "(-2) ** b");
  EXPECT_EQ(to_python(unary(UnaryOp::Neg, op(BinaryOp::Pow, a, b))), "-a ** b");
  EXPECT_EQ(to_python(op(BinaryOp::Pow, a, b + c)), "a ** (b + c)");
}

TEST(ExprTreeTest, UnaryOperators) {
  EXPECT_EQ(to_python(unary(UnaryOp::Neg, a + b)), "-(a + b)");
  EXPECT_EQ(to_python(unary(UnaryOp::Neg, a)), "-a");
  EXPECT_EQ(to_python(unary(UnaryOp::Invert, a & b)), "~(a & b)");
  EXPECT_EQ(to_python(unary(UnaryOp::Neg, unary(UnaryOp::Invert, a))), "-~a");
  EXPECT_EQ(to_python(unary(UnaryOp::Neg, call("f", {a}))), "-f(a)");
  EXPECT_EQ(to_python(a * unary(UnaryOp::Neg, b)), "a * -b");
  EXPECT_EQ(to_python(unary(UnaryOp::Not, op(BinaryOp::Lt, a, b))), "not a < b");
  EXPECT_EQ(to_python(unary(UnaryOp::Not, op(BinaryOp::And, a, b))), "not (a and b)");
  EXPECT_EQ(to_python(op(BinaryOp::Eq, unary(UnaryOp::Not, a), b)), "(not a) == b");
}

TEST(ExprTreeTest, BooleanOperators) {
  Expr lt = op(BinaryOp::Lt, a, literal(0)), eq = op(BinaryOp::Eq, a, literal(1));
  EXPECT_EQ(to_python(op(BinaryOp::Or, lt, eq)), "a < 0 or a == 1");
  EXPECT_EQ(to_python(op(BinaryOp::And, op(BinaryOp::Or, a, b), c)), "(a or b) and c");
  EXPECT_EQ(to_python(op(BinaryOp::Or, a, op(BinaryOp::And, b, c))), "a or b and c");
  EXPECT_EQ(to_python(op(BinaryOp::Or, a, op(BinaryOp::Or, b, c))), "a or (b or c)");
}

TEST(ExprTreeTest, NegativeLiteralsBindAsUnary) {
  EXPECT_EQ(to_python(a - literal(-1)), "a - -1");
  EXPECT_EQ(to_python(a * literal(-3)), "a * -3");
  EXPECT_EQ(to_python(attribute(literal("-1.5"), "to")), "(-1.5).to");
  EXPECT_EQ(to_python(attribute(literal(3), "to")), "(3).to");
  EXPECT_EQ(to_python(attribute(literal("1.5"), "to")), "1.5.to");
}

TEST(ExprTreeTest, PostfixOperationsParenthesizeLooserObjects) {
  EXPECT_EQ(to_python(method(a + b, "to", {name("tl.float16")})), "(a + b).to(tl.float16)");
  EXPECT_EQ(to_python(method(a, "to", {name("tl.int32")}, {{"bitcast", literal("True")}})),
            "a.to(tl.int32, bitcast=True)");
  EXPECT_EQ(to_python(subscript(call("tl.split", {a}), {literal(1)})), "tl.split(a)[1]");
  EXPECT_EQ(to_python(subscript(a * b, {full_slice(), name("None")})), "(a * b)[:, None]");
  EXPECT_EQ(to_python(subscript(subscript(a, {literal(0)}), {full_slice()})), "a[0][:]");
  EXPECT_EQ(to_python(attribute(attribute(a, "b"), "c")), "a.b.c");
  EXPECT_EQ(to_python(call(attribute(unary(UnaryOp::Neg, a), "abs"), {})), "(-a).abs()");
}

TEST(ExprTreeTest, CallsTuplesAndLists) {
  EXPECT_EQ(to_python(call("f", {})), "f()");
  EXPECT_EQ(to_python(call("tl.load", {a + b, c}, {{"other", literal(0)}})),
            "tl.load(a + b, c, other=0)");
  EXPECT_EQ(to_python(call("f", {}, {{"k", a}, {"j", b}})), "f(k=a, j=b)");
  EXPECT_EQ(to_python(tuple({a})), "(a,)");
  EXPECT_EQ(to_python(tuple({a, b + c})), "(a, b + c)");
  EXPECT_EQ(to_python(tuple({})), "()");
  EXPECT_EQ(to_python(list({})), "[]");
  EXPECT_EQ(to_python(list({a, literal(16)})), "[a, 16]");
  EXPECT_EQ(to_python(tuple({a}) + tuple({b})), "(a,) + (b,)");
}

TEST(ExprTreeTest, PrintedTextKeepsItsOwnPrecedence) {
  Expr sum = printed("x_size_0 + 1", Precedence::Additive);
  EXPECT_EQ(to_python(sum * a), "(x_size_0 + 1) * a");
  EXPECT_EQ(to_python(a + sum), "a + (x_size_0 + 1)");
  EXPECT_EQ(to_python(sum + a), "x_size_0 + 1 + a");
  EXPECT_EQ(to_python(a * printed("x.size(0)", Precedence::Atom)), "a * x.size(0)");
}

// Expressions the parenthesis guesser of earlier versions, which wrapped any
// operand with a space or a leading minus, printed with redundant parentheses.
TEST(ExprTreeTest, NoRedundantParentheses) {
  EXPECT_EQ(to_python(op(BinaryOp::Mod, op(BinaryOp::FloorDiv, a, b), c)), "a // b % c");
  EXPECT_EQ(to_python(a + call("tl.arange", {literal(0), b})), "a + tl.arange(0, b)");
  EXPECT_EQ(to_python(a * b + c * a), "a * b + c * a");
  EXPECT_EQ(to_python(op(BinaryOp::Eq, a * b, literal(0))), "a * b == 0");
  EXPECT_EQ(to_python(method(subscript(a, {full_slice(), name("None")}), "to", {b})),
            "a[:, None].to(b)");
}

} // namespace
} // namespace helion::codegen
