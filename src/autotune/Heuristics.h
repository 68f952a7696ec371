#pragma once

// What is known about good configs before measuring any: seeds for the
// search from the kernel's facts and the device, and pruning of configs that
// cannot fit the device's shared memory or registers.

#include "autotune/Autotuner.h"
#include "autotune/ConfigSpace.h"

#include <string>
#include <vector>

namespace helion::autotune {

/// Configs likely to be good, most promising first: the usual Hopper tilings
/// for matmuls, rows-per-program and persistent-or-looped choices for
/// reductions, 1-D and N-D blocks of 1K-4K elements for elementwise kernels.
/// Each is clamped to the space, has the overrides applied, fits the device
/// (see `prune_reason`), and appears once.
std::vector<Config> heuristic_seeds(const ConfigSpace &space, const DeviceInfo &device);

/// Shared memory a matmul config's pipelined operand tiles take (operands
/// assumed 16-bit): stages * (BM*BK + BK*BN) * 2 bytes for a matmul; for a
/// dot that consumes a dimension whole inside a loop (attention), the loop's
/// operand tiles stages - 1 deep plus the grid's operand; 0 when the kernel
/// has no matmul. A persistent matmul with any access through a tensor
/// descriptor also takes BM*BN*2 bytes for its result.
int64_t matmul_shared_memory_bytes(const ConfigSpec &spec, const Config &config);
/// Registers per thread one program's block of accumulators takes:
/// block elements / (32 * num_warps).
int64_t accumulator_registers(const ConfigSpec &spec, const Config &config);

/// Why `config` cannot run on `device` ("pruned: needs 262144 bytes of shared
/// memory"), or "" when it may.
std::string prune_reason(const ConfigSpec &spec, const Config &config, const DeviceInfo &device);

} // namespace helion::autotune
