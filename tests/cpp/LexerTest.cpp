#include "parse/Lexer.h"

#include "support/Diagnostics.h"

#include <gtest/gtest.h>

#include <string>

using namespace helion;

namespace {

/// The tokens of `source` as "text" for real tokens and the layout kind
/// in capitals, separated by spaces.
std::string kinds(const std::string &source) {
  std::string out;
  for (const Token &token : tokenize(source)) {
    if (!out.empty()) out += " ";
    switch (token.kind) {
    case TokenKind::Newline:
      out += "NEWLINE";
      break;
    case TokenKind::Indent:
      out += "INDENT";
      break;
    case TokenKind::Dedent:
      out += "DEDENT";
      break;
    case TokenKind::EndOfFile:
      out += "EOF";
      break;
    default:
      out += token.text;
    }
  }
  return out;
}

std::string format(const SourceSpan &span) {
  return std::to_string(span.line) + ":" + std::to_string(span.col) + "-" +
         std::to_string(span.end_line) + ":" + std::to_string(span.end_col);
}

void expect_error(const std::string &source, const std::string &message, const std::string &span) {
  try {
    tokenize(source);
    ADD_FAILURE() << "no error for:\n" << source;
  } catch (const UserError &error) {
    EXPECT_EQ(error.kind(), "SyntaxError");
    EXPECT_EQ(std::string(error.what()), message);
    EXPECT_EQ(format(error.span()), span);
  }
}

const Token &single(const std::vector<Token> &tokens) {
  EXPECT_EQ(tokens.size(), 3u); // the token, NEWLINE, EOF
  return tokens.front();
}

} // namespace

TEST(LexerTest, EmptySourceIsJustEndOfFile) {
  EXPECT_EQ(kinds(""), "EOF");
  EXPECT_EQ(kinds("\n\n  \n# comment\n"), "EOF");
}

TEST(LexerTest, IndentAndDedentFollowTheStack) {
  EXPECT_EQ(kinds("if a:\n    if b:\n        c\n    d\ne\n"),
            "if a : NEWLINE INDENT if b : NEWLINE INDENT c NEWLINE DEDENT d NEWLINE DEDENT e "
            "NEWLINE EOF");
}

TEST(LexerTest, FinalDedentsComeBeforeEndOfFile) {
  EXPECT_EQ(kinds("def f():\n  if x:\n    return"),
            "def f ( ) : NEWLINE INDENT if x : NEWLINE INDENT return NEWLINE DEDENT DEDENT EOF");
}

TEST(LexerTest, BlankAndCommentLinesDoNotChangeIndentation) {
  EXPECT_EQ(kinds("if a:\n    b\n\n# outdented comment\n      \n    c\n"),
            "if a : NEWLINE INDENT b NEWLINE c NEWLINE DEDENT EOF");
}

TEST(LexerTest, TabsCountToMultiplesOfEight) {
  EXPECT_EQ(kinds("if a:\n\tif b:\n\t\tc\n\td\n"),
            "if a : NEWLINE INDENT if b : NEWLINE INDENT c NEWLINE DEDENT d NEWLINE DEDENT EOF");
  EXPECT_EQ(kinds("if a:\n  \tb\n  \tc\n"), "if a : NEWLINE INDENT b NEWLINE c NEWLINE DEDENT EOF");
}

TEST(LexerTest, BracketsJoinLines) {
  EXPECT_EQ(kinds("f(a,\n  b\n\n    # c\n)\n"), "f ( a , b ) NEWLINE EOF");
}

TEST(LexerTest, BackslashJoinsLines) {
  EXPECT_EQ(kinds("x = a + \\\n    b\n"), "x = a + b NEWLINE EOF");
}

TEST(LexerTest, BackslashNeedsALineToContinueOnto) {
  EXPECT_EQ(kinds("x = 1\n\\\n\ny = 2\n"), "x = 1 NEWLINE y = 2 NEWLINE EOF");
  expect_error("x = 1 \\\n", "unexpected EOF while parsing", "1:6-1:7");
  expect_error("x = 1 \\", "unexpected EOF while parsing", "1:6-1:7");
}

