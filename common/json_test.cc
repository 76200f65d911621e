#include "common/json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace ormdb {
namespace {

Json MustParse(std::string_view text) {
  Result<Json> r = ParseJson(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().ToString();
  return r.ok() ? std::move(r).value() : Json();
}

// The message of a parse that must fail with INVALID_ARGUMENT.
std::string ParseError(std::string_view text, const JsonLimits& limits = {}) {
  Result<Json> r = ParseJson(text, limits);
  EXPECT_FALSE(r.ok()) << "parsed: " << text;
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument) << r.status().ToString();
  return r.status().message();
}

TEST(JsonTest, Scalars) {
  EXPECT_TRUE(MustParse("null").is_null());
  EXPECT_TRUE(MustParse("true").as_bool());
  EXPECT_FALSE(MustParse("false").as_bool());
  EXPECT_EQ(MustParse("42").as_int(), 42);
  EXPECT_EQ(MustParse("-0").as_int(), 0);
  EXPECT_EQ(MustParse(" \t\r\n7 \n").as_int(), 7);
  EXPECT_EQ(MustParse("\"hi\"").as_string(), "hi");
  EXPECT_TRUE(MustParse("1.5").is_double());
  EXPECT_DOUBLE_EQ(MustParse("1.5").as_double(), 1.5);
  EXPECT_DOUBLE_EQ(MustParse("-2.5e3").as_double(), -2500);
  EXPECT_DOUBLE_EQ(MustParse("1E+2").as_double(), 100);
  EXPECT_TRUE(MustParse("1e2").is_double());  // an exponent makes a double
  EXPECT_DOUBLE_EQ(MustParse("0.000001").as_double(), 1e-6);
}

TEST(JsonTest, IntegersKeepExactness) {
  EXPECT_EQ(MustParse("9223372036854775807").as_int(), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(MustParse("-9223372036854775808").as_int(), std::numeric_limits<int64_t>::min());
  Json big = MustParse("9223372036854775808");
  ASSERT_TRUE(big.is_double());
  EXPECT_DOUBLE_EQ(big.as_double(), 9223372036854775808.0);
  EXPECT_TRUE(MustParse("-9223372036854775809").is_double());
  EXPECT_TRUE(MustParse("123456789012345678901234567890").is_double());
}

TEST(JsonTest, DoubleRange) {
  EXPECT_DOUBLE_EQ(MustParse("1.7976931348623157e308").as_double(),
                   std::numeric_limits<double>::max());
  EXPECT_EQ(MustParse("5e-324").as_double(), std::numeric_limits<double>::denorm_min());
  EXPECT_EQ(MustParse("1e-400").as_double(), 0.0);
  EXPECT_TRUE(std::signbit(MustParse("-1e-400").as_double()));
  EXPECT_EQ(MustParse("0.0000e999999999999999").as_double(), 0.0);
  EXPECT_NE(ParseError("1e400").find("range of a double"), std::string::npos);
  EXPECT_NE(ParseError("-1e309").find("range of a double"), std::string::npos);
  EXPECT_NE(ParseError("1" + std::string(400, '0')).find("range of a double"), std::string::npos);
}

TEST(JsonTest, ArraysAndObjects) {
  Json j = MustParse(R"({"a": 1, "b": [true, null, "x"], "c": {}, "d": []})");
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j.size(), 4u);
  EXPECT_EQ(j.as_object()[0].first, "a");  // document order kept
  EXPECT_EQ(j.as_object()[3].first, "d");
  ASSERT_NE(j.Find("b"), nullptr);
  EXPECT_EQ(j.Find("b")->size(), 3u);
  EXPECT_TRUE(j.Find("b")->as_array()[1].is_null());
  EXPECT_TRUE(j.Find("c")->is_object());
  EXPECT_EQ(j.Find("c")->size(), 0u);
  EXPECT_EQ(j.Find("zz"), nullptr);
}

TEST(JsonTest, Builders) {
  Json obj = Json::Object();
  obj.Set("a", 1).Set("b", Json::Array().Push(true).Push(nullptr)).Set("c", "s");
  obj.Set("a", 2.5);  // replaces in place
  EXPECT_EQ(ToJson(obj), R"({"a":2.5,"b":[true,null],"c":"s"})");
  Json* b = obj.Find("b");
  ASSERT_NE(b, nullptr);
  b->Push(std::string("x"));
  EXPECT_EQ(ToJson(obj), R"({"a":2.5,"b":[true,null,"x"],"c":"s"})");

  EXPECT_TRUE(Json(uint64_t{7}).is_int());
  EXPECT_TRUE(Json(std::numeric_limits<uint64_t>::max()).is_double());
  EXPECT_TRUE(Json(int32_t{-3}).is_int());
  EXPECT_TRUE(Json(std::string_view("v")).is_string());
  EXPECT_TRUE(Json(1.0f).is_double());
  EXPECT_TRUE(Json(nullptr).is_null());
}

TEST(JsonTest, TypeNames) {
  EXPECT_EQ(Json().TypeName(), "null");
  EXPECT_EQ(Json(true).TypeName(), "boolean");
  EXPECT_EQ(Json(1).TypeName(), "integer");
  EXPECT_EQ(Json(1.5).TypeName(), "number");
  EXPECT_EQ(Json("s").TypeName(), "string");
  EXPECT_EQ(Json::Array().TypeName(), "array");
  EXPECT_EQ(Json::Object().TypeName(), "object");
}

TEST(JsonTest, Equality) {
  EXPECT_EQ(MustParse(R"({"a":[1,2.5,"x"]})"), MustParse(R"({ "a" : [ 1 , 2.5 , "x" ] })"));
  EXPECT_FALSE(Json(1) == Json(1.0));
  EXPECT_FALSE(MustParse(R"({"a":1,"b":2})") == MustParse(R"({"b":2,"a":1})"));
}

TEST(JsonTest, WriterIsCompact) {
  EXPECT_EQ(ToJson(MustParse(R"( { "a" : 1 , "b" : [ true , null ] } )")),
            R"({"a":1,"b":[true,null]})");
  EXPECT_EQ(ToJson(Json()), "null");
  EXPECT_EQ(ToJson(Json(-12)), "-12");
  EXPECT_EQ(ToJson(Json::Array()), "[]");
  EXPECT_EQ(ToJson(Json::Object()), "{}");
}

TEST(JsonTest, DoublesStayDoubles) {
  EXPECT_EQ(ToJson(Json(1.0)), "1.0");
  EXPECT_EQ(ToJson(Json(-0.0)), "-0.0");
  EXPECT_EQ(ToJson(Json(0.1)), "0.1");
  EXPECT_EQ(ToJson(Json(100.0)), "100.0");
  EXPECT_EQ(ToJson(Json(1e20)), "1e+20");
  EXPECT_EQ(ToJson(Json(1.5e-7)), "1.5e-07");
  EXPECT_EQ(ToJson(Json(std::nan(""))), "null");
  EXPECT_EQ(ToJson(Json(std::numeric_limits<double>::infinity())), "null");
  for (double d : {1.0, 0.1, 1.0 / 3, 1e300, -2.5e-300, 123456789.125, 5e-324,
                   std::numeric_limits<double>::max()}) {
    Json back = MustParse(ToJson(Json(d)));
    ASSERT_TRUE(back.is_double()) << d;
    EXPECT_EQ(back.as_double(), d);
  }
}

TEST(JsonTest, StringEscapes) {
  EXPECT_EQ(MustParse(R"("a\"b\\c\/d\b\f\n\r\t")").as_string(), "a\"b\\c/d\b\f\n\r\t");
  EXPECT_EQ(MustParse(R"("\u0041\u00e9\u20AC")").as_string(), "A\xC3\xA9\xE2\x82\xAC");
  EXPECT_EQ(MustParse(R"("\ud83d\ude00")").as_string(), "\xF0\x9F\x98\x80");  // U+1F600
  EXPECT_EQ(MustParse(R"("\uDBFF\uDFFF")").as_string(), "\xF4\x8F\xBF\xBF");  // U+10FFFF
  EXPECT_EQ(MustParse(R"("\u0000")").as_string(), std::string(1, '\0'));
  EXPECT_EQ(MustParse("\"h\xC3\xA9llo \xF0\x9F\x98\x80\"").as_string(),
            "h\xC3\xA9llo \xF0\x9F\x98\x80");

  std::string out;
  AppendJsonString(&out, std::string("q\"b\\n\nt\tc\x01\x1f\x7f\xC3\xA9/", 15));
  EXPECT_EQ(out, "\"q\\\"b\\\\n\\nt\\tc\\u0001\\u001f\x7f\xC3\xA9/\"");
  out.clear();
  AppendJsonString(&out, std::string(1, '\0'));
  EXPECT_EQ(out, "\"\\u0000\"");
}

TEST(JsonTest, WriterReplacesInvalidUtf8) {
  std::string out;
  AppendJsonString(&out,
                   "a\xFF"
                   "b\xC3");
  EXPECT_EQ(out,
            "\"a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD\"");
  EXPECT_TRUE(ParseJson(out).ok());
}

TEST(JsonTest, RoundTrips) {
  const char* docs[] = {
      R"(null)",
      R"([1,-2,3.25,"x",true,false,null])",
      R"({"a":{"b":{"c":[[],{},[{}]]}},"e":"\u0001\n\"\\"})",
      (R"({"version":57,"data":[{"id":1,"name":"Ann","posts":[{"id":7,"title":"Hi","tags":[]}]}],)"
       R"("next":null})"),
      R"(["\u00e9\ud83d\ude00",1e+100,-0.0,9223372036854775807])",
  };
  for (const char* doc : docs) {
    Json a = MustParse(doc);
    std::string text = ToJson(a);
    Json b = MustParse(text);
    EXPECT_EQ(a, b) << doc;
    EXPECT_EQ(ToJson(b), text);
  }
  // Canonical documents print back identically.
  EXPECT_EQ(ToJson(MustParse(docs[1])), docs[1]);
  EXPECT_EQ(ToJson(MustParse(docs[3])), docs[3]);
}

