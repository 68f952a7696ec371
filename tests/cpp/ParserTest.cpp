#include "parse/Parser.h"

#include "parse/Unparse.h"
#include "support/Diagnostics.h"

#include <gtest/gtest.h>

#include <string>

using namespace helion;

namespace {

std::string format(const SourceSpan &span) {
  return std::to_string(span.line) + ":" + std::to_string(span.col) + "-" +
         std::to_string(span.end_line) + ":" + std::to_string(span.end_col);
}

bool contains(const SourceSpan &outer, const SourceSpan &inner) {
  bool starts_after =
      inner.line > outer.line || (inner.line == outer.line && inner.col >= outer.col);
  bool ends_before = inner.end_line < outer.end_line ||
                     (inner.end_line == outer.end_line && inner.end_col <= outer.end_col);
  return starts_after && ends_before;
}

/// Every node's span is well formed and lies within its parent's, except
/// decorators, which Python places before their FunctionDef's `def`.
class SpanChecker {
public:
  void expr(const ast::Expr *e, const SourceSpan &parent) {
    if (!e) return;
    check(e->span, parent);
    for (const ast::ExprPtr *child :
         {&e->value, &e->slice, &e->left, &e->right, &e->extra, &e->func})
      expr(child->get(), e->span);
    for (const auto *list : {&e->elts, &e->keys, &e->comparators})
      for (const ast::ExprPtr &child : *list)
        expr(child.get(), e->span);
    for (const ast::Keyword &keyword : e->keywords) {
      check(keyword.span, e->span);
      expr(keyword.value.get(), keyword.span);
    }
  }

  void stmt(const ast::Stmt &s, const SourceSpan *parent) {
    if (parent) check(s.span, *parent);
    for (const ast::ExprPtr &target : s.targets)
      expr(target.get(), s.span);
    for (const ast::ExprPtr *child : {&s.value, &s.test, &s.msg, &s.returns})
      expr(child->get(), s.span);
    for (const auto *list : {&s.body, &s.orelse})
      for (const ast::StmtPtr &child : *list)
        stmt(*child, &s.span);
    for (const ast::ExprPtr &decorator : s.decorators) {
      EXPECT_LT(decorator->span.end_line, s.span.line) << "decorator " << format(decorator->span);
      expr(decorator.get(), decorator->span);
    }
    const ast::Arguments &args = s.args;
    for (const auto *list : {&args.posonlyargs, &args.args, &args.kwonlyargs})
      for (const ast::Arg &a : *list)
        arg(a, s.span);
    if (args.vararg) arg(*args.vararg, s.span);
    if (args.kwarg) arg(*args.kwarg, s.span);
    for (const auto *list : {&args.defaults, &args.kw_defaults})
      for (const ast::ExprPtr &child : *list)
        expr(child.get(), s.span);
  }

private:
  void arg(const ast::Arg &a, const SourceSpan &parent) {
    check(a.span, parent);
    expr(a.annotation.get(), a.span);
  }

  void check(const SourceSpan &span, const SourceSpan &parent) {
    EXPECT_TRUE(span.valid()) << format(span);
    EXPECT_TRUE(contains(span, {span.line, span.col, span.line, span.col}))
        << "ends before it starts: " << format(span);
    EXPECT_TRUE(contains(parent, span)) << format(span) << " outside " << format(parent);
  }
};

void check_spans(const ast::Module &module) {
  SpanChecker checker;
  for (const ast::StmtPtr &s : module.body)
    checker.stmt(*s, nullptr);
}

/// The expected text is what tests/cpp/parser_differential.py prints for
/// Python's own `ast` of the same source.
void expect_tree(const std::string &source, const std::string &expected) {
  ast::Module module = parse_module(source);
  EXPECT_EQ(dump(module), expected);
  check_spans(module);
}

void expect_error(const std::string &source, const std::string &kind, const std::string &message,
                  SourceSpan span) {
  try {
    parse_module(source);
    ADD_FAILURE() << "no error for:\n" << source;
  } catch (const UserError &error) {
    EXPECT_EQ(error.kind(), kind);
    EXPECT_EQ(std::string(error.what()), message);
    EXPECT_EQ(format(error.span()), format(span));
  }
}

} // namespace

TEST(ParserTest, EmptySource) {
  EXPECT_TRUE(parse_module("").body.empty());
  EXPECT_TRUE(parse_module("\n# only a comment\n\n").body.empty());
}

TEST(ParserTest, ConstantValues) {
  ast::Module module = parse_module("x = 0x10, 1_000, 1e-5, 'a\\tb' \"c\", True\n");
  const ast::Expr &tuple = *module.body[0]->value;
  EXPECT_EQ(tuple.elts[0]->constant.int_value, 16);
  EXPECT_EQ(tuple.elts[0]->constant.spelling, "0x10");
  EXPECT_EQ(tuple.elts[1]->constant.int_value, 1000);
  EXPECT_DOUBLE_EQ(tuple.elts[2]->constant.float_value, 1e-5);
  EXPECT_EQ(tuple.elts[2]->constant.spelling, "1e-5");
  EXPECT_EQ(tuple.elts[3]->constant.string_value, "a\tbc");
  EXPECT_EQ(tuple.elts[3]->constant.spelling, "'a\\tb' \"c\"");
  EXPECT_TRUE(tuple.elts[4]->constant.bool_value);
}

TEST(ParserTest, FunctionDefSpanStartsAtDef) {
  ast::Module module = parse_module("@helion.kernel()\ndef f(x):\n    return x  # done\n");
  const ast::Stmt &def = *module.body[0];
  EXPECT_EQ(format(def.span), "2:0-3:12");
  EXPECT_EQ(format(def.decorators[0]->span), "1:1-1:16");
}

TEST(ParserTest, KernelWithEveryLayoutFeature) {
  // Tabs, CRLF, a backslash continuation, comments and blank lines.
  ast::Module module =
      parse_module("@kernel\r\ndef f(x):\r\n\tif x:\r\n\t\ty = x \\\r\n\t\t\t+ 1\r\n\r\n"
                   "\t# comment\r\n\treturn (\r\n  y)");
  check_spans(module);
  const ast::Stmt &def = *module.body[0];
  ASSERT_EQ(def.body.size(), 2u);
  EXPECT_EQ(format(def.body[0]->span), "3:1-5:6");
  EXPECT_EQ(format(def.body[1]->span), "8:1-9:4");
  EXPECT_EQ(format(def.body[1]->value->span), "9:2-9:3");
}

TEST(ParserTest, Assignment) {
  expect_tree("x = 1\n",
              R"dump(Module
  body[0]: Assign @1:0-1:5
    targets[0]: Name @1:0-1:1 id='x'
    value: Constant @1:4-1:5 value=int:1
)dump");
}

