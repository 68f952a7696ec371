#include "config/ConfigSpec.h"

#include "config/ConfigRules.h"
#include "support/Diagnostics.h"

#include <gtest/gtest.h>

#include <functional>
#include <iterator>
#include <limits>
#include <random>

using namespace helion;

namespace {

TileCallFacts tile(std::vector<int64_t> hints, std::vector<int64_t> mins, bool is_grid,
                   std::vector<std::optional<int64_t>> fixed = {}, int line = 0) {
  TileCallFacts call;
  call.size_hints = std::move(hints);
  call.min_block_sizes = std::move(mins);
  call.is_grid = is_grid;
  call.fixed_block_sizes =
      fixed.empty() ? std::vector<std::optional<int64_t>>(call.size_hints.size()) : fixed;
  if (line > 0) call.span = SourceSpan{line, 4, line, 20};
  return call;
}

ReductionFacts reduction(int64_t hint) {
  ReductionFacts facts;
  facts.size_hint = hint;
  return facts;
}

/// The seed's matmul: `for tile_m, tile_n in hl.tile([m, n])` around
/// `for tile_k in hl.tile(k)`, both feeding tl.dot.
KernelFacts matmul_facts() {
  KernelFacts facts;
  facts.tiles.push_back(tile({1024, 2048}, {16, 16}, true));
  facts.tiles.push_back(tile({512}, {16}, false));
  facts.memory_ops = 3;
  facts.has_matmul = true;
  // Range entries: the top-level loop, then the k loop; both loads take an
  // eviction policy.
  LoopFacts top_level, k_loop;
  top_level.top_level = true;
  facts.loops = {top_level, k_loop};
  facts.policy_loads = 2;
  return facts;
}

/// A row softmax: a 1-D grid tile over rows, one reduction over columns.
KernelFacts softmax_facts(int64_t columns) {
  KernelFacts facts;
  facts.tiles.push_back(tile({4096}, {1}, true));
  facts.reductions.push_back(reduction(columns));
  facts.memory_ops = 2;
  return facts;
}

Json parse(const std::string &text) {
  return parse_json_text(text);
}

std::string invalid_message(const ConfigSpec &spec, const std::string &text) {
  try {
    spec.normalize(parse(text));
  } catch (const UserError &error) {
    EXPECT_EQ(error.kind(), "InvalidConfig");
    return error.what();
  }
  return "<no error>";
}

std::string validate_message(const ConfigSpec &spec, const Config &config) {
  try {
    spec.validate(config);
  } catch (const UserError &error) {
    EXPECT_EQ(error.kind(), "InvalidConfig");
    return error.what();
  }
  return "<no error>";
}

void expect_same(const Config &a, const Config &b) {
  ASSERT_EQ(a.tiles.size(), b.tiles.size());
  for (size_t i = 0; i < a.tiles.size(); ++i) {
    EXPECT_EQ(a.tiles[i].block_sizes, b.tiles[i].block_sizes) << "tile " << i;
    EXPECT_EQ(a.tiles[i].flatten, b.tiles[i].flatten) << "tile " << i;
    EXPECT_EQ(a.tiles[i].flat_block_size, b.tiles[i].flat_block_size) << "tile " << i;
    EXPECT_EQ(a.tiles[i].loop_order, b.tiles[i].loop_order) << "tile " << i;
  }
  EXPECT_EQ(a.reduction_loops, b.reduction_loops);
  EXPECT_EQ(a.l2_grouping, b.l2_grouping);
  EXPECT_EQ(a.indexing, b.indexing);
  EXPECT_EQ(a.pid_type, b.pid_type);
  EXPECT_EQ(a.num_sm_multiplier, b.num_sm_multiplier);
  EXPECT_EQ(a.num_warps, b.num_warps);
  EXPECT_EQ(a.num_stages, b.num_stages);
}

TEST(ConfigSpecTest, BothSpellingsGiveTheSameCanonicalConfig) {
  ConfigSpec spec(matmul_facts());
  Config seed = spec.normalize(parse(
      R"({"block_sizes": [[64, 128], [16]], "loop_orders": [[1, 0]], "num_warps": 4,
          "num_stages": 3, "indexing": "block_ptr", "l2_grouping": 32})"));
  Config later = spec.normalize(parse(
      R"({"block_sizes": [64, 128, 16], "loop_orders": [[1, 0]], "flatten_loops": [false],
          "l2_groupings": [32], "pid_type": "flat", "num_warps": 4, "num_stages": 3,
          "indexing": ["block_ptr", "block_ptr", "block_ptr"], "range_unroll_factors": [0, 0],
          "range_num_stages": [0, 0], "range_multi_buffers": [null, null],
          "range_flattens": [null, null], "static_ranges": [],
          "load_eviction_policies": ["", ""], "num_sm_multiplier": 1})"));
  expect_same(seed, later);

  ASSERT_EQ(seed.tiles.size(), 2u);
  EXPECT_EQ(seed.tiles[0].block_sizes, (std::vector<int64_t>{64, 128}));
  EXPECT_FALSE(seed.tiles[0].flatten);
  EXPECT_EQ(seed.tiles[0].loop_order, (std::vector<int>{1, 0}));
  EXPECT_EQ(seed.tiles[1].block_sizes, (std::vector<int64_t>{16}));
  EXPECT_EQ(seed.tiles[1].loop_order, (std::vector<int>{0}));
  EXPECT_EQ(seed.l2_grouping, 32);
  EXPECT_EQ(seed.indexing, (std::vector<std::string>{"block_ptr"}));
  EXPECT_EQ(seed.indexing_for(2), "block_ptr");
  EXPECT_EQ(seed.pid_type, "flat");
  EXPECT_EQ(seed.num_warps, 4);
  EXPECT_EQ(seed.num_stages, 3);

  EXPECT_EQ(dump_text(spec.to_json(seed)),
            R"({"block_sizes": [[64, 128], [16]], "loop_orders": [[1, 0]], "l2_grouping": 32, )"
            R"("indexing": "block_ptr", "num_warps": 4, "num_stages": 3})");
}

TEST(ConfigSpecTest, LoopsOfDotsUnrollOnlyWithFewWarps) {
  ConfigSpec spec(matmul_facts());
  std::string unrolled = R"({"block_sizes": [[64, 16], [16]], "range_unroll_factors": [0, 4], )";
  EXPECT_EQ(spec.normalize(parse(unrolled + R"("num_warps": 8})")).ranges[1].unroll_factor, 4);
  EXPECT_EQ(spec.normalize(parse(R"({"range_unroll_factors": [0, 1], "num_warps": 32})"))
                .ranges[1]
                .unroll_factor,
            1);
  try {
    spec.normalize(parse(unrolled + R"("num_warps": 32})"));
    ADD_FAILURE() << "unrolled by 4 with 32 warps";
  } catch (const UserError &error) {
    EXPECT_EQ(error.kind(), "InvalidConfig");
    EXPECT_NE(std::string(error.what()).find("range_unroll_factors[1]: 4 with num_warps 32"),
              std::string::npos)
        << error.what();
  }
  // The search's configs are settled instead: the loop takes Triton's default.
  Config searched = spec.normalize(parse(R"({"num_warps": 32})"));
  searched.ranges[1].unroll_factor = 4;
  EXPECT_THROW(spec.validate(searched), UserError);
  config_rules::settle_ranges(matmul_facts(), searched);
  EXPECT_EQ(searched.ranges[1].unroll_factor, 0);
}

TEST(ConfigSpecTest, FlattenedTileInBothSpellings) {
  ConfigSpec spec(matmul_facts());
  Config seed = spec.normalize(parse(R"({"block_sizes": [1024, [16]]})"));
  Config later = spec.normalize(parse(R"({"block_sizes": [32, 32, 16], "flatten_loops": [true]})"));
  expect_same(seed, later);
  EXPECT_TRUE(seed.tiles[0].flatten);
  EXPECT_EQ(seed.tiles[0].flat_block_size, 1024);
  EXPECT_TRUE(seed.tiles[0].block_sizes.empty());
  EXPECT_EQ(dump_text(spec.to_json(seed)),
            R"({"block_sizes": [1024, [16]], "loop_orders": [[0, 1]], "l2_grouping": 1, )"
            R"("indexing": "pointer", "num_warps": 4, "num_stages": 2})");
  // Both the seed's int form and flatten_loops may say the same thing.
  expect_same(seed,
              spec.normalize(parse(R"({"block_sizes": [1024, 16], "flatten_loops": [true]})")));
  // flatten_loops alone flattens the default block sizes.
  EXPECT_EQ(spec.normalize(parse(R"({"flatten_loops": [true]})")).tiles[0].flat_block_size,
            64 * 64);
}

TEST(ConfigSpecTest, OneDimensionalCallsAcceptIntOrList) {
  ConfigSpec spec(matmul_facts());
  expect_same(spec.normalize(parse(R"({"block_sizes": [[64, 128], 16]})")),
              spec.normalize(parse(R"({"block_sizes": [[64, 128], [16]]})")));
  ConfigSpec softmax(softmax_facts(1000));
  Config as_int = softmax.normalize(parse(R"({"block_sizes": [8]})"));
  Config as_list = softmax.normalize(parse(R"({"block_sizes": [[8]]})"));
  expect_same(as_int, as_list);
  EXPECT_EQ(as_int.tiles[0].block_sizes, (std::vector<int64_t>{8}));
  EXPECT_EQ(dump_text(softmax.to_json(as_int)),
            R"({"block_sizes": [[8]], "reduction_loops": [null], "l2_grouping": 1, )"
            R"("indexing": "pointer", "num_warps": 4, "num_stages": 2})");
}

TEST(ConfigSpecTest, DefaultMatmulConfig) {
  ConfigSpec spec(matmul_facts());
  Config config = spec.default_config();
  spec.validate(config);
  EXPECT_EQ(config.tiles[0].block_sizes, (std::vector<int64_t>{64, 64}));
  EXPECT_EQ(config.tiles[0].loop_order, (std::vector<int>{0, 1}));
  EXPECT_EQ(config.tiles[1].block_sizes, (std::vector<int64_t>{32}));
  EXPECT_EQ(dump_text(spec.to_json(config)),
            R"({"block_sizes": [[64, 64], [32]], "loop_orders": [[0, 1]], "l2_grouping": 1, )"
            R"("indexing": "pointer", "num_warps": 4, "num_stages": 2})");
  expect_same(spec.normalize(Json::object()), config);
}

TEST(ConfigSpecTest, DefaultsRespectHintsAndMinimums) {
  KernelFacts facts;
  facts.tiles.push_back(tile({100}, {1}, true));       // 1-D grid: 1024 capped to 128
  facts.tiles.push_back(tile({3, 5}, {16, 1}, false)); // inner: 32 capped, min 16 wins
  facts.tiles.push_back(tile({8, 8, 8}, {1, 1, 1}, true));
  ConfigSpec spec(facts);
  Config config = spec.default_config();
  spec.validate(config);
  EXPECT_EQ(config.tiles[0].block_sizes, (std::vector<int64_t>{128}));
  EXPECT_EQ(config.tiles[1].block_sizes, (std::vector<int64_t>{16, 8}));
  EXPECT_EQ(config.tiles[2].block_sizes, (std::vector<int64_t>{8, 8, 8}));
  EXPECT_EQ(config.indexing, (std::vector<std::string>{"pointer"}));
}

TEST(ConfigSpecTest, DefaultReductionsStayWithinOneProgramsBudget) {
  ConfigSpec small(softmax_facts(1000));
  Config config = small.default_config();
  EXPECT_EQ(config.reduction_loops, (std::vector<std::optional<int64_t>>{std::nullopt}));
  EXPECT_EQ(config.tiles[0].block_sizes, (std::vector<int64_t>{16})); // 16 rows x 1024 columns

  ConfigSpec large(softmax_facts(100000));
  config = large.default_config();
  EXPECT_EQ(config.reduction_loops, (std::vector<std::optional<int64_t>>{4096}));
  EXPECT_EQ(config.tiles[0].block_sizes, (std::vector<int64_t>{4}));
  large.validate(config);
}

TEST(ConfigSpecTest, LoopedReductionAsLargeAsTheDimensionIsPersistent) {
  ConfigSpec spec(softmax_facts(1000));
  EXPECT_EQ(spec.normalize(parse(R"({"reduction_loops": [1024]})")).reduction_loops[0],
            std::nullopt);
  EXPECT_EQ(spec.normalize(parse(R"({"reduction_loops": [4096]})")).reduction_loops[0],
            std::nullopt);
  EXPECT_EQ(spec.normalize(parse(R"({"reduction_loops": [512]})")).reduction_loops[0], 512);
}

TEST(ConfigSpecTest, IndexingListCollapsesWhenUniform) {
  ConfigSpec spec(matmul_facts());
  Config mixed =
      spec.normalize(parse(R"({"indexing": ["pointer", "tensor_descriptor", "block_ptr"]})"));
  EXPECT_EQ(mixed.indexing.size(), 3u);
  EXPECT_EQ(mixed.indexing_for(0), "pointer");
  EXPECT_EQ(mixed.indexing_for(1), "tensor_descriptor");
  EXPECT_EQ(dump_text(json_field(spec.to_json(mixed), "indexing")),
            R"(["pointer", "tensor_descriptor", "block_ptr"])");
  Config uniform =
      spec.normalize(parse(R"({"indexing": ["block_ptr", "block_ptr", "block_ptr"]})"));
  EXPECT_EQ(uniform.indexing, (std::vector<std::string>{"block_ptr"}));
  EXPECT_EQ(uniform.indexing_for(2), "block_ptr");
}

TEST(ConfigSpecTest, YzGridAndPidTypeAreOneSetting) {
  ConfigSpec spec(matmul_facts());
  EXPECT_EQ(spec.normalize(parse(R"({"use_yz_grid": true})")).pid_type, "xyz");
  EXPECT_EQ(spec.normalize(parse(R"({"pid_type": "xyz"})")).pid_type, "xyz");
  EXPECT_EQ(spec.normalize(parse(R"({"use_yz_grid": true, "pid_type": "xyz"})")).pid_type, "xyz");
  EXPECT_EQ(spec.normalize(parse(R"({"use_yz_grid": false, "pid_type": "flat"})")).pid_type,
            "flat");
  Config xyz = spec.normalize(parse(R"({"pid_type": "xyz"})"));
  EXPECT_EQ(json_field(spec.to_json(xyz), "use_yz_grid"), Json(true));
  EXPECT_FALSE(spec.to_json(spec.default_config()).contains("use_yz_grid"));
}

TEST(ConfigSpecTest, FixedBlockSizes) {
  KernelFacts facts;
  facts.tiles.push_back(tile({256, 256}, {1, 1}, true, {std::nullopt, 32}));
  facts.tiles.push_back(tile({64}, {1}, false, {64}));
  facts.tiles.push_back(tile({128}, {1}, false));
  facts.memory_ops = 1;
  ConfigSpec spec(facts);

  Config config = spec.default_config();
  EXPECT_EQ(config.tiles[0].block_sizes, (std::vector<int64_t>{64, 32}));
  EXPECT_EQ(config.tiles[1].block_sizes, (std::vector<int64_t>{64}));
  // The fully fixed call has no entry; the partly fixed one lists every dimension.
  EXPECT_EQ(dump_text(json_field(spec.to_json(config), "block_sizes")), "[[64, 32], [32]]");

  // A fixed dimension keeps the source's value whatever the config says.
  Config seed = spec.normalize(parse(R"({"block_sizes": [[16, 999], [8]]})"));
  EXPECT_EQ(seed.tiles[0].block_sizes, (std::vector<int64_t>{16, 32}));
  EXPECT_EQ(seed.tiles[1].block_sizes, (std::vector<int64_t>{64}));
  EXPECT_EQ(seed.tiles[2].block_sizes, (std::vector<int64_t>{8}));
  Config later = spec.normalize(parse(R"({"block_sizes": [16, 32, 8]})"));
  expect_same(seed, later);
  // Helion 1.4's flat form leaves the fixed dimensions out.
  Config free_dims_only = spec.normalize(parse(R"({"block_sizes": [16, 8]})"));
  expect_same(seed, free_dims_only);

  Config wrong = config;
  wrong.tiles[1].block_sizes = {32};
  EXPECT_EQ(validate_message(spec, wrong),
            "hl.tile call 1: block sizes are fixed by block_size= in the source; use [64]");
  wrong = config;
  wrong.tiles[0].block_sizes = {64, 16};
  EXPECT_EQ(validate_message(spec, wrong),
            "block_sizes[0][1]: 16 differs from block_size=32 fixed in the source; use 32");
}

struct InvalidCase {
  const char *config;
  const char *message;
};

TEST(ConfigSpecTest, InvalidFieldsNameFieldValueAndWhatIsAllowed) {
  ConfigSpec spec(matmul_facts());
  const InvalidCase cases[] = {
      {"[]", "config: expected a JSON object of config fields, got []"},
      {R"({"block_size": [16]})",
       "unknown config key \"block_size\"; use one of block_sizes, loop_orders, "
       "reduction_loops, l2_grouping, indexing, use_yz_grid, num_warps, num_stages, "
       "flatten_loops, l2_groupings, pid_type, num_sm_multiplier, range_unroll_factors, "
       "range_warp_specializes, range_num_stages, range_multi_buffers, range_flattens, "
       "static_ranges, atomic_indexing, load_eviction_policies, maxnreg"},
      {R"({"block_sizes": 64})", "block_sizes: expected a list, got 64"},
      {R"({"block_sizes": [[64, 48], [16]]})",
       "block_sizes[0][1]: 48 is not a power of two; use a power of two between 16 and 4096"},
      {R"({"block_sizes": [[8, 64], [16]]})",
       "block_sizes[0][0]: 8 is below the minimum 16; use a power of two between 16 and 4096"},
      // Validation accepts blocks past the dimension's size (a config written for
      // larger inputs keeps working), up to a fixed ceiling.
      {R"({"block_sizes": [[64, 8192], [16]]})",
       "block_sizes[0][1]: 8192 is above the maximum 4096; use a power of two between 16 and "
       "4096"},
      {R"({"block_sizes": [64, 48, 16]})",
       "block_sizes[1]: 48 is not a power of two; use a power of two between 16 and 4096"},
      {R"({"block_sizes": [[64, 64], [16], [16]]})",
       "block_sizes: expected 2 entries (one per hl.tile call), got 3"},
      {R"({"block_sizes": [64, 64, 16, 16]})",
       "block_sizes: expected 2 entries (one per hl.tile call, a list for a multi-dimensional "
       "tile) or 3 entries (one per tiled dimension), got 4"},
      {R"({"block_sizes": [[64], [16]]})",
       "block_sizes[0]: expected 2 block sizes (one per dimension), got [64]"},
      {R"({"block_sizes": [[64, 64], [16, 16]]})",
       "block_sizes[1]: expected 1 block sizes (one per dimension), got [16, 16]"},
      {R"({"block_sizes": [[64, "64"], [16]]})", "block_sizes[0][1]: expected an int, got \"64\""},
      {R"({"block_sizes": [[64, 64.0], [16]]})", "block_sizes[0][1]: expected an int, got 64.0"},
      {R"({"block_sizes": [null, [16]]})",
       "block_sizes[0]: expected an int or a list of ints, got null"},
      {R"({"block_sizes": [64, [16]]})",
       "block_sizes[0]: 64 is below the minimum 256; use a power of two between 256 and "
       "1048576"},
      {R"({"block_sizes": [1000, [16]]})",
       "block_sizes[0]: 1000 is not a power of two; use a power of two between 256 and 1048576"},
      {R"({"block_sizes": [1024, [16]], "flatten_loops": [false]})",
       "flatten_loops[0]: false disagrees with block_sizes, which gives this tile call one flat "
       "block of 1024; give a list of block sizes or set it to true"},
      {R"({"flatten_loops": [true, false]})",
       "flatten_loops: expected 1 entries (one per multi-dimensional hl.tile call), got 2"},
      {R"({"flatten_loops": [1]})", "flatten_loops[0]: expected true or false, got 1"},
      {R"({"loop_orders": [[0, 0]]})",
       "loop_orders[0]: [0, 0] is not a permutation of [0, 1]; list each of the 2 dimensions "
       "once"},
      {R"({"loop_orders": [[0, 2]]})",
       "loop_orders[0]: [0, 2] is not a permutation of [0, 1]; list each of the 2 dimensions "
       "once"},
      {R"({"loop_orders": [[0]]})",
       "loop_orders[0]: [0] is not a permutation of [0, 1]; list each of the 2 dimensions once"},
      {R"({"loop_orders": [[1, 0], [0]]})",
       "loop_orders: expected 1 permutations (one per multi-dimensional hl.tile call), got 2"},
      {R"({"loop_orders": [[1, "0"]]})", "loop_orders[0]: expected an int, got \"0\""},
      {R"({"reduction_loops": [null]})",
       "reduction_loops: expected 0 entries (one per reduction: null for persistent or a power "
       "of two), got 1"},
      {R"({"l2_grouping": 3})",
       "l2_grouping: 3 is not a power of two; use 1 to disable grouping or a power of two up to "
       "64"},
      {R"({"l2_grouping": 0})",
       "l2_grouping: 0 is not a power of two; use 1 to disable grouping or a power of two up to "
       "64"},
      {R"({"l2_groupings": [6]})",
       "l2_groupings[0]: 6 is not a power of two; use 1 to disable grouping or a power of two up "
       "to 64"},
      {R"({"l2_groupings": []})", "l2_groupings: expected a list of one int, got []"},
      {R"({"l2_grouping": 4, "l2_groupings": [8]})",
       "l2_grouping: 4 disagrees with l2_groupings[0]: 8; give only one of them"},
      {R"({"indexing": "tma"})",
       "indexing: \"tma\" is not an indexing style; use one of \"pointer\", \"block_ptr\", "
       "\"tensor_descriptor\""},
      {R"({"indexing": ["pointer", "pointer"]})",
       "indexing: expected one string or a list of 3 (one per load and store), got a list of 2"},
      {R"({"indexing": ["pointer", "pointer", "ptr"]})",
       "indexing[2]: \"ptr\" is not an indexing style; use one of \"pointer\", \"block_ptr\", "
       "\"tensor_descriptor\""},
      {R"({"indexing": ["pointer", 1, "pointer"]})", "indexing[1]: expected a string, got 1"},
      {R"({"indexing": 1})", "indexing: expected a string or a list of strings, got 1"},
      {R"({"use_yz_grid": 1})", "use_yz_grid: expected true or false, got 1"},
      {R"({"pid_type": "zyx"})",
       "pid_type: \"zyx\" is not a pid type; use one of \"flat\", \"xyz\", "
       "\"persistent_blocked\", \"persistent_interleaved\""},
      {R"({"pid_type": "persistent_blocked", "num_sm_multiplier": 3})",
       "num_sm_multiplier: 3 is not a power of two; use a power of two between 1 and 128"},
      {R"({"use_yz_grid": true, "num_sm_multiplier": 4})",
       "num_sm_multiplier: 4 needs a persistent pid_type, but it is \"xyz\"; use 1, or "
       "pid_type \"persistent_blocked\" or \"persistent_interleaved\""},
      {R"({"use_yz_grid": true, "pid_type": "flat"})",
       "use_yz_grid: true disagrees with pid_type: \"flat\"; use_yz_grid=true means "
       "pid_type=\"xyz\", false means \"flat\"; give only one of them"},
      {R"({"num_warps": 3})", "num_warps: 3 is not allowed; use a power of two between 1 and 32"},
      {R"({"num_warps": 64})", "num_warps: 64 is not allowed; use a power of two between 1 and 32"},
      {R"({"num_warps": 0})", "num_warps: 0 is not allowed; use a power of two between 1 and 32"},
      {R"({"num_stages": 0})", "num_stages: 0 is not allowed; use an int between 1 and 8"},
      {R"({"num_stages": 9})", "num_stages: 9 is not allowed; use an int between 1 and 8"},
      {R"({"num_stages": "2"})", "num_stages: expected an int, got \"2\""},
  };
  for (const auto &c : cases)
    EXPECT_EQ(invalid_message(spec, c.config), c.message) << c.config;
}

/// Values at the edges of every field: negative, zero, huge, the wrong type,
/// the wrong nesting, and the later spelling's fields that have no effect yet.
TEST(ConfigSpecTest, OutOfRangeValuesOfEveryField) {
  ConfigSpec spec(matmul_facts());
  const InvalidCase cases[] = {
      {R"({"block_sizes": [[64, -64], [16]]})",
       "block_sizes[0][1]: -64 is not a power of two; use a power of two between 16 and 4096"},
      {R"({"block_sizes": [[64, 0], [16]]})",
       "block_sizes[0][1]: 0 is not a power of two; use a power of two between 16 and 4096"},
      {R"({"block_sizes": [[64, 4611686018427387904], [16]]})",
       "block_sizes[0][1]: 4611686018427387904 is above the maximum 4096; use a power of two "
       "between 16 and 4096"},
      {R"({"block_sizes": [[64, -9223372036854775808], [16]]})",
       "block_sizes[0][1]: -9223372036854775808 is not a power of two; use a power of two "
       "between 16 and 4096"},
      {R"({"block_sizes": [[64, true], [16]]})", "block_sizes[0][1]: expected an int, got true"},
      {R"({"block_sizes": [[64, [64]], [16]]})", "block_sizes[0][1]: expected an int, got [64]"},
      {R"({"block_sizes": [[64, 64], [[16]]]})", "block_sizes[1][0]: expected an int, got [16]"},
      {R"({"block_sizes": [[64, 64.5], [16]]})", "block_sizes[0][1]: expected an int, got 64.5"},
      {R"({"block_sizes": [2097152, [16]]})",
       "block_sizes[0]: 2097152 is above the maximum 1048576; use a power of two between 256 "
       "and 1048576"},
      {R"({"loop_orders": [[1, -1]]})",
       "loop_orders[0]: [1, -1] is not a permutation of [0, 1]; list each of the 2 dimensions "
       "once"},
      {R"({"loop_orders": [[1, 9223372036854775807]]})",
       "loop_orders[0]: [1, 9223372036854775807] is not a permutation of [0, 1]; list each of "
       "the 2 dimensions once"},
      {R"({"loop_orders": [1]})", "loop_orders[0]: expected a list, got 1"},
      {R"({"loop_orders": [[1, false]]})", "loop_orders[0]: expected an int, got false"},
      {R"({"flatten_loops": [null]})", "flatten_loops[0]: expected true or false, got null"},
      {R"({"flatten_loops": true})", "flatten_loops: expected a list, got true"},
      {R"({"l2_grouping": 1099511627776})",
       "l2_grouping: 1099511627776 is above the maximum 64; use 1 to disable grouping or a "
       "power of two up to 64"},
      {R"({"l2_grouping": 128})",
       "l2_grouping: 128 is above the maximum 64; use 1 to disable grouping or a power of two "
       "up to 64"},
      {R"({"l2_grouping": -4})",
       "l2_grouping: -4 is not a power of two; use 1 to disable grouping or a power of two up to "
       "64"},
      {R"({"l2_grouping": 4.0})", "l2_grouping: expected an int, got 4.0"},
      {R"({"l2_grouping": true})", "l2_grouping: expected an int, got true"},
      {R"({"l2_groupings": [8, 8]})",
       "l2_groupings: too many values: expected 1 (one per top-level hl.tile call), got 2"},
      {R"({"l2_groupings": [[8]]})", "l2_groupings[0]: expected an int, got [8]"},
      {R"({"l2_groupings": 8})", "l2_groupings: expected a list, got 8"},
      {R"({"num_warps": -4})", "num_warps: -4 is not allowed; use a power of two between 1 and 32"},
      {R"({"num_warps": 4611686018427387904})",
       "num_warps: 4611686018427387904 is not allowed; use a power of two between 1 and 32"},
      {R"({"num_warps": 4.0})", "num_warps: expected an int, got 4.0"},
      {R"({"num_warps": false})", "num_warps: expected an int, got false"},
      {R"({"num_warps": [4]})", "num_warps: expected an int, got [4]"},
      {R"({"num_stages": -1})", "num_stages: -1 is not allowed; use an int between 1 and 8"},
      {R"({"num_stages": 9223372036854775807})",
       "num_stages: 9223372036854775807 is not allowed; use an int between 1 and 8"},
      {R"({"num_stages": null})", "num_stages: expected an int, got null"},
      {R"({"pid_type": 1})", "pid_type: expected a string, got 1"},
      {R"({"pid_type": ["flat"]})", "pid_type: expected a string, got [\"flat\"]"},
      {R"({"indexing": [["pointer"], "pointer", "pointer"]})",
       "indexing[0]: expected a string, got [\"pointer\"]"},
      {R"({"indexing": null})", "indexing: expected a string or a list of strings, got null"},
      {R"({"range_unroll_factors": [0, 5]})",
       "range_unroll_factors[1]: 5 is not allowed; use an int between 0 and 4 (0 leaves it to "
       "Triton)"},
      {R"({"range_unroll_factors": [-1]})",
       "range_unroll_factors[0]: -1 is not allowed; use an int between 0 and 4 (0 leaves it to "
       "Triton)"},
      {R"({"range_unroll_factors": 2})", "range_unroll_factors: expected a list, got 2"},
      {R"({"range_unroll_factors": [0, 0, 0]})",
       "range_unroll_factors: too many values: expected at most 2 (one per loop: the top-level "
       "loop, each dimension of a loop inside it, each range()), got 3"},
      {R"({"range_num_stages": [true]})", "range_num_stages[0]: expected an int, got true"},
      {R"({"range_num_stages": [1099511627776]})",
       "range_num_stages[0]: 1099511627776 is not allowed; use an int between 0 and 4 (0 leaves "
       "it to Triton)"},
      {R"({"range_multi_buffers": [1]})",
       "range_multi_buffers[0]: expected true, false or null (leave it to Triton), got 1"},
      {R"({"range_warp_specializes": [null, "yes"]})",
       "range_warp_specializes[1]: expected true, false or null (leave it to Triton), got \"yes\""},
      {R"({"range_flattens": "yes"})", "range_flattens: expected a list, got \"yes\""},
      {R"({"static_ranges": [true]})",
       "static_ranges: too many values: expected at most 0 (one per loop inside the kernel whose "
       "bounds are known when compiling, with at most 8 iterations), got 1"},
      {R"({"load_eviction_policies": ["first", "evict"]})",
       "load_eviction_policies[1]: \"evict\" is not an eviction policy; use \"\" (none), "
       "\"first\" or \"last\""},
      {R"({"load_eviction_policies": ["", "", "first"]})",
       "load_eviction_policies: too many values: expected at most 2 (one per load without an "
       "explicit eviction_policy), got 3"},
      {R"({"load_eviction_policies": [0]})",
       "load_eviction_policies[0]: 0 is not an eviction policy; use \"\" (none), \"first\" or "
       "\"last\""},
      {R"({"maxnreg": 100})",
       "maxnreg: 100 is not allowed; use None (the compiler decides), 32, 64, 128 or 256"},
      {R"({"maxnreg": "128"})", "maxnreg: expected an int, got \"128\""},
      {R"({"maxnreg": 128})", "maxnreg: 128 needs a persistent pid_type (\"persistent_blocked\" or "
                              "\"persistent_interleaved\"), but it is \"flat\"; use None"},
      {R"({"atomic_indexing": "block_ptr"})",
       "atomic_indexing: \"block_ptr\" is not an atomic indexing style (block pointers have no "
       "atomic operations); use \"pointer\" or \"tensor_descriptor\""},
      {R"({"atomic_indexing": ["pointer"]})",
       "atomic_indexing: expected one string or a list of 0 (one per hl.atomic_* call), got a "
       "list of 1"},
      {R"({"atomic_indexing": 3})",
       "atomic_indexing: expected a string or a list of strings, got 3"},
      {R"({"num_sm_multiplier": 3})",
       "num_sm_multiplier: 3 is not a power of two; use a power of two between 1 and 128"},
      {R"({"num_sm_multiplier": 256})",
       "num_sm_multiplier: 256 is above the maximum 128; use a power of two between 1 and 128"},
      {R"({"num_sm_multiplier": 0})",
       "num_sm_multiplier: 0 is not a power of two; use a power of two between 1 and 128"},
      {R"({"num_sm_multiplier": 2})",
       "num_sm_multiplier: 2 needs a persistent pid_type, but it is \"flat\"; use 1, or "
       "pid_type \"persistent_blocked\" or \"persistent_interleaved\""},
      {R"({"num_sm_multiplier": 1.0})", "num_sm_multiplier: expected an int, got 1.0"},
  };
  for (const auto &c : cases)
    EXPECT_EQ(invalid_message(spec, c.config), c.message) << c.config;
  // The later spelling's fields at their legal edges are accepted.
  EXPECT_EQ(invalid_message(spec, R"({"range_unroll_factors": [0, 4], "range_num_stages": [4],
      "range_multi_buffers": [null, true], "range_flattens": [false], "static_ranges": [],
      "load_eviction_policies": ["", "last"], "num_sm_multiplier": 1, "l2_grouping": 64})"),
            "<no error>");
}

