#include "autotune/Autotuner.h"
#include "autotune/ConfigSpace.h"
#include "autotune/Heuristics.h"
#include "TestFacts.h"
#include "support/Diagnostics.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <set>
#include <string>

using namespace helion;
using namespace helion::autotune;

namespace {

using helion::testing::tile;

KernelFacts matmul_facts() {
  KernelFacts facts;
  facts.tiles.push_back(tile({4096, 4096}, {16, 16}, true));
  facts.tiles.back().flattenable = false;
  facts.tiles.push_back(tile({4096}, {16}, false));
  facts.memory_ops = 3;
  facts.has_matmul = true;
  return facts;
}

KernelFacts softmax_facts() {
  KernelFacts facts;
  facts.tiles.push_back(tile({4096}, {1}, true));
  ReductionFacts reduction;
  reduction.size_hint = 4096;
  facts.reductions.push_back(reduction);
  facts.memory_ops = 2;
  return facts;
}

KernelFacts elementwise_facts() {
  KernelFacts facts;
  facts.tiles.push_back(tile({2048, 2048}, {1, 1}, true));
  facts.memory_ops = 3;
  return facts;
}

/// A bowl in gene space around a planted optimum: the time grows with the
/// squared normalized distance of each ordinal gene and by a fixed factor per
/// wrong categorical gene. num_warps=32 fails to compile and num_stages=8
/// times out.
struct Bowl {
  const ConfigSpace &space;
  std::vector<int> optimum;
  double best_ms = 0.05;
  double ordinal_weight = 3;        ///< per squared normalized step
  double categorical_weight = 0.15; ///< per wrong categorical gene
  int evaluations = 0;
  std::vector<std::string> phases;

  Measurement measure(const Config &config) const {
    Measurement out;
    if (config.num_warps == 32) {
      out.error = "compile error: too many warps";
      return out;
    }
    if (config.num_stages == 8) {
      out.error = "timeout";
      return out;
    }
    std::vector<int> genes = space.gene_values(config);
    double cost = 0;
    for (size_t g = 0; g < genes.size(); ++g) {
      const Gene &gene = space.genes()[g];
      if (gene.high == gene.low) continue;
      if (gene.categorical) {
        cost += genes[g] == optimum[g] ? 0 : categorical_weight;
      } else {
        double d = double(genes[g] - optimum[g]) / (gene.high - gene.low);
        cost += ordinal_weight * d * d;
      }
    }
    out.time_ms = best_ms * std::exp(cost);
    return out;
  }

  EvaluateBatch evaluator() {
    return [this](const std::vector<Config> &configs, const std::string &phase) {
      phases.push_back(phase);
      std::vector<Measurement> out;
      for (const Config &config : configs) {
        if (phase == "search") ++evaluations;
        out.push_back(measure(config));
      }
      return out;
    };
  }
};

std::vector<int> planted(const ConfigSpace &space, const std::string &config_json) {
  return space.gene_values(space.spec().normalize(parse_json_text(config_json)));
}

struct Outcome {
  AutotuneResult result;
  std::vector<std::string> log;
};

Outcome tune(const ConfigSpec &spec, AutotuneOptions options, Bowl &bowl) {
  Outcome out;
  out.result = helion::autotune::autotune(
      spec, options, bowl.evaluator(), [&](const std::string &line) { out.log.push_back(line); });
  return out;
}

/// Measured configs (pruned ones aside) until one within `factor` of the optimum.
int evaluations_to_reach(const AutotuneResult &result, double target) {
  int count = 0;
  for (const auto &[config, measurement] : result.history) {
    if (measurement.error.rfind("pruned:", 0) == 0) continue;
    ++count;
    if (measurement.ok() && measurement.time_ms <= target) return count;
  }
  return 1 << 30;
}

AutotuneOptions options_for(const std::string &strategy, const std::string &effort,
                            uint64_t seed = 1) {
  AutotuneOptions options;
  options.strategy = strategy;
  options.effort = effort;
  options.seed = seed;
  return options;
}

const char *kMatmulOptimum =
    R"({"block_sizes": [[128, 256], [64]], "loop_orders": [[1, 0]], "l2_grouping": 8,
        "indexing": "tensor_descriptor", "num_warps": 8, "num_stages": 4})";
/// Far from every heuristic seed.
const char *kSoftmaxOptimum =
    R"({"block_sizes": [8], "reduction_loops": [256], "l2_grouping": 2,
        "indexing": ["block_ptr", "pointer"], "num_warps": 2, "num_stages": 5})";

} // namespace

