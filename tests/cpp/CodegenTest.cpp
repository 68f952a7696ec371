// The generated module's namespace and the user text that reaches it:
// comment_text, python_literal, ModuleNames / DeviceNames, and whole modules
// compiled from kernels whose names, file names or shapes once broke them.

#include "TestRequests.h"
#include "codegen/Names.h"
#include "codegen/PythonText.h"
#include "codegen/TritonCodegen.h"
#include "lower/Lowering.h"
#include "parse/Parser.h"
#include "passes/IndexType.h"
#include "pipeline/Compile.h"
#include "pipeline/Passes.h"
#include "support/Diagnostics.h"
#include "support/Text.h"
#include "types/HostTypes.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace helion {
namespace {

using codegen::comment_text;
using codegen::python_literal;
using codegen::python_string;

// ---- user text into a comment ------------------------------------------------

TEST(CommentTextTest, EveryLineBreakIsEscaped) {
  // What Python's str.splitlines breaks on, and what its tokenizer ends lines with.
  EXPECT_EQ(comment_text("a\nb"), "a\\nb");
  EXPECT_EQ(comment_text("a\rb"), "a\\rb");
  EXPECT_EQ(comment_text("a\r\nb"), "a\\r\\nb");
  EXPECT_EQ(comment_text("a\fb\vc"), "a\\x0cb\\x0bc");
  EXPECT_EQ(comment_text("\x1c\x1d\x1e"), "\\x1c\\x1d\\x1e");
  EXPECT_EQ(comment_text("a\xc2\x85"
                         "b"),
            "a\\x85b"); // U+0085
  EXPECT_EQ(comment_text("a\xe2\x80\xa8"
                         "b\xe2\x80\xa9"),
            "a\\u2028b\\u2029"); // U+2028/9
  EXPECT_EQ(comment_text(std::string("a\0b", 3)), "a\\x00b");
}

TEST(CommentTextTest, ReadableTextStays) {
  EXPECT_EQ(comment_text("out[tile] = x[tile] + 1  # é, ü, \xe2\x88\x91, \\n"),
            "out[tile] = x[tile] + 1  # é, ü, \xe2\x88\x91, \\n");
  EXPECT_EQ(comment_text("tab\there"), "tab\there");
}

TEST(CommentTextTest, BytesThatAreNotUtf8AndSurrogatesAreEscaped) {
  EXPECT_EQ(comment_text("a\xff"
                         "b"),
            "a\\xffb");
  EXPECT_EQ(comment_text("\xc3"), "\\xc3");           // truncated sequence
  EXPECT_EQ(comment_text("\xc0\xaf"), "\\xc0\\xaf");  // overlong '/'
  EXPECT_EQ(comment_text("\xed\xb2\x80"), "\\udc80"); // a lone surrogate, as JSON keeps it
  EXPECT_EQ(comment_text("\xe2\x80\xae"
                         "abc"),
            "\\u202eabc"); // a bidirectional override
}

TEST(CommentTextTest, NoOutputHoldsALineBreak) {
  for (int b = 0; b < 256; ++b) {
    std::string text = "x" + std::string(1, static_cast<char>(b)) + "y";
    std::string out = comment_text(text);
    EXPECT_EQ(out.find_first_of("\n\r\f\v\x1c\x1d\x1e"), std::string::npos) << b;
  }
}

TEST(PythonNameTest, NamesThatCannotEndAStatement) {
  EXPECT_TRUE(codegen::is_python_name("mask_0"));
  EXPECT_TRUE(codegen::is_python_name("\xcf\x80"));                 // π
  EXPECT_TRUE(codegen::is_python_name("\xe5\x8a\xa0\xe6\xb3\x95")); // 加法
  EXPECT_FALSE(codegen::is_python_name(""));
  EXPECT_FALSE(codegen::is_python_name("0x"));
  EXPECT_FALSE(codegen::is_python_name("class"));
  EXPECT_FALSE(codegen::is_python_name("a b"));
  EXPECT_FALSE(codegen::is_python_name("a.b"));
  EXPECT_FALSE(codegen::is_python_name("k\nimport os"));
  EXPECT_FALSE(codegen::is_python_name("k\xc2\x85"));     // NEL
  EXPECT_FALSE(codegen::is_python_name("k\xe2\x80\xa8")); // U+2028
  EXPECT_FALSE(codegen::is_python_name("k\xc2\xa0"));     // no-break space
  EXPECT_FALSE(codegen::is_python_name("k\xff"));
}

// ---- values into Python literals ------------------------------------------------

TEST(PythonLiteralTest, Strings) {
  EXPECT_EQ(python_string("plain"), "\"plain\"");
  EXPECT_EQ(python_string("q\"uo'te\\"), "\"q\\\"uo'te\\\\\"");
  EXPECT_EQ(python_string("a\nb\rc\td\fe\x0b\x1c"), "\"a\\nb\\rc\\td\\x0ce\\x0b\\x1c\"");
  EXPECT_EQ(python_string("\xc2\x85\xe2\x80\xa8\xc3\xa9"), "\"\\x85\\u2028\\xe9\"");
  EXPECT_EQ(python_string("\xf0\x9f\x98\x80"), "\"\\U0001f600\"");
  EXPECT_EQ(python_string("\xed\xb2\x80"), "\"\\udc80\""); // a lone surrogate stays one
  EXPECT_EQ(python_string("\xff"), "\"\\ufffd\"");
  EXPECT_EQ(python_string("\x7f"), "\"\\x7f\"");
}

TEST(PythonLiteralTest, Numbers) {
  EXPECT_EQ(python_literal(Json(3)), "3");
  EXPECT_EQ(python_literal(Json(int64_t{-9007199254740993})), "-9007199254740993");
  EXPECT_EQ(python_literal(Json(3.0)), "3.0"); // a float stays a float
  EXPECT_EQ(python_literal(Json(-0.0)), "-0.0");
  EXPECT_EQ(python_literal(Json(1e300)), "1e+300");
  EXPECT_EQ(python_literal(Json(0.1)), "0.1");
  EXPECT_EQ(python_literal(Json(5e-324)), "5e-324");
  EXPECT_EQ(python_literal(parse_json_text("Infinity")), "float('inf')");
  EXPECT_EQ(python_literal(parse_json_text("-Infinity")), "float('-inf')");
  EXPECT_EQ(python_literal(parse_json_text("NaN")), "float('nan')");
  EXPECT_EQ(python_literal(parse_json_text("NaN"), "builtins_1.float"), "builtins_1.float('nan')");
}

TEST(PythonLiteralTest, Others) {
  EXPECT_EQ(python_literal(Json()), "None");
  EXPECT_EQ(python_literal(Json(true)), "True");
  EXPECT_EQ(python_literal(parse_json_text(R"([1, "a\n", [false, null], {"k\"": 2.5}])")),
            "[1, \"a\\n\", [False, None], {\"k\\\"\": 2.5}]");
}

