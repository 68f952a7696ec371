#include "passes/BindBlockSizes.h"

#include "config/Fragment.h"

#include <functional>

namespace helion::passes {

std::map<std::string, int> registered_block_calls(const ir::DeviceKernel &kernel) {
  std::map<std::string, int> calls;
  for (const ir::RegisteredSize &r : kernel.registered_sizes)
    calls[r.symbol->kernel_name] = kernel.block(r.block).tile_call;
  return calls;
}

static std::map<std::string, int64_t> registered_values(const std::map<std::string, int> &calls,
                                                        const Config &config) {
  std::map<std::string, int64_t> values;
  for (const auto &[symbol, call] : calls)
    values[symbol] = config.tiles.at(call).block_sizes.at(0);
  return values;
}

std::map<std::string, int64_t> config_symbol_values(const std::map<std::string, int> &registered,
                                                    const Config &config) {
  std::map<std::string, int64_t> values = registered_values(registered, config);
  values.merge(tunable_values(config));
  return values;
}

std::map<std::string, int64_t> registered_block_values(const ir::DeviceKernel &kernel,
                                                       const Config &config) {
  return registered_values(registered_block_calls(kernel), config);
}

std::map<std::string, int64_t> tunable_values(const Config &config) {
  std::map<std::string, int64_t> values;
  for (size_t i = 0; i < config.tunables.size(); ++i) {
    const Json &value = config.tunables[i];
    if (value.is_boolean()) values[tunable_symbol(i)] = value.get<bool>() ? 1 : 0;
    if (value.is_number_integer()) values[tunable_symbol(i)] = json_int(value);
  }
  return values;
}

ir::DeviceKernel bind_block_sizes(const ir::DeviceKernel &kernel, const Config &config) {
  ir::DeviceKernel out = kernel;
  std::map<std::string, int64_t> values =
      config_symbol_values(registered_block_calls(kernel), config);
  if (values.empty()) return out;
  auto bind = [&](SymInt &s) { s = sym_bind(s, values); };
  for (ir::TileCall &call : out.tile_calls)
    for (SymInt &derived : call.derived_block_sizes)
      if (derived) bind(derived);
  for (ir::BlockInfo &b : out.blocks) {
    bind(b.begin);
    bind(b.end);
  }
  for (ir::TensorParam &t : out.tensors) {
    for (SymInt &s : t.sizes)
      bind(s);
    for (SymInt &s : t.strides)
      bind(s);
  }
  auto bind_index = [&](std::vector<ir::IndexItem> &index) {
    for (ir::IndexItem &item : index)
      if (item.start) bind(item.start);
  };
  for (ir::Node &n : out.nodes) {
    if (n.sym) bind(n.sym);
    bind_index(n.index);
  }
  std::function<void(std::vector<ir::Stmt> &)> bind_stores = [&](std::vector<ir::Stmt> &body) {
    for (ir::Stmt &s : body) {
      bind_index(s.index);
      bind_stores(s.cond_body);
      bind_stores(s.body);
      bind_stores(s.orelse);
    }
  };
  for (ir::RootLoop &root : out.roots)
    bind_stores(root.body);
  for (ir::HostGuard &g : out.guards) {
    bind(g.lhs);
    bind(g.rhs);
  }
  return out;
}

} // namespace helion::passes