TEST(ParserTest, TupleTargetFromCall) {
  expect_tree("m, k = x.size()\n",
              R"dump(Module
  body[0]: Assign @1:0-1:15
    targets[0]: Tuple @1:0-1:4
      elts[0]: Name @1:0-1:1 id='m'
      elts[1]: Name @1:3-1:4 id='k'
    value: Call @1:7-1:15
      func: Attribute @1:7-1:13 attr='size'
        value: Name @1:7-1:8 id='x'
)dump");
}

TEST(ParserTest, ChainedAssignment) {
  expect_tree("a = b = 1\n",
              R"dump(Module
  body[0]: Assign @1:0-1:9
    targets[0]: Name @1:0-1:1 id='a'
    targets[1]: Name @1:4-1:5 id='b'
    value: Constant @1:8-1:9 value=int:1
)dump");
}

TEST(ParserTest, SubscriptTarget) {
  expect_tree("out[tile_m, tile_n] = acc\n",
              R"dump(Module
  body[0]: Assign @1:0-1:25
    targets[0]: Subscript @1:0-1:19
      value: Name @1:0-1:3 id='out'
      slice: Tuple @1:4-1:18
        elts[0]: Name @1:4-1:10 id='tile_m'
        elts[1]: Name @1:12-1:18 id='tile_n'
    value: Name @1:22-1:25 id='acc'
)dump");
}

TEST(ParserTest, AugAndAnnAssign) {
  expect_tree("x.y += 1\nz: int = 2\nw: float\n",
              R"dump(Module
  body[0]: AugAssign @1:0-1:8 op=Add
    target: Attribute @1:0-1:3 attr='y'
      value: Name @1:0-1:1 id='x'
    value: Constant @1:7-1:8 value=int:1
  body[1]: AnnAssign @2:0-2:10
    target: Name @2:0-2:1 id='z'
    annotation: Name @2:3-2:6 id='int'
    value: Constant @2:9-2:10 value=int:2
  body[2]: AnnAssign @3:0-3:8
    target: Name @3:0-3:1 id='w'
    annotation: Name @3:3-3:8 id='float'
)dump");
}

TEST(ParserTest, ForWithTupleTargetAndElse) {
  expect_tree("for tile_m, tile_n in hl.tile([m, n]):\n    pass\nelse:\n    break\n",
              R"dump(Module
  body[0]: For @1:0-4:9
    target: Tuple @1:4-1:18
      elts[0]: Name @1:4-1:10 id='tile_m'
      elts[1]: Name @1:12-1:18 id='tile_n'
    iter: Call @1:22-1:37
      func: Attribute @1:22-1:29 attr='tile'
        value: Name @1:22-1:24 id='hl'
      args[0]: List @1:30-1:36
        elts[0]: Name @1:31-1:32 id='m'
        elts[1]: Name @1:34-1:35 id='n'
    body[0]: Pass @2:4-2:8
    orelse[0]: Break @4:4-4:9
)dump");
}

TEST(ParserTest, WhileIfElifElse) {
  expect_tree("while x:\n    if a:\n        continue\n    elif b:\n        pass\n    else:\n       "
              " x -= 1\n",
              R"dump(Module
  body[0]: While @1:0-7:14
    test: Name @1:6-1:7 id='x'
    body[0]: If @2:4-7:14
      test: Name @2:7-2:8 id='a'
      body[0]: Continue @3:8-3:16
      orelse[0]: If @4:4-7:14
        test: Name @4:9-4:10 id='b'
        body[0]: Pass @5:8-5:12
        orelse[0]: AugAssign @7:8-7:14 op=Sub
          target: Name @7:8-7:9 id='x'
          value: Constant @7:13-7:14 value=int:1
)dump");
}

TEST(ParserTest, ReturnForms) {
  expect_tree("def f():\n    return\n    return a, b\n    return (a)\n",
              R"dump(Module
  body[0]: FunctionDef @1:0-4:14 name='f'
    args: arguments
    body[0]: Return @2:4-2:10
    body[1]: Return @3:4-3:15
      value: Tuple @3:11-3:15
        elts[0]: Name @3:11-3:12 id='a'
        elts[1]: Name @3:14-3:15 id='b'
    body[2]: Return @4:4-4:14
      value: Name @4:12-4:13 id='a'
)dump");
}

TEST(ParserTest, AssertWithMessage) {
  expect_tree("assert x > 0, 'x must be positive'\n",
              R"dump(Module
  body[0]: Assert @1:0-1:34
    test: Compare @1:7-1:12 ops=[Gt]
      left: Name @1:7-1:8 id='x'
      comparators[0]: Constant @1:11-1:12 value=int:0
    msg: Constant @1:14-1:34 value=str:'x must be positive'
)dump");
}

TEST(ParserTest, FStringAssertMessage) {
  expect_tree("assert k == k2, f\"size mismatch {k} != {k2}\"\n",
              R"dump(Module
  body[0]: Assert @1:0-1:44
    test: Compare @1:7-1:14 ops=[Eq]
      left: Name @1:7-1:8 id='k'
      comparators[0]: Name @1:12-1:14 id='k2'
    msg: JoinedStr @1:16-1:44
      values[0]: Name @1:33-1:34 id='k'
      values[1]: Name @1:40-1:42 id='k2'
)dump");
}

TEST(ParserTest, FStringFields) {
  std::string source =
      "y = (f'{a.b!r:>{w}}' 'plain'\n     rf\"\"\"{c[0]}\n{ (d, e) } {f, g}\"\"\")\n";
  expect_tree(source, R"dump(Module
  body[0]: Assign @1:0-3:21
    targets[0]: Name @1:0-1:1 id='y'
    value: JoinedStr @1:5-3:20
      values[0]: Attribute @1:8-1:11 attr='b'
        value: Name @1:8-1:9 id='a'
      values[1]: Name @1:16-1:17 id='w'
      values[2]: Subscript @2:11-2:15
        value: Name @2:11-2:12 id='c'
        slice: Constant @2:13-2:14 value=int:0
      values[3]: Tuple @3:2-3:8
        elts[0]: Name @3:3-3:4 id='d'
        elts[1]: Name @3:6-3:7 id='e'
      values[4]: Tuple @3:11-3:17
        elts[0]: Name @3:12-3:13 id='f'
        elts[1]: Name @3:15-3:16 id='g'
)dump");
  ast::Module module = parse_module(source);
  EXPECT_EQ(module.body[0]->value->constant.spelling,
            "f'{a.b!r:>{w}}' 'plain' rf\"\"\"{c[0]}\n{ (d, e) } {f, g}\"\"\"");
}

