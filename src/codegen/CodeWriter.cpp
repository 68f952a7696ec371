#include "codegen/CodeWriter.h"

#include "codegen/PythonText.h"
#include "support/Text.h"

namespace helion::codegen {

void CodeWriter::line(const std::string &text) {
  lines_.push_back(std::string(depth_ * 4, ' ') + text);
  if (text.rfind("#", 0) != 0) ++code_lines_;
}

void CodeWriter::indented_lines(const std::string &text) {
  for (const std::string &l : split_lines(text)) {
    lines_.push_back(l);
    ++code_lines_;
  }
}

static std::string trim(const std::string &s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

void CodeWriter::set_source(const SourceSpan &span) {
  if (!span.valid() || span.line == last_line_) return;
  last_line_ = span.line;
  std::string text = span.line - 1 < static_cast<int>(source_lines_.size())
                         ? trim(source_lines_[span.line - 1])
                         : "";
  line("# src[line " + std::to_string(first_line_ + span.line - 1) + "]: " + text);
}

std::string CodeWriter::str() const {
  std::string out;
  for (const std::string &l : lines_)
    out += l + "\n";
  return out;
}

} // namespace helion::codegen
