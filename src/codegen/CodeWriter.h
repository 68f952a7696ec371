#pragma once

#include "support/SourceSpan.h"

#include <string>
#include <vector>

namespace helion::codegen {

/// Lines of Python with indentation, each group of lines introduced by a
/// comment naming the kernel source line it came from.
class CodeWriter {
public:
  explicit CodeWriter(std::vector<std::string> source_lines, int first_line)
      : source_lines_(std::move(source_lines)), first_line_(first_line) {}

  void line(const std::string &text);
  /// Lines of code written so far (source comments not counted): a block
  /// that wrote none needs a `pass`.
  int code_lines() const { return code_lines_; }
  /// Lines already indented (e.g. an unparsed statement at depth()): their
  /// text is kept as it is, so a multi-line string keeps its value.
  void indented_lines(const std::string &text);
  void indent() { ++depth_; }
  void dedent() { --depth_; }
  int depth() const { return depth_; }
  /// Lines written from now on come from `span`'s first line; writes the
  /// `# src[line N]: <text>` comment when the line changes.
  void set_source(const SourceSpan &span);
  void forget_source() { last_line_ = -1; }
  std::string str() const;

private:
  std::vector<std::string> source_lines_;
  int first_line_;
  std::vector<std::string> lines_;
  int depth_ = 0;
  int code_lines_ = 0;
  int last_line_ = -1;
};

} // namespace helion::codegen
