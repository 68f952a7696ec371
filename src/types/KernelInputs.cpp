#include "types/KernelInputs.h"

namespace helion {

static ArgSpec::Kind arg_kind(const std::string &kind) {
  if (kind == "tensor") return ArgSpec::Kind::Tensor;
  if (kind == "int") return ArgSpec::Kind::Int;
  if (kind == "float") return ArgSpec::Kind::Float;
  if (kind == "bool") return ArgSpec::Kind::Bool;
  if (kind == "constexpr") return ArgSpec::Kind::Constexpr;
  return ArgSpec::Kind::Other;
}

static std::vector<int64_t> int_list(const Json &json) {
  std::vector<int64_t> out;
  if (!json.is_array()) return out;
  for (const Json &v : json.as_array())
    out.push_back(v.as_int());
  return out;
}

KernelInputs KernelInputs::from_request(const Json &request) {
  KernelInputs in;
  in.context = SourceContext::from_request(request);
  for (const Json &a : request["args"].as_array()) {
    ArgSpec spec;
    spec.name = a["name"].as_string();
    spec.kind = arg_kind(a["kind"].as_string());
    if (spec.kind == ArgSpec::Kind::Tensor) {
      auto dtype = dtype_from_name(a["dtype"].as_string());
      if (!dtype)
        throw UserError("UnsupportedOp", "argument '" + spec.name + "' has dtype " +
                                             a["dtype"].as_string() +
                                             ", which helion kernels do not support");
      spec.dtype = *dtype;
      spec.shape = int_list(a["shape"]);
      spec.stride = int_list(a["stride"]);
      spec.device = a["device"].is_string() ? a["device"].as_string() : "cpu";
    }
    if (a.contains("value")) spec.value = a["value"];
    in.args.push_back(std::move(spec));
  }
  in.globals = request.contains("globals") ? request["globals"] : Json::object();
  if (request.contains("names") && request["names"].is_array())
    for (const Json &name : request["names"].as_array())
      if (name.is_string()) in.names.push_back(name.as_string());
  const Json &settings = request["settings"];
  if (settings.is_object()) {
    if (settings.contains("static_shapes"))
      in.settings.static_shapes = settings["static_shapes"].as_bool();
    if (settings["index_dtype"].is_string())
      in.settings.index_dtype = settings["index_dtype"].as_string();
    if (settings["target"].is_string())
      in.settings.interpreter = settings["target"].as_string() == "interpreter";
    if (settings["dot_precision"].is_string())
      in.settings.dot_precision = settings["dot_precision"].as_string();
  }
  return in;
}

} // namespace helion
