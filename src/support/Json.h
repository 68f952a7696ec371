#pragma once

// JSON, the format in which the binding passes requests and configs and in
// which configs are saved: nlohmann's ordered_json (keys keep insertion
// order, so printed configs read like the user wrote them and dumps are
// stable cache keys). Only the boundary reads and writes JSON text, through
// the two functions here; the helpers below are the typed reads whose rules
// nlohmann's own `get<>` does not keep (it converts floats and bools to ints).

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace helion {

using Json = nlohmann::ordered_json;

/// RFC 8259 plus what Python's json module writes: NaN, Infinity and
/// -Infinity (a kernel's global `NEG_INF = float("-inf")`) and unpaired
/// surrogate escapes (file names hold them), kept as their three bytes
/// (`ED A0 80` for `\ud800`), which `dump_text` escapes again. Ints must fit
/// 64 bits, floats a finite double, nesting 512 levels (so no input can
/// exhaust the stack), strings valid UTF-8; a duplicate key replaces the
/// first's value in place, as Python's json keeps the last. Throws
/// std::runtime_error "json: ... at offset N" on bad input.
Json parse_json_text(const std::string &text);

/// Compact JSON text as Python's json.dumps writes it: `{"a": [1, 2]}`, with
/// ", " and ": " separators, floats in their shortest round-trip spelling
/// (always with '.' or an exponent), and Infinity, -Infinity and NaN.
/// Error messages, helionc's output and cache keys use this spelling.
std::string dump_text(const Json &value);

/// The int `value` holds; throws std::runtime_error for anything else (a
/// bool, a float, an unsigned beyond int64).
int64_t json_int(const Json &value);

/// The number `value` holds, int or float; throws for anything else (a bool).
double json_number(const Json &value);

/// `object`'s field `key`, or null when it has none; throws when `object`
/// is not an object. (nlohmann's const operator[] requires the key: reads
/// go through this, and reads of array elements through `at`.)
const Json &json_field(const Json &object, const std::string &key);

/// Equal values of equal types: unlike nlohmann's ==, 1 and 1.0 differ.
bool json_same(const Json &a, const Json &b);

} // namespace helion