TEST(ConfigSpecTest, BlockSizesNeverExceedTritonsLargestBlock) {
  // A 1-D grid over 2^24 elements: the search and validation stop at 2^20.
  KernelFacts facts;
  facts.tiles.push_back(tile({int64_t(1) << 24}, {1}, true));
  facts.tiles.push_back(tile({int64_t(1) << 22, int64_t(1) << 22}, {1, 1}, false));
  facts.memory_ops = 2;
  ConfigSpec spec(facts);
  EXPECT_EQ(invalid_message(spec, R"({"block_sizes": [1048576, [1024, 1024]]})"), "<no error>");
  EXPECT_EQ(invalid_message(spec, R"({"block_sizes": [2097152, [16, 16]]})"),
            "block_sizes[0]: 2097152 is above the maximum 1048576; use a power of two between 1 "
            "and 1048576");
  EXPECT_EQ(invalid_message(spec, R"({"block_sizes": [16, 2097152]})"),
            "block_sizes[1]: 2097152 is above the maximum 1048576; use a power of two between 1 "
            "and 1048576");
  // The blocks of one call make one block of their product's elements.
  EXPECT_EQ(invalid_message(spec, R"({"block_sizes": [16, [2048, 1024]]})"),
            "block_sizes[1]: [2048, 1024] makes a block of 2097152 elements, above Triton's "
            "largest of 1048576; use smaller block sizes");
  EXPECT_EQ(invalid_message(spec, R"({"block_sizes": [16, 1048576, 1048576]})"),
            "block_sizes[1]: [1048576, 1048576] makes a block of 1099511627776 elements, above "
            "Triton's largest of 1048576; use smaller block sizes");
  std::mt19937_64 rng(7);
  for (int i = 0; i < 200; ++i) {
    Config config = spec.random_config(rng);
    EXPECT_LE(config.tiles[0].block_sizes[0], int64_t(1) << 20);
    if (config.tiles[1].flatten) EXPECT_LE(config.tiles[1].flat_block_size, int64_t(1) << 20);
    int64_t elements = 1;
    for (int64_t block : config.tiles[1].block_sizes)
      elements *= block;
    EXPECT_LE(elements, int64_t(1) << 20);
    EXPECT_NO_THROW(spec.validate(config));
  }
  // A search's config past the limit shrinks its largest block until it fits.
  Config config = spec.default_config();
  config.tiles[1].block_sizes = {int64_t(1) << 20, int64_t(1) << 12};
  spec.fit_block_limit(config);
  EXPECT_EQ(config.tiles[1].block_sizes,
            (std::vector<int64_t>{int64_t(1) << 10, int64_t(1) << 10}));
}

