#pragma once

// Compile requests as the Python layer writes them, for tests that compile
// kernels from source.

#include "support/Json.h"

#include <algorithm>
#include <string>
#include <vector>

namespace helion::requests {

/// A contiguous tensor argument on `device`.
inline Json tensor_arg(const std::string &name, const std::string &dtype,
                       const std::vector<int64_t> &shape, const std::string &device = "cuda:0") {
  Json sizes = Json::array(), strides = Json::array();
  std::vector<int64_t> contiguous(shape.size());
  int64_t stride = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    contiguous[i] = stride;
    stride *= std::max<int64_t>(shape[i], 1);
  }
  for (size_t i = 0; i < shape.size(); ++i) {
    sizes.push_back(shape[i]);
    strides.push_back(contiguous[i]);
  }
  Json arg = Json::object();
  arg["name"] = name;
  arg["kind"] = "tensor";
  arg["dtype"] = dtype;
  arg["shape"] = sizes;
  arg["stride"] = strides;
  arg["device"] = device;
  return arg;
}

/// A module global, as `{"kind": "module", "name": ...}`.
inline Json module_global(const std::string &module) {
  Json g = Json::object();
  g["kind"] = "module";
  g["name"] = module;
  return g;
}

/// The request for kernel `k` of k.py, whose globals are torch and hl.
inline Json kernel_request(const std::string &source, const std::vector<Json> &args,
                           bool static_shapes = true) {
  Json r = Json::object();
  r["kernel_name"] = "k";
  r["filename"] = "k.py";
  r["first_line"] = 1;
  r["source"] = source;
  Json list = Json::array();
  for (const Json &a : args)
    list.push_back(a);
  r["args"] = list;
  Json globals = Json::object();
  globals["torch"] = module_global("torch");
  globals["hl"] = module_global("helion.language");
  r["globals"] = globals;
  Json settings = Json::object();
  settings["static_shapes"] = static_shapes;
  r["settings"] = settings;
  return r;
}

} // namespace helion::requests
