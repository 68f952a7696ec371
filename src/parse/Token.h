#pragma once

// The tokens of the kernel language, following Python's tokenizer: keywords
// and operators each have their own kind so the parser can switch on them.

#include "support/SourceSpan.h"

#include <cstdint>
#include <string>
#include <vector>

namespace helion {

enum class TokenKind {
  // Tokens with a spelling of their own.
  Name,
  Int,
  Float,
  Imaginary,
  String,
  // Layout tokens: the end of a logical line, and changes of indentation.
  Newline,
  Indent,
  Dedent,
  EndOfFile,

  // Keywords.
  KwFalse,
  KwNone,
  KwTrue,
  KwAnd,
  KwAs,
  KwAssert,
  KwAsync,
  KwAwait,
  KwBreak,
  KwClass,
  KwContinue,
  KwDef,
  KwDel,
  KwElif,
  KwElse,
  KwExcept,
  KwFinally,
  KwFor,
  KwFrom,
  KwGlobal,
  KwIf,
  KwImport,
  KwIn,
  KwIs,
  KwLambda,
  KwNonlocal,
  KwNot,
  KwOr,
  KwPass,
  KwRaise,
  KwReturn,
  KwTry,
  KwWhile,
  KwWith,
  KwYield,

  // Delimiters.
  LParen,
  RParen,
  LBracket,
  RBracket,
  LBrace,
  RBrace,
  Colon,
  Comma,
  Semicolon,
  Dot,
  Ellipsis,
  Arrow,
  At,

  // Operators.
  Plus,
  Minus,
  Star,
  DoubleStar,
  Slash,
  DoubleSlash,
  Percent,
  VBar,
  Amper,
  Circumflex,
  Tilde,
  LeftShift,
  RightShift,
  Less,
  Greater,
  LessEqual,
  GreaterEqual,
  EqEqual,
  NotEqual,
  Equal,
  ColonEqual,

  // Augmented assignment.
  PlusEqual,
  MinusEqual,
  StarEqual,
  DoubleStarEqual,
  SlashEqual,
  DoubleSlashEqual,
  PercentEqual,
  AtEqual,
  VBarEqual,
  AmperEqual,
  CircumflexEqual,
  LeftShiftEqual,
  RightShiftEqual,
};

/// A replacement field of an f-string. `source` is its expression in
/// parentheses, which is how Python compiles it: the '(' stands where the
/// '{' was and the ')' where the expression ends, so spans come out as
/// Python's do.
struct FStringField {
  std::string source;
  int line = 0;
  int col = 0;
};

struct Token {
  TokenKind kind = TokenKind::EndOfFile;
  SourceSpan span;
  /// The token as written; for strings this includes prefix and quotes.
  std::string text;
  /// String: the contents with escape sequences decoded.
  std::string value;
  bool is_bytes = false;   ///< String: a b'' literal
  bool is_fstring = false; ///< String: an f'' literal
  /// f-string: the replacement fields in source order, each field's value
  /// before the fields nested in its format spec.
  std::vector<FStringField> fields;
};

/// How a token kind reads in a diagnostic: "'('", "'def'", "newline".
std::string describe(TokenKind kind);

} // namespace helion
