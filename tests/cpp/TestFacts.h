#pragma once

// What lowering learns about a kernel, written by hand for the config-space
// and autotuner tests.

#include "config/KernelFacts.h"

#include <optional>
#include <vector>

namespace helion::testing {

/// A tile call's facts: sizes, smallest blocks (16 marks a matmul's
/// dimension, as lowering sets it), grid or inner loop, fixed block sizes.
inline TileCallFacts tile(std::vector<int64_t> hints, std::vector<int64_t> mins, bool is_grid,
                          std::vector<std::optional<int64_t>> fixed = {}) {
  TileCallFacts call;
  call.size_hints = std::move(hints);
  call.min_block_sizes = std::move(mins);
  for (int64_t min : call.min_block_sizes)
    call.feeds_matmul.push_back(min >= 16);
  call.is_grid = is_grid;
  call.fixed_block_sizes =
      fixed.empty() ? std::vector<std::optional<int64_t>>(call.size_hints.size()) : fixed;
  return call;
}

} // namespace helion::testing