TEST(ParserTest, DecoratedKernel) {
  expect_tree("@helion.kernel(config=helion.Config(block_sizes=[[64, 128], [16]]))\ndef k(x: "
              "torch.Tensor) -> torch.Tensor:\n    \"\"\"Doc.\"\"\"\n    return x\n",
              R"dump(Module
  body[0]: FunctionDef @2:0-4:12 name='k'
    args: arguments
      args[0]: arg @2:6-2:21 arg='x'
        annotation: Attribute @2:9-2:21 attr='Tensor'
          value: Name @2:9-2:14 id='torch'
    body[0]: Expr @3:4-3:14
      value: Constant @3:4-3:14 value=str:'Doc.'
    body[1]: Return @4:4-4:12
      value: Name @4:11-4:12 id='x'
    decorator_list[0]: Call @1:1-1:67
      func: Attribute @1:1-1:14 attr='kernel'
        value: Name @1:1-1:7 id='helion'
      keywords[0]: keyword @1:15-1:66 arg='config'
        value: Call @1:22-1:66
          func: Attribute @1:22-1:35 attr='Config'
            value: Name @1:22-1:28 id='helion'
          keywords[0]: keyword @1:36-1:65 arg='block_sizes'
            value: List @1:48-1:65
              elts[0]: List @1:49-1:58
                elts[0]: Constant @1:50-1:52 value=int:64
                elts[1]: Constant @1:54-1:57 value=int:128
              elts[1]: List @1:60-1:64
                elts[0]: Constant @1:61-1:63 value=int:16
    returns: Attribute @2:26-2:38 attr='Tensor'
      value: Name @2:26-2:31 id='torch'
)dump");
}

TEST(ParserTest, Parameters) {
  expect_tree("def f(a, b=1, /, c=2, *args, d, e=3, **kw):\n    pass\n",
              R"dump(Module
  body[0]: FunctionDef @1:0-2:8 name='f'
    args: arguments
      posonlyargs[0]: arg @1:6-1:7 arg='a'
      posonlyargs[1]: arg @1:9-1:10 arg='b'
      args[0]: arg @1:17-1:18 arg='c'
      vararg: arg @1:23-1:27 arg='args'
      kwonlyargs[0]: arg @1:29-1:30 arg='d'
      kwonlyargs[1]: arg @1:32-1:33 arg='e'
      kw_defaults[0]: None
      kw_defaults[1]: Constant @1:34-1:35 value=int:3
      kwarg: arg @1:39-1:41 arg='kw'
      defaults[0]: Constant @1:11-1:12 value=int:1
      defaults[1]: Constant @1:19-1:20 value=int:2
    body[0]: Pass @2:4-2:8
)dump");
}

TEST(ParserTest, BareStar) {
  expect_tree("def f(a, *, b):\n    pass\n",
              R"dump(Module
  body[0]: FunctionDef @1:0-2:8 name='f'
    args: arguments
      args[0]: arg @1:6-1:7 arg='a'
      kwonlyargs[0]: arg @1:12-1:13 arg='b'
      kw_defaults[0]: None
    body[0]: Pass @2:4-2:8
)dump");
}

TEST(ParserTest, NestedDef) {
  expect_tree("def outer(x):\n    def inner(y):\n        return y\n    return inner(x)\n",
              R"dump(Module
  body[0]: FunctionDef @1:0-4:19 name='outer'
    args: arguments
      args[0]: arg @1:10-1:11 arg='x'
    body[0]: FunctionDef @2:4-3:16 name='inner'
      args: arguments
        args[0]: arg @2:14-2:15 arg='y'
      body[0]: Return @3:8-3:16
        value: Name @3:15-3:16 id='y'
    body[1]: Return @4:4-4:19
      value: Call @4:11-4:19
        func: Name @4:11-4:16 id='inner'
        args[0]: Name @4:17-4:18 id='x'
)dump");
}

TEST(ParserTest, Lambda) {
  expect_tree("f = lambda: 0\ng = lambda a, b: a + b\n",
              R"dump(Module
  body[0]: Assign @1:0-1:13
    targets[0]: Name @1:0-1:1 id='f'
    value: Lambda @1:4-1:13
      args: arguments
      body: Constant @1:12-1:13 value=int:0
  body[1]: Assign @2:0-2:22
    targets[0]: Name @2:0-2:1 id='g'
    value: Lambda @2:4-2:22
      args: arguments
        args[0]: arg @2:11-2:12 arg='a'
        args[1]: arg @2:14-2:15 arg='b'
      body: BinOp @2:17-2:22 op=Add
        left: Name @2:17-2:18 id='a'
        right: Name @2:21-2:22 id='b'
)dump");
}

TEST(ParserTest, LambdaStarParameters) {
  expect_tree("f = lambda s, /, t, *_, k, **kw: s\n",
              R"dump(Module
  body[0]: Assign @1:0-1:34
    targets[0]: Name @1:0-1:1 id='f'
    value: Lambda @1:4-1:34
      args: arguments
        posonlyargs[0]: arg @1:11-1:12 arg='s'
        args[0]: arg @1:17-1:18 arg='t'
        vararg: arg @1:21-1:22 arg='_'
        kwonlyargs[0]: arg @1:24-1:25 arg='k'
        kw_defaults[0]: None
        kwarg: arg @1:29-1:31 arg='kw'
      body: Name @1:33-1:34 id='s'
)dump");
}

TEST(ParserTest, IfExp) {
  expect_tree("y = a if c else b if d else e\n",
              R"dump(Module
  body[0]: Assign @1:0-1:29
    targets[0]: Name @1:0-1:1 id='y'
    value: IfExp @1:4-1:29
      test: Name @1:9-1:10 id='c'
      body: Name @1:4-1:5 id='a'
      orelse: IfExp @1:16-1:29
        test: Name @1:21-1:22 id='d'
        body: Name @1:16-1:17 id='b'
        orelse: Name @1:28-1:29 id='e'
)dump");
}

TEST(ParserTest, BoolOpsAndNot) {
  expect_tree("x = not a or b and c or d\n",
              R"dump(Module
  body[0]: Assign @1:0-1:25
    targets[0]: Name @1:0-1:1 id='x'
    value: BoolOp @1:4-1:25 op=Or
      values[0]: UnaryOp @1:4-1:9 op=Not
        operand: Name @1:8-1:9 id='a'
      values[1]: BoolOp @1:13-1:20 op=And
        values[0]: Name @1:13-1:14 id='b'
        values[1]: Name @1:19-1:20 id='c'
      values[2]: Name @1:24-1:25 id='d'
)dump");
}

TEST(ParserTest, ChainedComparison) {
  expect_tree("x = a < b <= c is d is not e in f not in g == h != i > j >= k\n",
              R"dump(Module
  body[0]: Assign @1:0-1:61
    targets[0]: Name @1:0-1:1 id='x'
    value: Compare @1:4-1:61 ops=[Lt,LtE,Is,IsNot,In,NotIn,Eq,NotEq,Gt,GtE]
      left: Name @1:4-1:5 id='a'
      comparators[0]: Name @1:8-1:9 id='b'
      comparators[1]: Name @1:13-1:14 id='c'
      comparators[2]: Name @1:18-1:19 id='d'
      comparators[3]: Name @1:27-1:28 id='e'
      comparators[4]: Name @1:32-1:33 id='f'
      comparators[5]: Name @1:41-1:42 id='g'
      comparators[6]: Name @1:46-1:47 id='h'
      comparators[7]: Name @1:51-1:52 id='i'
      comparators[8]: Name @1:55-1:56 id='j'
      comparators[9]: Name @1:60-1:61 id='k'
)dump");
}

