#include "config/Fragment.h"

#include "support/Diagnostics.h"
#include "support/Text.h"

#include <algorithm>

namespace helion {

/// Integer bounds stay this small so that a search holds any value of the
/// range, and the difference of two, in one int gene.
static constexpr int64_t kMaxIntegerBound = (int64_t(1) << 30) - 1;

static const char *class_name(Fragment::Kind kind) {
  switch (kind) {
  case Fragment::Kind::PowerOfTwo:
    return "PowerOfTwoFragment";
  case Fragment::Kind::Integer:
    return "IntegerFragment";
  case Fragment::Kind::Enum:
    return "EnumFragment";
  case Fragment::Kind::Boolean:
    return "BooleanFragment";
  case Fragment::Kind::ListOf:
    return "ListOf";
  }
  return "";
}

const std::vector<std::pair<std::string, std::string>> &fragment_signatures() {
  static const std::vector<std::pair<std::string, std::string>> signatures = {
      {"PowerOfTwoFragment", "(low, high, default_val=None)"},
      {"IntegerFragment", "(low, high, default_val=None)"},
      {"EnumFragment", "(choices, search_choices=None)"},
      {"BooleanFragment", "()"},
      {"ListOf", "(inner, length)"},
  };
  return signatures;
}

static bool is_power_of_two(int64_t value) {
  return value > 0 && (value & (value - 1)) == 0;
}

/// A value written as Python writes it, for messages and repr().
static std::string python_text(const Json &value) {
  switch (value.type()) {
  case Json::value_t::null:
    return "None";
  case Json::value_t::boolean:
    return value.get<bool>() ? "True" : "False";
  case Json::value_t::number_float:
    return shortest_double(json_number(value));
  case Json::value_t::array: {
    std::string out = "(";
    for (size_t i = 0; i < value.size(); ++i)
      out += (i ? ", " : "") + python_text(value[i]);
    return out + (value.size() == 1 ? ",)" : ")");
  }
  default:
    return dump_text(value);
  }
}

/// Python's `==` between two enum choices: numbers by value (bools only
/// with bools, so that True does not stand for 1 in a config).
static bool same_choice(const Json &a, const Json &b) {
  bool a_number = a.is_number(), b_number = b.is_number();
  if (a_number && b_number) return json_number(a) == json_number(b);
  return json_same(a, b);
}

static bool contains_choice(const Json::array_t &choices, const Json &value) {
  return std::any_of(choices.begin(), choices.end(),
                     [&](const Json &choice) { return same_choice(choice, value); });
}

Json Fragment::default_value() const {
  switch (kind) {
  case Kind::PowerOfTwo:
  case Kind::Integer:
    if (default_val.is_null()) return Json(low);
    return Json(std::clamp(json_int(default_val), low, high));
  case Kind::Enum:
    return choices.front();
  case Kind::Boolean:
    return Json(false);
  case Kind::ListOf: {
    Json::array_t values(static_cast<size_t>(length), inner->default_value());
    return Json(std::move(values));
  }
  }
  return Json();
}

bool Fragment::accepts(const Json &value) const {
  switch (kind) {
  case Kind::PowerOfTwo:
    return value.is_number_integer() && json_int(value) >= low && json_int(value) <= high &&
           is_power_of_two(json_int(value));
  case Kind::Integer:
    return value.is_number_integer() && json_int(value) >= low && json_int(value) <= high;
  case Kind::Enum:
    return contains_choice(choices, value);
  case Kind::Boolean:
    return value.is_boolean();
  case Kind::ListOf:
    if (!value.is_array() || value.size() != static_cast<size_t>(length)) return false;
    return std::all_of(value.get_ref<const Json::array_t &>().begin(),
                       value.get_ref<const Json::array_t &>().end(),
                       [&](const Json &item) { return inner->accepts(item); });
  }
  return false;
}

std::string Fragment::allowed_text() const {
  switch (kind) {
  case Kind::PowerOfTwo:
    return low == high ? "use " + std::to_string(low)
                       : "use a power of two between " + std::to_string(low) + " and " +
                             std::to_string(high);
  case Kind::Integer:
    return "use an int between " + std::to_string(low) + " and " + std::to_string(high);
  case Kind::Enum: {
    std::string out = "use one of ";
    for (size_t i = 0; i < choices.size(); ++i)
      out += (i ? ", " : "") + dump_text(choices[i]);
    return out;
  }
  case Kind::Boolean:
    return "use true or false";
  case Kind::ListOf:
    return "use a list of " + std::to_string(length) + " values; for each, " +
           inner->allowed_text();
  }
  return "";
}

std::string Fragment::repr() const {
  std::string name = class_name(kind);
  switch (kind) {
  case Kind::PowerOfTwo:
  case Kind::Integer:
    return name + "(" + std::to_string(low) + ", " + std::to_string(high) + ", " +
           python_text(default_val) + ")";
  case Kind::Enum:
    return name + "(" + python_text(Json(choices)) + ", " +
           (search_choices.empty() ? "None" : python_text(Json(search_choices))) + ")";
  case Kind::Boolean:
    return name + "()";
  case Kind::ListOf:
    return name + "(" + inner->repr() + ", " + std::to_string(length) + ")";
  }
  return name;
}

Json Fragment::describe() const {
  Json out = Json::object();
  out["class"] = Json(class_name(kind));
  switch (kind) {
  case Kind::PowerOfTwo:
  case Kind::Integer:
    out["low"] = Json(low);
    out["high"] = Json(high);
    out["default_val"] = default_val;
    break;
  case Kind::Enum:
    out["choices"] = Json(choices);
    out["search_choices"] = search_choices.empty() ? Json() : Json(search_choices);
    break;
  case Kind::Boolean:
    break;
  case Kind::ListOf:
    out["inner"] = inner->describe();
    out["length"] = Json(length);
    break;
  }
  out["default"] = default_value();
  return out;
}

Json::array_t Fragment::categories() const {
  if (kind == Kind::Boolean) return {Json(false), Json(true)};
  if (kind == Kind::Enum) return search_choices.empty() ? choices : search_choices;
  return {};
}

Fragment::ValueType Fragment::value_type() const {
  switch (kind) {
  case Kind::PowerOfTwo:
  case Kind::Integer:
    return ValueType::Int;
  case Kind::Boolean:
    return ValueType::Bool;
  case Kind::ListOf:
    return ValueType::Other;
  case Kind::Enum:
    break;
  }
  auto all = [&](auto predicate) { return std::all_of(choices.begin(), choices.end(), predicate); };
  if (all([](const Json &c) { return c.is_boolean(); })) return ValueType::Bool;
  if (all([](const Json &c) { return c.is_number_integer(); })) return ValueType::Int;
  if (all([](const Json &c) { return c.is_number(); })) return ValueType::Float;
  return ValueType::Other;
}

namespace {

[[noreturn]] void bad(const std::string &cls, const std::string &message) {
  throw UserError("RegisterTunableArgTypes", cls + ": " + message);
}

int64_t bound(const std::string &cls, const Json &args, const char *name) {
  const Json &value = json_field(args, name);
  if (!value.is_number_integer())
    bad(cls, std::string(name) + " must be an int known when the kernel compiles, got " +
                 python_text(value));
  if (json_int(value) < -kMaxIntegerBound || json_int(value) > kMaxIntegerBound)
    bad(cls, std::string(name) + "=" + dump_text(value) + " is out of range; use an int within ±" +
                 std::to_string(kMaxIntegerBound));
  return json_int(value);
}

/// A list of int, float, bool or string choices.
Json::array_t choice_list(const std::string &cls, const Json &value, const char *name) {
  if (!value.is_array() || value.size() == 0)
    bad(cls, std::string(name) + " must be a non-empty tuple of constants, got " +
                 python_text(value));
  for (const Json &choice : value.get_ref<const Json::array_t &>())
    if (choice.is_array() || choice.is_object() || choice.is_null())
      bad(cls, std::string(name) + " may hold ints, floats, bools and strings, got " +
                   python_text(choice));
  return value.get_ref<const Json::array_t &>();
}

} // namespace

Fragment make_fragment(const std::string &cls, const Json &args) {
  Fragment f;
  if (cls == "PowerOfTwoFragment" || cls == "IntegerFragment") {
    f.kind = cls == "IntegerFragment" ? Fragment::Kind::Integer : Fragment::Kind::PowerOfTwo;
    f.low = bound(cls, args, "low");
    f.high = bound(cls, args, "high");
    if (f.low > f.high)
      bad(cls, "low=" + std::to_string(f.low) + " is above high=" + std::to_string(f.high));
    f.default_val = json_field(args, "default_val");
    if (!f.default_val.is_null()) bound(cls, args, "default_val");
    if (f.kind == Fragment::Kind::PowerOfTwo) {
      if (!is_power_of_two(f.low) || !is_power_of_two(f.high))
        bad(cls, "low=" + std::to_string(f.low) + " and high=" + std::to_string(f.high) +
                     " must be powers of two");
      if (!f.default_val.is_null() && !is_power_of_two(json_int(f.default_value())))
        bad(cls, "default_val=" + dump_text(f.default_val) + " is not a power of two");
    }
    return f;
  }
  if (cls == "EnumFragment") {
    f.kind = Fragment::Kind::Enum;
    f.choices = choice_list(cls, json_field(args, "choices"), "choices");
    if (!json_field(args, "search_choices").is_null()) {
      f.search_choices = choice_list(cls, json_field(args, "search_choices"), "search_choices");
      for (const Json &choice : f.search_choices)
        if (!contains_choice(f.choices, choice))
          bad(cls, "search_choices " + python_text(Json(f.search_choices)) +
                       " must be a non-empty subset of choices " + python_text(Json(f.choices)));
    }
    return f;
  }
  if (cls == "BooleanFragment") return f;
  if (cls == "ListOf") {
    f.kind = Fragment::Kind::ListOf;
    if (!json_field(args, "inner").is_object() ||
        !json_field(json_field(args, "inner"), "class").is_string())
      bad(cls, "inner must be a fragment, got " + python_text(json_field(args, "inner")));
    f.inner = std::make_shared<Fragment>(fragment_from_description(json_field(args, "inner")));
    if (!json_field(args, "length").is_number_integer() ||
        json_int(json_field(args, "length")) < 1 || json_int(json_field(args, "length")) > 1024)
      bad(cls, "length must be an int between 1 and 1024, got " +
                   python_text(json_field(args, "length")));
    f.length = json_int(json_field(args, "length"));
    return f;
  }
  bad(cls, "not a fragment class; use PowerOfTwoFragment, IntegerFragment, EnumFragment, "
           "BooleanFragment or ListOf");
}

std::string tunable_symbol(size_t index) {
  return kTunableSymbolPrefix + std::to_string(index);
}

Fragment fragment_from_description(const Json &description) {
  if (!description.is_object() || !json_field(description, "class").is_string())
    throw UserError("RegisterTunableArgTypes",
                    "a fragment description is an object with its \"class\", got " +
                        dump_text(description));
  return make_fragment(json_field(description, "class").get_ref<const std::string &>(),
                       description);
}

} // namespace helion
