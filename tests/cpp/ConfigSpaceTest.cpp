#include "autotune/ConfigSpace.h"

#include "autotune/Heuristics.h"
#include "TestFacts.h"
#include "support/Diagnostics.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

using namespace helion;
using namespace helion::autotune;

namespace {

using helion::testing::tile;

/// The seed's matmul: grid tile [m, n] around an inner tile [k], all >= 16.
KernelFacts matmul_facts() {
  KernelFacts facts;
  facts.tiles.push_back(tile({1024, 2048}, {16, 16}, true));
  facts.tiles.push_back(tile({512}, {16}, false));
  facts.tiles.back().flattenable = false;
  facts.tiles.front().flattenable = false;
  facts.memory_ops = 3;
  facts.has_matmul = true;
  return facts;
}

KernelFacts softmax_facts(int64_t columns) {
  KernelFacts facts;
  facts.tiles.push_back(tile({4096}, {1}, true));
  ReductionFacts reduction;
  reduction.size_hint = columns;
  facts.reductions.push_back(reduction);
  facts.memory_ops = 2;
  return facts;
}

KernelFacts elementwise_facts() {
  KernelFacts facts;
  facts.tiles.push_back(tile({512, 1000}, {1, 1}, true));
  facts.memory_ops = 3;
  return facts;
}

/// A grid tile with one dimension fixed by block_size= and an inner fixed call.
KernelFacts fixed_facts() {
  KernelFacts facts;
  facts.tiles.push_back(tile({256, 256}, {1, 1}, true, {std::nullopt, 32}));
  facts.tiles.push_back(tile({64}, {1}, false, {16}));
  facts.memory_ops = 2;
  return facts;
}

std::vector<KernelFacts> all_facts() {
  return {matmul_facts(), softmax_facts(1000), softmax_facts(50000), elementwise_facts(),
          fixed_facts()};
}

bool valid(const ConfigSpec &spec, const Config &config) {
  try {
    spec.validate(config);
    return true;
  } catch (const UserError &error) {
    ADD_FAILURE() << error.what() << " in " << dump_text(spec.to_json(config));
    return false;
  }
}

} // namespace

TEST(ConfigSpace, GenesOfTheMatmul) {
  ConfigSpec spec(matmul_facts());
  ConfigSpace space(spec);
  std::vector<std::string> names;
  for (const Gene &gene : space.genes())
    names.push_back(gene.name);
  EXPECT_EQ(names, (std::vector<std::string>{
                       "block_sizes[0][0]", "block_sizes[0][1]", "loop order of block_sizes[0]",
                       "block_sizes[1][0]", "l2_grouping", "indexing[0]", "indexing[1]",
                       "indexing[2]", "pid_type", "num_sm_multiplier", "num_warps",
                       "num_stages", "maxnreg"}));
  Config config = spec.normalize(parse_json_text(
      R"({"block_sizes": [[64, 128], [32]], "loop_orders": [[1, 0]], "l2_grouping": 8,
          "indexing": "block_ptr", "num_warps": 8, "num_stages": 3})"));
  EXPECT_EQ(space.gene_values(config), (std::vector<int>{6, 7, 1, 5, 3, 1, 1, 1, 0, 0, 3, 3, 0}));
  EXPECT_EQ(space.encode(config)[0], 6.0);
  EXPECT_EQ(space.key(space.decode(space.gene_values(config))), space.key(config));
}

TEST(ConfigSpace, PersistentReductionHasItsOwnValue) {
  ConfigSpec spec(softmax_facts(1000));
  ConfigSpace space(spec);
  const Gene &gene = space.genes()[1];
  ASSERT_EQ(gene.kind, Gene::Kind::Reduction);
  EXPECT_EQ(gene.high, 10); // 1024 persistent
  Config persistent = spec.normalize(parse_json_text(R"({"reduction_loops": [null]})"));
  Config looped = spec.normalize(parse_json_text(R"({"reduction_loops": [512]})"));
  EXPECT_EQ(space.gene_values(persistent)[1], 10);
  EXPECT_EQ(space.gene_values(looped)[1], 9);
  EXPECT_FALSE(space.decode(space.gene_values(persistent)).reduction_loops[0].has_value());
}

TEST(ConfigSpace, RoundTripOfRandomConfigs) {
  for (const KernelFacts &facts : all_facts()) {
    ConfigSpec spec(facts);
    ConfigSpace space(spec);
    std::mt19937_64 rng(7);
    for (int i = 0; i < 300; ++i) {
      Config config = space.random_config(rng);
      ASSERT_TRUE(valid(spec, config));
      EXPECT_EQ(space.key(space.decode(space.gene_values(config))), space.key(config));
    }
  }
}

TEST(ConfigSpace, MutationIsAlwaysValidAndChangesSomething) {
  for (const KernelFacts &facts : all_facts()) {
    ConfigSpec spec(facts);
    ConfigSpace space(spec);
    for (uint64_t seed = 0; seed < 1000; ++seed) {
      std::mt19937_64 rng(seed);
      Config config = space.random_config(rng);
      Config mutated = space.mutate(config, rng);
      ASSERT_TRUE(valid(spec, mutated)) << "seed " << seed;
      EXPECT_NE(space.key(mutated), space.key(config)) << "seed " << seed;
      // One to three genes change (a flattened tile's derived genes aside).
      double distance = space.distance(config, mutated);
      EXPECT_GT(distance, 0.0);
    }
  }
}