TEST(LexerTest, CarriageReturnsAreNewlines) {
  std::vector<Token> tokens = tokenize("a\r\nbc\rd\r\n");
  EXPECT_EQ(kinds("a\r\nbc\rd\r\n"), "a NEWLINE bc NEWLINE d NEWLINE EOF");
  EXPECT_EQ(format(tokens[2].span), "2:0-2:2");
  EXPECT_EQ(format(tokens[4].span), "3:0-3:1");
}

TEST(LexerTest, OperatorsTakeTheLongestMatch) {
  EXPECT_EQ(kinds("a **= b // c ... d->e != f := g <<= h >> i @ j\n"),
            "a **= b // c ... d -> e != f := g <<= h >> i @ j NEWLINE EOF");
}

TEST(LexerTest, KeywordsAreTheirOwnKinds) {
  std::vector<Token> tokens = tokenize("not in is lambda match\n");
  EXPECT_EQ(tokens[0].kind, TokenKind::KwNot);
  EXPECT_EQ(tokens[1].kind, TokenKind::KwIn);
  EXPECT_EQ(tokens[2].kind, TokenKind::KwIs);
  EXPECT_EQ(tokens[3].kind, TokenKind::KwLambda);
  EXPECT_EQ(tokens[4].kind, TokenKind::Name); // a soft keyword
}

TEST(LexerTest, Numbers) {
  EXPECT_EQ(single(tokenize("0x_1F")).kind, TokenKind::Int);
  EXPECT_EQ(single(tokenize("1_000")).kind, TokenKind::Int);
  EXPECT_EQ(single(tokenize("00")).kind, TokenKind::Int);
  EXPECT_EQ(single(tokenize("1e-5")).kind, TokenKind::Float);
  EXPECT_EQ(single(tokenize(".5")).kind, TokenKind::Float);
  EXPECT_EQ(single(tokenize("5.")).kind, TokenKind::Float);
  EXPECT_EQ(single(tokenize("1_0.0_1E+1_0")).kind, TokenKind::Float);
  EXPECT_EQ(single(tokenize("2j")).kind, TokenKind::Imaginary);
  EXPECT_EQ(kinds("x.y1 1.5.real"), "x . y1 1.5 . real NEWLINE EOF");
}

TEST(LexerTest, StringsDecodeEscapes) {
  EXPECT_EQ(single(tokenize(R"('a\n\t\\\'\"\x41\101\u00e9\U0001F600\q')")).value,
            "a\n\t\\'\"AA\xc3\xa9\xf0\x9f\x98\x80\\q");
  EXPECT_EQ(single(tokenize(R"(r'a\n\'')")).value, R"(a\n\')");
  EXPECT_EQ(single(tokenize(R"(b'\x00\u1234')")).value, std::string("\0\\u1234", 7));
  EXPECT_TRUE(single(tokenize("B'x'")).is_bytes);
  EXPECT_TRUE(single(tokenize("Rf'x'")).is_fstring);
  EXPECT_EQ(single(tokenize("'a\\\nb'")).value, "ab");
}

/// "source@line:col" for each replacement field of the f-string `source`.
std::string fields(const std::string &source) {
  std::string out;
  std::vector<Token> tokens = tokenize(source);
  for (const FStringField &field : single(tokens).fields) {
    if (!out.empty()) out += " ";
    out += field.source + "@" + std::to_string(field.line) + ":" + std::to_string(field.col);
  }
  return out;
}

