#include "autotune/Strategy.h"

#include "support/Diagnostics.h"

#include <cctype>
#include <map>

namespace helion::autotune {

/// Random draws per wanted config before concluding the space is exhausted.
static constexpr size_t kRandomAttempts = 20;

void SearchBase::add_randoms(std::vector<Config> &batch, size_t count) {
  size_t added = 0;
  for (size_t attempt = 0; added < count && attempt < count * kRandomAttempts + 50; ++attempt) {
    Config config = space_.random_config(rng_);
    if (!context_.fits(config) || !mark(config)) continue;
    batch.push_back(std::move(config));
    ++added;
  }
}

std::vector<Config> SearchBase::initial_batch(size_t size, size_t max_seeds) {
  std::vector<Config> batch;
  if (size == 0) return batch;
  if (mark(space_.default_config())) batch.push_back(space_.default_config());
  size_t seeds = 0;
  for (const Config &seed : context_.seeds) {
    if (batch.size() >= size || seeds >= max_seeds) break;
    if (!mark(seed)) continue;
    batch.push_back(seed);
    ++seeds;
  }
  if (batch.size() < size) add_randoms(batch, size - batch.size());
  return batch;
}

const std::vector<StrategyName> &strategy_names() {
  static const std::vector<StrategyName> names = {
      // Helion's default search is LFBOTreeSearch; ours is the model-guided one.
      {"model", "ModelGuidedSearch", {"model_guided", "LFBOTreeSearch"}},
      {"differential_evolution", "DifferentialEvolutionSearch", {"de"}},
      {"pattern", "PatternSearch", {}},
      {"random", "RandomSearch", {}},
      {"finite", "FiniteSearch", {}},
  };
  return names;
}

/// `text` lowercased without underscores: how spellings are compared.
static std::string folded(const std::string &text) {
  std::string out;
  for (char c : text)
    if (c != '_') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string canonical_strategy(const std::string &spelling) {
  std::string wanted = folded(spelling);
  std::string listed;
  for (const StrategyName &strategy : strategy_names()) {
    if (wanted == folded(strategy.name) || wanted == folded(strategy.class_name))
      return strategy.name;
    for (const std::string &alias : strategy.aliases)
      if (wanted == folded(alias)) return strategy.name;
    listed += (listed.empty() ? "" : ", ") + strategy.class_name + " (\"" + strategy.name + "\")";
  }
  throw UserError("InvalidConfig",
                  "autotuner: \"" + spelling + "\" is not a search strategy; use one of " + listed);
}

std::unique_ptr<Strategy> make_strategy(const SearchContext &context) {
  using Factory = std::unique_ptr<Strategy> (*)(const SearchContext &);
  static const std::map<std::string, Factory> factories = {
      {"model", make_model_guided_search}, {"differential_evolution", make_differential_evolution},
      {"pattern", make_pattern_search},    {"random", make_random_search},
      {"finite", make_finite_search},
  };
  return factories.at(canonical_strategy(context.options.strategy))(context);
}

} // namespace helion::autotune
