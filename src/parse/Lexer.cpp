#include "parse/Lexer.h"

#include "support/Diagnostics.h"
#include "support/Text.h"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <utility>

namespace helion {

namespace {

struct Spelling {
  const char *text;
  TokenKind kind;
};

// https://docs.python.org/3/reference/lexical_analysis.html#keywords
const Spelling kKeywords[] = {
    {"False", TokenKind::KwFalse},
    {"None", TokenKind::KwNone},
    {"True", TokenKind::KwTrue},
    {"and", TokenKind::KwAnd},
    {"as", TokenKind::KwAs},
    {"assert", TokenKind::KwAssert},
    {"async", TokenKind::KwAsync},
    {"await", TokenKind::KwAwait},
    {"break", TokenKind::KwBreak},
    {"class", TokenKind::KwClass},
    {"continue", TokenKind::KwContinue},
    {"def", TokenKind::KwDef},
    {"del", TokenKind::KwDel},
    {"elif", TokenKind::KwElif},
    {"else", TokenKind::KwElse},
    {"except", TokenKind::KwExcept},
    {"finally", TokenKind::KwFinally},
    {"for", TokenKind::KwFor},
    {"from", TokenKind::KwFrom},
    {"global", TokenKind::KwGlobal},
    {"if", TokenKind::KwIf},
    {"import", TokenKind::KwImport},
    {"in", TokenKind::KwIn},
    {"is", TokenKind::KwIs},
    {"lambda", TokenKind::KwLambda},
    {"nonlocal", TokenKind::KwNonlocal},
    {"not", TokenKind::KwNot},
    {"or", TokenKind::KwOr},
    {"pass", TokenKind::KwPass},
    {"raise", TokenKind::KwRaise},
    {"return", TokenKind::KwReturn},
    {"try", TokenKind::KwTry},
    {"while", TokenKind::KwWhile},
    {"with", TokenKind::KwWith},
    {"yield", TokenKind::KwYield},
};

// Longest spellings first so that the first match is the longest one.
// https://docs.python.org/3/reference/lexical_analysis.html#operators
const Spelling kOperators[] = {
    {"**=", TokenKind::DoubleStarEqual},
    {"//=", TokenKind::DoubleSlashEqual},
    {"<<=", TokenKind::LeftShiftEqual},
    {">>=", TokenKind::RightShiftEqual},
    {"...", TokenKind::Ellipsis},
    {"!=", TokenKind::NotEqual},
    {"%=", TokenKind::PercentEqual},
    {"&=", TokenKind::AmperEqual},
    {"**", TokenKind::DoubleStar},
    {"*=", TokenKind::StarEqual},
    {"+=", TokenKind::PlusEqual},
    {"-=", TokenKind::MinusEqual},
    {"->", TokenKind::Arrow},
    {"//", TokenKind::DoubleSlash},
    {"/=", TokenKind::SlashEqual},
    {":=", TokenKind::ColonEqual},
    {"<<", TokenKind::LeftShift},
    {"<=", TokenKind::LessEqual},
    {"==", TokenKind::EqEqual},
    {">=", TokenKind::GreaterEqual},
    {">>", TokenKind::RightShift},
    {"@=", TokenKind::AtEqual},
    {"^=", TokenKind::CircumflexEqual},
    {"|=", TokenKind::VBarEqual},
    {"(", TokenKind::LParen},
    {")", TokenKind::RParen},
    {"[", TokenKind::LBracket},
    {"]", TokenKind::RBracket},
    {"{", TokenKind::LBrace},
    {"}", TokenKind::RBrace},
    {":", TokenKind::Colon},
    {",", TokenKind::Comma},
    {";", TokenKind::Semicolon},
    {".", TokenKind::Dot},
    {"@", TokenKind::At},
    {"+", TokenKind::Plus},
    {"-", TokenKind::Minus},
    {"*", TokenKind::Star},
    {"/", TokenKind::Slash},
    {"%", TokenKind::Percent},
    {"|", TokenKind::VBar},
    {"&", TokenKind::Amper},
    {"^", TokenKind::Circumflex},
    {"~", TokenKind::Tilde},
    {"<", TokenKind::Less},
    {">", TokenKind::Greater},
    {"=", TokenKind::Equal},
};

/// Python's limits (Parser/tokenizer.h): MAXLEVEL open brackets, and
/// MAXINDENT entries on the indentation stack, which with the outermost
/// level leaves 99 levels of indentation. Besides matching Python they bound
/// the recursion of every stage that walks the tree.
constexpr size_t kMaxNestedBrackets = 200;
constexpr size_t kMaxIndentLevels = 99;

bool is_ident_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}

bool is_ident_char(char c) {
  return is_ident_start(c) || (c >= '0' && c <= '9');
}

bool is_digit_in_base(char c, int base) {
  switch (base) {
  case 2:
    return c == '0' || c == '1';
  case 8:
    return c >= '0' && c <= '7';
  case 10:
    return c >= '0' && c <= '9';
  default:
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

/// Python reads "\r\n" and a lone "\r" as "\n"; doing so up front keeps
/// every column a byte offset into the line as Python's `ast` counts it.
std::string normalize_newlines(const std::string &source) {
  std::string out;
  out.reserve(source.size() + 1);
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] != '\r') {
      out.push_back(source[i]);
      continue;
    }
    out.push_back('\n');
    if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
  }
  return out;
}