// ---- the namer ------------------------------------------------------------------

KernelInputs inputs_for(const std::string &source, const std::string &globals_json = "{}") {
  KernelInputs in;
  in.context.kernel_name = "k";
  in.context.source = source;
  in.globals = read_globals(parse_json_text(globals_json));
  return in;
}

TEST(ModuleNamesTest, TheCommonCaseKeepsItsNames) {
  KernelInputs in = inputs_for("def k(x):\n    return torch.relu(x)\n",
                               R"({"torch": {"kind": "module", "name": "torch"}})");
  ast::Module m = parse_module(in.context.source);
  codegen::ModuleNames names(in, *m.body[0]);
  EXPECT_EQ(names.torch(), "torch");
  EXPECT_EQ(names.triton(), "triton");
  EXPECT_EQ(names.tl(), "tl");
  EXPECT_EQ(names.libdevice(), "libdevice");
  EXPECT_EQ(names.device_function(), "_helion_k");
  EXPECT_EQ(names.host_function(), "k");
  EXPECT_EQ(names.builtin("max"), "max");
  EXPECT_TRUE(names.imported("torch"));
  EXPECT_EQ(names.imports(), (std::vector<std::string>{
                                 "import torch", "import triton", "import triton.language as tl",
                                 "from triton.language.extra import libdevice"}));
}

