#include "autotune/Autotuner.h"

#include "autotune/ConfigSpace.h"
#include "autotune/Heuristics.h"
#include "autotune/Strategy.h"
#include "support/Diagnostics.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>

namespace helion::autotune {

static constexpr size_t kFinalists = 5;
/// A full search keeps its quick stage's pick unless another finalist's final
/// time beats it by more than this fraction: finalists this close differ by
/// the card's noise (2% between re-timings of 50 us kernels on an H200), and
/// full must not trade quick's config for one that is slower in truth.
static constexpr double kFullSwitchMargin = 0.02;
static constexpr size_t kErrorsShown = 3;
/// Far more than any search needs; keeps the count an int.
static constexpr int64_t kMaxGenerations = int64_t(1) << 20;

static const Json &expect(const Json &json, const char *key, bool (Json::*is)() const,
                          const char *what) {
  const Json &value = json_field(json, key);
  if (!(value.*is)())
    throw UserError("InvalidConfig", std::string("autotune options: \"") + key + "\" must be " +
                                         what + ", got " + dump_text(value));
  return value;
}

/// A search size `key` in [low, kMaxGenerations]; -1 (the strategy's default) when absent or null.
static int optional_count(const Json &json, const char *key, int64_t low) {
  if (!json.contains(key) || json_field(json, key).is_null()) return -1;
  int64_t value = json_int(expect(json, key, &Json::is_number_integer, "an int"));
  if (value < low || value > kMaxGenerations)
    throw UserError("InvalidConfig", std::string(key) + ": " + std::to_string(value) +
                                         " is not allowed; use an int between " +
                                         std::to_string(low) + " and " +
                                         std::to_string(kMaxGenerations) + ", or None");
  return static_cast<int>(value);
}

AutotuneOptions AutotuneOptions::from_json(const Json &json, const ConfigSpec &spec) {
  AutotuneOptions options;
  if (!json.is_object()) return options;
  if (json.contains("strategy"))
    options.strategy = canonical_strategy(
        expect(json, "strategy", &Json::is_string, "a string").get_ref<const std::string &>());
  if (json.contains("effort")) {
    options.effort =
        expect(json, "effort", &Json::is_string, "a string").get_ref<const std::string &>();
    if (options.effort != "quick" && options.effort != "full")
      throw UserError("InvalidConfig", "autotune_effort: \"" + options.effort +
                                           "\" is not an effort to search with; use \"quick\" "
                                           "or \"full\"");
  }
  if (json.contains("seed"))
    options.seed =
        static_cast<uint64_t>(json_int(expect(json, "seed", &Json::is_number_integer, "an int")));
  if (json.contains("max_generations") && !json_field(json, "max_generations").is_null()) {
    int64_t generations =
        json_int(expect(json, "max_generations", &Json::is_number_integer, "an int"));
    if (generations < -1 || generations > kMaxGenerations)
      throw UserError("InvalidConfig", "autotune_max_generations: " + std::to_string(generations) +
                                           " is not allowed; use an int between 0 and " +
                                           std::to_string(kMaxGenerations) + ", or None");
    options.max_generations = static_cast<int>(generations);
  }
  options.population_size = optional_count(json, "population_size", 1);
  options.starts = optional_count(json, "starts", 1);
  options.count = optional_count(json, "count", 0);
  if (json.contains("crossover_rate") && !json_field(json, "crossover_rate").is_null()) {
    options.crossover_rate =
        json_number(expect(json, "crossover_rate", &Json::is_number, "a number"));
    if (!(options.crossover_rate > 0 && options.crossover_rate <= 1))
      throw UserError("InvalidConfig",
                      "crossover_rate: " + dump_text(json_field(json, "crossover_rate")) +
                          " is not allowed; use a number in (0, 1]");
  }
  if (json.contains("budget_seconds") && !json_field(json, "budget_seconds").is_null())
    options.budget_seconds =
        json_number(expect(json, "budget_seconds", &Json::is_number, "a number"));
  if (!std::isfinite(options.budget_seconds) || options.budget_seconds < 0)
    throw UserError("InvalidConfig",
                    "autotune_budget_seconds: " + dump_text(json_field(json, "budget_seconds")) +
                        " is not allowed; use a number of seconds above 0, "
                        "or 0 or None for no budget");
  if (json.contains("spent_seconds") && !json_field(json, "spent_seconds").is_null())
    options.spent_seconds =
        std::max(0.0, json_number(expect(json, "spent_seconds", &Json::is_number, "a number")));
  if (json.contains("configs") && !json_field(json, "configs").is_null())
    for (const Json &config :
         expect(json, "configs", &Json::is_array, "a list").get_ref<const Json::array_t &>())
      options.finite_configs.push_back(spec.normalize(config));
  if (json.contains("overrides") && !json_field(json, "overrides").is_null())
    options.overrides = expect(json, "overrides", &Json::is_object, "an object");
  if (json.contains("device") && json_field(json, "device").is_object()) {
    const Json &device = json_field(json, "device");
    if (json_field(device, "sm_count").is_number_integer())
      options.device.sm_count = json_int(json_field(device, "sm_count"));
    if (json_field(device, "shared_memory_per_block").is_number_integer())
      options.device.shared_memory_per_block =
          json_int(json_field(device, "shared_memory_per_block"));
    if (json_field(device, "max_threads_per_block").is_number_integer())
      options.device.max_threads_per_block = json_int(json_field(device, "max_threads_per_block"));
    if (json_field(device, "supports_tensor_descriptor").is_boolean())
      options.device.supports_tensor_descriptor =
          json_field(device, "supports_tensor_descriptor").get<bool>();
    if (json_field(device, "supports_warp_specialize").is_boolean())
      options.device.supports_warp_specialize =
          json_field(device, "supports_warp_specialize").get<bool>();
    if (json_field(device, "supports_maxnreg").is_boolean())
      options.device.supports_maxnreg = json_field(device, "supports_maxnreg").get<bool>();
  }
  return options;
}

static Json time_json(double time_ms) {
  return std::isfinite(time_ms) ? Json(time_ms) : Json();
}

Json AutotuneResult::to_json(const ConfigSpec &spec) const {
  Json out = Json::object();
  out["best"] = spec.to_json(best);
  out["best_time_ms"] = time_json(best_time_ms);
  out["configs_measured"] = Json(configs_measured);
  out["seconds"] = Json(seconds);
  Json entries = Json::array();
  for (const auto &[config, measurement] : history) {
    Json entry = Json::array();
    entry.push_back(spec.to_json(config));
    entry.push_back(measurement.ok() ? Json(measurement.time_ms) : Json());
    entry.push_back(measurement.error.empty() ? Json() : Json(measurement.error));
    entries.push_back(std::move(entry));
  }
  out["history"] = std::move(entries);
  Json over_time = Json::array();
  for (const auto &[seconds_at, time_ms] : best_over_time) {
    Json point = Json::array();
    point.push_back(Json(seconds_at));
    point.push_back(time_json(time_ms));
    over_time.push_back(std::move(point));
  }
  out["best_over_time"] = std::move(over_time);
  Json retimed = Json::array();
  for (const Finalist &finalist : finalists) {
    Json entry = Json::object();
    entry["config"] = spec.to_json(finalist.config);
    entry["search_ms"] = time_json(finalist.search_ms);
    entry["final_ms"] = finalist.final.ok() ? Json(finalist.final.time_ms) : Json();
    entry["error"] = finalist.final.error.empty() ? Json() : Json(finalist.final.error);
    retimed.push_back(std::move(entry));
  }
  out["finalists"] = std::move(retimed);
  return out;
}

namespace {

std::string format(const char *pattern, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, pattern, value);
  return buffer;
}

/// "0.0123": times in ms as the seed prints them.
std::string show_ms(double time_ms) {
  return std::isfinite(time_ms) ? format("%.4f", time_ms) : "inf";
}

/// Runs one search: owns the history and the clock.
class Driver {
public:
  Driver(const ConfigSpec &spec, const AutotuneOptions &options, const EvaluateBatch &evaluate,
         const LogLine &log)
      : spec_(spec), options_(options), evaluate_(evaluate), log_(log),
        space_(spec, options.overrides, options.device.supports_tensor_descriptor,
               options.device.supports_warp_specialize, options.device.supports_maxnreg),
        start_(std::chrono::steady_clock::now()),
        clock_start_(options.clock ? options.clock() : 0.0) {}