TEST(ConfigSpecTest, ReductionsNeverExceedTritonsLargestBlock) {
  ConfigSpec spec(softmax_facts(int64_t(1) << 22));
  EXPECT_EQ(invalid_message(spec, R"({"reduction_loops": [null]})"),
            "reduction_loops[0]: a persistent reduction (null, or a block as large as the "
            "dimension) puts the whole dimension in one block of 4194304 elements, above "
            "Triton's largest of 1048576; use a looped block, a power of two up to 1048576");
  EXPECT_EQ(invalid_message(spec, R"({"reduction_loops": [8388608]})"),
            "reduction_loops[0]: a persistent reduction (null, or a block as large as the "
            "dimension) puts the whole dimension in one block of 4194304 elements, above "
            "Triton's largest of 1048576; use a looped block, a power of two up to 1048576");
  EXPECT_EQ(invalid_message(spec, R"({"reduction_loops": [2097152]})"),
            "reduction_loops[0]: 2097152 is above Triton's largest block of 1048576; use a "
            "looped block, a power of two up to 1048576");
  EXPECT_EQ(invalid_message(spec, R"({"reduction_loops": [1048576]})"), "<no error>");
  std::mt19937_64 rng(3);
  for (int i = 0; i < 100; ++i)
    EXPECT_NO_THROW(spec.validate(spec.random_config(rng)));
  // A reduction the kernel needs whole is the kernel's limit, not the config's.
  KernelFacts facts = softmax_facts(int64_t(1) << 22);
  facts.reductions[0].persistent_only = true;
  EXPECT_EQ(invalid_message(ConfigSpec(facts), R"({"reduction_loops": [null]})"), "<no error>");
}