class Lexer {
public:
  explicit Lexer(const std::string &source) : src_(normalize_newlines(source)) {}
  /// Lexes `source` as if it began at line:col of an enclosing source.
  Lexer(const std::string &source, int line, int col)
      : src_(normalize_newlines(source)), line_(line), origin_line_(line), origin_col_(col),
        at_line_start_(false) {}

  std::vector<Token> run();

private:
  char peek(size_t ahead = 0) const {
    return pos_ + ahead < src_.size() ? src_[pos_ + ahead] : '\0';
  }
  bool at_end() const { return pos_ >= src_.size(); }
  int col() const {
    return static_cast<int>(pos_ - line_start_) + (line_ == origin_line_ ? origin_col_ : 0);
  }
  void newline_consumed() {
    ++line_;
    line_start_ = pos_;
  }
  SourceSpan span_from(int line, int col) const { return {line, col, line_, this->col()}; }
  [[noreturn]] void fail(const std::string &message, SourceSpan span) const {
    throw UserError("SyntaxError", message, span);
  }

  void emit(TokenKind kind, SourceSpan span, std::string text = {});
  bool lex_indentation();
  void lex_end_of_file();
  void lex_name_or_string();
  void lex_number();
  void lex_string(size_t start, int start_col, const std::string &prefix);
  std::string decode_escapes(const std::string &body, bool is_bytes, SourceSpan span) const;
  void scan_fstring_literal(size_t end, bool raw, int level, std::vector<FStringField> &fields);
  void scan_fstring_field(size_t end, bool raw, int level, std::vector<FStringField> &fields);
  void skip_in_body(size_t count) {
    for (; count > 0; --count)
      if (src_[pos_++] == '\n') newline_consumed();
  }
  SourceSpan here() const { return {line_, col(), line_, col() + 1}; }
  size_t scan_digits(int base, int start_col);
  void lex_operator();

  std::string src_;
  size_t pos_ = 0;
  int line_ = 1;
  size_t line_start_ = 0;
  /// Where src_ starts in the enclosing source (see tokenize_field).
  int origin_line_ = 1;
  int origin_col_ = 0;
  /// Indentation widths with tabs to multiples of 8 and, to detect
  /// inconsistent use of tabs and spaces as Python does, with tabs as 1.
  std::vector<int> indents_{0};
  std::vector<int> alt_indents_{0};
  struct OpenBracket {
    char ch;
    SourceSpan span;
  };
  std::vector<OpenBracket> brackets_;
  bool at_line_start_ = true;
  std::vector<Token> tokens_;
};

void Lexer::emit(TokenKind kind, SourceSpan span, std::string text) {
  Token token;
  token.kind = kind;
  token.span = span;
  token.text = std::move(text);
  tokens_.push_back(std::move(token));
}

