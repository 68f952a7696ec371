#pragma once

// Text helpers for the compiler. They avoid iostreams on purpose: an
// extension linked with its own static libstdc++ can crash formatting numbers
// through streams inside a process that loaded another libstdc++ (torch's).

#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace helion {

/// The lines of `text`, without their newlines.
std::vector<std::string> split_lines(const std::string &text);

/// Every identifier-like word of `text` (letters, digits, `_` and non-ASCII
/// bytes, not starting with a digit), in strings and comments too.
std::set<std::string> words_in(const std::string &text);

/// Appends code point `cp` to `out` as UTF-8.
void append_utf8(std::string &out, uint32_t cp);

/// The length of the UTF-8 sequence that starts at `text[pos]`, or 0 when the
/// bytes there are not valid UTF-8 as Python decodes it (no overlong forms,
/// no surrogates, nothing above U+10FFFF).
size_t utf8_sequence_length(const std::string &text, size_t pos);

/// `text` with what is not valid UTF-8 written as Python writes it in a
/// str's repr: a surrogate encoded on its own as `\udc80`, any other such
/// byte as `\xff`; the result can be shown and handed to Python as a str.
std::string escape_invalid_utf8(const std::string &text);

/// The shortest decimal spelling of `value` that reads back as the same
/// double ("0.1", "1e-05", "inf", "nan").
std::string shortest_double(double value);

} // namespace helion