TEST(ModuleNamesTest, UserNamesPushGeneratedOnesAside) {
  // Host code reads triton, builtins and the device function: no name the
  // user writes may hide them. tl and torch are read at module level only,
  // so only the user's globals push them aside.
  KernelInputs in = inputs_for("def k(triton, tl_1):\n    _helion_k = 2\n    max = 3\n",
                               R"({"torch": {"kind": "module", "name": "numpy"},
                                   "tl": {"kind": "constant", "value": 1}})");
  ast::Module m = parse_module(in.context.source);
  codegen::ModuleNames names(in, *m.body[0]);
  EXPECT_EQ(names.torch(), "torch_1"); // the user's `torch` is numpy
  EXPECT_EQ(names.triton(), "triton_1");
  EXPECT_EQ(names.tl(), "tl_2"); // tl and tl_1 are the user's
  EXPECT_EQ(names.device_function(), "_helion_k_1");
  EXPECT_FALSE(names.imported("torch"));
  EXPECT_EQ(names.builtin("max"), "builtins.max");
  EXPECT_EQ(names.builtin("min"), "min");
  EXPECT_EQ(names.constexpr_annotation(), "tl_2.constexpr");
  EXPECT_EQ(
      names.imports(),
      (std::vector<std::string>{"import torch as torch_1", "import triton as triton_1",
                                "import triton.language as tl_2",
                                "from triton.language.extra import libdevice", "import builtins"}));
}

TEST(ModuleNamesTest, TheInterpreterReadsConstexprAnnotationsAsText) {
  KernelInputs in =
      inputs_for("def k(x):\n    return x\n", R"({"tl": {"kind": "module", "name": "math"}})");
  in.settings.interpreter = true;
  ast::Module m = parse_module(in.context.source);
  codegen::ModuleNames names(in, *m.body[0]);
  EXPECT_EQ(names.tl(), "tl_1");
  EXPECT_EQ(names.constexpr_annotation(), "tl.constexpr");
  EXPECT_EQ(names.imports().front(), "from __future__ import annotations");
}

TEST(ModuleNamesTest, ParametersAndLocalsLeaveModuleLevelNamesAlone) {
  KernelInputs in = inputs_for("def k(tl, torch):\n    libdevice = 1\n");
  ast::Module m = parse_module(in.context.source);
  codegen::ModuleNames names(in, *m.body[0]);
  EXPECT_EQ(names.tl(), "tl");
  EXPECT_EQ(names.torch(), "torch");
  EXPECT_EQ(names.libdevice(), "libdevice");
}

TEST(ModuleNamesTest, NamesPythonNormalizesCount) {
  // Fullwidth `triton` in the source is `triton` to Python: the request's names say so.
  KernelInputs in = inputs_for("def k(x):\n    \xef\xbd\x94\xef\xbd\x92\xef\xbd\x89\xef\xbd"
                               "\x94\xef\xbd\x8f\xef\xbd\x8e = 1\n");
  in.names = {"triton", "x"};
  ast::Module m = parse_module(in.context.source);
  codegen::ModuleNames names(in, *m.body[0]);
  EXPECT_EQ(names.triton(), "triton_1");
}

