#include "support/Diagnostics.h"

#include <sstream>
#include <vector>

namespace helion {

static std::vector<std::string> split_lines(const std::string &text) {
  std::vector<std::string> lines;
  std::string current;
  for (char c : text) {
    if (c == '\n') {
      lines.push_back(current);
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  lines.push_back(current);
  return lines;
}

std::string render_diagnostic(const SourceContext &context, const std::string &kind,
                              const std::string &message, const SourceSpan &span) {
  std::ostringstream out;
  out << kind << " in kernel '" << context.kernel_name << "'";
  if (!span.valid()) {
    out << ": " << message;
    return out.str();
  }
  int file_line = context.first_line + span.line - 1;
  out << " at " << context.filename << ":" << file_line << ":\n";
  std::vector<std::string> lines = split_lines(context.source);
  if (span.line - 1 < static_cast<int>(lines.size())) {
    const std::string &text = lines[span.line - 1];
    out << "    " << text << "\n    ";
    int end = span.end_line == span.line ? span.end_col : static_cast<int>(text.size());
    if (end <= span.col) end = span.col + 1;
    out << std::string(span.col, ' ') << std::string(end - span.col, '^') << "\n";
  }
  out << message;
  return out.str();
}

} // namespace helion