TEST(ParserTest, BitwiseAndShifts) {
  expect_tree("x = a | b ^ c & d << 1 >> 2\n",
              R"dump(Module
  body[0]: Assign @1:0-1:27
    targets[0]: Name @1:0-1:1 id='x'
    value: BinOp @1:4-1:27 op=BitOr
      left: Name @1:4-1:5 id='a'
      right: BinOp @1:8-1:27 op=BitXor
        left: Name @1:8-1:9 id='b'
        right: BinOp @1:12-1:27 op=BitAnd
          left: Name @1:12-1:13 id='c'
          right: BinOp @1:16-1:27 op=RShift
            left: BinOp @1:16-1:22 op=LShift
              left: Name @1:16-1:17 id='d'
              right: Constant @1:21-1:22 value=int:1
            right: Constant @1:26-1:27 value=int:2
)dump");
}

TEST(ParserTest, Arithmetic) {
  expect_tree("x = a + b - c * d @ e / f // g % h\n",
              R"dump(Module
  body[0]: Assign @1:0-1:34
    targets[0]: Name @1:0-1:1 id='x'
    value: BinOp @1:4-1:34 op=Sub
      left: BinOp @1:4-1:9 op=Add
        left: Name @1:4-1:5 id='a'
        right: Name @1:8-1:9 id='b'
      right: BinOp @1:12-1:34 op=Mod
        left: BinOp @1:12-1:30 op=FloorDiv
          left: BinOp @1:12-1:25 op=Div
            left: BinOp @1:12-1:21 op=MatMult
              left: BinOp @1:12-1:17 op=Mult
                left: Name @1:12-1:13 id='c'
                right: Name @1:16-1:17 id='d'
              right: Name @1:20-1:21 id='e'
            right: Name @1:24-1:25 id='f'
          right: Name @1:29-1:30 id='g'
        right: Name @1:33-1:34 id='h'
)dump");
}

TEST(ParserTest, PowerBindsTighterThanUnary) {
  expect_tree("x = -a ** b\ny = a ** -b\nz = a ** b ** c\nw = ~+-a\n",
              R"dump(Module
  body[0]: Assign @1:0-1:11
    targets[0]: Name @1:0-1:1 id='x'
    value: UnaryOp @1:4-1:11 op=USub
      operand: BinOp @1:5-1:11 op=Pow
        left: Name @1:5-1:6 id='a'
        right: Name @1:10-1:11 id='b'
  body[1]: Assign @2:0-2:11
    targets[0]: Name @2:0-2:1 id='y'
    value: BinOp @2:4-2:11 op=Pow
      left: Name @2:4-2:5 id='a'
      right: UnaryOp @2:9-2:11 op=USub
        operand: Name @2:10-2:11 id='b'
  body[2]: Assign @3:0-3:15
    targets[0]: Name @3:0-3:1 id='z'
    value: BinOp @3:4-3:15 op=Pow
      left: Name @3:4-3:5 id='a'
      right: BinOp @3:9-3:15 op=Pow
        left: Name @3:9-3:10 id='b'
        right: Name @3:14-3:15 id='c'
  body[3]: Assign @4:0-4:8
    targets[0]: Name @4:0-4:1 id='w'
    value: UnaryOp @4:4-4:8 op=Invert
      operand: UnaryOp @4:5-4:8 op=UAdd
        operand: UnaryOp @4:6-4:8 op=USub
          operand: Name @4:7-4:8 id='a'
)dump");
}

TEST(ParserTest, ParenthesesAreOutsideTheirExpression) {
  expect_tree("x = (a) + (b)\ny = (a)\n(z)\n",
              R"dump(Module
  body[0]: Assign @1:0-1:13
    targets[0]: Name @1:0-1:1 id='x'
    value: BinOp @1:4-1:13 op=Add
      left: Name @1:5-1:6 id='a'
      right: Name @1:11-1:12 id='b'
  body[1]: Assign @2:0-2:7
    targets[0]: Name @2:0-2:1 id='y'
    value: Name @2:5-2:6 id='a'
  body[2]: Expr @3:0-3:3
    value: Name @3:1-3:2 id='z'
)dump");
}

TEST(ParserTest, TupleDisplaysIncludeParens) {
  expect_tree("x = (a, b)\ny = (a,)\nz = ()\nw = a, b,\n",
              R"dump(Module
  body[0]: Assign @1:0-1:10
    targets[0]: Name @1:0-1:1 id='x'
    value: Tuple @1:4-1:10
      elts[0]: Name @1:5-1:6 id='a'
      elts[1]: Name @1:8-1:9 id='b'
  body[1]: Assign @2:0-2:8
    targets[0]: Name @2:0-2:1 id='y'
    value: Tuple @2:4-2:8
      elts[0]: Name @2:5-2:6 id='a'
  body[2]: Assign @3:0-3:6
    targets[0]: Name @3:0-3:1 id='z'
    value: Tuple @3:4-3:6
  body[3]: Assign @4:0-4:9
    targets[0]: Name @4:0-4:1 id='w'
    value: Tuple @4:4-4:9
      elts[0]: Name @4:4-4:5 id='a'
      elts[1]: Name @4:7-4:8 id='b'
)dump");
}

TEST(ParserTest, Subscripts) {
  expect_tree("x[:, None]\nx[a:b:c]\nx[..., 0]\nx[::2]\nx[1:]\nx[a:b:]\nx[()]\nx[a,]\n",
              R"dump(Module
  body[0]: Expr @1:0-1:10
    value: Subscript @1:0-1:10
      value: Name @1:0-1:1 id='x'
      slice: Tuple @1:2-1:9
        elts[0]: Slice @1:2-1:3
        elts[1]: Constant @1:5-1:9 value=None
  body[1]: Expr @2:0-2:8
    value: Subscript @2:0-2:8
      value: Name @2:0-2:1 id='x'
      slice: Slice @2:2-2:7
        lower: Name @2:2-2:3 id='a'
        upper: Name @2:4-2:5 id='b'
        step: Name @2:6-2:7 id='c'
  body[2]: Expr @3:0-3:9
    value: Subscript @3:0-3:9
      value: Name @3:0-3:1 id='x'
      slice: Tuple @3:2-3:8
        elts[0]: Constant @3:2-3:5 value=Ellipsis
        elts[1]: Constant @3:7-3:8 value=int:0
  body[3]: Expr @4:0-4:6
    value: Subscript @4:0-4:6
      value: Name @4:0-4:1 id='x'
      slice: Slice @4:2-4:5
        step: Constant @4:4-4:5 value=int:2
  body[4]: Expr @5:0-5:5
    value: Subscript @5:0-5:5
      value: Name @5:0-5:1 id='x'
      slice: Slice @5:2-5:4
        lower: Constant @5:2-5:3 value=int:1
  body[5]: Expr @6:0-6:7
    value: Subscript @6:0-6:7
      value: Name @6:0-6:1 id='x'
      slice: Slice @6:2-6:6
        lower: Name @6:2-6:3 id='a'
        upper: Name @6:4-6:5 id='b'
  body[6]: Expr @7:0-7:5
    value: Subscript @7:0-7:5
      value: Name @7:0-7:1 id='x'
      slice: Tuple @7:2-7:4
  body[7]: Expr @8:0-8:5
    value: Subscript @8:0-8:5
      value: Name @8:0-8:1 id='x'
      slice: Tuple @8:2-8:4
        elts[0]: Name @8:2-8:3 id='a'
)dump");
}

