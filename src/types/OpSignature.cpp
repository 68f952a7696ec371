#include "types/OpSignature.h"

#include <cstdlib>

namespace helion {

namespace {

std::string trim(const std::string &s) {
  size_t b = s.find_first_not_of(" \t\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\n");
  return s.substr(b, e - b + 1);
}

/// The comma-separated entries of a parameter list, parentheses kept whole.
std::vector<std::string> split_params(const std::string &text) {
  std::string body = trim(text);
  check_internal(body.size() >= 2 && body.front() == '(' && body.back() == ')',
                 "a signature is written in parentheses: " + text);
  body = body.substr(1, body.size() - 2);
  std::vector<std::string> out;
  std::string current;
  int depth = 0;
  for (char c : body) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0) {
      out.push_back(trim(current));
      current.clear();
      continue;
    }
    current += c;
  }
  if (!trim(current).empty()) out.push_back(trim(current));
  return out;
}

HostValuePtr parse_default(const std::string &text) {
  if (text == "None") return HostValue::make(HostValue::Kind::None);
  if (text == "True") return HostValue::make_bool(true);
  if (text == "False") return HostValue::make_bool(false);
  if (text == "()") return HostValue::make_tuple({});
  if (text.size() >= 2 && (text.front() == '\'' || text.front() == '"'))
    return HostValue::make(HostValue::Kind::String, text.substr(1, text.size() - 2));
  if (text.rfind("torch.", 0) == 0) {
    auto dtype = dtype_from_name(text.substr(6));
    check_internal(dtype.has_value(), "unknown dtype default " + text);
    return HostValue::make_dtype(*dtype);
  }
  char *end = nullptr;
  long long i = std::strtoll(text.c_str(), &end, 10);
  if (end && *end == '\0' && !text.empty()) return HostValue::make_int(sym_const(i));
  double d = std::strtod(text.c_str(), &end);
  check_internal(end && *end == '\0' && !text.empty(), "unknown default value " + text);
  return HostValue::make_float(d);
}

/// torch's python argument parser accepts these numpy spellings everywhere.
std::vector<std::string> split_names(const std::string &spec) {
  std::vector<std::string> out(1);
  for (char c : spec) {
    if (c == '|')
      out.emplace_back();
    else
      out.back() += c;
  }
  return out;
}

std::vector<std::string> numpy_aliases(const std::string &param) {
  if (param == "dim") return {"axis"};
  if (param == "keepdim") return {"keepdims"};
  if (param == "input") return {"x", "a", "x1"};
  if (param == "other") return {"x2"};
  return {};
}

bool same_constant(const HostValue &a, const HostValue &b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
  case HostValue::Kind::None:
    return true;
  case HostValue::Kind::Bool:
    return a.truth && b.truth && *a.truth == *b.truth;
  case HostValue::Kind::String:
    return a.text == b.text;
  case HostValue::Kind::Int:
    return sym_constant(a.sym) && sym_constant(a.sym) == sym_constant(b.sym);
  case HostValue::Kind::Float:
    return a.number && a.number == b.number;
  default:
    return false;
  }
}

} // namespace

Signature Signature::parse(std::string name, const std::string &text, bool method) {
  Signature sig;
  sig.name_ = std::move(name);
  sig.method_ = method;
  bool torch_binding = sig.name_.rfind("torch.", 0) == 0 || sig.name_.rfind("Tensor.", 0) == 0;
  bool keyword_only = false;
  for (const std::string &entry : split_params(text)) {
    if (entry == "*") {
      keyword_only = true;
      continue;
    }
    if (entry == "/") {
      for (Parameter &p : sig.params_)
        p.positional_only = true;
      continue;
    }
    Parameter p;
    std::string spec = entry;
    if (spec[0] == '~') {
      p.supported = false;
      spec = spec.substr(1);
    }
    if (spec[0] == '*') {
      p.packs = true;
      spec = spec.substr(1);
    }
    size_t eq = spec.find('=');
    if (eq != std::string::npos) {
      p.default_value = parse_default(trim(spec.substr(eq + 1)));
      spec = trim(spec.substr(0, eq));
    }
    std::vector<std::string> names = split_names(spec);
    if (method && names[0] == "out") continue; // methods never write into `out=`
    p.name = names[0];
    p.aliases.assign(names.begin() + 1, names.end());
    if (torch_binding)
      for (const std::string &alias : numpy_aliases(p.name))
        p.aliases.push_back(alias);
    p.keyword_only = keyword_only;
    if (p.packs) keyword_only = true;
    sig.params_.push_back(std::move(p));
  }
  return sig;
}