TEST(DeviceNamesTest, GeneratedAndUserNamesNeverMeet) {
  KernelInputs in = inputs_for("def k(x):\n    mask_0 = 1\n    v_0 = 2\n    acc_1 = 3\n");
  ast::Module m = parse_module(in.context.source);
  codegen::ModuleNames module(in, *m.body[0]);
  codegen::DeviceNames names(module);
  EXPECT_EQ(names.generated("mask_0"), "mask_0_1"); // the user wrote mask_0
  EXPECT_EQ(names.user("mask_0"), "mask_0");
  EXPECT_EQ(names.user("mask_0"), "mask_0_2"); // a second value of the user's mask_0
  EXPECT_EQ(names.generated("mask_1"), "mask_1");
  EXPECT_EQ(names.user("mask_1"), "mask_1_1");
  EXPECT_EQ(names.temporary(), "v_1");
  EXPECT_EQ(names.user("acc"), "acc");
  EXPECT_EQ(names.user("acc"), "acc_1");
  EXPECT_EQ(names.user("acc_1"), "acc_1_1");
  EXPECT_EQ(names.user("tl"), "tl_1"); // the module alias is reserved
  EXPECT_EQ(names.user("float"), "float_1");
  EXPECT_EQ(names.user("\xef\xbd\x8d"), "v"); // not ASCII: Python may read it as another name
}

TEST(DeviceNamesTest, ModuleAliasesReplaceCodeNotTextOrAttributes) {
  KernelInputs in =
      inputs_for("def k(x):\n    return x\n", R"({"tl": {"kind": "constant", "value": 1},
                                                 "float": {"kind": "constant", "value": 2}})");
  ast::Module m = parse_module(in.context.source);
  codegen::ModuleNames module(in, *m.body[0]);
  codegen::DeviceNames names(module);
  EXPECT_EQ(names.with_module_aliases(
                "    # src[line 1]: tl.x\n    a = tl.load(p, other=float('-inf')).to(tl.float32)\n"
                "    b = x.tl + 'tl.' + \"float\"\n"),
            "    # src[line 1]: tl.x\n"
            "    a = tl_1.load(p, other=builtins.float('-inf')).to(tl_1.float32)\n"
            "    b = x.tl + 'tl.' + \"float\"\n");
}

// ---- whole modules ----------------------------------------------------------------

Json tensor_arg(const std::string &name, const std::vector<int64_t> &shape) {
  return requests::tensor_arg(name, "float32", shape);
}

Json request(const std::string &source, const std::vector<Json> &args,
             const std::string &filename = "k.py") {
  Json r = requests::kernel_request(source, args);
  r["filename"] = filename;
  r["settings"] = Json::object();
  return r;
}

std::string generate(const Json &req, const std::string &config = "{}") {
  CompiledKernel kernel(req);
  return kernel.generate(kernel.normalize(parse_json_text(config)));
}

bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

TEST(GeneratedModuleTest, AUsersMask0IsNotTheStoresMask) {
  std::string code = generate(request(R"(def k(x):
    out = torch.empty_like(x)
    for tile in hl.tile(out.size(0)):
        mask_0 = x[tile] * 2
        out[tile] = mask_0
    return out
)",
                                      {tensor_arg("x", {33})}),
                              R"({"block_sizes": [16]})");
  EXPECT_TRUE(contains(code, "mask_0_1 = indices_0 < 33")) << code;
  EXPECT_TRUE(contains(code, "mask_0 = load * 2.0")) << code;
  EXPECT_TRUE(contains(code, "tl.store(out + indices_0, mask_0, mask_0_1)")) << code;
}

TEST(GeneratedModuleTest, TensorDescriptorsOnlyWhereTheInnerDimFillsWhole16ByteUnits) {
  // TMA rounds the inner dimension up to 16 bytes: a store through a
  // descriptor of 33 floats writes elements 33 to 35 (seen on an H200).
  const char *copy = R"(def k(x):
    out = torch.empty_like(x)
    for tile in hl.tile(out.size(0)):
        out[tile] = x[tile]
    return out
)";
  const char *config = R"({"block_sizes": [16], "indexing": "tensor_descriptor"})";
  std::string ragged = generate(request(copy, {tensor_arg("x", {33})}), config);
  EXPECT_FALSE(contains(ragged, "make_tensor_descriptor")) << ragged;
  EXPECT_TRUE(contains(ragged, "tl.make_block_ptr")) << ragged;
  std::string whole = generate(request(copy, {tensor_arg("x", {36})}), config);
  EXPECT_TRUE(contains(whole, "tl.make_tensor_descriptor(out, [36], [1], [_BLOCK_SIZE_0])"))
      << whole;
}

