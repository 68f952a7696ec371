// helion_ast_dump [--unparse] FILE: parses FILE as kernel source and prints
// the tree in the canonical form of `helion::dump`, which
// tests/cpp/parser_differential.py compares against the same form built from
// Python's `ast`; with --unparse, prints the tree back as Python source.
//
// Exit status: 0 on success, 1 for a UserError (printed as
// "Kind: message @line:col-end_line:end_col" on stderr), 2 for usage or I/O
// problems.

#include "parse/Parser.h"
#include "parse/Unparse.h"
#include "support/Diagnostics.h"

#include <fstream>
#include <iostream>
#include <sstream>

int main(int argc, char **argv) {
  bool unparse = argc == 3 && std::string(argv[1]) == "--unparse";
  if (argc != 2 && !unparse) {
    std::cerr << "usage: helion_ast_dump [--unparse] FILE\n";
    return 2;
  }
  const char *path = argv[argc - 1];
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    std::cerr << "cannot read " << path << "\n";
    return 2;
  }
  std::stringstream buffer;
  buffer << file.rdbuf();
  try {
    helion::ast::Module module = helion::parse_module(buffer.str());
    if (!unparse) {
      std::cout << helion::dump(module);
      return 0;
    }
    for (const helion::ast::StmtPtr &stmt : module.body)
      std::cout << helion::unparse(*stmt);
  } catch (const helion::UserError &error) {
    const helion::SourceSpan &span = error.span();
    std::cerr << error.kind() << ": " << error.what() << " @" << span.line << ":" << span.col << "-"
              << span.end_line << ":" << span.end_col << "\n";
    return 1;
  }
  return 0;
}
