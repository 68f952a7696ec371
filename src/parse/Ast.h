#pragma once

// The syntax tree of the Python subset that kernel functions are written in.
// Node and field names follow Python's `ast` module so the two trees can be
// compared node for node (see tests/cpp/ParserDifferentialTest.cpp).

#include "support/SourceSpan.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace helion::ast {

struct Expr;
struct Stmt;
using ExprPtr = std::unique_ptr<Expr>;
using StmtPtr = std::unique_ptr<Stmt>;

enum class ExprKind {
  Name,      ///< id
  Constant,  ///< constant
  Attribute, ///< value.attr
  Subscript, ///< value[slice]; a tuple index is a Tuple in `slice`
  Slice,     ///< lower:upper:step, each part optional (children may be null)
  Call,      ///< func(args..., keywords...)
  BinOp,     ///< left op right
  UnaryOp,   ///< op operand
  BoolOp,    ///< values joined by `and` / `or`
  Compare,   ///< left ops[0] comparators[0] ops[1] comparators[1] ...
  IfExp,     ///< body if test else orelse
  Tuple,     ///< elts
  List,      ///< elts
  Dict,      ///< keys / values
  Starred,   ///< *value
  Lambda,    ///< lambda args: body
  /// An f-string kept as written: `constant.spelling` holds its exact source
  /// text, prefix and quotes included (adjacent literals joined by a space);
  /// `elts` holds its replacement-field expressions in source order, those
  /// in a format spec after the field's own, with spans in the coordinates
  /// of the enclosing source so later stages can check the names they use.
  JoinedStr,
};

/// A parameter of a function definition or a lambda (a lambda's have no
/// annotation).
struct Arg {
  std::string name;
  ExprPtr annotation; ///< may be null
  SourceSpan span;
};

struct Arguments {
  std::vector<Arg> posonlyargs;
  std::vector<Arg> args;
  std::vector<ExprPtr> defaults; ///< defaults of the last len(defaults) positional args
  std::unique_ptr<Arg> vararg;   ///< *args
  std::vector<Arg> kwonlyargs;
  std::vector<ExprPtr> kw_defaults; ///< one per kwonly arg, null where none
  std::unique_ptr<Arg> kwarg;       ///< **kwargs
};

enum class ConstantKind { None, Bool, Int, Float, String, Ellipsis };

struct Constant {
  ConstantKind kind = ConstantKind::None;
  bool bool_value = false;
  int64_t int_value = 0;
  double float_value = 0.0;
  std::string string_value;
  /// The literal as written (e.g. "1e-5", "0x10"), for faithful unparsing.
  std::string spelling;
};

struct Keyword {
  std::string arg; ///< empty for **kwargs
  ExprPtr value;
  SourceSpan span;
};

/// Operators use Python's `ast` class names: "Add", "Sub", "Mult", "MatMult",
/// "Div", "FloorDiv", "Mod", "Pow", "LShift", "RShift", "BitOr", "BitXor",
/// "BitAnd" (BinOp); "UAdd", "USub", "Not", "Invert" (UnaryOp); "And", "Or"
/// (BoolOp); "Eq", "NotEq", "Lt", "LtE", "Gt", "GtE", "Is", "IsNot", "In",
/// "NotIn" (Compare).
struct Expr {
  ExprKind kind;
  SourceSpan span;
  /// Levels of expressions in this subtree, this one included. The parser
  /// keeps it under its limit so that stages may recurse over the tree.
  int height = 1;

  std::string id; ///< Name: the identifier; Attribute: the attribute name
  std::string op; ///< BinOp, UnaryOp, BoolOp: the operator
  Constant constant;

  ExprPtr value; ///< Attribute, Subscript, Starred: the base; Lambda: body
  ExprPtr slice; ///< Subscript: the index expression
  ExprPtr left;  ///< BinOp, Compare: left operand; Slice: lower; IfExp: test
  ExprPtr right; ///< BinOp: right operand; Slice: upper; IfExp: body
  ExprPtr extra; ///< Slice: step; IfExp: orelse; UnaryOp: operand
  ExprPtr func;  ///< Call: the callee

  std::vector<ExprPtr> elts;        ///< Tuple, List, BoolOp values, Call args, Dict values,
                                    ///< JoinedStr fields
  std::vector<ExprPtr> keys;        ///< Dict keys (null for `**x`)
  std::vector<std::string> ops;     ///< Compare operators
  std::vector<ExprPtr> comparators; ///< Compare right-hand operands
  std::vector<Keyword> keywords;    ///< Call keywords
  /// Lambda: its parameters. The parser refuses defaults in a lambda, so
  /// every subexpression of a lambda stays in the fields above.
  std::unique_ptr<Arguments> arguments;

  explicit Expr(ExprKind k, SourceSpan s = {}) : kind(k), span(s) {}
};

enum class StmtKind {
  Expr,      ///< value
  Assign,    ///< targets = value (several targets for a = b = value)
  AugAssign, ///< target op= value
  AnnAssign, ///< target: annotation = value (value may be null)
  For,       ///< for target in iter: body else: orelse
  While,     ///< while test: body else: orelse
  If,        ///< if test: body else: orelse (elif is a nested If in orelse)
  Return,    ///< return value (value may be null)
  Assert,    ///< assert test, msg (msg may be null)
  Pass,
  Break,
  Continue,
  FunctionDef,
};

struct Stmt {
  StmtKind kind;
  SourceSpan span;

  std::vector<ExprPtr> targets; ///< Assign targets; For, AugAssign, AnnAssign use targets[0]
  ExprPtr value;                ///< Expr, Assign, AugAssign, AnnAssign, Return value
  ExprPtr test;                 ///< If, While, Assert test; For: the iterable
  ExprPtr msg;                  ///< Assert message; AnnAssign annotation
  std::string op;               ///< AugAssign operator (BinOp spelling)
  std::vector<StmtPtr> body;
  std::vector<StmtPtr> orelse;

  // FunctionDef
  std::string name;
  Arguments args;
  std::vector<ExprPtr> decorators;
  ExprPtr returns; ///< return annotation, may be null

  explicit Stmt(StmtKind k, SourceSpan s = {}) : kind(k), span(s) {}
};

/// A parsed source file: its top-level statements.
struct Module {
  std::vector<StmtPtr> body;
};

} // namespace helion::ast