TEST(JsonTest, ErrorPositions) {
  EXPECT_EQ(ParseError(""),
            "invalid JSON at line 1, column 1: expected a value, found end of input");
  EXPECT_EQ(ParseError("[1,]"), "invalid JSON at line 1, column 4: expected a value, found ']'");
  EXPECT_EQ(ParseError("{\n  \"a\": 1,\n  \"b\" 2}"),
            "invalid JSON at line 3, column 7: expected ':', found '2'");
  EXPECT_EQ(ParseError("[1 2]"),
            "invalid JSON at line 1, column 4: expected ',' or ']', found '2'");
  // Columns count characters: the é is one column.
  EXPECT_EQ(ParseError("[\"\xC3\xA9\", x]"),
            "invalid JSON at line 1, column 7: expected a value, found 'x'");
  EXPECT_EQ(ParseError("tru"), "invalid JSON at line 1, column 1: expected a value, found 'tru'");
  EXPECT_EQ(ParseError("1 2"),
            "invalid JSON at line 1, column 3: expected end of input, found '2'");
}

TEST(JsonTest, RejectsNonStandardSyntax) {
  EXPECT_NE(ParseError("[1,2,]").find("expected a value, found ']'"), std::string::npos);
  EXPECT_NE(ParseError(R"({"a":1,})").find("expected '\"' to start a key, found '}'"),
            std::string::npos);
  EXPECT_NE(ParseError("// c\n1").find("expected a value, found '/'"), std::string::npos);
  EXPECT_NE(ParseError("[1 /* c */]").find("found '/'"), std::string::npos);
  EXPECT_NE(ParseError("{'a':1}").find("found '''"), std::string::npos);
  EXPECT_NE(ParseError("{a:1}").find("found 'a'"), std::string::npos);
  EXPECT_NE(ParseError("NaN").find("found 'NaN'"), std::string::npos);
  EXPECT_NE(ParseError("Infinity").find("found 'Infinity'"), std::string::npos);
  EXPECT_NE(ParseError("+1").find("found '+'"), std::string::npos);
  EXPECT_NE(ParseError("\xEF\xBB\xBF{}").find("found byte 0xEF"), std::string::npos);  // BOM
  EXPECT_NE(ParseError(std::string_view("[1]\0", 4)).find("expected end of input, found byte 0x00"),
            std::string::npos);
  EXPECT_NE(ParseError("\v1").find("found byte 0x0B"), std::string::npos);
}

