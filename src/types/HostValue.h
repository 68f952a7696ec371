#pragma once

// What type propagation knows about a value in host code (and about host
// values that device code refers to).

#include "config/Fragment.h"
#include "types/DType.h"
#include "types/SymInt.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace helion {

/// A tensor that host code holds: a kernel argument or a host allocation.
struct HostTensor {
  DType dtype = DType::Float32;
  std::vector<SymInt> sizes, strides;
  std::string device;        ///< "cuda:0", "cpu", ...
  bool strides_known = true; ///< false when layout follows an input we cannot see
};

struct HostValue;
using HostValuePtr = std::shared_ptr<const HostValue>;

struct HostValue {
  enum class Kind {
    Tensor, ///< `tensor`
    Int,    ///< `sym` (a SymInt)
    Float,  ///< `number` when known at compile time
    Bool,   ///< `truth` when known
    String, ///< `text`
    None,
    DType,    ///< `dtype`
    Device,   ///< `text`: the device string
    Module,   ///< `text`: the module's name ("torch", "helion.language")
    Function, ///< `text`: a qualified name ("torch.empty", "hl.tile", "tensor.size")
    Tuple,    ///< `elements` (tuples, lists and torch.Size)
    Fragment, ///< `fragment`: a tunable's search space (helion.autotuner)
    Unknown,  ///< host code we do not model; fine on host, an error on device
  };
  Kind kind = Kind::Unknown;
  std::shared_ptr<HostTensor> tensor;
  SymInt sym;
  std::shared_ptr<const Fragment> fragment;
  std::optional<double> number;
  std::optional<bool> truth;
  std::string text;
  DType dtype = DType::Float32;
  std::vector<HostValuePtr> elements;
  HostValuePtr self;    ///< Function: the bound receiver of a method ("tensor.size")
  bool is_list = false; ///< Tuple: spelled as a list

  /// An Int; Unknown when `s` is deeper than kMaxSymDepth.
  static HostValuePtr make_int(SymInt s);
  static HostValuePtr make_float(std::optional<double> v);
  static HostValuePtr make_bool(std::optional<bool> v);
  static HostValuePtr make(Kind kind, std::string text = "");
  static HostValuePtr make_tuple(std::vector<HostValuePtr> elements, bool is_list = false);
  static HostValuePtr make_tensor(std::shared_ptr<HostTensor> t);
  static HostValuePtr make_dtype(DType d);
  static HostValuePtr make_fragment(Fragment f);

  /// A short description for error messages: "a tensor", "an int", ...
  std::string describe() const;
};

} // namespace helion