/// Random values of random shapes in every field: normalize either returns
/// a config that validates or throws InvalidConfig, never anything else.
TEST(ConfigSpecTest, RandomUserConfigsAreValidOrInvalidConfig) {
  const std::vector<std::string> keys = {
      "block_sizes",          "loop_orders",      "flatten_loops",       "reduction_loops",
      "l2_grouping",          "l2_groupings",     "indexing",            "use_yz_grid",
      "pid_type",             "num_warps",        "num_stages",          "range_unroll_factors",
      "range_num_stages",     "range_flattens",   "range_multi_buffers", "static_ranges",
      "load_eviction_policies", "num_sm_multiplier"};
  const int64_t ints[] = {0,  1,  -1, 2,  3,  4,    8,    16,         32,        64,
                          128, 4096, 1 << 20, 1 << 21, int64_t(1) << 62,
                          std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min()};
  const char *strings[] = {"", "flat", "xyz", "pointer", "block_ptr", "first", "\xc3\xa9"};
  std::mt19937_64 rng(11);
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  std::function<Json(int)> value = [&](int depth) -> Json {
    switch (pick(depth < 3 ? 7 : 5)) {
    case 0:
      return Json();
    case 1:
      return Json(pick(2) == 0);
    case 2:
      return Json(ints[pick(std::size(ints))]);
    case 3:
      return Json(pick(2) ? 16.0 : -0.5);
    case 4:
      return Json(strings[pick(std::size(strings))]);
    default: {
      Json list = Json::array();
      for (size_t i = 0, n = pick(4); i < n; ++i)
        list.push_back(value(depth + 1));
      return list;
    }
    }
  };
  int accepted = 0;
  for (const KernelFacts &facts : {matmul_facts(), softmax_facts(1000), softmax_facts(1 << 22)}) {
    ConfigSpec spec(facts);
    for (int round = 0; round < 3000; ++round) {
      Json config = Json::object();
      for (size_t i = 0, n = 1 + pick(3); i < n; ++i)
        config[keys[pick(keys.size())]] = value(0);
      try {
        Config normalized = spec.normalize(config);
        spec.validate(normalized);
        ++accepted;
      } catch (const UserError &error) {
        ASSERT_EQ(error.kind(), "InvalidConfig") << dump_text(config);
      } catch (const std::exception &error) {
        FAIL() << dump_text(config) << ": " << error.what();
      }
    }
  }
  EXPECT_GT(accepted, 0);
}

