#include "pipeline/Compile.h"

#include "support/Diagnostics.h"

namespace helion {

struct AnalyzedKernel {};

CompiledKernel::CompiledKernel(const Json &request) {
  throw InternalError("the compiler pipeline is not built yet");
}
CompiledKernel::~CompiledKernel() = default;
const ConfigSpec &CompiledKernel::config_spec() const { return *spec_; }
std::string CompiledKernel::generate(const Config &) const { return ""; }
std::string CompiledKernel::dump_stages(const Config &) const { return ""; }

} // namespace helion
