#include "passes/IndexType.h"

#include "support/Diagnostics.h"

namespace helion::passes {

namespace {

/// One past the largest offset of any element: 1 + sum((size - 1) * stride),
/// or 0 for an empty tensor. Strides of torch tensors are never negative.
SymInt tensor_elements(const ir::TensorParam &t) {
  SymInt last = sym_const(0);
  for (size_t d = 0; d < t.sizes.size(); ++d) {
    auto size = sym_constant(t.sizes[d]);
    if (size && *size == 0) return sym_const(0);
    last = sym_add(last, sym_mul(sym_sub(t.sizes[d], sym_const(1)), t.strides[d]));
  }
  return sym_add(last, sym_const(1));
}

std::vector<IndexSpan> index_spans(const ir::DeviceKernel &kernel) {
  std::vector<IndexSpan> spans;
  for (const ir::TensorParam &t : kernel.tensors)
    spans.push_back({tensor_elements(t), "tensor '" + t.name + "'"});
  for (const ir::BlockInfo &b : kernel.blocks) {
    // A range computed on the device lies within the tensors it indexes.
    if (b.dynamic_range()) continue;
    std::string name = b.name_hint.empty() ? "a loop" : "'" + b.name_hint + "'";
    spans.push_back({b.end, "the range of " + name});
  }
  return spans;
}

} // namespace

IndexType choose_index_type(const ir::DeviceKernel &kernel, const CompileSettings &settings) {
  IndexType type;
  if (settings.index_dtype == "int64") {
    type.int64 = true;
    return type;
  }
  bool fixed_int32 = settings.index_dtype == "int32";
  for (IndexSpan &span : index_spans(kernel)) {
    auto known = sym_constant(span.elements);
    if (known && *known <= kInt32Max) continue;
    if (sym_hint(span.elements) > kInt32Max) {
      if (fixed_int32)
        throw UserError("IndexOffsetOutOfRangeForInt32",
                        span.what + " spans " + std::to_string(sym_hint(span.elements)) +
                            " elements, more than index_dtype='int32' can address; set "
                            "index_dtype='int64' or leave index_dtype unset");
      type.int64 = true;
      type.int32_limits.clear();
      return type;
    }
    bool repeated = false;
    for (const IndexSpan &seen : type.int32_limits)
      repeated = repeated || sym_equal(seen.elements, span.elements);
    if (!repeated) type.int32_limits.push_back(std::move(span));
  }
  return type;
}

} // namespace helion::passes