TEST(ConfigSpecTest, InvalidReductionLoops) {
  ConfigSpec spec(softmax_facts(1000));
  EXPECT_EQ(invalid_message(spec, R"({"reduction_loops": [48]})"),
            "reduction_loops[0]: 48 is not a power of two; use null for a persistent reduction "
            "or a power of two for a looped one");
  EXPECT_EQ(invalid_message(spec, R"({"reduction_loops": [0]})"),
            "reduction_loops[0]: 0 is not a power of two; use null for a persistent reduction "
            "or a power of two for a looped one");
  EXPECT_EQ(invalid_message(spec, R"({"reduction_loops": [true]})"),
            "reduction_loops[0]: expected null (persistent) or an int, got true");
  EXPECT_EQ(invalid_message(spec, R"({"reduction_loops": null})"),
            "reduction_loops: expected a list, got null");
  EXPECT_EQ(invalid_message(spec, R"({"reduction_loops": [-8]})"),
            "reduction_loops[0]: -8 is not a power of two; use null for a persistent reduction "
            "or a power of two for a looped one");
  EXPECT_EQ(invalid_message(spec, R"({"reduction_loops": [8.0]})"),
            "reduction_loops[0]: expected null (persistent) or an int, got 8.0");
  EXPECT_EQ(invalid_message(spec, R"({"reduction_loops": [[8]]})"),
            "reduction_loops[0]: expected null (persistent) or an int, got [8]");
  EXPECT_EQ(invalid_message(spec, R"({"reduction_loops": [8, 8]})"),
            "reduction_loops: expected 1 entries (one per reduction: null for persistent or a "
            "power of two), got 2");
  // A block past the dimension is a persistent reduction, however large.
  EXPECT_FALSE(spec.normalize(parse(R"({"reduction_loops": [4611686018427387904]})"))
                   .reduction_loops[0]
                   .has_value());
}