TEST(ParserTest, CallArguments) {
  expect_tree("f(a, *args, b=1, **kwargs)\nf()\nf(a,)\n",
              R"dump(Module
  body[0]: Expr @1:0-1:26
    value: Call @1:0-1:26
      func: Name @1:0-1:1 id='f'
      args[0]: Name @1:2-1:3 id='a'
      args[1]: Starred @1:5-1:10
        value: Name @1:6-1:10 id='args'
      keywords[0]: keyword @1:12-1:15 arg='b'
        value: Constant @1:14-1:15 value=int:1
      keywords[1]: keyword @1:17-1:25 arg=None
        value: Name @1:19-1:25 id='kwargs'
  body[1]: Expr @2:0-2:3
    value: Call @2:0-2:3
      func: Name @2:0-2:1 id='f'
  body[2]: Expr @3:0-3:5
    value: Call @3:0-3:5
      func: Name @3:0-3:1 id='f'
      args[0]: Name @3:2-3:3 id='a'
)dump");
}

TEST(ParserTest, AttributeChain) {
  expect_tree("x.y.z(w)[0].v\n",
              R"dump(Module
  body[0]: Expr @1:0-1:13
    value: Attribute @1:0-1:13 attr='v'
      value: Subscript @1:0-1:11
        value: Call @1:0-1:8
          func: Attribute @1:0-1:5 attr='z'
            value: Attribute @1:0-1:3 attr='y'
              value: Name @1:0-1:1 id='x'
          args[0]: Name @1:6-1:7 id='w'
        slice: Constant @1:9-1:10 value=int:0
)dump");
}

TEST(ParserTest, Numbers) {
  expect_tree("x = 0x1F, 0o17, 0b101, 1_000, 0, 00\ny = 1e-5, .5, 5., 1.5E+10, 1_0.0_1\n",
              R"dump(Module
  body[0]: Assign @1:0-1:35
    targets[0]: Name @1:0-1:1 id='x'
    value: Tuple @1:4-1:35
      elts[0]: Constant @1:4-1:8 value=int:31
      elts[1]: Constant @1:10-1:14 value=int:15
      elts[2]: Constant @1:16-1:21 value=int:5
      elts[3]: Constant @1:23-1:28 value=int:1000
      elts[4]: Constant @1:30-1:31 value=int:0
      elts[5]: Constant @1:33-1:35 value=int:0
  body[1]: Assign @2:0-2:34
    targets[0]: Name @2:0-2:1 id='y'
    value: Tuple @2:4-2:34
      elts[0]: Constant @2:4-2:8 value=float:1.0000000000000001e-05
      elts[1]: Constant @2:10-2:12 value=float:0.5
      elts[2]: Constant @2:14-2:16 value=float:5
      elts[3]: Constant @2:18-2:25 value=float:15000000000
      elts[4]: Constant @2:27-2:34 value=float:10.01
)dump");
}

TEST(ParserTest, Strings) {
  expect_tree("x = 'a' \"b\" '''c''' r'\\d'\ny = '\\x41\\u00e9\\n\\101'\nz = b'\\x00'\n",
              R"dump(Module
  body[0]: Assign @1:0-1:25
    targets[0]: Name @1:0-1:1 id='x'
    value: Constant @1:4-1:25 value=str:'abc\\d'
  body[1]: Assign @2:0-2:22
    targets[0]: Name @2:0-2:1 id='y'
    value: Constant @2:4-2:22 value=str:'A\xc3\xa9\x0aA'
  body[2]: Assign @3:0-3:11
    targets[0]: Name @3:0-3:1 id='z'
    value: Constant @3:4-3:11 value=bytes:'\x00'
)dump");
}

TEST(ParserTest, ImplicitConcatenationAcrossLines) {
  expect_tree("x = ('a'\n     'b')\n",
              R"dump(Module
  body[0]: Assign @1:0-2:9
    targets[0]: Name @1:0-1:1 id='x'
    value: Constant @1:5-2:8 value=str:'ab'
)dump");
}

TEST(ParserTest, Singletons) {
  expect_tree("x = True, False, None, ...\n",
              R"dump(Module
  body[0]: Assign @1:0-1:26
    targets[0]: Name @1:0-1:1 id='x'
    value: Tuple @1:4-1:26
      elts[0]: Constant @1:4-1:8 value=bool:True
      elts[1]: Constant @1:10-1:15 value=bool:False
      elts[2]: Constant @1:17-1:21 value=None
      elts[3]: Constant @1:23-1:26 value=Ellipsis
)dump");
}

TEST(ParserTest, ListsAndDicts) {
  expect_tree("x = [1, 2,]\ny = {}\nz = {'a': 1, **d}\nw = [*a, b]\n",
              R"dump(Module
  body[0]: Assign @1:0-1:11
    targets[0]: Name @1:0-1:1 id='x'
    value: List @1:4-1:11
      elts[0]: Constant @1:5-1:6 value=int:1
      elts[1]: Constant @1:8-1:9 value=int:2
  body[1]: Assign @2:0-2:6
    targets[0]: Name @2:0-2:1 id='y'
    value: Dict @2:4-2:6
  body[2]: Assign @3:0-3:17
    targets[0]: Name @3:0-3:1 id='z'
    value: Dict @3:4-3:17
      keys[0]: Constant @3:5-3:8 value=str:'a'
      keys[1]: None
      values[0]: Constant @3:10-3:11 value=int:1
      values[1]: Name @3:15-3:16 id='d'
  body[3]: Assign @4:0-4:11
    targets[0]: Name @4:0-4:1 id='w'
    value: List @4:4-4:11
      elts[0]: Starred @4:5-4:7
        value: Name @4:6-4:7 id='a'
      elts[1]: Name @4:9-4:10 id='b'
)dump");
}

TEST(ParserTest, MultilineCall) {
  expect_tree("f(\n    a,\n    b=(c +\n       d),\n)\n",
              R"dump(Module
  body[0]: Expr @1:0-5:1
    value: Call @1:0-5:1
      func: Name @1:0-1:1 id='f'
      args[0]: Name @2:4-2:5 id='a'
      keywords[0]: keyword @3:4-4:9 arg='b'
        value: BinOp @3:7-4:8 op=Add
          left: Name @3:7-3:8 id='c'
          right: Name @4:7-4:8 id='d'
)dump");
}