/// A 2-D grid over 8192 x 8192 reducing over 2^22: each dimension may reach
/// 8192, but no search config's tile or reduction block may hold more than
/// Triton's 2^20 elements.
TEST(ConfigSpace, SearchConfigsStayWithinTritonsLargestBlock) {
  KernelFacts facts;
  facts.tiles.push_back(tile({8192, 8192}, {1, 1}, true));
  ReductionFacts reduction;
  reduction.size_hint = int64_t(1) << 22;
  facts.reductions.push_back(reduction);
  facts.memory_ops = 2;
  ConfigSpec spec(facts);
  ConfigSpace space(spec);
  std::vector<int> widest = space.gene_values(space.default_config());
  for (size_t g = 0; g < widest.size(); ++g)
    widest[g] = space.genes()[g].high;
  ASSERT_TRUE(valid(spec, space.decode(widest)));
  for (uint64_t seed = 0; seed < 300; ++seed) {
    std::mt19937_64 rng(seed);
    Config a = space.random_config(rng);
    Config b = space.random_config(rng);
    ASSERT_TRUE(valid(spec, a)) << "seed " << seed;
    ASSERT_TRUE(valid(spec, space.mutate(a, rng))) << "seed " << seed;
    ASSERT_TRUE(valid(spec, space.crossover(a, b, rng))) << "seed " << seed;
    for (const Config &neighbor : space.neighbors(a))
      ASSERT_TRUE(valid(spec, neighbor)) << "seed " << seed;
  }
}

TEST(ConfigSpace, CrossoverIsAlwaysValidAndTakesGenesFromParents) {
  for (const KernelFacts &facts : all_facts()) {
    ConfigSpec spec(facts);
    ConfigSpace space(spec);
    for (uint64_t seed = 0; seed < 1000; ++seed) {
      std::mt19937_64 rng(seed);
      Config a = space.random_config(rng), b = space.random_config(rng);
      Config child = space.crossover(a, b, rng);
      ASSERT_TRUE(valid(spec, child)) << "seed " << seed;
      std::vector<int> ga = space.gene_values(a), gb = space.gene_values(b),
                       gc = space.gene_values(child);
      for (size_t g = 0; g < gc.size(); ++g) {
        Gene::Kind kind = space.genes()[g].kind;
        if (kind == Gene::Kind::PidType || kind == Gene::Kind::Block ||
            kind == Gene::Kind::FlatBlock || kind == Gene::Kind::Maxnreg)
          continue; // xyz may fall back to flat; flattened tiles derive their blocks;
                    // maxnreg is capped to the child's num_warps
        EXPECT_TRUE(gc[g] == ga[g] || gc[g] == gb[g]) << space.genes()[g].name;
      }
    }
  }
}

TEST(ConfigSpace, NeighborsAreValidOneStepsAway) {
  for (const KernelFacts &facts : all_facts()) {
    ConfigSpec spec(facts);
    ConfigSpace space(spec);
    std::mt19937_64 rng(3);
    for (int i = 0; i < 50; ++i) {
      Config config = space.random_config(rng);
      std::vector<Config> neighbors = space.neighbors(config);
      EXPECT_FALSE(neighbors.empty());
      std::set<std::string> keys;
      for (const Config &neighbor : neighbors) {
        ASSERT_TRUE(valid(spec, neighbor));
        EXPECT_TRUE(keys.insert(space.key(neighbor)).second);
        EXPECT_NE(space.key(neighbor), space.key(config));
      }
    }
  }
  // The default matmul config: each gene's steps.
  ConfigSpec spec(matmul_facts());
  ConfigSpace space(spec);
  // blocks 2 + 2 + 1 (k=32 -> 16, 64) ... each ordinal gene two steps unless at a
  // bound, each categorical gene its other values.
  std::vector<Config> neighbors = space.neighbors(space.default_config());
  // m 64: 2, n 64: 2, loop order: 1, k 32: 2, l2 1: 1, indexing 3 x 2, pid 3
  // (xyz and both persistent types), num_sm_multiplier none (flat programs
  // take one tile each, so it stays 1), warps 4: 2, stages 2: 2.
  EXPECT_EQ(neighbors.size(), 2u + 2 + 1 + 2 + 1 + 6 + 3 + 0 + 2 + 2);
}

TEST(ConfigSpace, DistanceIsANormalizedMetric) {
  ConfigSpec spec(matmul_facts());
  ConfigSpace space(spec);
  std::mt19937_64 rng(11);
  for (int i = 0; i < 200; ++i) {
    Config a = space.random_config(rng), b = space.random_config(rng);
    EXPECT_EQ(space.distance(a, a), 0.0);
    EXPECT_DOUBLE_EQ(space.distance(a, b), space.distance(b, a));
    EXPECT_GE(space.distance(a, b), 0.0);
    EXPECT_LE(space.distance(a, b), 1.0);
  }
  Config a = space.default_config();
  Config b = a;
  b.num_warps = 8; // one step of a gene with 6 values, among 13 genes
  EXPECT_NEAR(space.distance(a, b), 1.0 / 5 / 13, 1e-12);
}