TEST(Autotune, ModelGuidedFindsTheMatmulOptimum) {
  ConfigSpec spec(matmul_facts());
  ConfigSpace space(spec);
  Bowl bowl{space, planted(space, kMatmulOptimum)};
  Outcome quick = tune(spec, options_for("model", "quick"), bowl);
  std::printf("quick: %d measured, best %.4f ms for an optimum of %.4f ms\n",
              quick.result.configs_measured, quick.result.best_time_ms, bowl.best_ms);
  EXPECT_LE(quick.result.configs_measured, 72);
  EXPECT_LE(quick.result.best_time_ms, bowl.best_ms * 1.25);
  Outcome full = tune(spec, options_for("model", "full"), bowl);
  EXPECT_LE(full.result.configs_measured, 368);
  EXPECT_LE(evaluations_to_reach(full.result, bowl.best_ms * 1.0001), 368);
}

TEST(Autotune, EveryStrategyFindsThePlantedOptimum) {
  ConfigSpec spec(softmax_facts());
  ConfigSpace space(spec);
  struct Case {
    const char *strategy;
    int max_evaluations;
  };
  // The persistent pid types bring two ordinal genes (num_sm_multiplier,
  // maxnreg) that the bowl counts wherever a config is persistent.
  for (Case c : {Case{"model", 150}, Case{"differential_evolution", 720}, Case{"pattern", 150},
                 Case{"random", 1000}}) {
    // A shallow bowl, so that random sampling can get near the optimum too.
    Bowl bowl{space, planted(space, kSoftmaxOptimum)};
    bowl.ordinal_weight = 0.6;
    bowl.categorical_weight = 0.02;
    Outcome full = tune(spec, options_for(c.strategy, "full"), bowl);
    int reached = evaluations_to_reach(full.result, bowl.best_ms * 1.05);
    std::printf("%s: within 5%% after %d of %d evaluations\n", c.strategy, reached,
                full.result.configs_measured);
    EXPECT_LE(reached, c.max_evaluations) << c.strategy;
    EXPECT_LE(full.result.best_time_ms, bowl.best_ms * 1.05) << c.strategy;
  }
}

TEST(Autotune, ModelGuidedNeedsFewerEvaluationsThanRandom) {
  ConfigSpec spec(matmul_facts());
  ConfigSpace space(spec);
  for (uint64_t seed : {1, 2, 3}) {
    Bowl model_bowl{space, planted(space, kMatmulOptimum)};
    Outcome model = tune(spec, options_for("model", "full", seed), model_bowl);
    Bowl random_bowl{space, planted(space, kMatmulOptimum)};
    Outcome random = tune(spec, options_for("random", "full", seed), random_bowl);
    int model_reached = evaluations_to_reach(model.result, model_bowl.best_ms * 1.1);
    int random_reached = evaluations_to_reach(random.result, random_bowl.best_ms * 1.1);
    std::printf("seed %d: model %d, random %d\n", int(seed), model_reached, random_reached);
    EXPECT_LT(model_reached, random_reached);
  }
}

TEST(Autotune, SameSeedSameHistory) {
  ConfigSpec spec(matmul_facts());
  ConfigSpace space(spec);
  for (const char *strategy : {"model", "differential_evolution", "pattern", "random"}) {
    Bowl a{space, planted(space, kMatmulOptimum)}, b{space, planted(space, kMatmulOptimum)};
    Outcome first = tune(spec, options_for(strategy, "quick", 5), a);
    Outcome second = tune(spec, options_for(strategy, "quick", 5), b);
    // Everything but the wall times.
    EXPECT_EQ(dump_text(json_field(first.result.to_json(spec), "history")),
              dump_text(json_field(second.result.to_json(spec), "history")))
        << strategy;
    EXPECT_EQ(space.key(first.result.best), space.key(second.result.best)) << strategy;
    std::set<std::string> keys;
    for (const auto &entry : first.result.history)
      EXPECT_TRUE(keys.insert(space.key(entry.first)).second) << strategy << ": measured twice";
  }
}

TEST(Autotune, NoConfigFoundWhenEverythingFails) {
  ConfigSpec spec(softmax_facts());
  AutotuneOptions options = options_for("model", "quick");
  EvaluateBatch failing = [](const std::vector<Config> &configs, const std::string &) {
    std::vector<Measurement> out(configs.size());
    for (auto &m : out)
      m.error = "triton error: out of resources";
    return out;
  };
  try {
    helion::autotune::autotune(spec, options, failing, [](const std::string &) {});
    FAIL() << "no error";
  } catch (const UserError &error) {
    EXPECT_EQ(error.kind(), "NoConfigFound");
    EXPECT_EQ(std::string(error.what()),
              "every config tried failed; the first errors: triton error: out of resources");
  }
}