TEST(ConfigSpecTest, InvalidForPartlyFixedAndWideGrids) {
  KernelFacts facts;
  facts.tiles.push_back(tile({256, 256}, {1, 1}, true, {std::nullopt, 32}, 3));
  facts.memory_ops = 1;
  ConfigSpec spec(facts);
  // One int per free dimension (Helion 1.4's flat form), not a flat block.
  EXPECT_EQ(spec.normalize(parse(R"({"block_sizes": [64]})")).tiles[0].block_sizes,
            (std::vector<int64_t>{64, 32}));
  KernelFacts three;
  three.tiles.push_back(tile({64, 64, 64}, {1, 1, 1}, true, {std::nullopt, std::nullopt, 8}, 3));
  three.memory_ops = 1;
  three.first_line = 10; // the kernel starts at line 10 of its file
  EXPECT_EQ(invalid_message(ConfigSpec(three), R"({"block_sizes": [64]})"),
            "block_sizes[0]: 64 would flatten a tile call with a dimension fixed by block_size= "
            "(the hl.tile call at line 12); give a list of 3 block sizes");
  EXPECT_EQ(invalid_message(spec, R"({"flatten_loops": [true]})"),
            "flatten_loops[0]: true, but a tile call with a dimension fixed by block_size= "
            "cannot be flattened (the hl.tile call at line 3); use false");
  EXPECT_EQ(invalid_message(spec, R"({"block_sizes": [[64]]})"),
            "block_sizes[0]: expected 2 block sizes (one per dimension (the hl.tile call at line "
            "3)), got [64]");

  KernelFacts wide;
  wide.tiles.push_back(tile({8, 8, 8, 8}, {1, 1, 1, 1}, true));
  wide.memory_ops = 1;
  ConfigSpec wide_spec(wide);
  EXPECT_EQ(invalid_message(wide_spec, R"({"use_yz_grid": true})"),
            "use_yz_grid: the grid has more than 3 dimensions, or the kernel several top-level "
            "loops, which do not fit the x, y and z launch axes; use \"flat\" (or flatten the "
            "grid tile)");
  EXPECT_EQ(wide_spec.normalize(parse(R"({"block_sizes": [64], "pid_type": "xyz"})")).pid_type,
            "xyz");
}

TEST(ConfigSpecTest, ValidateRejectsMalformedCanonicalConfigs) {
  ConfigSpec spec(matmul_facts());
  Config config = spec.default_config();
  config.tiles.pop_back();
  EXPECT_EQ(validate_message(spec, config),
            "block_sizes: the config has 1 tile choices; the kernel has 2 hl.tile calls");

  config = spec.default_config();
  config.tiles[0].block_sizes = {64};
  EXPECT_EQ(validate_message(spec, config),
            "block_sizes[0]: expected 2 block sizes (one per dimension), got 1");

  config = spec.default_config();
  config.tiles[0].flatten = true;
  config.tiles[0].flat_block_size = 4096;
  EXPECT_EQ(validate_message(spec, config),
            "block_sizes[0]: a flattened tile has only its flat block size, got 2 per-dimension "
            "block sizes as well");

  config = spec.default_config();
  config.tiles[1].loop_order = {1};
  EXPECT_EQ(validate_message(spec, config),
            "block_sizes[1] loop order: [1] is not a permutation of [0]; list each of the 1 "
            "dimensions once");

  config = spec.default_config();
  config.indexing = {};
  EXPECT_EQ(validate_message(spec, config),
            "indexing: expected one style or 3 (one per load and store), got 0");

  config = spec.default_config();
  config.pid_type = "persistent";
  EXPECT_EQ(validate_message(spec, config),
            "pid_type: \"persistent\" is not a pid type; use one of \"flat\", \"xyz\", "
            "\"persistent_blocked\", \"persistent_interleaved\"");

  config = spec.default_config();
  config.num_sm_multiplier = 2;
  EXPECT_EQ(validate_message(spec, config),
            "num_sm_multiplier: 2 needs a persistent pid_type, but it is \"flat\"; use 1, or "
            "pid_type \"persistent_blocked\" or \"persistent_interleaved\"");

  config = spec.default_config();
  config.reduction_loops = {64};
  EXPECT_EQ(validate_message(spec, config),
            "reduction_loops: expected 0 entries (one per reduction), got 1");
}

