#include "support/Diagnostics.h"

#include "support/Json.h"
#include "support/Text.h"

namespace helion {

namespace {

std::string render(const SourceContext &context, const std::string &kind,
                   const std::string &message, const SourceSpan &span) {
  std::string out = kind + " in kernel '" + context.kernel_name + "'";
  if (!span.valid()) return out + ": " + message;
  int file_line = context.first_line + span.line - 1;
  out += " at " + context.filename + ":" + std::to_string(file_line) + ":\n";
  std::vector<std::string> lines = split_lines(context.source);
  if (span.line - 1 < static_cast<int>(lines.size())) {
    const std::string &text = lines[span.line - 1];
    int end = span.end_line == span.line ? span.end_col : static_cast<int>(text.size());
    if (end <= span.col) end = span.col + 1;
    out += "    " + text + "\n    " + std::string(span.col, ' ') +
           std::string(end - span.col, '^') + "\n";
  }
  return out + message;
}

} // namespace

SourceContext SourceContext::from_request(const Json &request) {
  SourceContext context;
  context.kernel_name = json_field(request, "kernel_name").get_ref<const std::string &>();
  context.filename = request.contains("filename")
                         ? json_field(request, "filename").get_ref<const std::string &>()
                         : "<kernel>";
  context.source = json_field(request, "source").get_ref<const std::string &>();
  context.first_line =
      request.contains("first_line") ? json_int(json_field(request, "first_line")) : 1;
  return context;
}

std::string render_diagnostic(const SourceContext &context, const std::string &kind,
                              const std::string &message, const SourceSpan &span) {
  // A source line the lexer rejected for its bytes, or a string value made
  // by an escape such as '\ud800', must still read as a Python str.
  return escape_invalid_utf8(render(context, kind, message, span));
}

} // namespace helion
