#pragma once

// A small JSON value: the format in which the binding passes requests and
// configs, and in which configs are saved.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace helion {

class Json {
public:
  enum class Type { Null, Bool, Int, Float, String, Array, Object };
  using Array = std::vector<Json>;
  /// Keys keep insertion order so printed configs read like the user wrote them.
  using Object = std::vector<std::pair<std::string, Json>>;

  Json() = default;
  Json(std::nullptr_t) {}
  Json(bool b) : type_(Type::Bool), bool_(b) {}
  Json(int i) : type_(Type::Int), int_(i) {}
  Json(int64_t i) : type_(Type::Int), int_(i) {}
  Json(double d) : type_(Type::Float), float_(d) {}
  Json(const char *s) : type_(Type::String), string_(s) {}
  Json(std::string s) : type_(Type::String), string_(std::move(s)) {}
  Json(Array a) : type_(Type::Array), array_(std::move(a)) {}
  Json(Object o) : type_(Type::Object), object_(std::move(o)) {}

  static Json array() { return Json(Array{}); }
  static Json object() { return Json(Object{}); }

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::Null; }
  bool is_bool() const { return type_ == Type::Bool; }
  bool is_int() const { return type_ == Type::Int; }
  bool is_number() const { return type_ == Type::Int || type_ == Type::Float; }
  bool is_string() const { return type_ == Type::String; }
  bool is_array() const { return type_ == Type::Array; }
  bool is_object() const { return type_ == Type::Object; }

  /// Accessors throw std::runtime_error on a type mismatch.
  bool as_bool() const;
  int64_t as_int() const;
  double as_double() const; ///< Int or Float
  const std::string &as_string() const;
  const Array &as_array() const;
  Array &as_array();
  const Object &as_object() const;

  /// Object lookup: null Json when absent.
  const Json &operator[](const std::string &key) const;
  bool contains(const std::string &key) const;
  /// Object insert or replace (the value must be an object).
  void set(const std::string &key, Json value);
  /// Array append (the value must be an array).
  void push_back(Json value);
  /// Array element (throws when out of range).
  const Json &operator[](size_t index) const;
  size_t size() const; ///< array or object size

  /// Compact JSON text: `{"a": [1, 2]}` with ", " and ": " separators.
  /// Infinite and NaN floats print as Python's json module writes them:
  /// Infinity, -Infinity, NaN.
  std::string dump() const;
  /// RFC 8259 plus Python's NaN, Infinity and -Infinity: throws
  /// std::runtime_error with the offset of the problem on bad input,
  /// including ints outside 64 bits, floats that overflow a double, invalid
  /// UTF-8 and nesting deeper than 512 (so no input can exhaust the stack).
  /// An unpaired surrogate escape is kept, as Python's json module keeps it.
  static Json parse(const std::string &text);

  bool operator==(const Json &other) const;
  bool operator!=(const Json &other) const { return !(*this == other); }

private:
  Type type_ = Type::Null;
  bool bool_ = false;
  int64_t int_ = 0;
  double float_ = 0.0;
  std::string string_;
  Array array_;
  Object object_;
};

} // namespace helion
