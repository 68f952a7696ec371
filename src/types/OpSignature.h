#pragma once

// The parameters of the torch and hl functions kernels call, and the one
// binder that matches a call's arguments to them as Python does. Host code
// (HostTypes) and each device op family (src/lower) declare their tables
// with Signature::parse and read arguments only through the bound result.

#include "support/Diagnostics.h"
#include "types/HostValue.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace helion {

struct Parameter {
  std::string name;
  std::vector<std::string> aliases; ///< other keywords torch accepts (`axis` for `dim`)
  bool positional_only = false;     ///< before `/`
  bool keyword_only = false;        ///< after `*` or `*name`
  bool packs = false;               ///< `*size`: extra positional arguments form one tuple
  bool supported = true; ///< false: torch accepts it, the compiler only takes its default
  HostValuePtr default_value; ///< nullptr for a required parameter
};

class Signature {
public:
  Signature() = default;
  /// From Python-like text, e.g. "(input, dim=None, keepdim=False, *, dtype=None, ~out=None)".
  /// `~name` is a parameter torch accepts that the compiler does not support
  /// (only its default may be passed); `*size` takes the remaining positional
  /// arguments as one tuple, or a tuple by position or keyword; `name|alias`
  /// lists other keywords; `/` ends positional-only parameters. Defaults are
  /// None, True, False, numbers, strings, `()` and dtypes (`torch.float32`).
  /// torch.* and Tensor.* functions also take torch's numpy spellings (`axis`,
  /// `keepdims`, `x`/`a`/`x1` for input, `x2` for other). A method's first
  /// parameter is its receiver and is never passed explicitly.
  static Signature parse(std::string name, const std::string &text, bool method = false);

  /// As users spell the function: "torch.sum", "Tensor.sum", "hl.zeros".
  const std::string &name() const { return name_; }
  const std::vector<Parameter> &params() const { return params_; }
  bool is_method() const { return method_; }
  /// The parameter list as shown in messages: "(input, dim, keepdim, *, dtype)".
  std::string describe() const;
  /// The index of the parameter `keyword` names (its name or an alias); -1 if none.
  int find_keyword(const std::string &keyword) const;

private:
  std::string name_;
  std::vector<Parameter> params_;
  bool method_ = false;
};

/// Where a parameter's value comes from in a call.
struct ArgumentSource {
  enum class From { Default, Positional, Keyword, Packed };
  From from = From::Default;
  size_t index = 0; ///< the position or keyword index; Packed: the first position
  size_t count = 0; ///< Packed: how many positional arguments
};

/// Matches a call's `positional` argument count (a method's receiver first)
/// and `keywords` to `sig` as Python does: TypeError naming the function and
/// the parameter for an unexpected keyword, a duplicate value, too many
/// positional arguments or a missing required one. `value_of(i)` is the host
/// value of argument i (positional first, then keywords), nullptr when it is
/// not a host value: it checks that unsupported parameters keep their default.
template <class ValueOf>
std::vector<ArgumentSource> bind_arguments(const Signature &sig, size_t positional,
                                           const std::vector<std::string> &keywords,
                                           const SourceSpan &span, ValueOf value_of);

/// The core of bind_arguments, without the check of unsupported parameters.
std::vector<ArgumentSource> match_arguments(const Signature &sig, size_t positional,
                                            const std::vector<std::string> &keywords,
                                            const SourceSpan &span);
/// UnsupportedOp for a `~` parameter given `value` other than its default.
void check_supported(const Signature &sig, const Parameter &param, const HostValuePtr &value,
                     const SourceSpan &span);

template <class ValueOf>
std::vector<ArgumentSource> bind_arguments(const Signature &sig, size_t positional,
                                           const std::vector<std::string> &keywords,
                                           const SourceSpan &span, ValueOf value_of) {
  std::vector<ArgumentSource> sources = match_arguments(sig, positional, keywords, span);
  for (size_t i = 0; i < sources.size(); ++i) {
    const ArgumentSource &s = sources[i];
    if (sig.params()[i].supported || s.from == ArgumentSource::From::Default) continue;
    size_t at = s.from == ArgumentSource::From::Keyword ? positional + s.index : s.index;
    check_supported(sig, sig.params()[i], value_of(at), span);
  }
  return sources;
}

/// A call's arguments by parameter name, defaults filled in. `T` is the
/// caller's value type (a host value, a device operand).
template <class T> class BoundArgs {
public:
  BoundArgs() = default;
  /// `make_default` turns a default HostValuePtr into a T; `make_tuple` packs
  /// positional arguments of a `*size` parameter.
  template <class MakeDefault, class MakeTuple>
  BoundArgs(const Signature &sig, const std::vector<T> &positional,
            const std::vector<std::pair<std::string, T>> &keywords, const SourceSpan &span,
            MakeDefault make_default, MakeTuple make_tuple, HostValuePtr (*host_of)(const T &)) {
    std::vector<std::string> names;
    for (const auto &kw : keywords)
      names.push_back(kw.first);
    auto value_of = [&](size_t i) {
      return host_of(i < positional.size() ? positional[i]
                                           : keywords[i - positional.size()].second);
    };
    std::vector<ArgumentSource> sources =
        bind_arguments(sig, positional.size(), names, span, value_of);
    for (size_t i = 0; i < sources.size(); ++i) {
      const Parameter &p = sig.params()[i];
      const ArgumentSource &s = sources[i];
      switch (s.from) {
      case ArgumentSource::From::Default:
        values_.emplace(p.name, make_default(p.default_value));
        break;
      case ArgumentSource::From::Positional:
        values_.emplace(p.name, positional[s.index]);
        given_.push_back(p.name);
        break;
      case ArgumentSource::From::Keyword:
        values_.emplace(p.name, keywords[s.index].second);
        given_.push_back(p.name);
        break;
      case ArgumentSource::From::Packed:
        values_.emplace(p.name,
                        make_tuple(std::vector<T>(positional.begin() + s.index,
                                                  positional.begin() + s.index + s.count)));
        given_.push_back(p.name);
        break;
      }
    }
  }

  /// The value of parameter `name` (given or its default).
  const T &operator[](const std::string &name) const {
    auto it = values_.find(name);
    check_internal(it != values_.end(), "no parameter '" + name + "' in this signature");
    return it->second;
  }
  /// Whether the call passed parameter `name` (by position or keyword).
  bool given(const std::string &name) const {
    for (const std::string &g : given_)
      if (g == name) return true;
    return false;
  }

private:
  std::map<std::string, T> values_;
  std::vector<std::string> given_;
};

} // namespace helion
