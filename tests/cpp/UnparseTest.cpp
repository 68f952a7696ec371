#include "parse/Unparse.h"

#include "parse/Parser.h"

#include <gtest/gtest.h>

#include <string>

using namespace helion;

namespace {

std::string unparse_module(const ast::Module &module) {
  std::string out;
  for (const ast::StmtPtr &stmt : module.body)
    out += unparse(*stmt);
  return out;
}

/// parse -> unparse -> parse gives the same tree (spans aside), and the
/// printed text is a fixed point.
void expect_round_trip(const std::string &source) {
  ast::Module first = parse_module(source);
  std::string printed = unparse_module(first);
  ast::Module second = parse_module(printed);
  EXPECT_EQ(dump(second, false), dump(first, false)) << "printed:\n" << printed;
  EXPECT_EQ(unparse_module(second), printed);
}

/// The one expression of `source`, printed back.
std::string unparse_expr(const std::string &source) {
  ast::Module module = parse_module(source);
  return unparse(*module.body[0]->value);
}

} // namespace

TEST(UnparseTest, ParenthesizesOnlyWherePrecedenceRequires) {
  EXPECT_EQ(unparse_expr("(a + b) * c"), "(a + b) * c");
  EXPECT_EQ(unparse_expr("a + (b * c)"), "a + b * c");
  EXPECT_EQ(unparse_expr("a - (b - c)"), "a - (b - c)");
  EXPECT_EQ(unparse_expr("(a - b) - c"), "a - b - c");
  EXPECT_EQ(unparse_expr("(a ** b) ** c"), "(a ** b) ** c");
  EXPECT_EQ(unparse_expr("a ** (b ** c)"), "a ** b ** c");
  EXPECT_EQ(unparse_expr("-a ** b"), "-a ** b");
  EXPECT_EQ(unparse_expr("(-a) ** b"), "(-a) ** b");
  EXPECT_EQ(unparse_expr("a ** -b"), "a ** -b");
  EXPECT_EQ(unparse_expr("not (a and b)"), "not (a and b)");
  EXPECT_EQ(unparse_expr("(a or b) and c"), "(a or b) and c");
  EXPECT_EQ(unparse_expr("(a < b) < c"), "(a < b) < c");
  EXPECT_EQ(unparse_expr("(a if b else c) if d else e"), "(a if b else c) if d else e");
  EXPECT_EQ(unparse_expr("a if b else (c if d else e)"), "a if b else c if d else e");
  EXPECT_EQ(unparse_expr("(lambda: 1)()"), "(lambda: 1)()");
  EXPECT_EQ(unparse_expr("(a + b).c"), "(a + b).c");
  EXPECT_EQ(unparse_expr("(1).real"), "(1).real");
  EXPECT_EQ(unparse_expr("f((a, b))"), "f((a, b))");
}

TEST(UnparseTest, ConstantsKeepTheirSpelling) {
  EXPECT_EQ(unparse_expr("0x1F + 1e-5 + 1_000 + .5"), "0x1F + 1e-5 + 1_000 + .5");
  EXPECT_EQ(unparse_expr("('a'\n 'b')"), "'a' 'b'");
  EXPECT_EQ(unparse_expr("r'\\d' + b'x' + '''t'''"), "r'\\d' + b'x' + '''t'''");
}

TEST(UnparseTest, ConstantsWithoutSpelling) {
  ast::Expr constant(ast::ExprKind::Constant);
  constant.constant.kind = ast::ConstantKind::Float;
  constant.constant.float_value = 0.1;
  EXPECT_EQ(unparse(constant), "0.1");
  constant.constant.float_value = 3;
  EXPECT_EQ(unparse(constant), "3.0");
  constant.constant.kind = ast::ConstantKind::String;
  constant.constant.string_value = "it's\n";
  EXPECT_EQ(unparse(constant), "\"it's\\n\"");
  // A negative number from a later pass reads as a unary minus.
  auto negative = [] {
    auto expr = std::make_unique<ast::Expr>(ast::ExprKind::Constant);
    expr->constant.kind = ast::ConstantKind::Int;
    expr->constant.int_value = -3;
    return expr;
  };
  ast::Expr power(ast::ExprKind::BinOp);
  power.op = "Pow";
  power.left = negative();
  power.right = negative();
  EXPECT_EQ(unparse(power), "(-3) ** -3");
}

