// Call arguments bind to each op's declared parameters: every valid spelling
// (positional, keyword, torch's aliases, method or function) lowers as the
// canonical one, and every invalid one is a user error naming the op and
// the parameter at the call.

#include "pipeline/Compile.h"
#include "support/Diagnostics.h"
#include "types/OpSignature.h"
#include "TestRequests.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace helion {
namespace {

// ---- the binder -----------------------------------------------------------

std::string bind_error(const Signature &sig, size_t positional,
                       const std::vector<std::string> &keywords) {
  try {
    match_arguments(sig, positional, keywords, {});
  } catch (const UserError &e) {
    return e.kind() + ": " + e.what();
  }
  return "";
}

TEST(OpSignatureTest, DescribesParametersAsTorchDoes) {
  Signature sum = Signature::parse("torch.sum", "(input, dim=None, keepdim=False, *, dtype=None, "
                                                "~out=None)");
  EXPECT_EQ(sum.describe(), "(input, dim, keepdim, *, dtype, out)");
  Signature method = Signature::parse("Tensor.sum", "(input, dim=None, *, ~out=None)", true);
  EXPECT_EQ(method.describe(), "(dim)") << "the receiver is not listed, methods take no out=";
  Signature view = Signature::parse("Tensor.view", "(input, *size)", true);
  EXPECT_EQ(view.describe(), "(*size)");
  Signature tile =
      Signature::parse("hl.tile", "(begin_or_end, end_or_none=None, /, block_size=None)");
  EXPECT_EQ(tile.describe(), "(begin_or_end, end_or_none, /, block_size)");
}

TEST(OpSignatureTest, MatchesPositionalKeywordsAndAliases) {
  using From = ArgumentSource::From;
  Signature sum = Signature::parse("torch.sum", "(input, dim=None, keepdim=False, *, dtype=None)");
  auto s = match_arguments(sum, 2, {"keepdims", "dtype"}, {});
  EXPECT_EQ(s[0].from, From::Positional);
  EXPECT_EQ(s[1].from, From::Positional);
  EXPECT_EQ(s[2].from, From::Keyword);
  EXPECT_EQ(s[2].index, 0u);
  EXPECT_EQ(s[3].from, From::Keyword);
  s = match_arguments(sum, 0, {"a", "axis"}, {});
  EXPECT_EQ(s[0].from, From::Keyword);
  EXPECT_EQ(s[1].from, From::Keyword);
  EXPECT_EQ(s[2].from, From::Default);

  Signature view = Signature::parse("Tensor.view", "(input, *size)", true);
  s = match_arguments(view, 3, {}, {});
  EXPECT_EQ(s[1].from, From::Packed);
  EXPECT_EQ(s[1].count, 2u);
  s = match_arguments(view, 2, {}, {});
  EXPECT_EQ(s[1].from, From::Positional);
  s = match_arguments(view, 1, {"size"}, {});
  EXPECT_EQ(s[1].from, From::Keyword);
}

TEST(OpSignatureTest, RejectsWhatPythonRejects) {
  Signature sum = Signature::parse("torch.sum", "(input, dim=None, keepdim=False, *, dtype=None)");
  EXPECT_EQ(bind_error(sum, 1, {"dimension"}),
            "TorchOpTracingError: torch.sum() got an unexpected keyword argument 'dimension'; its "
            "parameters are (input, dim, keepdim, *, dtype)");
  EXPECT_EQ(bind_error(sum, 4, {}),
            "TorchOpTracingError: torch.sum() takes at most 3 positional arguments but 4 were given; its "
            "parameters are (input, dim, keepdim, *, dtype)");
  EXPECT_NE(bind_error(sum, 2, {"axis"}).find("got multiple values for argument 'dim'"),
            std::string::npos);
  EXPECT_NE(bind_error(sum, 0, {}).find("missing required argument 'input'"), std::string::npos);
  Signature method = Signature::parse("Tensor.sum", "(input, dim=None)", true);
  EXPECT_NE(bind_error(method, 1, {"input"}).find("unexpected keyword argument 'input'"),
            std::string::npos);
  EXPECT_NE(bind_error(method, 3, {}).find("takes at most 1 positional arguments but 2 were given"),
            std::string::npos);
  Signature tile =
      Signature::parse("hl.tile", "(begin_or_end, end_or_none=None, /, block_size=None)");
  EXPECT_NE(bind_error(tile, 0, {"begin_or_end"}).find("unexpected keyword argument"),
            std::string::npos);
  Signature plain = Signature::parse("hl.zeros", "(shape, dtype=torch.float32)");
  EXPECT_NE(bind_error(plain, 1, {"axis"}).find("unexpected keyword argument 'axis'"),
            std::string::npos)
      << "torch's numpy spellings are for torch functions only";
}

// ---- kernels ----------------------------------------------------------------

/// A kernel over rows of x [16, 32] (`row` is x[tile_m, :]) whose host code
/// is `host` and whose device loop ends with `line`.
Json request(const std::string &line, const std::string &host = "", bool int_input = false) {
  std::string source = "def k(x):\n    m, n = x.size()\n    out = torch.empty_like(x)\n" + host +
                       "    for tile_m in hl.tile(m):\n        row = x[tile_m, :]\n        " +
                       line + "\n    return out\n";
  Json r = requests::kernel_request(
      source, {requests::tensor_arg("x", int_input ? "int32" : "float32", {16, 32})});
  Json globals = json_field(r, "globals");
  globals["F"] = requests::module_global("torch.nn.functional");
  r["globals"] = globals;
  return r;
}

std::string generated(const Json &req) {
  CompiledKernel kernel(req);
  return kernel.generate(kernel.config_spec().default_config());
}

/// The generated Triton kernel without the host wrapper and the source
/// comments (which quote the spelling).
std::string device_code(const Json &req) {
  std::string code = generated(req);
  code = code.substr(0, code.find("\ndef k("));
  std::string out;
  size_t start = 0;
  while (start < code.size()) {
    size_t end = code.find('\n', start);
    if (end == std::string::npos) end = code.size();
    std::string line = code.substr(start, end - start);
    if (line.find("# src[") == std::string::npos) out += line + "\n";
    start = end + 1;
  }
  return out;
}

/// The user error compiling `req` raises: "<kind>: <rendered message>".
std::string user_error(const Json &req) {
  try {
    generated(req);
  } catch (const UserError &e) {
    return e.kind() + ": " + e.what();
  }
  return "";
}

struct SpellingCase {
  const char *name;
  const char *canonical; // the device loop's last line
  std::vector<const char *> spellings;
};

class SpellingTest : public ::testing::TestWithParam<SpellingCase> {};

TEST_P(SpellingTest, EverySpellingLowersAsTheCanonicalOne) {
  const SpellingCase &c = GetParam();
  std::string expected = device_code(request(c.canonical));
  for (const char *spelling : c.spellings) {
    std::string error = user_error(request(spelling));
    EXPECT_EQ(error, "") << spelling;
    if (!error.empty()) continue;
    EXPECT_EQ(device_code(request(spelling)), expected) << spelling << "\nvs " << c.canonical;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Ops, SpellingTest,
    ::testing::Values(
        SpellingCase{"sum",
                     "out[tile_m, :] = row.sum(-1, keepdim=True)",
                     {"out[tile_m, :] = row.sum(-1, True)",
                      "out[tile_m, :] = row.sum(dim=-1, keepdim=True)",
                      "out[tile_m, :] = row.sum(axis=-1, keepdims=True)",
                      "out[tile_m, :] = torch.sum(row, -1, True)",
                      "out[tile_m, :] = torch.sum(input=row, dim=-1, keepdim=True)",
                      "out[tile_m, :] = torch.sum(row, (-1,), keepdim=True, out=None)"}},
        SpellingCase{"sum_dtype",
                     "out[tile_m, :] = row.sum(-1, True, dtype=torch.float64)",
                     {"out[tile_m, :] = torch.sum(row, dim=-1, keepdim=True, "
                      "dtype=torch.float64)"}},
        SpellingCase{"mean",
                     "out[tile_m, :] = row.mean(1, True)",
                     {"out[tile_m, :] = torch.mean(row, dim=1, keepdim=True)",
                      "out[tile_m, :] = torch.mean(row, axis=[1], keepdims=True)"}},
        SpellingCase{"amax",
                     "out[tile_m, :] = row.amax(-1, True)",
                     {"out[tile_m, :] = row.amax(dim=-1, keepdim=True)",
                      "out[tile_m, :] = torch.amax(row, axis=-1, keepdim=True)",
                      "out[tile_m, :] = torch.amax(a=row, dim=(-1,), keepdims=True)"}},
        SpellingCase{"var",
                     "out[tile_m, :] = torch.var(row, 1, False, True)",
                     {"out[tile_m, :] = row.var(dim=1, keepdim=True, correction=0)",
                      "out[tile_m, :] = row.var(1, unbiased=False, keepdim=True)"}},
        SpellingCase{"argmax",
                     "out[tile_m, :] = row.argmax(1, True)",
                     {"out[tile_m, :] = torch.argmax(row, dim=1, keepdim=True)",
                      "out[tile_m, :] = torch.argmax(row, axis=1, keepdims=True)"}},
        SpellingCase{"max_other",
                     "out[tile_m, :] = torch.maximum(row, row * 2)",
                     {"out[tile_m, :] = torch.max(row, row * 2)",
                      "out[tile_m, :] = torch.max(row, other=row * 2)",
                      "out[tile_m, :] = row.max(row * 2)"}},
        SpellingCase{"softmax",
                     "out[tile_m, :] = torch.softmax(row, -1)",
                     {"out[tile_m, :] = torch.softmax(row, dim=-1)",
                      "out[tile_m, :] = row.softmax(-1)",
                      "out[tile_m, :] = torch.softmax(row, axis=-1, dtype=None)",
                      "out[tile_m, :] = torch.nn.functional.softmax(row, dim=-1)"}},
        SpellingCase{"functional",
                     "out[tile_m, :] = torch.nn.functional.gelu(row) + F.silu(row) + F.relu(row)",
                     {"out[tile_m, :] = F.gelu(row, approximate='none') + F.silu(input=row) + "
                      "F.relu(row, inplace=False)",
                      "out[tile_m, :] = F.gelu(input=row) + torch.nn.functional.silu(row) + "
                      "torch.relu(row)"}},
        SpellingCase{"logsumexp",
                     "out[tile_m, :] = torch.logsumexp(row, 1, True)",
                     {"out[tile_m, :] = row.logsumexp(dim=1, keepdim=True)"}},
        SpellingCase{"exp",
                     "out[tile_m, :] = torch.exp(row)",
                     {"out[tile_m, :] = torch.exp(input=row)", "out[tile_m, :] = torch.exp(x=row)",
                      "out[tile_m, :] = row.exp()", "out[tile_m, :] = torch.exp(row, out=None)"}},
        SpellingCase{"add_alpha",
                     "out[tile_m, :] = torch.add(row, row, alpha=2)",
                     {"out[tile_m, :] = row.add(row, alpha=2)",
                      "out[tile_m, :] = torch.add(row, other=row, alpha=2)",
                      "out[tile_m, :] = torch.add(x1=row, x2=row, alpha=2)"}},
        SpellingCase{"pow",
                     "out[tile_m, :] = torch.pow(row, 3)",
                     {"out[tile_m, :] = torch.pow(row, exponent=3)",
                      "out[tile_m, :] = row.pow(3)"}},
        SpellingCase{"div_floor",
                     "out[tile_m, :] = torch.div(row, 3, rounding_mode='floor')",
                     {"out[tile_m, :] = row.div(other=3, rounding_mode='floor')",
                      "out[tile_m, :] = torch.floor_divide(row, 3)"}},
        SpellingCase{"clamp",
                     "out[tile_m, :] = torch.clamp(row, 0.0, 1.0)",
                     {"out[tile_m, :] = torch.clamp(row, min=0.0, max=1.0)",
                      "out[tile_m, :] = row.clip(0.0, max=1.0)"}},
        SpellingCase{"where",
                     "out[tile_m, :] = torch.where(row > 0, row, 0.0)",
                     {"out[tile_m, :] = row.where(row > 0, 0.0)",
                      "out[tile_m, :] = torch.where(condition=row > 0, input=row, other=0.0)"}},
        SpellingCase{"transpose",
                     "out[tile_m, :] = torch.transpose(row, 0, 1).t()",
                     {"out[tile_m, :] = row.transpose(dim0=0, dim1=1).T",
                      "out[tile_m, :] = row.swapaxes(0, axis1=1).t()",
                      "out[tile_m, :] = row.permute(1, 0).t()",
                      "out[tile_m, :] = torch.permute(row, dims=(1, 0)).t()",
                      "out[tile_m, :] = row.permute((1, 0)).t()",
                      "out[tile_m, :] = row.permute(dims=[1, 0]).t()"}},
        SpellingCase{"unsqueeze",
                     "out[tile_m, :] = row.unsqueeze(0).squeeze(0)",
                     {"out[tile_m, :] = torch.unsqueeze(row, dim=0).squeeze(dim=0)",
                      "out[tile_m, :] = row.unsqueeze(axis=0).squeeze(axis=0)"}},
        SpellingCase{"to",
                     "out[tile_m, :] = row.to(torch.float16)",
                     {"out[tile_m, :] = row.to(dtype=torch.float16)", "out[tile_m, :] = row.half()",
                      "out[tile_m, :] = row.to(x.device, torch.float16)",
                      "out[tile_m, :] = row.to(torch.float16, False, copy=False)"}},
        SpellingCase{"hl_zeros",
                     "out[tile_m, :] = row + hl.zeros([tile_m, n])",
                     {"out[tile_m, :] = row + hl.zeros(shape=[tile_m, n], dtype=torch.float32)",
                      "out[tile_m, :] = row + hl.full([tile_m, n], 0.0)",
                      "out[tile_m, :] = row + hl.full([tile_m, n], value=0.0, dtype=torch.float32)",
                      "out[tile_m, :] = row + torch.zeros_like(row)",
                      "out[tile_m, :] = row + torch.full_like(input=row, fill_value=0.0)"}},
        SpellingCase{"hl_store",
                     "hl.store(out, [tile_m, 0], row.sum(-1))",
                     {"hl.store(tensor=out, index=[tile_m, 0], value=row.sum(-1))",
                      "hl.store(out, [tile_m, 0], row.sum(-1), extra_mask=None)",
                      "out[tile_m, 0] = row.sum(-1)"}},
        SpellingCase{"hl_load",
                     "out[tile_m, 0] = hl.load(x, [tile_m, 0])",
                     {"out[tile_m, 0] = hl.load(tensor=x, index=[tile_m, 0], extra_mask=None)",
                      "out[tile_m, 0] = x[tile_m, 0]"}}),
    [](const ::testing::TestParamInfo<SpellingCase> &info) {
      return std::string(info.param.name);
    });

struct BadCallCase {
  const char *name;
  const char *line;
  const char *host; // host statements before the loop, or ""
  const char *kind;
  const char *message;
};

class BadCallTest : public ::testing::TestWithParam<BadCallCase> {};

TEST_P(BadCallTest, NamesTheOpAndTheParameterAtTheCall) {
  const BadCallCase &c = GetParam();
  std::string error = user_error(request(c.line, c.host));
  EXPECT_EQ(error.rfind(std::string(c.kind) + ": ", 0), 0u) << error;
  EXPECT_NE(error.find(c.message), std::string::npos) << error;
  EXPECT_NE(error.find("^"), std::string::npos) << error;
}

INSTANTIATE_TEST_SUITE_P(
    Ops, BadCallTest,
    ::testing::Values(
        BadCallCase{"unknown_keyword_method", "out[tile_m, :] = row.sum(dimension=1)", "",
                    "TorchOpTracingError",
                    "Tensor.sum() got an unexpected keyword argument 'dimension'; its parameters "
                    "are (dim, keepdim, *, dtype)"},
        BadCallCase{"unknown_keyword_function",
                    "out[tile_m, :] = torch.amax(row, dimension=1, keepdim=True)", "", "TorchOpTracingError",
                    "torch.amax() got an unexpected keyword argument 'dimension'; its parameters "
                    "are (input, dim, keepdim, *, out)"},
        BadCallCase{"unknown_keyword_unary", "out[tile_m, :] = torch.exp(row, foo=1)", "",
                    "TorchOpTracingError", "torch.exp() got an unexpected keyword argument 'foo'"},
        BadCallCase{"misspelled_dim", "out[tile_m, :] = row.mean(dimdim=1, keepdim=True)", "",
                    "TorchOpTracingError", "Tensor.mean() got an unexpected keyword argument 'dimdim'"},
        BadCallCase{"too_many_positional",
                    "out[tile_m, :] = torch.sum(row, 1, True, torch.float64)", "", "TorchOpTracingError",
                    "torch.sum() takes at most 3 positional arguments but 4 were given"},
        BadCallCase{"duplicate", "out[tile_m, :] = torch.sum(row, 1, dim=1)", "", "TorchOpTracingError",
                    "torch.sum() got multiple values for argument 'dim'"},
        BadCallCase{"duplicate_alias", "out[tile_m, :] = row.sum(dim=1, axis=1)", "", "TorchOpTracingError",
                    "Tensor.sum() got multiple values for argument 'dim'"},
        BadCallCase{"keepdim_without_dim", "out[tile_m, :] = row.sum(keepdim=True)", "",
                    "TorchOpTracingError", "Tensor.sum() takes keepdim only with a dim"},
        BadCallCase{"missing", "out[tile_m, :] = torch.softmax(row)", "", "TorchOpTracingError",
                    "torch.softmax() missing required argument 'dim'"},
        BadCallCase{"receiver_by_keyword", "out[tile_m, :] = row.exp(input=row)", "", "TorchOpTracingError",
                    "Tensor.exp() got an unexpected keyword argument 'input'"},
        BadCallCase{"out", "out[tile_m, :] = torch.exp(row, out=row)", "", "UnsupportedOp",
                    "torch.exp() does not support the argument 'out'"},
        BadCallCase{"inplace", "out[tile_m, :] = torch.nn.functional.relu(row, inplace=True)", "",
                    "UnsupportedOp",
                    "torch.nn.functional.relu() does not support the argument 'inplace'"},
        BadCallCase{"relu_has_no_inplace", "out[tile_m, :] = torch.relu(row, inplace=False)", "",
                    "TorchOpTracingError", "torch.relu() got an unexpected keyword argument 'inplace'"},
        BadCallCase{"pow_other", "out[tile_m, :] = torch.pow(row, other=2)", "", "TorchOpTracingError",
                    "torch.pow() got an unexpected keyword argument 'other'"},
        BadCallCase{"max_keepdim_other", "out[tile_m, :] = torch.max(row, row, keepdim=True)", "",
                    "TorchOpTracingError", "torch.max() against another tensor takes no dim or keepdim"},
        BadCallCase{"var_twice", "out[tile_m, :] = row.var(1, True, unbiased=True)", "",
                    "TorchOpTracingError", "Tensor.var() got multiple values for argument 'unbiased'"},
        BadCallCase{"hl_zeros", "out[tile_m, :] = hl.zeros([tile_m, n], torch.float32, foo=1)", "",
                    "TorchOpTracingError", "hl.zeros() got an unexpected keyword argument 'foo'"},
        BadCallCase{"hl_load_mask", "out[tile_m, 0] = hl.load(x, [tile_m, 0], mask=None)", "",
                    "TorchOpTracingError",
                    "hl.load() got an unexpected keyword argument 'mask'; its parameters are "
                    "(tensor, index, extra_mask, eviction_policy)"},
        BadCallCase{"hl_load_eviction",
                    "out[tile_m, 0] = hl.load(x, [tile_m, 0], eviction_policy='evict_later')", "",
                    "InvalidAPIUsage",
                    "hl.load got eviction_policy=\"evict_later\"; use \"evict_first\", "
                    "\"evict_last\""},
        BadCallCase{"hl_load_eviction_type",
                    "out[tile_m, 0] = hl.load(x, [tile_m, 0], eviction_policy=1)", "",
                    "InvalidAPIUsage", "hl.load's eviction_policy must be a string"},
        BadCallCase{"hl_store_missing", "hl.store(out, [tile_m, 0])", "", "TorchOpTracingError",
                    "hl.store() missing required argument 'value'"},
        BadCallCase{"hl_atomic", "hl.atomic_add(out, [tile_m, 0], row.sum(-1), semantic='relaxed')",
                    "", "TorchOpTracingError",
                    "hl.atomic_add() got an unexpected keyword argument 'semantic'"},
        BadCallCase{"hl_dot", "out[tile_m, :] = hl.dot(row, row.t(), accumulator=None)", "",
                    "TorchOpTracingError", "hl.dot() got an unexpected keyword argument 'accumulator'"},
        BadCallCase{"static_range",
                    "for i in hl.static_range(0, 2, stride=1):\n            out[tile_m, :] = row",
                    "", "TorchOpTracingError",
                    "hl.static_range() got an unexpected keyword argument 'stride'; its "
                    "parameters are (begin_or_end, end_or_none, /, step)"},
        BadCallCase{"grid_step", "for j in hl.grid(n, step=2):\n            out[tile_m, :] = row",
                    "", "UnsupportedOp", "hl.grid() does not support the argument 'step'"},
        BadCallCase{"inner_tile",
                    "for t in hl.tile(n, blocksize=16):\n            out[tile_m, t] = row[:, t]",
                    "", "TorchOpTracingError", "hl.tile() got an unexpected keyword argument 'blocksize'"},
        BadCallCase{"host_empty", "out[tile_m, :] = row",
                    "    t = torch.empty(m, n, dtyp=torch.float32)\n",
                    "TorchOpTracingError", "torch.empty() got an unexpected keyword argument 'dtyp'"},
        BadCallCase{"host_empty_out", "out[tile_m, :] = row", "    t = torch.empty(m, n, out=x)\n",
                    "UnsupportedOp", "torch.empty() does not support the argument 'out'"},
        BadCallCase{"host_size", "out[tile_m, :] = row", "    t = x.size(dimension=0)\n",
                    "TorchOpTracingError", "Tensor.size() got an unexpected keyword argument 'dimension'"},
        BadCallCase{"host_full", "out[tile_m, :] = row", "    t = torch.full((m, n))\n",
                    "TorchOpTracingError", "torch.full() missing required argument 'fill_value'"},
        BadCallCase{"host_view", "out[tile_m, :] = row", "    t = x.view(m, n, shape=(m, n))\n",
                    "TorchOpTracingError", "Tensor.view() got an unexpected keyword argument 'shape'"},
        BadCallCase{"host_specialize", "out[tile_m, :] = row", "    t = hl.specialize(v=n)\n",
                    "TorchOpTracingError", "hl.specialize() got an unexpected keyword argument 'v'"},
        BadCallCase{"device_size", "out[tile_m, :] = row * x.size(dimension=1)", "", "TorchOpTracingError",
                    "Tensor.size() got an unexpected keyword argument 'dimension'"}),
    [](const ::testing::TestParamInfo<BadCallCase> &info) { return std::string(info.param.name); });

TEST(OpSignatureTest, TileAndGridBindTheirParameters) {
  std::string source = "def k(x):\n    m, n = x.size()\n    out = torch.empty_like(x)\n"
                       "    for tile_m in hl.tile(m, block_sz=16):\n        out[tile_m, :] = "
                       "x[tile_m, :]\n    return out\n";
  Json req = request("out[tile_m, :] = row");
  req["source"] = source;
  std::string error = user_error(req);
  EXPECT_NE(error.find("hl.tile() got an unexpected keyword argument 'block_sz'; its parameters "
                       "are (begin_or_end, end_or_none, /, block_size)"),
            std::string::npos)
      << error;
  req["source"] = std::string(source).replace(source.find("block_sz=16"), 11, "block_size=16");
  EXPECT_EQ(user_error(req), "");
  req["source"] = std::string(source).replace(source.find("hl.tile(m, block_sz=16)"), 23,
                                              "hl.tile(0, m, 16, 32)");
  EXPECT_NE(user_error(req).find("hl.tile() takes at most 3 positional arguments but 4 were given"),
            std::string::npos);
}

TEST(OpSignatureTest, HostAllocationsTakeTorchsForms) {
  for (const char *host : {"    t = torch.empty(m, n, dtype=torch.float16, device=x.device)\n",
                           "    t = torch.empty([m, n], dtype=torch.float16, layout=None, "
                           "device=x.device, "
                           "pin_memory=False, requires_grad=False)\n",
                           "    t = torch.empty((m, n), dtype=torch.float16, device=x.device)\n",
                           "    t = torch.empty(size=(m, n), device=x.device, "
                           "dtype=torch.float16)\n",
                           "    t = torch.zeros(m, n, device=x.device).to(torch.float16)\n",
                           "    t = x.new_empty(m, n, dtype=torch.float16)\n",
                           "    t = x.new_zeros(size=(m, n)).to(dtype=torch.float16)\n",
                           "    t = torch.full((m, n), 1.5, dtype=torch.float16, "
                           "device=x.device)\n",
                           "    t = torch.empty_like(x, dtype=torch.float16)\n"}) {
    // t is float16 [16, 32]: storing a float16 row into it needs no cast.
    const char *line = "t[tile_m, :] = row.to(torch.float16)";
    std::string canonical = "    t = torch.empty(m, n, dtype=torch.float16, device=x.device)\n";
    EXPECT_EQ(device_code(request(line, host)), device_code(request(line, canonical))) << host;
  }
}

TEST(OpSignatureTest, FullTakesItsDtypeFromTheFillValue) {
  // torch.full((m, n), 7) is int64, as in torch.
  const char *line = "t[tile_m, :] = row.to(torch.int64)";
  std::string canonical = "    t = torch.empty(m, n, dtype=torch.int64, device=x.device)\n";
  EXPECT_EQ(device_code(request(line, "    t = torch.full((m, n), 7, device=x.device)\n")),
            device_code(request(line, canonical)));
}

TEST(OpSignatureTest, StatisticsOverEveryDimensionCompile) {
  // The element count of a reduction over several dims used to read a dim
  // through a reference into the node list while appending to it.
  for (const char *line : {"out[tile_m, :] = row - row.mean((0, 1), keepdim=True)",
                           "out[tile_m, :] = row - torch.var(row, keepdim=True)",
                           "out[tile_m, :] = row - row.std(dim=(0, 1), keepdim=True)"})
    EXPECT_EQ(user_error(request(line)), "") << line;
}

} // namespace
} // namespace helion
