#include "parse/Unparse.h"

#include "support/Diagnostics.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace helion {

namespace {

using ast::ConstantKind;
using ast::Expr;
using ast::ExprKind;
using ast::Stmt;
using ast::StmtKind;

// ---------------------------------------------------------------------------
// Unparsing
// ---------------------------------------------------------------------------

/// Binding strength, loosest first, as in CPython's `ast._Precedence`.
enum Precedence {
  kTuple = 1,
  kTest, // if-else, lambda
  kOr,
  kAnd,
  kNot,
  kCompare,
  kBitOr,
  kBitXor,
  kBitAnd,
  kShift,
  kArith,
  kTerm,
  kFactor, // unary + - ~
  kPower,
  kAtom,
};

Precedence binary_precedence(const std::string &op) {
  if (op == "BitOr") return kBitOr;
  if (op == "BitXor") return kBitXor;
  if (op == "BitAnd") return kBitAnd;
  if (op == "LShift" || op == "RShift") return kShift;
  if (op == "Add" || op == "Sub") return kArith;
  if (op == "Pow") return kPower;
  return kTerm;
}

const char *operator_text(const std::string &op) {
  static const std::pair<const char *, const char *> kTable[] = {
      {"Add", "+"},        {"Sub", "-"},       {"Mult", "*"},       {"MatMult", "@"},
      {"Div", "/"},        {"FloorDiv", "//"}, {"Mod", "%"},        {"Pow", "**"},
      {"LShift", "<<"},    {"RShift", ">>"},   {"BitOr", "|"},      {"BitXor", "^"},
      {"BitAnd", "&"},     {"UAdd", "+"},      {"USub", "-"},       {"Invert", "~"},
      {"Not", "not "},     {"And", " and "},   {"Or", " or "},      {"Eq", "=="},
      {"NotEq", "!="},     {"Lt", "<"},        {"LtE", "<="},       {"Gt", ">"},
      {"GtE", ">="},       {"Is", "is"},       {"IsNot", "is not"}, {"In", "in"},
      {"NotIn", "not in"},
  };
  for (const auto &entry : kTable)
    if (op == entry.first) return entry.second;
  throw InternalError("unknown operator '" + op + "'");
}

/// A Python string literal for bytes that carry no spelling of their own.
std::string quote_string(const std::string &value) {
  char quote =
      value.find('\'') != std::string::npos && value.find('"') == std::string::npos ? '"' : '\'';
  std::string out(1, quote);
  for (char c : value) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '\\' || c == quote) {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      char buffer[8];
      std::snprintf(buffer, sizeof(buffer), "\\x%02x", u);
      out += buffer;
    } else {
      out.push_back(c);
    }
  }
  out.push_back(quote);
  return out;
}

/// The shortest spelling that reads back as `value`, like Python's repr.
std::string float_literal(double value) {
  // Python has no literal for these; 1e309 overflows to inf when read.
  if (std::isinf(value)) return value > 0 ? "1e309" : "-1e309";
  if (std::isnan(value)) return "(1e309 - 1e309)";
  char buffer[32];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof(buffer), "%.*g", precision, value);
    if (std::strtod(buffer, nullptr) == value) break;
  }
  std::string text = buffer;
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

std::string constant_text(const ast::Constant &constant) {
  if (!constant.spelling.empty()) return constant.spelling;
  switch (constant.kind) {
  case ConstantKind::None:
    return "None";
  case ConstantKind::Bool:
    return constant.bool_value ? "True" : "False";
  case ConstantKind::Int:
    return std::to_string(constant.int_value);
  case ConstantKind::Float:
    return float_literal(constant.float_value);
  case ConstantKind::String:
    return quote_string(constant.string_value);
  case ConstantKind::Ellipsis:
    return "...";
  }
  return "None";
}

class Unparser {
public:
  /// `expr` as source, in parentheses if it binds looser than `required`.
  std::string expr(const Expr &e, int required);
  /// Appends `s` to `out`: appending keeps the time linear in the output
  /// however deeply blocks nest.
  void stmt(const Stmt &s, int level, std::string &out);