TEST(Autotune, OverridesRespectedByEveryStrategy) {
  ConfigSpec spec(matmul_facts());
  ConfigSpace plain(spec);
  for (const char *strategy : {"model", "differential_evolution", "pattern", "random", "finite"}) {
    AutotuneOptions options = options_for(strategy, "quick");
    options.overrides = parse_json_text(R"({"num_stages": 3, "indexing": "block_ptr"})");
    options.finite_configs = {spec.default_config()};
    Bowl bowl{plain, planted(plain, kMatmulOptimum)};
    EvaluateBatch inner = bowl.evaluator();
    int checked = 0;
    EvaluateBatch evaluate = [&](const std::vector<Config> &configs, const std::string &phase) {
      for (const Config &config : configs) {
        EXPECT_EQ(config.num_stages, 3) << strategy;
        EXPECT_EQ(config.indexing, std::vector<std::string>{"block_ptr"}) << strategy;
        ++checked;
      }
      return inner(configs, phase);
    };
    helion::autotune::autotune(spec, options, evaluate, [](const std::string &) {});
    EXPECT_GT(checked, 0) << strategy;
  }
}

TEST(Autotune, BudgetSecondsIsRespected) {
  ConfigSpec spec(matmul_facts());
  ConfigSpace space(spec);
  Bowl bowl{space, planted(space, kMatmulOptimum)};
  double now = 100.0; // a fake clock: each measured config takes 0.1 s
  AutotuneOptions options = options_for("model", "quick");
  options.population_size = 24;
  options.max_generations = 3;
  options.budget_seconds = 5;
  options.clock = [&] { return now; };
  EvaluateBatch inner = bowl.evaluator();
  EvaluateBatch evaluate = [&](const std::vector<Config> &configs, const std::string &phase) {
    now += 0.1 * configs.size();
    return inner(configs, phase);
  };
  std::vector<std::string> log;
  AutotuneResult result = helion::autotune::autotune(
      spec, options, evaluate, [&](const std::string &line) { log.push_back(line); });
  // The first batch (24) and the second (16) cost 4 s; the third shrinks to
  // the 10 configs the 1 s left affords, and the finalists are not re-timed.
  EXPECT_EQ(result.configs_measured, 50);
  EXPECT_NEAR(result.seconds, 5.0, 1e-9);
  EXPECT_EQ(bowl.phases, (std::vector<std::string>{"search", "search", "search"}));
  EXPECT_TRUE(result.finalists.empty());
  EXPECT_TRUE(std::isfinite(result.best_time_ms));
  const std::string stop_line = "[5s] The autotune budget of 5s is spent; the search stops";
  EXPECT_NE(std::find(log.begin(), log.end(), stop_line), log.end());
}

TEST(Autotune, BudgetCountsTimeSpentBeforeTheSearch) {
  ConfigSpec spec(matmul_facts());
  ConfigSpace space(spec);
  Bowl bowl{space, planted(space, kMatmulOptimum)};
  double now = 0.0;
  AutotuneOptions options = options_for("model", "full");
  options.budget_seconds = 5;
  options.spent_seconds = 4.9;
  options.clock = [&] { return now; };
  EvaluateBatch inner = bowl.evaluator();
  int calls = 0;
  EvaluateBatch evaluate = [&](const std::vector<Config> &configs, const std::string &phase) {
    ++calls;
    now += 0.1 * configs.size();
    return inner(configs, phase);
  };
  AutotuneResult result =
      helion::autotune::autotune(spec, options, evaluate, [](const std::string &) {});
  EXPECT_EQ(calls, 1); // one batch, then nothing: not even the finalists
  EXPECT_GT(result.seconds, 5.0);

  // Setup that used the whole budget leaves the default config, unmeasured.
  options.spent_seconds = 6;
  calls = 0;
  std::vector<std::string> log;
  result = helion::autotune::autotune(spec, options, evaluate,
                                      [&](const std::string &line) { log.push_back(line); });
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(result.configs_measured, 0);
  EXPECT_FALSE(std::isfinite(result.best_time_ms));
  EXPECT_EQ(spec.to_json(result.best), spec.to_json(space.default_config()));
  EXPECT_NE(log.back().find("the budget ran out before any config was measured; using the "
                            "default config"),
            std::string::npos)
      << log.back();
}