TEST(ParserTest, Semicolons) {
  expect_tree("a = 1; b = 2;\n",
              R"dump(Module
  body[0]: Assign @1:0-1:5
    targets[0]: Name @1:0-1:1 id='a'
    value: Constant @1:4-1:5 value=int:1
  body[1]: Assign @1:7-1:12
    targets[0]: Name @1:7-1:8 id='b'
    value: Constant @1:11-1:12 value=int:2
)dump");
}

TEST(ParserTest, OneLineBlocks) {
  expect_tree("if x: return 1\nfor i in y: pass\n",
              R"dump(Module
  body[0]: If @1:0-1:14
    test: Name @1:3-1:4 id='x'
    body[0]: Return @1:6-1:14
      value: Constant @1:13-1:14 value=int:1
  body[1]: For @2:0-2:16
    target: Name @2:4-2:5 id='i'
    iter: Name @2:9-2:10 id='y'
    body[0]: Pass @2:12-2:16
)dump");
}

TEST(ParserTest, StarredTarget) {
  expect_tree("a, *b = c\n",
              R"dump(Module
  body[0]: Assign @1:0-1:9
    targets[0]: Tuple @1:0-1:5
      elts[0]: Name @1:0-1:1 id='a'
      elts[1]: Starred @1:3-1:5
        value: Name @1:4-1:5 id='b'
    value: Name @1:8-1:9 id='c'
)dump");
}
TEST(ParserErrorTest, ListComprehension) {
  expect_error("x = [i for i in y]\n", "UnsupportedSyntax",
               "comprehension is not supported in helion kernels; rewrite it with plain statements "
               "and torch operations, or move it out of the kernel",
               {1, 7, 1, 10});
}

TEST(ParserErrorTest, GeneratorArgument) {
  expect_error("f(i for i in y)\n", "UnsupportedSyntax",
               "comprehension is not supported in helion kernels; rewrite it with plain statements "
               "and torch operations, or move it out of the kernel",
               {1, 4, 1, 7});
}

TEST(ParserErrorTest, DictComprehension) {
  expect_error("x = {k: v for k in y}\n", "UnsupportedSyntax",
               "comprehension is not supported in helion kernels; rewrite it with plain statements "
               "and torch operations, or move it out of the kernel",
               {1, 10, 1, 13});
}

TEST(ParserErrorTest, Walrus) {
  expect_error("if (n := 10):\n    pass\n", "UnsupportedSyntax",
               "assignment expression (:=) is not supported in helion kernels; rewrite it with "
               "plain statements and torch operations, or move it out of the kernel",
               {1, 6, 1, 8});
}

TEST(ParserErrorTest, Yield) {
  expect_error("def f():\n    yield x\n", "UnsupportedSyntax",
               "yield expression is not supported in helion kernels; rewrite it with plain "
               "statements and torch operations, or move it out of the kernel",
               {2, 4, 2, 9});
}

TEST(ParserErrorTest, Await) {
  expect_error("x = await y\n", "UnsupportedSyntax",
               "await expression is not supported in helion kernels; rewrite it with plain "
               "statements and torch operations, or move it out of the kernel",
               {1, 4, 1, 9});
}

TEST(ParserErrorTest, AsyncDef) {
  expect_error("async def f():\n    pass\n", "UnsupportedSyntax",
               "async code is not supported in helion kernels; rewrite it with plain statements "
               "and torch operations, or move it out of the kernel",
               {1, 0, 1, 5});
}

TEST(ParserErrorTest, ClassDef) {
  expect_error("class A:\n    pass\n", "UnsupportedSyntax",
               "class definition is not supported in helion kernels; rewrite it with plain "
               "statements and torch operations, or move it out of the kernel",
               {1, 0, 1, 5});
}

TEST(ParserErrorTest, With) {
  expect_error("with x:\n    pass\n", "UnsupportedSyntax",
               "'with' statement is not supported in helion kernels; rewrite it with plain "
               "statements and torch operations, or move it out of the kernel",
               {1, 0, 1, 4});
}

TEST(ParserErrorTest, Try) {
  expect_error("try:\n    pass\nexcept E:\n    pass\n", "UnsupportedSyntax",
               "'try' statement is not supported in helion kernels; rewrite it with plain "
               "statements and torch operations, or move it out of the kernel",
               {1, 0, 1, 3});
}

TEST(ParserErrorTest, Del) {
  expect_error("del x\n", "UnsupportedSyntax",
               "'del' statement is not supported in helion kernels; rewrite it with plain "
               "statements and torch operations, or move it out of the kernel",
               {1, 0, 1, 3});
}

TEST(ParserErrorTest, Raise) {
  expect_error("raise ValueError('no')\n", "UnsupportedSyntax",
               "'raise' statement is not supported in helion kernels; rewrite it with plain "
               "statements and torch operations, or move it out of the kernel",
               {1, 0, 1, 5});
}

TEST(ParserErrorTest, Global) {
  expect_error("global x\n", "UnsupportedSyntax",
               "'global' statement is not supported in helion kernels; rewrite it with plain "
               "statements and torch operations, or move it out of the kernel",
               {1, 0, 1, 6});
}

TEST(ParserErrorTest, Nonlocal) {
  expect_error("nonlocal x\n", "UnsupportedSyntax",
               "'nonlocal' statement is not supported in helion kernels; rewrite it with plain "
               "statements and torch operations, or move it out of the kernel",
               {1, 0, 1, 8});
}

TEST(ParserErrorTest, Import) {
  expect_error("import torch\n", "UnsupportedSyntax",
               "import statement is not supported in helion kernels; rewrite it with plain "
               "statements and torch operations, or move it out of the kernel",
               {1, 0, 1, 6});
}

TEST(ParserErrorTest, FromImport) {
  expect_error("from torch import nn\n", "UnsupportedSyntax",
               "import statement is not supported in helion kernels; rewrite it with plain "
               "statements and torch operations, or move it out of the kernel",
               {1, 0, 1, 4});
}

TEST(ParserErrorTest, Match) {
  expect_error("match x:\n    case 1:\n        pass\n", "UnsupportedSyntax",
               "match statement is not supported in helion kernels; rewrite it with plain "
               "statements and torch operations, or move it out of the kernel",
               {1, 0, 1, 5});
}

TEST(ParserErrorTest, FStringSingleBrace) {
  expect_error("assert x, f'{x}}'\n", "SyntaxError", "f-string: single '}' is not allowed",
               {1, 15, 1, 16});
}

TEST(ParserErrorTest, FStringFieldSyntax) {
  expect_error("x = f'{a +}'\n", "SyntaxError", "invalid syntax", {1, 10, 1, 11});
  expect_error("x = f'''\n{[i for i in y]}'''\n", "UnsupportedSyntax",
               "comprehension is not supported in helion kernels; rewrite it with plain statements "
               "and torch operations, or move it out of the kernel",
               {2, 4, 2, 7});
}