  explicit Unparser(int indent, const Replacements *replacements = nullptr)
      : indent_(indent), replacements_(replacements) {}

private:
  std::string expr_text(const Expr &e, int &precedence);
  std::string join(const std::vector<ast::ExprPtr> &items, int required);
  std::string tuple_items(const Expr &tuple);
  std::string slice_text(const Expr &slice);
  std::string call_text(const Expr &call);
  std::string dict_text(const Expr &dict);
  std::string arguments_text(const ast::Arguments &args);
  std::string arg_text(const ast::Arg &arg);
  void body(const std::vector<ast::StmtPtr> &stmts, int level, std::string &out);
  std::string pad(int level) const { return std::string(level * indent_, ' '); }

  int indent_;
  const Replacements *replacements_;
};

std::string Unparser::expr(const Expr &e, int required) {
  if (replacements_) {
    auto it = replacements_->find(&e);
    if (it != replacements_->end()) return it->second;
  }
  int precedence = kAtom;
  std::string text = expr_text(e, precedence);
  if (precedence < required) return "(" + text + ")";
  return text;
}

std::string Unparser::join(const std::vector<ast::ExprPtr> &items, int required) {
  std::string out;
  for (const ast::ExprPtr &item : items) {
    if (!out.empty()) out += ", ";
    out += expr(*item, required);
  }
  return out;
}

/// A tuple's items without parentheses; one item keeps its comma.
std::string Unparser::tuple_items(const Expr &tuple) {
  std::string out = join(tuple.elts, kTest);
  if (tuple.elts.size() == 1) out += ",";
  return out;
}

/// A subscript's index: tuple items may be slices, which cannot stand in
/// parentheses.
std::string Unparser::slice_text(const Expr &slice) {
  if (slice.kind != ExprKind::Tuple || slice.elts.empty()) return expr(slice, kTest);
  std::string out;
  for (const ast::ExprPtr &item : slice.elts) {
    if (!out.empty()) out += ", ";
    out += expr(*item, kTest);
  }
  if (slice.elts.size() == 1) out += ",";
  return out;
}

std::string Unparser::call_text(const Expr &call) {
  std::string out = expr(*call.func, kAtom) + "(" + join(call.elts, kTest);
  for (const ast::Keyword &keyword : call.keywords) {
    if (out.back() != '(') out += ", ";
    if (keyword.arg.empty())
      out += "**" + expr(*keyword.value, kTest);
    else
      out += keyword.arg + "=" + expr(*keyword.value, kTest);
  }
  return out + ")";
}

std::string Unparser::dict_text(const Expr &dict) {
  std::string out = "{";
  for (size_t i = 0; i < dict.elts.size(); ++i) {
    if (i > 0) out += ", ";
    if (!dict.keys[i])
      out += "**" + expr(*dict.elts[i], kBitOr);
    else
      out += expr(*dict.keys[i], kTest) + ": " + expr(*dict.elts[i], kTest);
  }
  return out + "}";
}

