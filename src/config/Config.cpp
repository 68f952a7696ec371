#include "config/Config.h"

#include "config/ConfigRules.h"
#include "support/Diagnostics.h"

namespace helion {

bool Config::is_persistent() const {
  return config_rules::is_persistent(pid_type);
}

const std::string &Config::indexing_for(size_t index) const {
  check_internal(!indexing.empty(), "config has no indexing style");
  if (indexing.size() == 1) return indexing[0];
  check_internal(index < indexing.size(), "indexing_for: memory op " + std::to_string(index) +
                                              " out of range for " +
                                              std::to_string(indexing.size()) + " styles");
  return indexing[index];
}

const std::string &Config::atomic_indexing_for(size_t index) const {
  check_internal(!atomic_indexing.empty(), "config has no atomic indexing style");
  if (atomic_indexing.size() == 1) return atomic_indexing[0];
  check_internal(index < atomic_indexing.size(),
                 "atomic_indexing_for: atomic op " + std::to_string(index) + " out of range for " +
                     std::to_string(atomic_indexing.size()) + " styles");
  return atomic_indexing[index];
}

std::vector<std::string> RangeChoice::keyword_arguments() const {
  // disallow_acc_multi_buffer says the opposite of range_multi_buffers.
  auto flag = [](bool value) { return std::string(value ? "True" : "False"); };
  std::vector<std::string> out;
  for (const config_rules::RangeField &field : config_rules::range_fields()) {
    std::string key = field.key, value;
    if (key == "range_unroll_factors" && unroll_factor > 0) value = std::to_string(unroll_factor);
    if (key == "range_warp_specializes" && warp_specialize) value = flag(*warp_specialize);
    if (key == "range_num_stages" && num_stages > 0) value = std::to_string(num_stages);
    if (key == "range_multi_buffers" && multi_buffer) value = flag(!*multi_buffer);
    if (key == "range_flattens" && flatten) value = flag(*flatten);
    if (!value.empty()) out.push_back(std::string(field.keyword) + "=" + value);
  }
  return out;
}

std::string Config::eviction_policy_for(size_t load) const {
  if (load >= load_eviction_policies.size()) return "";
  return config_rules::triton_eviction_policy(load_eviction_policies[load]);
}

} // namespace helion
