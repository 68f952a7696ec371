#include "support/Json.h"

#include "support/Text.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

namespace helion {

namespace {

[[noreturn]] void fail(const std::string &what) {
  throw std::runtime_error("json: " + what);
}

// ---------------------------------------------------------------------------
// Python's extensions. nlohmann reads RFC 8259 only, so before parsing, what
// Python's json module writes beyond it becomes strings marked with U+FDD0
// (a noncharacter), which the DOM builder turns back into what they stand
// for: a bare NaN, Infinity or -Infinity becomes the string M + its name; an
// unpaired surrogate escape inside a string becomes M + its four hex digits;
// an M the text itself holds becomes M M, so nothing the text holds reads as
// a mark.

const std::string kMark = "\xef\xb7\x90"; // U+FDD0 in UTF-8
const char *const kNonFinite[] = {"NaN", "Infinity", "-Infinity"};

bool starts_with_at(const std::string &text, size_t pos, const std::string &prefix) {
  return text.compare(pos, prefix.size(), prefix) == 0;
}

/// The value of four hex digits at `pos`, or -1.
int hex4(const std::string &text, size_t pos) {
  if (pos + 4 > text.size()) return -1;
  int value = 0;
  for (size_t i = pos; i < pos + 4; ++i) {
    char h = text[i];
    int digit = h >= '0' && h <= '9'   ? h - '0'
                : h >= 'a' && h <= 'f' ? h - 'a' + 10
                : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                       : -1;
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

/// Text nlohmann reads, and where its pieces came from: `starts` pairs each
/// offset in `text` where a rewrite ends with the offset in the original, so
/// errors name offsets in what the caller passed.
struct StrictText {
  std::string text;
  std::vector<std::pair<size_t, size_t>> starts{{0, 0}};

  size_t original_offset(size_t offset) const {
    auto it = std::upper_bound(starts.begin(), starts.end(), std::make_pair(offset, SIZE_MAX));
    --it;
    return it->second + (offset - it->first);
  }
};

/// A string's escape at `text[pos]` (a backslash): appended to `out` as is,
/// or rewritten when it is an unpaired surrogate or the mark itself. Returns
/// the length it read.
size_t rewrite_escape(const std::string &text, size_t pos, std::string &out) {
  int unit = text.compare(pos, 2, "\\u") == 0 ? hex4(text, pos + 2) : -1;
  if (unit == 0xFDD0) {
    out += kMark + kMark;
    return 6;
  }
  if (unit < 0xD800 || unit > 0xDFFF) {
    size_t length = std::min<size_t>(2, text.size() - pos);
    out.append(text, pos, length);
    return length;
  }
  int low = unit <= 0xDBFF && text.compare(pos + 6, 2, "\\u") == 0 ? hex4(text, pos + 8) : -1;
  if (low >= 0xDC00 && low <= 0xDFFF) { // a pair: nlohmann reads it
    out.append(text, pos, 12);
    return 12;
  }
  out += kMark;
  out.append(text, pos + 2, 4);
  return 6;
}

StrictText strict_text(const std::string &text) {
  StrictText out;
  out.text.reserve(text.size());
  bool in_string = false;
  for (size_t pos = 0; pos < text.size();) {
    size_t read = 0;
    size_t written = out.text.size();
    if (in_string && text[pos] == '\\') {
      read = rewrite_escape(text, pos, out.text);
    } else if (in_string && starts_with_at(text, pos, kMark)) {
      out.text += kMark + kMark;
      read = kMark.size();
    } else if (!in_string) {
      for (const char *word : kNonFinite) {
        if (!starts_with_at(text, pos, word)) continue;
        out.text += '"' + kMark + word + '"';
        read = std::char_traits<char>::length(word);
        break;
      }
    }
    if (read == 0) {
      if (text[pos] == '"') in_string = !in_string;
      out.text.push_back(text[pos]);
      ++pos;
      continue;
    }
    pos += read;
    if (out.text.size() - written != read) out.starts.emplace_back(out.text.size(), pos);
  }
  return out;
}

/// `text` with its marks read back: M M is M, M and four hex digits the
/// surrogate's three bytes.
void unmark(std::string &text) {
  if (text.find(kMark) == std::string::npos) return;
  std::string out;
  for (size_t pos = 0; pos < text.size();) {
    if (!starts_with_at(text, pos, kMark)) {
      out.push_back(text[pos++]);
      continue;
    }
    pos += kMark.size();
    int unit = hex4(text, pos);
    if (unit >= 0xD800 && unit <= 0xDFFF) {
      out.push_back(static_cast<char>(0xE0 | (unit >> 12)));
      out.push_back(static_cast<char>(0x80 | ((unit >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (unit & 0x3F)));
      pos += 4;
    } else {
      out += kMark; // M M
      pos += kMark.size();
    }
  }
  text = std::move(out);
}

/// The float a bare NaN, Infinity or -Infinity became, if `text` is one.
bool non_finite_mark(const std::string &text, double &value) {
  if (!starts_with_at(text, 0, kMark)) return false;
  std::string word = text.substr(kMark.size());
  if (word == "NaN")
    value = std::numeric_limits<double>::quiet_NaN();
  else if (word == "Infinity")
    value = std::numeric_limits<double>::infinity();
  else if (word == "-Infinity")
    value = -std::numeric_limits<double>::infinity();
  else
    return false;
  return true;
}

// ---------------------------------------------------------------------------
// The DOM builder: nlohmann's events, with the project's limits.

class Builder : public nlohmann::json_sax<Json> {
public:
  explicit Builder(const StrictText &text) : text_(text) {}

  Json result;

  bool null() override { return add(Json()); }
  bool boolean(bool value) override { return add(Json(value)); }
  bool number_integer(number_integer_t value) override { return add(Json(value)); }
  bool number_unsigned(number_unsigned_t value) override {
    if (value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      fail("integer " + std::to_string(value) + " does not fit in 64 bits");
    return add(Json(static_cast<int64_t>(value)));
  }
  /// nlohmann reads an int beyond 64 bits as a float; its literal tells.
  bool number_float(number_float_t value, const string_t &literal) override {
    if (literal.find_first_of(".eE") == std::string::npos)
      fail("integer " + literal + " does not fit in 64 bits");
    return add(Json(value));
  }
  bool string(string_t &value) override {
    double number;
    if (non_finite_mark(value, number)) return add(Json(number));
    unmark(value);
    return add(Json(std::move(value)));
  }
  bool binary(binary_t &) override { fail("binary values are not JSON text"); }
  bool start_object(std::size_t) override { return open(Json::object()); }
  bool key(string_t &key) override {
    double number;
    if (non_finite_mark(key, number))
      fail("expected a string key, got " + key.substr(kMark.size()));
    unmark(key);
    key_ = std::move(key);
    return true;
  }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(Json::array()); }
  bool end_array() override { return close(); }

  bool parse_error(std::size_t position, const std::string &last_token,
                   const nlohmann::detail::exception &error) override {
    // nlohmann's 406: a float literal beyond a double's range.
    if (error.id == 406) {
      bool is_int = last_token.find_first_of(".eE") == std::string::npos;
      fail((is_int ? "integer " : "number ") + last_token +
           (is_int ? " does not fit in 64 bits" : " is too large for a 64-bit float"));
    }
    fail(reason(error.what()) + " at offset " +
         std::to_string(position == 0 ? 0 : text_.original_offset(position - 1)));
  }

private:
  /// nlohmann's "[json.exception.parse_error.101] parse error at line 1,
  /// column 2: why; last read: 'text'; expected x" without its place (the
  /// caller's offset replaces it) and the text read, which may hold bytes
  /// that are not UTF-8 and shows the text as rewritten.
  static std::string reason(const std::string &what) {
    size_t colon = what.find(": ");
    std::string out = colon == std::string::npos ? what : what.substr(colon + 2);
    size_t read = out.find("; last read: '");
    if (read == std::string::npos) return out;
    size_t expected = out.find("'; expected ", read);
    return out.substr(0, read) + (expected == std::string::npos ? "" : out.substr(expected + 1));
  }

  /// Deep enough for any config; shallow enough that the recursive code
  /// reading values (and printing them) never exhausts the stack.
  static constexpr size_t kMaxDepth = 512;

  /// Where the next value goes: the root, the open array, or the open
  /// object's field named by the last key (a repeated key replaces the
  /// value in place).
  Json *slot() {
    if (open_.empty()) return &result;
    Json &container = *open_.back();
    if (container.is_array()) {
      container.push_back(nullptr);
      return &container.back();
    }
    return &container[key_];
  }

  bool add(Json value) {
    *slot() = std::move(value);
    return true;
  }

  bool open(Json container) {
    if (open_.size() >= kMaxDepth) fail("nesting deeper than " + std::to_string(kMaxDepth));
    Json *at = slot();
    *at = std::move(container);
    open_.push_back(at);
    return true;
  }

  bool close() {
    open_.pop_back();
    return true;
  }

  const StrictText &text_;
  std::vector<Json *> open_;
  std::string key_;
};

// ---------------------------------------------------------------------------
// Printing

const char *type_name(const Json &value) {
  if (value.is_number_integer()) return "int";
  if (value.is_number_float()) return "float";
  if (value.is_boolean()) return "bool";
  return value.type_name(); // null, string, array, object
}

/// The shortest text that reads back as exactly `value`, always with a '.'
/// or an exponent so that it reads back as a float, not an int.
std::string format_double(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  std::string text = shortest_double(value);
  if (text.find_first_of(".eE") == std::string::npos) text += ".0";
  return text;
}

void dump_string(const std::string &text, std::string &out) {
  static const char *hex = "0123456789abcdef";
  auto byte = [&](size_t k) { return k < text.size() ? static_cast<unsigned char>(text[k]) : 0u; };
  out.push_back('"');
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = byte(i);
    // A surrogate kept by the parser (ED A0-BF xx) prints as the escape it came from.
    if (c == 0xED && byte(i + 1) >= 0xA0 && byte(i + 1) <= 0xBF && (byte(i + 2) & 0xC0) == 0x80) {
      uint32_t unit = 0xD000 | ((byte(i + 1) & 0x3F) << 6) | (byte(i + 2) & 0x3F);
      out += "\\u";
      for (int shift = 12; shift >= 0; shift -= 4)
        out.push_back(hex[(unit >> shift) & 0xf]);
      i += 2;
      continue;
    }
    const char *escape = c == '"'    ? "\\\""
                         : c == '\\' ? "\\\\"
                         : c == '\b' ? "\\b"
                         : c == '\f' ? "\\f"
                         : c == '\n' ? "\\n"
                         : c == '\r' ? "\\r"
                         : c == '\t' ? "\\t"
                                     : nullptr;
    if (escape) {
      out += escape;
    } else if (c < 0x20) {
      out += "\\u00";
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 0xf]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  out.push_back('"');
}

void dump_value(const Json &value, std::string &out) {
  switch (value.type()) {
  case Json::value_t::null:
  case Json::value_t::discarded:
    out += "null";
    return;
  case Json::value_t::boolean:
    out += value.get<bool>() ? "true" : "false";
    return;
  case Json::value_t::number_integer:
    out += std::to_string(value.get<int64_t>());
    return;
  case Json::value_t::number_unsigned:
    out += std::to_string(value.get<uint64_t>());
    return;
  case Json::value_t::number_float:
    out += format_double(value.get<double>());
    return;
  case Json::value_t::string:
    dump_string(value.get_ref<const std::string &>(), out);
    return;
  case Json::value_t::binary:
    fail("binary values are not JSON text");
  case Json::value_t::array: {
    out.push_back('[');
    for (size_t i = 0; i < value.size(); ++i) {
      if (i) out += ", ";
      dump_value(value[i], out);
    }
    out.push_back(']');
    return;
  }
  case Json::value_t::object: {
    out.push_back('{');
    bool first = true;
    for (const auto &[key, field] : value.items()) {
      if (!first) out += ", ";
      first = false;
      dump_string(key, out);
      out += ": ";
      dump_value(field, out);
    }
    out.push_back('}');
    return;
  }
  }
}

} // namespace

Json parse_json_text(const std::string &text) {
  StrictText strict = strict_text(text);
  Builder builder(strict);
  try {
    Json::sax_parse(strict.text, &builder);
  } catch (const nlohmann::json::exception &error) {
    fail(error.what());
  }
  return std::move(builder.result);
}

std::string dump_text(const Json &value) {
  std::string out;
  dump_value(value, out);
  return out;
}

int64_t json_int(const Json &value) {
  if (value.is_number_integer()) {
    if (value.is_number_unsigned() &&
        value.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      fail("integer " + std::to_string(value.get<uint64_t>()) + " does not fit in 64 bits");
    return value.get<int64_t>();
  }
  fail(std::string("expected int, got ") + type_name(value));
}

double json_number(const Json &value) {
  if (value.is_number()) return value.get<double>();
  fail(std::string("expected a number, got ") + type_name(value));
}

const Json &json_field(const Json &object, const std::string &key) {
  static const Json null_value;
  if (!object.is_object()) fail(std::string("expected object, got ") + type_name(object));
  auto it = object.find(key);
  return it == object.end() ? null_value : *it;
}

bool json_same(const Json &a, const Json &b) {
  if (a.is_number_float() != b.is_number_float()) return false;
  if (a.type() != b.type() || !a.is_structured()) return a == b;
  if (a.size() != b.size()) return false;
  for (auto x = a.begin(), y = b.begin(); x != a.end(); ++x, ++y)
    if ((a.is_object() && x.key() != y.key()) || !json_same(*x, *y)) return false;
  return true;
}

} // namespace helion
