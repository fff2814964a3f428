#include <gtest/gtest.h>

#include <cmath>

#include "common/json.h"

using comfy::Json;
using comfy::py_dumps;
using comfy::parse_json;

TEST(PyDumps, MatchesPythonJsonDumpsLayout) {
  Json v = Json::parse(R"({"type": "status", "data": {"a": [1, 2.5, true, null], "b": {}}})");
  EXPECT_EQ(py_dumps(v), R"({"type": "status", "data": {"a": [1, 2.5, true, null], "b": {}}})");
  EXPECT_EQ(py_dumps(Json::array()), "[]");
}

TEST(PyDumps, EnsureAsciiEscapes) {
  EXPECT_EQ(py_dumps(Json("caf\xc3\xa9")), "\"caf\\u00e9\"");
  EXPECT_EQ(py_dumps(Json("\xf0\x9f\x98\x80")), "\"\\ud83d\\ude00\"");  // surrogate pair, as Python
  EXPECT_EQ(py_dumps(Json("a\"b\\c\n\x01")), "\"a\\\"b\\\\c\\n\\u0001\"");
}

TEST(PyDumps, FloatsLikePythonRepr) {
  EXPECT_EQ(comfy::py_float_repr(1.0), "1.0");
  EXPECT_EQ(comfy::py_float_repr(0.1), "0.1");
  EXPECT_EQ(comfy::py_float_repr(1e16), "1e+16");
  EXPECT_EQ(comfy::py_float_repr(123456789012345.0), "123456789012345.0");
  EXPECT_EQ(comfy::py_float_repr(1e-05), "1e-05");
  EXPECT_EQ(comfy::py_float_repr(0.0001), "0.0001");
  EXPECT_EQ(comfy::py_float_repr(-2.5), "-2.5");
  EXPECT_EQ(comfy::py_float_repr(104857600.0), "104857600.0");
  EXPECT_EQ(py_dumps(Json(std::nan(""))), "NaN");
  EXPECT_EQ(py_dumps(Json(-INFINITY)), "-Infinity");
}

TEST(PyRepr, ListsAndStrings) {
  EXPECT_EQ(comfy::py_str(Json::parse(R"(["a", "b", 1, 2.0, true, null])")), "['a', 'b', 1, 2.0, True, None]");
  EXPECT_EQ(comfy::py_repr(Json("it's")), "\"it's\"");
  EXPECT_EQ(comfy::py_str(Json("x")), "x");
}

// parse_json builds insertion-ordered objects without a linear search per key; duplicate keys
// behave like json.loads' dict: the first position, the last value.
TEST(ParseJson, KeepsOrderAndPythonDuplicateKeySemantics) {
  Json v;
  ASSERT_TRUE(parse_json(R"({"b": 1, "a": [1, {"z": null, "y": true}], "b": 3})", v));
  EXPECT_EQ(py_dumps(v), R"({"b": 3, "a": [1, {"z": null, "y": true}]})");
  std::string big = "{";
  for (int i = 0; i < 40; ++i) big += "\"k" + std::to_string(39 - i) + "\": " + std::to_string(i) + ", ";
  big += "\"k30\": \"again\", \"k0\": 1.5}";
  ASSERT_TRUE(parse_json(big, v));
  ASSERT_EQ(v.size(), 40u);
  EXPECT_EQ(v.begin().key(), "k39");
  EXPECT_EQ(v["k30"], "again");
  EXPECT_EQ(v["k0"], 1.5);
  std::string last;
  for (auto it = v.begin(); it != v.end(); ++it) last = it.key();
  EXPECT_EQ(last, "k0");
}

TEST(ParseJson, ScalarsNestingAndErrors) {
  Json v;
  ASSERT_TRUE(parse_json(R"([[], {}, -3, 18446744073709551615, 2.5e-3, "\u00e9\ud83d\ude00"])", v));
  EXPECT_EQ(py_dumps(v), R"([[], {}, -3, 18446744073709551615, 0.0025, "\u00e9\ud83d\ude00"])");
  ASSERT_TRUE(parse_json("7", v));
  EXPECT_EQ(v, 7);
  Json untouched = "keep";
  std::string err;
  EXPECT_FALSE(parse_json(R"({"a": 1,})", untouched, &err));
  EXPECT_EQ(untouched, "keep");
  EXPECT_NE(err.find("parse error"), std::string::npos) << err;
  EXPECT_FALSE(parse_json("", untouched, &err));
  EXPECT_FALSE(parse_json(R"({"a": 1} trailing)", untouched, &err));
}

#include "common/util.h"

TEST(Sha256Hex, KnownVectorsAndReuse) {
  // FIPS 180-2 test vectors; repeated calls reuse one context per thread.
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(comfy::sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(comfy::sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  }
  EXPECT_EQ(comfy::sha256_hex(std::string("a\0b", 3)), comfy::sha256_hex(std::string("a\0b", 3)));
  EXPECT_NE(comfy::sha256_hex(std::string("a\0b", 3)), comfy::sha256_hex("a"));
}
