#pragma once

#include "config/Config.h"
#include "ir/Ir.h"

#include <map>
#include <string>

namespace helion::passes {

/// The value `config` gives each registered block size, by its symbol's name.
std::map<std::string, int64_t> registered_block_values(const ir::DeviceKernel &kernel,
                                                       const Config &config);

/// The value `config` gives each int or bool user tunable, by its symbol's
/// name (tunable_symbol); bools as 0 and 1.
std::map<std::string, int64_t> tunable_values(const Config &config);

/// Replaces each registered block size (`hl.register_block_size`) with the
/// value `config` gives it, wherever the IR holds sizes: tensor shapes and
/// strides (`torch.zeros([m, bs])` in host code), block ranges, host values
/// read on the device and host guards; likewise each int or bool user
/// tunable. After it no size depends on the config.
ir::DeviceKernel bind_block_sizes(const ir::DeviceKernel &kernel, const Config &config);

} // namespace helion::passes
