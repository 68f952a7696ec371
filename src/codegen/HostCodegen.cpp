#include "codegen/CodeWriter.h"
#include "codegen/Names.h"
#include "codegen/PythonText.h"
#include "codegen/TritonCodegen.h"
#include "passes/BindBlockSizes.h"
#include "parse/Unparse.h"
#include "support/Diagnostics.h"
#include "support/Text.h"

#include <optional>

namespace helion::codegen {

namespace {

/// A dotted module path (`a.b.c`) that `import` can name.
bool is_module_path(const std::string &module) {
  size_t start = 0;
  while (true) {
    size_t end = module.find('.', start);
    if (!is_python_name(module.substr(start, end - start))) return false;
    if (end == std::string::npos) return true;
    start = end + 1;
  }
}

/// Imports and constants for the globals the kernel names, so the module
/// reads on its own; the runtime adds any other objects after import.
void emit_globals(CodeWriter &out, const KernelInputs &inputs, const ModuleNames &names) {
  for (const auto &[name, g] : inputs.globals) {
    // Names come from Python's code objects; anything else is no name the
    // kernel can read, and must not reach the module as code.
    if (!is_python_name(name)) continue;
    if (g.kind == GlobalSpec::Kind::Module) {
      if (names.imported(name) || !is_module_path(g.name)) continue;
      if (g.name == name)
        out.line("import " + g.name);
      else
        out.line("import " + g.name + " as " + name);
    } else if (g.kind == GlobalSpec::Kind::Constant) {
      out.line(name + " = " + names.literal(g.value));
    } else if (g.kind == GlobalSpec::Kind::DType) {
      if (!is_plain_identifier(g.name)) continue;
      out.line(name + " = " + names.torch() + "." + g.name);
    }
  }
}

void emit_host_statements(CodeWriter &out, const std::vector<const ast::Stmt *> &stmts,
                          const Replacements &replacements) {
  for (const ast::Stmt *s : stmts) {
    out.set_source(s->span);
    out.indented_lines(unparse(*s, out.depth(), 4, &replacements));
  }
}

/// Keyword arguments of the launch from user tunables named
/// `_triton_config_<option>`: `, <option>=<value>` each.
std::string launch_options(const HostProgram &host, const Config &config, int barriers,
                           const ModuleNames &names) {
  static const std::string prefix = "_triton_config_";
  std::string options;
  for (size_t i = 0; i < host.findings.tunables.size(); ++i) {
    const std::string &name = host.findings.tunables[i].name;
    if (name.rfind(prefix, 0) != 0 || name.size() == prefix.size()) continue;
    std::string option = name.substr(prefix.size());
    if (!is_python_name(option))
      throw UserError("RegisterTunableArgTypes",
                      "the tunable '" + name + "' names the launch option '" + option +
                          "', which is no keyword; use _triton_config_ and the option's name");
    if (option == "num_warps" || option == "num_stages" || option == "maxnreg")
      throw UserError("TunableNameConflict",
                      "the tunable '" + name + "' would set the launch's " + option +
                          ", which the config field " + option + " sets; tune that instead");
    if (option == "launch_cooperative_grid" && barriers > 0)
      throw UserError("TunableNameConflict",
                      "the tunable '" + name + "' would set the launch's " + option +
                          ", which hl.barrier() needs to be True; remove the tunable");
    options += ", " + option + "=" + names.literal(config.tunables.at(i));
  }
  return options;
}

std::string launch_line(const DeviceFunction &fn, const Config &config,
                        const std::string &options) {
  std::string args;
  for (const KernelParam &p : fn.params)
    args += p.host_value + ", ";
  // maxnreg is a compile option of Triton's CUDA backend, passed like
  // num_warps; Triton's interpreter drops launch keywords it does not know.
  std::string extra = config.maxnreg ? ", maxnreg=" + std::to_string(*config.maxnreg) : "";
  // A grid barrier waits for every program: a cooperative launch guarantees
  // they are all resident (or fails to launch instead of hanging).
  if (fn.barriers > 0) extra += ", launch_cooperative_grid=True";
  return fn.name + "[" + fn.grid + "](" + args + "num_warps=" + std::to_string(config.num_warps) +
         ", num_stages=" + std::to_string(config.num_stages) + extra + options + ")";
}

/// `if not (condition): raise AssertionError(message)`: a check the launch
/// depends on, kept under `python -O` (which drops `assert` statements).
std::string guard_line(const std::string &condition, const std::string &message,
                       const ModuleNames &names) {
  return "if not (" + condition + "): raise " + names.builtin("AssertionError") + "(" +
         python_string(message) + ")";
}

/// Python's test that every span fits int32 offsets, for the host code.
std::string spans_fit_int32(const passes::IndexType &index_type, const ModuleNames &names) {
  std::string condition;
  for (const passes::IndexSpan &span : index_type.int32_limits)
    condition += (condition.empty() ? "" : " and ") + names.host_sym(span.elements) +
                 " <= " + std::to_string(passes::kInt32Max);
  return condition;
}

/// The launch, with the int32 limits checked first where sizes can grow past
/// them: an int64 twin of the kernel takes over, or with index_dtype fixed
/// to int32 the call raises before anything is written.
void emit_launch(CodeWriter &body, const DeviceFunction &device,
                 const std::optional<DeviceFunction> &int64_twin, const Config &config,
                 const std::string &options, const passes::IndexType &index_type,
                 const KernelInputs &inputs, const ModuleNames &names) {
  if (index_type.int32_limits.empty()) {
    body.line(launch_line(device, config, options));
    return;
  }
  std::string fits = spans_fit_int32(index_type, names);
  if (int64_twin) {
    body.line("if " + fits + ":");
    body.indent();
    body.line(launch_line(device, config, options));
    body.dedent();
    body.line("else:");
    body.indent();
    body.line(launch_line(*int64_twin, config, options));
    body.dedent();
    return;
  }
  std::string spans;
  for (const passes::IndexSpan &span : index_type.int32_limits)
    spans += (spans.empty() ? "" : ", ") + span.what;
  body.line("if not (" + fits + "):");
  body.indent();
  // A local import: the module's own names stay those of ModuleNames.
  body.line("from helion.exc import IndexOffsetOutOfRangeForInt32");
  body.line("raise IndexOffsetOutOfRangeForInt32(" +
            python_string("kernel '" + inputs.context.kernel_name +
                          "' was compiled with index_dtype='int32', but at these sizes one of " +
                          spans +
                          " spans more elements than int32 offsets can address; set "
                          "index_dtype='int64' or leave index_dtype unset") +
            ")");
  body.dedent();
  body.line(launch_line(device, config, options));
}

/// The index type with the config's values in its spans: one the values
/// make constant needs no check at launch, and one beyond int32 makes the
/// kernel take int64 offsets (unless the user fixed int32: then the launch
/// raises as before).
passes::IndexType bind_index_type(passes::IndexType index_type,
                                  const std::map<std::string, int64_t> &values,
                                  const KernelInputs &inputs) {
  std::vector<passes::IndexSpan> checked;
  for (passes::IndexSpan &span : index_type.int32_limits) {
    span.elements = sym_bind(span.elements, values);
    auto elements = sym_constant(span.elements);
    if (elements && *elements <= passes::kInt32Max) continue;
    if (elements && inputs.settings.index_dtype != "int32") {
      index_type.int64 = true;
      continue;
    }
    checked.push_back(span);
  }
  index_type.int32_limits = index_type.int64 ? std::vector<passes::IndexSpan>() : checked;
  return index_type;
}

/// A tunable's value as host code writes it; a float tunable's always as a
/// float, so the device's scalar argument has one type whatever the value.
std::string tunable_literal(const Fragment &fragment, const Json &value, const ModuleNames &names) {
  if (fragment.value_type() == Fragment::ValueType::Float)
    return names.literal(Json(json_number(value)));
  return names.literal(value);
}

} // namespace

std::string generate_module(const HostProgram &host, const ir::DeviceKernel &kernel,
                            const Config &config, const KernelInputs &inputs,
                            const passes::IndexType &unbound_index_type) {
  const std::string &kernel_name = inputs.context.kernel_name;
  // The host function is found by this name, so it cannot be changed.
  if (!is_python_name(kernel_name))
    throw UserError("UnsupportedSignature",
                    "the kernel's name " + python_string(kernel_name) +
                        " is not a Python identifier; give the function a name Python can read");
  // Each `hl.register_block_size(...)` call in host code is the config's value.
  std::map<std::string, int64_t> block_values = passes::registered_block_values(kernel, config);
  Replacements replacements;
  for (const RegisteredBlockSize &size : host.findings.block_sizes)
    replacements[size.call] = std::to_string(block_values.at(size.symbol->kernel_name));
  block_values.merge(passes::tunable_values(config));
  passes::IndexType index_type = bind_index_type(unbound_index_type, block_values, inputs);

  const ast::Stmt &fn = *host.function;
  ModuleNames names(inputs, fn);
  // Each `hl.register_tunable(...)` call is the config's value.
  for (size_t i = 0; i < host.findings.tunables.size(); ++i)
    for (const ast::Expr *call : host.findings.tunables[i].calls)
      replacements[call] = tunable_literal(host.findings.tunables[i].fragment,
                                           config.tunables.at(i), names);
  DeviceFunction device = generate_device_function(kernel, config, inputs, names,
                                                   names.device_function(), index_type.int64);
  std::optional<DeviceFunction> int64_twin;
  if (!index_type.int32_limits.empty() && inputs.settings.index_dtype.empty())
    int64_twin = generate_device_function(kernel, config, inputs, names,
                                          names.device_function_int64(), true);

  std::string params;
  for (const auto &a : fn.args.posonlyargs)
    params += (params.empty() ? "" : ", ") + a.name;
  for (const auto &a : fn.args.args)
    params += (params.empty() ? "" : ", ") + a.name;
  CodeWriter body(split_lines(inputs.context.source), inputs.context.first_line);
  body.line("def " + names.host_function() + "(" + params + "):");
  body.indent();
  emit_host_statements(body, host.before, replacements);
  body.set_source(host.grid_loops.front()->span);
  for (const ir::HostBinding &b : kernel.host_bindings)
    body.line(b.name + " = " + b.host_expr);
  for (const Specialization &s : host.findings.specializations)
    body.line(guard_line(s.host_expr + " == " + std::to_string(s.value),
                         "hl.specialize compiled this kernel for " + s.host_expr + " == " +
                             std::to_string(s.value) +
                             "; call kernel.reset() to compile for other sizes",
                         names));
  for (const ir::HostGuard &g : kernel.guards)
    body.line(guard_line(names.host_sym(g.lhs) + (g.at_most ? " <= " : " == ") +
                             names.host_sym(g.rhs),
                         g.message, names));
  // A kernel with hl.barrier() runs once on a GPU, once per phase under
  // Triton's interpreter (see helion.runtime.barrier_phases).
  if (device.barriers > 0) {
    body.line("for " + names.barrier_phase() + " in " + names.runtime() + ".barrier_phases(" +
              std::to_string(device.barriers) + "):");
    body.indent();
  }
  emit_launch(body, device, int64_twin, config, launch_options(host, config, device.barriers, names), index_type,
              inputs, names);
  if (device.barriers > 0) body.dedent();
  emit_host_statements(body, host.after, replacements);

  // The header last: the code above decides which imports it needs.
  CodeWriter globals({}, 1);
  emit_globals(globals, inputs, names);
  CodeWriter out({}, 1);
  out.line("# Generated by helion from kernel '" + comment_text(kernel_name) + "' in " +
           comment_text(inputs.context.filename));
  for (const std::string &line : names.imports())
    out.line(line);
  std::string devices = device.text + "\n\n";
  if (int64_twin) devices += int64_twin->text + "\n\n";
  return out.str() + globals.str() + "\n\n" + devices + body.str();
}

} // namespace helion::codegen