std::vector<Token> Lexer::run() {
  while (true) {
    if (at_line_start_ && brackets_.empty() && !lex_indentation()) continue;
    at_line_start_ = false;
    char c = peek();
    if (c == ' ' || c == '\t' || c == '\f') {
      ++pos_;
      continue;
    }
    if (at_end()) break;
    if (c == '#') {
      while (!at_end() && peek() != '\n')
        ++pos_;
      continue;
    }
    if (c == '\n') {
      int start_col = col();
      ++pos_;
      if (brackets_.empty()) {
        // A line made only of a backslash continuation holds no token.
        if (!tokens_.empty() && tokens_.back().kind != TokenKind::Newline)
          emit(TokenKind::Newline, {line_, start_col, line_, start_col + 1});
        at_line_start_ = true;
      }
      newline_consumed();
      continue;
    }
    if (c == '\\') {
      SourceSpan span{line_, col(), line_, col() + 1};
      ++pos_;
      if (!at_end() && peek() != '\n')
        fail("unexpected character after line continuation character", span);
      // Python needs a line to continue onto.
      if (pos_ + 1 >= src_.size()) fail("unexpected EOF while parsing", span);
      ++pos_;
      newline_consumed();
      continue;
    }
    if (is_ident_start(c)) {
      lex_name_or_string();
    } else if ((c >= '0' && c <= '9') || (c == '.' && peek(1) >= '0' && peek(1) <= '9')) {
      lex_number();
    } else if (c == '\'' || c == '"') {
      lex_string(pos_, col(), "");
    } else {
      lex_operator();
    }
  }
  lex_end_of_file();
  return std::move(tokens_);
}

/// Stands at the first character of a line outside brackets. Returns false
/// after consuming the whole line when it holds no token (blank or comment).
bool Lexer::lex_indentation() {
  int width = 0;
  int alt_width = 0;
  while (true) {
    char c = peek();
    if (c == ' ') {
      ++width;
      ++alt_width;
    } else if (c == '\t') {
      width = (width / 8 + 1) * 8;
      ++alt_width;
    } else if (c == '\f') {
      width = alt_width = 0;
    } else {
      break;
    }
    ++pos_;
  }
  char c = peek();
  if (at_end() || c == '#' || c == '\n' || c == '\\') {
    // A backslash joins this line to the next, so the next one decides.
    if (c == '\\') return true;
    while (!at_end() && peek() != '\n')
      ++pos_;
    if (at_end()) {
      at_line_start_ = false;
      return true;
    }
    ++pos_;
    newline_consumed();
    return false;
  }
  SourceSpan span{line_, 0, line_, col()};
  auto inconsistent = [&]() { fail("inconsistent use of tabs and spaces in indentation", span); };
  if (width > indents_.back()) {
    if (alt_width <= alt_indents_.back()) inconsistent();
    if (indents_.size() > kMaxIndentLevels)
      fail("too many levels of indentation (more than " + std::to_string(kMaxIndentLevels) +
               "); rewrite the code with fewer nested blocks",
           span);
    indents_.push_back(width);
    alt_indents_.push_back(alt_width);
    emit(TokenKind::Indent, span);
    return true;
  }
  SourceSpan dedent_span{line_, col(), line_, col()};
  while (width < indents_.back()) {
    indents_.pop_back();
    alt_indents_.pop_back();
    emit(TokenKind::Dedent, dedent_span);
  }
  if (width != indents_.back()) fail("unindent does not match any outer indentation level", span);
  if (alt_width != alt_indents_.back()) inconsistent();
  return true;
}

void Lexer::lex_end_of_file() {
  if (!brackets_.empty()) {
    const OpenBracket &open = brackets_.back();
    fail(std::string("'") + open.ch + "' was never closed", open.span);
  }
  SourceSpan span{line_, col(), line_, col()};
  if (!tokens_.empty() && tokens_.back().kind != TokenKind::Newline &&
      tokens_.back().kind != TokenKind::Dedent)
    emit(TokenKind::Newline, span);
  for (size_t i = 1; i < indents_.size(); ++i)
    emit(TokenKind::Dedent, span);
  emit(TokenKind::EndOfFile, span);
}

bool is_string_prefix(const std::string &word) {
  static const char *const kPrefixes[] = {"r", "u", "b", "br", "rb", "f", "fr", "rf"};
  std::string lower;
  for (char c : word)
    lower.push_back(static_cast<char>(c | 0x20));
  for (const char *prefix : kPrefixes)
    if (lower == prefix) return true;
  return false;
}