/// An evaluator that stops at the deadline, as the Python one does: configs
/// it has no time for come back skipped, and the search ends there.
TEST(Autotune, SkippedConfigsEndTheSearchAndStayOutOfTheHistory) {
  ConfigSpec spec(matmul_facts());
  ConfigSpace space(spec);
  Bowl bowl{space, planted(space, kMatmulOptimum)};
  double now = 0.0;
  AutotuneOptions options = options_for("model", "full");
  options.budget_seconds = 3;
  options.clock = [&] { return now; };
  EvaluateBatch inner = bowl.evaluator();
  int calls = 0;
  EvaluateBatch evaluate = [&](const std::vector<Config> &configs, const std::string &phase) {
    ++calls;
    std::vector<Measurement> out = inner(configs, phase);
    for (Measurement &measurement : out) {
      if (now >= options.budget_seconds) {
        measurement = Measurement();
        measurement.skipped = true;
        continue;
      }
      now += 0.25;
    }
    return out;
  };
  AutotuneResult result =
      helion::autotune::autotune(spec, options, evaluate, [](const std::string &) {});
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(result.configs_measured, 12);
  EXPECT_EQ(result.history.size(), 12u);
  EXPECT_TRUE(std::isfinite(result.best_time_ms));

  // Nothing measured in time: the default config rather than NoConfigFound.
  now = 0;
  options.budget_seconds = 0.001;
  options.clock = [&] { return now; };
  EvaluateBatch skip_all = [&](const std::vector<Config> &configs, const std::string &) {
    now = 1;
    Measurement skipped;
    skipped.skipped = true;
    return std::vector<Measurement>(configs.size(), skipped);
  };
  result = helion::autotune::autotune(spec, options, skip_all, [](const std::string &) {});
  EXPECT_EQ(result.configs_measured, 0);
  EXPECT_EQ(spec.to_json(result.best), spec.to_json(space.default_config()));

  // Over given configs, the first of them.
  now = 0;
  options.strategy = "finite";
  options.finite_configs = {
      spec.normalize(parse_json_text(R"({"block_sizes": [[32, 32], [32]]})")),
      spec.normalize(parse_json_text(R"({"block_sizes": [[64, 64], [32]]})"))};
  result = helion::autotune::autotune(spec, options, skip_all, [](const std::string &) {});
  EXPECT_EQ(spec.to_json(result.best), spec.to_json(options.finite_configs[0]));
}

TEST(Autotune, OptionsOutOfRangeAreInvalid) {
  ConfigSpec spec(matmul_facts());
  Json infinite = Json::object();
  infinite["budget_seconds"] = Json(HUGE_VAL);
  const std::pair<Json, const char *> cases[] = {
      {parse_json_text(R"({"budget_seconds": -1})"), "autotune_budget_seconds: -1 is not allowed"},
      {infinite, "autotune_budget_seconds: Infinity is not allowed"},
      {parse_json_text(R"({"max_generations": 4294967297})"),
       "autotune_max_generations: 4294967297 is not allowed; use an int between 0 and 1048576"},
      {parse_json_text(R"({"max_generations": -5})"),
       "autotune_max_generations: -5 is not allowed"},
  };
  for (const auto &[json, message] : cases) {
    try {
      AutotuneOptions::from_json(json, spec);
      ADD_FAILURE() << dump_text(json);
    } catch (const UserError &error) {
      EXPECT_EQ(error.kind(), "InvalidConfig");
      EXPECT_NE(std::string(error.what()).find(message), std::string::npos) << error.what();
    }
  }
}

TEST(Autotune, LogsInTheSeedsFormat) {
  ConfigSpec spec(softmax_facts());
  ConfigSpace space(spec);
  Bowl bowl{space, planted(space, kSoftmaxOptimum)};
  AutotuneOptions options = options_for("differential_evolution", "quick");
  Outcome out = tune(spec, options, bowl);
  ASSERT_GE(out.log.size(), 5u);
  EXPECT_EQ(out.log[0],
            "[0s] Starting DifferentialEvolutionSearch with population=20, generations=5, "
            "crossover_rate=0.8");
  EXPECT_EQ(out.log[1].rfind("[0s] Initial population: failed=", 0), 0u) << out.log[1];
  EXPECT_NE(out.log[1].find(" min=0.0"), std::string::npos) << out.log[1];
  EXPECT_NE(out.log[1].find(" best=helion.Config(block_sizes=[["), std::string::npos);
  EXPECT_EQ(out.log[2].rfind("[0s] Generation 2: failed=", 0), 0u) << out.log[2];
  size_t n = out.log.size();
  EXPECT_EQ(out.log[n - 3].rfind("[0s] Autotuning complete in 0.0s after searching ", 0), 0u);
  EXPECT_EQ(out.log[n - 2], "One can hardcode the best config and skip autotuning with:");
  EXPECT_EQ(out.log[n - 1], "    @helion.kernel(config=" + spec.to_python(out.result.best) + ")");
}

