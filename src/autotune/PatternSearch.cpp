#include "autotune/Strategy.h"

#include <algorithm>
#include <limits>
#include <map>

namespace helion::autotune {

namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

/// Greedy descent over one-gene steps from several starting points (the best
/// of an initial set of seeds and random configs), all advanced together:
/// each generation measures the unmeasured neighbours of every current point
/// and moves each to its best neighbour while that is faster.
class PatternSearch : public SearchBase {
public:
  static constexpr int kMaxMovesWithoutMeasuring = 64;

  explicit PatternSearch(const SearchContext &context)
      : SearchBase(context), initial_size_(population_or(by_effort(16, 32))),
        starts_(context.options.starts > 0 ? context.options.starts : by_effort(2, 4)),
        generations_(generations_or(by_effort(8, 25))) {}

  std::vector<Config> next_batch() override {
    if (done()) return {};
    ++generation_;
    if (generation_ == 1) {
      batch_ = initial_batch(initial_size_, initial_size_ / 2);
      return batch_;
    }
    batch_.clear();
    // When every neighbour of every point is known already, move on what is
    // known until some point has unknown neighbours or all have settled.
    for (int moves = 0; batch_.empty() && moves < kMaxMovesWithoutMeasuring; ++moves) {
      for (const Search &search : searches_) {
        if (!search.active) continue;
        for (Config &neighbor : space_.neighbors(search.current)) {
          if (!context_.fits(neighbor) || !mark(neighbor)) continue;
          batch_.push_back(std::move(neighbor));
        }
      }
      if (!batch_.empty()) break;
      advance();
    }
    finished_ = batch_.empty();
    return batch_;
  }

  void report(const std::vector<Measurement> &measurements) override {
    for (size_t i = 0; i < batch_.size(); ++i)
      times_[space_.key(batch_[i])] = {measurements[i].ok() ? measurements[i].time_ms : kInfinity,
                                       batch_[i]};
    if (generation_ == 1) {
      start_searches();
      return;
    }
    advance();
  }

  bool done() const override {
    if (generation_ == 0) return false;
    if (finished_ || generation_ > generations_) return true;
    return std::none_of(searches_.begin(), searches_.end(),
                        [](const Search &s) { return s.active; });
  }

  std::string start_line() const override {
    return "PatternSearch with initial_population=" + std::to_string(initial_size_) +
           ", starts=" + std::to_string(starts_) + ", generations=" + std::to_string(generations_);
  }

private:
  struct Search {
    Config current;
    double time;
    bool active = true;
  };

  void start_searches() {
    std::vector<std::pair<double, std::string>> ranked;
    for (const auto &[key, entry] : times_)
      if (entry.first < kInfinity) ranked.push_back({entry.first, key});
    std::sort(ranked.begin(), ranked.end());
    for (size_t i = 0; i < ranked.size() && searches_.size() < static_cast<size_t>(starts_); ++i)
      searches_.push_back({times_[ranked[i].second].second, ranked[i].first, true});
  }

  void advance() {
    std::vector<std::string> occupied;
    for (Search &search : searches_) {
      if (!search.active) continue;
      const Config *best = nullptr;
      double best_time = search.time;
      for (const Config &neighbor : space_.neighbors(search.current)) {
        auto found = times_.find(space_.key(neighbor));
        if (found == times_.end() || found->second.first >= best_time) continue;
        best_time = found->second.first;
        best = &found->second.second;
      }
      if (!best) {
        search.active = false;
        continue;
      }
      std::string key = space_.key(*best);
      // Two searches that meet would repeat each other's work.
      if (std::find(occupied.begin(), occupied.end(), key) != occupied.end()) {
        search.active = false;
        continue;
      }
      occupied.push_back(key);
      search.current = *best;
      search.time = best_time;
    }
  }

  int initial_size_;
  int starts_;
  int generations_;
  std::vector<Config> batch_;
  std::vector<Search> searches_;
  /// Every measured config by key: (time or inf, config).
  std::map<std::string, std::pair<double, Config>> times_;
  bool finished_ = false;
};

} // namespace

std::unique_ptr<Strategy> make_pattern_search(const SearchContext &context) {
  return std::make_unique<PatternSearch>(context);
}

} // namespace helion::autotune
