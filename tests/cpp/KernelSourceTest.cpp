// Kernel sources that must fail with a user error through the whole compile
// request (rendered with kernel name, line and caret), never with an internal
// error or a crash: no function to compile, nesting past the parser's limits,
// bytes that are not UTF-8.

#include "pipeline/Compile.h"
#include "support/Diagnostics.h"
#include "support/Json.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>

namespace helion {
namespace {

Json request(const std::string &source) {
  Json r = parse_json_text(R"({
    "kernel_name": "k", "filename": "k.py", "first_line": 10,
    "args": [{"name": "x", "kind": "tensor", "dtype": "float32", "shape": [64],
              "stride": [1], "device": "cuda:0"}],
    "globals": {"torch": {"kind": "module", "name": "torch"},
                "hl": {"kind": "module", "name": "helion.language"}},
    "settings": {"static_shapes": true}})");
  r["source"] = source;
  return r;
}

/// The kind and rendered message of the user error that compiling `source`
/// for the default config raises; where checking the source alone raises
/// one, it must be the same.
std::pair<std::string, std::string> user_error(const std::string &source) {
  std::pair<std::string, std::string> checked;
  try {
    check_kernel_source(request(source));
  } catch (const UserError &e) {
    checked = {e.kind(), e.what()};
  }
  try {
    CompiledKernel kernel(request(source));
    kernel.generate(kernel.config_spec().default_config());
  } catch (const UserError &e) {
    if (!checked.first.empty()) EXPECT_EQ(checked.second, e.what());
    return {e.kind(), e.what()};
  }
  ADD_FAILURE() << "no error for:\n" << source;
  return {};
}

std::string repeat(const std::string &text, int times) {
  std::string out;
  for (int i = 0; i < times; ++i)
    out += text;
  return out;
}

/// A kernel whose device loop stores `value` into x[t].
std::string kernel_storing(const std::string &value) {
  return "def k(x):\n    for t in hl.tile(64):\n        x[t] = " + value + "\n    return x\n";
}

TEST(KernelSourceTest, NoFunctionDefinition) {
  // What the source of `helion.kernel(lambda x: x)` looks like.
  auto [kind, message] = user_error("k = helion.kernel(lambda x: x)\n");
  EXPECT_EQ(kind, "UnsupportedSyntax");
  EXPECT_EQ(message, "UnsupportedSyntax in kernel 'k': the kernel's source holds no function "
                     "definition; define the kernel with a `def` statement");
}

TEST(KernelSourceTest, DeepExpressionsOnTheDevice) {
  const std::string too_deep = "expression nested too deeply (more than 200 levels); rewrite it "
                               "as smaller expressions with intermediate variables";
  for (const std::string &value :
       {repeat("-", 20000) + "x[t]", "x[t]" + repeat(" + 1", 20000),
        "x[t]" + repeat(".T", 20000), repeat("(", 5000) + "x[t]" + repeat(")", 5000)}) {
    auto [kind, message] = user_error(kernel_storing(value));
    EXPECT_EQ(kind, "SyntaxError");
    EXPECT_NE(message.find("SyntaxError in kernel 'k' at k.py:12:\n"), std::string::npos)
        << message;
    if (value[0] != '(') EXPECT_NE(message.find(too_deep), std::string::npos) << message;
  }
}

TEST(KernelSourceTest, DeepButAllowedExpressionsCompile) {
  // Just under the limit the later stages recurse over the whole tree.
  for (const std::string &value :
       {repeat("-", 198) + "x[t]", "x[t]" + repeat(" + 1", 198),
        repeat("torch.abs(", 197) + "x[t]" + repeat(")", 197)}) {
    CompiledKernel kernel(request(kernel_storing(value)));
    std::string module = kernel.generate(kernel.config_spec().default_config());
    EXPECT_NE(module.find("def k(x"), std::string::npos);
  }
}

TEST(KernelSourceTest, TooManyLevelsOfIndentation) {
  std::string source = "def k(x):\n";
  for (int i = 1; i <= 2000; ++i)
    source += std::string(i, ' ') + "if x.ndim == 1:\n";
  auto [kind, message] = user_error(source + std::string(2001, ' ') + "pass\n");
  EXPECT_EQ(kind, "SyntaxError");
  EXPECT_NE(message.find("too many levels of indentation (more than 99)"), std::string::npos);
}

TEST(KernelSourceTest, InvalidUtf8IsShownAsEscapes) {
  auto [kind, message] = user_error(kernel_storing("x[t] + y\xff\xfe"));
  EXPECT_EQ(kind, "SyntaxError");
  EXPECT_EQ(message, "SyntaxError in kernel 'k' at k.py:12:\n"
                     "            x[t] = x[t] + y\\xff\\xfe\n"
                     "                           ^\n"
                     "source is not valid utf-8 (byte 0xff); save the file as utf-8");
}

TEST(KernelSourceTest, AttributeOfATensorMethod) {
  // `x.reshape.view` names no function; calling it used to reach for the
  // tensor of a method that had none.
  std::string source = "def k(x):\n    y = x.reshape.view(-1).transpose(0, 1)\n"
                       "    for t in hl.tile(64):\n        x[t] = x[t] + 1\n    return x\n";
  CompiledKernel kernel(request(source));
  EXPECT_NE(kernel.generate(kernel.config_spec().default_config()).find("def k(x"),
            std::string::npos);
  auto [kind, message] = user_error(kernel_storing("x.reshape.size(0)[t]"));
  EXPECT_FALSE(kind.empty()) << message;
}


TEST(KernelSourceTest, SizesPastInt64WrapInsteadOfOverflowing) {
  // No tensor has 2**66 elements, but a request may say so; shape
  // arithmetic must stay defined (the sanitized build checks it).
  Json r = request("def k(x):\n    y = x.reshape([-1])\n    z = x.numel() * x.numel()\n"
                   "    for t in hl.tile(64):\n        x[t] = x[t] + 1\n    return x\n");
  Json arg = parse_json_text(R"({"name": "x", "kind": "tensor", "dtype": "float32",
      "shape": [8589934592, 8589934592], "stride": [8589934592, 1], "device": "cuda:0"})");
  Json args = Json::array();
  args.push_back(arg);
  r["args"] = args;
  try {
    CompiledKernel kernel(r);
    kernel.generate(kernel.config_spec().default_config());
  } catch (const UserError &) {
  }
}