  AutotuneResult run() {
    if (runs_quick_stage()) {
      AutotuneOptions quick = options_;
      quick.effort = "quick";
      search(quick);
      quick_finalists_ = ranked_finalists();
      if (!out_of_time())
        log_line("The quick search is done; the full search goes on from its " +
                 std::to_string(configs_measured_) + " configs");
    }
    if (!out_of_time()) search(options_);
    if (out_of_time())
      log_line("The autotune budget of " + format("%g", options_.budget_seconds) +
               "s is spent; the search stops");
    return finish();
  }

private:
  /// A full search starts with the quick one, so that full's finalists
  /// include quick's: on the same kernel, full never picks a slower config
  /// than quick would. Given configs are searched once.
  bool runs_quick_stage() const {
    return options_.effort == "full" && canonical_strategy(options_.strategy) != "finite";
  }

  /// Runs one strategy with `options` until it is done or the budget is spent.
  void search(const AutotuneOptions &options) {
    SearchContext context{space_, options, heuristic_seeds(space_, options.device),
                          [this](const Config &config) { return prune(config).empty(); }};
    std::unique_ptr<Strategy> strategy = make_strategy(context);
    strategy->observe(history_);
    log_line("Starting " + strategy->start_line());
    while (!strategy->done() && !out_of_time()) {
      std::vector<Config> batch = strategy->next_batch();
      if (batch.empty()) break;
      std::vector<Measurement> measurements = measure(batch);
      strategy->report(measurements);
      log_batch(strategy->batch_name(), measurements);
    }
  }