std::string Unparser::expr_text(const Expr &e, int &precedence) {
  switch (e.kind) {
  case ExprKind::Name:
    return e.id;
  case ExprKind::Constant: {
    std::string text = constant_text(e.constant);
    // A negative number made by a later pass reads as a unary minus.
    if (!text.empty() && text[0] == '-') precedence = kFactor;
    return text;
  }
  case ExprKind::Attribute: {
    // `1.real` would lex as a float followed by a name.
    bool int_base =
        e.value->kind == ExprKind::Constant && e.value->constant.kind == ConstantKind::Int;
    std::string base = int_base ? "(" + expr(*e.value, kAtom) + ")" : expr(*e.value, kAtom);
    return base + "." + e.id;
  }
  case ExprKind::Subscript:
    return expr(*e.value, kAtom) + "[" + slice_text(*e.slice) + "]";
  case ExprKind::Slice: {
    std::string out;
    if (e.left) out += expr(*e.left, kTest);
    out += ":";
    if (e.right) out += expr(*e.right, kTest);
    if (e.extra) out += ":" + expr(*e.extra, kTest);
    return out;
  }
  case ExprKind::Call:
    return call_text(e);
  case ExprKind::BinOp: {
    precedence = binary_precedence(e.op);
    bool pow = e.op == "Pow";
    // Left-associative operators need a tighter right operand; `**` is
    // right-associative and takes a unary operand on its right.
    int left = pow ? kAtom : precedence;
    int right = pow ? kFactor : precedence + 1;
    return expr(*e.left, left) + " " + operator_text(e.op) + " " + expr(*e.right, right);
  }
  case ExprKind::UnaryOp: {
    precedence = e.op == "Not" ? kNot : kFactor;
    return operator_text(e.op) + expr(*e.extra, precedence);
  }
  case ExprKind::BoolOp: {
    precedence = e.op == "And" ? kAnd : kOr;
    std::string out;
    for (const ast::ExprPtr &value : e.elts) {
      if (!out.empty()) out += operator_text(e.op);
      out += expr(*value, precedence + 1);
    }
    return out;
  }
  case ExprKind::Compare: {
    precedence = kCompare;
    std::string out = expr(*e.left, kBitOr);
    for (size_t i = 0; i < e.ops.size(); ++i)
      out += std::string(" ") + operator_text(e.ops[i]) + " " + expr(*e.comparators[i], kBitOr);
    return out;
  }
  case ExprKind::IfExp:
    precedence = kTest;
    return expr(*e.right, kOr) + " if " + expr(*e.left, kOr) + " else " + expr(*e.extra, kTest);
  case ExprKind::Tuple:
    if (e.elts.empty()) return "()";
    precedence = kTuple;
    return tuple_items(e);
  case ExprKind::List:
    return "[" + join(e.elts, kTest) + "]";
  case ExprKind::Dict:
    return dict_text(e);
  case ExprKind::Starred:
    return "*" + expr(*e.value, kBitOr);
  case ExprKind::Lambda: {
    precedence = kTest;
    std::string params = arguments_text(*e.arguments);
    return "lambda" + (params.empty() ? "" : " " + params) + ": " + expr(*e.value, kTest);
  }
  case ExprKind::JoinedStr:
    return e.constant.spelling;
  }
  throw InternalError("unparse: unknown expression kind");
}

std::string Unparser::arg_text(const ast::Arg &arg) {
  if (!arg.annotation) return arg.name;
  return arg.name + ": " + expr(*arg.annotation, kTest);
}

std::string Unparser::arguments_text(const ast::Arguments &args) {
  std::vector<std::string> parts;
  size_t positional = args.posonlyargs.size() + args.args.size();
  size_t first_default = positional - args.defaults.size();
  auto add_positional = [&](const ast::Arg &arg, size_t index) {
    std::string text = arg_text(arg);
    if (index >= first_default) {
      const Expr &value = *args.defaults[index - first_default];
      text += (arg.annotation ? " = " : "=") + expr(value, kTest);
    }
    parts.push_back(text);
  };
  size_t index = 0;
  for (const ast::Arg &arg : args.posonlyargs)
    add_positional(arg, index++);
  if (!args.posonlyargs.empty()) parts.push_back("/");
  for (const ast::Arg &arg : args.args)
    add_positional(arg, index++);
  if (args.vararg)
    parts.push_back("*" + arg_text(*args.vararg));
  else if (!args.kwonlyargs.empty())
    parts.push_back("*");
  for (size_t i = 0; i < args.kwonlyargs.size(); ++i) {
    std::string text = arg_text(args.kwonlyargs[i]);
    if (i < args.kw_defaults.size() && args.kw_defaults[i])
      text += (args.kwonlyargs[i].annotation ? " = " : "=") + expr(*args.kw_defaults[i], kTest);
    parts.push_back(text);
  }
  if (args.kwarg) parts.push_back("**" + arg_text(*args.kwarg));
  std::string out;
  for (const std::string &part : parts)
    out += (out.empty() ? "" : ", ") + part;
  return out;
}

void Unparser::body(const std::vector<ast::StmtPtr> &stmts, int level, std::string &out) {
  if (stmts.empty()) out += pad(level) + "pass\n";
  for (const ast::StmtPtr &s : stmts)
    stmt(*s, level, out);
}