TEST(ConfigSpace, SearchDrawsPersistentPidTypesAndMultipliers) {
  for (const KernelFacts &facts : all_facts()) {
    ConfigSpec spec(facts);
    ConfigSpace space(spec);
    std::map<std::string, int> pid_types;
    std::set<int64_t> multipliers;
    std::mt19937_64 rng(5);
    for (int i = 0; i < 400; ++i) {
      Config config = space.random_config(rng);
      ASSERT_TRUE(valid(spec, config));
      ++pid_types[config.pid_type];
      if (config.is_persistent())
        multipliers.insert(config.num_sm_multiplier);
      else
        EXPECT_EQ(config.num_sm_multiplier, 1) << space.key(config);
      EXPECT_EQ(space.key(space.decode(space.gene_values(config))), space.key(config));
    }
    EXPECT_GT(json_field(pid_types, "flat"), 0);
    EXPECT_GT(json_field(pid_types, "persistent_blocked"), 0);
    EXPECT_GT(json_field(pid_types, "persistent_interleaved"), 0);
    EXPECT_GE(multipliers.size(), 4u);
    EXPECT_TRUE(multipliers.count(1) && multipliers.count(128));
  }
}

TEST(ConfigSpace, PersistentConfigsRoundTripAndMutateTheirMultiplier) {
  ConfigSpec spec(matmul_facts());
  ConfigSpace space(spec);
  Config config = spec.normalize(
      parse_json_text(R"({"pid_type": "persistent_interleaved", "num_sm_multiplier": 8})"));
  EXPECT_EQ(json_field(spec.to_json(config), "pid_type"), Json("persistent_interleaved"));
  EXPECT_EQ(json_field(spec.to_json(config), "num_sm_multiplier"), Json(8));
  EXPECT_EQ(space.key(space.decode(space.gene_values(config))), space.key(config));
  // A persistent config's neighbours step its multiplier both ways.
  std::set<int64_t> multipliers;
  for (const Config &neighbor : space.neighbors(config))
    if (neighbor.pid_type == config.pid_type) multipliers.insert(neighbor.num_sm_multiplier);
  EXPECT_EQ(multipliers, (std::set<int64_t>{4, 8, 16}));
  // Leaving the persistent pid types resets the multiplier, which flat and
  // xyz configs may not set.
  for (const Config &neighbor : space.neighbors(config))
    if (!neighbor.is_persistent()) EXPECT_EQ(neighbor.num_sm_multiplier, 1);
  // An override pins the pid type for the whole search.
  ConfigSpace blocked(spec, parse_json_text(R"({"pid_type": "persistent_blocked"})"));
  std::mt19937_64 rng(9);
  for (int i = 0; i < 50; ++i)
    EXPECT_EQ(blocked.random_config(rng).pid_type, "persistent_blocked");
}

KernelFacts tunable_facts() {
  KernelFacts facts = elementwise_facts();
  auto tunable = [](const std::string &name, const std::string &cls, const char *args) {
    return TunableFacts{name, make_fragment(cls, parse_json_text(args)), {}};
  };
  facts.tunables.push_back(
      tunable("split", "PowerOfTwoFragment", R"({"low": 1, "high": 16, "default_val": 2})"));
  facts.tunables.push_back(
      tunable("repeat", "IntegerFragment", R"({"low": -3, "high": 3, "default_val": null})"));
  facts.tunables.push_back(tunable("mode", "EnumFragment",
                                   R"({"choices": [1, 2.5, 4], "search_choices": [2.5, 4]})"));
  facts.tunables.push_back(tunable("flag", "BooleanFragment", "{}"));
  return facts;
}