  /// The fastest measured configs by their search times, at most kFinalists.
  std::vector<size_t> ranked_finalists() const {
    std::vector<size_t> ranked;
    for (size_t i = 0; i < history_.size(); ++i)
      if (history_[i].second.ok()) ranked.push_back(i);
    std::stable_sort(ranked.begin(), ranked.end(), [&](size_t a, size_t b) {
      return history_[a].second.time_ms < history_[b].second.time_ms;
    });
    if (ranked.size() > kFinalists) ranked.resize(kFinalists);
    return ranked;
  }

  /// This search's finalists, then the quick stage's that are not among them.
  std::vector<size_t> finalists() const {
    std::vector<size_t> out = ranked_finalists();
    for (size_t i : quick_finalists_)
      if (std::find(out.begin(), out.end(), i) == out.end()) out.push_back(i);
    return out;
  }

  double elapsed() const {
    double since_start =
        options_.clock
            ? options_.clock() - clock_start_
            : std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    return options_.spent_seconds + since_start;
  }

  bool has_budget() const { return options_.budget_seconds > 0; }

  /// The budget is spent, or the evaluator said so by skipping configs.
  bool out_of_time() const {
    return has_budget() && (budget_ran_out_ || elapsed() >= options_.budget_seconds);
  }

  /// How many new configs the time left affords, at the cost per config
  /// measured so far (at least one; everything before any cost is known).
  size_t affordable() const {
    if (!has_budget() || configs_evaluated_ == 0) return std::numeric_limits<size_t>::max();
    double per_config = evaluate_seconds_ / configs_evaluated_;
    double left = options_.budget_seconds - elapsed();
    if (per_config <= 0) return std::numeric_limits<size_t>::max();
    return std::max<size_t>(1, static_cast<size_t>(std::max(0.0, left) / per_config));
  }