TEST(KernelSourceTest, LongRunsOfShapeArithmetic) {
  // Each statement deepens the symbolic size; past kMaxSymDepth the compiler
  // stops modelling it instead of recursing over 100000 levels.
  auto source = [](int statements, const std::string &use) {
    std::string s = "def k(x):\n    n = x.size(0)\n";
    for (int i = 0; i < statements; ++i)
      s += "    n = n * 2 + 1\n";
    return s + "    for t in hl.tile(x.size(0)):\n        x[t] = x[t] + " + use +
           "\n    return x\n";
  };
  Json dynamic = request(source(50000, "n"));
  dynamic["settings"] = parse_json_text(R"({"static_shapes": false})");
  try {
    CompiledKernel kernel(dynamic);
    kernel.generate(kernel.config_spec().default_config());
    ADD_FAILURE() << "no error";
  } catch (const UserError &e) {
    EXPECT_NE(std::string(e.what()).find("'n' is computed by host code the compiler does not "
                                         "model"),
              std::string::npos)
        << e.what();
  }
  // A few levels are modelled as before.
  Json shallow = request(source(10, "n"));
  shallow["settings"] = parse_json_text(R"({"static_shapes": false})");
  CompiledKernel kernel(shallow);
  EXPECT_NE(kernel.generate(kernel.config_spec().default_config()).find("* 2 + 1"),
            std::string::npos);
}

} // namespace
} // namespace helion
