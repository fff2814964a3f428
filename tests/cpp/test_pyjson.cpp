#include <gtest/gtest.h>

#include <cmath>

#include "common/json.h"

using comfy::Json;
using comfy::py_dumps;

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
