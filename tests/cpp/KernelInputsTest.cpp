// Arguments checked against how the kernel uses them: a non-tensor used as a
// tensor is an InvalidArgument at its first such use, naming its Python type.

#include "pipeline/Compile.h"
#include "support/Diagnostics.h"
#include "TestRequests.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace helion {
namespace {

Json tensor(const std::string &name) {
  return requests::tensor_arg(name, "float32", {64});
}

/// A constexpr None argument, as the Python layer describes `None`.
Json none(const std::string &name) {
  Json arg = Json::object();
  arg["name"] = name;
  arg["kind"] = "constexpr";
  arg["value"] = Json();
  arg["type"] = "NoneType";
  return arg;
}

std::pair<std::string, std::string> user_error(const std::string &source, std::vector<Json> args) {
  Json r = requests::kernel_request(source, args);
  r["settings"] = Json::object();
  try {
    CompiledKernel kernel(r);
    kernel.generate(kernel.config_spec().default_config());
  } catch (const UserError &e) {
    return {e.kind(), e.what()};
  }
  return {"", ""};
}

TEST(KernelInputsTest, NonTensorUsedAsTensorInHostCode) {
  const char *source = R"(def k(x, y):
    n = x.size(0)
    out = torch.empty_like(y)
    for tile in hl.tile(n):
        out[tile] = y[tile]
    return out
)";
  auto [kind, message] = user_error(source, {none("x"), tensor("y")});
  EXPECT_EQ(kind, "InvalidArgument") << message;
  EXPECT_NE(message.find("at k.py:2:\n        n = x.size(0)\n            ^\n"), std::string::npos)
      << message;
  EXPECT_NE(message.find("argument 'x' must be a torch.Tensor"), std::string::npos) << message;
  EXPECT_NE(message.find("got NoneType"), std::string::npos) << message;
}

TEST(KernelInputsTest, NonTensorUsedAsTensorInDeviceCode) {
  const char *source = R"(def k(x, y):
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile] + y[tile]
    return out
)";
  auto [kind, message] = user_error(source, {tensor("x"), none("y")});
  EXPECT_EQ(kind, "InvalidArgument") << message;
  EXPECT_NE(message.find("at k.py:4:"), std::string::npos) << message;
  EXPECT_NE(message.find("argument 'y'"), std::string::npos) << message;
}

TEST(KernelInputsTest, ReboundParameterIsNotTheArgument) {
  const char *source = R"(def k(x, y):
    y = torch.empty_like(x)
    n = y.size(0)
    for tile in hl.tile(n):
        y[tile] = x[tile]
    return y
)";
  auto [kind, message] = user_error(source, {tensor("x"), none("y")});
  EXPECT_EQ(kind, "") << message;
}

TEST(KernelInputsTest, IndexingAListIsNotUsingItAsATensor) {
  Json list = Json::object();
  list["name"] = "sizes";
  list["kind"] = "object";
  list["type"] = "list";
  const char *source = R"(def k(x, sizes):
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile] * sizes[0]
    return out
)";
  auto [kind, message] = user_error(source, {tensor("x"), list});
  EXPECT_NE(kind, "InvalidArgument") << message;
  auto [array_kind, array_message] = user_error(source, {tensor("x"), none("sizes")});
  EXPECT_EQ(array_kind, "InvalidArgument") << array_message;
}

TEST(KernelInputsTest, SourceWithoutFunctionDefinition) {
  auto [kind, message] = user_error("k = lambda x: x\n", {tensor("x")});
  EXPECT_EQ(kind, "UnsupportedSyntax") << message;
  EXPECT_NE(message.find("holds no function definition"), std::string::npos) << message;
}

} // namespace
} // namespace helion
