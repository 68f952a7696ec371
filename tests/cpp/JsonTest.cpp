// The project's rules on top of nlohmann's JSON: the text Python writes and
// reads, the limits on what the core accepts, and the typed reads.

#include "support/Json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>

using helion::dump_text;
using helion::Json;
using helion::json_field;
using helion::json_int;
using helion::json_number;
using helion::json_same;
using helion::parse_json_text;

namespace {

std::string parse_error(const std::string &text) {
  try {
    parse_json_text(text);
  } catch (const std::runtime_error &error) {
    return error.what();
  }
  return "<no error>";
}

bool has(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

TEST(JsonTest, DumpUsesPythonSeparators) {
  Json value = Json::object();
  value["a"] = Json::array({1, 2});
  value["b"] = Json();
  value["c"] = Json::object({{"d", true}, {"e", "x"}});
  EXPECT_EQ(dump_text(value), R"({"a": [1, 2], "b": null, "c": {"d": true, "e": "x"}})");
  EXPECT_EQ(dump_text(Json::array()), "[]");
  EXPECT_EQ(dump_text(Json::object()), "{}");
}

TEST(JsonTest, ObjectKeepsInsertionOrderAndReplacesInPlace) {
  Json value = Json::object();
  value["z"] = 1;
  value["a"] = 2;
  value["z"] = 3;
  EXPECT_EQ(dump_text(value), R"({"z": 3, "a": 2})");
  // Python's json keeps a repeated key's last value.
  EXPECT_EQ(dump_text(parse_json_text(R"({"b": 1, "a": 2, "b": 5})")), R"({"b": 5, "a": 2})");
}

TEST(JsonTest, MissingFieldsReadAsNull) {
  Json value = parse_json_text(R"({"n": null, "i": -42})");
  EXPECT_TRUE(json_field(value, "missing").is_null());
  EXPECT_EQ(json_int(json_field(value, "i")), -42);
  EXPECT_THROW(json_field(Json(1), "k"), std::runtime_error);
}

TEST(JsonTest, IntsStayIntsAndFloatsStayFloats) {
  EXPECT_TRUE(parse_json_text("1").is_number_integer());
  EXPECT_TRUE(parse_json_text("1.0").is_number_float());
  EXPECT_TRUE(parse_json_text("1e2").is_number_float());
  EXPECT_TRUE(parse_json_text("9223372036854775807").is_number_integer());
  EXPECT_FALSE(parse_json_text("9223372036854775807").is_number_unsigned());
  EXPECT_EQ(dump_text(Json(1.0)), "1.0");
  EXPECT_EQ(dump_text(Json(-0.0)), "-0.0");
  EXPECT_EQ(dump_text(Json(int64_t(9007199254740993))), "9007199254740993");
  EXPECT_EQ(json_int(parse_json_text("-9223372036854775808")), std::numeric_limits<int64_t>::min());
  EXPECT_FALSE(json_same(Json(1), Json(1.0)));
  EXPECT_FALSE(json_same(Json::array({1}), Json::array({1.0})));
  EXPECT_TRUE(
      json_same(parse_json_text(R"({"a": [1, 2.5]})"), parse_json_text(R"({"a": [1, 2.5]})")));
}

TEST(JsonTest, TypedReadsAreStrict) {
  // nlohmann's get<int64_t>() would truncate a float and read a bool as 1.
  EXPECT_THROW(json_int(Json(1.5)), std::runtime_error);
  EXPECT_THROW(json_int(Json(true)), std::runtime_error);
  EXPECT_THROW(json_number(Json(true)), std::runtime_error);
  EXPECT_EQ(json_number(Json(3)), 3.0);
  EXPECT_THROW(json_int(Json(uint64_t(1) << 63)), std::runtime_error);
  try {
    json_int(Json("x"));
    FAIL();
  } catch (const std::runtime_error &error) {
    EXPECT_STREQ(error.what(), "json: expected int, got string");
  }
}

TEST(JsonTest, FloatsPrintShortestRoundTrip) {
  EXPECT_EQ(dump_text(Json(0.1)), "0.1");
  EXPECT_EQ(dump_text(Json(1e300)), "1e+300");
  EXPECT_EQ(dump_text(Json(1e-05)), "1e-05");
  EXPECT_EQ(dump_text(Json(0.1 + 0.2)), "0.30000000000000004");
  std::mt19937_64 rng(7);
  for (int i = 0; i < 2000; ++i) {
    uint64_t bits = rng();
    double value;
    std::memcpy(&value, &bits, sizeof value);
    if (!std::isfinite(value)) continue;
    Json back = parse_json_text(dump_text(Json(value)));
    ASSERT_TRUE(back.is_number_float()) << dump_text(Json(value));
    ASSERT_EQ(back.get<double>(), value) << dump_text(Json(value));
  }
}

TEST(JsonTest, NonFiniteFloatsRoundTripAsPythonWritesThem) {
  // Python's json module writes a kernel's global float("-inf") this way.
  EXPECT_EQ(dump_text(Json(HUGE_VAL)), "Infinity");
  EXPECT_EQ(dump_text(Json(-HUGE_VAL)), "-Infinity");
  EXPECT_EQ(dump_text(Json::array({std::nan("")})), "[NaN]");
  EXPECT_EQ(dump_text(parse_json_text("[Infinity, -Infinity]")), "[Infinity, -Infinity]");
  EXPECT_TRUE(std::isnan(json_field(parse_json_text(R"({"a": NaN})"), "a").get<double>()));
  // Only the bare words: strings that spell them stay strings.
  EXPECT_EQ(parse_json_text(R"(["NaN", "-Infinity"])")[0], "NaN");
  EXPECT_EQ(parse_json_text(R"(["NaN", "-Infinity"])")[1], "-Infinity");
  EXPECT_TRUE(has(parse_error("nan"), "invalid literal at offset 1")) << parse_error("nan");
  EXPECT_TRUE(has(parse_error("-Inf"), "json: "));
  EXPECT_TRUE(has(parse_error("{NaN: 1}"), "expected a string key"));
}

TEST(JsonTest, RejectsNumbersOutOfRange) {
  EXPECT_EQ(parse_error("9223372036854775808"),
            "json: integer 9223372036854775808 does not fit in 64 bits");
  EXPECT_EQ(parse_error("[-9223372036854775809]"),
            "json: integer -9223372036854775809 does not fit in 64 bits");
  EXPECT_EQ(parse_error("18446744073709551616"),
            "json: integer 18446744073709551616 does not fit in 64 bits");
  EXPECT_EQ(parse_error("1e999"), "json: number 1e999 is too large for a 64-bit float");
  EXPECT_EQ(parse_error("[-1.5e400]"), "json: number -1.5e400 is too large for a 64-bit float");
  EXPECT_EQ(parse_json_text("1e-400").get<double>(), 0.0); // underflow rounds to zero
}

TEST(JsonTest, RejectsInvalidUtf8) {
  const char *bad[] = {"\"\x80\"", "\"\xc3\"", "\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "\"\xff\""};
  for (const char *text : bad)
    EXPECT_TRUE(has(parse_error(text), "ill-formed UTF-8")) << parse_error(text);
}

TEST(JsonTest, DeepNestingIsAnErrorNotACrash) {
  for (char open : {'[', '{'}) {
    std::string text;
    for (int i = 0; i < 100000; ++i)
      text += open == '[' ? "[" : "{\"a\": ";
    EXPECT_TRUE(has(parse_error(text), "nesting deeper than 512"));
  }
  std::string deep_but_legal = std::string(512, '[') + std::string(512, ']');
  EXPECT_EQ(parse_json_text(deep_but_legal).size(), 1u);
}

TEST(JsonTest, StringsEscapeAsPythonWritesThem) {
  Json value(std::string("a\"b\\c\n\t\r\b\f\x01\x1f/\xc3\xa9"));
  EXPECT_EQ(dump_text(value), R"("a\"b\\c\n\t\r\b\f\u0001\u001f/)"
                              "\xc3\xa9\"");
  EXPECT_EQ(parse_json_text(dump_text(value)), value);
  EXPECT_EQ(dump_text(Json(std::string(1, '\0'))), R"("\u0000")");
}

TEST(JsonTest, ErrorsNameTheOffsetInTheCallersText) {
  EXPECT_TRUE(has(parse_error("[1 2]"), "at offset 3")) << parse_error("[1 2]");
  EXPECT_TRUE(has(parse_error("1 2"), "at offset 2")) << parse_error("1 2");
  // Offsets count the text as given, before NaN became what nlohmann reads.
  EXPECT_TRUE(has(parse_error("[NaN, NaN x]"), "at offset 10")) << parse_error("[NaN, NaN x]");
  EXPECT_EQ(parse_error(""), "json: syntax error while parsing value - unexpected end of input; "
                             "expected '[', '{', or a literal at offset 0");
  // The text read is left out: it may not be UTF-8.
  EXPECT_EQ(
      parse_error("\"\x80\""),
      "json: syntax error while parsing value - invalid string: ill-formed UTF-8 byte at offset 1");
}

TEST(JsonTest, UnpairedSurrogatesSurviveAsPythonsJsonKeepsThem) {
  // Python's json.dumps writes a file name's lone surrogates (`\udc80`) this way.
  Json v = parse_json_text(R"(["\ud800", "\udc80x", "\ud83d\ude00", "\ud800\u0041", "\\ud800"])");
  EXPECT_EQ(v[0], "\xed\xa0\x80");
  EXPECT_EQ(v[1], "\xed\xb2\x80x");
  EXPECT_EQ(v[2], "\xf0\x9f\x98\x80");
  EXPECT_EQ(v[3], "\xed\xa0\x80"
                  "A");
  EXPECT_EQ(v[4], "\\ud800");
  EXPECT_EQ(dump_text(v), R"(["\ud800", "\udc80x", ")"
                          "\xf0\x9f\x98\x80"
                          R"(", "\ud800A", "\\ud800"])");
  EXPECT_EQ(json_field(parse_json_text(R"({"\udc80": 1})"), "\xed\xb2\x80"), 1);
}

