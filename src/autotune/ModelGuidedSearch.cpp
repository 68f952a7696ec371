#include "autotune/Strategy.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace helion::autotune {

namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();
/// Categorical genes with more values than this get no one-hot features.
constexpr int kMaxOneHot = 24;
constexpr double kRidge = 0.1;
/// Distances below this count as the same point.
constexpr double kSamePoint = 1e-9;

/// Solves (A) x = b in place by Gaussian elimination with partial pivoting;
/// A is n x n, row-major. Near-singular pivots give zeros.
std::vector<double> solve(std::vector<double> a, std::vector<double> b) {
  size_t n = b.size();
  for (size_t col = 0; col < n; ++col) {
    size_t pivot = col;
    for (size_t row = col + 1; row < n; ++row)
      if (std::abs(a[row * n + col]) > std::abs(a[pivot * n + col])) pivot = row;
    if (std::abs(a[pivot * n + col]) < 1e-12) continue;
    if (pivot != col) {
      for (size_t k = 0; k < n; ++k)
        std::swap(a[col * n + k], a[pivot * n + k]);
      std::swap(b[col], b[pivot]);
    }
    for (size_t row = 0; row < n; ++row) {
      if (row == col) continue;
      double factor = a[row * n + col] / a[col * n + col];
      if (factor == 0) continue;
      for (size_t k = col; k < n; ++k)
        a[row * n + k] -= factor * a[col * n + k];
      b[row] -= factor * b[col];
    }
  }
  std::vector<double> x(n, 0.0);
  for (size_t i = 0; i < n; ++i)
    if (std::abs(a[i * n + i]) >= 1e-12) x[i] = b[i] / a[i * n + i];
  return x;
}

/// Predicts log time from the genes: a ridge regression on per-gene linear,
/// quadratic and one-hot features, corrected by the residuals of the nearest
/// measured points. Failures are predicted separately: a distance-weighted
/// kNN failure rate, raised to the failure rate of any gene value that keeps
/// failing (num_warps=32 everywhere, say).
class Surrogate {
public:
  explicit Surrogate(const ConfigSpace &space) : space_(space) {}

  /// `log_times[i]` is NaN for a failed point.
  void fit(const std::vector<std::vector<int>> &points, const std::vector<double> &log_times) {
    points_ = points;
    log_times_ = log_times;
    successes_.clear();
    double sum = 0;
    for (size_t i = 0; i < points.size(); ++i)
      if (!std::isnan(log_times[i])) {
        successes_.push_back(i);
        sum += log_times[i];
      }
    base_failure_ = points.empty() ? 0 : 1.0 - double(successes_.size()) / points.size();
    mean_ = successes_.empty() ? 0 : sum / successes_.size();
    double squares = 0;
    for (size_t i : successes_)
      squares += (log_times[i] - mean_) * (log_times[i] - mean_);
    spread_ = successes_.size() >= 2 ? std::sqrt(squares / (successes_.size() - 1)) : 1.0;
    if (spread_ < 1e-3) spread_ = 1e-3;
    fit_linear();
    residuals_.assign(points.size(), 0.0);
    for (size_t i : successes_)
      residuals_[i] = log_times[i] - linear(points[i]);
    fit_gene_failures();
  }

  double spread() const { return spread_; }

  double predict(const std::vector<int> &point) const {
    double base = linear(point);
    // Residual correction from the nearest successes.
    std::vector<std::pair<double, size_t>> nearest;
    for (size_t i : successes_)
      nearest.push_back({space_.gene_distance(point, points_[i]), i});
    size_t k = std::min<size_t>(3, nearest.size());
    std::partial_sort(nearest.begin(), nearest.begin() + k, nearest.end());
    double weights = 0, correction = 0;
    for (size_t j = 0; j < k; ++j) {
      double w = 1.0 / (nearest[j].first + 0.01);
      weights += w;
      correction += w * residuals_[nearest[j].second];
    }
    if (k == 0) return base;
    double closeness = std::exp(-nearest[0].first / 0.05);
    return base + closeness * correction / weights;
  }

