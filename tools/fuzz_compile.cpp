// fuzz_compile: a deterministic mutation fuzzer for the whole compiler.
//
//   fuzz_compile [--seed N] [--iterations N] [--seconds S] [--fork] [--crash-dir DIR]
//                [--verbose] CORPUS...
//
// CORPUS holds kernel files (.py) or folders of them. Each kernel in them
// (a top-level `def`, with its decorators) becomes a seed compile request;
// tests/golden files bring their own arguments, config and settings from
// their `# golden-...` headers, others get tensors of plausible shapes. Each
// case mutates a seed's source (bytes, lines, tokens, deep nesting, unicode)
// and its request (shapes, dtypes, 0-d tensors, kinds, settings), then runs
// check_kernel_source, CompiledKernel, and generate for the default config and
// a few random or odd configs. A UserError is the expected outcome of a bad
// input; an InternalError (or any other exception) is counted and printed but
// does not fail the run; a crash, a sanitizer report or a case running past
// its time limit does. The seed fixes every case, so a run is repeatable
// (with --seconds, up to where it stops).
//
// With --fork each case runs in a child process: a crash is reported and
// saved to --crash-dir (request.json + config.json, as helionc reads them)
// and the run goes on. Exit status: 0 when no case crashed, 1 otherwise, 2
// for a bad command line or an empty corpus.

#include "config/ConfigSpec.h"
#include "parse/Parser.h"
#include "parse/Unparse.h"
#include "pipeline/Compile.h"
#include "support/Diagnostics.h"
#include "support/Json.h"
#include "support/Text.h"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
// A report ends in abort(), whose handler prints the case that caused it.
extern "C" const char *__asan_default_options() { return "abort_on_error=1"; }
extern "C" const char *__ubsan_default_options() {
  return "abort_on_error=1:print_stacktrace=1";
}
#endif

