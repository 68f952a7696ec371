#include "support/Json.h"

#include "support/Text.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <stdexcept>

namespace helion {

static const char *type_name(Json::Type type) {
  switch (type) {
  case Json::Type::Null:
    return "null";
  case Json::Type::Bool:
    return "bool";
  case Json::Type::Int:
    return "int";
  case Json::Type::Float:
    return "float";
  case Json::Type::String:
    return "string";
  case Json::Type::Array:
    return "array";
  case Json::Type::Object:
    return "object";
  }
  return "?";
}

static void expect_type(const Json &value, Json::Type type) {
  if (value.type() == type) return;
  throw std::runtime_error(std::string("json: expected ") + type_name(type) + ", got " +
                           type_name(value.type()));
}

bool Json::as_bool() const {
  expect_type(*this, Type::Bool);
  return bool_;
}

int64_t Json::as_int() const {
  expect_type(*this, Type::Int);
  return int_;
}

double Json::as_double() const {
  if (type_ == Type::Int) return static_cast<double>(int_);
  expect_type(*this, Type::Float);
  return float_;
}

const std::string &Json::as_string() const {
  expect_type(*this, Type::String);
  return string_;
}

const Json::Array &Json::as_array() const {
  expect_type(*this, Type::Array);
  return array_;
}

Json::Array &Json::as_array() {
  expect_type(*this, Type::Array);
  return array_;
}

const Json::Object &Json::as_object() const {
  expect_type(*this, Type::Object);
  return object_;
}

const Json &Json::operator[](const std::string &key) const {
  static const Json null_value;
  for (const auto &entry : as_object())
    if (entry.first == key) return entry.second;
  return null_value;
}

bool Json::contains(const std::string &key) const {
  for (const auto &entry : as_object())
    if (entry.first == key) return true;
  return false;
}

void Json::set(const std::string &key, Json value) {
  expect_type(*this, Type::Object);
  for (auto &entry : object_) {
    if (entry.first == key) {
      entry.second = std::move(value);
      return;
    }
  }
  object_.emplace_back(key, std::move(value));
}

void Json::push_back(Json value) {
  expect_type(*this, Type::Array);
  array_.push_back(std::move(value));
}

const Json &Json::operator[](size_t index) const {
  const Array &array = as_array();
  if (index >= array.size())
    throw std::runtime_error("json: index " + std::to_string(index) +
                             " out of range for array of " + std::to_string(array.size()));
  return array[index];
}

size_t Json::size() const {
  if (type_ == Type::Object) return object_.size();
  return as_array().size();
}

bool Json::operator==(const Json &other) const {
  if (type_ != other.type_) return false;
  switch (type_) {
  case Type::Null:
    return true;
  case Type::Bool:
    return bool_ == other.bool_;
  case Type::Int:
    return int_ == other.int_;
  case Type::Float:
    return float_ == other.float_;
  case Type::String:
    return string_ == other.string_;
  case Type::Array:
    return array_ == other.array_;
  case Type::Object:
    return object_ == other.object_;
  }
  return false;
}

// ---------------------------------------------------------------------------
// Printing

/// The shortest decimal text that reads back as exactly `value`, always with
/// a '.' or an exponent so that it reads back as a float, not an int.
/// Infinities and NaN print as Python's json module writes them (and
/// `parse` reads them back).
static std::string format_double(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  char buffer[40];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof buffer, "%.*g", precision, value);
    if (std::strtod(buffer, nullptr) == value) break;
  }
  std::string text = buffer;
  if (text.find_first_of(".eE") == std::string::npos) text += ".0";
  return text;
}

static void dump_string(const std::string &text, std::string &out) {
  static const char *hex = "0123456789abcdef";
  out.push_back('"');
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    // A surrogate kept by `parse` (ED A0-BF xx) prints as the escape it came from.
    auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
    if (byte(i) == 0xED && i + 2 < text.size() && byte(i + 1) >= 0xA0 && byte(i + 1) <= 0xBF &&
        (byte(i + 2) & 0xC0) == 0x80) {
      uint32_t unit = 0xD000 | ((byte(i + 1) & 0x3F) << 6) | (byte(i + 2) & 0x3F);
      out += "\\u";
      for (int shift = 12; shift >= 0; shift -= 4)
        out.push_back(hex[(unit >> shift) & 0xf]);
      i += 2;
      continue;
    }
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\b':
      out += "\\b";
      break;
    case '\f':
      out += "\\f";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    default:
      if (static_cast<unsigned char>(c) < 0x20) {
        out += "\\u00";
        out.push_back(hex[(c >> 4) & 0xf]);
        out.push_back(hex[c & 0xf]);
      } else {
        out.push_back(c);
      }
    }
  }
  out.push_back('"');
}