void Lexer::lex_name_or_string() {
  size_t start = pos_;
  int start_col = col();
  while (is_ident_char(peek()))
    ++pos_;
  std::string word = src_.substr(start, pos_ - start);
  if ((peek() == '\'' || peek() == '"') && is_string_prefix(word)) {
    lex_string(start, start_col, word);
    return;
  }
  TokenKind kind = TokenKind::Name;
  for (const Spelling &keyword : kKeywords) {
    if (word == keyword.text) {
      kind = keyword.kind;
      break;
    }
  }
  emit(kind, span_from(line_, start_col), std::move(word));
}

std::string literal_name(int base) {
  return base == 2 ? "binary" : base == 8 ? "octal" : base == 10 ? "decimal" : "hexadecimal";
}

/// Consumes digits of `base` with single underscores between them; returns
/// how many digits it saw.
size_t Lexer::scan_digits(int base, int start_col) {
  size_t count = 0;
  while (is_digit_in_base(peek(), base) ||
         (peek() == '_' && count > 0 && is_digit_in_base(peek(1), base))) {
    if (peek() != '_') ++count;
    ++pos_;
  }
  bool stray = peek() == '_' || (base < 10 && peek() >= '0' && peek() <= '9');
  if (stray)
    fail("invalid " + literal_name(base) + " literal", {line_, start_col, line_, col() + 1});
  return count;
}

void Lexer::lex_number() {
  size_t start = pos_;
  int start_col = col();
  TokenKind kind = TokenKind::Int;
  char next = static_cast<char>(peek(1) | 0x20);
  if (peek() == '0' && (next == 'x' || next == 'o' || next == 'b')) {
    int base = next == 'x' ? 16 : next == 'o' ? 8 : 2;
    pos_ += 2;
    if (peek() == '_') ++pos_;
    if (scan_digits(base, start_col) == 0)
      fail("invalid " + literal_name(base) + " literal", span_from(line_, start_col));
  } else {
    scan_digits(10, start_col);
    std::string integer = src_.substr(start, pos_ - start);
    if (peek() == '.') {
      ++pos_;
      kind = TokenKind::Float;
      scan_digits(10, start_col);
    }
    if ((peek() | 0x20) == 'e') {
      size_t sign = (peek(1) == '+' || peek(1) == '-') ? 1 : 0;
      if (peek(1 + sign) >= '0' && peek(1 + sign) <= '9') {
        pos_ += 1 + sign;
        scan_digits(10, start_col);
        kind = TokenKind::Float;
      }
    }
    if ((peek() | 0x20) == 'j') {
      ++pos_;
      kind = TokenKind::Imaginary;
    }
    if (kind == TokenKind::Int && integer.size() > 1 && integer[0] == '0' &&
        integer.find_first_not_of("0_") != std::string::npos)
      fail("leading zeros in decimal integer literals are not permitted; use an 0o prefix for "
           "octal integers",
           span_from(line_, start_col));
  }
  emit(kind, span_from(line_, start_col), src_.substr(start, pos_ - start));
}