namespace {

using helion::dump_text;
using helion::Json;
using helion::json_field;
using helion::json_int;
using helion::json_number;
using helion::parse_json_text;

/// A case that runs longer than this is reported as a hang.
constexpr unsigned kCaseSeconds = 60;

struct Options {
  uint64_t seed = 1;
  long iterations = 1000;
  double seconds = 0; ///< 0: no time limit
  bool fork = false;
  bool verbose = false;
  std::string crash_dir;
  std::vector<std::string> corpus;
};

struct Seed {
  std::string origin; ///< file:line, for messages
  Json request;
  Json config; ///< null when the seed brings none
};

struct Case {
  Json request;
  std::vector<std::string> configs; ///< JSON texts: may be malformed on purpose
};

// ---------------------------------------------------------------------------
// The case being run, for the crash report

std::string g_current_case;

void write_all(int fd, const std::string &text) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

void report_current_case() {
  write_all(2, "\n==== fuzz_compile: the case that failed ====\n" + g_current_case +
                   "\n==== end of case ====\n");
}

extern "C" void on_fatal_signal(int signal) {
  const char *what = signal == SIGALRM   ? "\nfuzz_compile: case timed out\n"
                     : signal == SIGABRT ? "\nfuzz_compile: aborted\n"
                                         : "\nfuzz_compile: fatal signal\n";
  write_all(2, what);
  report_current_case();
  std::signal(SIGABRT, SIG_DFL);
  std::signal(signal, SIG_DFL);
  std::raise(signal == SIGALRM ? SIGABRT : signal);
}

void install_crash_reporting() {
  // An uncaught exception, and with the options below a sanitizer report,
  // ends in abort().
  for (int s : {SIGALRM, SIGABRT})
    std::signal(s, on_fatal_signal);
#if !defined(__SANITIZE_ADDRESS__)
  // The sanitizers handle these themselves, on a stack of their own so that
  // a stack overflow is reported too.
  for (int s : {SIGSEGV, SIGBUS, SIGFPE, SIGILL})
    std::signal(s, on_fatal_signal);
#endif
}

// ---------------------------------------------------------------------------
// Corpus

std::string read_file(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool is_directory(const std::string &path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

std::vector<std::string> python_files(const std::string &path) {
  if (!is_directory(path)) return {path};
  std::vector<std::string> files;
  if (DIR *dir = opendir(path.c_str())) {
    while (dirent *entry = readdir(dir)) {
      std::string name = entry->d_name;
      if (name.size() > 3 && name.compare(name.size() - 3, 3, ".py") == 0)
        files.push_back(path + "/" + name);
    }
    closedir(dir);
  }
  std::sort(files.begin(), files.end()); // readdir order is not stable
  return files;
}

Json tensor(const std::string &dtype, const std::vector<int64_t> &shape) {
  Json sizes = Json::array(), strides = Json::array();
  std::vector<int64_t> contiguous(shape.size());
  int64_t running = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    contiguous[i] = running;
    // Sizes past 2**32 make the product wrap, as odd strides should.
    running = static_cast<int64_t>(static_cast<uint64_t>(running) *
                                   static_cast<uint64_t>(std::max<int64_t>(shape[i], 1)));
  }
  for (size_t i = 0; i < shape.size(); ++i) {
    sizes.push_back(shape[i]);
    strides.push_back(contiguous[i]);
  }
  Json arg = Json::object();
  arg["kind"] = "tensor";
  arg["dtype"] = dtype;
  arg["shape"] = sizes;
  arg["stride"] = strides;
  arg["device"] = "cuda:0";
  return arg;
}

Json module_global(const std::string &name) {
  Json g = Json::object();
  g["kind"] = "module";
  g["name"] = name;
  return g;
}

/// What the Python layer describes for the names kernels use from their module.
Json default_globals(const std::string &file_text) {
  Json globals = Json::object();
  globals["torch"] = module_global("torch");
  globals["hl"] = module_global("helion.language");
  globals["helion"] = module_global("helion");
  globals["math"] = module_global("math");
  // Module-level constants (`EPS = 1e-5`).
  for (const std::string &line : helion::split_lines(file_text)) {
    size_t eq = line.find(" = ");
    if (line.empty() || !std::isupper(static_cast<unsigned char>(line[0])) ||
        eq == std::string::npos)
      continue;
    std::string name = line.substr(0, eq);
    std::string value = line.substr(eq + 3);
    if (name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789") != std::string::npos)
      continue;
    char *end = nullptr;
    double number = std::strtod(value.c_str(), &end);
    if (end == value.c_str() || *end != '\0') continue;
    Json constant = Json::object();
    constant["kind"] = "constant";
    if (value.find_first_of(".eE") == std::string::npos)
      constant["value"] = static_cast<int64_t>(number);
    else
      constant["value"] = number;
    globals[name] = constant;
  }
  return globals;
}

/// "float32[128, 64]" or "int" from a `# golden-args:` header.
Json golden_arg(const std::string &name, const std::string &spec) {
  Json arg;
  size_t bracket = spec.find('[');
  if (bracket == std::string::npos) {
    arg = Json::object();
    arg["kind"] = spec;
  } else {
    std::vector<int64_t> shape;
    std::string dims = spec.substr(bracket + 1);
    for (const char *p = dims.c_str(); *p && *p != ']';) {
      if (*p == ',' || *p == ' ') {
        ++p;
        continue;
      }
      char *end = nullptr;
      shape.push_back(std::strtoll(p, &end, 10));
      p = end;
    }
    arg = tensor(spec.substr(0, bracket), shape);
  }
  Json named = Json::object();
  named["name"] = name;
  for (const auto &[key, value] : arg.get_ref<const Json::object_t &>())
    named[key] = value;
  return named;
}

/// Arguments for a kernel without golden headers, from its parameters:
/// same-shaped 2-D tensors (chained shapes for a matmul), scalars by annotation.
Json plausible_args(const helion::ast::Stmt &fn) {
  Json args = Json::array();
  bool matmul = fn.name.find("matmul") != std::string::npos ||
                fn.name.find("mm") != std::string::npos ||
                fn.name.find("attention") != std::string::npos;
  int tensors = 0;
  std::vector<const helion::ast::Arg *> params;
  for (const auto &a : fn.args.posonlyargs)
    params.push_back(&a);
  for (const auto &a : fn.args.args)
    params.push_back(&a);
  for (const helion::ast::Arg *param : params) {
    std::string annotation = param->annotation ? helion::unparse(*param->annotation) : "";
    Json arg;
    if (annotation == "int" || annotation == "float" || annotation == "bool") {
      arg = Json::object();
      arg["kind"] = annotation;
    } else if (annotation.find("constexpr") != std::string::npos) {
      arg = Json::object();
      arg["kind"] = "constexpr";
      arg["value"] = 4;
    } else if (matmul) {
      const std::vector<std::vector<int64_t>> shapes = {{64, 32}, {32, 48}, {48, 16}};
      arg = tensor("float32", shapes[std::min(tensors, 2)]);
      ++tensors;
    } else {
      arg = tensor("float32", tensors++ == 0 || param->name != "weight"
                                  ? std::vector<int64_t>{64, 100}
                                  : std::vector<int64_t>{100});
    }
    Json named = Json::object();
    named["name"] = param->name;
    for (const auto &[key, value] : arg.get_ref<const Json::object_t &>())
      named[key] = value;
    args.push_back(named);
  }
  return args;
}

/// The kernels of one file: each top-level `def` with the decorators above it.
std::vector<Seed> load_seeds(const std::string &path) {
  std::string text = read_file(path);
  if (text.find("import helion") == std::string::npos) return {}; // a tool, not kernels
  std::vector<std::string> lines = helion::split_lines(text);
  std::map<std::string, std::string> header;
  for (const std::string &line : lines) {
    const std::string prefix = "# golden-";
    if (line.compare(0, prefix.size(), prefix) != 0) continue;
    size_t colon = line.find(": ");
    if (colon != std::string::npos)
      header[line.substr(prefix.size(), colon - prefix.size())] = line.substr(colon + 2);
  }
  std::vector<Seed> seeds;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].compare(0, 4, "def ") != 0) continue;
    size_t first = i;
    while (first > 0 && !lines[first - 1].empty() && lines[first - 1][0] == '@')
      --first;
    size_t end = i + 1;
    while (end < lines.size() &&
           (lines[end].empty() || lines[end][0] == ' ' || lines[end][0] == '#'))
      ++end;
    while (end > i + 1 && lines[end - 1].find_first_not_of(' ') == std::string::npos)
      --end;
    std::string source;
    for (size_t l = first; l < end; ++l)
      source += lines[l] + "\n";
    helion::ast::Module module;
    try {
      module = helion::parse_module(source);
    } catch (const helion::UserError &) {
      continue;
    }
    if (module.body.empty() || module.body[0]->kind != helion::ast::StmtKind::FunctionDef)
      continue;
    const helion::ast::Stmt &fn = *module.body[0];
    Seed seed;
    seed.origin = path + ":" + std::to_string(first + 1);
    Json request = Json::object();
    request["kernel_name"] = fn.name;
    request["filename"] = path;
    request["first_line"] = static_cast<int64_t>(first + 1);
    request["source"] = source;
    Json settings = Json::object();
    settings["static_shapes"] = true;
    settings["index_dtype"] = "int32";
    settings["dot_precision"] = "tf32";
    if (header.count("args")) {
      Json args = Json::array();
      Json specs = parse_json_text(header["args"]);
      for (const auto &[name, spec] : specs.get_ref<const Json::object_t &>())
        args.push_back(golden_arg(name, spec.get_ref<const std::string &>()));
      request["args"] = args;
      Json golden_settings = parse_json_text(header.count("settings") ? header["settings"] : "{}");
      for (const auto &[key, value] : golden_settings.get_ref<const Json::object_t &>())
        settings[key] = value;
      if (header.count("config")) seed.config = parse_json_text(header["config"]);
    } else {
      request["args"] = plausible_args(fn);
    }
    request["globals"] = default_globals(text);
    request["settings"] = settings;
    seed.request = request;
    seeds.push_back(seed);
  }
  return seeds;
}

