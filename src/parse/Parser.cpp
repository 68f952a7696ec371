#include "parse/Parser.h"

#include "parse/Lexer.h"
#include "support/Diagnostics.h"

#include <cerrno>
#include <cstdlib>
#include <limits>
#include <set>
#include <utility>

namespace helion {

namespace {

using ast::Expr;
using ast::ExprKind;
using ast::ExprPtr;
using ast::Stmt;
using ast::StmtKind;
using ast::StmtPtr;

/// One level of left-associative binary operators, loosest first.
/// https://docs.python.org/3/reference/expressions.html#operator-precedence
struct BinaryOperator {
  TokenKind token;
  const char *name;
};
struct BinaryLevel {
  std::vector<BinaryOperator> ops;
};
const BinaryLevel kBinaryLevels[] = {
    {{{TokenKind::VBar, "BitOr"}}},
    {{{TokenKind::Circumflex, "BitXor"}}},
    {{{TokenKind::Amper, "BitAnd"}}},
    {{{TokenKind::LeftShift, "LShift"}, {TokenKind::RightShift, "RShift"}}},
    {{{TokenKind::Plus, "Add"}, {TokenKind::Minus, "Sub"}}},
    {{{TokenKind::Star, "Mult"},
      {TokenKind::Slash, "Div"},
      {TokenKind::DoubleSlash, "FloorDiv"},
      {TokenKind::Percent, "Mod"},
      {TokenKind::At, "MatMult"}}},
};
constexpr int kNumBinaryLevels = sizeof(kBinaryLevels) / sizeof(kBinaryLevels[0]);

const char *augmented_operator(TokenKind kind) {
  switch (kind) {
  case TokenKind::PlusEqual:
    return "Add";
  case TokenKind::MinusEqual:
    return "Sub";
  case TokenKind::StarEqual:
    return "Mult";
  case TokenKind::AtEqual:
    return "MatMult";
  case TokenKind::SlashEqual:
    return "Div";
  case TokenKind::DoubleSlashEqual:
    return "FloorDiv";
  case TokenKind::PercentEqual:
    return "Mod";
  case TokenKind::DoubleStarEqual:
    return "Pow";
  case TokenKind::LeftShiftEqual:
    return "LShift";
  case TokenKind::RightShiftEqual:
    return "RShift";
  case TokenKind::VBarEqual:
    return "BitOr";
  case TokenKind::CircumflexEqual:
    return "BitXor";
  case TokenKind::AmperEqual:
    return "BitAnd";
  default:
    return nullptr;
  }
}

const char *comparison_operator(TokenKind kind) {
  switch (kind) {
  case TokenKind::EqEqual:
    return "Eq";
  case TokenKind::NotEqual:
    return "NotEq";
  case TokenKind::Less:
    return "Lt";
  case TokenKind::LessEqual:
    return "LtE";
  case TokenKind::Greater:
    return "Gt";
  case TokenKind::GreaterEqual:
    return "GtE";
  case TokenKind::KwIn:
    return "In";
  case TokenKind::KwIs:
    return "Is";
  default:
    return nullptr;
  }
}

/// Tokens that may begin an expression (used to tell a trailing comma from
/// a separator).
bool starts_expression(TokenKind kind) {
  switch (kind) {
  case TokenKind::Name:
  case TokenKind::Int:
  case TokenKind::Float:
  case TokenKind::Imaginary:
  case TokenKind::String:
  case TokenKind::KwTrue:
  case TokenKind::KwFalse:
  case TokenKind::KwNone:
  case TokenKind::KwNot:
  case TokenKind::KwLambda:
  case TokenKind::KwAwait:
  case TokenKind::KwYield:
  case TokenKind::Ellipsis:
  case TokenKind::LParen:
  case TokenKind::LBracket:
  case TokenKind::LBrace:
  case TokenKind::Plus:
  case TokenKind::Minus:
  case TokenKind::Tilde:
  case TokenKind::Star:
    return true;
  default:
    return false;
  }
}

ExprPtr make_expr(ExprKind kind, SourceSpan span) {
  return std::make_unique<Expr>(kind, span);
}

/// How deep the parser lets the tree grow: expressions at most this many
/// levels high, and statements at most this many blocks (or `elif`
/// branches, each an If in the previous one's orelse) deep. Every stage after
/// the parser recurses over the tree, device lowering with frames of about
/// 1.5 KiB per level (10 KiB under AddressSanitizer); the limit keeps that
/// within any thread's stack. It is Python's limit on nested brackets, far
/// beyond what kernels need.
constexpr int kMaxDepth = 200;

/// One more than the highest of `e`'s children.
int height_over_children(const Expr &e) {
  int highest = 0;
  auto see = [&](const ExprPtr &child) {
    if (child && child->height > highest) highest = child->height;
  };
  for (const ExprPtr *child : {&e.value, &e.slice, &e.left, &e.right, &e.extra, &e.func})
    see(*child);
  for (const auto *list : {&e.elts, &e.keys, &e.comparators})
    for (const ExprPtr &child : *list)
      see(child);
  for (const ast::Keyword &keyword : e.keywords)
    see(keyword.value);
  return highest + 1;
}

/// What an expression is called in "cannot assign to ..." messages.
std::string describe_target(const Expr &expr) {
  switch (expr.kind) {
  case ExprKind::Constant:
    switch (expr.constant.kind) {
    case ast::ConstantKind::None:
      return "None";
    case ast::ConstantKind::Bool:
      return expr.constant.bool_value ? "True" : "False";
    case ast::ConstantKind::Ellipsis:
      return "ellipsis";
    default:
      return "literal";
    }
  case ExprKind::Call:
    return "function call";
  case ExprKind::Compare:
    return "comparison";
  case ExprKind::IfExp:
    return "conditional expression";
  case ExprKind::Lambda:
    return "lambda";
  case ExprKind::Dict:
    return "dict literal";
  case ExprKind::Tuple:
    return "tuple";
  case ExprKind::List:
    return "list";
  default:
    return "expression";
  }
}

class Parser {
public:
  /// `depth` is how deeply the input is nested in the source around it (for
  /// the replacement fields of an f-string).
  explicit Parser(std::vector<Token> tokens, int depth = 0)
      : tokens_(std::move(tokens)), expression_depth_(depth) {}

