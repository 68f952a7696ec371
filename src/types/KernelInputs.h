#pragma once

// What a kernel is compiled for: its arguments' specs, the globals it names,
// and the settings that change code generation. Read from the request JSON.

#include "parse/Ast.h"
#include "support/Diagnostics.h"
#include "support/Json.h"
#include "types/DType.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace helion {

struct CallableSpec;

/// A global the kernel's code (or a callable's) names, as the request
/// describes it.
struct GlobalSpec {
  /// Other: an object the compiler knows only by name, or a description
  /// without what its kind needs (a module without its path).
  /// TritonFunction: a @triton.jit function (hl.triton_kernel's argument).
  enum class Kind { Module, Constant, DType, Function, Fragment, FragmentClass, TritonFunction, Other };
  Kind kind = Kind::Other;
  /// Module: its path; DType: the dtype; FragmentClass: the class;
  /// TritonFunction: the name its `def` gives it
  std::string name;
  Json value;       ///< Constant: the value (null, bool, int, float or str)
  /// Function, TritonFunction: its source, when Python could read it
  std::optional<std::string> source;
  /// TritonFunction: each global its code reads, described as the request's
  /// globals are ({"tl": {"kind": "module", "name": "triton.language"}}).
  Json reads;
  Json fragment; ///< Fragment: its description (make_fragment's, read by fragment_from_description)
};

struct ArgSpec {
  enum class Kind { Tensor, Int, Float, Bool, Constexpr, Callable, Other };
  std::string name;
  Kind kind = Kind::Other;
  DType dtype = DType::Float32;
  std::vector<int64_t> shape, stride;
  std::string device;
  Json value;       ///< Constexpr: the value
  std::string type; ///< the Python type of a non-tensor ("NoneType", "int", "numpy.ndarray")
  std::shared_ptr<const CallableSpec> callable; ///< Callable: the function or lambda
};

/// A value a callable reads from outside: a closure cell or one of its
/// module's globals. Tensors and scalars are read from the callable by the
/// host code at each launch; the rest is known when compiling.
struct Capture {
  std::string name;   ///< as the callable's code reads it
  std::string access; ///< Python reading it from the callable (".__closure__[0].cell_contents")
  /// Tensors and closure scalars: an argument spec (its name is set where it
  /// is bound); kind Other otherwise.
  ArgSpec value;
  /// Modules, constants, dtypes, objects: as the request's globals give them.
  GlobalSpec global;
};

/// A function or lambda passed to the kernel (an epilogue, a score modifier):
/// device code that calls it inlines its source.
struct CallableSpec {
  std::string qualname;      ///< for messages
  std::string function_name; ///< `def`'s name, or "<lambda>"
  bool is_lambda = false;
  std::optional<std::string> source; ///< the `def` or the lambda expression; none if unreadable
  std::vector<Capture> captures;
};

struct CompileSettings {
  bool static_shapes = true;
  std::string index_dtype; ///< "int32", "int64", or empty: the compiler chooses
  std::string dot_precision = "tf32";
  /// Triton's interpreter has no libdevice: math functions are spelled with
  /// core ops there.
  bool interpreter = false;
  /// SMs a persistent kernel leaves to other work (at least one stays its own).
  int64_t persistent_reserved_sms = 0;
};

struct KernelInputs {
  SourceContext context;
  std::vector<ArgSpec> args;
  /// The globals the kernel's code names, in the request's order.
  std::vector<std::pair<std::string, GlobalSpec>> globals;
  CompileSettings settings;
  /// Identifiers the kernel's code binds, as Python spells them (NFKC
  /// normalized); the request's optional "names".
  std::vector<std::string> names;

  static KernelInputs from_request(const Json &request);

  /// The argument named `name`; nullptr when there is none.
  const ArgSpec *arg(const std::string &name) const;
  /// The global named `name`; nullptr when the kernel names none.
  const GlobalSpec *global(const std::string &name) const;
};

/// The request's "globals" (name -> description), read; throws
/// InternalError for a description that is not an object.
std::vector<std::pair<std::string, GlobalSpec>> read_globals(const Json &globals);

/// True for the attributes and methods of tensors that kernels read
/// (shape, size(), dtype, view(), ...).
bool is_tensor_attribute(const std::string &attr);

/// The error for a kernel that uses `arg`, which is not a tensor, as a tensor
/// at `span` (InvalidArgument, naming the argument and its Python type).
UserError non_tensor_argument(const ArgSpec &arg, const SourceSpan &span);

/// The first place in `stmt` that uses argument `arg` as a tensor: indexes it
/// (unless it is a list, tuple, dict or torch.Size), reads one of its tensor
/// attributes, or passes it first to an hl.load like function or a
/// torch.*_like allocation. nullptr when there is none.
const ast::Expr *find_tensor_use(const ast::Stmt &stmt, const ArgSpec &arg);

} // namespace helion