TEST(ParserErrorTest, SetDisplay) {
  expect_error("x = {1, 2}\n", "UnsupportedSyntax",
               "set display is not supported in helion kernels; rewrite it with plain statements "
               "and torch operations, or move it out of the kernel",
               {1, 4, 1, 5});
}

TEST(ParserErrorTest, ComplexLiteral) {
  expect_error("x = 1j\n", "UnsupportedSyntax",
               "complex literal is not supported in helion kernels; rewrite it with plain "
               "statements and torch operations, or move it out of the kernel",
               {1, 4, 1, 6});
}

TEST(ParserErrorTest, HugeInteger) {
  expect_error("x = 99999999999999999999\n", "UnsupportedSyntax",
               "integer literal larger than 64 bits is not supported in helion kernels; rewrite it "
               "with plain statements and torch operations, or move it out of the kernel",
               {1, 4, 1, 24});
}

TEST(ParserErrorTest, LambdaDefault) {
  const char *message =
      "a default value of a lambda parameter is not supported in helion kernels; rewrite it "
      "with plain statements and torch operations, or move it out of the kernel";
  expect_error("f = lambda a=1: a\n", "UnsupportedSyntax", message, {1, 12, 1, 13});
  expect_error("f = lambda *, a, b=2: a\n", "UnsupportedSyntax", message, {1, 18, 1, 19});
}

TEST(ParserErrorTest, LambdaParameters) {
  expect_error("f = lambda a, a: a\n", "SyntaxError",
               "duplicate argument 'a' in function definition", {1, 14, 1, 15});
  expect_error("f = lambda *: 0\n", "SyntaxError", "named arguments must follow bare *",
               {1, 11, 1, 12});
  expect_error("f = lambda **k, a: 0\n", "SyntaxError",
               "arguments cannot follow var-keyword argument", {1, 16, 1, 17});
  expect_error("f = lambda a: int: 0\n", "SyntaxError", "invalid syntax", {1, 17, 1, 18});
}

TEST(ParserErrorTest, InconsistentDedent) {
  expect_error("if x:\n        a\n    b\n", "SyntaxError",
               "unindent does not match any outer indentation level", {3, 0, 3, 4});
}

TEST(ParserErrorTest, UnexpectedIndent) {
  expect_error("x = 1\n    y = 2\n", "SyntaxError", "unexpected indent", {2, 0, 2, 4});
}

TEST(ParserErrorTest, ExpectedIndentedBlock) {
  expect_error("if x:\npass\n", "SyntaxError",
               "expected an indented block after 'if' statement on line 1", {2, 0, 2, 4});
}

TEST(ParserErrorTest, TabsAndSpacesMixed) {
  expect_error("if x:\n        a\n\tb\n", "SyntaxError",
               "inconsistent use of tabs and spaces in indentation", {3, 0, 3, 1});
}

TEST(ParserErrorTest, MissingColon) {
  expect_error("if x\n    pass\n", "SyntaxError", "expected ':'", {1, 4, 1, 5});
}

TEST(ParserErrorTest, UnclosedParen) {
  expect_error("x = f(a,\n", "SyntaxError", "'(' was never closed", {1, 5, 1, 6});
}

TEST(ParserErrorTest, UnmatchedBracket) {
  expect_error("x = a]\n", "SyntaxError", "unmatched ']'", {1, 5, 1, 6});
}

TEST(ParserErrorTest, MismatchedBracket) {
  expect_error("x = (a]\n", "SyntaxError",
               "closing parenthesis ']' does not match opening parenthesis '('", {1, 6, 1, 7});
}

TEST(ParserErrorTest, UnterminatedString) {
  expect_error("x = 'abc\n", "SyntaxError", "unterminated string literal (detected at line 1)",
               {1, 4, 1, 8});
}

TEST(ParserErrorTest, UnterminatedTripleString) {
  expect_error("x = '''abc\n", "SyntaxError",
               "unterminated triple-quoted string literal (detected at line 1)", {1, 4, 1, 5});
}

TEST(ParserErrorTest, InvalidCharacter) {
  expect_error("x = a $ b\n", "SyntaxError", "invalid character '$'", {1, 6, 1, 7});
}

TEST(ParserErrorTest, LeadingZeros) {
  expect_error("x = 012\n", "SyntaxError",
               "leading zeros in decimal integer literals are not permitted; use an 0o prefix for "
               "octal integers",
               {1, 4, 1, 7});
}

TEST(ParserErrorTest, InvalidHex) {
  expect_error("x = 0x\n", "SyntaxError", "invalid hexadecimal literal", {1, 4, 1, 6});
}

TEST(ParserErrorTest, BackslashNotAtEnd) {
  expect_error("x = a \\ b\n", "SyntaxError",
               "unexpected character after line continuation character", {1, 6, 1, 7});
}

TEST(ParserErrorTest, AssignToCall) {
  expect_error("f() = 1\n", "SyntaxError", "cannot assign to function call", {1, 0, 1, 3});
}

TEST(ParserErrorTest, AssignToLiteral) {
  expect_error("1 = x\n", "SyntaxError", "cannot assign to literal", {1, 0, 1, 1});
}

TEST(ParserErrorTest, AugAssignTuple) {
  expect_error("a, b += 1\n", "SyntaxError",
               "'tuple' is an illegal expression for augmented assignment", {1, 0, 1, 4});
}

TEST(ParserErrorTest, AnnotateTuple) {
  expect_error("a, b: int\n", "SyntaxError", "only single target (not tuple) can be annotated",
               {1, 0, 1, 4});
}

TEST(ParserErrorTest, PositionalAfterKeyword) {
  expect_error("f(a=1, b)\n", "SyntaxError", "positional argument follows keyword argument",
               {1, 7, 1, 8});
}

TEST(ParserErrorTest, RepeatedKeyword) {
  expect_error("f(a=1, a=2)\n", "SyntaxError", "keyword argument repeated: a", {1, 7, 1, 8});
}

TEST(ParserErrorTest, NonDefaultAfterDefault) {
  expect_error("def f(a=1, b):\n    pass\n", "SyntaxError",
               "parameter without a default follows parameter with a default", {1, 11, 1, 12});
}

TEST(ParserErrorTest, DuplicateArgument) {
  expect_error("def f(a, a):\n    pass\n", "SyntaxError",
               "duplicate argument 'a' in function definition", {1, 9, 1, 10});
}

TEST(ParserErrorTest, BareStarWithoutNames) {
  expect_error("def f(a, *):\n    pass\n", "SyntaxError", "named arguments must follow bare *",
               {1, 9, 1, 10});
}

TEST(ParserErrorTest, MissingElse) {
  expect_error("x = a if b\n", "SyntaxError", "expected 'else' after 'if' expression",
               {1, 10, 1, 11});
}