TEST(ConfigSpace, UserTunablesAreGenesTheSearchDraws) {
  ConfigSpec spec(tunable_facts());
  ConfigSpace space(spec);
  std::vector<const Gene *> genes;
  for (const Gene &gene : space.genes())
    if (gene.kind == Gene::Kind::Tunable) genes.push_back(&gene);
  ASSERT_EQ(genes.size(), 4u);
  EXPECT_EQ(genes[0]->name, "split");
  EXPECT_EQ((std::pair<int, int>{genes[0]->low, genes[0]->high}), (std::pair<int, int>{0, 4}));
  EXPECT_EQ((std::pair<int, int>{genes[1]->low, genes[1]->high}), (std::pair<int, int>{-3, 3}));
  EXPECT_TRUE(genes[2]->categorical); // the search choices only
  EXPECT_EQ(genes[2]->high, 1);
  EXPECT_TRUE(genes[3]->categorical);

  Config defaults = space.default_config();
  EXPECT_EQ(
      dump_text(spec.to_json(defaults)).substr(dump_text(spec.to_json(defaults)).find("\"split\"")),
      R"("split": 2, "repeat": -3, "mode": 1, "flag": false})");
  std::map<std::string, std::set<std::string>> drawn;
  std::mt19937_64 rng(21);
  for (int i = 0; i < 300; ++i) {
    Config config = space.random_config(rng);
    ASSERT_TRUE(valid(spec, config));
    EXPECT_EQ(space.key(space.decode(space.gene_values(config))), space.key(config));
    for (size_t t = 0; t < config.tunables.size(); ++t)
      drawn[spec.facts().tunables[t].name].insert(dump_text(config.tunables[t]));
  }
  EXPECT_EQ(json_field(drawn, "split"), (std::set<std::string>{"1", "2", "4", "8", "16"}));
  EXPECT_EQ(json_field(drawn, "repeat").size(), 7u);
  EXPECT_EQ(json_field(drawn, "mode"), (std::set<std::string>{"2.5", "4"}));
  EXPECT_EQ(json_field(drawn, "flag"), (std::set<std::string>{"false", "true"}));
  // Neighbours of the default step each tunable; the default mode, 1, is no
  // search choice, so the search moves it to one (2.5 or 4).
  std::set<std::string> steps;
  for (const Config &neighbor : space.neighbors(defaults))
    for (size_t t = 0; t < neighbor.tunables.size(); ++t)
      if (neighbor.tunables[t] != defaults.tunables[t])
        steps.insert(spec.facts().tunables[t].name + "=" + dump_text(neighbor.tunables[t]));
  EXPECT_EQ(steps, (std::set<std::string>{"split=1", "split=4", "repeat=-2", "mode=2.5",
                                          "mode=4", "flag=true"}));
}

TEST(ConfigSpace, UserTunablesAreValidatedByTheirFragment) {
  ConfigSpec spec(tunable_facts());
  Config config = spec.normalize(parse_json_text(R"({"split": 16, "mode": 2.5, "flag": true})"));
  EXPECT_EQ(config.tunables[0], Json(int64_t(16)));
  // An int equal to a float choice reads as that choice.
  EXPECT_EQ(spec.normalize(parse_json_text(R"({"mode": 4.0})")).tunables[2], Json(int64_t(4)));
  auto message = [&](const char *text) {
    try {
      spec.normalize(parse_json_text(text));
    } catch (const UserError &error) {
      return std::string(error.what());
    }
    return std::string("<no error>");
  };
  EXPECT_EQ(message(R"({"split": 3})"),
            "split: 3 is not a value of PowerOfTwoFragment(1, 16, 2); use a power of two "
            "between 1 and 16");
  EXPECT_EQ(message(R"({"repeat": 4})"),
            "repeat: 4 is not a value of IntegerFragment(-3, 3, None); use an int between -3 "
            "and 3");
  EXPECT_EQ(message(R"({"mode": 3})"),
            "mode: 3 is not a value of EnumFragment((1, 2.5, 4), (2.5, 4)); use one of 1, 2.5, 4");
  EXPECT_EQ(message(R"({"flag": 0})"),
            "flag: 0 is not a value of BooleanFragment(); use true or false");
  Config bad = spec.default_config();
  bad.tunables.pop_back();
  EXPECT_THROW(spec.validate(bad), UserError);
  // A tunable may not read as a config field.
  KernelFacts clash = tunable_facts();
  clash.tunables[1].name = "loop_order";
  try {
    ConfigSpec conflicted(clash);
    ADD_FAILURE() << "no error";
  } catch (const UserError &error) {
    EXPECT_EQ(error.kind(), "TunableNameConflict");
    EXPECT_NE(std::string(error.what()).find("'loop_orders'"), std::string::npos);
  }
}

TEST(ConfigSpace, FragmentsCheckTheirArguments) {
  auto message = [](const std::string &cls, const char *args) {
    try {
      make_fragment(cls, parse_json_text(args));
    } catch (const UserError &error) {
      return std::string(error.what());
    }
    return std::string("<no error>");
  };
  EXPECT_EQ(message("IntegerFragment", R"({"low": 2, "high": 1, "default_val": null})"),
            "IntegerFragment: low=2 is above high=1");
  EXPECT_EQ(message("IntegerFragment", R"({"low": 0, "high": 4294967296, "default_val": null})"),
            "IntegerFragment: high=4294967296 is out of range; use an int within ±1073741823");
  EXPECT_EQ(message("PowerOfTwoFragment", R"({"low": 0, "high": 8, "default_val": null})"),
            "PowerOfTwoFragment: low=0 and high=8 must be powers of two");
  EXPECT_EQ(message("EnumFragment", R"({"choices": [], "search_choices": null})"),
            "EnumFragment: choices must be a non-empty tuple of constants, got ()");
  EXPECT_EQ(message("EnumFragment", R"({"choices": [1, 2], "search_choices": [3]})"),
            "EnumFragment: search_choices (3,) must be a non-empty subset of choices (1, 2)");
  EXPECT_EQ(message("ListOf", R"({"inner": 3, "length": 2})"),
            "ListOf: inner must be a fragment, got 3");
  EXPECT_EQ(message("Fragment", "{}"),
            "Fragment: not a fragment class; use PowerOfTwoFragment, IntegerFragment, "
            "EnumFragment, BooleanFragment or ListOf");
  Fragment clamped = make_fragment(
      "PowerOfTwoFragment", parse_json_text(R"({"low": 4, "high": 64, "default_val": 128})"));
  EXPECT_EQ(clamped.default_value(), Json(int64_t(64)));
  EXPECT_EQ(fragment_from_description(clamped.describe()), clamped);
}

