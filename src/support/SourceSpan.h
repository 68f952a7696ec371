#pragma once

namespace helion {

/// A region of kernel source. Lines are 1-based and columns 0-based (counted in
/// UTF-8 bytes), matching Python's `ast` so spans can be compared against it.
struct SourceSpan {
  int line = 0;
  int col = 0;
  int end_line = 0;
  int end_col = 0;

  bool valid() const { return line > 0; }
  /// The smallest span covering both.
  static SourceSpan cover(const SourceSpan &a, const SourceSpan &b) {
    if (!a.valid()) return b;
    if (!b.valid()) return a;
    SourceSpan s = a;
    if (b.line < s.line || (b.line == s.line && b.col < s.col)) {
      s.line = b.line;
      s.col = b.col;
    }
    if (b.end_line > s.end_line || (b.end_line == s.end_line && b.end_col > s.end_col)) {
      s.end_line = b.end_line;
      s.end_col = b.end_col;
    }
    return s;
  }
};

} // namespace helion