  /// A config the budget left no time for.
  static Measurement skipped() {
    Measurement measurement;
    measurement.skipped = true;
    measurement.error = "not measured: the autotune budget ran out";
    return measurement;
  }

  void log_line(const std::string &text) { log_("[" + format("%.0f", elapsed()) + "s] " + text); }

  /// Measures the configs not measured before and not pruned; returns one
  /// measurement per config of `batch`.
  std::vector<Measurement> measure(const std::vector<Config> &batch) {
    std::vector<Measurement> out(batch.size());
    size_t affordable_now = affordable();
    std::vector<Config> fresh;
    std::vector<std::string> fresh_keys;
    std::vector<size_t> fresh_of(batch.size(), batch.size()); ///< batch index -> fresh index
    std::map<std::string, size_t> fresh_index;
    for (size_t i = 0; i < batch.size(); ++i) {
      std::string key = space_.key(batch[i]);
      auto known = measured_.find(key);
      if (known != measured_.end()) {
        out[i] = history_[known->second].second;
        continue;
      }
      auto repeated = fresh_index.find(key);
      if (repeated != fresh_index.end()) {
        fresh_of[i] = repeated->second;
        continue;
      }
      std::string pruned = prune(batch[i]);
      if (!pruned.empty()) {
        Measurement failure;
        failure.error = pruned;
        record(batch[i], failure, key, false);
        out[i] = failure;
        continue;
      }
      if (fresh.size() >= affordable_now) {
        out[i] = skipped();
        budget_ran_out_ = true;
        continue;
      }
      fresh_index[key] = fresh.size();
      fresh_of[i] = fresh.size();
      fresh.push_back(batch[i]);
      fresh_keys.push_back(key);
    }
    if (fresh.empty()) return out;
    double before = elapsed();
    std::vector<Measurement> results = evaluate_(fresh, "search");
    check_internal(results.size() == fresh.size(),
                   "evaluate returned " + std::to_string(results.size()) + " results for " +
                       std::to_string(fresh.size()) + " configs");
    size_t evaluated = 0;
    for (size_t j = 0; j < fresh.size(); ++j) {
      Measurement &result = results[j];
      if (result.skipped) {
        budget_ran_out_ = true;
        continue;
      }
      ++evaluated;
      if (!result.ok() && result.error.empty()) result.error = "no time measured";
      if (!result.ok()) result.time_ms = std::numeric_limits<double>::infinity();
      record(fresh[j], result, fresh_keys[j], true);
    }
    evaluate_seconds_ += elapsed() - before;
    configs_evaluated_ += std::max<size_t>(evaluated, 1);
    for (size_t i = 0; i < batch.size(); ++i)
      if (fresh_of[i] < fresh.size()) out[i] = results[fresh_of[i]];
    return out;
  }

  /// Why `config` is not worth compiling: the heuristics' prediction
  /// (Heuristics.h), or a config measured before that ran out of shared
  /// memory and that `config` is at least as large as.
  std::string prune(const Config &config) const {
    std::string reason = prune_reason(spec_, config, options_.device);
    if (!reason.empty()) return reason;
    std::vector<int> genes = space_.gene_values(config);
    for (const auto &failed : out_of_shared_memory_)
      if (at_least_as_large(genes, failed))
        return "pruned: at least as large as a config that ran out of shared memory";
    return "";
  }

  /// Shared memory grows with every block size, reduction loop block and
  /// stage count, for the same flattening and indexing; the other genes
  /// (warps, grouping, orders) barely change it.
  bool at_least_as_large(const std::vector<int> &genes, const std::vector<int> &than) const {
    const auto &kinds = space_.genes();
    for (size_t g = 0; g < kinds.size(); ++g) {
      switch (kinds[g].kind) {
      case Gene::Kind::Block:
      case Gene::Kind::FlatBlock:
      case Gene::Kind::Reduction:
      case Gene::Kind::NumStages:
        if (genes[g] < than[g]) return false;
        break;
      case Gene::Kind::Flatten:
      case Gene::Kind::Indexing:
        if (genes[g] != than[g]) return false;
        break;
      default:
        break;
      }
    }
    return true;
  }