TEST(ConfigSpace, FixedTilesNeverChange) {
  ConfigSpec spec(fixed_facts());
  ConfigSpace space(spec);
  for (uint64_t seed = 0; seed < 1000; ++seed) {
    std::mt19937_64 rng(seed);
    Config a = space.random_config(rng);
    for (const Config &config :
         {a, space.mutate(a, rng), space.crossover(a, space.random_config(rng), rng)}) {
      EXPECT_EQ(config.tiles[0].block_sizes[1], 32);
      EXPECT_FALSE(config.tiles[0].flatten);
      EXPECT_EQ(config.tiles[1].block_sizes, std::vector<int64_t>{16});
    }
  }
  for (const Config &config : space.neighbors(space.default_config())) {
    EXPECT_EQ(config.tiles[0].block_sizes[1], 32);
    EXPECT_EQ(config.tiles[1].block_sizes, std::vector<int64_t>{16});
  }
}

TEST(ConfigSpace, OverridesAreForcedEverywhere) {
  ConfigSpec spec(matmul_facts());
  ConfigSpace space(
      spec, parse_json_text(R"({"num_warps": 8, "indexing": "block_ptr", "pid_type": "xyz"})"));
  auto check = [&](const Config &config) {
    EXPECT_EQ(config.num_warps, 8);
    EXPECT_EQ(config.indexing, std::vector<std::string>{"block_ptr"});
    EXPECT_EQ(config.pid_type, "xyz");
  };
  check(space.default_config());
  for (uint64_t seed = 0; seed < 200; ++seed) {
    std::mt19937_64 rng(seed);
    Config a = space.random_config(rng);
    check(a);
    check(space.mutate(a, rng));
    check(space.crossover(a, space.random_config(rng), rng));
  }
  for (const Config &config : space.neighbors(space.default_config()))
    check(config);
}

TEST(ConfigSpace, InvalidOverridesAreTheUsersMistake) {
  ConfigSpec spec(matmul_facts());
  try {
    ConfigSpace space(spec, parse_json_text(R"({"num_warps": 3})"));
    FAIL() << "no error";
  } catch (const UserError &error) {
    EXPECT_EQ(error.kind(), "InvalidConfig");
    EXPECT_NE(std::string(error.what()).find("num_warps: 3"), std::string::npos);
  }
}

TEST(ConfigSpace, WithoutTensorDescriptorsNoneIsProposed) {
  ConfigSpec spec(matmul_facts());
  ConfigSpace space(spec, Json::object(), false);
  for (uint64_t seed = 0; seed < 300; ++seed) {
    std::mt19937_64 rng(seed);
    Config a = space.random_config(rng);
    for (const Config &config : {a, space.mutate(a, rng)})
      for (const auto &style : config.indexing)
        EXPECT_NE(style, "tensor_descriptor");
  }
}

TEST(ConfigSpace, ConfigPrintsAsPython) {
  ConfigSpec spec(softmax_facts(1000));
  Config config = spec.normalize(parse_json_text(
      R"({"block_sizes": [4], "reduction_loops": [null], "indexing": "block_ptr"})"));
  EXPECT_EQ(spec.to_python(config),
            "helion.Config(block_sizes=[[4]], reduction_loops=[None], l2_grouping=1, "
            "indexing='block_ptr', num_warps=4, num_stages=2)");
  ConfigSpec matmul(matmul_facts());
  Config yz = matmul.normalize(
      parse_json_text(R"({"use_yz_grid": true, "block_sizes": [[64, 128], [16]]})"));
  EXPECT_EQ(matmul.to_python(yz),
            "helion.Config(block_sizes=[[64, 128], [16]], loop_orders=[[0, 1]], l2_grouping=1, "
            "indexing='pointer', use_yz_grid=True, num_warps=4, num_stages=2)");
}

TEST(ConfigSpaceHeuristics, MatmulSeedsAreTheHopperTilings) {
  ConfigSpec spec(matmul_facts());
  ConfigSpace space(spec);
  DeviceInfo device;
  std::vector<Config> seeds = heuristic_seeds(space, device);
  ASSERT_GE(seeds.size(), 8u);
  EXPECT_EQ(space.key(seeds[0]),
            R"({"block_sizes": [[128, 256], [64]], "loop_orders": [[0, 1]], "l2_grouping": 8, )"
            R"("indexing": "tensor_descriptor", "pid_type": "persistent_interleaved", )"
            R"("num_warps": 8, "num_stages": 3})");
  EXPECT_EQ(space.key(seeds[1]),
            R"({"block_sizes": [[128, 128], [64]], "loop_orders": [[0, 1]], "l2_grouping": 8, )"
            R"("indexing": "tensor_descriptor", "num_warps": 8, "num_stages": 3})");
  for (const Config &seed : seeds) {
    EXPECT_TRUE(valid(spec, seed));
    EXPECT_EQ(prune_reason(spec, seed, device), "");
  }
  device.supports_tensor_descriptor = false;
  for (const Config &seed : heuristic_seeds(space, device)) {
    EXPECT_EQ(seed.indexing, std::vector<std::string>{"block_ptr"});
    EXPECT_EQ(seed.pid_type, "flat");
  }
}

