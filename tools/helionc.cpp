// helionc: the compiler without Python.
//
//   helionc REQUEST.json [--config CONFIG.json | --config-json '{...}'] [--dump-stages]
//
// Prints the generated Triton module (or the IR after each stage) to stdout.
// Exit codes: 0 success, 1 user error (kernel, arguments or config),
// 2 bad command line or unreadable file, 3 internal compiler error.

#include "pipeline/Compile.h"
#include "support/Diagnostics.h"
#include "support/Json.h"

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>

namespace {

const char *const kUsage =
    "usage: helionc REQUEST.json [--config CONFIG.json | --config-json '{...}'] "
    "[--dump-stages]\n";

struct Options {
  std::string request_path;
  std::optional<std::string> config_path;
  std::optional<std::string> config_text;
  bool dump_stages = false;
};

struct UsageError {
  std::string message;
};

Options parse_options(int argc, char **argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    bool has_value = i + 1 < argc;
    if (arg == "--dump-stages") {
      options.dump_stages = true;
    } else if (arg == "--config" && has_value) {
      options.config_path = argv[++i];
    } else if (arg == "--config-json" && has_value) {
      options.config_text = argv[++i];
    } else if (arg == "-h" || arg == "--help") {
      std::cout << kUsage;
      std::exit(0);
    } else if (!arg.empty() && arg[0] != '-' && options.request_path.empty()) {
      options.request_path = arg;
    } else {
      throw UsageError{"unexpected argument '" + arg + "'"};
    }
  }
  if (options.request_path.empty()) throw UsageError{"missing REQUEST.json"};
  if (options.config_path && options.config_text)
    throw UsageError{"--config and --config-json are exclusive"};
  return options;
}

std::string read_file(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError{"cannot read '" + path + "'"};
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// A config on the command line is the user's input: bad JSON is their mistake.
helion::Json parse_config(const std::string &text) {
  try {
    return helion::parse_json_text(text);
  } catch (const std::runtime_error &error) {
    throw helion::UserError("InvalidConfig", std::string("malformed config JSON: ") + error.what());
  }
}

helion::Json parse_request(const std::string &path) {
  try {
    return helion::parse_json_text(read_file(path));
  } catch (const std::runtime_error &error) {
    throw UsageError{"malformed request '" + path + "': " + error.what()};
  }
}

int run(const Options &options) {
  helion::CompiledKernel kernel(parse_request(options.request_path));
  const helion::ConfigSpec &spec = kernel.config_spec();
  helion::Config config = spec.default_config();
  if (options.config_path) config = spec.normalize(parse_config(read_file(*options.config_path)));
  if (options.config_text) config = spec.normalize(parse_config(*options.config_text));
  std::cout << (options.dump_stages ? kernel.dump_stages(config) : kernel.generate(config));
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  try {
    return run(parse_options(argc, argv));
  } catch (const UsageError &error) {
    std::cerr << "helionc: " << error.message << "\n" << kUsage;
    return 2;
  } catch (const helion::UserError &error) {
    std::cerr << error.what() << "\n";
    return 1;
  } catch (const std::exception &error) {
    std::cerr << "internal compiler error: " << error.what() << "\n";
    return 3;
  }
}
