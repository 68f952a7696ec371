// The Python extension: a coarse, JSON-in/JSON-out view of CompiledKernel.
// Everything Python users see is built on this by the `helion` package.

#include "autotune/Autotuner.h"
#include "config/Fragment.h"
#include "pipeline/Compile.h"
#include "support/Diagnostics.h"
#include "support/Json.h"

#include <nanobind/nanobind.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <exception>
#include <memory>
#include <new>
#include <string>

namespace nb = nanobind;
using helion::CompiledKernel;
using helion::dump_text;
using helion::Json;
using helion::json_field;
using helion::json_number;
using helion::parse_json_text;

namespace {

PyObject *user_error_type = nullptr;
PyObject *internal_error_type = nullptr;

/// Requests and configs are written by the `helion` package, so malformed
/// JSON is a bug on our side, not the user's.
Json parse_json(const std::string &text, const char *what) {
  try {
    return parse_json_text(text);
  } catch (const std::runtime_error &error) {
    throw helion::InternalError(std::string("malformed ") + what + ": " + error.what());
  }
}

void init_kernel(CompiledKernel *self, const std::string &request_json) {
  new (self) CompiledKernel(parse_json(request_json, "request"));
}

/// A config's values are the user's: `helion.Config` checks that they are
/// JSON-like, but one that still fails to read (an int beyond 64 bits, say)
/// is an invalid config, never a crash or an internal error.
Json parse_config(const std::string &config_json) {
  try {
    return parse_json_text(config_json);
  } catch (const std::runtime_error &error) {
    throw helion::UserError("InvalidConfig", std::string("config: ") + error.what());
  }
}

/// The kernel's canonical config for `config_json`: normalized the first time
/// it (or its canonical form) is seen, then kept by the kernel.
std::shared_ptr<const helion::Config> canonical(const CompiledKernel &kernel,
                                                const std::string &config_json) {
  return kernel.canonical(parse_config(config_json));
}

void check_source(const std::string &request_json) {
  helion::check_kernel_source(parse_json(request_json, "request"));
}

/// The default config, kept as the canonical config of `{}`.
std::string default_config(const CompiledKernel &kernel) {
  return dump_text(kernel.config_spec().to_json(*kernel.canonical(Json::object())));
}

std::string normalize_config(const CompiledKernel &kernel, const std::string &config_json) {
  return dump_text(kernel.config_spec().to_json(*canonical(kernel, config_json)));
}

std::string config_spec(const CompiledKernel &kernel) {
  return dump_text(kernel.config_spec().describe());
}

std::string generate(const CompiledKernel &kernel, const std::string &config_json) {
  return kernel.generate_canonical(parse_config(config_json));
}

/// A message as Python text. Messages quote file names, whose surrogates JSON
/// carried in as their three-byte encodings: those read back as themselves.
nb::object message_text(const std::string &text) {
  PyObject *str =
      PyUnicode_DecodeUTF8(text.data(), static_cast<Py_ssize_t>(text.size()), "surrogatepass");
  if (!str) {
    PyErr_Clear();
    str =
        PyUnicode_DecodeUTF8(text.data(), static_cast<Py_ssize_t>(text.size()), "backslashreplace");
  }
  return nb::steal(str);
}

nb::list warnings(const CompiledKernel &kernel) {
  nb::list out;
  for (const auto &[kind, message] : kernel.warnings())
    out.append(nb::make_tuple(kind, message_text(message)));
  return out;
}

std::string dump_stages(const CompiledKernel &kernel, const std::string &config_json) {
  return kernel.dump_stages(*canonical(kernel, config_json));
}

/// Runs the search; `evaluate(configs_json, phase)` returns a JSON list of
/// {"time_ms": float | null, "error": str | null, "skipped": bool}, one per
/// config (skipped: not measured because the budget ran out). Python
/// exceptions raised by the callables propagate unchanged.
std::string autotune(const CompiledKernel &kernel, const std::string &options_json,
                     nb::callable evaluate, nb::callable log) {
  namespace at = helion::autotune;
  const helion::ConfigSpec &spec = kernel.config_spec();
  at::AutotuneOptions options =
      at::AutotuneOptions::from_json(parse_json(options_json, "autotune options"), spec);
  at::EvaluateBatch evaluate_batch = [&](const std::vector<helion::Config> &configs,
                                         const std::string &phase) {
    Json batch = Json::array();
    for (const auto &config : configs)
      batch.push_back(spec.to_json(config));
    nb::object returned = evaluate(dump_text(batch), phase);
    Json results = parse_json(nb::cast<std::string>(returned), "evaluate result");
    std::vector<at::Measurement> out;
    for (const Json &entry : results.get_ref<const Json::array_t &>()) {
      at::Measurement measurement;
      if (json_field(entry, "time_ms").is_number())
        measurement.time_ms = json_number(json_field(entry, "time_ms"));
      if (json_field(entry, "error").is_string())
        measurement.error = json_field(entry, "error").get_ref<const std::string &>();
      if (json_field(entry, "skipped").is_boolean())
        measurement.skipped = json_field(entry, "skipped").get<bool>();
      out.push_back(std::move(measurement));
    }
    return out;
  };
  at::LogLine log_line = [&](const std::string &line) { log(line); };
  return dump_text(at::autotune(spec, options, evaluate_batch, log_line).to_json(spec));
}

/// A fragment's description (Fragment::describe) from its class and
/// constructor arguments; raises ValueError saying what is wrong with them.
std::string fragment(const std::string &class_name, const std::string &args_json) {
  try {
    return dump_text(
        helion::make_fragment(class_name, parse_json(args_json, "fragment arguments")).describe());
  } catch (const helion::UserError &error) {
    throw nb::value_error(error.what());
  }
}

bool fragment_accepts(const std::string &description_json, const std::string &value_json) {
  return helion::fragment_from_description(parse_json(description_json, "fragment"))
      .accepts(parse_json(value_json, "value"));
}

/// The search strategies as JSON: [{"name", "class_name", "aliases"}, ...],
/// the default first.
std::string search_strategies() {
  Json out = Json::array();
  for (const auto &strategy : helion::autotune::strategy_names()) {
    Json entry = Json::object();
    entry["name"] = Json(strategy.name);
    entry["class_name"] = Json(strategy.class_name);
    Json aliases = Json::array();
    for (const auto &alias : strategy.aliases)
      aliases.push_back(Json(alias));
    entry["aliases"] = std::move(aliases);
    out.push_back(std::move(entry));
  }
  return dump_text(out);
}

/// UserError -> _core.UserError(kind, rendered_message); every other C++
/// exception escaping the compiler is a compiler bug -> _core.InternalError.
void translate_exception(const std::exception_ptr &pointer, void *) {
  try {
    std::rethrow_exception(pointer);
  } catch (const helion::UserError &error) {
    nb::object args = nb::make_tuple(error.kind(), message_text(error.what()));
    PyErr_SetObject(user_error_type, args.ptr());
  } catch (const nb::python_error &) {
    throw;
  } catch (const nb::builtin_exception &) {
    throw;
  } catch (const std::bad_alloc &) {
    throw;
  } catch (const std::exception &error) {
    PyErr_SetObject(internal_error_type, message_text(error.what()).ptr());
  }
}

} // namespace