TEST(JsonTest, RejectsBadNumbers) {
  EXPECT_NE(ParseError("01").find("without leading zeros, found '01'"), std::string::npos);
  EXPECT_NE(ParseError("-01").find("without leading zeros"), std::string::npos);
  EXPECT_NE(ParseError("00.5").find("without leading zeros"), std::string::npos);
  EXPECT_NE(ParseError("1.").find("a digit after '.'"), std::string::npos);
  EXPECT_NE(ParseError(".5").find("expected a value"), std::string::npos);
  EXPECT_NE(ParseError("1e").find("a digit in the exponent"), std::string::npos);
  EXPECT_NE(ParseError("1e+").find("a digit in the exponent"), std::string::npos);
  EXPECT_NE(ParseError("-").find("expected a digit"), std::string::npos);
  EXPECT_NE(ParseError("-a").find("expected a digit, found 'a'"), std::string::npos);
  EXPECT_NE(ParseError("0x10").find("expected end of input, found 'x10'"), std::string::npos);
}

TEST(JsonTest, RejectsBadStrings) {
  EXPECT_NE(ParseError("\"abc").find("'\"' to close the string, found end of input"),
            std::string::npos);
  EXPECT_NE(ParseError("\"a\nb\"").find("control characters must be escaped"), std::string::npos);
  EXPECT_NE(ParseError("\"a\tb\"").find("found byte 0x09"), std::string::npos);
  EXPECT_NE(ParseError(R"("\x")").find("escape character"), std::string::npos);
  EXPECT_NE(ParseError(R"("\')").find("escape character"), std::string::npos);
  EXPECT_NE(ParseError("\"\\").find("an escape character, found end of input"), std::string::npos);
  EXPECT_NE(ParseError(R"("\u12")").find("4 hex digits after \\u, found '\"'"), std::string::npos);
  EXPECT_NE(ParseError(R"("\u12G4")").find("4 hex digits"), std::string::npos);
  // Lone and mismatched surrogates.
  EXPECT_NE(ParseError(R"("\ud83d")").find("low surrogate"), std::string::npos);
  EXPECT_NE(ParseError(R"("\ud83dx")").find("low surrogate"), std::string::npos);
  EXPECT_NE(ParseError(R"("\ud83d\u0041")").find("found \\u0041"), std::string::npos);
  EXPECT_NE(ParseError(R"("\ud83d\ud83d")").find("low surrogate"), std::string::npos);
  EXPECT_NE(ParseError(R"("\ude00")").find("lone \\uDE00"), std::string::npos);
  EXPECT_EQ(ParseError(R"(["ok", "\ude00"])"),
            "invalid JSON at line 1, column 9: expected a high surrogate (\\uD800-\\uDBFF) before "
            "a low one, found lone \\uDE00");
}

TEST(JsonTest, RejectsInvalidUtf8) {
  const char* bad[] = {
      "\"\x80\"",              // lone continuation byte
      "\"\xC3\"",              // truncated 2-byte sequence
      "\"\xC0\xAF\"",          // overlong '/'
      "\"\xC1\xBF\"",          // overlong
      "\"\xE0\x80\xAF\"",      // overlong 3-byte
      "\"\xED\xA0\x80\"",      // encoded surrogate U+D800
      "\"\xF0\x80\x80\xAF\"",  // overlong 4-byte
      "\"\xF4\x90\x80\x80\"",  // above U+10FFFF
      "\"\xF5\x80\x80\x80\"",  // invalid lead byte
      "\"\xFF\"",
      "\"\xE2\x82\"",  // truncated 3-byte sequence
  };
  for (const char* doc : bad) {
    EXPECT_NE(ParseError(doc).find("expected valid UTF-8"), std::string::npos) << doc;
  }
  // The largest of each length are fine.
  EXPECT_TRUE(ParseJson("\"\xDF\xBF\xEF\xBF\xBF\xF4\x8F\xBF\xBF\"").ok());
}

TEST(JsonTest, RejectsDuplicateKeys) {
  EXPECT_EQ(ParseError(R"({"a":1,"a":2})"),
            "invalid JSON at line 1, column 8: expected a unique key, found duplicate key \"a\"");
  // Escapes are decoded before comparing.
  EXPECT_NE(ParseError(R"({"a":1,"\u0061":2})").find("duplicate key"), std::string::npos);
  // Nested objects have their own keys.
  EXPECT_TRUE(ParseJson(R"({"a":{"a":1},"b":{"a":2}})").ok());
  // Large objects switch to a hash set; duplicates are still found.
  std::string doc = "{";
  for (int i = 0; i < 100; ++i) doc += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  std::string ok_doc = doc + "\"last\":0}";
  EXPECT_EQ(MustParse(ok_doc).size(), 101u);
  EXPECT_NE(ParseError(doc + "\"k3\":0}").find("duplicate key \"k3\""), std::string::npos);
  EXPECT_NE(ParseError(doc + "\"k99\":0}").find("duplicate key \"k99\""), std::string::npos);
}

TEST(JsonTest, DepthLimit) {
  auto nested = [](int depth) { return std::string(depth, '[') + std::string(depth, ']'); };
  EXPECT_TRUE(ParseJson(nested(64)).ok());
  EXPECT_NE(ParseError(nested(65)).find("expected at most 64 levels of nesting"),
            std::string::npos);
  EXPECT_NE(ParseError(std::string(100000, '[')).find("levels of nesting"), std::string::npos);
  std::string objects;
  for (int i = 0; i < 65; ++i) objects += "{\"a\":";
  objects += "1" + std::string(65, '}');
  EXPECT_NE(ParseError(objects).find("levels of nesting"), std::string::npos);

  JsonLimits limits;
  limits.max_depth = 2;
  EXPECT_TRUE(ParseJson("[[1]]", limits).ok());
  EXPECT_TRUE(ParseJson("7", limits).ok());
  EXPECT_NE(ParseError("[[[1]]]", limits).find("at most 2 levels"), std::string::npos);
}

TEST(JsonTest, SizeLimit) {
  JsonLimits limits;
  limits.max_text_size = 8;
  EXPECT_TRUE(ParseJson("[1,2,3]", limits).ok());
  EXPECT_EQ(ParseError("[1,2,3,4]", limits), "invalid JSON: expected at most 8 bytes, found 9");
}

TEST(JsonTest, DecodeJsonString) {
  size_t length = 0, error_offset = 0;
  Result<std::string> r = DecodeJsonString(R"("a\tb" rest)", &length, &error_offset);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "a\tb");
  EXPECT_EQ(length, 6u);
  r = DecodeJsonString(R"("ab\q")", &length, &error_offset);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(error_offset, 4u);
  EXPECT_EQ(r.status().message(), "expected an escape character (\" \\ / b f n r t u), found 'q'");
}

// Random edits of valid documents must give a clean result or a clean error,
// and whatever parses must print and parse back to the same value.
TEST(JsonTest, MutationFuzzNeverCrashes) {
  const std::vector<std::string> seeds = {
      R"({"ops":[{"op":"insert","entity":"User","values":{"email":"a@b.c","age":30},"as":"ann"}]})",
      R"([1,-2.5e-3,"\u00e9\ud83d\ude00",true,false,null,{"a":[{}]}])",
      R"({"version":57,"next":null,"stats":{"entities":2,"truncated":false}})",
      "\"h\xC3\xA9llo\\n\"",
      R"([[[[[[[[[[1]]]]]]]]]])",
  };
  std::string alphabet = "{}[]:,\"\\-+.eE0123456789tfnulrsa \n\t\x80\xC3\xA9\xFFu";
  alphabet.push_back('\0');
  std::mt19937 rng(12345);
  int parsed = 0;
  for (int iter = 0; iter < 5000; ++iter) {
    std::string doc = seeds[rng() % seeds.size()];
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      size_t pos = doc.empty() ? 0 : rng() % (doc.size() + 1);
      char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 4) {
        case 0:  // insert
          doc.insert(doc.begin() + static_cast<std::ptrdiff_t>(pos), c);
          break;
        case 1:  // delete
          if (pos < doc.size()) doc.erase(pos, 1);
          break;
        case 2:  // replace
          if (pos < doc.size()) doc[pos] = c;
          break;
        case 3:  // flip a bit
          if (pos < doc.size()) doc[pos] = static_cast<char>(doc[pos] ^ (1 << (rng() % 8)));
          break;
      }
    }
    JsonLimits limits;
    limits.max_depth = 10;
    Result<Json> r = ParseJson(doc, limits);
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
      EXPECT_EQ(r.status().message().rfind("invalid JSON", 0), 0u) << r.status().message();
      continue;
    }
    ++parsed;
    std::string text = ToJson(*r);
    Result<Json> back = ParseJson(text);
    ASSERT_TRUE(back.ok()) << text << ": " << back.status().ToString();
    EXPECT_EQ(ToJson(*back), text);
  }
  RecordProperty("parsed", parsed);
  EXPECT_GT(parsed, 100);
}

}  // namespace
}  // namespace ormdb