TEST(Autotune, FinalistsAreRetimedAndTheFastestWins) {
  ConfigSpec spec(softmax_facts());
  ConfigSpace space(spec);
  std::vector<Config> configs;
  for (int64_t rows : {1, 2, 4, 8, 16, 32, 64})
    configs.push_back(spec.normalize(parse_json_text("{\"block_sizes\": [" + std::to_string(rows) +
                                                     "], \"reduction_loops\": [64]}")));
  AutotuneOptions options = options_for("finite", "full");
  options.finite_configs = configs;
  std::vector<size_t> final_sizes;
  EvaluateBatch evaluate = [&](const std::vector<Config> &batch, const std::string &phase) {
    std::vector<Measurement> out;
    if (phase == "final") final_sizes.push_back(batch.size());
    for (const Config &config : batch) {
      Measurement m;
      double rows = double(config.tiles[0].block_sizes[0]);
      // Search times favour small blocks; careful times favour the 4-row one.
      m.time_ms = phase == "search" ? rows : std::abs(rows - 4) + 1;
      out.push_back(m);
    }
    return out;
  };
  AutotuneResult result =
      helion::autotune::autotune(spec, options, evaluate, [](const std::string &) {});
  EXPECT_EQ(final_sizes, std::vector<size_t>{5});
  EXPECT_EQ(result.best.tiles[0].block_sizes, std::vector<int64_t>{4});
  EXPECT_EQ(result.best_time_ms, 1.0);
  EXPECT_EQ(result.configs_measured, 7);
}

TEST(Autotune, PrunedConfigsAreRecordedButNotMeasured) {
  ConfigSpec spec(matmul_facts());
  AutotuneOptions options = options_for("finite", "full");
  options.finite_configs = {
      spec.normalize(parse_json_text(
          R"({"block_sizes": [[256, 256], [128]], "num_warps": 8, "num_stages": 4})")),
      spec.normalize(parse_json_text(
          R"({"block_sizes": [[128, 128], [64]], "num_warps": 8, "num_stages": 3})"))};
  int evaluated = 0;
  EvaluateBatch evaluate = [&](const std::vector<Config> &batch, const std::string &phase) {
    if (phase == "search") evaluated += static_cast<int>(batch.size());
    return std::vector<Measurement>(batch.size(), Measurement{1.0, ""});
  };
  AutotuneResult result =
      helion::autotune::autotune(spec, options, evaluate, [](const std::string &) {});
  EXPECT_EQ(evaluated, 1);
  EXPECT_EQ(result.configs_measured, 1);
  ASSERT_EQ(result.history.size(), 2u);
  EXPECT_EQ(result.history[0].second.error, "pruned: needs 524288 bytes of shared memory");
  Json json = result.to_json(spec);
  EXPECT_EQ(json_field(json, "history")[0][1].is_null(), true);
  EXPECT_EQ(json_field(json, "history")[0][2].get_ref<const std::string &>(),
            "pruned: needs 524288 bytes of shared memory");
  EXPECT_EQ(json_number(json_field(json, "best_time_ms")), 1.0);
  EXPECT_EQ(json_field(json, "best_over_time").size(), 1u);
}

TEST(Autotune, OptionsFromJson) {
  ConfigSpec spec(softmax_facts());
  AutotuneOptions options = AutotuneOptions::from_json(
      parse_json_text(R"({"strategy": "pattern", "effort": "quick", "seed": 7, "max_generations": 3,
                      "budget_seconds": 12.5, "configs": [{"block_sizes": [4]}],
                      "overrides": {"num_warps": 8},
                      "device": {"sm_count": 80, "supports_tensor_descriptor": false}})"),
      spec);
  EXPECT_EQ(options.strategy, "pattern");
  EXPECT_EQ(options.effort, "quick");
  EXPECT_EQ(options.seed, 7u);
  EXPECT_EQ(options.max_generations, 3);
  EXPECT_EQ(options.budget_seconds, 12.5);
  ASSERT_EQ(options.finite_configs.size(), 1u);
  EXPECT_EQ(options.finite_configs[0].tiles[0].block_sizes, std::vector<int64_t>{4});
  EXPECT_EQ(dump_text(options.overrides), R"({"num_warps": 8})");
  EXPECT_EQ(options.device.sm_count, 80);
  EXPECT_FALSE(options.device.supports_tensor_descriptor);
}