TEST(LexerTest, FStringFields) {
  EXPECT_EQ(fields(R"(f"size mismatch {k} != {k2}")"), "(k)@1:16 (k2)@1:23");
  EXPECT_EQ(fields(R"(F'{{literal}} {x!r} {y:>10}')"), "(x)@1:14 (y)@1:20");
  EXPECT_EQ(fields(R"(rf"\d{a}")"), "(a)@1:5");
  EXPECT_EQ(fields(R"(fr'{a}')"), "(a)@1:3");
  EXPECT_EQ(fields(R"(f"{x['k']:{w}.{p}f}")"), "(x['k'])@1:2 (w)@1:10 (p)@1:14");
  EXPECT_EQ(fields(R"(f"{a != b}{c == d}{e >= f}{g = }")"),
            "(a != b)@1:2 (c == d)@1:10 (e >= f)@1:18 (g )@1:26");
  EXPECT_EQ(fields("f'''\n{a\n + b}'''"), "(a\n + b)@2:0");
  EXPECT_EQ(fields(R"(f'\{a}\\{b}')"), "(a)@1:3 (b)@1:8");
  EXPECT_EQ(fields(R"(f'{f"{a}"}')"), R"((f"{a}")@1:2)");
  EXPECT_EQ(fields("f'\xc3\xa9{a}'"), "(a)@1:4");
}

TEST(LexerTest, FieldTokensUseEnclosingCoordinates) {
  std::string out;
  for (const Token &token : tokenize_field({"(a\n + b)", 3, 7}))
    out += token.text + "@" + format(token.span) + " ";
  EXPECT_EQ(out, "(@3:7-3:8 a@3:8-3:9 +@4:1-4:2 b@4:3-4:4 )@4:4-4:5 @4:5-4:5 @4:5-4:5 ");
}

TEST(LexerTest, MalformedFStrings) {
  expect_error("f'{a}}'", "f-string: single '}' is not allowed", "1:5-1:6");
  expect_error("f'{}'", "f-string: empty expression not allowed", "1:2-1:4");
  expect_error("f'{a'", "f-string: expecting '}'", "1:4-1:5");
  expect_error("f'{a!x}'", "f-string: invalid conversion character: expected 's', 'r', or 'a'",
               "1:5-1:6");
  expect_error("f'{a:{b:{c}}}'", "f-string: expressions nested too deeply", "1:8-1:9");
  expect_error(R"(f'{a\n}')", "f-string expression part cannot include a backslash", "1:4-1:5");
  expect_error("f'{a#}'", "f-string expression part cannot include '#'", "1:4-1:5");
  expect_error("f'{a)}'", "f-string: unmatched ')'", "1:4-1:5");
}

TEST(LexerTest, TripleQuotedStringsSpanLines) {
  Token token = single(tokenize("'''a\n'b'\n\"\"c'''"));
  EXPECT_EQ(token.value, "a\n'b'\n\"\"c");
  EXPECT_EQ(format(token.span), "1:0-3:6");
}

TEST(LexerTest, SpansUseByteColumns) {
  std::vector<Token> tokens = tokenize("é = 'ü'\n");
  EXPECT_EQ(format(tokens[0].span), "1:0-1:2");
  EXPECT_EQ(format(tokens[2].span), "1:5-1:9");
}

TEST(LexerTest, InconsistentDedent) {
  expect_error("if a:\n    b\n  c\n", "unindent does not match any outer indentation level",
               "3:0-3:2");
}

TEST(LexerTest, InconsistentTabsAndSpaces) {
  expect_error("if a:\n        b\n\tc\n", "inconsistent use of tabs and spaces in indentation",
               "3:0-3:1");
  expect_error("if a:\n  \tb\n\tc\n", "inconsistent use of tabs and spaces in indentation",
               "3:0-3:1");
}

TEST(LexerTest, UnclosedBracket) {
  expect_error("f(a, [b,\n", "'[' was never closed", "1:5-1:6");
}

TEST(LexerTest, UnmatchedBracket) {
  expect_error("a)\n", "unmatched ')'", "1:1-1:2");
  expect_error("(a}\n", "closing parenthesis '}' does not match opening parenthesis '('",
               "1:2-1:3");
}

TEST(LexerTest, UnterminatedStrings) {
  expect_error("x = 'ab\ny", "unterminated string literal (detected at line 1)", "1:4-1:7");
  expect_error("x = \"\"\"ab\ny\n",
               "unterminated triple-quoted string literal (detected at line 2)", "1:4-1:5");
}

