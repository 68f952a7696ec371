#pragma once

// User text on its way into generated Python: into a comment, or into a
// literal. Nothing the user controls may end a comment's line or a literal's
// quotes, or make the module unreadable as UTF-8.

#include "support/Json.h"

#include <string>

namespace helion::codegen {

/// `text` as one line of comment: every character that Python or an editor
/// takes as a line break (\n, \r, \f, \v, \x1c-\x1e, \x85, \u2028, \u2029),
/// other control characters, surrogates and bytes that are not UTF-8 are
/// written as escapes (`\n`, `\x0c`, `\u2028`, `\udc80`, `\xff`).
std::string comment_text(const std::string &text);

/// True for text that can stand as a name in Python code: an identifier of
/// ASCII letters, digits and underscores, or of other characters that are
/// neither spaces, controls, line breaks nor bidirectional overrides, and no
/// keyword. Python may still refuse some of the latter (a SyntaxError), but
/// none of them ends a statement.
bool is_python_name(const std::string &text);

/// A Python string literal (ASCII, double-quoted) whose value is `text`.
/// `text` is UTF-8; a surrogate encoded on its own (as JSON's `\udc80` parses)
/// stays that surrogate; a byte that is not UTF-8 reads as U+FFFD.
std::string python_string(const std::string &text);

/// A Python expression whose value is `value`: None, True, 3, 1.5, "text",
/// lists and dicts of those. Non-finite floats call the builtin float, spelled
/// `float_name` (`float('inf')`).
std::string python_literal(const Json &value, const std::string &float_name = "float");

/// A float as Python reads it back exactly, always a float ("3.0", "1e-05",
/// "float('nan')").
std::string python_float(double value, const std::string &float_name = "float");

} // namespace helion::codegen
