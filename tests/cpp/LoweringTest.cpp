// Type and shape propagation through host code and device lowering: the IR
// a kernel lowers to, and the user errors it must raise (with line and caret).

#include "pipeline/Compile.h"
#include "support/Diagnostics.h"
#include "TestRequests.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace helion {
namespace {

using requests::kernel_request;
using requests::tensor_arg;

std::string lowered_ir(const Json &req) {
  CompiledKernel kernel(req);
  std::string dump = kernel.dump_stages(kernel.config_spec().default_config());
  size_t begin = dump.find("== lower (");
  size_t end = dump.find("== index_type (");
  return dump.substr(begin, end - begin);
}

/// The user error compiling `req` raises (its kind and rendered message).
std::pair<std::string, std::string> user_error(const Json &req) {
  try {
    CompiledKernel kernel(req);
    kernel.generate(kernel.config_spec().default_config());
  } catch (const UserError &e) {
    return {e.kind(), e.what()};
  }
  return {"", ""};
}

const char *kMatmul = R"(def k(x, y):
    m, kx = x.size()
    ky, n = y.size()
    out = torch.empty([m, n], dtype=x.dtype, device=x.device)
    for tile_m, tile_n in hl.tile([m, n]):
        acc = hl.zeros([tile_m, tile_n], dtype=torch.float32)
        for tile_k in hl.tile(ky):
            acc = torch.addmm(acc, x[tile_m, tile_k], y[tile_k, tile_n])
        out[tile_m, tile_n] = acc
    return out
)";

TEST(LoweringTest, MatmulShapesFlowThroughTheLoop) {
  std::string ir = lowered_ir(kernel_request(
      kMatmul, {tensor_arg("x", "float16", {64, 32}), tensor_arg("y", "float16", {32, 48})}));
  EXPECT_NE(ir.find("block b0 tile [0, 64)"), std::string::npos) << ir;
  EXPECT_NE(ir.find("block b2 tile [0, 32)"), std::string::npos) << ir;
  EXPECT_NE(ir.find("float16[b0, b2] = load x[b0, b2]"), std::string::npos) << ir;
  EXPECT_NE(ir.find("float16[b2, b1] = load y[b2, b1]"), std::string::npos) << ir;
  EXPECT_NE(ir.find("float32[b0, b1] = dot"), std::string::npos) << ir;
  EXPECT_NE(ir.find("store out[b0, b1]"), std::string::npos) << ir;
}

TEST(LoweringTest, MismatchedInnerSizesFailAtCompileTime) {
  // The seed's own call: x and y both [2048, 2028], so k of x is not k of y.
  auto [kind, message] = user_error(kernel_request(kMatmul, {tensor_arg("x", "float32", {2048, 2028}),
                                                      tensor_arg("y", "float32", {2048, 2028})}));
  EXPECT_EQ(kind, "ShapeMismatch");
  EXPECT_NE(message.find("ShapeMismatch in kernel 'k' at k.py:8:"), std::string::npos) << message;
  EXPECT_NE(message.find("spans 2048, but dimension 1 of x has size 2028"), std::string::npos)
      << message;
  EXPECT_NE(message.find("^^^"), std::string::npos) << message;
}

TEST(LoweringTest, DynamicShapesWithEqualValuesGetAHostGuard) {
  Json req =
      kernel_request(kMatmul, {tensor_arg("x", "float32", {64, 32}), tensor_arg("y", "float32", {32, 48})},
              /*static_shapes=*/false);
  CompiledKernel kernel(req);
  std::string code = kernel.generate(kernel.config_spec().default_config());
  // Equal sizes share a symbol, so no guard is needed and sizes are kernel arguments.
  EXPECT_NE(code.find("x_size_0"), std::string::npos) << code;
  EXPECT_NE(code.find("x.size(1)"), std::string::npos) << code;
}