TEST(Autotune, StrategyNamesAreDefinedOnce) {
  EXPECT_EQ(strategy_names().front().name, "model");
  const std::pair<const char *, const char *> spellings[] = {
      {"model", "model"},
      {"ModelGuidedSearch", "model"},
      {"model_guided", "model"},
      {"LFBOTreeSearch", "model"},
      {"de", "differential_evolution"},
      {"DifferentialEvolutionSearch", "differential_evolution"},
      {"Differential_Evolution", "differential_evolution"},
      {"patternsearch", "pattern"},
      {"RandomSearch", "random"},
      {"FiniteSearch", "finite"},
  };
  for (const auto &[spelling, name] : spellings)
    EXPECT_EQ(canonical_strategy(spelling), name) << spelling;
  try {
    canonical_strategy("exhaustive");
    FAIL() << "no error";
  } catch (const UserError &error) {
    EXPECT_EQ(error.kind(), "InvalidConfig");
    EXPECT_NE(std::string(error.what())
                  .find("\"exhaustive\" is not a search strategy; use one of "
                        "ModelGuidedSearch (\"model\")"),
              std::string::npos)
        << error.what();
  }
  ConfigSpec spec(softmax_facts());
  EXPECT_EQ(AutotuneOptions::from_json(parse_json_text(R"({"strategy": "de"})"), spec).strategy,
            "differential_evolution");
}

TEST(Autotune, SearchSizesComeFromTheOptions) {
  ConfigSpec spec(softmax_facts());
  AutotuneOptions options = AutotuneOptions::from_json(
      parse_json_text(R"({"strategy": "DifferentialEvolutionSearch", "effort": "quick",
                      "population_size": 6, "max_generations": 2, "crossover_rate": 0.5})"),
      spec);
  ConfigSpace space(spec);
  Bowl bowl{space, planted(space, kSoftmaxOptimum)};
  Outcome out = tune(spec, options, bowl);
  EXPECT_EQ(out.log[0], "[0s] Starting DifferentialEvolutionSearch with population=6, "
                        "generations=2, crossover_rate=0.5");
  EXPECT_LE(out.result.configs_measured, 6 * 3); // the population, then two generations

  options = AutotuneOptions::from_json(
      parse_json_text(R"({"strategy": "random", "effort": "quick", "count": 7})"), spec);
  EXPECT_EQ(tune(spec, options, bowl).result.configs_measured, 7);
  options = AutotuneOptions::from_json(
      parse_json_text(R"({"strategy": "pattern", "population_size": 5, "starts": 1})"), spec);
  EXPECT_EQ(tune(spec, options, bowl)
                .log[0]
                .find("Starting PatternSearch with initial_population=5, starts=1"),
            5u); // after "[0s] "

  for (const char *bad : {R"({"population_size": 0})", R"({"crossover_rate": 0})",
                          R"({"crossover_rate": 1.5})", R"({"count": -2})"}) {
    try {
      AutotuneOptions::from_json(parse_json_text(bad), spec);
      ADD_FAILURE() << bad;
    } catch (const UserError &error) {
      EXPECT_EQ(error.kind(), "InvalidConfig") << bad;
    }
  }
}

/// Search times off by up to +-30% in a pattern fixed per config (the card's
/// noise); final times exact.
static EvaluateBatch noisy(Bowl &bowl, const ConfigSpace &space) {
  return [&bowl, &space](const std::vector<Config> &configs, const std::string &phase) {
    std::vector<Measurement> out;
    for (const Config &config : configs) {
      Measurement m = bowl.measure(config);
      if (phase == "search" && m.ok()) {
        size_t hash = std::hash<std::string>{}(space.key(config));
        m.time_ms *= 0.7 + 0.6 * double(hash % 1000) / 1000.0;
      }
      out.push_back(m);
    }
    return out;
  };
}

