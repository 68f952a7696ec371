#pragma once

#include "parse/Ast.h"

#include <string>

namespace helion {

/// Parses `source` (a kernel's dedented source, decorators included) into a
/// module. Throws UserError("UnsupportedSyntax" or "SyntaxError") with the
/// span of the offending token for input outside the supported subset, and
/// for expressions more than 200 levels deep or statements more than 200
/// blocks (or `elif` branches) deep, which later stages could not recurse
/// over safely.
ast::Module parse_module(const std::string &source);

} // namespace helion