TEST(ConfigSpecTest, DescribeListsTheSpace) {
  ConfigSpec spec(matmul_facts());
  Json description = spec.describe();
  EXPECT_EQ(dump_text(json_field(description, "block_sizes")),
            R"([{"call": 0, "dims": 2, "grid": true, "size_hints": [1024, 2048], )"
            R"("min": [16, 16], "max": [1024, 2048], "fixed": [null, null], )"
            R"("flatten": {"min": 256, "max": 1048576}}, )"
            R"({"call": 1, "dims": 1, "grid": false, "size_hints": [512], "min": [16], )"
            R"("max": [512], "fixed": [null], "flatten": null}])");
  EXPECT_EQ(dump_text(json_field(description, "loop_orders")), R"([{"call": 0, "dims": 2}])");
  EXPECT_EQ(dump_text(json_field(description, "reduction_loops")), "[]");
  EXPECT_EQ(json_field(description, "memory_ops"), Json(3));
  EXPECT_EQ(dump_text(json_field(description, "indexing")),
            R"(["pointer", "block_ptr", "tensor_descriptor"])");
  EXPECT_EQ(dump_text(json_field(description, "pid_type")),
            R"(["flat", "xyz", "persistent_blocked", "persistent_interleaved"])");
  EXPECT_EQ(dump_text(json_field(description, "num_sm_multiplier")),
            "[1, 2, 4, 8, 16, 32, 64, 128]");
  EXPECT_EQ(dump_text(json_field(description, "num_warps")), "[1, 2, 4, 8, 16, 32]");
  EXPECT_EQ(dump_text(json_field(description, "num_stages")), "[1, 2, 3, 4, 5, 6, 7, 8]");
  EXPECT_EQ(json_field(description, "default"), spec.to_json(spec.default_config()));

  ConfigSpec softmax(softmax_facts(1000));
  EXPECT_EQ(dump_text(json_field(softmax.describe(), "reduction_loops")),
            R"([{"size_hint": 1000, "persistent_block": 1024, "persistent_only": false}])");
}

std::vector<KernelFacts> varied_facts() {
  std::vector<KernelFacts> all;
  all.push_back(matmul_facts());
  all.push_back(softmax_facts(1000));
  all.push_back(softmax_facts(100000));
  KernelFacts mixed;
  mixed.tiles.push_back(tile({37, 1, 300}, {1, 1, 1}, true));
  mixed.tiles.push_back(tile({256, 256}, {16, 16}, false, {std::nullopt, 32}));
  mixed.tiles.push_back(tile({64}, {1}, false, {64}));
  mixed.tiles.push_back(tile({0, 5}, {1, 1}, false));
  mixed.tiles.push_back(tile({100, 100}, {1, 1}, false, {48, std::nullopt}));
  mixed.reductions.push_back(reduction(1));
  mixed.reductions.push_back(reduction(4097));
  mixed.memory_ops = 5;
  all.push_back(mixed);
  KernelFacts wide;
  wide.tiles.push_back(tile({8, 8, 8, 8}, {1, 1, 1, 1}, true));
  wide.memory_ops = 1;
  all.push_back(wide);
  all.push_back(KernelFacts());
  return all;
}

TEST(ConfigSpecTest, RandomConfigsAreValidAndRoundTrip) {
  for (const KernelFacts &facts : varied_facts()) {
    ConfigSpec spec(facts);
    spec.validate(spec.default_config());
    for (uint64_t seed = 0; seed < 1000; ++seed) {
      std::mt19937_64 rng(seed);
      Config config = spec.random_config(rng);
      ASSERT_NO_THROW(spec.validate(config)) << dump_text(spec.to_json(config));
      Json json = spec.to_json(config);
      Config back = spec.normalize(parse_json_text(dump_text(json)));
      expect_same(back, config);
      ASSERT_EQ(spec.to_json(back), json);
      if (::testing::Test::HasFailure()) {
        ADD_FAILURE() << "seed " << seed << ": " << dump_text(json);
        return;
      }
    }
  }
}

TEST(ConfigSpecTest, RandomConfigsAreDeterministicPerSeed) {
  ConfigSpec spec(matmul_facts());
  std::mt19937_64 a(42), b(42);
  EXPECT_EQ(spec.to_json(spec.random_config(a)), spec.to_json(spec.random_config(b)));
}

TEST(ConfigSpecTest, PersistentOnlyReductionsRejectLoopsAndAreNeverSampled) {
  KernelFacts facts = softmax_facts(1000);
  facts.reductions[0].persistent_only = true;
  ConfigSpec spec(facts);
  EXPECT_EQ(invalid_message(spec, R"({"reduction_loops": [256]})"),
            "reduction_loops[0]: 256 would loop over a dimension this kernel needs whole "
            "(argmax, argmin or a matmul over it); use None");
  std::mt19937_64 rng(3);
  for (int i = 0; i < 200; ++i)
    EXPECT_FALSE(spec.random_config(rng).reduction_loops[0].has_value());
}

} // namespace

namespace {

/// A kernel with every kind of range entry: the top-level loop, a 2-D inner
/// tile (its second dimension small enough for static_ranges) and a range()
/// loop; three loads without a policy and two atomics.
KernelFacts loop_facts() {
  KernelFacts facts;
  facts.tiles.push_back(tile({1024}, {1}, true));
  facts.tiles.push_back(tile({512, 8}, {1, 1}, false));
  facts.memory_ops = 4;
  LoopFacts top_level, wide, narrow, range;
  top_level.top_level = true;
  narrow.static_candidate = true;
  facts.loops = {top_level, wide, narrow, range};
  facts.policy_loads = 3;
  facts.atomic_ops = 2;
  return facts;
}

} // namespace

TEST(ConfigSpecTest, DefaultsLeaveEveryLoopOptionToTriton) {
  ConfigSpec spec(loop_facts());
  Config config = spec.default_config();
  ASSERT_EQ(config.ranges.size(), 4u);
  for (const RangeChoice &range : config.ranges) {
    EXPECT_TRUE(range.is_default());
    EXPECT_TRUE(range.keyword_arguments().empty());
  }
  EXPECT_EQ(config.static_ranges, (std::vector<bool>{false}));
  EXPECT_EQ(config.load_eviction_policies, (std::vector<std::string>{"", "", ""}));
  EXPECT_EQ(config.atomic_indexing, (std::vector<std::string>{"pointer"}));
  EXPECT_FALSE(config.maxnreg);
  // The defaults print as before: none of the new fields appears.
  std::string text = dump_text(spec.to_json(config));
  for (const char *key : {"range_", "static_ranges", "eviction", "maxnreg", "atomic_indexing"})
    EXPECT_EQ(text.find(key), std::string::npos) << text;
}