TEST(LoweringTest, FullSliceBecomesAReductionDimShared) {
  const char *source = R"(def k(x, w):
    m, n = x.size()
    out = torch.empty_like(x)
    for tile_m in hl.tile(m):
        row = x[tile_m, :]
        out[tile_m, :] = row * w[:] / row.sum(-1, keepdim=True)
    return out
)";
  std::string ir = lowered_ir(
      kernel_request(source, {tensor_arg("x", "float32", {16, 100}), tensor_arg("w", "float32", {100})}));
  EXPECT_NE(ir.find("block b1 reduction [0, 100)"), std::string::npos) << ir;
  EXPECT_EQ(ir.find("block b2"), std::string::npos) << "x and w share one reduction dim\n" << ir;
  EXPECT_NE(ir.find("float32[b0, 1] = reduce.sum"), std::string::npos) << ir;
}

TEST(LoweringTest, HalfMathRunsInFloat32) {
  const char *source = R"(def k(x):
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = torch.exp(x[tile])
    return out
)";
  std::string ir = lowered_ir(kernel_request(source, {tensor_arg("x", "float16", {64})}));
  EXPECT_NE(ir.find("float32[b0] = cast"), std::string::npos) << ir;
  EXPECT_NE(ir.find("float32[b0] = unary.exp"), std::string::npos) << ir;
  EXPECT_NE(ir.find("float16[b0] = cast"), std::string::npos) << ir;
}

struct ErrorCase {
  const char *name;
  const char *body; // the device loop's body, indented 8 spaces
  const char *kind;
  const char *mentions;
};

class DeviceErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(DeviceErrorTest, NamesTheKernelTheLineAndTheProblem) {
  const ErrorCase &c = GetParam();
  std::string source = std::string("def k(x, y):\n    out = torch.empty_like(x)\n") +
                       "    for tile in hl.tile(x.size(0)):\n" + c.body + "    return out\n";
  auto [kind, message] = user_error(
      kernel_request(source, {tensor_arg("x", "float32", {64}), tensor_arg("y", "float32", {32})}));
  EXPECT_EQ(kind, c.kind) << message;
  EXPECT_NE(message.find("in kernel 'k' at k.py:4:"), std::string::npos) << message;
  EXPECT_NE(message.find("^"), std::string::npos) << message;
  EXPECT_NE(message.find(c.mentions), std::string::npos) << message;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, DeviceErrorTest,
    ::testing::Values(
        ErrorCase{"unsupported_op", "        out[tile] = torch.cummax(x[tile], 0)\n",
                  "UnsupportedOp", "torch.cummax"},
        ErrorCase{"break_in_range_loop", "        for i in range(3): break\n",
                  "UnsupportedSyntax", "break"},
        ErrorCase{"loop_over_name", "        for i in x:\n            pass\n",
                  "InvalidDeviceForLoop", "hl.tile"},
        ErrorCase{"host_tensor", "        out[tile] = x\n", "HostTensorDirectUsage", "x[tile]"},
        ErrorCase{"wrong_rank", "        out[tile] = x[tile, tile]\n", "RankMismatch", "rank 1"},
        ErrorCase{"other_size", "        out[tile] = y[tile]\n", "ShapeMismatch", "size 32"},
        ErrorCase{"host_assign", "        out = x[tile]\n", "CannotModifyHostVariableOnDevice",
                  "'out'"},
        ErrorCase{"return", "        return out\n", "NotAllowedOnDevice", "return"},
        ErrorCase{"undefined", "        out[tile] = nowhere\n", "UndefinedVariable", "'nowhere'"}),
    [](const ::testing::TestParamInfo<ErrorCase> &info) { return std::string(info.param.name); });

TEST(LoweringTest, TensorsOnDifferentDevicesAreAnError) {
  Json y = tensor_arg("y", "float32", {64});
  y["device"] = "cpu";
  const char *source = R"(def k(x, y):
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile] + y[tile]
    return out
)";
  auto [kind, message] = user_error(kernel_request(source, {tensor_arg("x", "float32", {64}), y}));
  EXPECT_EQ(kind, "DeviceMismatch") << message;
  EXPECT_NE(message.find("'y' is on cpu but 'x' is on cuda:0"), std::string::npos) << message;
}

TEST(LoweringTest, NoDeviceLoopIsAnError) {
  auto [kind, message] =
      user_error(kernel_request("def k(x):\n    return x\n", {tensor_arg("x", "float32", {4})}));
  EXPECT_EQ(kind, "NoDeviceLoopsInKernel") << message;
}

} // namespace
} // namespace helion