/// Stands at the opening quote; `start` is where the prefix began.
void Lexer::lex_string(size_t start, int start_col, const std::string &prefix) {
  int start_line = line_;
  size_t start_line_start = line_start_;
  char quote = peek();
  bool triple = peek(1) == quote && peek(2) == quote;
  size_t quote_len = triple ? 3 : 1;
  pos_ += quote_len;
  size_t body_start = pos_;
  while (true) {
    if (at_end() || (!triple && peek() == '\n')) {
      std::string what =
          triple ? "unterminated triple-quoted string literal" : "unterminated string literal";
      SourceSpan span{start_line, start_col, start_line,
                      start_line_start == line_start_ ? col() : start_col + 1};
      // Python names the line of the last character read, not the empty
      // line after a final newline.
      int detected = at_end() && pos_ > 0 && src_[pos_ - 1] == '\n' ? line_ - 1 : line_;
      fail(what + " (detected at line " + std::to_string(detected) + ")", span);
    }
    char c = peek();
    if (c == '\\') {
      ++pos_;
      if (peek() == '\n') {
        ++pos_;
        newline_consumed();
      } else if (!at_end()) {
        ++pos_;
      }
      continue;
    }
    if (c == quote && (!triple || (peek(1) == quote && peek(2) == quote))) break;
    ++pos_;
    if (c == '\n') newline_consumed();
  }
  std::string body = src_.substr(body_start, pos_ - body_start);
  pos_ += quote_len;

  Token token;
  token.kind = TokenKind::String;
  token.span = span_from(start_line, start_col);
  token.text = src_.substr(start, pos_ - start);
  bool raw = false;
  for (char c : prefix) {
    char lower = static_cast<char>(c | 0x20);
    raw |= lower == 'r';
    token.is_bytes |= lower == 'b';
    token.is_fstring |= lower == 'f';
  }
  if (token.is_bytes) {
    for (char c : body)
      if (static_cast<unsigned char>(c) >= 0x80)
        fail("bytes can only contain ASCII literal characters", token.span);
  }
  token.value = raw ? body : decode_escapes(body, token.is_bytes, token.span);
  if (token.is_fstring) {
    size_t end_pos = pos_;
    int end_line = line_;
    size_t end_line_start = line_start_;
    pos_ = body_start;
    line_ = start_line;
    line_start_ = start_line_start;
    scan_fstring_literal(body_start + body.size(), raw, 0, token.fields);
    pos_ = end_pos;
    line_ = end_line;
    line_start_ = end_line_start;
  }
  tokens_.push_back(std::move(token));
}

// The rules of Python 3.11's f-string parser (Parser/string_parser.c):
// https://docs.python.org/3.11/reference/lexical_analysis.html#f-strings

/// Stands in an f-string body that ends at `end`: at its start (`level` 0),
/// or just after the ':' of a format spec, which `level` fields enclose.
/// Stops at the end of the body, or at the '}' that ends a format spec.
void Lexer::scan_fstring_literal(size_t end, bool raw, int level,
                                 std::vector<FStringField> &fields) {
  while (pos_ < end) {
    char c = src_[pos_];
    char next = pos_ + 1 < end ? src_[pos_ + 1] : '\0';
    if (c == '\\' && !raw) {
      // A brace after a backslash is still a brace, except in \N{...}.
      if (next == 'N' && pos_ + 2 < end && src_[pos_ + 2] == '{') {
        while (pos_ < end && src_[pos_] != '}')
          skip_in_body(1);
        if (pos_ < end) skip_in_body(1);
        continue;
      }
      skip_in_body(next == '{' || next == '}' || pos_ + 1 >= end ? 1 : 2);
      continue;
    }
    if (c == '{') {
      if (level == 0 && next == '{') {
        skip_in_body(2);
        continue;
      }
      if (level >= 2) fail("f-string: expressions nested too deeply", here());
      scan_fstring_field(end, raw, level, fields);
      continue;
    }
    if (c == '}') {
      if (level > 0) return;
      if (next != '}') fail("f-string: single '}' is not allowed", here());
      skip_in_body(2);
      continue;
    }
    skip_in_body(1);
  }
  if (level > 0) fail("f-string: expecting '}'", here());
}

