// choose_index_type: int32 offsets only where every span the kernel reaches
// fits them, an int64 twin where symbolic sizes may outgrow them.

#include "passes/IndexType.h"

#include "pipeline/Compile.h"
#include "support/Diagnostics.h"

#include <gtest/gtest.h>

#include <string>

namespace helion {
namespace {

// `out` is allocated by host code: its size never appears among the arguments.
const char *kOuter = R"(def outer(x, y):
    out = torch.empty([x.size(0), y.size(0)], dtype=x.dtype, device=x.device)
    for tile_i, tile_j in hl.tile([x.size(0), y.size(0)]):
        out[tile_i, tile_j] = x[tile_i, None] * y[None, tile_j]
    return out
)";

Json outer_request(int64_t x_size, int64_t y_size, bool static_shapes,
                   const std::string &index_dtype, const char *source = kOuter) {
  auto tensor = [](const std::string &name, int64_t size) {
    return R"({"name": ")" + name + R"(", "kind": "tensor", "dtype": "int8", "shape": [)" +
           std::to_string(size) + R"(], "stride": [1], "device": "cuda:0"})";
  };
  std::string dtype = index_dtype.empty() ? "null" : "\"" + index_dtype + "\"";
  Json request = parse_json_text(
      R"({"kernel_name": "outer", "filename": "outer.py", "first_line": 1, "args": [)" +
      tensor("x", x_size) + ", " + tensor("y", y_size) +
      R"(], "globals": {"torch": {"kind": "module", "name": "torch"},
                         "hl": {"kind": "module", "name": "helion.language"}},
          "settings": {"static_shapes": )" +
      (static_shapes ? "true" : "false") + R"(, "index_dtype": )" + dtype + "}}");
  request["source"] = source;
  return request;
}

std::string generated(const Json &request) {
  CompiledKernel kernel(request);
  return kernel.generate(kernel.config_spec().default_config());
}

bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

TEST(IndexTypeTest, SmallTensorsUseInt32WithoutChecks) {
  std::string code = generated(outer_request(64, 32, true, ""));
  EXPECT_FALSE(contains(code, "tl.int64")) << code;
  EXPECT_FALSE(contains(code, "2147483647")) << code;
}

TEST(IndexTypeTest, AHostAllocationPastInt32MakesOffsetsInt64) {
  // 65536 * 32769 elements: more than 2**31 though each argument is small.
  std::string code = generated(outer_request(65536, 32769, true, ""));
  EXPECT_TRUE(contains(code, "tl.arange(0, _BLOCK_SIZE_0).to(tl.int64)")) << code;
  EXPECT_TRUE(contains(code, "pid_0.to(tl.int64) * _BLOCK_SIZE_0")) << code;
  EXPECT_FALSE(contains(code, "_helion_outer_int64")) << "sizes are fixed: no twin\n" << code;
}

TEST(IndexTypeTest, FixedInt32PastItsRangeIsAUserError) {
  try {
    generated(outer_request(65536, 32769, true, "int32"));
    FAIL() << "expected IndexOffsetOutOfRangeForInt32";
  } catch (const UserError &e) {
    EXPECT_EQ(e.kind(), "IndexOffsetOutOfRangeForInt32");
    EXPECT_TRUE(contains(e.what(), "tensor 'out' spans 2147549184 elements")) << e.what();
    EXPECT_TRUE(contains(e.what(), "index_dtype='int64'")) << e.what();
  }
}

TEST(IndexTypeTest, SymbolicSizesCheckTheSpansAtLaunchAndKeepAnInt64Twin) {
  std::string code = generated(outer_request(64, 32, false, ""));
  EXPECT_TRUE(contains(code, "def _helion_outer(")) << code;
  EXPECT_TRUE(contains(code, "def _helion_outer_int64(")) << code;
  // The span of `out`, from sizes known only when the host code runs.
  EXPECT_TRUE(contains(code, "(x.size(0) - 1) * max(y.size(0), 1) + (y.size(0) - 1) + 1 <= "
                             "2147483647"))
      << code;
  EXPECT_TRUE(contains(code, "    else:\n        _helion_outer_int64[")) << code;
}

TEST(IndexTypeTest, SymbolicSizesWithFixedInt32RaiseAtLaunchInsteadOfWrapping) {
  std::string code = generated(outer_request(64, 32, false, "int32"));
  EXPECT_FALSE(contains(code, "_helion_outer_int64")) << code;
  EXPECT_TRUE(contains(code, "raise IndexOffsetOutOfRangeForInt32(")) << code;
}

TEST(IndexTypeTest, FixedInt64NeedsNoChecks) {
  std::string code = generated(outer_request(64, 32, false, "int64"));
  EXPECT_TRUE(contains(code, ".to(tl.int64)")) << code;
  EXPECT_FALSE(contains(code, "2147483647")) << code;
}

TEST(IndexTypeTest, GatheredAndScalarIndicesWidenInTheInt64Twin) {
  // int32 indices times an int32 stride overflow though each fits.
  const char *gather = R"(def outer(x, y):
    out = torch.empty([x.size(0), y.size(0)], dtype=x.dtype, device=x.device)
    for tile in hl.tile(x.size(0)):
        out[tile, y.size(0) - 1] = y[x[tile]]
    return out
)";
  std::string code = generated(outer_request(64, 32, false, "", gather));
  std::string twin = code.substr(code.find("def _helion_outer_int64("));
  EXPECT_TRUE(contains(twin, "y + tl.cast(load, tl.int64) * y_stride_0")) << twin;
  EXPECT_TRUE(contains(twin, "tl.cast(y_size_0 - 1, tl.int64)")) << twin;
  std::string narrow = code.substr(0, code.find("def _helion_outer_int64("));
  EXPECT_FALSE(contains(narrow, "tl.cast(")) << narrow;
}

} // namespace
} // namespace helion