TEST(GeneratedModuleTest, ParametersNamedLikeGeneratedCode) {
  std::string code =
      generate(request(R"(def k(tl, pid, v_0):
    for tile in hl.tile(v_0.size(0)):
        v_0[tile] = tl[tile] + pid[tile]
)",
                       {tensor_arg("tl", {33}), tensor_arg("pid", {33}), tensor_arg("v_0", {33})}),
               R"({"block_sizes": [16]})");
  // The parameter `tl` hides nothing the host reads: the device names it tl_1.
  EXPECT_FALSE(contains(code, "__future__")) << code;
  EXPECT_TRUE(contains(code, "import triton.language as tl\n")) << code;
  EXPECT_TRUE(contains(code, "def _helion_k(tl_1, pid, v_0, _BLOCK_SIZE_0: tl.constexpr):"))
      << code;
  EXPECT_TRUE(contains(code, "pid_1 = tl.program_id(0)")) << code;
  EXPECT_TRUE(contains(code, "load = tl.load(tl_1 + indices_0, mask_0, other=0)")) << code;
  EXPECT_TRUE(contains(code, "v_1 = load + load_1")) << code;
  EXPECT_TRUE(contains(code, "_helion_k[(3,)](tl, pid, v_0, 16,")) << code;
}

TEST(GeneratedModuleTest, IntParametersKeepTheirNames) {
  Json n = Json::object();
  n["name"] = "n";
  n["kind"] = "int";
  n["value"] = 33;
  Json pid = Json::object();
  pid["name"] = "pid";
  pid["kind"] = "int";
  pid["value"] = 2;
  std::string code = generate(request(R"(def k(x, n, pid):
    out = torch.empty_like(x)
    for tile in hl.tile(n):
        out[tile] = x[tile] + pid
    return out
)",
                                      {tensor_arg("x", {33}), n, pid}),
                              R"({"block_sizes": [16]})");
  EXPECT_TRUE(contains(code, "def _helion_k(x, out, n, pid, _BLOCK_SIZE_0: tl.constexpr):"))
      << code;
  EXPECT_TRUE(contains(code, "pid_1 = tl.program_id(0)")) << code;
  EXPECT_TRUE(contains(code, "v_0 = tl.cast(pid, tl.float32)")) << code;
}

TEST(GeneratedModuleTest, AFileNameNeverEndsTheHeaderComment) {
  std::string code =
      generate(request(R"(def k(x):
    for tile in hl.tile(x.size(0)):
        x[tile] = x[tile] + 1
)",
                       {tensor_arg("x", {8})}, "a\nimport os\ros._exit(3)\x0c\xe2\x80\xa8#"));
  std::vector<std::string> lines = split_lines(code);
  EXPECT_EQ(lines[0],
            "# Generated by helion from kernel 'k' in a\\nimport os\\ros._exit(3)\\x0c\\u2028#");
  EXPECT_EQ(lines[1], "import torch");
  EXPECT_FALSE(contains(code, "\r")) << code;
}

TEST(GeneratedModuleTest, AKernelNameMustBeAnIdentifier) {
  Json req = request("def k(x):\n    for tile in hl.tile(x.size(0)):\n        x[tile] = 1.0\n",
                     {tensor_arg("x", {8})});
  req["kernel_name"] = "k\nimport os";
  try {
    generate(req);
    FAIL() << "expected a UserError";
  } catch (const UserError &e) {
    EXPECT_EQ(e.kind(), "UnsupportedSignature");
    EXPECT_TRUE(contains(e.what(), "\"k\\nimport os\" is not a Python identifier")) << e.what();
  }
}

TEST(GeneratedModuleTest, AKernelNameOutsideAsciiNamesOnlyTheHostFunction) {
  Json req = request("def \xe5\x8a\xa0(x):\n    for tile in hl.tile(x.size(0)):\n"
                     "        x[tile] = 1.0\n",
                     {tensor_arg("x", {8})});
  req["kernel_name"] = "\xe5\x8a\xa0";
  std::string code = generate(req);
  EXPECT_TRUE(contains(code, "def _helion_kernel(x, ")) << code;
  EXPECT_TRUE(contains(code, "def \xe5\x8a\xa0(x):")) << code;
}