/// Stands at the '{' of a replacement field in an f-string body that ends
/// at `end`; consumes the field through its '}'.
void Lexer::scan_fstring_field(size_t end, bool raw, int level, std::vector<FStringField> &fields) {
  FStringField field;
  field.line = line_;
  field.col = col();
  skip_in_body(1);
  size_t expr_start = pos_;
  std::vector<OpenBracket> brackets;
  char quote = 0;
  bool triple = false;
  auto at = [&](size_t ahead) { return pos_ + ahead < end ? src_[pos_ + ahead] : '\0'; };
  while (pos_ < end) {
    char c = src_[pos_];
    if (c == '\\') fail("f-string expression part cannot include a backslash", here());
    if (quote) {
      bool closes = c == quote && (!triple || (at(1) == quote && at(2) == quote));
      skip_in_body(closes && triple ? 3 : 1);
      if (closes) quote = 0;
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      triple = at(1) == c && at(2) == c;
      skip_in_body(triple ? 3 : 1);
      continue;
    }
    if (c == '(' || c == '[' || c == '{') {
      brackets.push_back({c, here()});
    } else if (c == ')' || c == ']' || c == '}') {
      if (brackets.empty() && c == '}') break;
      if (brackets.empty()) fail(std::string("f-string: unmatched '") + c + "'", here());
      char open = brackets.back().ch;
      char expected = open == '(' ? ')' : open == '[' ? ']' : '}';
      if (c != expected)
        fail(std::string("f-string: closing parenthesis '") + c +
                 "' does not match opening parenthesis '" + open + "'",
             here());
      brackets.pop_back();
    } else if (c == '#') {
      fail("f-string expression part cannot include '#'", here());
    } else if (brackets.empty()) {
      // "!=", "==", "<=" and ">=" are operators; a lone '!', ':' or '='
      // ends the expression.
      if ((c == '!' || c == '=' || c == '<' || c == '>') && at(1) == '=') {
        skip_in_body(2);
        continue;
      }
      if (c == '!' || c == ':' || c == '=') break;
    }
    skip_in_body(1);
  }
  if (quote) fail("f-string: unterminated string", {field.line, field.col, line_, col()});
  if (pos_ >= end) fail("f-string: expecting '}'", here());
  std::string expr = src_.substr(expr_start, pos_ - expr_start);
  if (expr.find_first_not_of(" \t\n\f") == std::string::npos)
    fail("f-string: empty expression not allowed", {field.line, field.col, line_, col() + 1});
  field.source = "(" + expr + ")";
  fields.push_back(std::move(field));

  if (src_[pos_] == '=') {
    skip_in_body(1);
    while (pos_ < end && (src_[pos_] == ' ' || src_[pos_] == '\t' || src_[pos_] == '\n'))
      skip_in_body(1);
  }
  if (pos_ < end && src_[pos_] == '!') {
    skip_in_body(1);
    char conversion = at(0);
    if (conversion != 's' && conversion != 'r' && conversion != 'a')
      fail("f-string: invalid conversion character: expected 's', 'r', or 'a'", here());
    skip_in_body(1);
  }
  if (pos_ < end && src_[pos_] == ':') {
    skip_in_body(1);
    scan_fstring_literal(end, raw, level + 1, fields);
  }
  if (pos_ >= end || src_[pos_] != '}') fail("f-string: expecting '}'", here());
  skip_in_body(1);
}

// https://docs.python.org/3/reference/lexical_analysis.html#escape-sequences
std::string Lexer::decode_escapes(const std::string &body, bool is_bytes, SourceSpan span) const {
  std::string out;
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c != '\\' || i + 1 >= body.size()) {
      out.push_back(c);
      continue;
    }
    char e = body[++i];
    switch (e) {
    case '\n':
      break;
    case '\\':
    case '\'':
    case '"':
      out.push_back(e);
      break;
    case 'a':
      out.push_back('\a');
      break;
    case 'b':
      out.push_back('\b');
      break;
    case 'f':
      out.push_back('\f');
      break;
    case 'n':
      out.push_back('\n');
      break;
    case 'r':
      out.push_back('\r');
      break;
    case 't':
      out.push_back('\t');
      break;
    case 'v':
      out.push_back('\v');
      break;
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7': {
      uint32_t value = e - '0';
      for (int n = 1; n < 3 && i + 1 < body.size() && body[i + 1] >= '0' && body[i + 1] <= '7'; ++n)
        value = value * 8 + (body[++i] - '0');
      if (is_bytes)
        out.push_back(static_cast<char>(value & 0xFF));
      else
        append_utf8(out, value);
      break;
    }
    case 'x':
    case 'u':
    case 'U': {
      if (is_bytes && e != 'x') {
        out.push_back('\\');
        out.push_back(e);
        break;
      }
      size_t digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
      uint32_t value = 0;
      for (size_t n = 0; n < digits; ++n) {
        if (i + 1 >= body.size() || !is_digit_in_base(body[i + 1], 16))
          fail(std::string("truncated \\") + e + " escape", span);
        value = value * 16 + hex_value(body[++i]);
      }
      if (value > 0x10FFFF) fail("illegal unicode character in \\U escape", span);
      if (is_bytes)
        out.push_back(static_cast<char>(value));
      else
        append_utf8(out, value);
      break;
    }
    case 'N':
      if (!is_bytes)
        throw UserError(
            "UnsupportedSyntax",
            "\\N{...} escape is not supported in helion kernels; write the character itself", span);
      [[fallthrough]];
    default:
      // Python keeps unknown escapes as written (and warns).
      out.push_back('\\');
      out.push_back(e);
    }
  }
  return out;
}

