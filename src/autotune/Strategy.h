#pragma once

// The interface every search strategy implements, and their factories. The
// driver (Autotuner.cpp) asks a strategy for a batch of configs, measures
// them, reports the measurements back in the same order, and repeats until
// the strategy is done or the budget runs out.

#include "autotune/Autotuner.h"
#include "autotune/ConfigSpace.h"

#include <functional>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace helion::autotune {

/// What every strategy starts from.
struct SearchContext {
  const ConfigSpace &space;
  const AutotuneOptions &options;
  /// Knowledge-based configs (Heuristics.h), most promising first.
  std::vector<Config> seeds;
  /// False for configs the driver would prune without measuring.
  std::function<bool(const Config &)> fits;
};

class Strategy {
public:
  virtual ~Strategy() = default;

  /// The next configs to measure; empty when the strategy has nothing left.
  virtual std::vector<Config> next_batch() = 0;
  /// One measurement per config of the last batch, in its order.
  virtual void report(const std::vector<Measurement> &measurements) = 0;
  virtual bool done() const = 0;
  /// "DifferentialEvolutionSearch with population=40, generations=20, crossover_rate=0.8".
  virtual std::string start_line() const = 0;
  /// The last batch's name in the log: "Initial population", "Generation 2", ...
  virtual std::string batch_name() const = 0;
  /// What an earlier stage of the same search measured, before the first
  /// batch. Strategies that learn from measurements take it in; the others
  /// may propose those configs again, which the driver answers from its
  /// history without measuring.
  virtual void observe(const std::vector<std::pair<Config, Measurement>> &history) {
    (void)history;
  }
};

/// Bookkeeping shared by the strategies: the random generator, and the
/// configs already proposed, so that none is proposed twice.
class SearchBase : public Strategy {
public:
  explicit SearchBase(const SearchContext &context)
      : context_(context), space_(context.space), rng_(context.options.seed) {}

  std::string batch_name() const override {
    return generation_ <= 1 ? "Initial population" : "Generation " + std::to_string(generation_);
  }

protected:
  /// Records `config` as proposed; false when it was proposed before.
  bool mark(const Config &config) { return proposed_.insert(space_.key(config)).second; }
  bool proposed(const Config &config) const { return proposed_.count(space_.key(config)) != 0; }
  /// Appends up to `count` new random configs that fit the device to `batch`.
  void add_randoms(std::vector<Config> &batch, size_t count);
  /// The default config, then the seeds, then randoms: `size` new configs at most.
  std::vector<Config> initial_batch(size_t size, size_t max_seeds);
  /// The effort's value: `quick` or `full`.
  int by_effort(int quick, int full) const {
    return context_.options.effort == "quick" ? quick : full;
  }
  /// The generation count the options ask for, else `fallback`.
  int generations_or(int fallback) const {
    return context_.options.max_generations >= 0 ? context_.options.max_generations : fallback;
  }
  /// The first batch's size the options ask for, else `fallback`.
  int population_or(int fallback) const {
    return context_.options.population_size >= 0 ? context_.options.population_size : fallback;
  }

  SearchContext context_;
  const ConfigSpace &space_;
  std::mt19937_64 rng_;
  int generation_ = 0; ///< batches handed out so far
  std::set<std::string> proposed_;
};

std::unique_ptr<Strategy> make_finite_search(const SearchContext &context);
std::unique_ptr<Strategy> make_random_search(const SearchContext &context);
std::unique_ptr<Strategy> make_differential_evolution(const SearchContext &context);
std::unique_ptr<Strategy> make_pattern_search(const SearchContext &context);
std::unique_ptr<Strategy> make_model_guided_search(const SearchContext &context);

/// The strategy `context.options.strategy` names (any spelling of
/// `strategy_names()`); throws UserError("InvalidConfig") for an unknown name.
std::unique_ptr<Strategy> make_strategy(const SearchContext &context);

} // namespace helion::autotune
