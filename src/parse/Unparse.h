#pragma once

#include "parse/Ast.h"

#include <map>
#include <string>

namespace helion {

/// Python source for an expression, fully parenthesized only where precedence
/// requires it (so `unparse(parse(s))` reads like `s`).
std::string unparse(const ast::Expr &expr);

/// Text to print instead of some expressions of a tree (an atom each).
using Replacements = std::map<const ast::Expr *, std::string>;

/// Python source for a statement, its nested blocks indented by `indent`
/// spaces per level starting at `indent * level`; ends with a newline.
std::string unparse(const ast::Stmt &stmt, int level = 0, int indent = 4,
                    const Replacements *replacements = nullptr);

/// The tree as indented text, one node per line with its fields named as in
/// Python's `ast` and, if `spans`, its "@line:col-end_line:end_col"; the
/// canonical form tests/cpp/parser_differential.py compares against Python.
std::string dump(const ast::Module &module, bool spans = true);

} // namespace helion