void Lexer::lex_operator() {
  int start_col = col();
  for (const Spelling &op : kOperators) {
    size_t len = std::strlen(op.text);
    if (src_.compare(pos_, len, op.text) != 0) continue;
    pos_ += len;
    SourceSpan span = span_from(line_, start_col);
    char c = op.text[0];
    if (len == 1 && (c == '(' || c == '[' || c == '{')) {
      if (brackets_.size() >= kMaxNestedBrackets)
        fail("too many nested parentheses (more than " + std::to_string(kMaxNestedBrackets) +
                 "); rewrite the expression with intermediate variables",
             span);
      brackets_.push_back({c, span});
    }
    if (len == 1 && (c == ')' || c == ']' || c == '}')) {
      if (brackets_.empty()) fail(std::string("unmatched '") + c + "'", span);
      char open = brackets_.back().ch;
      char expected = open == '(' ? ')' : open == '[' ? ']' : '}';
      if (c != expected)
        fail(std::string("closing parenthesis '") + c + "' does not match opening parenthesis '" +
                 open + "'",
             span);
      brackets_.pop_back();
    }
    emit(op.kind, span, op.text);
    return;
  }
  SourceSpan span{line_, start_col, line_, start_col + 1};
  if (peek() == '!') fail("invalid syntax", span);
  unsigned char c = static_cast<unsigned char>(peek());
  if (c < 0x20 || c == 0x7f) {
    // Python's wording; the character itself would not show.
    char code[8];
    std::snprintf(code, sizeof(code), "U+%04X", c);
    fail(std::string("invalid non-printable character ") + code, span);
  }
  fail(std::string("invalid character '") + peek() + "'", span);
}

} // namespace

std::string describe(TokenKind kind) {
  switch (kind) {
  case TokenKind::Name:
    return "name";
  case TokenKind::Int:
  case TokenKind::Float:
  case TokenKind::Imaginary:
    return "number";
  case TokenKind::String:
    return "string";
  case TokenKind::Newline:
    return "newline";
  case TokenKind::Indent:
    return "indent";
  case TokenKind::Dedent:
    return "dedent";
  case TokenKind::EndOfFile:
    return "end of file";
  default:
    break;
  }
  for (const Spelling &keyword : kKeywords)
    if (keyword.kind == kind) return std::string("'") + keyword.text + "'";
  for (const Spelling &op : kOperators)
    if (op.kind == kind) return std::string("'") + op.text + "'";
  return "token";
}

namespace {

/// Python reads source as UTF-8 and rejects it when it is not; so do we,
/// before any byte is taken for part of a name or a string.
void check_utf8(const std::string &source) {
  int line = 1;
  size_t line_start = 0;
  for (size_t pos = 0; pos < source.size();) {
    size_t length = utf8_sequence_length(source, pos);
    if (length == 0) {
      char byte[8];
      std::snprintf(byte, sizeof(byte), "0x%02x", static_cast<unsigned char>(source[pos]));
      int col = static_cast<int>(pos - line_start);
      throw UserError("SyntaxError",
                      std::string("source is not valid utf-8 (byte ") + byte +
                          "); save the file as utf-8",
                      {line, col, line, col + 1});
    }
    bool lone_return = source[pos] == '\r' && (pos + 1 == source.size() || source[pos + 1] != '\n');
    if (source[pos] == '\n' || lone_return) {
      ++line;
      line_start = pos + 1;
    }
    pos += length;
  }
}

} // namespace

std::vector<Token> tokenize(const std::string &source) {
  check_utf8(source);
  return Lexer(source).run();
}

std::vector<Token> tokenize_field(const FStringField &field) {
  return Lexer(field.source, field.line, field.col).run();
}

} // namespace helion