TEST(ConfigSpaceHeuristics, PersistentMatmulSeedsFlattenTheirTileLoop) {
  KernelFacts facts = matmul_facts();
  facts.loops.resize(2);
  facts.loops[0].top_level = true; // the grid call; loops[1] is the K loop
  ConfigSpec spec(facts);
  ConfigSpace space(spec);
  std::vector<Config> seeds = heuristic_seeds(space, DeviceInfo());
  ASSERT_FALSE(seeds.empty());
  const Config &first = seeds[0];
  EXPECT_EQ(first.pid_type, "persistent_interleaved");
  EXPECT_EQ(first.tiles[0].block_sizes, (std::vector<int64_t>{128, 256}));
  ASSERT_EQ(first.ranges.size(), 2u);
  EXPECT_EQ(first.ranges[0].flatten, std::optional<bool>(true));
  EXPECT_EQ(first.ranges[1].flatten, std::nullopt);
}

TEST(ConfigSpaceHeuristics, BatchedMatmulSeedsGiveTheBatchOneAndVaryItSlowest) {
  // bmm: grid tile [batch, m, n] around an inner tile [k].
  KernelFacts bmm;
  bmm.tiles.push_back(tile({64, 512, 512}, {1, 16, 16}, true));
  bmm.tiles.push_back(tile({512}, {16}, false));
  bmm.memory_ops = 3;
  bmm.has_matmul = true;
  ConfigSpec spec(bmm);
  ConfigSpace space(spec);
  std::vector<Config> seeds = heuristic_seeds(space, DeviceInfo());
  ASSERT_FALSE(seeds.empty());
  EXPECT_EQ(seeds[0].tiles[0].block_sizes, (std::vector<int64_t>{1, 128, 256}));
  EXPECT_EQ(seeds[0].tiles[0].loop_order, (std::vector<int>{1, 2, 0}));
  EXPECT_EQ(seeds[0].pid_type, "persistent_interleaved");
  // Attention: grid tile [batch x heads, m] around the key loop [n].
  KernelFacts attention;
  attention.tiles.push_back(tile({64, 2048}, {1, 16}, true));
  attention.tiles.push_back(tile({2048}, {16}, false));
  attention.memory_ops = 4;
  attention.has_matmul = true;
  ConfigSpec attention_spec(attention);
  ConfigSpace attention_space(attention_spec);
  seeds = heuristic_seeds(attention_space, DeviceInfo());
  ASSERT_FALSE(seeds.empty());
  EXPECT_EQ(seeds[0].tiles[0].block_sizes, (std::vector<int64_t>{1, 128}));
  EXPECT_EQ(seeds[0].tiles[0].loop_order, (std::vector<int>{1, 0}));
  for (const Config &seed : seeds)
    EXPECT_EQ(seed.pid_type, "flat"); // persistent seeds are for GEMM shapes
  EXPECT_EQ(seeds[0].tiles[1].block_sizes, (std::vector<int64_t>{64}));
}

TEST(ConfigSpaceHeuristics, ReductionSeedsFollowTheRowLength) {
  DeviceInfo device;
  {
    ConfigSpec spec(softmax_facts(1000));
    ConfigSpace space(spec);
    std::vector<Config> seeds = heuristic_seeds(space, device);
    ASSERT_FALSE(seeds.empty());
    EXPECT_EQ(seeds[0].tiles[0].block_sizes, std::vector<int64_t>{1});
    EXPECT_FALSE(seeds[0].reduction_loops[0].has_value());
    EXPECT_EQ(seeds[0].num_warps, 4);
    for (const Config &seed : seeds)
      EXPECT_FALSE(seed.reduction_loops[0].has_value());
  }
  {
    ConfigSpec spec(softmax_facts(50000));
    ConfigSpace space(spec);
    std::vector<Config> seeds = heuristic_seeds(space, device);
    ASSERT_FALSE(seeds.empty());
    for (const Config &seed : seeds) {
      ASSERT_TRUE(seed.reduction_loops[0].has_value());
      EXPECT_GE(*seed.reduction_loops[0], 1024);
      EXPECT_LE(*seed.reduction_loops[0], 4096);
    }
    EXPECT_EQ(seeds[0].num_warps, 8); // a 4096 loop block
  }
}

TEST(ConfigSpaceHeuristics, ElementwiseSeedsKeepTheInnerDimensionWide) {
  ConfigSpec spec(elementwise_facts());
  ConfigSpace space(spec);
  std::vector<Config> seeds = heuristic_seeds(space, DeviceInfo());
  ASSERT_GE(seeds.size(), 6u);
  for (const Config &seed : seeds) {
    EXPECT_TRUE(valid(spec, seed));
    const TileChoice &tile = seed.tiles[0];
    int64_t elements =
        tile.flatten ? tile.flat_block_size : tile.block_sizes[0] * tile.block_sizes[1];
    EXPECT_GE(elements, 1024);
    EXPECT_LE(elements, 4096);
    if (!tile.flatten) EXPECT_GE(tile.block_sizes[1], 128);
  }
  EXPECT_EQ(seeds[0].tiles[0].loop_order, (std::vector<int>{1, 0}));
}