void Unparser::stmt(const Stmt &s, int level, std::string &out) {
  std::string p = pad(level);
  auto block = [&](const std::string &header, const std::vector<ast::StmtPtr> &stmts) {
    out += p + header + ":\n";
    body(stmts, level + 1, out);
  };
  switch (s.kind) {
  case StmtKind::Expr:
    out += p + expr(*s.value, kTuple) + "\n";
    return;
  case StmtKind::Assign:
    out += p;
    for (const ast::ExprPtr &target : s.targets)
      out += expr(*target, kTuple) + " = ";
    out += expr(*s.value, kTuple) + "\n";
    return;
  case StmtKind::AugAssign:
    out += p + expr(*s.targets[0], kTest) + " " + operator_text(s.op) + "= " +
           expr(*s.value, kTuple) + "\n";
    return;
  case StmtKind::AnnAssign:
    out += p + expr(*s.targets[0], kTest) + ": " + expr(*s.msg, kTest);
    if (s.value) out += " = " + expr(*s.value, kTuple);
    out += "\n";
    return;
  case StmtKind::For:
    block("for " + expr(*s.targets[0], kTuple) + " in " + expr(*s.test, kTuple), s.body);
    if (!s.orelse.empty()) block("else", s.orelse);
    return;
  case StmtKind::While:
    block("while " + expr(*s.test, kTest), s.body);
    if (!s.orelse.empty()) block("else", s.orelse);
    return;
  case StmtKind::If: {
    block("if " + expr(*s.test, kTest), s.body);
    const Stmt *current = &s;
    // An else holding only an if reads as elif.
    while (current->orelse.size() == 1 && current->orelse[0]->kind == StmtKind::If) {
      current = current->orelse[0].get();
      block("elif " + expr(*current->test, kTest), current->body);
    }
    if (!current->orelse.empty()) block("else", current->orelse);
    return;
  }
  case StmtKind::Return:
    out += p + (s.value ? "return " + expr(*s.value, kTuple) : "return") + "\n";
    return;
  case StmtKind::Assert:
    out += p + "assert " + expr(*s.test, kTest) + (s.msg ? ", " + expr(*s.msg, kTest) : "") + "\n";
    return;
  case StmtKind::Pass:
    out += p + "pass\n";
    return;
  case StmtKind::Break:
    out += p + "break\n";
    return;
  case StmtKind::Continue:
    out += p + "continue\n";
    return;
  case StmtKind::FunctionDef: {
    for (const ast::ExprPtr &decorator : s.decorators)
      out += p + "@" + expr(*decorator, kTest) + "\n";
    std::string header = "def " + s.name + "(" + arguments_text(s.args) + ")";
    if (s.returns) header += " -> " + expr(*s.returns, kTest);
    block(header, s.body);
    return;
  }
  }
  throw InternalError("unparse: unknown statement kind");
}

// ---------------------------------------------------------------------------
// Canonical dump
// ---------------------------------------------------------------------------

/// Quotes a name or string value; bytes outside printable ASCII are escaped
/// so the text is the same whatever Python's repr would choose.
std::string dump_quote(const std::string &value) {
  std::string out = "'";
  for (char c : value) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '\\' || c == '\'') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20 || u >= 0x7f) {
      char buffer[8];
      std::snprintf(buffer, sizeof(buffer), "\\x%02x", u);
      out += buffer;
    } else {
      out.push_back(c);
    }
  }
  return out + "'";
}

std::string dump_constant(const ast::Constant &constant) {
  switch (constant.kind) {
  case ConstantKind::None:
    return "None";
  case ConstantKind::Ellipsis:
    return "Ellipsis";
  case ConstantKind::Bool:
    return constant.bool_value ? "bool:True" : "bool:False";
  case ConstantKind::Int:
    return "int:" + std::to_string(constant.int_value);
  case ConstantKind::Float: {
    char buffer[40];
    std::snprintf(buffer, sizeof(buffer), "%.17g", constant.float_value);
    return std::string("float:") + buffer;
  }
  case ConstantKind::String: {
    size_t quote = constant.spelling.find_first_of("'\"");
    std::string prefix = constant.spelling.substr(0, quote);
    bool bytes = prefix.find_first_of("bB") != std::string::npos;
    return (bytes ? "bytes:" : "str:") + dump_quote(constant.string_value);
  }
  }
  return "?";
}

class Dumper {
public:
  explicit Dumper(bool spans) : spans_(spans) {}

  void module(const ast::Module &module);
  std::string text() const { return out_; }

private:
  void line(int depth, const std::string &label, const std::string &kind, const SourceSpan *span,
            const std::string &attrs = "");
  void expr(int depth, const std::string &label, const Expr *e);
  void exprs(int depth, const std::string &field, const std::vector<ast::ExprPtr> &items);
  void stmt(int depth, const std::string &label, const Stmt &s);
  void stmts(int depth, const std::string &field, const std::vector<ast::StmtPtr> &items);
  void arg(int depth, const std::string &label, const ast::Arg &a);
  void arguments(int depth, const ast::Arguments &args);

