#pragma once

// The autotuner: search strategies over a kernel's ConfigSpec, driven by a
// callback that compiles and times a batch of configs (the Python layer owns
// compiling in worker processes and timing on the GPU).

#include "config/ConfigSpec.h"
#include "support/Json.h"

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

namespace helion::autotune {

/// What the search knows about the GPU, to seed and prune candidates.
struct DeviceInfo {
  int sm_count = 132;
  int64_t shared_memory_per_block = 232448; ///< bytes (H100: 227 KiB)
  int max_threads_per_block = 1024;
  bool supports_tensor_descriptor = true; ///< Hopper or newer
  /// Blackwell or newer (capability 10), and the allow_warp_specialize setting.
  bool supports_warp_specialize = false;
  bool supports_maxnreg = true; ///< CUDA: ptxas takes a register limit
};

/// One search strategy's spellings: `name` (settings, logs), the class name
/// Helion users know from `helion.autotuner`, and other accepted aliases.
/// Spellings match ignoring case and underscores.
struct StrategyName {
  std::string name;
  std::string class_name;
  std::vector<std::string> aliases;
};

/// Every strategy, the default ("model") first. The one table of names:
/// Python reads it through the binding.
const std::vector<StrategyName> &strategy_names();
/// The `name` of the strategy `spelling` names; throws
/// UserError("InvalidConfig") listing the names for an unknown one.
std::string canonical_strategy(const std::string &spelling);

struct AutotuneOptions {
  /// A name of `strategy_names()`, canonical once read by from_json.
  std::string strategy = "model";
  /// "quick" or "full": how many configs the strategy may measure.
  std::string effort = "full";
  uint64_t seed = 0;
  int max_generations = -1;           ///< < 0: the strategy's default for the effort
  /// The first batch's size (DE: the population; pattern and model: the
  /// initial population); < 0: the strategy's default for the effort.
  int population_size = -1;
  int starts = -1;            ///< pattern: points descended from at once; < 0: default
  int count = -1;             ///< random: configs drawn in all; < 0: default
  double crossover_rate = -1; ///< DE: in (0, 1]; < 0: default
  /// 0: no wall-clock budget. Otherwise the whole search, compiling and
  /// timing included, ends within it: no batch starts once it is spent, the
  /// last batches shrink to what the time left affords (at the measured cost
  /// per config), the finalists are re-timed only if time is left, and the
  /// evaluator is expected to return `skipped` measurements for configs it
  /// could not finish in time.
  double budget_seconds = 0;
  /// Seconds of the budget the caller spent before the search began (setting
  /// up compile workers, say).
  double spent_seconds = 0;
  std::vector<Config> finite_configs; ///< "finite": exactly these
  /// Fields fixed in every candidate (autotune_config_overrides), in the user's
  /// spelling; applied through ConfigSpec::normalize.
  Json overrides = Json::object();
  DeviceInfo device;
  /// Seconds on some monotonic clock; steady_clock when empty. Tests pass a
  /// fake one to check the budget without sleeping.
  std::function<double()> clock;

  /// Reads {"strategy": ..., "effort": ..., "seed": ..., "max_generations": ...,
  /// "population_size": ..., "starts": ..., "count": ..., "crossover_rate": ...,
  /// "budget_seconds": ..., "spent_seconds": ..., "configs": [...], "overrides": {...},
  /// "device": {...}}.
  static AutotuneOptions from_json(const Json &json, const ConfigSpec &spec);
};

/// The outcome of compiling, checking and timing one config.
struct Measurement {
  double time_ms = std::numeric_limits<double>::infinity(); ///< inf when it failed
  std::string error; ///< why it failed ("compile timeout", "wrong output: ...", ...)
  /// Not measured because the budget ran out: neither a failure nor a time,
  /// and not part of the history.
  bool skipped = false;
  bool ok() const {
    return !skipped && error.empty() && time_ms < std::numeric_limits<double>::infinity();
  }
};

/// Phase of a batch: "search" wants a quick time; "final" re-times finalists carefully.
using EvaluateBatch =
    std::function<std::vector<Measurement>(const std::vector<Config> &, const std::string &phase)>;
using LogLine = std::function<void(const std::string &)>;

/// A finalist of the search, re-timed at the end.
struct Finalist {
  Config config;
  double search_ms;
  Measurement final;
};

struct AutotuneResult {
  Config best;
  double best_time_ms = std::numeric_limits<double>::infinity();
  int configs_measured = 0;
  double seconds = 0;
  /// Every measured config in order, with its measurement.
  std::vector<std::pair<Config, Measurement>> history;
  /// Best time so far after each measured config, with the wall time (s) it was reached.
  std::vector<std::pair<double, double>> best_over_time;
  /// The configs re-timed at the end (empty when the budget left no time).
  std::vector<Finalist> finalists;

  Json to_json(const ConfigSpec &spec) const;
};

/// Runs the strategy. With effort "full" (and no given configs) the quick
/// search runs first and the full one goes on from what it measured; the
/// finalists re-timed at the end include the quick search's, so that full
/// never picks a config slower than quick would have. Logs in the seed's format ("[0s] Starting
/// DifferentialEvolutionSearch with population=40, generations=20,
/// crossover_rate=0.8", one line per generation, "Autotuning complete in
/// 593.1s after searching 1520 configs.", the decorator line). Deterministic
/// for a fixed seed and fixed measurements. Throws UserError("NoConfigFound")
/// when every candidate failed; when the budget ran out before any config was
/// measured, returns the default config (with an infinite best time).
AutotuneResult autotune(const ConfigSpec &spec, const AutotuneOptions &options,
                        const EvaluateBatch &evaluate, const LogLine &log);

} // namespace helion::autotune