static void dump_value(const Json &value, std::string &out) {
  switch (value.type()) {
  case Json::Type::Null:
    out += "null";
    return;
  case Json::Type::Bool:
    out += value.as_bool() ? "true" : "false";
    return;
  case Json::Type::Int:
    out += std::to_string(value.as_int());
    return;
  case Json::Type::Float:
    out += format_double(value.as_double());
    return;
  case Json::Type::String:
    dump_string(value.as_string(), out);
    return;
  case Json::Type::Array: {
    out.push_back('[');
    bool first = true;
    for (const Json &element : value.as_array()) {
      if (!first) out += ", ";
      first = false;
      dump_value(element, out);
    }
    out.push_back(']');
    return;
  }
  case Json::Type::Object: {
    out.push_back('{');
    bool first = true;
    for (const auto &entry : value.as_object()) {
      if (!first) out += ", ";
      first = false;
      dump_string(entry.first, out);
      out += ": ";
      dump_value(entry.second, out);
    }
    out.push_back('}');
    return;
  }
  }
}

std::string Json::dump() const {
  std::string out;
  dump_value(*this, out);
  return out;
}

// ---------------------------------------------------------------------------
// Parsing (RFC 8259, plus the NaN, Infinity and -Infinity that Python's json
// module writes for such floats, e.g. a kernel's global `NEG_INF =
// float("-inf")`; other numbers must fit a 64-bit int or a finite double;
// strings must be valid UTF-8)

namespace {

class Parser {
public:
  explicit Parser(const std::string &text) : text_(text) {}

  Json parse_document() {
    Json value = parse_value(0);
    skip_space();
    if (pos_ != text_.size()) fail("unexpected trailing characters");
    return value;
  }

private:
  /// Deep enough for any config; shallow enough to never exhaust the stack.
  static constexpr int kMaxDepth = 512;

  [[noreturn]] void fail(const std::string &what) const { fail_at(what, pos_); }

  [[noreturn]] void fail_at(const std::string &what, size_t offset) const {
    throw std::runtime_error("json: " + what + " at offset " + std::to_string(offset));
  }

  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }

  bool at_end() const { return pos_ >= text_.size(); }

  bool consume_word(const char *word) {
    size_t length = std::char_traits<char>::length(word);
    if (text_.compare(pos_, length, word) != 0) return false;
    pos_ += length;
    return true;
  }

  /// Stands on the first character of a value (after optional whitespace).
  Json parse_value(int depth) {
    if (depth > kMaxDepth) fail("nesting deeper than " + std::to_string(kMaxDepth));
    skip_space();
    if (at_end()) fail("expected a value, got end of input");
    char c = text_[pos_];
    if (c == '{') return parse_object(depth);
    if (c == '[') return parse_array(depth);
    if (c == '"') return Json(parse_string());
    if (c == '-' || (c >= '0' && c <= '9')) return parse_number();
    if (consume_word("null")) return Json();
    if (consume_word("true")) return Json(true);
    if (consume_word("false")) return Json(false);
    if (consume_word("NaN")) return Json(std::numeric_limits<double>::quiet_NaN());
    if (consume_word("Infinity")) return Json(std::numeric_limits<double>::infinity());
    fail(std::string("unexpected character '") + c + "'");
  }

  /// Stands on '{'.
  Json parse_object(int depth) {
    ++pos_;
    Json object = Json::object();
    skip_space();
    if (!at_end() && text_[pos_] == '}') {
      ++pos_;
      return object;
    }
    while (true) {
      skip_space();
      if (at_end() || text_[pos_] != '"') fail("expected a string key");
      std::string key = parse_string();
      skip_space();
      if (at_end() || text_[pos_] != ':') fail("expected ':'");
      ++pos_;
      object.set(key, parse_value(depth + 1));
      skip_space();
      if (at_end()) fail("expected ',' or '}', got end of input");
      if (text_[pos_] == '}') {
        ++pos_;
        return object;
      }
      if (text_[pos_] != ',') fail("expected ',' or '}'");
      ++pos_;
    }
  }

  /// Stands on '['.
  Json parse_array(int depth) {
    ++pos_;
    Json array = Json::array();
    skip_space();
    if (!at_end() && text_[pos_] == ']') {
      ++pos_;
      return array;
    }
    while (true) {
      array.push_back(parse_value(depth + 1));
      skip_space();
      if (at_end()) fail("expected ',' or ']', got end of input");
      if (text_[pos_] == ']') {
        ++pos_;
        return array;
      }
      if (text_[pos_] != ',') fail("expected ',' or ']'");
      ++pos_;
    }
  }

