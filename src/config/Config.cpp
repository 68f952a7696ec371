#include "config/Config.h"

#include "config/ConfigRules.h"
#include "support/Diagnostics.h"

namespace helion {

bool Config::is_persistent() const {
  return config_rules::is_persistent_pid_type(pid_type);
}

const std::string &Config::indexing_for(size_t index) const {
  check_internal(!indexing.empty(), "config has no indexing style");
  if (indexing.size() == 1) return indexing[0];
  check_internal(index < indexing.size(), "indexing_for: memory op " + std::to_string(index) +
                                              " out of range for " +
                                              std::to_string(indexing.size()) + " styles");
  return indexing[index];
}

} // namespace helion
