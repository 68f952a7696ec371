#include "support/Json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>

using helion::Json;

namespace {

std::string parse_error(const std::string &text) {
  try {
    Json::parse(text);
  } catch (const std::runtime_error &error) {
    return error.what();
  }
  return "<no error>";
}

TEST(JsonTest, DumpUsesPythonSeparators) {
  Json value = Json::object();
  value.set("a", Json(Json::Array{Json(1), Json(2)}));
  value.set("b", Json());
  value.set("c", Json(Json::Object{{"d", Json(true)}, {"e", Json("x")}}));
  EXPECT_EQ(value.dump(), R"({"a": [1, 2], "b": null, "c": {"d": true, "e": "x"}})");
  EXPECT_EQ(Json::array().dump(), "[]");
  EXPECT_EQ(Json::object().dump(), "{}");
}

TEST(JsonTest, ObjectKeepsInsertionOrderAndReplacesInPlace) {
  Json value = Json::object();
  value.set("z", Json(1));
  value.set("a", Json(2));
  value.set("z", Json(3));
  EXPECT_EQ(value.dump(), R"({"z": 3, "a": 2})");
  EXPECT_EQ(Json::parse(R"({"b": 1, "a": 2, "b": 5})").dump(), R"({"b": 5, "a": 2})");
}

TEST(JsonTest, ParsesEveryKind) {
  Json value = Json::parse(R"( { "n": null, "t": true, "f": false, "i": -42, "x": 2.5e3,
                                 "s": "hi", "l": [1, [2], {}], "o": {"k": "v"} } )");
  EXPECT_TRUE(value["n"].is_null());
  EXPECT_TRUE(value["t"].as_bool());
  EXPECT_FALSE(value["f"].as_bool());
  EXPECT_EQ(value["i"].as_int(), -42);
  EXPECT_TRUE(value["i"].is_int());
  EXPECT_EQ(value["x"].type(), Json::Type::Float);
  EXPECT_EQ(value["x"].as_double(), 2500.0);
  EXPECT_EQ(value["s"].as_string(), "hi");
  EXPECT_EQ(value["l"].size(), 3u);
  EXPECT_EQ(value["l"][1][0].as_int(), 2);
  EXPECT_EQ(value["o"]["k"].as_string(), "v");
  EXPECT_TRUE(value["missing"].is_null());
  EXPECT_TRUE(value.contains("n"));
  EXPECT_FALSE(value.contains("missing"));
}

TEST(JsonTest, IntsStayIntsAndFloatsStayFloats) {
  EXPECT_EQ(Json::parse("1").type(), Json::Type::Int);
  EXPECT_EQ(Json::parse("1.0").type(), Json::Type::Float);
  EXPECT_EQ(Json::parse("1e2").type(), Json::Type::Float);
  EXPECT_EQ(Json(1.0).dump(), "1.0");
  EXPECT_EQ(Json(-0.0).dump(), "-0.0");
  EXPECT_EQ(Json(int64_t(9007199254740993)).dump(), "9007199254740993");
  EXPECT_EQ(Json::parse("-9223372036854775808").as_int(), std::numeric_limits<int64_t>::min());
  EXPECT_NE(Json(1), Json(1.0));
}

TEST(JsonTest, FloatsPrintShortestRoundTrip) {
  EXPECT_EQ(Json(0.1).dump(), "0.1");
  EXPECT_EQ(Json(1.5).dump(), "1.5");
  EXPECT_EQ(Json(1e300).dump(), "1e+300");
  EXPECT_EQ(Json(0.1 + 0.2).dump(), "0.30000000000000004");
  const double samples[] = {0.0,     -0.0, 0.1,  1.0 / 3.0, 123456789.123,          5e-324, 1e-7,
                            2.5e-10, 1e16, 1e22, -2.75,     1.7976931348623157e308, 3.14159};
  for (double sample : samples) {
    Json back = Json::parse(Json(sample).dump());
    EXPECT_EQ(back.type(), Json::Type::Float) << sample;
    EXPECT_EQ(back.as_double(), sample) << Json(sample).dump();
    EXPECT_EQ(std::signbit(back.as_double()), std::signbit(sample));
  }
  std::mt19937_64 rng(7);
  for (int i = 0; i < 2000; ++i) {
    uint64_t bits = rng();
    double value;
    static_assert(sizeof value == sizeof bits, "");
    std::memcpy(&value, &bits, sizeof value);
    if (!std::isfinite(value)) continue;
    EXPECT_EQ(Json::parse(Json(value).dump()), Json(value)) << Json(value).dump();
  }
}

