#include "codegen/PythonText.h"

#include "support/Text.h"

#include <cmath>
#include <cstdio>
#include <set>

namespace helion::codegen {

namespace {

/// The code point at `text[i]` and its length in bytes; -1 for a byte that
/// starts no UTF-8 sequence. Surrogates encoded on their own are accepted.
std::pair<int32_t, size_t> decode(const std::string &text, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char b0 = byte(i);
  if (b0 < 0x80) return {b0, 1};
  size_t length = b0 >= 0xF0 ? 4 : b0 >= 0xE0 ? 3 : b0 >= 0xC2 ? 2 : 0;
  if (length == 0 || b0 > 0xF4 || i + length > text.size()) return {-1, 1};
  int32_t cp = b0 & (0x7F >> length);
  for (size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return {-1, 1};
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  bool overlong = (length == 3 && cp < 0x800) || (length == 4 && cp < 0x10000);
  if (overlong || cp > 0x10FFFF) return {-1, 1};
  return {cp, length};
}

std::string hex(uint32_t value, int digits) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%0*x", digits, value);
  return buffer;
}

/// Characters a comment must not hold as they are: line breaks for Python or
/// an editor, controls, and the bidirectional overrides that make text read
/// in another order than it runs.
bool unsafe_in_comment(int32_t cp) {
  if (cp < 0x20 && cp != '\t') return true;
  if (cp >= 0x7F && cp <= 0x9F) return true;
  if (cp >= 0xD800 && cp <= 0xDFFF) return true;
  return cp == 0x061C || cp == 0x200E || cp == 0x200F || (cp >= 0x2028 && cp <= 0x202E) ||
         (cp >= 0x2066 && cp <= 0x2069) || cp == 0xFEFF;
}

bool is_space(int32_t cp) {
  return cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200D) || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000;
}

const std::set<std::string> &keywords() {
  static const std::set<std::string> k = {
      "False", "None",     "True",  "and",    "as",   "assert", "async",  "await",    "break",
      "class", "continue", "def",   "del",    "elif", "else",   "except", "finally",  "for",
      "from",  "global",   "if",    "import", "in",   "is",     "lambda", "nonlocal", "not",
      "or",    "pass",     "raise", "return", "try",  "while",  "with",   "yield"};
  return k;
}

} // namespace

bool is_python_name(const std::string &text) {
  if (text.empty() || (text[0] >= '0' && text[0] <= '9') || keywords().count(text)) return false;
  for (size_t i = 0; i < text.size();) {
    auto [cp, length] = decode(text, i);
    i += length;
    if (cp < 0) return false;
    if (cp < 0x80) {
      bool word = (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
                  (cp >= '0' && cp <= '9') || cp == '_';
      if (!word) return false;
    } else if (unsafe_in_comment(cp) || is_space(cp)) {
      return false;
    }
  }
  return true;
}

std::string comment_text(const std::string &text) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    auto [cp, length] = decode(text, i);
    if (cp < 0) {
      out += "\\x" + hex(static_cast<unsigned char>(text[i]), 2);
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (unsafe_in_comment(cp)) {
      out += cp <= 0xFF ? "\\x" + hex(cp, 2) : "\\u" + hex(cp, 4);
    } else {
      out.append(text, i, length);
    }
    i += length;
  }
  return out;
}

std::string python_string(const std::string &text) {
  std::string out = "\"";
  for (size_t i = 0; i < text.size();) {
    auto [cp, length] = decode(text, i);
    i += length;
    if (cp < 0) cp = 0xFFFD;
    switch (cp) {
    case '"':
      out += "\\\"";
      continue;
    case '\\':
      out += "\\\\";
      continue;
    case '\n':
      out += "\\n";
      continue;
    case '\r':
      out += "\\r";
      continue;
    case '\t':
      out += "\\t";
      continue;
    default:
      break;
    }
    if (cp >= 0x20 && cp < 0x7F)
      out.push_back(static_cast<char>(cp));
    else if (cp <= 0xFF)
      out += "\\x" + hex(cp, 2);
    else if (cp <= 0xFFFF)
      out += "\\u" + hex(cp, 4);
    else
      out += "\\U" + hex(cp, 8);
  }
  return out + "\"";
}

std::string python_float(double value, const std::string &float_name) {
  if (std::isnan(value)) return float_name + "('nan')";
  if (std::isinf(value)) return float_name + (value > 0 ? "('inf')" : "('-inf')");
  std::string text = shortest_double(value);
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

std::string python_literal(const Json &value, const std::string &float_name) {
  if (value.is_null()) return "None";
  if (value.is_boolean()) return value.get<bool>() ? "True" : "False";
  if (value.is_number_integer()) return std::to_string(json_int(value));
  if (value.is_number()) return python_float(json_number(value), float_name);
  if (value.is_string()) return python_string(value.get_ref<const std::string &>());
  if (value.is_array()) {
    std::string out = "[";
    for (const Json &item : value.get_ref<const Json::array_t &>())
      out += (out.size() > 1 ? ", " : "") + python_literal(item, float_name);
    return out + "]";
  }
  std::string out = "{";
  for (const auto &[key, item] : value.get_ref<const Json::object_t &>())
    out +=
        (out.size() > 1 ? ", " : "") + python_string(key) + ": " + python_literal(item, float_name);
  return out + "}";
}

} // namespace helion::codegen