  bool spans_;
  std::string out_;
};

void Dumper::line(int depth, const std::string &label, const std::string &kind,
                  const SourceSpan *span, const std::string &attrs) {
  out_ += std::string(2 * depth, ' ') + label + kind;
  if (span && spans_)
    out_ += " @" + std::to_string(span->line) + ":" + std::to_string(span->col) + "-" +
            std::to_string(span->end_line) + ":" + std::to_string(span->end_col);
  out_ += attrs + "\n";
}

void Dumper::exprs(int depth, const std::string &field, const std::vector<ast::ExprPtr> &items) {
  for (size_t i = 0; i < items.size(); ++i)
    expr(depth, field + "[" + std::to_string(i) + "]: ", items[i].get());
}

void Dumper::stmts(int depth, const std::string &field, const std::vector<ast::StmtPtr> &items) {
  for (size_t i = 0; i < items.size(); ++i)
    stmt(depth, field + "[" + std::to_string(i) + "]: ", *items[i]);
}

/// Field order follows Python's `_fields`; null single fields are left out
/// and null list items read "None".
void Dumper::expr(int depth, const std::string &label, const Expr *e) {
  if (!e) {
    line(depth, label, "None", nullptr);
    return;
  }
  const SourceSpan *span = &e->span;
  int d = depth + 1;
  auto child = [&](const char *field, const ast::ExprPtr &value) {
    if (value) expr(d, std::string(field) + ": ", value.get());
  };
  switch (e->kind) {
  case ExprKind::Name:
    return line(depth, label, "Name", span, " id=" + dump_quote(e->id));
  case ExprKind::Constant:
    return line(depth, label, "Constant", span, " value=" + dump_constant(e->constant));
  case ExprKind::Attribute:
    line(depth, label, "Attribute", span, " attr=" + dump_quote(e->id));
    return child("value", e->value);
  case ExprKind::Subscript:
    line(depth, label, "Subscript", span);
    child("value", e->value);
    return child("slice", e->slice);
  case ExprKind::Slice:
    line(depth, label, "Slice", span);
    child("lower", e->left);
    child("upper", e->right);
    return child("step", e->extra);
  case ExprKind::Call:
    line(depth, label, "Call", span);
    child("func", e->func);
    exprs(d, "args", e->elts);
    for (size_t i = 0; i < e->keywords.size(); ++i) {
      const ast::Keyword &keyword = e->keywords[i];
      std::string name = keyword.arg.empty() ? "None" : dump_quote(keyword.arg);
      line(d, "keywords[" + std::to_string(i) + "]: ", "keyword", &keyword.span, " arg=" + name);
      expr(d + 1, "value: ", keyword.value.get());
    }
    return;
  case ExprKind::BinOp:
    line(depth, label, "BinOp", span, " op=" + e->op);
    child("left", e->left);
    return child("right", e->right);
  case ExprKind::UnaryOp:
    line(depth, label, "UnaryOp", span, " op=" + e->op);
    return child("operand", e->extra);
  case ExprKind::BoolOp:
    line(depth, label, "BoolOp", span, " op=" + e->op);
    return exprs(d, "values", e->elts);
  case ExprKind::Compare: {
    std::string ops;
    for (const std::string &op : e->ops)
      ops += (ops.empty() ? "" : ",") + op;
    line(depth, label, "Compare", span, " ops=[" + ops + "]");
    child("left", e->left);
    return exprs(d, "comparators", e->comparators);
  }
  case ExprKind::IfExp:
    line(depth, label, "IfExp", span);
    child("test", e->left);
    child("body", e->right);
    return child("orelse", e->extra);
  case ExprKind::Tuple:
  case ExprKind::List:
    line(depth, label, e->kind == ExprKind::Tuple ? "Tuple" : "List", span);
    return exprs(d, "elts", e->elts);
  case ExprKind::Dict:
    line(depth, label, "Dict", span);
    exprs(d, "keys", e->keys);
    return exprs(d, "values", e->elts);
  case ExprKind::Starred:
    line(depth, label, "Starred", span);
    return child("value", e->value);
  case ExprKind::Lambda:
    line(depth, label, "Lambda", span);
    arguments(d, *e->arguments);
    return child("body", e->value);
  case ExprKind::JoinedStr:
    // Only the fields: the literal text is kept as written, not decoded.
    line(depth, label, "JoinedStr", span);
    return exprs(d, "values", e->elts);
  }
}