TEST(JsonTest, NonFiniteFloatsRoundTripAsPythonWritesThem) {
  // Python's json module writes a kernel's global float("-inf") this way.
  EXPECT_EQ(Json(HUGE_VAL).dump(), "Infinity");
  EXPECT_EQ(Json(-HUGE_VAL).dump(), "-Infinity");
  EXPECT_EQ(Json(Json::Array{Json(std::nan(""))}).dump(), "[NaN]");
  EXPECT_EQ(Json::parse("[Infinity, -Infinity]").dump(), "[Infinity, -Infinity]");
  EXPECT_TRUE(std::isnan(Json::parse(R"({"a": NaN})")["a"].as_double()));
  EXPECT_EQ(parse_error("nan"), "json: unexpected character 'n' at offset 0");
  EXPECT_EQ(parse_error("-Inf"), "json: expected a digit at offset 1");
}

TEST(JsonTest, RejectsNumbersOutOfRange) {
  EXPECT_EQ(parse_error("9223372036854775808"),
            "json: integer 9223372036854775808 does not fit in 64 bits at offset 0");
  EXPECT_EQ(parse_error("[-9223372036854775809]"),
            "json: integer -9223372036854775809 does not fit in 64 bits at offset 1");
  EXPECT_EQ(Json::parse("9223372036854775807").as_int(), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(Json::parse("-9223372036854775808").as_int(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(parse_error("1e999"), "json: number 1e999 is too large for a 64-bit float at offset 0");
  EXPECT_EQ(parse_error("[-1.5e400]"),
            "json: number -1.5e400 is too large for a 64-bit float at offset 1");
  EXPECT_EQ(Json::parse("1e-400").as_double(), 0.0); // underflow rounds to zero
}

TEST(JsonTest, RejectsInvalidUtf8) {
  EXPECT_EQ(Json::parse("\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"").as_string(),
            "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
  const char *bad[] = {
      "\"\x80\"",             // a lone continuation byte
      "\"\xc3\"",             // truncated
      "\"\xc0\xaf\"",         // overlong '/'
      "\"\xe0\x80\xaf\"",     // overlong '/'
      "\"\xed\xa0\x80\"",     // an encoded surrogate (U+D800)
      "\"\xf4\x90\x80\x80\"", // above U+10FFFF
      "\"\xff\"",
  };
  for (const char *text : bad)
    EXPECT_EQ(parse_error(text), "json: invalid UTF-8 in string at offset 1") << text;
  EXPECT_EQ(parse_error("{\"a\xe2\x82\": 1}"), "json: invalid UTF-8 in string at offset 3");
}

TEST(JsonTest, RejectsTruncatedEscapes) {
  EXPECT_EQ(parse_error(R"("\ud8")"), "json: truncated \\u escape at offset 1");
}

TEST(JsonTest, DeepNestingIsAnErrorNotACrash) {
  for (char open : {'[', '{'}) {
    std::string text;
    for (int i = 0; i < 100000; ++i)
      text += open == '[' ? "[" : "{\"a\": ";
    EXPECT_NE(parse_error(text).find("nesting deeper than 512"), std::string::npos);
  }
  std::string deep_but_legal = std::string(512, '[') + std::string(512, ']');
  EXPECT_EQ(Json::parse(deep_but_legal).size(), 1u);
}

TEST(JsonTest, StringsEscapeQuotesBackslashesAndControlCharacters) {
  Json value(std::string("a\"b\\c\n\t\r\b\f\x01\x1f/\xc3\xa9"));
  EXPECT_EQ(value.dump(), R"("a\"b\\c\n\t\r\b\f\u0001\u001f/)"
                          "\xc3\xa9\"");
  EXPECT_EQ(Json::parse(value.dump()), value);
}

TEST(JsonTest, ParsesUnicodeEscapesToUtf8) {
  EXPECT_EQ(Json::parse(R"("\u0041\u00e9\u20AC")").as_string(), "A\xc3\xa9\xe2\x82\xac");
  EXPECT_EQ(Json::parse(R"("\ud83d\ude00")").as_string(), "\xf0\x9f\x98\x80");
  EXPECT_EQ(Json::parse(R"("\/\"\\")").as_string(), "/\"\\");
  EXPECT_EQ(Json::parse(R"("\u0000")").as_string(), std::string(1, '\0'));
  EXPECT_EQ(Json(std::string(1, '\0')).dump(), R"("\u0000")");
}

TEST(JsonTest, ErrorsNameTheOffset) {
  EXPECT_EQ(parse_error(""), "json: expected a value, got end of input at offset 0");
  EXPECT_EQ(parse_error("[1, 2"), "json: expected ',' or ']', got end of input at offset 5");
  EXPECT_EQ(parse_error("[1 2]"), "json: expected ',' or ']' at offset 3");
  EXPECT_EQ(parse_error(R"({"a" 1})"), "json: expected ':' at offset 5");
  EXPECT_EQ(parse_error("{1: 2}"), "json: expected a string key at offset 1");
  EXPECT_EQ(parse_error("[1,]"), "json: unexpected character ']' at offset 3");
  EXPECT_EQ(parse_error("01"), "json: leading zeros are not allowed at offset 1");
  EXPECT_EQ(parse_error("1."), "json: expected a digit after '.' at offset 2");
  EXPECT_EQ(parse_error("1 2"), "json: unexpected trailing characters at offset 2");
  EXPECT_EQ(parse_error("tru"), "json: unexpected character 't' at offset 0");
  EXPECT_EQ(parse_error(R"("abc)"), "json: unterminated string at offset 4");
  EXPECT_EQ(parse_error("\"a\nb\""), "json: control character in string; escape it at offset 2");
  EXPECT_EQ(parse_error(R"("\x")"), "json: invalid escape '\\x' at offset 1");
  EXPECT_EQ(parse_error(R"("\u12g4")"), "json: invalid hex digit in \\u escape at offset 1");
  EXPECT_EQ(parse_error("99999999999999999999"),
            "json: integer 99999999999999999999 does not fit in 64 bits at offset 0");
  EXPECT_EQ(parse_error(std::string(600, '[')), "json: nesting deeper than 512 at offset 513");
}

TEST(JsonTest, UnpairedSurrogatesSurviveAsPythonsJsonKeepsThem) {
  // Python's json.dumps writes a file name's lone surrogates (`\udc80`) this way.
  Json v = Json::parse(R"(["\ud800", "\udc80x", "\ud83d\ude00", "\ud800\u0041"])");
  EXPECT_EQ(v[0].as_string(), "\xed\xa0\x80");
  EXPECT_EQ(v[1].as_string(), "\xed\xb2\x80x");
  EXPECT_EQ(v[2].as_string(), "\xf0\x9f\x98\x80");
  EXPECT_EQ(v[3].as_string(), "\xed\xa0\x80"
                              "A");
  EXPECT_EQ(v.dump(), R"(["\ud800", "\udc80x", ")"
                      "\xf0\x9f\x98\x80"
                      R"(", "\ud800A"])");
}

TEST(JsonTest, AccessorsThrowOnTypeMismatch) {
  Json value = Json::parse(R"({"a": [1]})");
  EXPECT_THROW(value.as_int(), std::runtime_error);
  EXPECT_THROW(value["a"].as_string(), std::runtime_error);
  EXPECT_THROW(value["a"][1], std::runtime_error);
  EXPECT_THROW(Json(1).set("k", Json()), std::runtime_error);
  EXPECT_THROW(Json(1).push_back(Json()), std::runtime_error);
  EXPECT_EQ(Json(3).as_double(), 3.0);
  try {
    Json("x").as_int();
    FAIL();
  } catch (const std::runtime_error &error) {
    EXPECT_STREQ(error.what(), "json: expected int, got string");
  }
}

TEST(JsonTest, RoundTripsNestedValues) {
  const char *texts[] = {
      R"({"block_sizes": [[64, 128], [16]], "loop_orders": [[1, 0]], "reduction_loops": [null, 4096], "indexing": ["pointer", "block_ptr"], "use_yz_grid": true, "x": -1.25})",
      R"([[], {}, [[[]]], "", 0, -0.5])",
  };
  for (const char *text : texts) {
    Json value = Json::parse(text);
    EXPECT_EQ(value.dump(), text);
    EXPECT_EQ(Json::parse(value.dump()), value);
  }
}

/// Mutated and random inputs either parse (and then round-trip) or throw
/// std::runtime_error: never anything else, never a crash.
TEST(JsonTest, CorruptInputsFailCleanly) {
  const std::string seed =
      R"({"block_sizes": [[64, 128], [16]], "s": "a\u00e9\ud83d\ude00\n", "f": -1.5e3, )"
      R"("n": null, "b": [true, false], "i": -9223372036854775808})";
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
      Json value = Json::parse(text);
      ++parsed;
      ASSERT_EQ(Json::parse(value.dump()), value) << text;
    } catch (const std::runtime_error &error) {
      ASSERT_EQ(std::string(error.what()).rfind("json: ", 0), 0u) << text;
    }
  }
  EXPECT_GT(parsed, 0);
}

} // namespace