TEST(ParserErrorTest, MixBytesAndStr) {
  expect_error("x = b'a' 'b'\n", "SyntaxError", "cannot mix bytes and nonbytes literals",
               {1, 9, 1, 12});
}

TEST(ParserErrorTest, InvalidSyntax) {
  expect_error("x = 1 2\n", "SyntaxError", "invalid syntax", {1, 6, 1, 7});
}

TEST(ParserErrorTest, ExpectedExpression) {
  expect_error("x = \n", "SyntaxError", "expected an expression", {1, 4, 1, 5});
}

TEST(ParserErrorTest, StarredAlone) {
  expect_error("*a = b\n", "SyntaxError", "starred assignment target must be in a list or tuple",
               {1, 0, 1, 2});
}

TEST(ParserErrorTest, UnknownNamedEscape) {
  expect_error("x = '\\N{DASH}'\n", "UnsupportedSyntax",
               "\\N{...} escape is not supported in helion kernels; write the character itself",
               {1, 4, 1, 14});
}

namespace {

const char *const kTooDeep = "expression nested too deeply (more than 200 levels); rewrite it as "
                             "smaller expressions with intermediate variables";

std::string repeat(const std::string &text, int times) {
  std::string out;
  for (int i = 0; i < times; ++i)
    out += text;
  return out;
}

/// An assignment of `first`, then `times` copies of `next`, then `last`.
std::string chain(const std::string &first, const std::string &next, int times,
                  const std::string &last = "") {
  return "x = " + first + repeat(next, times) + last + "\n";
}

int expression_height(const std::string &source) {
  ast::Module module = parse_module(source);
  return module.body.at(0)->value->height;
}

} // namespace

// A tree no higher than the limit lets every later stage recurse over it;
// deeper input is an error, never a stack overflow.
TEST(ParserLimitTest, DeepUnaryChain) {
  EXPECT_EQ(expression_height(chain("", "-", 199, "1")), 200);
  expect_error(chain("", "-", 20000, "1"), "SyntaxError", kTooDeep, {1, 203, 1, 204});
  expect_error(chain("", "not ", 20000, "a"), "SyntaxError", kTooDeep, {1, 800, 1, 803});
  expect_error(chain("", "~+", 20000, "a"), "SyntaxError", kTooDeep, {1, 203, 1, 204});
}

TEST(ParserLimitTest, LongLeftAssociativeChains) {
  // A loop parses these, but each operator adds a level to the tree.
  EXPECT_EQ(expression_height(chain("1", " + 1", 199)), 200);
  expect_error(chain("1", " + 1", 200), "SyntaxError", kTooDeep, {1, 4, 1, 805});
  expect_error(chain("1", "+1", 20000), "SyntaxError", kTooDeep, {1, 4, 1, 405});
  expect_error(chain("a", " * b - c", 20000), "SyntaxError", kTooDeep, {1, 4, 1, 1601});
  expect_error(chain("a", ".b", 20000), "SyntaxError", kTooDeep, {1, 4, 1, 405});
  expect_error(chain("f", "()", 20000), "SyntaxError", kTooDeep, {1, 4, 1, 405});
  expect_error(chain("a", "[0]", 20000), "SyntaxError", kTooDeep, {1, 4, 1, 605});
}

TEST(ParserLimitTest, ChainsInsideParenthesesAddUp) {
  // Each level of parentheses holds a chain well under the limit; together
  // they are over it.
  std::string inner = "1";
  for (int i = 0; i < 10; ++i)
    inner = "(" + inner + repeat(" + 1", 25) + ")";
  expect_error("x = " + inner + "\n", "SyntaxError", kTooDeep, {1, 7, 1, 822});
}

TEST(ParserLimitTest, RightRecursiveForms) {
  expect_error(chain("2", " ** 2", 20000), "SyntaxError", kTooDeep, {1, 1004, 1, 1005});
  expect_error(chain("", "a if b else ", 20000, "c"), "SyntaxError", kTooDeep,
               {1, 2404, 1, 2405});
  expect_error(chain("", "lambda: ", 20000, "0"), "SyntaxError", kTooDeep, {1, 1604, 1, 1610});
}

TEST(ParserLimitTest, WideExpressionsAreFine) {
  // Many operands side by side keep the tree low.
  EXPECT_EQ(expression_height("x = [" + repeat("1, ", 20000) + "]\n"), 2);
  EXPECT_EQ(expression_height("x = " + repeat("a < ", 20000) + "a\n"), 2);
  EXPECT_EQ(expression_height("x = " + repeat("a and ", 20000) + "a\n"), 2);
  EXPECT_EQ(expression_height("x = f(" + repeat("-a, ", 20000) + ")\n"), 3);
}

TEST(ParserLimitTest, DeepFStringFields) {
  // Fields are parsed on their own but count as part of the expression.
  std::string field = repeat("-", 198) + "a";
  EXPECT_EQ(expression_height("x = f'{" + field + "}'\n"), 200);
  expect_error("x = f'{-" + field + "}'\n", "SyntaxError", kTooDeep, {1, 205, 1, 206});
}

TEST(ParserLimitTest, LongElifChains) {
  auto elifs = [](int count) {
    return "if a:\n    pass\n" + repeat("elif a:\n    pass\n", count) + "else:\n    pass\n";
  };
  ast::Module module = parse_module(elifs(198));
  EXPECT_EQ(module.body.size(), 1u);
  expect_error(elifs(200), "SyntaxError",
               "statements nested too deeply (more than 200 levels, each 'elif' counting as "
               "one); rewrite the code with fewer nested blocks",
               {402, 4, 402, 8});
}

TEST(ParserTest, DecoratorsBeyondTheSubsetAreSkipped) {
  // Python has run the decorator already; the kernel below it still parses.
  for (const std::string &decorator :
       {std::string("@helion.kernel(configs=[helion.Config(block_sizes=[b]) for b in (16, 32)])"),
        std::string("@helion.kernel(autotuner_fn=lambda bound, args: None)"), "@" + repeat("-", 5000) + "1"}) {
    ast::Module module = parse_module(decorator + "\ndef g(x):\n  return x\n");
    ASSERT_EQ(module.body.size(), 1u) << decorator;
    EXPECT_EQ(module.body[0]->name, "g");
    ASSERT_EQ(module.body[0]->body.size(), 1u);
  }
}

TEST(ParserLimitTest, DeepNestingThroughAPI) {
  // The limits hold for every way into an expression.
  for (const std::string &form :
       {"return ", "assert ", "x: ", "x += ", "for i in ", "while ", "if ", "f(a=", "f(*"}) {
    std::string source = form + repeat("-", 5000) + "1";
    if (form == "f(a=" || form == "f(*") source += ")";
    if (form == "for i in " || form == "while " || form == "if ") source += ":\n  pass";
    try {
      parse_module(source + "\n");
      ADD_FAILURE() << "no error for " << form;
    } catch (const UserError &error) {
      EXPECT_EQ(std::string(error.what()), kTooDeep) << form;
    }
  }
}
