#pragma once

// Text helpers for the compiler. They avoid iostreams on purpose: an
// extension linked with its own static libstdc++ can crash formatting numbers
// through streams inside a process that loaded another libstdc++ (torch's).

#include <cstdint>
#include <string>
#include <vector>

namespace helion {

/// The lines of `text`, without their newlines.
std::vector<std::string> split_lines(const std::string &text);

/// Appends code point `cp` to `out` as UTF-8.
void append_utf8(std::string &out, uint32_t cp);

/// The shortest decimal spelling of `value` that reads back as the same
/// double ("0.1", "1e-05", "inf", "nan").
std::string shortest_double(double value);

} // namespace helion
