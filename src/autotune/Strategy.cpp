#include "autotune/Strategy.h"

#include "support/Diagnostics.h"

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

std::unique_ptr<Strategy> make_strategy(const SearchContext &context) {
  const std::string &name = context.options.strategy;
  if (name == "model" || name == "model_guided" || name == "ModelGuidedSearch")
    return make_model_guided_search(context);
  if (name == "differential_evolution" || name == "DifferentialEvolutionSearch")
    return make_differential_evolution(context);
  if (name == "pattern" || name == "PatternSearch") return make_pattern_search(context);
  if (name == "random" || name == "RandomSearch") return make_random_search(context);
  if (name == "finite" || name == "FiniteSearch") return make_finite_search(context);
  throw UserError("InvalidConfig",
                  "autotuner: \"" + name +
                      "\" is not a search strategy; use \"model\", \"differential_evolution\", "
                      "\"pattern\", \"random\" or \"finite\"");
}

} // namespace helion::autotune