TEST(ConfigSpaceHeuristics, PruningByResources) {
  ConfigSpec spec(matmul_facts());
  DeviceInfo device;
  Config big = spec.normalize(
      parse_json_text(R"({"block_sizes": [[256, 256], [128]], "num_warps": 8, "num_stages": 4})"));
  EXPECT_EQ(matmul_shared_memory_bytes(spec, big), 4 * (256 * 128 + 128 * 256) * 2);
  EXPECT_EQ(prune_reason(spec, big, device), "pruned: needs 524288 bytes of shared memory");
  Config many = spec.normalize(
      parse_json_text(R"({"block_sizes": [[256, 256], [16]], "num_warps": 4, "num_stages": 2})"));
  EXPECT_EQ(accumulator_registers(spec, many), 256 * 256 / 128);
  EXPECT_EQ(prune_reason(spec, many, device), "pruned: needs 512 registers per thread");
  Config fine = spec.normalize(
      parse_json_text(R"({"block_sizes": [[128, 128], [64]], "num_warps": 8, "num_stages": 3})"));
  EXPECT_EQ(prune_reason(spec, fine, device), "");
  // Persistent programs storing through a descriptor stage the result too
  // (Triton 3.6 on an H100 asked for 262176 bytes: 32 more are barriers).
  const char *wide = R"({"block_sizes": [[128, 256], [64]], "num_stages": 4, )"
                     R"("indexing": "tensor_descriptor", "pid_type": ")";
  Config one_shot = spec.normalize(parse_json_text(std::string(wide) + "flat\"}"));
  EXPECT_EQ(matmul_shared_memory_bytes(spec, one_shot), 196608);
  Config resident = spec.normalize(parse_json_text(std::string(wide) + "persistent_blocked\"}"));
  EXPECT_EQ(matmul_shared_memory_bytes(spec, resident), 262144);
  EXPECT_NE(prune_reason(spec, resident, device), "");
  ConfigSpec softmax(softmax_facts(50000));
  Config persistent = softmax.normalize(
      parse_json_text(R"({"block_sizes": [1], "reduction_loops": [null], "num_warps": 4})"));
  EXPECT_EQ(prune_reason(softmax, persistent, device), "pruned: needs 512 registers per thread");
}

namespace {

/// The top-level loop, two inner loop dims (the second static) and a
/// range() loop; two loads without a policy and one atomic.
KernelFacts loop_facts() {
  KernelFacts facts;
  facts.tiles.push_back(tile({1024}, {1}, true));
  facts.tiles.push_back(tile({512, 8}, {1, 1}, false));
  facts.memory_ops = 3;
  LoopFacts top_level, wide, narrow, range;
  top_level.top_level = true;
  narrow.static_candidate = true;
  facts.loops = {top_level, wide, narrow, range};
  facts.policy_loads = 2;
  facts.atomic_ops = 1;
  return facts;
}

bool contains_name(const ConfigSpace &space, const std::string &name) {
  for (const Gene &gene : space.genes())
    if (gene.name == name) return true;
  return false;
}

} // namespace

TEST(ConfigSpace, LoopFieldsAreGenesWhereTheyCanMatter) {
  ConfigSpec spec(loop_facts());
  ConfigSpace hopper(spec);
  for (const char *name :
       {"range_unroll_factors[1]", "range_num_stages[2]", "range_multi_buffers[3]",
        "range_flattens[1]", "static_ranges[0]", "atomic_indexing", "load_eviction_policies[1]"})
    EXPECT_TRUE(contains_name(hopper, name)) << name;
  // The top-level entry and maxnreg count only for persistent pid types,
  // which the space offers; maxnreg only where the device takes it, and warp
  // specialization only from Blackwell on.
  EXPECT_TRUE(contains_name(hopper, "range_unroll_factors[0]"));
  EXPECT_TRUE(contains_name(hopper, "range_num_stages[0]"));
  EXPECT_TRUE(contains_name(hopper, "maxnreg"));
  EXPECT_FALSE(contains_name(hopper, "range_warp_specializes[1]"));
  ConfigSpace no_maxnreg(spec, Json::object(), true, false, false);
  EXPECT_FALSE(contains_name(no_maxnreg, "maxnreg"));
  ConfigSpace blackwell(spec, Json::object(), true, true);
  EXPECT_TRUE(contains_name(blackwell, "range_warp_specializes[1]"));
  ConfigSpace no_tma(spec, Json::object(), false);
  EXPECT_FALSE(contains_name(no_tma, "atomic_indexing"));
}