TEST(Autotune, FullNeverPicksSlowerThanQuick) {
  ConfigSpec spec(matmul_facts());
  ConfigSpace space(spec);
  for (uint64_t seed : {1, 2, 3, 4}) {
    Bowl bowl{space, planted(space, kMatmulOptimum)};
    std::vector<std::string> log;
    auto log_line = [&](const std::string &line) { log.push_back(line); };
    AutotuneResult quick = helion::autotune::autotune(spec, options_for("model", "quick", seed),
                                                      noisy(bowl, space), log_line);
    AutotuneResult full = helion::autotune::autotune(spec, options_for("model", "full", seed),
                                                     noisy(bowl, space), log_line);
    EXPECT_LE(full.best_time_ms, quick.best_time_ms) << "seed " << seed;
    // Quick's pick is among full's finalists, and full measured nothing twice.
    bool found = false;
    for (const Finalist &finalist : full.finalists)
      found = found || space.key(finalist.config) == space.key(quick.best);
    EXPECT_TRUE(found) << "seed " << seed;
    std::set<std::string> keys;
    for (const auto &entry : full.history)
      EXPECT_TRUE(keys.insert(space.key(entry.first)).second) << "measured twice";
    EXPECT_GT(full.history.size(), quick.history.size());
  }
}

/// A full search whose full-stage configs search at half the time of its quick
/// stage's and re-time `full_stage_final` ms against the quick stage's 1 ms.
static AutotuneResult full_search_with_final_times(double full_stage_final) {
  ConfigSpec spec(matmul_facts());
  ConfigSpace space(spec);
  bool quick_done = false;
  std::set<std::string> quick_stage;
  EvaluateBatch evaluate = [&](const std::vector<Config> &configs, const std::string &phase) {
    std::vector<Measurement> out;
    for (const Config &config : configs) {
      std::string key = space.key(config);
      if (!quick_done && phase == "search") quick_stage.insert(key);
      bool quick = quick_stage.count(key) > 0;
      Measurement m;
      m.time_ms = phase == "search" ? (quick ? 2.0 : 1.0) : (quick ? 1.0 : full_stage_final);
      out.push_back(m);
    }
    return out;
  };
  auto log_line = [&](const std::string &line) {
    quick_done = quick_done || line.find("The quick search is done") != std::string::npos;
  };
  AutotuneResult result =
      helion::autotune::autotune(spec, options_for("model", "full"), evaluate, log_line);
  EXPECT_TRUE(quick_done);
  result.history.clear();
  EXPECT_EQ(quick_stage.count(space.key(result.best)) > 0, full_stage_final >= 0.98)
      << "full stage's finalists re-timed at " << full_stage_final << " ms";
  return result;
}

TEST(Autotune, FullKeepsQuicksPickUnlessAnotherIsClearlyFaster) {
  EXPECT_DOUBLE_EQ(full_search_with_final_times(0.99).best_time_ms, 1.0); // noise: quick's
  EXPECT_DOUBLE_EQ(full_search_with_final_times(0.95).best_time_ms, 0.95);
  EXPECT_DOUBLE_EQ(full_search_with_final_times(1.05).best_time_ms, 1.0);
}

TEST(Autotune, FinalistsAreReportedAndLogged) {
  ConfigSpec spec(softmax_facts());
  ConfigSpace space(spec);
  Bowl bowl{space, planted(space, kSoftmaxOptimum)};
  Outcome out = tune(spec, options_for("model", "quick"), bowl);
  ASSERT_FALSE(out.result.finalists.empty());
  EXPECT_LE(out.result.finalists.size(), 5u);
  Json json = out.result.to_json(spec);
  EXPECT_EQ(json_field(json, "finalists").size(), out.result.finalists.size());
  EXPECT_TRUE(json_field(json_field(json, "finalists")[0], "final_ms").is_number());
  EXPECT_TRUE(json_field(json_field(json, "finalists")[0], "search_ms").is_number());
  bool logged = false;
  for (const std::string &line : out.log)
    logged = logged || line.find("Finalists re-timed: ") != std::string::npos;
  EXPECT_TRUE(logged);
}

