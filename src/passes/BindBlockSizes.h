#pragma once

#include "config/Config.h"
#include "ir/Ir.h"

#include <map>
#include <string>

namespace helion::passes {

/// The tile call of each registered block size, by its symbol's name: what
/// reading their values from a config needs of the IR.
std::map<std::string, int> registered_block_calls(const ir::DeviceKernel &kernel);

/// The value `config` gives each registered block size (of
/// `registered_block_calls`) and each int or bool tunable, by symbol name.
std::map<std::string, int64_t> config_symbol_values(const std::map<std::string, int> &registered,
                                                    const Config &config);

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
/// tunable, and each tile call's block sizes derived from them. After it no
/// size depends on the config.
ir::DeviceKernel bind_block_sizes(const ir::DeviceKernel &kernel, const Config &config);

} // namespace helion::passes
