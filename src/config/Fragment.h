#pragma once

// The search space of one user tunable (`hl.register_tunable(name,
// fragment)`): the fragment classes of `helion.autotuner`, their legal
// values, defaults and how a search draws them. The Python classes only
// carry their constructor arguments here and ask these rules for the rest.

#include "support/Json.h"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace helion {

struct Fragment {
  enum class Kind { PowerOfTwo, Integer, Enum, Boolean, ListOf };
  /// What every value is: a kernel uses ints and bools as compile-time
  /// constants, floats as a scalar argument; other tunables are not supported.
  enum class ValueType { Int, Float, Bool, Other };
  Kind kind = Kind::Boolean;
  int64_t low = 0, high = 0; ///< PowerOfTwo, Integer
  Json default_val;          ///< PowerOfTwo, Integer: the constructor's (null or an int)
  Json::array_t choices;     ///< Enum
  Json::array_t search_choices;          ///< Enum: what the search draws; empty means every choice
  std::shared_ptr<const Fragment> inner; ///< ListOf
  int64_t length = 0;                    ///< ListOf

  /// The value a config without this tunable takes.
  Json default_value() const;
  bool accepts(const Json &value) const;
  /// "a power of two between 1 and 8", "one of 1, 2.5", "true or false".
  std::string allowed_text() const;
  /// The constructor call that builds it: `PowerOfTwoFragment(1, 8, 2)`.
  std::string repr() const;
  /// {"class": ..., the constructor's arguments by name, "default": ...}.
  Json describe() const;
  /// The values a search draws from, in order (Enum and Boolean), or empty
  /// for the integer kinds, which draw from their range.
  Json::array_t categories() const;
  ValueType value_type() const;

  bool operator==(const Fragment &other) const { return json_same(describe(), other.describe()); }
};

/// Each fragment class and its constructor's parameters, as
/// OpSignature reads them: ("PowerOfTwoFragment", "(low, high, default_val=None)").
const std::vector<std::pair<std::string, std::string>> &fragment_signatures();

/// The fragment `cls` builds from its bound constructor arguments
/// (parameter name -> value; an inner fragment of ListOf as its describe()).
/// Throws UserError("RegisterTunableArgTypes") saying what is wrong.
Fragment make_fragment(const std::string &cls, const Json &args);

/// The name of the symbol that stands for the `index`-th registered tunable
/// (an int or a bool) until a config binds it.
std::string tunable_symbol(size_t index);
inline const std::string kTunableSymbolPrefix = "_tunable_";

/// make_fragment from describe()'s output.
Fragment fragment_from_description(const Json &description);

} // namespace helion