  ast::Module parse_module();

private:
  /// One level of recursion, counted while it lives.
  class Nesting {
  public:
    explicit Nesting(int &depth) : depth_(depth) { ++depth_; }
    Nesting(const Nesting &) = delete;
    ~Nesting() { --depth_; }

  private:
    int &depth_;
  };
  /// Enters an expression production that may recurse into another one.
  [[nodiscard]] Nesting nest_expression() {
    if (expression_depth_ >= kMaxDepth) fail_too_deep(peek().span);
    return Nesting(expression_depth_);
  }
  /// Enters a block, or the If of an `elif`.
  [[nodiscard]] Nesting nest_statement() {
    if (statement_depth_ >= kMaxDepth)
      fail("statements nested too deeply (more than " + std::to_string(kMaxDepth) +
               " levels, each 'elif' counting as one); rewrite the code with fewer nested blocks",
           peek().span);
    return Nesting(statement_depth_);
  }
  /// Sets `e`'s height from its children's once they are all in place.
  void seal(Expr &e) const {
    e.height = height_over_children(e);
    if (e.height > kMaxDepth) fail_too_deep(e.span);
  }
  [[noreturn]] void fail_too_deep(SourceSpan span) const {
    fail("expression nested too deeply (more than " + std::to_string(kMaxDepth) +
             " levels); rewrite it as smaller expressions with intermediate variables",
         span);
  }

  // Token cursor.
  const Token &peek(size_t ahead = 0) const {
    size_t index = pos_ + ahead;
    return index < tokens_.size() ? tokens_[index] : tokens_.back();
  }
  bool at(TokenKind kind) const { return peek().kind == kind; }
  const Token &advance();
  bool eat(TokenKind kind);
  const Token &expect(TokenKind kind);
  /// The span from the start of `start` to the end of the last token consumed,
  /// which is how Python's grammar actions compute node positions.
  SourceSpan span_from(const Token &start) const {
    return {start.span.line, start.span.col, last_end_line_, last_end_col_};
  }

  [[noreturn]] void fail(const std::string &message, SourceSpan span) const {
    throw UserError("SyntaxError", message, span);
  }
  [[noreturn]] void unsupported(const std::string &what, SourceSpan span) const {
    throw UserError("UnsupportedSyntax",
                    what + " is not supported in helion kernels; rewrite it with plain statements "
                           "and torch operations, or move it out of the kernel",
                    span);
  }
  [[noreturn]] void fail_unexpected(const Token &token) const;
  void reject_walrus_or_comprehension() const;
  void reject_lone_starred(const Expr &expr) const {
    if (expr.kind == ExprKind::Starred) fail("cannot use starred expression here", expr.span);
  }

  // Statements: https://docs.python.org/3/reference/compound_stmts.html
  void parse_statement(std::vector<StmtPtr> &out);
  bool at_match_statement() const;
  void parse_simple_statements(std::vector<StmtPtr> &out);
  StmtPtr parse_simple_statement();
  StmtPtr parse_expression_statement();
  StmtPtr parse_return();
  StmtPtr parse_assert();
  StmtPtr parse_if();
  StmtPtr parse_while();
  StmtPtr parse_for();
  StmtPtr parse_function_def();
  void parse_else_block(Stmt &stmt);
  std::vector<StmtPtr> parse_block(const std::string &owner, int owner_line);
  void parse_parameters(ast::Arguments &args, TokenKind end);
  ast::Arg parse_parameter(bool annotated);

  // Targets of assignments and for loops.
  ExprPtr parse_target_list();
  void check_assign_target(const Expr &target, bool top_level) const;
  void check_single_target(const Expr &target, const std::string &context) const;

