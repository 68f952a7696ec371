#include "autotune/Strategy.h"

#include <algorithm>

namespace helion::autotune {

namespace {

/// Configs drawn uniformly from the space, in batches of kBatch.
class RandomSearch : public SearchBase {
public:
  static constexpr int kBatch = 100;

  explicit RandomSearch(const SearchContext &context)
      : SearchBase(context),
        count_(context.options.count >= 0 ? context.options.count : by_effort(100, 1000)),
        batches_(generations_or((count_ + kBatch - 1) / kBatch - 1) + 1) {}

  std::vector<Config> next_batch() override {
    std::vector<Config> batch;
    int left = count_ - measured_;
    if (left <= 0 || generation_ >= batches_) return batch;
    ++generation_;
    add_randoms(batch, static_cast<size_t>(std::min(left, kBatch)));
    if (batch.empty()) exhausted_ = true;
    return batch;
  }

  void report(const std::vector<Measurement> &measurements) override {
    measured_ += static_cast<int>(measurements.size());
  }

  bool done() const override {
    return exhausted_ || measured_ >= count_ || generation_ >= batches_;
  }

  std::string start_line() const override {
    return "RandomSearch with count=" + std::to_string(count_);
  }

private:
  int count_;
  int batches_;
  int measured_ = 0;
  bool exhausted_ = false;
};

} // namespace

std::unique_ptr<Strategy> make_random_search(const SearchContext &context) {
  return std::make_unique<RandomSearch>(context);
}

} // namespace helion::autotune