TEST(UnparseTest, Subscripts) {
  EXPECT_EQ(unparse_expr("x[:, None]"), "x[:, None]");
  EXPECT_EQ(unparse_expr("x[a:b:c, ..., 0]"), "x[a:b:c, ..., 0]");
  EXPECT_EQ(unparse_expr("x[(a, b)]"), "x[a, b]");
  EXPECT_EQ(unparse_expr("x[a,]"), "x[a,]");
  EXPECT_EQ(unparse_expr("x[()]"), "x[()]");
  EXPECT_EQ(unparse_expr("x[::2]"), "x[::2]");
}

TEST(UnparseTest, Statements) {
  ast::Module module = parse_module("@helion.kernel(config=helion.Config(block_sizes=[64]))\n"
                                    "def f(x: torch.Tensor, y=1, *, z) -> torch.Tensor:\n"
                                    "    '''Doc.'''\n"
                                    "    m, n = x.size()\n"
                                    "    for tile in hl.tile(m):\n"
                                    "        if a: pass\n"
                                    "        elif b: break\n"
                                    "        else: continue\n"
                                    "    return x, y\n");
  EXPECT_EQ(unparse(*module.body[0], 1, 2),
            "  @helion.kernel(config=helion.Config(block_sizes=[64]))\n"
            "  def f(x: torch.Tensor, y=1, *, z) -> torch.Tensor:\n"
            "    '''Doc.'''\n"
            "    m, n = x.size()\n"
            "    for tile in hl.tile(m):\n"
            "      if a:\n"
            "        pass\n"
            "      elif b:\n"
            "        break\n"
            "      else:\n"
            "        continue\n"
            "    return x, y\n");
}

TEST(UnparseTest, RoundTripExpressions) {
  expect_round_trip("x = lambda: 0\ny = lambda a, b: a if b else -a\n");
  expect_round_trip("x = lambda s, *_: s\ny = lambda a, /, b, *, c, **k: c\nz = lambda *a: a\n");
  expect_round_trip("x = not a or b and (c or d) and not (e < f <= g is not h not in i)\n");
  expect_round_trip("x = a | b ^ c & (d | e) << 1 >> (2 + 3) - 4 * 5 @ c / 6 // 7 % 8\n");
  expect_round_trip("x = -a ** 2 + (-a) ** -2 + ~a + +a - 2 ** 3 ** 4 - (2 ** 3) ** 4\n");
  expect_round_trip("x = f(*args, **kwargs), f(a, b=2), f(a=1, *args), f(**k, b=1)\n");
  expect_round_trip("x = (), (a,), [], [a], {}, {a: b, **c}, [*a, *b], (*a, b)\n");
  expect_round_trip("x = x[:, None], x[a:b:c], x[..., 0], x[::2], x[1:], x[(a, b), c]\n");
  expect_round_trip("x = 'a' 'b', b'c', r'\\d', '''e\nf''', 0x10, 1e-5, True, None, ...\n");
  expect_round_trip("x = a.b.c(d)[e].f, (a + b)(c), (a if b else c)[d]\n");
}

TEST(UnparseTest, FStringsKeepTheirSpelling) {
  EXPECT_EQ(unparse_expr("f'{x!r:>{w}}' \"{{}}\""), "f'{x!r:>{w}}' \"{{}}\"");
  EXPECT_EQ(unparse_expr("f'{a}'.upper()"), "f'{a}'.upper()");
  expect_round_trip("assert k == k2, f\"size mismatch {k} != {k2}\"\n"
                    "x = (rf'''{a\n + b}'''\n     'tail' F\"{c = }\")\n");
}

TEST(UnparseTest, RoundTripStatements) {
  expect_round_trip("def f(a, b=1, /, c=2, *args, d, e=3, **kw):\n"
                    "    '''Doc.'''\n"
                    "    pass; x = 1; y += 2\n"
                    "    a = b = c = x\n"
                    "    a, *b = c\n"
                    "    (a, b), [c, d] = e\n"
                    "    x[0] = x[1, 2] = x.y\n"
                    "    v: int = 3, 4\n"
                    "    u: torch.Tensor\n"
                    "    for i, j in range(10):\n"
                    "        if i:\n"
                    "            continue\n"
                    "        elif j:\n"
                    "            break\n"
                    "        else:\n"
                    "            if i: pass\n"
                    "            i -= 1\n"
                    "    else:\n"
                    "        pass\n"
                    "    while x:\n"
                    "        x **= 2\n"
                    "    else:\n"
                    "        x = 0\n"
                    "    assert x, 'message'\n"
                    "    @decorator\n"
                    "    def inner(*, k: int = 1) -> None: return\n"
                    "    return x,\n");
}