void Dumper::arg(int depth, const std::string &label, const ast::Arg &a) {
  line(depth, label, "arg", &a.span, " arg=" + dump_quote(a.name));
  if (a.annotation) expr(depth + 1, "annotation: ", a.annotation.get());
}

void Dumper::arguments(int depth, const ast::Arguments &args) {
  line(depth, "args: ", "arguments", nullptr);
  int d = depth + 1;
  for (size_t i = 0; i < args.posonlyargs.size(); ++i)
    arg(d, "posonlyargs[" + std::to_string(i) + "]: ", args.posonlyargs[i]);
  for (size_t i = 0; i < args.args.size(); ++i)
    arg(d, "args[" + std::to_string(i) + "]: ", args.args[i]);
  if (args.vararg) arg(d, "vararg: ", *args.vararg);
  for (size_t i = 0; i < args.kwonlyargs.size(); ++i)
    arg(d, "kwonlyargs[" + std::to_string(i) + "]: ", args.kwonlyargs[i]);
  exprs(d, "kw_defaults", args.kw_defaults);
  if (args.kwarg) arg(d, "kwarg: ", *args.kwarg);
  exprs(d, "defaults", args.defaults);
}

void Dumper::stmt(int depth, const std::string &label, const Stmt &s) {
  const SourceSpan *span = &s.span;
  int d = depth + 1;
  auto child = [&](const char *field, const ast::ExprPtr &value) {
    if (value) expr(d, std::string(field) + ": ", value.get());
  };
  switch (s.kind) {
  case StmtKind::Expr:
    line(depth, label, "Expr", span);
    return child("value", s.value);
  case StmtKind::Assign:
    line(depth, label, "Assign", span);
    exprs(d, "targets", s.targets);
    return child("value", s.value);
  case StmtKind::AugAssign:
    line(depth, label, "AugAssign", span, " op=" + s.op);
    child("target", s.targets[0]);
    return child("value", s.value);
  case StmtKind::AnnAssign:
    line(depth, label, "AnnAssign", span);
    child("target", s.targets[0]);
    child("annotation", s.msg);
    return child("value", s.value);
  case StmtKind::For:
    line(depth, label, "For", span);
    child("target", s.targets[0]);
    child("iter", s.test);
    stmts(d, "body", s.body);
    return stmts(d, "orelse", s.orelse);
  case StmtKind::While:
  case StmtKind::If:
    line(depth, label, s.kind == StmtKind::If ? "If" : "While", span);
    child("test", s.test);
    stmts(d, "body", s.body);
    return stmts(d, "orelse", s.orelse);
  case StmtKind::Return:
    line(depth, label, "Return", span);
    return child("value", s.value);
  case StmtKind::Assert:
    line(depth, label, "Assert", span);
    child("test", s.test);
    return child("msg", s.msg);
  case StmtKind::Pass:
    return line(depth, label, "Pass", span);
  case StmtKind::Break:
    return line(depth, label, "Break", span);
  case StmtKind::Continue:
    return line(depth, label, "Continue", span);
  case StmtKind::FunctionDef:
    line(depth, label, "FunctionDef", span, " name=" + dump_quote(s.name));
    arguments(d, s.args);
    stmts(d, "body", s.body);
    exprs(d, "decorator_list", s.decorators);
    return child("returns", s.returns);
  }
}

void Dumper::module(const ast::Module &module) {
  line(0, "", "Module", nullptr);
  stmts(1, "body", module.body);
}

} // namespace

std::string unparse(const ast::Expr &expr) {
  return Unparser(4).expr(expr, kTest);
}

std::string unparse(const ast::Stmt &stmt, int level, int indent,
                    const Replacements *replacements) {
  std::string out;
  Unparser(indent, replacements).stmt(stmt, level, out);
  return out;
}

std::string dump(const ast::Module &module, bool spans) {
  Dumper dumper(spans);
  dumper.module(module);
  return dumper.text();
}

} // namespace helion