NB_MODULE(_core, m) {
  user_error_type = PyErr_NewException("helion._core.UserError", PyExc_Exception, nullptr);
  internal_error_type = PyErr_NewException("helion._core.InternalError", PyExc_Exception, nullptr);
  m.attr("UserError") = nb::handle(user_error_type);
  m.attr("InternalError") = nb::handle(internal_error_type);
  nb::register_exception_translator(translate_exception);
  // Kernels live in module-level caches until interpreter exit, which
  // nanobind would otherwise report as leaks.
  nb::set_leak_warnings(false);

  m.def("check_source", &check_source, nb::arg("request_json"));
  m.def("search_strategies", &search_strategies);
  m.def("fragment", &fragment, nb::arg("class_name"), nb::arg("args_json"));
  m.def("fragment_accepts", &fragment_accepts, nb::arg("description_json"),
        nb::arg("value_json"));
  m.def("tunable_name_conflict", &helion::tunable_name_conflict, nb::arg("name"));
  m.def("strategy_name", &helion::autotune::canonical_strategy, nb::arg("spelling"));
  nb::class_<CompiledKernel>(m, "Kernel")
      .def("__init__", &init_kernel, nb::arg("request_json"))
      .def("default_config", &default_config)
      .def("normalize_config", &normalize_config, nb::arg("config_json"))
      .def("config_spec", &config_spec)
      .def("generate", &generate, nb::arg("config_json"))
      .def("dump_stages", &dump_stages, nb::arg("config_json"))
      .def("warnings", &warnings)
      .def("normalization_count", &CompiledKernel::normalization_count)
      .def("autotune", &autotune, nb::arg("options_json"), nb::arg("evaluate"), nb::arg("log"));
}