TEST(GeneratedModuleTest, ZeroDimTensorsRunAsOneProgram) {
  // hl.tile over an empty size list is one program with no tile indices.
  std::string code = generate(request(R"(def k(x, y):
    out = torch.empty_like(x)
    for tile in hl.tile(out.size()):
        out[tile] = x[tile] + y[tile]
    return out
)",
                                      {tensor_arg("x", {}), tensor_arg("y", {})}));
  EXPECT_TRUE(contains(code, "load = tl.load(x)\n")) << code;
  EXPECT_TRUE(contains(code, "tl.store(out, v_0)\n")) << code;
  EXPECT_TRUE(contains(code, "_helion_k[(1,)](x, y, out, num_warps=")) << code;
}

TEST(GeneratedModuleTest, ZeroDimTensorsInsideTiles) {
  std::string code = generate(request(R"(def k(x, s):
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        for inner in hl.tile([]):
            out[tile] = x[tile] * s[()]
    return out
)",
                                      {tensor_arg("x", {8}), tensor_arg("s", {})}));
  EXPECT_TRUE(contains(code, "tl.load(s)")) << code;
}

// ---- per-loop and per-load config fields ----------------------------------------

/// The range entries compile() found: (top_level, static_range) per entry.
std::vector<std::pair<bool, bool>> range_loops(const Json &req) {
  CompiledKernel kernel(req);
  std::vector<std::pair<bool, bool>> out;
  Json description = kernel.config_spec().describe();
  for (const Json &loop : json_field(description, "range_loops").get_ref<const Json::array_t &>())
    out.emplace_back(json_field(loop, "top_level").get<bool>(),
                     json_field(loop, "static_range").get<bool>());
  return out;
}

TEST(LoopEntriesTest, TopLevelCallsInnerDimsAndRangeLoopsHaveEntries) {
  // The top-level call (one entry for both dims), each dim of the inner
  // tile, the hl.grid and the range() loop; hl.static_range and a looped
  // reduction have none. Dims of 8 or fewer iterations may be static.
  std::string source = R"(def k(x, w):
    out = torch.empty([x.size(0), x.size(1)], dtype=x.dtype, device=x.device)
    for tile_a, tile_b in hl.tile([x.size(0), x.size(1)]):
        acc = hl.zeros([tile_a, tile_b], dtype=torch.float32)
        for tile_c, tile_d in hl.tile([x.size(2), w.size(0)]):
            acc = acc + x[tile_a, tile_b, tile_c].sum(-1)[:, :, None].sum(-1) + w[tile_d].sum()
        for i in hl.grid(4):
            acc = acc + i
        for j in range(12):
            acc = acc * 0.5
        for s in hl.static_range(2):
            acc = acc + s
        out[tile_a, tile_b] = acc + x[tile_a, tile_b, :].sum(-1)
    return out
)";
  Json req = request(source, {tensor_arg("x", {16, 32, 64}), tensor_arg("w", {8})});
  EXPECT_EQ(range_loops(req), (std::vector<std::pair<bool, bool>>{
                                  {true, false},  // the top-level [a, b]
                                  {false, false}, // c: 64 iterations at block 1
                                  {false, true},  // d: 8
                                  {false, true},  // hl.grid(4)
                                  {false, false}, // range(12)
                              }));
  // Symbolic sizes are not known when compiling; literals are.
  Json dynamic = requests::kernel_request(
      source, {tensor_arg("x", {16, 32, 64}), tensor_arg("w", {8})}, false);
  EXPECT_EQ(range_loops(dynamic),
            (std::vector<std::pair<bool, bool>>{
                {true, false}, {false, false}, {false, false}, {false, true}, {false, false}}));
}

