#include "types/HostValue.h"

namespace helion {

HostValuePtr HostValue::make(Kind kind, std::string text) {
  auto v = std::make_shared<HostValue>();
  v->kind = kind;
  v->text = std::move(text);
  return v;
}

HostValuePtr HostValue::make_int(SymInt s) {
  if (s->depth > kMaxSymDepth) return make(Kind::Unknown);
  auto v = std::make_shared<HostValue>();
  v->kind = Kind::Int;
  v->sym = std::move(s);
  return v;
}

HostValuePtr HostValue::make_float(std::optional<double> number) {
  auto v = std::make_shared<HostValue>();
  v->kind = Kind::Float;
  v->number = number;
  return v;
}

HostValuePtr HostValue::make_bool(std::optional<bool> truth) {
  auto v = std::make_shared<HostValue>();
  v->kind = Kind::Bool;
  v->truth = truth;
  return v;
}

HostValuePtr HostValue::make_tuple(std::vector<HostValuePtr> elements, bool is_list) {
  auto v = std::make_shared<HostValue>();
  v->kind = Kind::Tuple;
  v->elements = std::move(elements);
  v->is_list = is_list;
  return v;
}

HostValuePtr HostValue::make_tensor(std::shared_ptr<HostTensor> t) {
  auto v = std::make_shared<HostValue>();
  v->kind = Kind::Tensor;
  v->tensor = std::move(t);
  return v;
}

HostValuePtr HostValue::make_dtype(DType d) {
  auto v = std::make_shared<HostValue>();
  v->kind = Kind::DType;
  v->dtype = d;
  return v;
}

HostValuePtr HostValue::make_fragment(Fragment f) {
  auto v = std::make_shared<HostValue>();
  v->kind = Kind::Fragment;
  v->fragment = std::make_shared<const Fragment>(std::move(f));
  return v;
}

std::string HostValue::describe() const {
  switch (kind) {
  case Kind::Tensor:
    return "a tensor";
  case Kind::Int:
    return "an int";
  case Kind::Float:
    return "a float";
  case Kind::Bool:
    return "a bool";
  case Kind::String:
    return "a string";
  case Kind::None:
    return "None";
  case Kind::DType:
    return "a dtype";
  case Kind::Device:
    return "a device";
  case Kind::Module:
    return "the module " + text;
  case Kind::Function:
    return "the function " + text;
  case Kind::Tuple:
    return is_list ? "a list" : "a tuple";
  case Kind::Fragment:
    return "the fragment " + fragment->repr();
  case Kind::Unknown:
    return "a value computed by host code";
  }
  return "a value";
}

} // namespace helion