TEST(ConfigSpecTest, LoopFieldsReadPadAndPrintInTheAutotunersOrder) {
  ConfigSpec spec(loop_facts());
  Config config = spec.normalize(parse(
      R"({"range_unroll_factors": [0, 2], "range_num_stages": [0, 0, 0, 3],
          "range_multi_buffers": [null, false], "range_flattens": [null, null, null, true],
          "load_eviction_policies": ["first", "", "last"],
          "atomic_indexing": ["tensor_descriptor", "pointer"]})"));
  EXPECT_EQ(config.ranges[1].keyword_arguments(),
            (std::vector<std::string>{"loop_unroll_factor=2", "disallow_acc_multi_buffer=True"}));
  EXPECT_EQ(config.ranges[3].keyword_arguments(),
            (std::vector<std::string>{"num_stages=3", "flatten=True"}));
  EXPECT_TRUE(config.ranges[2].is_default());
  EXPECT_EQ(config.eviction_policy_for(0), "evict_first");
  EXPECT_EQ(config.eviction_policy_for(1), "");
  EXPECT_EQ(config.eviction_policy_for(2), "evict_last");
  EXPECT_EQ(config.atomic_indexing_for(0), "tensor_descriptor");
  EXPECT_EQ(config.atomic_indexing_for(1), "pointer");
  EXPECT_EQ(dump_text(spec.to_json(config)),
            R"({"block_sizes": [[1024], [32, 8]], "loop_orders": [[0, 1]], "l2_grouping": 1, )"
            R"("range_unroll_factors": [0, 2, 0, 0], "range_num_stages": [0, 0, 0, 3], )"
            R"("range_multi_buffers": [null, false, null, null], )"
            R"("range_flattens": [null, null, null, true], "indexing": "pointer", )"
            R"("atomic_indexing": ["tensor_descriptor", "pointer"], "num_warps": 4, )"
            R"("num_stages": 2, "load_eviction_policies": ["first", "", "last"]})");
  Config again = spec.normalize(spec.to_json(config));
  EXPECT_EQ(dump_text(spec.to_json(again)), dump_text(spec.to_json(config)));
  // A uniform list is one style.
  EXPECT_EQ(spec.normalize(parse(R"({"atomic_indexing": ["tensor_descriptor",
                                                          "tensor_descriptor"]})"))
                .atomic_indexing,
            (std::vector<std::string>{"tensor_descriptor"}));
}

TEST(ConfigSpecTest, RangeOptionsSettleAsTheRulesSay) {
  ConfigSpec spec(loop_facts());
  // The top-level entry matters only for persistent pid types; a static
  // loop takes the defaults; only the first warp-specialized loop stays so,
  // without unrolling.
  Config config = spec.normalize(parse(
      R"({"range_unroll_factors": [3, 2, 4, 1], "range_num_stages": [2, 0, 2, 0],
          "range_warp_specializes": [true, true, null, true], "static_ranges": [true]})"));
  EXPECT_TRUE(config.ranges[0].is_default());
  EXPECT_EQ(config.ranges[1].warp_specialize, std::optional<bool>(true));
  EXPECT_EQ(config.ranges[1].unroll_factor, 0);
  EXPECT_TRUE(config.ranges[2].is_default());
  EXPECT_EQ(config.ranges[3].warp_specialize, std::nullopt);
  EXPECT_EQ(config.ranges[3].unroll_factor, 1);
  EXPECT_EQ(config.static_ranges, (std::vector<bool>{true}));
  EXPECT_EQ(config.ranges[1].keyword_arguments(),
            (std::vector<std::string>{"warp_specialize=True"}));

  // A canonical config that breaks them is refused.
  Config unsettled = spec.default_config();
  unsettled.ranges[0].num_stages = 2;
  EXPECT_NE(validate_message(spec, unsettled).find("top-level loop outside persistent pid types"),
            std::string::npos);
  unsettled = spec.default_config();
  unsettled.ranges[1].unroll_factor = 7;
  EXPECT_EQ(validate_message(spec, unsettled),
            "range_unroll_factors[1]: 7 is not allowed; use an int between 0 and 4 (0 leaves it to "
            "Triton)");
  unsettled = spec.default_config();
  unsettled.load_eviction_policies = {"first"};
  EXPECT_EQ(validate_message(spec, unsettled),
            "load_eviction_policies: expected 3 entries (one per load without an explicit "
            "eviction_policy), got 1");
  unsettled = spec.default_config();
  unsettled.atomic_indexing = {"block_ptr"};
  EXPECT_NE(validate_message(spec, unsettled).find("is not an atomic indexing style"),
            std::string::npos);
}

TEST(ConfigSpecTest, MaxnregNeedsAPersistentPidTypeAndFitsTheWarps) {
  ConfigSpec spec(loop_facts());
  EXPECT_EQ(invalid_message(spec, R"({"maxnreg": 64})"),
            "maxnreg: 64 needs a persistent pid_type (\"persistent_blocked\" or "
            "\"persistent_interleaved\"), but it is \"flat\"; use None");
  EXPECT_EQ(invalid_message(spec, R"({"maxnreg": null})"), "<no error>");
  Config config = spec.default_config();
  config.maxnreg = 128;
  EXPECT_NE(validate_message(spec, config).find("needs a persistent pid_type"), std::string::npos);
  // An SM's 65536 registers over the block's threads.
  EXPECT_EQ(config_rules::maxnreg_budget(4), 256);
  EXPECT_EQ(config_rules::maxnreg_budget(8), 256);
  EXPECT_EQ(config_rules::maxnreg_budget(16), 128);
  EXPECT_EQ(config_rules::maxnreg_budget(32), 64);
  EXPECT_EQ(config_rules::cap_maxnreg(256, 32), 64);
  EXPECT_EQ(config_rules::cap_maxnreg(128, 4), 128);
  EXPECT_EQ(config_rules::cap_maxnreg(32, 32), 32);
}

TEST(ConfigSpecTest, RandomConfigsTryEveryLoopField) {
  ConfigSpec spec(loop_facts());
  std::mt19937_64 rng(5);
  bool unroll = false, stages = false, buffers = false, flatten = false, statics = false,
       policy = false, atomic = false, registers = false, top_level = false;
  for (int i = 0; i < 300; ++i) {
    Config config = spec.random_config(rng);
    EXPECT_EQ(validate_message(spec, config), "<no error>");
    EXPECT_EQ(dump_text(spec.to_json(spec.normalize(spec.to_json(config)))),
              dump_text(spec.to_json(config)));
    for (const RangeChoice &range : config.ranges) {
      unroll = unroll || range.unroll_factor > 0;
      stages = stages || range.num_stages > 0;
      buffers = buffers || range.multi_buffer.has_value();
      flatten = flatten || range.flatten.has_value();
      EXPECT_FALSE(range.warp_specialize.has_value());
    }
    // The top-level entry and maxnreg matter only for persistent pid types.
    if (!config.is_persistent()) {
      EXPECT_TRUE(config.ranges[0].is_default());
      EXPECT_FALSE(config.maxnreg);
    }
    top_level = top_level || !config.ranges[0].is_default();
    registers = registers || config.maxnreg.has_value();
    statics = statics || config.static_ranges[0];
    for (const auto &p : config.load_eviction_policies)
      policy = policy || !p.empty();
    atomic = atomic || config.atomic_indexing_for(0) == "tensor_descriptor" ||
             config.atomic_indexing_for(1) == "tensor_descriptor";
  }
  EXPECT_TRUE(unroll && stages && buffers && flatten && statics && policy && atomic);
  EXPECT_TRUE(top_level && registers);
}