// ---------------------------------------------------------------------------
// Mutations

class Mutator {
public:
  explicit Mutator(uint64_t seed) : rng_(seed) {}

  std::mt19937_64 &rng() { return rng_; }
  size_t below(size_t n) { return n == 0 ? 0 : std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  bool chance(int percent) { return below(100) < static_cast<size_t>(percent); }
  template <typename T> const T &pick(const std::vector<T> &items) { return items[below(items.size())]; }

  std::string mutate_source(std::string source, const std::vector<Seed> &seeds);
  Json mutate_request(Json request);
  std::vector<std::string> configs(const helion::ConfigSpec &spec, const Json &seed_config);

private:
  std::string deep_nesting();
  Json mutate_arg(Json arg);
  Json odd_value(const Json &value);

  std::mt19937_64 rng_;
};

const std::vector<std::string> kTokens = {
    "(", ")", "[", "]", "{", "}", ":", ",", ".", "..", "...", "=", "==", "+", "-", "*", "**", "/",
    "//", "%", "@", "<<", ">>", "&", "|", "^", "~", "<", ">", "<=", ">=", "!=", "->", ":=", ";",
    "\\", "#", "'", "\"", "'''", "f'{x}'", "b'a'", "r'\\d'", "\\n", "\t", " ", "\n", "\n    ",
    "\r", "\r\n", "\f", "0", "1", "-1", "0x10", "1e309", "1_000", "0.5", "1j", "99999999999999999999",
    "None", "True", "False", "and", "or", "not", "in", "is", "if", "else", "elif", "for", "while",
    "break", "continue", "return", "pass", "def", "lambda", "assert", "del", "yield", "global",
    "x", "y", "out", "tile", "tile_m", "_", "__class__", "hl", "torch", "hl.tile", "hl.grid",
    "hl.zeros", "hl.full", "hl.specialize", "hl.register_block_size", "torch.float16",
    "torch.float32", "torch.int32", "torch.bool", "torch.empty", "torch.zeros", "torch.sum",
    "torch.amax", "torch.exp", "torch.matmul", "torch.addmm", "torch.where", "torch.rsqrt",
    ".size()", ".shape", ".T", ".to(torch.float16)", ".view(-1)", ".mean(dim=1)", "[:, None]",
    "[None, :]", "[0]", "[:]", "[...]", "[::2]", "(dim=1)", "(dim=-1, keepdim=True)",
    "dtype=torch.float32", "device=x.device", "*args", "**kw", "x.size(0)", "x[tile]",
    "\xce\xb1", "\xe2\x80\x8b", "\xef\xbb\xbf", "\xf0\x9f\x98\x80", "\xe2\x88\x92", "\xc2\xa0",
    "\xff", "\xc3", "\xed\xa0\x80", "\x00", "\x7f",
};

std::string Mutator::deep_nesting() {
  size_t depth = pick(std::vector<size_t>{10, 99, 100, 199, 200, 201, 998, 999, 1000, 1001, 3000});
  auto repeat = [](const std::string &text, size_t n) {
    std::string out;
    for (size_t i = 0; i < n; ++i)
      out += text;
    return out;
  };
  switch (below(9)) {
  case 0:
    return repeat("(", depth) + "x" + repeat(")", depth);
  case 1:
    return repeat("-", depth) + "x";
  case 2:
    return "x" + repeat(" + 1", depth);
  case 3:
    return "x" + repeat(".T", depth);
  case 4:
    return repeat("[", depth) + repeat("]", depth);
  case 5:
    return repeat("not ", depth) + "x";
  case 6:
    return "2" + repeat(" ** 2", depth);
  case 7:
    return repeat("x if x else ", depth) + "x";
  default:
    return "x" + repeat("[0]", depth);
  }
}

std::string Mutator::mutate_source(std::string source, const std::vector<Seed> &seeds) {
  // Mostly one edit, so that most cases still get past the parser.
  size_t rounds = chance(30) ? 2 + below(3) : 1;
  for (size_t round = 0; round < rounds; ++round) {
    size_t at = below(source.size() + 1);
    std::vector<std::string> lines = helion::split_lines(source);
    switch (below(13)) {
    case 0: // flip a byte
      if (!source.empty()) source[below(source.size())] ^= static_cast<char>(1 << below(8));
      break;
    case 1: // delete a range
      if (!source.empty()) source.erase(at, 1 + below(std::min<size_t>(source.size(), 40)));
      break;
    case 2: { // duplicate a range
      if (source.empty()) break;
      size_t from = below(source.size());
      source.insert(at, source.substr(from, 1 + below(60)));
      break;
    }
    case 3: // insert a token
    case 4:
      source.insert(at, pick(kTokens));
      break;
    case 5: { // a line from another kernel
      const std::string &other =
          json_field(pick(seeds).request, "source").get_ref<const std::string &>();
      std::vector<std::string> other_lines = helion::split_lines(other);
      if (other_lines.empty() || lines.empty()) break;
      lines.insert(lines.begin() + below(lines.size() + 1), pick(other_lines));
      source.clear();
      for (const std::string &line : lines)
        source += line + "\n";
      break;
    }
    case 6: { // swap or drop lines
      if (lines.size() < 2) break;
      size_t a = below(lines.size()), b = below(lines.size());
      if (chance(50))
        std::swap(lines[a], lines[b]);
      else
        lines.erase(lines.begin() + a);
      source.clear();
      for (const std::string &line : lines)
        source += line + "\n";
      break;
    }
    case 7: { // change a line's indentation
      if (lines.empty()) break;
      std::string &line = lines[below(lines.size())];
      if (chance(50))
        line.insert(0, std::string(1 + below(8), chance(80) ? ' ' : '\t'));
      else
        line.erase(0, std::min(line.find_first_not_of(' '), 1 + below(8)));
      source.clear();
      for (const std::string &l : lines)
        source += l + "\n";
      break;
    }
    case 8: { // deep nesting where an expression stands
      size_t eq = source.find("= ", below(source.size() + 1));
      if (eq == std::string::npos) eq = source.find("= ");
      if (eq == std::string::npos) break;
      size_t end = source.find('\n', eq);
      std::string nested = deep_nesting();
      if (chance(50) || end == std::string::npos)
        source.insert(eq + 2, nested + (chance(50) ? " + " : " * "));
      else
        source.replace(eq + 2, end - eq - 2, nested);
      break;
    }
    case 9: { // deeply nested blocks
      size_t levels = pick(std::vector<size_t>{5, 98, 99, 100, 500});
      std::string block;
      for (size_t i = 1; i <= levels; ++i)
        block += std::string(i, ' ') + "if x.ndim == 2:\n";
      block += std::string(levels + 1, ' ') + "y = 1\n";
      size_t line_end = source.find('\n');
      if (line_end != std::string::npos) source.insert(line_end + 1, block);
      break;
    }
    case 10: { // rename an identifier everywhere
      static const std::vector<std::string> names = {"x", "y", "out", "tile", "n", "m", "acc"};
      const std::string &from = pick(names);
      std::string to = pick(std::vector<std::string>{"hl", "torch", "tl", "triton", "_helion_k",
                                                     "pid", "offsets", "mask", "x", "\xce\xb1",
                                                     "tile_0", "_BLOCK_SIZE_0", "indices_0"});
      for (size_t p = source.find(from); p != std::string::npos; p = source.find(from, p + to.size()))
        source.replace(p, from.size(), to);
      break;
    }
    case 11: { // one statement many times (`n = n * 2 + 1` builds deep sizes)
      if (lines.size() < 3) break;
      size_t line = 1 + below(lines.size() - 1);
      size_t times = pick(std::vector<size_t>{50, 200, 3000});
      std::string text = lines[line] + "\n";
      if (chance(50)) {
        size_t indent = lines[line].find_first_not_of(' ');
        text = std::string(indent == std::string::npos ? 4 : indent, ' ') +
               pick(std::vector<std::string>{"n = n * 2 + 1", "x = x.T", "m = m + x.size(0)",
                                             "y = y + 1"}) +
               "\n";
      }
      std::string run;
      for (size_t i = 0; i < times; ++i)
        run += text;
      lines.insert(lines.begin() + line, run.substr(0, run.size() - 1));
      source.clear();
      for (const std::string &l : lines)
        source += l + "\n";
      break;
    }
    default: { // an elif chain
      size_t count = pick(std::vector<size_t>{3, 999, 1001});
      std::string chain = " if x.ndim == 5:\n  y = 0\n";
      for (size_t i = 0; i < count; ++i)
        chain += " elif x.ndim == 6:\n  y = 1\n";
      size_t line_end = source.find('\n');
      if (line_end != std::string::npos) source.insert(line_end + 1, chain);
      break;
    }
    }
  }
  return source;
}

Json Mutator::odd_value(const Json &value) {
  switch (below(10)) {
  case 0:
    return Json(static_cast<int64_t>(0));
  case 1:
    return Json(static_cast<int64_t>(-1));
  case 2:
    return Json(static_cast<int64_t>(1) << (1 + below(62)));
  case 3:
    return Json(std::numeric_limits<int64_t>::max());
  case 4:
    return Json(1.5);
  case 5:
    return Json("fast");
  case 6:
    return Json();
  case 7:
    return Json::array();
  case 8:
    return Json(static_cast<int64_t>(below(9)));
  default:
    return Json(true);
  }
}

Json Mutator::mutate_arg(Json arg) {
  Json out = Json::object();
  for (const auto &[key, value] : arg.get_ref<const Json::object_t &>()) {
    if (key == "shape" && chance(40)) {
      Json shape = Json::array();
      size_t rank = chance(15) ? 0 : value.size();
      if (chance(20)) rank = below(5);
      static const std::vector<int64_t> sizes = {0, 1, 2, 3, 7, 16, 17, 64, 100, 128, 1000, 4096,
                                                 1 << 20, int64_t(1) << 33, -1};
      for (size_t d = 0; d < rank; ++d)
        shape.push_back(d < value.size() && chance(50) ? value[d] : Json(pick(sizes)));
      out[key] = shape;
      continue;
    }
    if (key == "stride" && chance(10)) {
      Json strides = Json::array();
      for (size_t d = 0; d < value.size(); ++d)
        strides.push_back(Json(static_cast<int64_t>(below(3) == 0 ? 0 : 1 + below(200))));
      out[key] = strides;
      continue;
    }
    if (key == "dtype" && chance(20)) {
      static const std::vector<std::string> dtypes = {
          "float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64",
          "uint8",   "bool",     "complex64", "float8_e4m3fn", "qint8", ""};
      out[key] = pick(dtypes);
      continue;
    }
    if (key == "kind" && chance(5)) {
      out[key] = pick(std::vector<std::string>{"tensor", "int", "float", "bool", "constexpr",
                                               "other", "list", ""});
      continue;
    }
    if (key == "value" && chance(30)) {
      out[key] = odd_value(value);
      continue;
    }
    out[key] = value;
  }
  // A tensor's stride must have its shape's length for the Python layer to
  // have built it; keep the two consistent unless the case means otherwise.
  if (json_field(out, "kind").is_string() &&
      json_field(out, "kind").get_ref<const std::string &>() == "tensor" &&
      json_field(out, "shape").is_array() &&
      (!json_field(out, "stride").is_array() ||
       json_field(out, "stride").size() != json_field(out, "shape").size()) &&
      chance(90)) {
    std::vector<int64_t> shape;
    for (const Json &s : json_field(out, "shape").get_ref<const Json::array_t &>())
      shape.push_back(s.is_number_integer() ? json_int(s) : 1);
    out["stride"] = json_field(tensor("float32", shape), "stride");
  }
  return out;
}

Json Mutator::mutate_request(Json request) {
  Json out = Json::object();
  for (const auto &[key, value] : request.get_ref<const Json::object_t &>()) {
    if (key == "args") {
      Json args = Json::array();
      for (const Json &arg : value.get_ref<const Json::array_t &>())
        args.push_back(chance(30) ? mutate_arg(arg) : arg);
      if (chance(3) && args.size() > 0) args.erase(args.size() - 1);
      out[key] = args;
    } else if (key == "settings" && chance(30)) {
      Json settings = value;
      settings["static_shapes"] = chance(50);
      if (chance(30))
        settings["index_dtype"] = pick(std::vector<std::string>{"int32", "int64", "int16"});
      if (chance(30))
        settings["dot_precision"] =
            pick(std::vector<std::string>{"tf32", "ieee", "tf32x3", "bf16"});
      if (chance(30))
        settings["target"] = pick(std::vector<std::string>{"cuda", "interpreter", "rocm"});
      out[key] = settings;
    } else if (key == "first_line" && chance(2)) {
      out[key] = odd_value(value);
    } else {
      out[key] = value;
    }
  }
  return out;
}

/// The configs to generate: the seed's own, random ones from the spec, and
/// random or odd edits of them in the user's spelling.
std::vector<std::string> Mutator::configs(const helion::ConfigSpec &spec, const Json &seed_config) {
  std::vector<std::string> out;
  if (!seed_config.is_null()) out.push_back(dump_text(seed_config));
  size_t count = 1 + below(3);
  for (size_t i = 0; i < count; ++i) {
    Json config = spec.to_json(spec.random_config(rng_));
    if (chance(50)) {
      Json edited = Json::object();
      for (const auto &[key, value] : config.get_ref<const Json::object_t &>()) {
        if (chance(30)) {
          if (value.is_array() && value.size() > 0 && chance(70)) {
            Json items = Json::array();
            for (const Json &item : value.get_ref<const Json::array_t &>())
              items.push_back(chance(40) ? odd_value(item) : item);
            edited[key] = items;
          } else {
            edited[key] = odd_value(value);
          }
        } else if (!chance(5)) {
          edited[key] = value;
        }
      }
      if (chance(5))
        edited[pick(std::vector<std::string>{"num_warp", "block_size", "range_unroll_factors",
                                             "pid_type"})] = odd_value(Json());
      config = edited;
    }
    std::string text = dump_text(config);
    // Integers past int64 can only be written as text.
    if (chance(3)) {
      size_t digit = text.find_first_of("123456789");
      if (digit != std::string::npos) text.insert(digit, "99999999999999999999");
    }
    out.push_back(text);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Running a case

struct Tally {
  long cases = 0;
  long compiled = 0;   ///< cases whose default config generated a module
  long user_errors = 0;
  long internal_errors = 0;
  long crashes = 0;
  std::map<std::string, long> internal_messages; ///< first line of each, and how often
  std::map<std::string, long> user_kinds;
};

enum class Outcome { Ok, UserError, InternalError };

std::string first_line(const std::string &text) {
  std::string line = text.substr(0, text.find('\n'));
  return line.size() > 200 ? line.substr(0, 200) + "..." : line;
}

/// Runs every stage on `c`, choosing its configs once the kernel's spec is
/// known; `announce` sees the complete case before any config is tried.
/// Returns how it ended and, for errors, the kind or message.
std::pair<Outcome, std::string> run_case(Case &c, const Json &seed_config, Mutator &mutator,
                                         const std::function<void(const Case &)> &announce,
                                         bool *compiled) {
  try {
    try {
      helion::check_kernel_source(c.request);
    } catch (const helion::UserError &) {
      // Compiling must then fail too; go on to see that it does without crashing.
    }
    helion::CompiledKernel kernel(c.request);
    const helion::ConfigSpec &spec = kernel.config_spec();
    c.configs = mutator.configs(spec, seed_config);
    announce(c);
    (void)kernel.warnings();
    (void)spec.describe();
    helion::Config config = spec.default_config();
    (void)kernel.generate(config);
    *compiled = true;
    if (mutator.chance(10)) (void)kernel.dump_stages(config);
    for (const std::string &text : c.configs) {
      Json json;
      try {
        json = parse_json_text(text);
      } catch (const std::runtime_error &) {
        continue; // malformed JSON, which the Python layer never sends
      }
      try {
        helion::Config normalized = kernel.normalize(json);
        (void)spec.to_python(normalized);
        (void)kernel.generate(normalized);
      } catch (const helion::UserError &) {
      }
    }
    return {Outcome::Ok, ""};
  } catch (const helion::UserError &e) {
    std::string message = e.what();
    if (helion::escape_invalid_utf8(message) != message)
      return {Outcome::InternalError, "user error message is not valid utf-8: " + first_line(message)};
    return {Outcome::UserError, e.kind()};
  } catch (const helion::InternalError &e) {
    return {Outcome::InternalError, std::string("InternalError: ") + first_line(e.what())};
  } catch (const std::exception &e) {
    return {Outcome::InternalError, std::string("std::exception: ") + first_line(e.what())};
  }
}

std::string crash_base(const Options &options, long index) {
  return options.crash_dir + "/crash-" + std::to_string(index);
}

/// Writes the case as helionc reads it: REQUEST.json, and the configs one per line.
void save_case(const Options &options, long index, const Case &c) {
  if (options.crash_dir.empty()) return;
  std::string base = crash_base(options, index);
  std::ofstream(base + ".request.json") << dump_text(c.request);
  std::ofstream(base + ".configs.txt") << [&] {
    std::string all;
    for (const std::string &config : c.configs)
      all += config + "\n";
    return all;
  }();
}

std::string describe_case(long index, const std::string &origin, const Case &c) {
  std::string out = "case " + std::to_string(index) + " (from " + origin +
                    ")\nrequest: " + dump_text(c.request) + "\nconfigs:";
  for (const std::string &config : c.configs)
    out += "\n  " + config;
  return out;
}

int usage(const std::string &problem) {
  std::fprintf(stderr,
               "fuzz_compile: %s\nusage: fuzz_compile [--seed N] [--iterations N] [--seconds S] "
               "[--fork] [--crash-dir DIR] [--verbose] CORPUS...\n",
               problem.c_str());
  return 2;
}

} // namespace

int main(int argc, char **argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    bool has_value = i + 1 < argc;
    if (arg == "--seed" && has_value) {
      options.seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (arg == "--iterations" && has_value) {
      options.iterations = std::strtol(argv[++i], nullptr, 10);
    } else if (arg == "--seconds" && has_value) {
      options.seconds = std::strtod(argv[++i], nullptr);
    } else if (arg == "--crash-dir" && has_value) {
      options.crash_dir = argv[++i];
    } else if (arg == "--fork") {
      options.fork = true;
    } else if (arg == "--verbose") {
      options.verbose = true;
    } else if (!arg.empty() && arg[0] != '-') {
      options.corpus.push_back(arg);
    } else {
      return usage("unexpected argument '" + arg + "'");
    }
  }
  std::vector<Seed> seeds;
  for (const std::string &path : options.corpus)
    for (const std::string &file : python_files(path))
      for (Seed &seed : load_seeds(file))
        seeds.push_back(std::move(seed));
  if (seeds.empty()) return usage("no kernels in the corpus");
  std::printf("fuzz_compile: %zu seed kernels, seed %llu, %ld iterations%s\n", seeds.size(),
              static_cast<unsigned long long>(options.seed), options.iterations,
              options.seconds > 0 ? (", at most " + std::to_string(options.seconds) + " s").c_str()
                                  : "");
  std::fflush(stdout);
  install_crash_reporting();
  if (!options.crash_dir.empty()) mkdir(options.crash_dir.c_str(), 0755);

  Mutator mutator(options.seed);
  Tally tally;
  auto start = std::chrono::steady_clock::now();
  for (long index = 0; index < options.iterations; ++index) {
    double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (options.seconds > 0 && elapsed > options.seconds) break;

    // The first pass runs every seed unchanged; then each case mutates one.
    const Seed &seed = seeds[index < static_cast<long>(seeds.size()) ? index : mutator.below(seeds.size())];
    Case c;
    c.request = seed.request;
    if (index >= static_cast<long>(seeds.size())) {
      if (!mutator.chance(35))
        c.request["source"] = mutator.mutate_source(
            json_field(seed.request, "source").get_ref<const std::string &>(), seeds);
      if (mutator.chance(40)) c.request = mutator.mutate_request(c.request);
    }
    Mutator case_rng(mutator.rng()());
    ++tally.cases;
    auto announce = [&](const Case &complete) {
      g_current_case = describe_case(index, seed.origin, complete);
      if (options.fork) save_case(options, index, complete);
    };
    announce(c);

    bool compiled = false;
    std::pair<Outcome, std::string> result;
    if (options.fork) {
      std::fflush(stdout);
      int pipe_fds[2];
      if (pipe(pipe_fds) != 0) return 2;
      pid_t child = ::fork();
      if (child == 0) {
        close(pipe_fds[0]);
        alarm(kCaseSeconds);
        auto r = run_case(c, seed.config, case_rng, announce, &compiled);
        write_all(pipe_fds[1], std::to_string(static_cast<int>(r.first)) + (compiled ? "1" : "0") +
                                   r.second);
        _exit(0);
      }
      close(pipe_fds[1]);
      std::string message;
      char buffer[4096];
      ssize_t n;
      while ((n = read(pipe_fds[0], buffer, sizeof(buffer))) > 0)
        message.append(buffer, static_cast<size_t>(n));
      close(pipe_fds[0]);
      int status = 0;
      waitpid(child, &status, 0);
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || message.size() < 2) {
        ++tally.crashes;
        std::printf("CRASH in case %ld (from %s): %s; saved as %s.*\n", index, seed.origin.c_str(),
                    WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "nonzero exit",
                    crash_base(options, index).c_str());
        continue;
      }
      if (!options.crash_dir.empty()) {
        std::remove((crash_base(options, index) + ".request.json").c_str());
        std::remove((crash_base(options, index) + ".configs.txt").c_str());
      }
      result = {static_cast<Outcome>(message[0] - '0'), message.substr(2)};
      compiled = message[1] == '1';
    } else {
      alarm(kCaseSeconds);
      result = run_case(c, seed.config, case_rng, announce, &compiled);
      alarm(0);
    }
    tally.compiled += compiled;
    switch (result.first) {
    case Outcome::Ok:
      break;
    case Outcome::UserError:
      ++tally.user_errors;
      ++tally.user_kinds[result.second];
      break;
    case Outcome::InternalError:
      ++tally.internal_errors;
      if (tally.internal_messages[result.second]++ == 0) {
        std::printf("internal error in case %ld (from %s): %s\n", index, seed.origin.c_str(),
                    result.second.c_str());
        if (options.verbose) std::printf("%s\n", g_current_case.c_str());
      }
      break;
    }
  }
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("fuzz_compile: %ld cases in %.1f s: %ld compiled with the default config, %ld user "
              "errors, %ld internal errors (%zu distinct), %ld crashes\n",
              tally.cases, elapsed, tally.compiled, tally.user_errors, tally.internal_errors,
              tally.internal_messages.size(), tally.crashes);
  std::printf("user errors by kind:");
  for (const auto &[kind, count] : tally.user_kinds)
    std::printf(" %s=%ld", kind.c_str(), count);
  std::printf("\n");
  for (const auto &[message, count] : tally.internal_messages)
    std::printf("  %5ld x %s\n", count, message.c_str());
  return tally.crashes > 0 ? 1 : 0;
}