  void record(const Config &config, const Measurement &measurement, const std::string &key,
              bool measured) {
    // Triton's words for a kernel whose buffers exceed the device's shared memory.
    if (measurement.error.find("out of resource: shared memory") != std::string::npos)
      out_of_shared_memory_.push_back(space_.gene_values(config));
    measured_[key] = history_.size();
    history_.push_back({config, measurement});
    if (!measured) return;
    ++configs_measured_;
    if (measurement.ok() && measurement.time_ms < best_time_) {
      best_time_ = measurement.time_ms;
      best_ = history_.size() - 1;
    }
    best_over_time_.push_back({elapsed(), best_time_});
  }

  void log_batch(const std::string &name, const std::vector<Measurement> &measurements) {
    std::vector<double> times;
    int failed = 0, skipped = 0;
    for (const auto &measurement : measurements) {
      if (measurement.ok())
        times.push_back(measurement.time_ms);
      else if (measurement.skipped)
        ++skipped;
      else
        ++failed;
    }
    std::sort(times.begin(), times.end());
    double inf = std::numeric_limits<double>::infinity();
    std::string line = name + ": failed=" + std::to_string(failed);
    if (skipped > 0) line += " skipped=" + std::to_string(skipped);
    line += " min=" + show_ms(times.empty() ? inf : times.front());
    line += " mid=" + show_ms(times.empty() ? inf : times[times.size() / 2]);
    line += " max=" + show_ms(times.empty() ? inf : times.back());
    if (best_ < history_.size()) line += " best=" + spec_.to_python(history_[best_].first);
    log_line(line);
  }

  /// "Finalists re-timed: 0.0120 ms (search 0.0118 ms), ...; picked 0.0120 ms".
  void log_finalists(const AutotuneResult &result) {
    std::string line = "Finalists re-timed:";
    for (size_t i = 0; i < result.finalists.size(); ++i) {
      const Finalist &finalist = result.finalists[i];
      line +=
          std::string(i ? "," : "") + " " +
          (finalist.final.ok() ? show_ms(finalist.final.time_ms) + " ms" : std::string("failed")) +
          " (search " + show_ms(finalist.search_ms) + " ms)";
    }
    log_line(line + "; picked " + show_ms(result.best_time_ms) + " ms");
  }

  [[noreturn]] void no_config_found() const {
    std::vector<std::string> errors;
    for (const auto &[config, measurement] : history_) {
      if (errors.size() >= kErrorsShown) break;
      if (std::find(errors.begin(), errors.end(), measurement.error) == errors.end())
        errors.push_back(measurement.error);
    }
    std::string shown;
    for (size_t i = 0; i < errors.size(); ++i)
      shown += (i ? "; " : "") + errors[i];
    if (errors.empty()) shown = "no config was tried";
    throw UserError("NoConfigFound", "every config tried failed; the first errors: " + shown);
  }

  /// The budget ran out before any config was measured: the first of the
  /// given configs for a finite search, else the default config (as with
  /// autotune_effort="none").
  AutotuneResult finish_without_measurements() {
    AutotuneResult result;
    bool finite = canonical_strategy(options_.strategy) == "finite";
    result.best = finite && !options_.finite_configs.empty() ? options_.finite_configs.front()
                                                             : space_.default_config();
    result.configs_measured = configs_measured_;
    result.seconds = elapsed();
    result.history = std::move(history_);
    result.best_over_time = std::move(best_over_time_);
    log_line("Autotuning stopped after " + format("%.1f", result.seconds) +
             "s: the budget ran out before any config was measured; using " +
             (finite ? "the first config given." : "the default config."));
    return result;
  }