  /// Stands on a digit or '-'. Numbers without fraction or exponent are ints.
  Json parse_number() {
    size_t start = pos_;
    if (text_[pos_] == '-') {
      ++pos_;
      if (consume_word("Infinity")) return Json(-std::numeric_limits<double>::infinity());
    }
    if (at_end() || !is_digit(text_[pos_])) fail("expected a digit");
    if (text_[pos_] == '0') {
      ++pos_;
      if (!at_end() && is_digit(text_[pos_])) fail("leading zeros are not allowed");
    } else {
      while (!at_end() && is_digit(text_[pos_]))
        ++pos_;
    }
    bool is_float = false;
    if (!at_end() && text_[pos_] == '.') {
      is_float = true;
      ++pos_;
      if (at_end() || !is_digit(text_[pos_])) fail("expected a digit after '.'");
      while (!at_end() && is_digit(text_[pos_]))
        ++pos_;
    }
    if (!at_end() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      is_float = true;
      ++pos_;
      if (!at_end() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      if (at_end() || !is_digit(text_[pos_])) fail("expected a digit in the exponent");
      while (!at_end() && is_digit(text_[pos_]))
        ++pos_;
    }
    std::string literal = text_.substr(start, pos_ - start);
    if (is_float) {
      double value = std::strtod(literal.c_str(), nullptr);
      if (!std::isfinite(value))
        fail_at("number " + literal + " is too large for a 64-bit float", start);
      return Json(value);
    }
    errno = 0;
    long long value = std::strtoll(literal.c_str(), nullptr, 10);
    if (errno == ERANGE) fail_at("integer " + literal + " does not fit in 64 bits", start);
    return Json(static_cast<int64_t>(value));
  }

  static bool is_digit(char c) { return c >= '0' && c <= '9'; }

  /// Stands on the opening '"'; leaves after the closing one.
  std::string parse_string() {
    ++pos_;
    std::string out;
    while (true) {
      if (at_end()) fail("unterminated string");
      char c = text_[pos_];
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in string; escape it");
      if (static_cast<unsigned char>(c) >= 0x80) {
        size_t length = utf8_sequence_length(text_, pos_);
        if (length == 0) fail("invalid UTF-8 in string");
        out.append(text_, pos_, length);
        pos_ += length;
        continue;
      }
      if (c != '\\') {
        out.push_back(c);
        ++pos_;
        continue;
      }
      size_t escape_start = pos_;
      ++pos_;
      if (at_end()) fail("unterminated escape");
      char e = text_[pos_++];
      switch (e) {
      case '"':
        out.push_back('"');
        break;
      case '\\':
        out.push_back('\\');
        break;
      case '/':
        out.push_back('/');
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
      case 'u':
        append_utf8(out, parse_code_point(escape_start));
        break;
      default:
        fail_at(std::string("invalid escape '\\") + e + "'", escape_start);
      }
    }
  }

  /// Stands after "\u"; reads four hex digits, and a low surrogate if one
  /// follows. An unpaired surrogate is kept as it is, as Python's json does
  /// (file names hold them): its three bytes are not UTF-8, and printing
  /// escapes them again.
  uint32_t parse_code_point(size_t escape_start) {
    uint32_t unit = parse_hex4(escape_start);
    if (unit < 0xD800 || unit > 0xDBFF) return unit;
    size_t after_high = pos_;
    if (!consume_word("\\u")) return unit;
    uint32_t low = parse_hex4(escape_start);
    if (low >= 0xDC00 && low <= 0xDFFF) return 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
    pos_ = after_high;
    return unit;
  }

  uint32_t parse_hex4(size_t escape_start) {
    if (pos_ + 4 > text_.size()) fail_at("truncated \\u escape", escape_start);
    uint32_t value = 0;
    for (int i = 0; i < 4; ++i) {
      char h = text_[pos_++];
      value <<= 4;
      if (h >= '0' && h <= '9')
        value |= h - '0';
      else if (h >= 'a' && h <= 'f')
        value |= h - 'a' + 10;
      else if (h >= 'A' && h <= 'F')
        value |= h - 'A' + 10;
      else
        fail_at("invalid hex digit in \\u escape", escape_start);
    }
    return value;
  }

  const std::string &text_;
  size_t pos_ = 0;
};

} // namespace

Json Json::parse(const std::string &text) {
  return Parser(text).parse_document();
}

} // namespace helion
