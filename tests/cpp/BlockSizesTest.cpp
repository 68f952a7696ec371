// The block size each tile block takes under a config (ir::tile_block_size),
// the rule code generation and squeeze_unit_blocks share.

#include "ir/BlockSizes.h"
#include "lower/Lowering.h"
#include "parse/Parser.h"
#include "pipeline/Compile.h"
#include "types/HostTypes.h"
#include "TestRequests.h"

#include <gtest/gtest.h>

namespace helion {
namespace {

using requests::kernel_request;
using requests::tensor_arg;

struct Lowered {
  ir::DeviceKernel device;
  Config config;
};

Lowered lower(const std::string &source, const std::vector<Json> &args) {
  Json req = kernel_request(source, args);
  KernelInputs inputs = KernelInputs::from_request(req);
  ast::Module module = parse_module(inputs.context.source);
  HostProgram host = analyze_host(module, inputs);
  CompiledKernel kernel(req);
  return {lower::lower_device(host, inputs), kernel.config_spec().default_config()};
}

const char *kRowSums = R"(def k(x):
    m, n = x.size()
    out = torch.empty([m], dtype=x.dtype, device=x.device)
    for tile_m in hl.tile(m):
        out[tile_m] = x[tile_m, :].sum(-1)
    return out
)";

TEST(BlockSizesTest, ATileBlockTakesItsCallsEntryForItsDimension) {
  Lowered k = lower(R"(def k(x):
    out = torch.empty_like(x)
    for tile_m, tile_n in hl.tile(x.size()):
        out[tile_m, tile_n] = x[tile_m, tile_n] + 1
    return out
)",
                    {tensor_arg("x", "float32", {64, 48})});
  k.config.tiles.at(0).block_sizes = {16, 1};
  std::optional<ir::TileBlockSize> m = ir::tile_block_size(k.device, k.config, 0);
  std::optional<ir::TileBlockSize> n = ir::tile_block_size(k.device, k.config, 1);
  ASSERT_TRUE(m && n);
  EXPECT_EQ(m->size, 16);
  EXPECT_EQ(n->size, 1);
  EXPECT_EQ(m->call, 0);
  EXPECT_FALSE(m->flattened);

  // Flattened: every block of the call reports the one flat size.
  k.config.tiles.at(0).flatten = true;
  k.config.tiles.at(0).block_sizes.clear();
  k.config.tiles.at(0).flat_block_size = 128;
  for (int b : {0, 1}) {
    std::optional<ir::TileBlockSize> size = ir::tile_block_size(k.device, k.config, b);
    ASSERT_TRUE(size);
    EXPECT_TRUE(size->flattened);
    EXPECT_EQ(size->size, 128);
  }
}

TEST(BlockSizesTest, AReductionBlockHasNoTileSize) {
  Lowered k = lower(kRowSums, {tensor_arg("x", "float32", {64, 48})});
  ASSERT_EQ(k.device.blocks.size(), 2u);
  EXPECT_TRUE(ir::tile_block_size(k.device, k.config, 0));
  EXPECT_FALSE(ir::tile_block_size(k.device, k.config, 1));
}

TEST(BlockSizesTest, OnlyAMatmulsDimensionsFeedADot) {
  Lowered k = lower(R"(def k(x, y):
    out = torch.empty([x.size(0), y.size(1)], dtype=torch.float32, device=x.device)
    for tile_m, tile_n in hl.tile([x.size(0), y.size(1)]):
        out[tile_m, tile_n] = torch.mm(x[tile_m, :], y[:, tile_n])
    return out
)",
                    {tensor_arg("x", "float16", {64, 32}), tensor_arg("y", "float16", {32, 48})});
  ASSERT_EQ(k.device.blocks.size(), 3u);
  for (int b = 0; b < 3; ++b)
    EXPECT_TRUE(ir::feeds_dot(k.device, b)) << b;
  Lowered sums = lower(kRowSums, {tensor_arg("x", "float32", {64, 48})});
  EXPECT_FALSE(ir::feeds_dot(sums.device, 0));
  EXPECT_FALSE(ir::feeds_dot(sums.device, 1));
}

} // namespace
} // namespace helion