TEST(LoopEntriesTest, EachLoopReadsItsOwnEntry) {
  Json req = request(R"(def k(x):
    out = torch.empty_like(x)
    for tile_m in hl.tile(x.size(0)):
        acc = hl.zeros([tile_m], dtype=torch.float32)
        for tile_n in hl.tile(x.size(1)):
            acc = acc + x[tile_m, tile_n].sum(-1)
        for i in range(3):
            acc = acc * 2
        out[tile_m, 0] = acc
    return out
)",
                     {tensor_arg("x", {64, 100})});
  std::string defaults = generate(req, R"({"block_sizes": [16, 32]})");
  EXPECT_TRUE(contains(defaults, "in tl.range(0, 100, _BLOCK_SIZE_1):")) << defaults;
  EXPECT_TRUE(contains(defaults, "in tl.range(0, 3, 1):")) << defaults;
  std::string code = generate(req, R"({"block_sizes": [16, 32], "range_unroll_factors": [0, 2, 1],
      "range_num_stages": [0, 3], "range_multi_buffers": [null, true, false],
      "range_flattens": [null, false], "static_ranges": [true]})");
  EXPECT_TRUE(contains(code, "in tl.range(0, 100, _BLOCK_SIZE_1, loop_unroll_factor=2, "
                             "num_stages=3, disallow_acc_multi_buffer=False, flatten=False):"))
      << code;
  // range(3) is static: tl.static_range, and its range options do not apply.
  EXPECT_TRUE(contains(code, "in tl.static_range(0, 3, 1):")) << code;
  EXPECT_FALSE(contains(code, "disallow_acc_multi_buffer=True")) << code;
}

TEST(LoopEntriesTest, LoopedReductionsKeepPlainRanges) {
  Json req = request(R"(def k(x):
    out = torch.empty([x.size(0)], dtype=x.dtype, device=x.device)
    for tile_m in hl.tile(x.size(0)):
        out[tile_m] = x[tile_m, :].sum(-1)
    return out
)",
                     {tensor_arg("x", {64, 1000})});
  EXPECT_EQ(range_loops(req).size(), 1u);
  std::string code = generate(req, R"({"block_sizes": [16], "reduction_loops": [64]})");
  EXPECT_TRUE(contains(code, "for offset_1 in tl.range(0, 1000, _BLOCK_SIZE_1):")) << code;
  EXPECT_FALSE(contains(code, "loop_unroll_factor")) << code;
}

TEST(EvictionPolicyTest, ConfigAndSourcePoliciesReachTheLoads) {
  Json req = request(R"(def k(x, y):
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile] + hl.load(y, [tile], eviction_policy="evict_first") + y[tile]
    return out
)",
                     {tensor_arg("x", {100}), tensor_arg("y", {100})});
  CompiledKernel kernel(req);
  EXPECT_EQ(json_int(json_field(kernel.config_spec().describe(), "policy_loads")),
            2); // x and y[tile]
  std::string defaults = generate(req);
  EXPECT_TRUE(contains(defaults, "tl.load(x + indices_0, mask_0, other=0)")) << defaults;
  EXPECT_TRUE(contains(defaults, "mask_0, other=0, eviction_policy='evict_first')")) << defaults;
  std::string code = generate(req, R"({"load_eviction_policies": ["last", "first"]})");
  EXPECT_TRUE(
      contains(code, "tl.load(x + indices_0, mask_0, other=0, eviction_policy='evict_last')"))
      << code;
  EXPECT_TRUE(
      contains(code, "tl.load(y + indices_0, mask_0, other=0, eviction_policy='evict_first')"))
      << code;
}