  double failure_probability(const std::vector<int> &point) const {
    if (points_.empty()) return 0;
    std::vector<std::pair<double, size_t>> nearest;
    for (size_t i = 0; i < points_.size(); ++i)
      nearest.push_back({space_.gene_distance(point, points_[i]), i});
    size_t k = std::min<size_t>(5, nearest.size());
    std::partial_sort(nearest.begin(), nearest.begin() + k, nearest.end());
    double prior = 10.0;
    double weights = prior, failures = prior * base_failure_;
    for (size_t j = 0; j < k; ++j) {
      double w = 1.0 / (nearest[j].first + 0.01);
      weights += w;
      if (std::isnan(log_times_[nearest[j].second])) failures += w;
    }
    double probability = failures / weights;
    for (size_t g = 0; g < point.size(); ++g) {
      auto found = gene_failures_.find({g, point[g]});
      if (found == gene_failures_.end() || found->second.first < 2) continue;
      double rate = (found->second.second + 2 * base_failure_) / (found->second.first + 2);
      probability = std::max(probability, rate);
    }
    return std::min(probability, 1.0);
  }

private:
  std::vector<double> features(const std::vector<int> &point) const {
    std::vector<double> out = {1.0};
    const auto &genes = space_.genes();
    for (size_t g = 0; g < genes.size(); ++g) {
      const Gene &gene = genes[g];
      int range = gene.high - gene.low;
      if (range == 0) continue;
      if (gene.categorical) {
        if (range + 1 > kMaxOneHot) continue;
        for (int value = gene.low + 1; value <= gene.high; ++value)
          out.push_back(point[g] == value ? 1.0 : 0.0);
        continue;
      }
      double x = double(point[g] - gene.low) / range;
      out.push_back(x);
      out.push_back(x * x);
      if (gene.kind == Gene::Kind::Reduction) out.push_back(point[g] == gene.high ? 1.0 : 0.0);
    }
    return out;
  }

  void fit_linear() {
    weights_.clear();
    if (successes_.size() < 3) return;
    size_t n = features(points_[successes_[0]]).size();
    std::vector<double> gram(n * n, 0.0), rhs(n, 0.0);
    for (size_t i : successes_) {
      std::vector<double> f = features(points_[i]);
      double y = log_times_[i] - mean_;
      for (size_t a = 0; a < n; ++a) {
        rhs[a] += f[a] * y;
        for (size_t b = 0; b < n; ++b)
          gram[a * n + b] += f[a] * f[b];
      }
    }
    for (size_t a = 1; a < n; ++a)
      gram[a * n + a] += kRidge;
    weights_ = solve(std::move(gram), std::move(rhs));
  }

  double linear(const std::vector<int> &point) const {
    if (weights_.empty()) return mean_;
    std::vector<double> f = features(point);
    double out = mean_;
    for (size_t a = 0; a < f.size(); ++a)
      out += weights_[a] * f[a];
    return out;
  }

  void fit_gene_failures() {
    gene_failures_.clear();
    for (size_t i = 0; i < points_.size(); ++i)
      for (size_t g = 0; g < points_[i].size(); ++g) {
        auto &entry = gene_failures_[{g, points_[i][g]}];
        entry.first += 1;
        if (std::isnan(log_times_[i])) entry.second += 1;
      }
  }

  const ConfigSpace &space_;
  std::vector<std::vector<int>> points_;
  std::vector<double> log_times_;
  std::vector<size_t> successes_;
  std::vector<double> residuals_;
  std::vector<double> weights_;
  double mean_ = 0;
  double spread_ = 1;
  double base_failure_ = 0;
  /// (gene, value) -> (points with it, failures among them).
  std::map<std::pair<size_t, int>, std::pair<double, double>> gene_failures_;
};

/// The default strategy: measure a broad first batch (default config,
/// knowledge-based seeds, random configs), then in each round fit a
/// surrogate to everything measured and measure the candidates it rates best,
/// trading predicted speed against distance from what is known.
class ModelGuidedSearch : public SearchBase {
public:
  explicit ModelGuidedSearch(const SearchContext &context)
      // A batch compiles in parallel and lasts as long as its slowest
      // compile, so a search's wall time grows with its rounds, not with the
      // configs per round: batches of 16 fill a 16-core machine's workers,
      // and quick keeps to few rounds.
      : SearchBase(context), initial_size_(population_or(by_effort(16, 48))), batch_size_(16),
        rounds_(generations_or(by_effort(1, 20))), patience_(by_effort(2, 6)),
        surrogate_(context.space) {}

  std::vector<Config> next_batch() override {
    if (done()) return {};
    ++generation_;
    if (generation_ == 1) {
      batch_ = initial_batch(initial_size_, initial_size_ * 2 / 3);
    } else {
      batch_ = propose();
    }
    if (batch_.empty()) exhausted_ = true;
    return batch_;
  }

  void report(const std::vector<Measurement> &measurements) override {
    double before = best_;
    for (size_t i = 0; i < batch_.size(); ++i) {
      bool ok = measurements[i].ok();
      measured_.push_back(batch_[i]);
      points_.push_back(space_.gene_values(batch_[i]));
      log_times_.push_back(ok ? std::log(measurements[i].time_ms) : std::nan(""));
      if (ok) best_ = std::min(best_, measurements[i].time_ms);
    }
    if (generation_ == 1) return;
    if (best_ < before * 0.99)
      stale_rounds_ = 0;
    else
      ++stale_rounds_;
  }

  /// An earlier stage's measurements train the surrogate as if measured
  /// here, and are not proposed again.
  void observe(const std::vector<std::pair<Config, Measurement>> &history) override {
    for (const auto &[config, measurement] : history) {
      if (measurement.skipped || !mark(config)) continue;
      bool ok = measurement.ok();
      measured_.push_back(config);
      points_.push_back(space_.gene_values(config));
      log_times_.push_back(ok ? std::log(measurement.time_ms) : std::nan(""));
      if (ok) best_ = std::min(best_, measurement.time_ms);
    }
  }

