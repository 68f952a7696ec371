#include "autotune/Strategy.h"

namespace helion::autotune {

namespace {

/// Exactly the configs given (`configs=[...]`), in one batch.
class FiniteSearch : public SearchBase {
public:
  explicit FiniteSearch(const SearchContext &context) : SearchBase(context) {}

  std::vector<Config> next_batch() override {
    ++generation_;
    std::vector<Config> batch;
    for (const Config &config : context_.options.finite_configs) {
      Config forced = space_.apply_overrides(config);
      if (mark(forced)) batch.push_back(std::move(forced));
    }
    return batch;
  }

  void report(const std::vector<Measurement> &) override {}
  bool done() const override { return generation_ >= 1; }

  std::string start_line() const override {
    return "FiniteSearch with " + std::to_string(context_.options.finite_configs.size()) +
           " configs";
  }

  std::string batch_name() const override { return "Finite configs"; }
};

} // namespace

std::unique_ptr<Strategy> make_finite_search(const SearchContext &context) {
  return std::make_unique<FiniteSearch>(context);
}

} // namespace helion::autotune
