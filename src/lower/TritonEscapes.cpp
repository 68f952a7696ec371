// Triton code of the user's own in device code: hl.triton_kernel calls a
// @triton.jit function, hl.inline_triton pastes statements. What crosses the
// boundary is typed by `output_like`, which is trusted: the Triton code's
// actual shapes and dtypes are not checked.

#include "lower/OpHelpers.h"
#include "parse/Parser.h"
#include "parse/Unparse.h"
#include "support/Diagnostics.h"
#include "support/Text.h"

#include <algorithm>
#include <set>

namespace helion::lower {

namespace {

/// The types `output_like` declares: none for None, one per device tensor.
std::vector<ir::TensorType> declared_results(LoweringContext &cx, const CallArgs &args) {
  const Operand &like = args["output_like"];
  if (is_none(like)) return {};
  std::vector<Operand> items = like.kind == Operand::Kind::Tuple ? like.elements
                                                                 : std::vector<Operand>{like};
  std::vector<ir::TensorType> types;
  for (const Operand &item : items) {
    if (item.kind != Operand::Kind::Tensor)
      throw UserError("InvalidAPIUsage",
                      args.fn + "'s output_like must be None, a device tensor or a tuple of "
                                "them (e.g. torch.empty_like(x_tile)), giving the result's shape "
                                "and dtype",
                      args.span);
    types.push_back(cx.type_of(item.node));
  }
  return types;
}

/// An argument as the Triton code receives it: a device value, a scalar, or
/// a host tensor's address (for a function that loads or stores itself).
int triton_argument(LoweringContext &cx, const Operand &item, const CallArgs &args) {
  if (item.is_host(HostValue::Kind::Tensor))
    return cx.build().tensor_pointer(tensor_param(cx, item, args.span), args.span);
  if (item.kind == Operand::Kind::Tensor || LoweringContext::is_scalar_operand(item))
    return cx.to_node(item, args.span);
  throw UserError("InvalidAPIUsage",
                  args.fn + "'s args must be device values, scalars or host tensors; one is " +
                      (item.kind == Operand::Kind::Host && item.host ? item.host->describe()
                                                                     : std::string("not")),
                  args.span);
}

/// `args` as a sequence (keys empty) or a mapping (a key per value).
struct TritonArgs {
  std::vector<int> values;
  std::vector<std::string> keys;
};

TritonArgs triton_arguments(LoweringContext &cx, const CallArgs &args) {
  const Operand &given = args["args"];
  TritonArgs out;
  if (given.kind == Operand::Kind::Dict) {
    out.keys = given.keys;
  } else if (given.kind != Operand::Kind::Tuple) {
    throw UserError("InvalidAPIUsage",
                    args.fn + "'s args must be a tuple or list, or a dict of named arguments",
                    args.span);
  }
  for (const Operand &item : given.elements)
    out.values.push_back(triton_argument(cx, item, args));
  return out;
}

/// `text` without the indentation all its lines share (Python's
/// textwrap.dedent; blank lines do not count).
std::string dedent(const std::string &text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  size_t common = std::string::npos;
  for (const std::string &line : lines) {
    size_t first = line.find_first_not_of(" \t");
    if (first != std::string::npos) common = std::min(common, first);
  }
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    bool blank = lines[i].find_first_not_of(" \t\r") == std::string::npos;
    out += blank ? "" : lines[i].substr(common);
    if (i + 1 < lines.size()) out += "\n";
  }
  return out;
}

/// `snippet` with each `{0}`, `{}` or `{name}` field replaced by the
/// placeholder of that argument (str.format's rules for them; `{{` and `}}`
/// stand for braces).
std::string substitute_fields(const std::string &snippet, const TritonArgs &given,
                              const std::vector<std::string> &placeholders,
                              const CallArgs &args) {
  std::string out;
  size_t next_auto = 0;
  for (size_t i = 0; i < snippet.size(); ++i) {
    char c = snippet[i];
    if ((c == '{' || c == '}') && i + 1 < snippet.size() && snippet[i + 1] == c) {
      out += c;
      ++i;
      continue;
    }
    if (c == '}')
      throw UserError("InvalidAPIUsage",
                      "hl.inline_triton's source has a single '}'; write '}}' for a brace",
                      args.span);
    if (c != '{') {
      out += c;
      continue;
    }
    size_t close = snippet.find('}', i);
    if (close == std::string::npos)
      throw UserError("InvalidAPIUsage",
                      "hl.inline_triton's source has a '{' without its '}'; write '{{' for a brace",
                      args.span);
    std::string field = snippet.substr(i + 1, close - i - 1);
    size_t index = 0;
    if (field.empty()) {
      index = next_auto++;
    } else if (field.find_first_not_of("0123456789") == std::string::npos && field.size() < 9) {
      index = std::stoul(field);
    } else if (words_in(field) == std::set<std::string>{field}) {
      auto it = std::find(given.keys.begin(), given.keys.end(), field);
      if (it == given.keys.end())
        throw UserError("InvalidAPIUsage",
                        "hl.inline_triton's source reads {" + field +
                            "}, which args does not give; pass args as a dict with the key '" +
                            field + "'",
                        args.span);
      index = static_cast<size_t>(it - given.keys.begin());
    } else {
      throw UserError("InvalidAPIUsage",
                      "hl.inline_triton's source has the field {" + field +
                          "}; only {0}, {} and {name} are supported",
                      args.span);
    }
    if (field.empty() || isdigit(static_cast<unsigned char>(field[0]))) {
      if (!given.keys.empty())
        throw UserError("InvalidAPIUsage",
                        "hl.inline_triton's source reads {" + field +
                            "} by position, but args is a dict; name the argument ({key})",
                        args.span);
      if (index >= given.values.size())
        throw UserError("InvalidAPIUsage",
                        "hl.inline_triton's source reads argument {" + std::to_string(index) +
                            "}, but args has " + std::to_string(given.values.size()),
                        args.span);
    }
    out += placeholders.at(index);
    i = close;
  }
  return out;
}

/// The values a Triton call returns as one operand: None, a tensor or a tuple.
Operand values_operand(const std::vector<int> &values) {
  if (values.empty()) return Operand::of_host(HostValue::make(HostValue::Kind::None));
  if (values.size() == 1) return Operand::tensor(values[0]);
  Operand tuple;
  tuple.kind = Operand::Kind::Tuple;
  for (int v : values)
    tuple.elements.push_back(Operand::tensor(v));
  return tuple;
}

/// Module names a @triton.jit function may read from its globals: those the
/// generated module binds to the same module under the same name.
void check_function_reads(const GlobalSpec &fn, const CallArgs &args) {
  if (!fn.reads.is_object()) return;
  for (const auto &[name, described] : fn.reads.items()) {
    std::string kind = described.value("kind", std::string());
    std::string module = described.value("name", std::string());
    if (kind == "triton_function")
      throw UserError("UnsupportedOp",
                      "the @triton.jit function '" + fn.name + "' calls the @triton.jit function '" +
                          name + "'; hl.triton_kernel defines only the function it is given, so "
                                 "write the callee's code into it",
                      args.span);
    bool bound = kind == "module" && ((name == "tl" && module == "triton.language") ||
                                      (name == "triton" && module == "triton") ||
                                      (name == "libdevice" &&
                                       module.rfind("triton.language.extra", 0) == 0));
    if (!bound)
      throw UserError("UnsupportedOp",
                      "the @triton.jit function '" + fn.name + "' reads the global '" + name +
                          "'; a function given to hl.triton_kernel may read only the modules "
                          "triton, triton.language as tl and libdevice: pass other values as "
                          "arguments",
                      args.span);
  }
}

/// The one @triton.jit function `source` defines, from its `def` line on.
ir::TritonFunction jit_function(const std::string &source, const CallArgs &args) {
  ast::Module parsed;
  try {
    parsed = parse_module(dedent(source));
  } catch (const UserError &e) {
    throw UserError("UnsupportedSyntax",
                    "hl.triton_kernel's source is not valid Python: " + std::string(e.what()),
                    args.span);
  }
  const ast::Stmt *def = parsed.body.size() == 1 ? parsed.body[0].get() : nullptr;
  bool jitted = def && def->kind == ast::StmtKind::FunctionDef && def->decorators.size() == 1 &&
                (unparse(*def->decorators[0]) == "triton.jit" ||
                 unparse(*def->decorators[0]) == "jit");
  if (!jitted)
    throw UserError("InvalidAPIUsage",
                    "hl.triton_kernel's source must define exactly one function, decorated "
                    "with @triton.jit and nothing else",
                    args.span);
  std::string text = dedent(source);
  size_t start = 0;
  for (int line = 1; line < def->span.line; ++line)
    start = text.find('\n', start) + 1;
  return {def->name, text.substr(start)};
}

/// hl.triton_kernel(source_or_fn, args, output_like): the function is
/// defined once in the module and called with the arguments.
Operand lower_triton_kernel(LoweringContext &cx, const CallArgs &args) {
  const Operand &given = args["source_or_fn"];
  ir::TritonFunction fn;
  const std::string prefix = "triton_function.";
  if (given.is_host(HostValue::Kind::String)) {
    fn = jit_function(given.host->text, args);
  } else if (given.is_host(HostValue::Kind::Function) &&
             given.host->text.rfind(prefix, 0) == 0) {
    const GlobalSpec *spec = cx.inputs().global(given.host->text.substr(prefix.size()));
    check_internal(spec != nullptr, "a triton function without its global");
    if (!spec->source)
      throw UserError("InvalidAPIUsage",
                      "the source of the @triton.jit function '" + spec->name +
                          "' cannot be read; define it in a file, or pass its source as a string",
                      args.span);
    check_function_reads(*spec, args);
    fn = jit_function(*spec->source, args);
  } else {
    throw UserError("InvalidAPIUsage",
                    "hl.triton_kernel's source_or_fn must be a @triton.jit function (a global "
                    "of the kernel's module) or the source of one as a string",
                    args.span);
  }
  std::vector<ir::TritonFunction> &known = cx.kernel().triton_functions;
  int callee = -1;
  for (size_t i = 0; i < known.size(); ++i)
    if (known[i].name == fn.name && known[i].source == fn.source) callee = static_cast<int>(i);
  if (callee < 0) {
    known.push_back(fn);
    callee = static_cast<int>(known.size()) - 1;
  }
  TritonArgs call_args = triton_arguments(cx, args);
  std::vector<ir::TensorType> results = declared_results(cx, args);
  return values_operand(cx.build().triton_call(callee, call_args.values, call_args.keys, results,
                                               args.span));
}

/// hl.inline_triton(triton_source, args, output_like): the snippet's words
/// are reserved in the device function (Names), so it neither reads nor
/// overwrites a generated variable; its last statement gives the result.
Operand lower_inline_triton(LoweringContext &cx, const CallArgs &args) {
  const Operand &source = args["triton_source"];
  if (!source.is_host(HostValue::Kind::String))
    throw UserError("InvalidAPIUsage", "hl.inline_triton's triton_source must be a string known when "
                                 "compiling",
                    args.span);
  std::string snippet = dedent(source.host->text);
  TritonArgs given = triton_arguments(cx, args);
  std::vector<ir::TensorType> results = declared_results(cx, args);
  std::set<std::string> words = words_in(snippet);
  std::vector<std::string> placeholders;
  for (size_t i = 0; i < given.values.size(); ++i) {
    std::string p = "_helion_arg_" + std::to_string(i);
    while (words.count(p))
      p += "_";
    placeholders.push_back(p);
  }
  std::string text = substitute_fields(snippet, given, placeholders, args);
  ast::Module parsed;
  try {
    parsed = parse_module(text);
  } catch (const UserError &e) {
    throw UserError("UnsupportedSyntax",
                    "hl.inline_triton's source is not valid Python statements: " +
                        std::string(e.what()),
                    args.span);
  }
  if (parsed.body.empty())
    throw UserError("UnsupportedSyntax", "hl.inline_triton's source has no statement", args.span);
  if (!results.empty() && parsed.body.back()->kind != ast::StmtKind::Expr)
    throw UserError("UnsupportedSyntax",
                    "hl.inline_triton's last statement must be an expression: it gives the "
                    "result that output_like describes (or pass output_like=None)",
                    args.span);
  std::string statements;
  for (const auto &stmt : parsed.body)
    statements += unparse(*stmt);
  std::vector<int> values = cx.build().inline_triton(statements, placeholders, given.values,
                                                     results, args.span);
  return values_operand(values);
}

} // namespace

void register_triton_escapes(LoweringRegistry &r) {
  r.add("hl.triton_kernel", "(source_or_fn, args, output_like)", lower_triton_kernel);
  r.add("hl.inline_triton", "(triton_source, args, output_like)", lower_inline_triton);
}

} // namespace helion::lower