TEST(Autotune, ConfigsLargerThanOneOutOfSharedMemoryAreNotCompiled) {
  ConfigSpec spec(matmul_facts());
  ConfigSpace space(spec);
  Bowl bowl{space, planted(space, kMatmulOptimum)};
  // Shared memory as Triton would count the operand tiles (fp16), against a
  // limit far below what the heuristics assume, so that many configs fail.
  auto bytes = [](const Config &config) {
    const auto &mn = config.tiles[0].block_sizes;
    int64_t k = config.tiles[1].block_sizes[0];
    return int64_t(config.num_stages) * (mn[0] * k + k * mn[1]) * 2;
  };
  const int64_t limit = 64 * 1024;
  auto at_least_as_large = [](const Config &x, const Config &y) {
    return x.num_stages >= y.num_stages && x.indexing == y.indexing &&
           x.tiles[0].block_sizes[0] >= y.tiles[0].block_sizes[0] &&
           x.tiles[0].block_sizes[1] >= y.tiles[0].block_sizes[1] &&
           x.tiles[1].block_sizes[0] >= y.tiles[1].block_sizes[0];
  };
  std::vector<Config> failed_before; ///< out of shared memory in an earlier batch
  int compiled_in_vain = 0, failures = 0;
  EvaluateBatch evaluate = [&](const std::vector<Config> &configs, const std::string &phase) {
    std::vector<Measurement> out;
    std::vector<Config> failed_now;
    for (const Config &config : configs) {
      for (const Config &failed : failed_before)
        if (at_least_as_large(config, failed)) ++compiled_in_vain;
      Measurement m = bowl.measure(config);
      if (bytes(config) > limit) {
        m.time_ms = std::numeric_limits<double>::infinity();
        m.error = "OutOfResources: out of resource: shared memory, Required: " +
                  std::to_string(bytes(config)) + ", Hardware limit: 65536.";
        if (phase == "search") failed_now.push_back(config);
      }
      out.push_back(m);
    }
    failures += static_cast<int>(failed_now.size());
    failed_before.insert(failed_before.end(), failed_now.begin(), failed_now.end());
    return out;
  };
  AutotuneResult result = helion::autotune::autotune(spec, options_for("model", "full"), evaluate,
                                                     [](const std::string &) {});
  std::printf("%d configs ran out of shared memory\n", failures);
  EXPECT_GT(failures, 0);
  EXPECT_EQ(compiled_in_vain, 0);
  EXPECT_TRUE(std::isfinite(result.best_time_ms));
  EXPECT_LE(bytes(result.best), limit);
}

TEST(Autotune, AttentionSharedMemoryMatchesTriton) {
  // examples/attention.py at 32 heads x 2048 x 64: grid (heads, query rows),
  // a loop over key blocks, and the head dimension consumed whole by both dots.
  KernelFacts facts;
  facts.tiles.push_back(tile({32, 2048}, {1, 16}, true));
  facts.tiles.back().flattenable = false;
  facts.tiles.push_back(tile({2048}, {16}, false));
  ReductionFacts head;
  head.size_hint = 64;
  head.persistent_only = true;
  facts.reductions.push_back(head);
  facts.memory_ops = 4;
  facts.has_matmul = true;
  ConfigSpec spec(facts);
  DeviceInfo h100;
  // Triton 3.6 on an H100 ("Required: N" of its out-of-resource errors; the
  // few bytes more are its barriers), and configs that ran.
  struct Case {
    const char *blocks;
    int stages;
    int64_t required; ///< 0: it ran
  };
  const Case cases[] = {
      {"[[1, 32], [256]]", 8, 462848},    {"[[4, 32], [64]]", 5, 278528},
      {"[[4, 128], [64]]", 8, 524288},    {"[[8, 128], [16]]", 8, 360448},
      {"[[32, 16], [16]]", 4, 458752},    {"[[4, 512], [64]]", 1, 294920},
      {"[[16, 16], [1024]]", 1, 2129920}, {"[[4, 64], [512]]", 2, 557056},
      {"[[32, 16], [256]]", 6, 10551296}, {"[[16, 32], [256]]", 4, 3211288},
      {"[[1, 256], [128]]", 1, 0},        {"[[2, 256], [16]]", 6, 0},
      {"[[1, 1024], [16]]", 6, 0},        {"[[1, 32], [64]]", 7, 0},
      {"[[1, 256], [64]]", 3, 0},         {"[[1, 64], [256]]", 4, 0},
  };
  for (const Case &c : cases) {
    Config config =
        spec.normalize(parse_json_text(std::string("{\"block_sizes\": ") + c.blocks +
                                       ", \"num_stages\": " + std::to_string(c.stages) + "}"));
    int64_t estimate = matmul_shared_memory_bytes(spec, config);
    if (c.required > 0) {
      EXPECT_LE(estimate, c.required) << c.blocks << " stages " << c.stages;
      EXPECT_GE(estimate, c.required - 64) << c.blocks << " stages " << c.stages;
      EXPECT_NE(prune_reason(spec, config, h100), "") << c.blocks << " stages " << c.stages;
    } else {
      EXPECT_LE(estimate, h100.shared_memory_per_block) << c.blocks << " stages " << c.stages;
    }
  }
}
