#include "pipeline/Compile.h"

#include "codegen/TritonCodegen.h"
#include "ir/BlockSizes.h"
#include "ir/LoopEntries.h"
#include "lower/Lowering.h"
#include "parse/Parser.h"
#include "passes/BindBlockSizes.h"
#include "passes/IndexType.h"
#include "pipeline/Passes.h"
#include "support/Diagnostics.h"
#include "types/HostTypes.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>

namespace helion {

struct AnalyzedKernel {
  KernelInputs inputs;
  ast::Module module;
  HostProgram host;
  ir::DeviceKernel device;
  passes::IndexType index_type;
  /// The stages that ran once for this specialization, with their times.
  std::vector<pipeline::StageRecord> stages;
};

namespace {

/// The block sizes of `call` that host arithmetic derives from the
/// config's tunables and registered block sizes, as the config space reads them.
/// `size` as host code would spell it, with each tunable's symbol shown as
/// its name (`triton.next_power_of_2((k + split_k - 1) // split_k)`).
std::string shown_with_tunable_names(const SymInt &size,
                                     const std::vector<RegisteredTunable> &tunables) {
  std::string text = sym_to_python(size, SymSide::Host);
  for (size_t i = tunables.size(); i-- > 0;) { // _tunable_10 before _tunable_1
    const std::string symbol = tunable_symbol(i);
    for (size_t at = text.find(symbol); at != std::string::npos; at = text.find(symbol, at))
      text.replace(at, symbol.size(), tunables[i].name);
  }
  return text;
}

std::vector<std::optional<DerivedBlockSize>>
derived_block_sizes(const ir::DeviceKernel &device, const ir::TileCall &call,
                    const std::vector<RegisteredTunable> &tunables) {
  std::vector<std::optional<DerivedBlockSize>> out(call.derived_block_sizes.size());
  std::map<std::string, int> registered = passes::registered_block_calls(device);
  for (size_t d = 0; d < out.size(); ++d) {
    SymInt size = call.derived_block_sizes[d];
    if (!size) continue;
    auto value = [size, registered](const Config &config) {
      auto bound = sym_constant(sym_bind(size, passes::config_symbol_values(registered, config)));
      if (!bound) throw InternalError("a derived block size depends on more than the config");
      return *bound;
    };
    out[d] = DerivedBlockSize{shown_with_tunable_names(size, tunables), value};
  }
  return out;
}

KernelFacts kernel_facts(const ir::DeviceKernel &device, const HostProgram &host) {
  const std::vector<RegisteredBlockSize> &registered = host.findings.block_sizes;
  const std::vector<RegisteredTunable> &tunables = host.findings.tunables;
  KernelFacts facts;
  std::map<int, int64_t> registered_mins; // by block
  std::map<int, SymInt> registered_symbol;
  for (size_t i = 0; i < registered.size(); ++i) {
    int block = device.registered_sizes.at(i).block;
    registered_mins[block] = registered[i].min;
    registered_symbol[block] = registered[i].symbol;
  }
  // Blocks some value needs as a dimension of its own.
  std::set<int> separate(device.dot_blocks.begin(), device.dot_blocks.end());
  for (const ir::Node &n : device.nodes) {
    if (n.op == ir::OpKind::Reduce || n.op == ir::OpKind::CombineReduce ||
        n.op == ir::OpKind::Scan) {
      const ir::Dim &axis = device.node(n.operands[0]).type.dims.at(n.axis);
      if (axis.is_block()) separate.insert(axis.block);
    }
    if (n.op == ir::OpKind::TileBegin || n.op == ir::OpKind::TileEnd ||
        n.op == ir::OpKind::TileSize)
      separate.insert(n.block);
    if (n.op == ir::OpKind::Arange && n.type.dims.at(0).is_block())
      separate.insert(n.type.dims[0].block);
    if (n.op == ir::OpKind::Permute)
      for (const ir::Dim &d : n.type.dims)
        if (d.is_block()) separate.insert(d.block);
    for (int b : ir::regrouped_blocks(device, n))
      separate.insert(b);
  }
  for (size_t b = 0; b < device.blocks.size(); ++b)
    if (device.blocks[b].dynamic_range()) separate.insert(static_cast<int>(b));
  // A registered block size's smallest legal value: its minimum, and 16
  // where any block of that size feeds a matmul, or a whole dimension of c
  // times that size does (a reshape merged it from such tiles). 16 / c would
  // do for the dot's shape, but on an H100 a dot over a dimension merged from
  // tiles of 8 computed wrong sums (Triton 3.6; the interpreter was right),
  // so the tiles themselves take 16.
  auto registered_min = [&](int registered, int64_t min) {
    for (size_t b = 0; b < device.blocks.size(); ++b) {
      if (!ir::feeds_dot(device, static_cast<int>(b))) continue;
      if (static_cast<int>(b) == registered || device.blocks[b].size_from == registered)
        min = std::max(min, ir::kMinDotBlock);
      const ir::BlockInfo &info = device.blocks[b];
      const SymInt &symbol = registered_symbol.at(registered);
      int64_t unit = std::max<int64_t>(sym_hint(symbol), 1);
      int64_t factor = sym_hint(info.extent()) / unit;
      if (info.kind == ir::BlockInfo::Kind::Reduction && factor >= 1 &&
          sym_equal(info.extent(), sym_mul(sym_const(factor), symbol)))
        min = std::max(min, ir::kMinDotBlock);
    }
    return min;
  };
  for (size_t c = 0; c < device.tile_calls.size(); ++c) {
    const ir::TileCall &call = device.tile_calls[c];
    TileCallFacts t;
    for (int b : call.blocks)
      t.flattenable = t.flattenable && !separate.count(b);
    t.span = call.span;
    t.is_grid = call.is_grid;
    t.fixed_block_sizes = call.fixed_block_sizes;
    t.derived_block_sizes = derived_block_sizes(device, call, tunables);
    for (size_t d = 0; d < t.derived_block_sizes.size(); ++d)
      if (t.derived_block_sizes[d]) t.fixed_block_sizes[d] = sym_hint(call.derived_block_sizes[d]);
    for (size_t d = 0; d < call.blocks.size(); ++d) {
      int b = call.blocks[d];
      const ir::BlockInfo &block = device.block(b);
      t.size_hints.push_back(std::max<int64_t>(sym_hint(block.extent()), 1));
      t.feeds_matmul.push_back(ir::feeds_dot(device, b));
      t.min_block_sizes.push_back(ir::feeds_dot(device, b) ? ir::kMinDotBlock : 1);
      if (call.registered) t.min_block_sizes.back() = registered_min(b, registered_mins.at(b));
      // A dimension sized by a registered block size has no entry of its
      // own: to the config it is fixed (the value shown is a placeholder;
      // code generation reads the registered entry).
      bool shared = !call.registered && (block.tile_call != static_cast<int>(c) ||
                                         block.size_from >= 0);
      if (shared) {
        int source = block.size_from >= 0 ? block.size_from : b;
        t.fixed_block_sizes[d] = sym_hint(registered_symbol.at(source));
      }
    }
    facts.tiles.push_back(t);
  }
  // Reductions a loop over the dimension cannot serve: argmax/argmin and matmuls.
  std::set<int> whole(device.dot_blocks.begin(), device.dot_blocks.end());
  for (const ir::Node &n : device.nodes) {
    bool needs_whole = n.op == ir::OpKind::CombineReduce || n.op == ir::OpKind::Scan ||
                       (n.op == ir::OpKind::Reduce && ir::yields_index(n.reduce_fn()));
    // A reshape that merges or splits a dim needs each such dim in one block.
    for (int b : ir::regrouped_blocks(device, n))
      whole.insert(b);
    if (!needs_whole) continue;
    const ir::Dim &axis = device.node(n.operands[0]).type.dims.at(n.axis);
    if (axis.is_block()) whole.insert(axis.block);
  }
  for (int b : device.reductions) {
    ReductionFacts r;
    r.size_hint = std::max<int64_t>(sym_hint(device.block(b).extent()), 1);
    r.persistent_only = whole.count(b) > 0;
    facts.reductions.push_back(r);
  }
  facts.memory_ops = device.memory_ops;
  for (const ir::LoopEntry &entry : ir::loop_entries(device)) {
    LoopFacts loop;
    loop.span = entry.span;
    loop.top_level = entry.kind == ir::LoopEntry::Kind::TopLevel;
    loop.static_candidate = entry.static_candidate;
    facts.loops.push_back(loop);
  }
  facts.policy_loads = device.policy_loads;
  facts.atomic_ops = device.atomic_ops;
  facts.has_matmul = device.has_matmul;
  for (const ast::Stmt *barrier : host.barrier_before)
    if (barrier && !facts.barrier.valid()) facts.barrier = barrier->span;
  for (const RegisteredTunable &tunable : tunables)
    facts.tunables.push_back({tunable.name, tunable.fragment, tunable.calls.front()->span});
  return facts;
}

/// Runs `stage`, turning a user error into one rendered with the kernel's
/// name, file, line and caret.
template <typename F> auto with_rendered_errors(const SourceContext &context, F stage) {
  try {
    return stage();
  } catch (const UserError &e) {
    if (e.span().valid() || std::string(e.what()).find(" in kernel '") == std::string::npos)
      throw UserError(e.kind(), render_diagnostic(context, e.kind(), e.what(), e.span()), {});
    throw;
  }
}

} // namespace

struct CompiledKernel::CanonicalConfigs {
  std::mutex mutex;
  std::map<std::string, std::shared_ptr<const Config>> by_content; ///< content_key -> config
  std::atomic<size_t> normalizations{0};
};

CompiledKernel::CompiledKernel(const Json &request)
    : kernel_(std::make_unique<AnalyzedKernel>()),
      canonical_(std::make_unique<CanonicalConfigs>()) {
  AnalyzedKernel &k = *kernel_;
  using pipeline::timed;
  auto &log = k.stages;
  with_rendered_errors(SourceContext::from_request(request), [&] {
    k.inputs = timed(log, "read request", [&] { return KernelInputs::from_request(request); });
    k.module = timed(log, "parse", [&] { return parse_module(k.inputs.context.source); });
    k.host = timed(log, "host types", [&] { return analyze_host(k.module, k.inputs); });
    k.device = timed(log, "lower", [&] { return lower::lower_device(k.host, k.inputs); });
    k.index_type = timed(log, "index_type", [&] {
      return passes::choose_index_type(k.device, k.inputs.settings);
    });
    spec_ = timed(log, "config space",
                  [&] {
      KernelFacts facts = kernel_facts(k.device, k.host);
      facts.first_line = k.inputs.context.first_line;
      return std::make_unique<ConfigSpec>(std::move(facts));
    });
    return 0;
  });
}

CompiledKernel::~CompiledKernel() = default;

std::vector<std::pair<std::string, std::string>> CompiledKernel::warnings() const {
  std::vector<std::pair<std::string, std::string>> out;
  const char *kind = "TensorOperationInWrapper";
  for (const auto &[message, span] : kernel_->host.findings.tensor_operations)
    out.emplace_back(kind, render_diagnostic(kernel_->inputs.context, kind, message, span));
  return out;
}

const ConfigSpec &CompiledKernel::config_spec() const {
  return *spec_;
}

Config CompiledKernel::normalize(const Json &user_config) const {
  ++canonical_->normalizations;
  return with_rendered_errors(kernel_->inputs.context,
                              [&] { return spec_->normalize(user_config); });
}

/// JSON text of `value` with every object's keys sorted: equal for configs
/// that differ only in the order their fields were written.
static void append_content_key(const Json &value, std::string &out) {
  if (!value.is_object()) {
    if (!value.is_array()) {
      out += dump_text(value);
      return;
    }
    out += '[';
    for (const Json &item : value.get_ref<const Json::array_t &>()) {
      append_content_key(item, out);
      out += ',';
    }
    out += ']';
    return;
  }
  std::vector<const Json::object_t::value_type *> fields;
  for (const auto &field : value.get_ref<const Json::object_t &>())
    fields.push_back(&field);
  std::sort(fields.begin(), fields.end(),
            [](const auto *a, const auto *b) { return a->first < b->first; });
  out += '{';
  for (const auto *field : fields) {
    out += dump_text(Json(field->first)) + ':';
    append_content_key(field->second, out);
    out += ',';
  }
  out += '}';
}

static std::string content_key(const Json &value) {
  std::string out;
  append_content_key(value, out);
  return out;
}

std::shared_ptr<const Config> CompiledKernel::canonical(const Json &user_config) const {
  std::string key = content_key(user_config);
  {
    std::lock_guard<std::mutex> lock(canonical_->mutex);
    auto found = canonical_->by_content.find(key);
    if (found != canonical_->by_content.end()) return found->second;
  }
  auto config = std::make_shared<const Config>(normalize(user_config));
  std::string canonical_key = content_key(spec_->to_json(*config));
  std::lock_guard<std::mutex> lock(canonical_->mutex);
  canonical_->by_content.emplace(key, config);
  canonical_->by_content.emplace(canonical_key, config);
  return config;
}

size_t CompiledKernel::normalization_count() const {
  return canonical_->normalizations;
}

void check_kernel_source(const Json &request) {
  SourceContext context = SourceContext::from_request(request);
  with_rendered_errors(context, [&] {
    ast::Module module = parse_module(context.source);
    check_kernel_signature(find_kernel_function(module, context.kernel_name));
    return 0;
  });
}

std::string CompiledKernel::generate(const Config &config) const {
  with_rendered_errors(kernel_->inputs.context, [&] {
    spec_->validate(config);
    return 0;
  });
  return generate_valid(config);
}

std::string CompiledKernel::generate_canonical(const Json &user_config) const {
  return generate_valid(*canonical(user_config));
}

std::string CompiledKernel::generate_valid(const Config &config) const {
  const AnalyzedKernel &k = *kernel_;
  return with_rendered_errors(k.inputs.context, [&] {
    ir::DeviceKernel device = pipeline::run_config_passes(k.device, config);
    return codegen::generate_module(k.host, device, config, k.inputs, k.index_type);
  });
}

/// The index type's decision in words, for --dump-stages.
static std::string index_type_text(const passes::IndexType &index_type) {
  std::string text = std::string("offsets: ") + (index_type.int64 ? "int64" : "int32") + "\n";
  for (const passes::IndexSpan &span : index_type.int32_limits)
    text += "checked at launch: " + span.what + " spans " +
            sym_to_python(span.elements, SymSide::Host) + " elements\n";
  return text;
}

static std::string stage_header(const pipeline::StageRecord &stage) {
  char ms[32];
  std::snprintf(ms, sizeof ms, "%.3f", stage.milliseconds);
  return "== " + stage.name + " (" + ms + " ms)\n";
}

std::string CompiledKernel::dump_stages(const Config &config) const {
  const AnalyzedKernel &k = *kernel_;
  std::string out;
  for (const pipeline::StageRecord &stage : k.stages) {
    out += stage_header(stage);
    if (stage.name == "lower") out += ir::dump(k.device);
    if (stage.name == "index_type") out += index_type_text(k.index_type);
  }
  out += "== config\n" + dump_text(spec_->to_json(config)) + "\n";
  std::vector<pipeline::StageRecord> log;
  std::string error;
  try {
    ir::DeviceKernel device = pipeline::run_config_passes(k.device, config, &log);
    std::string module = pipeline::timed(log, "codegen", [&] {
      return codegen::generate_module(k.host, device, config, k.inputs, k.index_type);
    });
    log.back().text = module;
  } catch (const std::exception &e) {
    error = e.what(); // the stages before it are what a reader needs here
  }
  for (const pipeline::StageRecord &stage : log)
    out += stage_header(stage) + stage.text;
  if (!error.empty()) out += "error: " + error + "\n";
  return out;
}

} // namespace helion
