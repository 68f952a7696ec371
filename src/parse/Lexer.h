#pragma once

#include "parse/Token.h"

#include <string>
#include <vector>

namespace helion {

/// Splits `source` into tokens the way Python's tokenizer does: NEWLINE ends
/// each logical line, INDENT / DEDENT mark changes of indentation (the last
/// DEDENTs come just before EndOfFile), and newlines inside brackets or after
/// a backslash join lines. Blank and comment-only lines produce nothing.
/// Throws UserError("SyntaxError") for malformed input, for source that is
/// not UTF-8, and past Python's limits of 200 nested brackets and 99 levels
/// of indentation.
std::vector<Token> tokenize(const std::string &source);

/// The tokens of an f-string replacement field (see FStringField), with
/// spans in the coordinates of the source that holds the f-string.
std::vector<Token> tokenize_field(const FStringField &field);

} // namespace helion