std::string Signature::describe() const {
  std::string out = "(";
  bool first = true, star = false;
  for (size_t i = method_ ? 1 : 0; i < params_.size(); ++i) {
    const Parameter &p = params_[i];
    std::string item;
    if (p.keyword_only && !star) {
      star = true;
      bool after_pack = i > 0 && params_[i - 1].packs;
      if (!after_pack) item = "*, ";
    }
    item += (p.packs ? "*" : "") + p.name;
    out += (first ? "" : ", ") + item;
    first = false;
    if (p.positional_only && (i + 1 == params_.size() || !params_[i + 1].positional_only))
      out += ", /";
  }
  return out + ")";
}

int Signature::find_keyword(const std::string &keyword) const {
  for (size_t i = 0; i < params_.size(); ++i) {
    if (params_[i].name == keyword) return static_cast<int>(i);
    for (const std::string &alias : params_[i].aliases)
      if (alias == keyword) return static_cast<int>(i);
  }
  return -1;
}

std::vector<ArgumentSource> match_arguments(const Signature &sig, size_t positional,
                                            const std::vector<std::string> &keywords,
                                            const SourceSpan &span) {
  using From = ArgumentSource::From;
  const std::vector<Parameter> &params = sig.params();
  std::string call = sig.name() + "()";
  std::string listed = "; its parameters are " + sig.describe();
  auto fail = [&](const std::string &message) {
    throw UserError("TorchOpTracingError", call + " " + message + listed, span);
  };
  std::vector<ArgumentSource> sources(params.size());
  size_t receiver = sig.is_method() ? 1 : 0;
  check_internal(positional >= receiver, sig.name() + " was called without its receiver");
  size_t accepted = 0; // positional parameters
  while (accepted < params.size() && !params[accepted].keyword_only) {
    if (params[accepted++].packs) break;
  }
  for (size_t i = 0; i < positional; ++i) {
    if (i < accepted && params[i].packs) {
      size_t count = positional - i;
      sources[i] = count == 1 ? ArgumentSource{From::Positional, i, 0}
                              : ArgumentSource{From::Packed, i, count};
      break;
    }
    if (i >= accepted)
      fail("takes at most " + std::to_string(accepted - receiver) +
           " positional arguments but " + std::to_string(positional - receiver) + " were given");
    sources[i] = {From::Positional, i, 0};
  }
  for (size_t k = 0; k < keywords.size(); ++k) {
    int found = sig.find_keyword(keywords[k]);
    bool hidden = found >= 0 && (params[found].positional_only || (found == 0 && receiver));
    if (found < 0 || hidden) fail("got an unexpected keyword argument '" + keywords[k] + "'");
    if (sources[found].from != From::Default)
      fail("got multiple values for argument '" + params[found].name + "'");
    sources[found] = {From::Keyword, k, 0};
  }
  for (size_t i = 0; i < params.size(); ++i)
    if (sources[i].from == From::Default && !params[i].default_value)
      fail("missing required argument '" + params[i].name + "'");
  return sources;
}

void check_supported(const Signature &sig, const Parameter &param, const HostValuePtr &value,
                     const SourceSpan &span) {
  if (value && param.default_value && same_constant(*value, *param.default_value)) return;
  if (value && value->kind == HostValue::Kind::None) return;
  throw UserError("UnsupportedOp",
                  sig.name() + "() does not support the argument '" + param.name +
                      "' in a kernel; leave it out",
                  span);
}

} // namespace helion