TEST(JsonTest, TheMarkForPythonsExtensionsIsPlainTextInStrings) {
  // U+FDD0 marks NaN and surrogates on their way through nlohmann; the
  // text's own U+FDD0, raw or escaped, stays itself.
  const std::string mark = "\xef\xb7\x90";
  Json v = parse_json_text("[\"" + mark + "NaN\", \"\\ufdd0dc80\", \"" + mark + mark + "\"]");
  EXPECT_EQ(v[0], mark + "NaN");
  EXPECT_EQ(v[1], mark + "dc80");
  EXPECT_EQ(v[2], mark + mark);
}

TEST(JsonTest, RoundTripsNestedValues) {
  const char *texts[] = {
      R"({"block_sizes": [[64, 128], [16]], "loop_orders": [[1, 0]], "reduction_loops": [null, 4096], "indexing": ["pointer", "block_ptr"], "use_yz_grid": true, "x": -1.25})",
      R"([[], {}, [[[]]], "", 0, -0.5])",
  };
  for (const char *text : texts)
    EXPECT_EQ(dump_text(parse_json_text(text)), text);
}

/// Mutated and random inputs either parse (and then round-trip) or throw
/// std::runtime_error starting "json: ": never anything else, never a crash.
TEST(JsonTest, CorruptInputsFailCleanly) {
  const std::string seed =
      R"({"block_sizes": [[64, 128], [16]], "s": "a\u00e9\ud83d\ude00\udc80\n", "f": -1.5e3, )"
      R"("n": null, "b": [true, false, NaN, -Infinity], "i": -9223372036854775808})";
  const std::string alphabet = "[]{}\",:.-+eE0123456789tnfaIN\\u\x00\x80\xc3\xed\xff ";
  std::mt19937_64 rng(1);
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  int parsed = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string text = seed;
    if (round % 4 == 0) {
      text.clear();
      for (size_t i = 0, n = pick(40); i < n; ++i)
        text.push_back(alphabet[pick(alphabet.size())]);
    } else {
      for (size_t edits = 1 + pick(4); edits > 0; --edits) {
        size_t at = pick(text.size());
        switch (pick(3)) {
        case 0:
          text[at] = alphabet[pick(alphabet.size())];
          break;
        case 1:
          text.erase(at, 1);
          break;
        default:
          text.insert(at, 1, alphabet[pick(alphabet.size())]);
        }
      }
    }
    try {
      Json value = parse_json_text(text);
      ++parsed;
      ASSERT_EQ(dump_text(parse_json_text(dump_text(value))), dump_text(value)) << text;
    } catch (const std::runtime_error &error) {
      ASSERT_EQ(std::string(error.what()).rfind("json: ", 0), 0u) << text;
    }
  }
  EXPECT_GT(parsed, 0);
}

} // namespace
