#include "support/Text.h"

#include <cstdio>
#include <cstdlib>

namespace helion {

std::vector<std::string> split_lines(const std::string &text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

void append_utf8(std::string &out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

size_t utf8_sequence_length(const std::string &text, size_t pos) {
  auto byte = [&](size_t i) -> unsigned {
    return pos + i < text.size() ? static_cast<unsigned char>(text[pos + i]) : 0;
  };
  unsigned lead = byte(0);
  if (lead < 0x80) return 1;
  size_t length;
  // The range of the second byte, which rules out overlong forms,
  // surrogates (U+D800..U+DFFF) and code points above U+10FFFF.
  unsigned low = 0x80;
  unsigned high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (byte(1) < low || byte(1) > high) return 0;
  for (size_t i = 2; i < length; ++i)
    if (byte(i) < 0x80 || byte(i) > 0xBF) return 0;
  return length;
}

std::string escape_invalid_utf8(const std::string &text) {
  static const char *digits = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    size_t length = utf8_sequence_length(text, pos);
    if (length > 0) {
      out.append(text, pos, length);
      pos += length;
      continue;
    }
    auto byte = [&](size_t i) -> unsigned {
      return pos + i < text.size() ? static_cast<unsigned char>(text[pos + i]) : 0;
    };
    // A surrogate encoded on its own: JSON's '\udc80', as Python's json reads it.
    if (byte(0) == 0xED && byte(1) >= 0xA0 && byte(1) <= 0xBF && byte(2) >= 0x80 &&
        byte(2) <= 0xBF) {
      unsigned cp = 0xD000 | ((byte(1) & 0x3F) << 6) | (byte(2) & 0x3F);
      out += "\\u";
      for (int shift = 12; shift >= 0; shift -= 4)
        out.push_back(digits[(cp >> shift) & 0xF]);
      pos += 3;
      continue;
    }
    out += "\\x";
    out.push_back(digits[byte(0) >> 4]);
    out.push_back(digits[byte(0) & 0xF]);
    ++pos;
  }
  return out;
}

std::string shortest_double(double value) {
  char buffer[40];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof buffer, "%.*g", precision, value);
    if (std::strtod(buffer, nullptr) == value) break;
  }
  return buffer;
}

std::set<std::string> words_in(const std::string &text) {
  auto word_byte = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || static_cast<unsigned char>(c) >= 0x80;
  };
  std::set<std::string> words;
  for (size_t i = 0; i < text.size();) {
    size_t end = i;
    while (end < text.size() && word_byte(text[end]))
      ++end;
    if (end == i) {
      ++i;
      continue;
    }
    if (!(text[i] >= '0' && text[i] <= '9')) words.insert(text.substr(i, end - i));
    i = end;
  }
  return words;
}

} // namespace helion