  // Expressions: https://docs.python.org/3/reference/expressions.html
  ExprPtr parse_star_expressions();
  ExprPtr parse_star_expression();
  ExprPtr parse_named_expression();
  ExprPtr parse_expression();
  ExprPtr parse_lambda();
  ExprPtr parse_disjunction();
  ExprPtr parse_conjunction();
  ExprPtr parse_bool_op(TokenKind keyword, const char *op, ExprPtr (Parser::*operand)());
  ExprPtr parse_inversion();
  ExprPtr parse_comparison();
  ExprPtr parse_binary(int level);
  ExprPtr parse_factor();
  ExprPtr parse_power();
  ExprPtr parse_primary();
  ExprPtr parse_atom();
  ExprPtr parse_parenthesized();
  ExprPtr parse_list();
  ExprPtr parse_dict();
  ExprPtr parse_strings();
  ExprPtr parse_fstring_field();
  ExprPtr parse_number();
  ExprPtr parse_slices();
  ExprPtr parse_slice();
  void parse_call_arguments(Expr &call);

  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int last_end_line_ = 1;
  int last_end_col_ = 0;
  int expression_depth_ = 0;
  int statement_depth_ = 0;
};

const Token &Parser::advance() {
  const Token &token = peek();
  if (pos_ + 1 < tokens_.size()) ++pos_;
  // Layout tokens never end a node: a statement ends at its last real token.
  switch (token.kind) {
  case TokenKind::Newline:
  case TokenKind::Indent:
  case TokenKind::Dedent:
  case TokenKind::EndOfFile:
    break;
  default:
    last_end_line_ = token.span.end_line;
    last_end_col_ = token.span.end_col;
  }
  return token;
}

bool Parser::eat(TokenKind kind) {
  if (!at(kind)) return false;
  advance();
  return true;
}

const Token &Parser::expect(TokenKind kind) {
  if (at(kind)) return advance();
  if (at(TokenKind::ColonEqual) || at(TokenKind::KwFor) || at(TokenKind::KwAsync))
    reject_walrus_or_comprehension();
  fail("expected " + describe(kind), peek().span);
}

void Parser::fail_unexpected(const Token &token) const {
  switch (token.kind) {
  case TokenKind::Indent:
    fail("unexpected indent", token.span);
  case TokenKind::Dedent:
    fail("unindent does not match any outer indentation level", token.span);
  case TokenKind::ColonEqual:
    reject_walrus_or_comprehension();
    break;
  case TokenKind::KwYield:
    unsupported("yield expression", token.span);
  case TokenKind::KwAwait:
    unsupported("await expression", token.span);
  case TokenKind::Newline:
  case TokenKind::EndOfFile:
    fail("expected an expression", token.span);
  default:
    break;
  }
  fail("invalid syntax", token.span);
}

/// Called where a comprehension's `for` or a `:=` may stand after an element.
void Parser::reject_walrus_or_comprehension() const {
  const Token &token = peek();
  if (token.kind == TokenKind::ColonEqual) unsupported("assignment expression (:=)", token.span);
  if (token.kind == TokenKind::KwFor || token.kind == TokenKind::KwAsync)
    unsupported("comprehension", token.span);
}

ast::Module Parser::parse_module() {
  ast::Module module;
  while (!at(TokenKind::EndOfFile))
    parse_statement(module.body);
  return module;
}

/// Stands at the first token of a statement.
void Parser::parse_statement(std::vector<StmtPtr> &out) {
  const Token &token = peek();
  switch (token.kind) {
  case TokenKind::At:
  case TokenKind::KwDef:
    out.push_back(parse_function_def());
    return;
  case TokenKind::KwIf:
    out.push_back(parse_if());
    return;
  case TokenKind::KwWhile:
    out.push_back(parse_while());
    return;
  case TokenKind::KwFor:
    out.push_back(parse_for());
    return;
  case TokenKind::KwClass:
    unsupported("class definition", token.span);
  case TokenKind::KwWith:
    unsupported("'with' statement", token.span);
  case TokenKind::KwTry:
    unsupported("'try' statement", token.span);
  case TokenKind::KwAsync:
    unsupported("async code", token.span);
  case TokenKind::Indent:
    fail("unexpected indent", token.span);
  default:
    break;
  }
  if (at_match_statement()) unsupported("match statement", token.span);
  parse_simple_statements(out);
}

/// `match` is a soft keyword: it starts a match statement only when the
/// logical line ends in a colon and `match` is not itself annotated or
/// assigned to.
bool Parser::at_match_statement() const {
  if (!at(TokenKind::Name) || peek().text != "match") return false;
  TokenKind next = peek(1).kind;
  if (next == TokenKind::Colon || next == TokenKind::Equal || augmented_operator(next) ||
      next == TokenKind::Newline)
    return false;
  for (size_t i = pos_ + 1; i < tokens_.size(); ++i) {
    if (tokens_[i].kind != TokenKind::Newline) continue;
    return tokens_[i - 1].kind == TokenKind::Colon;
  }
  return false;
}

/// simple_stmts: simple_stmt (';' simple_stmt)* [';'] NEWLINE
void Parser::parse_simple_statements(std::vector<StmtPtr> &out) {
  while (true) {
    out.push_back(parse_simple_statement());
    if (!eat(TokenKind::Semicolon) || at(TokenKind::Newline)) break;
  }
  if (!eat(TokenKind::Newline)) fail_unexpected(peek());
}

StmtPtr Parser::parse_simple_statement() {
  const Token &token = peek();
  switch (token.kind) {
  case TokenKind::KwPass:
  case TokenKind::KwBreak:
  case TokenKind::KwContinue: {
    StmtKind kind = token.kind == TokenKind::KwPass    ? StmtKind::Pass
                    : token.kind == TokenKind::KwBreak ? StmtKind::Break
                                                       : StmtKind::Continue;
    advance();
    return std::make_unique<Stmt>(kind, token.span);
  }
  case TokenKind::KwReturn:
    return parse_return();
  case TokenKind::KwAssert:
    return parse_assert();
  case TokenKind::KwImport:
  case TokenKind::KwFrom:
    unsupported("import statement", token.span);
  case TokenKind::KwDel:
    unsupported("'del' statement", token.span);
  case TokenKind::KwGlobal:
    unsupported("'global' statement", token.span);
  case TokenKind::KwNonlocal:
    unsupported("'nonlocal' statement", token.span);
  case TokenKind::KwRaise:
    unsupported("'raise' statement", token.span);
  default:
    return parse_expression_statement();
  }
}

/// Expression statements and the three kinds of assignment, which all begin
/// with an expression: https://docs.python.org/3/reference/simple_stmts.html
StmtPtr Parser::parse_expression_statement() {
  const Token &start = peek();
  ExprPtr first = parse_star_expressions();

  if (eat(TokenKind::Colon)) {
    check_single_target(*first, "annotated");
    auto stmt = std::make_unique<Stmt>(StmtKind::AnnAssign);
    stmt->targets.push_back(std::move(first));
    stmt->msg = parse_expression();
    if (eat(TokenKind::Equal)) stmt->value = parse_star_expressions();
    stmt->span = span_from(start);
    return stmt;
  }

  if (const char *op = augmented_operator(peek().kind)) {
    check_single_target(*first, "augmented");
    advance();
    auto stmt = std::make_unique<Stmt>(StmtKind::AugAssign);
    stmt->op = op;
    stmt->targets.push_back(std::move(first));
    stmt->value = parse_star_expressions();
    stmt->span = span_from(start);
    return stmt;
  }

  if (at(TokenKind::Equal)) {
    auto stmt = std::make_unique<Stmt>(StmtKind::Assign);
    ExprPtr value = std::move(first);
    while (eat(TokenKind::Equal)) {
      check_assign_target(*value, true);
      stmt->targets.push_back(std::move(value));
      value = parse_star_expressions();
    }
    reject_lone_starred(*value);
    stmt->value = std::move(value);
    stmt->span = span_from(start);
    return stmt;
  }

  if (at(TokenKind::ColonEqual)) reject_walrus_or_comprehension();
  reject_lone_starred(*first);
  auto stmt = std::make_unique<Stmt>(StmtKind::Expr);
  stmt->value = std::move(first);
  stmt->span = span_from(start);
  return stmt;
}

/// return_stmt: 'return' [star_expressions]
StmtPtr Parser::parse_return() {
  const Token &start = advance();
  auto stmt = std::make_unique<Stmt>(StmtKind::Return);
  if (starts_expression(peek().kind)) stmt->value = parse_star_expressions();
  stmt->span = span_from(start);
  return stmt;
}

/// assert_stmt: 'assert' expression [',' expression]
StmtPtr Parser::parse_assert() {
  const Token &start = advance();
  auto stmt = std::make_unique<Stmt>(StmtKind::Assert);
  stmt->test = parse_expression();
  if (eat(TokenKind::Comma)) stmt->msg = parse_expression();
  stmt->span = span_from(start);
  return stmt;
}

/// Stands at `if` or `elif`; an `elif` chain becomes nested Ifs in `orelse`.
StmtPtr Parser::parse_if() {
  const Token &start = advance();
  std::string owner = start.kind == TokenKind::KwIf ? "'if' statement" : "'elif' statement";
  auto stmt = std::make_unique<Stmt>(StmtKind::If);
  stmt->test = parse_named_expression();
  expect(TokenKind::Colon);
  stmt->body = parse_block(owner, start.span.line);
  if (at(TokenKind::KwElif)) {
    Nesting nesting = nest_statement();
    stmt->orelse.push_back(parse_if());
  } else {
    parse_else_block(*stmt);
  }
  stmt->span = span_from(start);
  return stmt;
}

/// while_stmt: 'while' named_expression ':' block [else_block]
StmtPtr Parser::parse_while() {
  const Token &start = advance();
  auto stmt = std::make_unique<Stmt>(StmtKind::While);
  stmt->test = parse_named_expression();
  expect(TokenKind::Colon);
  stmt->body = parse_block("'while' statement", start.span.line);
  parse_else_block(*stmt);
  stmt->span = span_from(start);
  return stmt;
}

/// for_stmt: 'for' star_targets 'in' star_expressions ':' block [else_block]
StmtPtr Parser::parse_for() {
  const Token &start = advance();
  auto stmt = std::make_unique<Stmt>(StmtKind::For);
  ExprPtr target = parse_target_list();
  check_assign_target(*target, true);
  stmt->targets.push_back(std::move(target));
  expect(TokenKind::KwIn);
  stmt->test = parse_star_expressions();
  expect(TokenKind::Colon);
  stmt->body = parse_block("'for' statement", start.span.line);
  parse_else_block(*stmt);
  stmt->span = span_from(start);
  return stmt;
}

void Parser::parse_else_block(Stmt &stmt) {
  if (!at(TokenKind::KwElse)) return;
  int line = advance().span.line;
  expect(TokenKind::Colon);
  stmt.orelse = parse_block("'else' statement", line);
}

/// Stands after the colon of a compound statement.
/// block: NEWLINE INDENT statements DEDENT | simple_stmts
std::vector<StmtPtr> Parser::parse_block(const std::string &owner, int owner_line) {
  std::vector<StmtPtr> body;
  if (!eat(TokenKind::Newline)) {
    parse_simple_statements(body);
    return body;
  }
  if (!eat(TokenKind::Indent))
    fail("expected an indented block after " + owner + " on line " + std::to_string(owner_line),
         peek().span);
  Nesting nesting = nest_statement();
  while (!eat(TokenKind::Dedent))
    parse_statement(body);
  return body;
}

/// Stands at the first decorator or at `def`.
/// function_def: decorators 'def' NAME '(' [params] ')' ['->' expression] ':' block
StmtPtr Parser::parse_function_def() {
  std::vector<ExprPtr> decorators;
  while (eat(TokenKind::At)) {
    // Python has already run the decorator (`@helion.kernel(configs=[...
    // for ...])`), and the compiler never reads it: one beyond the subset
    // (a comprehension, a lambda) is skipped rather than refused.
    size_t start = pos_;
    try {
      decorators.push_back(parse_named_expression());
    } catch (const UserError &) {
      pos_ = start;
      while (!at(TokenKind::Newline) && !at(TokenKind::EndOfFile))
        advance();
    }
    if (!eat(TokenKind::Newline)) fail_unexpected(peek());
  }
  if (at(TokenKind::KwClass)) unsupported("class definition", peek().span);
  if (at(TokenKind::KwAsync)) unsupported("async code", peek().span);
  const Token &start = expect(TokenKind::KwDef);
  auto stmt = std::make_unique<Stmt>(StmtKind::FunctionDef);
  stmt->decorators = std::move(decorators);
  stmt->name = expect(TokenKind::Name).text;
  expect(TokenKind::LParen);
  parse_parameters(stmt->args, TokenKind::RParen);
  expect(TokenKind::RParen);
  if (eat(TokenKind::Arrow)) stmt->returns = parse_expression();
  expect(TokenKind::Colon);
  stmt->body = parse_block("function definition", start.span.line);
  stmt->span = span_from(start);
  return stmt;
}

/// Stands after a def's opening parenthesis or after `lambda`; stops at `end`
/// (the closing parenthesis, or a lambda's colon, whose parameters take no
/// annotations).
/// https://docs.python.org/3/reference/compound_stmts.html#function-definitions
void Parser::parse_parameters(ast::Arguments &args, TokenKind end) {
  bool annotated = end == TokenKind::RParen;
  std::set<std::string> names;
  auto check_duplicate = [&](const ast::Arg &arg) {
    if (!names.insert(arg.name).second)
      fail("duplicate argument '" + arg.name + "' in function definition", arg.span);
  };
  bool seen_slash = false;
  bool seen_star = false;
  bool bare_star = false;
  while (!at(end)) {
    const Token &token = peek();
    if (token.kind == TokenKind::Slash) {
      if (seen_slash) fail("/ may appear only once", token.span);
      if (seen_star) fail("/ must be ahead of *", token.span);
      if (args.args.empty()) fail("at least one argument must precede /", token.span);
      advance();
      seen_slash = true;
      args.posonlyargs = std::move(args.args);
      args.args.clear();
    } else if (token.kind == TokenKind::Star) {
      if (seen_star) fail("* argument may appear only once", token.span);
      advance();
      seen_star = true;
      if (at(TokenKind::Name)) {
        args.vararg = std::make_unique<ast::Arg>(parse_parameter(annotated));
        check_duplicate(*args.vararg);
      } else {
        bare_star = true;
        if (!at(TokenKind::Comma)) fail("named arguments must follow bare *", token.span);
      }
    } else if (token.kind == TokenKind::DoubleStar) {
      advance();
      args.kwarg = std::make_unique<ast::Arg>(parse_parameter(annotated));
      check_duplicate(*args.kwarg);
      eat(TokenKind::Comma);
      if (!at(end)) fail("arguments cannot follow var-keyword argument", peek().span);
      break;
    } else {
      ast::Arg arg = parse_parameter(annotated);
      check_duplicate(arg);
      ExprPtr default_value;
      if (eat(TokenKind::Equal)) default_value = parse_expression();
      if (seen_star) {
        bare_star = false;
        args.kwonlyargs.push_back(std::move(arg));
        args.kw_defaults.push_back(std::move(default_value));
      } else {
        if (!default_value && !args.defaults.empty())
          fail("parameter without a default follows parameter with a default", arg.span);
        args.args.push_back(std::move(arg));
        if (default_value) args.defaults.push_back(std::move(default_value));
      }
    }
    if (!eat(TokenKind::Comma)) break;
  }
  if (bare_star) fail("named arguments must follow bare *", peek().span);
}

/// param: NAME [':' expression] (a lambda's: NAME)
ast::Arg Parser::parse_parameter(bool annotated) {
  const Token &start = expect(TokenKind::Name);
  ast::Arg arg;
  arg.name = start.text;
  if (annotated && eat(TokenKind::Colon)) arg.annotation = parse_expression();
  arg.span = span_from(start);
  return arg;
}

/// For-loop targets: star_targets, parsed at the precedence of `|` so the
/// `in` that follows is not taken for a comparison.
ExprPtr Parser::parse_target_list() {
  const Token &start = peek();
  auto parse_one = [&]() -> ExprPtr {
    const Token &item = peek();
    if (!eat(TokenKind::Star)) return parse_binary(0);
    auto starred = make_expr(ExprKind::Starred, {});
    starred->value = parse_binary(0);
    starred->span = span_from(item);
    seal(*starred);
    return starred;
  };
  ExprPtr first = parse_one();
  if (!at(TokenKind::Comma)) return first;
  auto tuple = make_expr(ExprKind::Tuple, {});
  tuple->elts.push_back(std::move(first));
  while (eat(TokenKind::Comma) && !at(TokenKind::KwIn))
    tuple->elts.push_back(parse_one());
  tuple->span = span_from(start);
  seal(*tuple);
  return tuple;
}

void Parser::check_assign_target(const Expr &target, bool top_level) const {
  switch (target.kind) {
  case ExprKind::Name:
  case ExprKind::Attribute:
  case ExprKind::Subscript:
    return;
  case ExprKind::Starred:
    if (top_level) fail("starred assignment target must be in a list or tuple", target.span);
    check_assign_target(*target.value, false);
    return;
  case ExprKind::Tuple:
  case ExprKind::List: {
    bool seen_starred = false;
    for (const ExprPtr &elt : target.elts) {
      if (elt->kind == ExprKind::Starred) {
        if (seen_starred) fail("multiple starred expressions in assignment", elt->span);
        seen_starred = true;
      }
      check_assign_target(*elt, false);
    }
    return;
  }
  default:
    fail("cannot assign to " + describe_target(target), target.span);
  }
}

/// Annotated and augmented assignments take one plain target.
void Parser::check_single_target(const Expr &target, const std::string &context) const {
  if (target.kind == ExprKind::Name || target.kind == ExprKind::Attribute ||
      target.kind == ExprKind::Subscript)
    return;
  if (context == "annotated" && target.kind == ExprKind::Tuple)
    fail("only single target (not tuple) can be annotated", target.span);
  if (context == "annotated" && target.kind == ExprKind::List)
    fail("only single target (not list) can be annotated", target.span);
  if (context == "annotated") fail("illegal target for annotation", target.span);
  fail("'" + describe_target(target) + "' is an illegal expression for augmented assignment",
       target.span);
}

/// star_expressions: star_expression (',' star_expression)* [',']
/// Several expressions form a Tuple spanning them and any trailing comma.
ExprPtr Parser::parse_star_expressions() {
  const Token &start = peek();
  ExprPtr first = parse_star_expression();
  if (!at(TokenKind::Comma)) return first;
  auto tuple = make_expr(ExprKind::Tuple, {});
  tuple->elts.push_back(std::move(first));
  while (eat(TokenKind::Comma) && starts_expression(peek().kind))
    tuple->elts.push_back(parse_star_expression());
  tuple->span = span_from(start);
  seal(*tuple);
  return tuple;
}

/// star_expression: '*' bitwise_or | expression
ExprPtr Parser::parse_star_expression() {
  const Token &start = peek();
  if (!eat(TokenKind::Star)) return parse_expression();
  auto starred = make_expr(ExprKind::Starred, {});
  starred->value = parse_binary(0);
  starred->span = span_from(start);
  seal(*starred);
  return starred;
}

/// An expression where Python would also accept `name := value`.
ExprPtr Parser::parse_named_expression() {
  ExprPtr expr = parse_expression();
  if (at(TokenKind::ColonEqual)) reject_walrus_or_comprehension();
  return expr;
}

/// expression: disjunction 'if' disjunction 'else' expression | disjunction | lambdef
ExprPtr Parser::parse_expression() {
  Nesting nesting = nest_expression();
  if (at(TokenKind::KwLambda)) return parse_lambda();
  const Token &start = peek();
  ExprPtr body = parse_disjunction();
  if (!eat(TokenKind::KwIf)) return body;
  auto ifexp = make_expr(ExprKind::IfExp, {});
  ifexp->right = std::move(body);
  ifexp->left = parse_disjunction();
  if (!eat(TokenKind::KwElse)) fail("expected 'else' after 'if' expression", peek().span);
  ifexp->extra = parse_expression();
  ifexp->span = span_from(start);
  seal(*ifexp);
  return ifexp;
}

/// lambdef: 'lambda' [lambda_params] ':' expression, the parameters as a
/// def's without annotations. Defaults are refused: the tree keeps a
/// lambda's subexpressions in its body only.
ExprPtr Parser::parse_lambda() {
  const Token &start = advance();
  auto lambda = make_expr(ExprKind::Lambda, {});
  lambda->arguments = std::make_unique<ast::Arguments>();
  const size_t first = pos_;
  parse_parameters(*lambda->arguments, TokenKind::Colon);
  const ast::Arguments &args = *lambda->arguments;
  bool has_default = !args.defaults.empty();
  for (const ExprPtr &d : args.kw_defaults)
    has_default = has_default || d != nullptr;
  if (has_default) {
    SourceSpan at = peek().span;
    for (size_t i = first; i < pos_; ++i)
      if (tokens_[i].kind == TokenKind::Equal) {
        at = tokens_[i].span;
        break;
      }
    unsupported("a default value of a lambda parameter", at);
  }
  expect(TokenKind::Colon);
  lambda->value = parse_expression();
  lambda->span = span_from(start);
  seal(*lambda);
  return lambda;
}

/// disjunction: conjunction ('or' conjunction)*
ExprPtr Parser::parse_disjunction() {
  return parse_bool_op(TokenKind::KwOr, "Or", &Parser::parse_conjunction);
}

/// conjunction: inversion ('and' inversion)*
ExprPtr Parser::parse_conjunction() {
  return parse_bool_op(TokenKind::KwAnd, "And", &Parser::parse_inversion);
}

/// operand (keyword operand)*: one BoolOp for the whole chain, as Python builds it.
ExprPtr Parser::parse_bool_op(TokenKind keyword, const char *op, ExprPtr (Parser::*operand)()) {
  const Token &start = peek();
  ExprPtr first = (this->*operand)();
  if (!at(keyword)) return first;
  auto boolop = make_expr(ExprKind::BoolOp, {});
  boolop->op = op;
  boolop->elts.push_back(std::move(first));
  while (eat(keyword))
    boolop->elts.push_back((this->*operand)());
  boolop->span = span_from(start);
  seal(*boolop);
  return boolop;
}

/// inversion: 'not' inversion | comparison
ExprPtr Parser::parse_inversion() {
  const Token &start = peek();
  if (!at(TokenKind::KwNot)) return parse_comparison();
  Nesting nesting = nest_expression();
  advance();
  auto unary = make_expr(ExprKind::UnaryOp, {});
  unary->op = "Not";
  unary->extra = parse_inversion();
  unary->span = span_from(start);
  seal(*unary);
  return unary;
}

/// comparison: bitwise_or (compare_op bitwise_or)*
/// `not in` and `is not` are two tokens each.
ExprPtr Parser::parse_comparison() {
  const Token &start = peek();
  ExprPtr left = parse_binary(0);
  ExprPtr compare;
  while (true) {
    std::string op;
    if (at(TokenKind::KwNot) && peek(1).kind == TokenKind::KwIn) {
      advance();
      op = "NotIn";
    } else if (at(TokenKind::KwIs) && peek(1).kind == TokenKind::KwNot) {
      advance();
      op = "IsNot";
    } else if (const char *name = comparison_operator(peek().kind)) {
      op = name;
    } else {
      break;
    }
    advance();
    if (!compare) {
      compare = make_expr(ExprKind::Compare, {});
      compare->left = std::move(left);
    }
    compare->ops.push_back(op);
    compare->comparators.push_back(parse_binary(0));
  }
  if (!compare) return left;
  compare->span = span_from(start);
  seal(*compare);
  return compare;
}

/// The left-associative levels from `|` down to `* / // % @`.
ExprPtr Parser::parse_binary(int level) {
  if (level == kNumBinaryLevels) return parse_factor();
  const Token &start = peek();
  ExprPtr left = parse_binary(level + 1);
  while (true) {
    const char *op = nullptr;
    for (const BinaryOperator &candidate : kBinaryLevels[level].ops)
      if (at(candidate.token)) op = candidate.name;
    if (!op) return left;
    advance();
    auto binop = make_expr(ExprKind::BinOp, {});
    binop->op = op;
    binop->left = std::move(left);
    binop->right = parse_binary(level + 1);
    binop->span = span_from(start);
    seal(*binop);
    left = std::move(binop);
  }
}

/// factor: ('+' | '-' | '~') factor | power
ExprPtr Parser::parse_factor() {
  const Token &start = peek();
  const char *op = start.kind == TokenKind::Plus    ? "UAdd"
                   : start.kind == TokenKind::Minus ? "USub"
                   : start.kind == TokenKind::Tilde ? "Invert"
                                                    : nullptr;
  if (!op) return parse_power();
  Nesting nesting = nest_expression();
  advance();
  auto unary = make_expr(ExprKind::UnaryOp, {});
  unary->op = op;
  unary->extra = parse_factor();
  unary->span = span_from(start);
  seal(*unary);
  return unary;
}

/// power: primary '**' factor | primary
/// The right operand is a factor, so `2 ** -1` parses and `-a ** b` is
/// `-(a ** b)`.
ExprPtr Parser::parse_power() {
  const Token &start = peek();
  ExprPtr base = parse_primary();
  if (!eat(TokenKind::DoubleStar)) return base;
  Nesting nesting = nest_expression();
  auto binop = make_expr(ExprKind::BinOp, {});
  binop->op = "Pow";
  binop->left = std::move(base);
  binop->right = parse_factor();
  binop->span = span_from(start);
  seal(*binop);
  return binop;
}

/// primary: atom ('.' NAME | '(' [arguments] ')' | '[' slices ']')*
ExprPtr Parser::parse_primary() {
  const Token &start = peek();
  ExprPtr expr = parse_atom();
  while (true) {
    if (eat(TokenKind::Dot)) {
      auto attribute = make_expr(ExprKind::Attribute, {});
      attribute->id = expect(TokenKind::Name).text;
      attribute->value = std::move(expr);
      attribute->span = span_from(start);
      seal(*attribute);
      expr = std::move(attribute);
    } else if (eat(TokenKind::LParen)) {
      auto call = make_expr(ExprKind::Call, {});
      call->func = std::move(expr);
      parse_call_arguments(*call);
      expect(TokenKind::RParen);
      call->span = span_from(start);
      seal(*call);
      expr = std::move(call);
    } else if (eat(TokenKind::LBracket)) {
      auto subscript = make_expr(ExprKind::Subscript, {});
      subscript->value = std::move(expr);
      subscript->slice = parse_slices();
      expect(TokenKind::RBracket);
      subscript->span = span_from(start);
      seal(*subscript);
      expr = std::move(subscript);
    } else {
      return expr;
    }
  }
}

/// Stands after '('; stops at ')'.
/// args: (starred_expression | named_expression | kwarg) (',' ...)* [',']
void Parser::parse_call_arguments(Expr &call) {
  std::set<std::string> keyword_names;
  bool seen_keyword = false;
  bool seen_double_star = false;
  while (!at(TokenKind::RParen)) {
    const Token &start = peek();
    if (eat(TokenKind::Star)) {
      if (seen_double_star)
        fail("iterable argument unpacking follows keyword argument unpacking", start.span);
      auto starred = make_expr(ExprKind::Starred, {});
      starred->value = parse_expression();
      starred->span = span_from(start);
      seal(*starred);
      call.elts.push_back(std::move(starred));
    } else if (eat(TokenKind::DoubleStar)) {
      ast::Keyword keyword;
      keyword.value = parse_expression();
      keyword.span = span_from(start);
      call.keywords.push_back(std::move(keyword));
      seen_double_star = true;
    } else if (at(TokenKind::Name) && peek(1).kind == TokenKind::Equal) {
      ast::Keyword keyword;
      keyword.arg = advance().text;
      advance();
      if (!keyword_names.insert(keyword.arg).second)
        fail("keyword argument repeated: " + keyword.arg, start.span);
      keyword.value = parse_expression();
      keyword.span = span_from(start);
      call.keywords.push_back(std::move(keyword));
      seen_keyword = true;
    } else {
      ExprPtr arg = parse_named_expression();
      if (at(TokenKind::KwFor) || at(TokenKind::KwAsync)) reject_walrus_or_comprehension();
      if (at(TokenKind::Equal))
        fail("expression cannot contain assignment, perhaps you meant \"==\"?", arg->span);
      if (seen_double_star)
        fail("positional argument follows keyword argument unpacking", arg->span);
      if (seen_keyword) fail("positional argument follows keyword argument", arg->span);
      call.elts.push_back(std::move(arg));
    }
    if (!eat(TokenKind::Comma)) break;
  }
}

/// Stands after '['; stops at ']'.
/// slices: slice !',' | ','.(slice | starred_expression)+ [',']
ExprPtr Parser::parse_slices() {
  const Token &start = peek();
  auto parse_one = [&]() -> ExprPtr {
    const Token &item = peek();
    if (!eat(TokenKind::Star)) return parse_slice();
    auto starred = make_expr(ExprKind::Starred, {});
    starred->value = parse_binary(0);
    starred->span = span_from(item);
    seal(*starred);
    return starred;
  };
  ExprPtr first = parse_one();
  if (!at(TokenKind::Comma)) return first;
  auto tuple = make_expr(ExprKind::Tuple, {});
  tuple->elts.push_back(std::move(first));
  while (eat(TokenKind::Comma) && !at(TokenKind::RBracket))
    tuple->elts.push_back(parse_one());
  tuple->span = span_from(start);
  seal(*tuple);
  return tuple;
}

/// slice: [expression] ':' [expression] [':' [expression]] | named_expression
ExprPtr Parser::parse_slice() {
  const Token &start = peek();
  ExprPtr lower;
  if (!at(TokenKind::Colon)) {
    lower = parse_named_expression();
    if (!at(TokenKind::Colon)) return lower;
  }
  advance();
  auto slice = make_expr(ExprKind::Slice, {});
  slice->left = std::move(lower);
  auto at_part_end = [&]() {
    return at(TokenKind::Colon) || at(TokenKind::Comma) || at(TokenKind::RBracket);
  };
  if (!at_part_end()) slice->right = parse_expression();
  if (eat(TokenKind::Colon) && !at_part_end()) slice->extra = parse_expression();
  slice->span = span_from(start);
  seal(*slice);
  return slice;
}

/// atom: NAME | True | False | None | strings | NUMBER | '...'
///     | tuple | group | list | dict
ExprPtr Parser::parse_atom() {
  const Token &token = peek();
  switch (token.kind) {
  case TokenKind::Name: {
    advance();
    auto name = make_expr(ExprKind::Name, token.span);
    name->id = token.text;
    return name;
  }
  case TokenKind::KwTrue:
  case TokenKind::KwFalse:
  case TokenKind::KwNone:
  case TokenKind::Ellipsis: {
    advance();
    auto constant = make_expr(ExprKind::Constant, token.span);
    constant->constant.kind = token.kind == TokenKind::KwNone     ? ast::ConstantKind::None
                              : token.kind == TokenKind::Ellipsis ? ast::ConstantKind::Ellipsis
                                                                  : ast::ConstantKind::Bool;
    constant->constant.bool_value = token.kind == TokenKind::KwTrue;
    constant->constant.spelling = token.text;
    return constant;
  }
  case TokenKind::Int:
  case TokenKind::Float:
  case TokenKind::Imaginary:
    return parse_number();
  case TokenKind::String:
    return parse_strings();
  case TokenKind::LParen:
    return parse_parenthesized();
  case TokenKind::LBracket:
    return parse_list();
  case TokenKind::LBrace:
    return parse_dict();
  default:
    fail_unexpected(token);
  }
}

/// Stands at '('. A parenthesized expression keeps its own span; a tuple
/// display spans its parentheses.
ExprPtr Parser::parse_parenthesized() {
  const Token &start = advance();
  if (eat(TokenKind::RParen)) {
    auto tuple = make_expr(ExprKind::Tuple, span_from(start));
    return tuple;
  }
  if (at(TokenKind::KwYield)) unsupported("yield expression", peek().span);
  ExprPtr first = parse_star_expression();
  reject_walrus_or_comprehension();
  if (eat(TokenKind::RParen)) {
    if (first->kind == ExprKind::Starred) fail("cannot use starred expression here", first->span);
    return first;
  }
  auto tuple = make_expr(ExprKind::Tuple, {});
  tuple->elts.push_back(std::move(first));
  while (eat(TokenKind::Comma) && !at(TokenKind::RParen)) {
    tuple->elts.push_back(parse_star_expression());
    reject_walrus_or_comprehension();
  }
  expect(TokenKind::RParen);
  tuple->span = span_from(start);
  seal(*tuple);
  return tuple;
}

/// Stands at '['.
/// list: '[' [star_named_expression (',' star_named_expression)* [',']] ']'
ExprPtr Parser::parse_list() {
  const Token &start = advance();
  auto list = make_expr(ExprKind::List, {});
  while (!at(TokenKind::RBracket)) {
    list->elts.push_back(parse_star_expression());
    reject_walrus_or_comprehension();
    if (!eat(TokenKind::Comma)) break;
  }
  expect(TokenKind::RBracket);
  list->span = span_from(start);
  seal(*list);
  return list;
}

/// Stands at '{'. Only dict displays are in the subset.
/// dict: '{' [(expression ':' expression | '**' bitwise_or) (',' ...)* [',']] '}'
ExprPtr Parser::parse_dict() {
  const Token &start = advance();
  auto dict = make_expr(ExprKind::Dict, {});
  while (!at(TokenKind::RBrace)) {
    if (eat(TokenKind::DoubleStar)) {
      dict->keys.push_back(nullptr);
      dict->elts.push_back(parse_binary(0));
    } else {
      ExprPtr key = parse_star_expression();
      reject_walrus_or_comprehension();
      if (!at(TokenKind::Colon)) unsupported("set display", start.span);
      advance();
      dict->keys.push_back(std::move(key));
      dict->elts.push_back(parse_expression());
      reject_walrus_or_comprehension();
    }
    if (!eat(TokenKind::Comma)) break;
  }
  expect(TokenKind::RBrace);
  dict->span = span_from(start);
  seal(*dict);
  return dict;
}

/// Adjacent string literals are one constant; its spelling joins theirs with
/// a space so it stays valid on one line. With an f-string among them they
/// are one JoinedStr instead, spelled the same way, whose replacement fields
/// are parsed so that later stages see the code in them.
ExprPtr Parser::parse_strings() {
  const Token &start = peek();
  auto constant = make_expr(ExprKind::Constant, {});
  constant->constant.kind = ast::ConstantKind::String;
  bool joined = false;
  while (at(TokenKind::String)) {
    const Token &token = advance();
    if (token.is_bytes != start.is_bytes)
      fail("cannot mix bytes and nonbytes literals", token.span);
    if (!constant->constant.spelling.empty()) constant->constant.spelling += ' ';
    constant->constant.spelling += token.text;
    constant->constant.string_value += token.value;
    joined |= token.is_fstring;
    for (const FStringField &field : token.fields)
      constant->elts.push_back(
          Parser(tokenize_field(field), expression_depth_).parse_fstring_field());
  }
  if (joined) {
    constant->kind = ExprKind::JoinedStr;
    constant->constant.string_value.clear();
  }
  constant->span = span_from(start);
  seal(*constant);
  return constant;
}

/// Stands at the '(' that stands for a replacement field's '{' (see
/// FStringField); the field is the whole input.
ExprPtr Parser::parse_fstring_field() {
  ExprPtr value = parse_parenthesized();
  if (!at(TokenKind::Newline)) fail_unexpected(peek());
  return value;
}

ExprPtr Parser::parse_number() {
  const Token &token = advance();
  if (token.kind == TokenKind::Imaginary) unsupported("complex literal", token.span);
  auto constant = make_expr(ExprKind::Constant, token.span);
  constant->constant.spelling = token.text;
  std::string digits;
  for (char c : token.text)
    if (c != '_') digits.push_back(c);
  if (token.kind == TokenKind::Float) {
    constant->constant.kind = ast::ConstantKind::Float;
    constant->constant.float_value = std::strtod(digits.c_str(), nullptr);
    return constant;
  }
  constant->constant.kind = ast::ConstantKind::Int;
  int base = 10;
  size_t begin = 0;
  if (digits.size() > 1 && digits[0] == '0') {
    char radix = static_cast<char>(digits[1] | 0x20);
    base = radix == 'x' ? 16 : radix == 'o' ? 8 : radix == 'b' ? 2 : 10;
    if (base != 10) begin = 2;
  }
  errno = 0;
  unsigned long long value = std::strtoull(digits.c_str() + begin, nullptr, base);
  constexpr unsigned long long kMax = std::numeric_limits<int64_t>::max();
  if (errno == ERANGE || value > kMax)
    unsupported("integer literal larger than 64 bits", token.span);
  constant->constant.int_value = static_cast<int64_t>(value);
  return constant;
}

} // namespace

ast::Module parse_module(const std::string &source) {
  return Parser(tokenize(source)).parse_module();
}

} // namespace helion
