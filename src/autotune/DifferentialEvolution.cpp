#include "autotune/Strategy.h"
#include "support/Text.h"

#include <limits>

namespace helion::autotune {

namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

/// Classic DE/rand/1/bin over the genes: each member competes with a trial
/// built from three others; the faster of the two stays.
class DifferentialEvolution : public SearchBase {
public:
  explicit DifferentialEvolution(const SearchContext &context)
      : SearchBase(context), population_size_(population_or(by_effort(20, 40))),
        generations_(generations_or(by_effort(5, 20))),
        crossover_rate_(context.options.crossover_rate > 0 ? context.options.crossover_rate : 0.8) {
  }

  std::vector<Config> next_batch() override {
    if (done()) return {};
    ++generation_;
    if (generation_ == 1) {
      batch_ = initial_batch(population_size_, population_size_ / 4);
      return batch_;
    }
    batch_.clear();
    owners_.clear();
    for (size_t i = 0; i < population_.size(); ++i) {
      Config candidate = trial(i);
      for (int retry = 0; retry < 8 && proposed(candidate); ++retry)
        candidate = space_.mutate(candidate, rng_);
      if (!mark(candidate)) continue;
      batch_.push_back(std::move(candidate));
      owners_.push_back(i);
    }
    if (batch_.empty()) exhausted_ = true;
    return batch_;
  }

  void report(const std::vector<Measurement> &measurements) override {
    if (generation_ == 1) {
      for (size_t i = 0; i < batch_.size(); ++i) {
        population_.push_back(batch_[i]);
        times_.push_back(measurements[i].ok() ? measurements[i].time_ms : kInfinity);
      }
      return;
    }
    for (size_t i = 0; i < batch_.size(); ++i) {
      double time = measurements[i].ok() ? measurements[i].time_ms : kInfinity;
      size_t owner = owners_[i];
      if (time < times_[owner] || (time == kInfinity && times_[owner] == kInfinity)) {
        population_[owner] = batch_[i];
        times_[owner] = time;
      }
    }
  }

  bool done() const override {
    return exhausted_ || generation_ > generations_ ||
           (generation_ >= 1 && population_.empty() && batch_.empty());
  }

  std::string start_line() const override {
    return "DifferentialEvolutionSearch with population=" + std::to_string(population_size_) +
           ", generations=" + std::to_string(generations_) +
           ", crossover_rate=" + shortest_double(crossover_rate_);
  }

private:
  /// x + CR-masked genes of a + (b - c); categorical genes take b's value
  /// where b and c differ, else a's.
  Config trial(size_t member) {
    size_t n = population_.size();
    if (n < 4) return space_.mutate(population_[member], rng_);
    std::uniform_int_distribution<size_t> pick(0, n - 1);
    size_t a, b, c;
    do
      a = pick(rng_);
    while (a == member);
    do
      b = pick(rng_);
    while (b == member || b == a);
    do
      c = pick(rng_);
    while (c == member || c == a || c == b);
    std::vector<int> x = space_.gene_values(population_[member]);
    std::vector<int> ga = space_.gene_values(population_[a]);
    std::vector<int> gb = space_.gene_values(population_[b]);
    std::vector<int> gc = space_.gene_values(population_[c]);
    const auto &genes = space_.genes();
    if (genes.empty()) return population_[member];
    std::uniform_int_distribution<size_t> pick_gene(0, genes.size() - 1);
    size_t forced = pick_gene(rng_);
    std::bernoulli_distribution cross(crossover_rate_);
    for (size_t g = 0; g < genes.size(); ++g) {
      if (g != forced && !cross(rng_)) continue;
      if (genes[g].categorical)
        x[g] = gb[g] != gc[g] ? gb[g] : ga[g];
      else
        x[g] = std::clamp(ga[g] + gb[g] - gc[g], genes[g].low, genes[g].high);
    }
    return space_.decode(x);
  }

  int population_size_;
  int generations_;
  double crossover_rate_;
  std::vector<Config> population_;
  std::vector<double> times_;
  std::vector<Config> batch_;
  std::vector<size_t> owners_;
  bool exhausted_ = false;
};

} // namespace

std::unique_ptr<Strategy> make_differential_evolution(const SearchContext &context) {
  return std::make_unique<DifferentialEvolution>(context);
}

} // namespace helion::autotune