  bool done() const override {
    return exhausted_ || generation_ > rounds_ || stale_rounds_ >= patience_;
  }

  std::string start_line() const override {
    return "ModelGuidedSearch with initial_population=" + std::to_string(initial_size_) +
           ", batch_size=" + std::to_string(batch_size_) + ", rounds=" + std::to_string(rounds_);
  }

private:
  struct Candidate {
    Config config;
    std::vector<int> genes;
    double predicted;
    double failure;
    double nearest; ///< distance to the nearest measured or chosen point
  };

  std::vector<Config> propose() {
    surrogate_.fit(points_, log_times_);
    std::vector<Candidate> pool = candidate_pool();
    // Exploration shrinks as rounds go by.
    double progress = rounds_ > 1 ? double(generation_ - 2) / double(rounds_ - 1) : 1.0;
    double beta = 1.0 - 0.7 * std::clamp(progress, 0.0, 1.0);
    double genes = std::max<double>(1.0, static_cast<double>(space_.genes().size()));
    auto utility = [&](const Candidate &c) {
      double bonus = beta * surrogate_.spread() * std::min(1.0, c.nearest * genes / 2);
      return std::exp(-(c.predicted - bonus - best_log())) * (1.0 - c.failure);
    };
    std::vector<Config> batch;
    std::vector<bool> taken(pool.size(), false);
    while (batch.size() < static_cast<size_t>(batch_size_)) {
      size_t pick = pool.size();
      double best_utility = -1;
      for (size_t i = 0; i < pool.size(); ++i) {
        if (taken[i]) continue;
        double u = utility(pool[i]);
        if (u > best_utility) {
          best_utility = u;
          pick = i;
        }
      }
      if (pick == pool.size()) break;
      taken[pick] = true;
      mark(pool[pick].config);
      batch.push_back(pool[pick].config);
      for (size_t i = 0; i < pool.size(); ++i)
        if (!taken[i])
          pool[i].nearest =
              std::min(pool[i].nearest, space_.gene_distance(pool[i].genes, pool[pick].genes));
    }
    return batch;
  }

  double best_log() const { return best_ < kInfinity ? std::log(best_) : 0.0; }

  std::vector<Candidate> candidate_pool() {
    std::vector<size_t> ranked;
    for (size_t i = 0; i < measured_.size(); ++i)
      if (!std::isnan(log_times_[i])) ranked.push_back(i);
    std::stable_sort(ranked.begin(), ranked.end(),
                     [&](size_t a, size_t b) { return log_times_[a] < log_times_[b]; });
    if (ranked.size() > 8) ranked.resize(8);

    std::vector<Config> raw;
    static const int mutations[] = {40, 24, 16, 12, 10, 8, 8, 8};
    for (size_t r = 0; r < ranked.size(); ++r)
      for (int i = 0; i < mutations[r]; ++i)
        raw.push_back(space_.mutate(measured_[ranked[r]], rng_));
    if (!ranked.empty())
      for (Config &neighbor : space_.neighbors(measured_[ranked[0]]))
        raw.push_back(std::move(neighbor));
    if (ranked.size() >= 2) {
      std::uniform_int_distribution<size_t> pick(0, ranked.size() - 1);
      for (int i = 0; i < 60; ++i) {
        size_t a = pick(rng_), b = pick(rng_);
        if (a == b) continue;
        raw.push_back(space_.crossover(measured_[ranked[a]], measured_[ranked[b]], rng_));
      }
    }
    for (int i = 0; i < 100; ++i)
      raw.push_back(space_.random_config(rng_));

    std::vector<Candidate> pool;
    std::set<std::string> in_pool;
    for (Config &config : raw) {
      if (proposed(config) || !context_.fits(config)) continue;
      if (!in_pool.insert(space_.key(config)).second) continue;
      Candidate candidate;
      candidate.genes = space_.gene_values(config);
      candidate.nearest = 1.0;
      for (const auto &point : points_)
        candidate.nearest =
            std::min(candidate.nearest, space_.gene_distance(candidate.genes, point));
      if (candidate.nearest < kSamePoint) continue;
      candidate.predicted = surrogate_.predict(candidate.genes);
      candidate.failure = surrogate_.failure_probability(candidate.genes);
      candidate.config = std::move(config);
      pool.push_back(std::move(candidate));
    }
    return pool;
  }

  int initial_size_;
  int batch_size_;
  int rounds_;
  int patience_;
  Surrogate surrogate_;
  std::vector<Config> batch_;
  std::vector<Config> measured_;
  std::vector<std::vector<int>> points_;
  std::vector<double> log_times_;
  double best_ = kInfinity;
  int stale_rounds_ = 0;
  bool exhausted_ = false;
};

} // namespace

std::unique_ptr<Strategy> make_model_guided_search(const SearchContext &context) {
  return std::make_unique<ModelGuidedSearch>(context);
}

} // namespace helion::autotune