TEST(ConfigSpace, SearchesReachNonDefaultLoopFieldsAndStayValid) {
  ConfigSpec spec(loop_facts());
  for (bool warp_specialize : {false, true}) {
    ConfigSpace space(spec, Json::object(), true, warp_specialize);
    std::mt19937_64 rng(3);
    bool unroll = false, stages = false, buffers = false, flatten = false, statics = false,
         policy = false, atomic = false, specialized = false, registers = false,
         persistent_stages = false;
    auto observe = [&](const Config &config) {
      ASSERT_TRUE(valid(spec, config));
      EXPECT_EQ(space.key(space.decode(space.gene_values(config))), space.key(config));
      int specialized_loops = 0;
      for (const RangeChoice &range : config.ranges) {
        unroll = unroll || range.unroll_factor > 0;
        stages = stages || range.num_stages > 0;
        buffers = buffers || range.multi_buffer.has_value();
        flatten = flatten || range.flatten.has_value();
        specialized_loops += range.warp_specialize == std::optional<bool>(true);
        if (!warp_specialize) EXPECT_FALSE(range.warp_specialize.has_value());
      }
      EXPECT_LE(specialized_loops, 1);
      specialized = specialized || specialized_loops == 1;
      statics = statics || config.static_ranges[0];
      for (const auto &p : config.load_eviction_policies)
        policy = policy || !p.empty();
      atomic = atomic || config.atomic_indexing_for(0) == "tensor_descriptor";
      // Outside persistent pid types, maxnreg and the top-level entry stay default.
      if (!config.is_persistent()) {
        EXPECT_FALSE(config.maxnreg);
        EXPECT_EQ(config.ranges[0], RangeChoice());
      }
      registers = registers || config.maxnreg.has_value();
      persistent_stages = persistent_stages || config.ranges[0].num_stages > 0;
    };
    Config current = space.default_config();
    for (int i = 0; i < 200; ++i) {
      Config random = space.random_config(rng);
      observe(random);
      current = space.mutate(current, rng);
      observe(current);
      observe(space.crossover(random, current, rng));
    }
    for (const Config &neighbor : space.neighbors(current))
      observe(neighbor);
    EXPECT_TRUE(unroll && stages && buffers && flatten && statics && policy && atomic);
    EXPECT_TRUE(registers && persistent_stages);
    EXPECT_EQ(specialized, warp_specialize);
  }
}

namespace {

/// Two top-level loops with an hl.barrier() between them.
KernelFacts barrier_facts() {
  KernelFacts facts;
  facts.tiles.push_back(tile({1000}, {1}, true));
  facts.tiles.push_back(tile({300, 40}, {1, 1}, true));
  facts.memory_ops = 3;
  LoopFacts first, second;
  first.top_level = second.top_level = true;
  facts.loops = {first, second};
  facts.barrier = SourceSpan{7, 4, 7, 16};
  return facts;
}

} // namespace

TEST(ConfigSpace, BarrierKernelsRunOnlyPersistentBlocked) {
  ConfigSpec spec(barrier_facts());
  EXPECT_EQ(dump_text(json_field(spec.describe(), "pid_type")), R"(["persistent_blocked"])");
  EXPECT_EQ(spec.default_config().pid_type, "persistent_blocked");
  EXPECT_EQ(spec.normalize(parse_json_text("{}")).pid_type, "persistent_blocked");
  for (const char *other : {"flat", "xyz", "persistent_interleaved"}) {
    try {
      spec.normalize(parse_json_text(std::string(R"({"pid_type": ")") + other + "\"}"));
      ADD_FAILURE() << other << " was accepted";
    } catch (const UserError &error) {
      EXPECT_EQ(error.kind(), "BarrierRequiresPersistent") << other;
      EXPECT_NE(std::string(error.what()).find("use pid_type=\"persistent_blocked\""),
                std::string::npos)
          << error.what();
      EXPECT_EQ(error.span().line, 7);
    }
  }
  ConfigSpace space(spec);
  std::mt19937_64 rng(5);
  Config current = space.default_config();
  for (int i = 0; i < 100; ++i) {
    Config random = space.random_config(rng);
    current = space.mutate(current, rng);
    for (const Config &config : {random, current, space.crossover(random, current, rng),
                                 spec.random_config(rng)}) {
      EXPECT_EQ(config.pid_type, "persistent_blocked");
      ASSERT_TRUE(valid(spec, config));
    }
  }
  // The search keeps the persistent-only genes, the top-level entries and
  // maxnreg, but one program per SM: a cooperative launch needs them all resident.
  EXPECT_TRUE(contains_name(space, "range_num_stages[1]"));
  EXPECT_TRUE(contains_name(space, "maxnreg"));
  EXPECT_FALSE(contains_name(space, "num_sm_multiplier"));
  EXPECT_EQ(dump_text(json_field(spec.describe(), "num_sm_multiplier")), "[1]");
  try {
    spec.normalize(parse_json_text(R"({"num_sm_multiplier": 2})"));
    ADD_FAILURE() << "two programs per SM were accepted beside a barrier";
  } catch (const UserError &error) {
    EXPECT_EQ(error.kind(), "InvalidConfig");
    EXPECT_NE(std::string(error.what()).find("use 1"), std::string::npos) << error.what();
    EXPECT_EQ(error.span().line, 7);
  }
  for (const Config &seed : heuristic_seeds(space, DeviceInfo()))
    EXPECT_EQ(seed.pid_type, "persistent_blocked");
}