TEST(LexerTest, BadNumbers) {
  expect_error("0b12", "invalid binary literal", "1:0-1:4");
  expect_error("1__0", "invalid decimal literal", "1:0-1:2");
  expect_error("0x", "invalid hexadecimal literal", "1:0-1:2");
  expect_error("007",
               "leading zeros in decimal integer literals are not permitted; use an 0o prefix "
               "for octal integers",
               "1:0-1:3");
}

TEST(LexerTest, BadCharacters) {
  expect_error("a ? b", "invalid character '?'", "1:2-1:3");
  expect_error(std::string("a = \0b", 6), "invalid non-printable character U+0000", "1:4-1:5");
  expect_error("a = \x1b[0m", "invalid non-printable character U+001B", "1:4-1:5");
  expect_error("a \\ b", "unexpected character after line continuation character", "1:2-1:3");
  expect_error("b'é'", "bytes can only contain ASCII literal characters", "1:0-1:5");
  expect_error("'\\x4'", "truncated \\x escape", "1:0-1:5");
}

/// `levels` nested `if` blocks under a def, the innermost holding `pass`.
std::string nested_blocks(int levels) {
  std::string source = "def f(x):\n";
  for (int i = 1; i <= levels; ++i)
    source += std::string(i, ' ') + "if x:\n";
  return source + std::string(levels + 1, ' ') + "pass\n";
}

TEST(LexerTest, IndentationUpToPythonsLimit) {
  // The def's body and 98 ifs: 99 levels, as many as Python takes.
  std::vector<Token> tokens = tokenize(nested_blocks(98));
  size_t indents = 0;
  for (const Token &token : tokens)
    indents += token.kind == TokenKind::Indent;
  EXPECT_EQ(indents, 99u);
}

TEST(LexerTest, TooManyLevelsOfIndentation) {
  const std::string message =
      "too many levels of indentation (more than 99); rewrite the code with fewer nested blocks";
  expect_error(nested_blocks(99), message, "101:0-101:100");
  // Thousands of levels stop at the hundredth, so the time stays linear.
  expect_error(nested_blocks(2000), message, "101:0-101:100");
}

TEST(LexerTest, TooManyNestedParentheses) {
  std::string inside(200, '(');
  EXPECT_EQ(tokenize(inside + "1" + std::string(200, ')')).size(), 403u);
  const std::string message =
      "too many nested parentheses (more than 200); rewrite the expression with intermediate "
      "variables";
  expect_error("x = " + std::string(5000, '(') + "1" + std::string(5000, ')') + "\n", message,
               "1:204-1:205");
  expect_error("x = " + std::string(150, '[') + std::string(60, '{') + "\n", message,
               "1:204-1:205");
}

TEST(LexerTest, InvalidUtf8) {
  const std::string advice = "); save the file as utf-8";
  expect_error("x = 'a\xff'\n", "source is not valid utf-8 (byte 0xff" + advice, "1:6-1:7");
  expect_error("x = 1\ny\xc3(\n", "source is not valid utf-8 (byte 0xc3" + advice, "2:1-2:2");
  // A surrogate (U+D800) encoded as if it were a character, and an overlong '/'.
  expect_error("s = '\xed\xa0\x80'\n", "source is not valid utf-8 (byte 0xed" + advice,
               "1:5-1:6");
  expect_error("\r\r\xc0\xaf", "source is not valid utf-8 (byte 0xc0" + advice, "3:0-3:1");
  expect_error("x = '\xf4\x90\x80\x80'", "source is not valid utf-8 (byte 0xf4" + advice,
               "1:5-1:6");
  expect_error("x = 'ab\xe2\x82'", "source is not valid utf-8 (byte 0xe2" + advice, "1:7-1:8");
  // Valid UTF-8 of every length is taken, in names and in strings.
  EXPECT_EQ(kinds("\xce\xb1 = '\xe2\x82\xac\xf0\x9f\x98\x80'"),
            "\xce\xb1 = '\xe2\x82\xac\xf0\x9f\x98\x80' NEWLINE EOF");
}