TEST(AtomicIndexingTest, AtomicsHaveTheirOwnEntriesAndFallBackToPointers) {
  Json req =
      request(R"(def k(x, out, flags):
    for tile in hl.tile(x.size(0)):
        hl.atomic_add(out, [tile], x[tile])
        hl.atomic_xchg(flags, [tile], x[tile])
    return out
)",
              {tensor_arg("x", {256}), tensor_arg("out", {256}), tensor_arg("flags", {256})});
  CompiledKernel kernel(req);
  EXPECT_EQ(json_int(json_field(kernel.config_spec().describe(), "atomic_ops")), 2);
  EXPECT_EQ(json_int(json_field(kernel.config_spec().describe(), "memory_ops")),
            2); // the loads of x
  std::string code =
      generate(req, R"({"block_sizes": [64], "atomic_indexing": "tensor_descriptor"})");
  EXPECT_TRUE(contains(code, "out_atomic_desc_0.atomic_add([offset_0], load)")) << code;
  // Triton 3.6 has no descriptor exchange: pointers.
  EXPECT_TRUE(contains(code, "tl.atomic_xchg(flags + indices_0, load_1, sem='relaxed')")) << code;
  std::string pointers = generate(req, R"({"block_sizes": [64]})");
  EXPECT_TRUE(contains(pointers, "tl.atomic_add(out + indices_0, load, sem='relaxed')"))
      << pointers;
  EXPECT_FALSE(contains(pointers, "make_tensor_descriptor")) << pointers;
  // Triton's interpreter has no descriptor atomics either.
  Json interpreted = req;
  Json settings = Json::object();
  settings["target"] = "interpreter";
  interpreted["settings"] = settings;
  std::string interpreter =
      generate(interpreted, R"({"block_sizes": [64], "atomic_indexing": "tensor_descriptor"})");
  EXPECT_TRUE(contains(interpreter, "tl.atomic_add(out + indices_0, load, sem='relaxed')"))
      << interpreter;
}

TEST(MaxnregTest, IsALaunchOptionOfTheKernel) {
  // Only persistent pid types accept maxnreg; code generation takes any
  // canonical config, so this runs the stages by hand.
  Json req = request(R"(def k(x):
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile] * 2
    return out
)",
                     {tensor_arg("x", {100})});
  KernelInputs inputs = KernelInputs::from_request(req);
  ast::Module module = parse_module(inputs.context.source);
  HostProgram host = analyze_host(module, inputs);
  ir::DeviceKernel device = lower::lower_device(host, inputs);
  passes::IndexType index_type = passes::choose_index_type(device, inputs.settings);
  CompiledKernel kernel(req);
  Config config = kernel.config_spec().default_config();
  std::string plain = codegen::generate_module(host, pipeline::run_config_passes(device, config),
                                               config, inputs, index_type);
  EXPECT_FALSE(contains(plain, "maxnreg")) << plain;
  config.maxnreg = 128;
  std::string code = codegen::generate_module(host, pipeline::run_config_passes(device, config),
                                              config, inputs, index_type);
  EXPECT_TRUE(contains(code, "(x, out, 128, num_warps=4, num_stages=2, maxnreg=128)")) << code;
}

TEST(GeneratedModuleTest, AConfigIsNormalizedOncePerKernel) {
  CompiledKernel kernel(request(R"(def k(x):
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile] + 1
    return out
)",
                                {tensor_arg("x", {64})}));
  Json given = parse_json_text(R"({"num_warps": 2, "block_sizes": [16]})");
  std::shared_ptr<const helion::Config> first = kernel.canonical(given);
  EXPECT_EQ(kernel.normalization_count(), 1u);
  // The same config with its fields in another order, its canonical form, and
  // code generated from either: looked up, not normalized again.
  EXPECT_EQ(kernel.canonical(parse_json_text(R"({"block_sizes": [16], "num_warps": 2})")), first);
  Json canonical = kernel.config_spec().to_json(*first);
  EXPECT_EQ(kernel.canonical(canonical), first);
  std::string code = kernel.generate_canonical(canonical);
  EXPECT_EQ(kernel.normalization_count(), 1u);
  EXPECT_EQ(code, kernel.generate(*first));
  // Another config is normalized once; an invalid one is reported each time and never kept.
  kernel.canonical(parse_json_text(R"({"block_sizes": [32]})"));
  EXPECT_EQ(kernel.normalization_count(), 2u);
  for (int i = 0; i < 2; ++i)
    EXPECT_THROW(kernel.canonical(parse_json_text(R"({"block_sizes": [3]})")), helion::UserError);
  EXPECT_EQ(kernel.normalization_count(), 4u);
}

} // namespace
} // namespace helion