  /// The finalist with the fastest final time (the first of equals), among the
  /// quick stage's finalists only when `of_quick_stage`; none when none ran.
  std::optional<size_t> fastest(const std::vector<Measurement> &final_times,
                                const std::vector<size_t> &chosen, bool of_quick_stage) const {
    std::optional<size_t> best;
    for (size_t i = 0; i < final_times.size(); ++i) {
      if (!final_times[i].ok()) continue;
      if (of_quick_stage && std::find(quick_finalists_.begin(), quick_finalists_.end(),
                                      chosen[i]) == quick_finalists_.end())
        continue;
      if (!best || final_times[i].time_ms < final_times[*best].time_ms) best = i;
    }
    return best;
  }

  AutotuneResult finish() {
    if (best_ >= history_.size()) {
      if (out_of_time() && configs_measured_ == 0) return finish_without_measurements();
      no_config_found();
    }
    // Re-time the fastest few carefully: search timings are quick and noisy.
    std::vector<size_t> chosen = finalists();
    std::vector<Config> finalists;
    for (size_t i : chosen)
      finalists.push_back(history_[i].first);

    AutotuneResult result;
    result.best = history_[best_].first;
    result.best_time_ms = best_time_;
    // Out of time, the search's own timings decide.
    std::vector<Measurement> final_times =
        out_of_time() ? std::vector<Measurement>(finalists.size(), skipped())
                      : evaluate_(finalists, "final");
    check_internal(final_times.size() == finalists.size(),
                   "evaluate returned " + std::to_string(final_times.size()) + " results for " +
                       std::to_string(finalists.size()) + " finalists");
    for (size_t i = 0; i < finalists.size(); ++i)
      if (!final_times[i].skipped)
        result.finalists.push_back(
            {finalists[i], history_[chosen[i]].second.time_ms, final_times[i]});
    std::optional<size_t> pick = fastest(final_times, chosen, false);
    std::optional<size_t> quick_pick = fastest(final_times, chosen, true);
    if (pick && quick_pick &&
        final_times[*quick_pick].time_ms <=
            final_times[*pick].time_ms * (1.0 + kFullSwitchMargin))
      pick = quick_pick;
    if (pick) {
      result.best = finalists[*pick];
      result.best_time_ms = final_times[*pick].time_ms;
    }
    if (!result.finalists.empty()) log_finalists(result);
    result.configs_measured = configs_measured_;
    result.seconds = elapsed();
    result.history = std::move(history_);
    result.best_over_time = std::move(best_over_time_);

    log_line("Autotuning complete in " + format("%.1f", result.seconds) + "s after searching " +
             std::to_string(result.configs_measured) + " configs.");
    log_("One can hardcode the best config and skip autotuning with:");
    log_("    @helion.kernel(config=" + spec_.to_python(result.best) + ")");
    return result;
  }

  const ConfigSpec &spec_;
  const AutotuneOptions &options_;
  const EvaluateBatch &evaluate_;
  const LogLine &log_;
  ConfigSpace space_;
  std::chrono::steady_clock::time_point start_;
  double clock_start_;
  std::vector<std::pair<Config, Measurement>> history_;
  /// Config key -> its entry in history_.
  std::map<std::string, size_t> measured_;
  std::vector<std::pair<double, double>> best_over_time_;
  size_t best_ = static_cast<size_t>(-1);
  double best_time_ = std::numeric_limits<double>::infinity();
  int configs_measured_ = 0;
  /// For `affordable`: seconds spent in the evaluator and the configs it measured.
  double evaluate_seconds_ = 0;
  size_t configs_evaluated_ = 0;
  bool budget_ran_out_ = false;
  /// Gene values of the configs that ran out of shared memory (see `prune`).
  std::vector<std::vector<int>> out_of_shared_memory_;
  /// History indices of the quick stage's finalists (full effort only).
  std::vector<size_t> quick_finalists_;
};

} // namespace

AutotuneResult autotune(const ConfigSpec &spec, const AutotuneOptions &options,
                        const EvaluateBatch &evaluate, const LogLine &log) {
  return Driver(spec, options, evaluate, log).run();
}

} // namespace helion::autotune
