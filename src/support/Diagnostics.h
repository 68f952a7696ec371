#pragma once

#include "support/SourceSpan.h"

#include <nlohmann/json_fwd.hpp>
#include <stdexcept>
#include <string>

namespace helion {

/// A mistake in the user's kernel, arguments or config. `kind` is the name of
/// the `helion.exc` class the Python layer raises (e.g. "ShapeMismatch").
/// The message is lower case, without a trailing period, and says what to do.
class UserError : public std::runtime_error {
public:
  UserError(std::string kind, std::string message, SourceSpan span = {})
      : std::runtime_error(message), kind_(std::move(kind)), span_(span) {}

  const std::string &kind() const { return kind_; }
  const SourceSpan &span() const { return span_; }

private:
  std::string kind_;
  SourceSpan span_;
};

/// A bug in the compiler itself: never the user's fault.
class InternalError : public std::logic_error {
public:
  using std::logic_error::logic_error;
};

/// Throws InternalError with `message` when `condition` is false.
inline void check_internal(bool condition, const std::string &message) {
  if (!condition) throw InternalError(message);
}

using Json = nlohmann::ordered_json; // support/Json.h

/// Where a kernel's source came from, for rendering diagnostics.
struct SourceContext {
  std::string kernel_name;
  std::string filename;
  std::string source; ///< the kernel's source text (dedented), line 1 = `first_line`
  int first_line = 1; ///< line number of the source's first line in `filename`

  /// From a compile request's kernel_name, filename, first_line and source.
  static SourceContext from_request(const Json &request);
};

/// Renders "<kind> in kernel 'name' at file:line:\n  <source line>\n  ^^^\n<message>".
std::string render_diagnostic(const SourceContext &context, const std::string &kind,
                              const std::string &message, const SourceSpan &span);

} // namespace helion
