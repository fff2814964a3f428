#include <gtest/gtest.h>

#include <map>

#include "graph/validate.h"

using namespace comfy;

namespace {
class FakeDefs : public NodeDefSource {
 public:
  FakeDefs() {
    auto num = std::make_shared<NodeDef>();
    num->class_type = "Num";
    InputSpec v{"value", "required", "INT", Json{{"min", 0}, {"max", 10}}};
    InputSpec flag{"flag", "optional", "BOOLEAN", Json::object()};
    InputSpec mode{"mode", "optional", Json::array({"a", "b"}), Json::object()};
    num->inputs = {v, flag, mode};
    num->return_types = {"INT"};
    num->return_custom = {false};
    defs["Num"] = num;
    auto out = std::make_shared<NodeDef>();
    out->class_type = "Out";
    out->inputs = {InputSpec{"x", "required", "INT,FLOAT", Json::object()}};
    out->output_node = true;
    defs["Out"] = out;
    auto img = std::make_shared<NodeDef>();
    img->class_type = "Img";
    img->return_types = {"IMAGE"};
    img->return_custom = {false};
    defs["Img"] = img;
  }
  std::shared_ptr<const NodeDef> get(const std::string& c) override {
    auto it = defs.find(c);
    return it == defs.end() ? nullptr : it->second;
  }
  std::map<std::string, std::shared_ptr<NodeDef>> defs;
};
}  // namespace

TEST(Validate, CoercesAndWritesBack) {
  FakeDefs d;
  Json p = Json::parse(R"({"1": {"class_type": "Num", "inputs": {"value": "5", "flag": "false", "mode": "a"}},
                           "2": {"class_type": "Out", "inputs": {"x": ["1", 0]}}})");
  auto r = validate_prompt(p, std::nullopt, d, nullptr);
  ASSERT_TRUE(r.ok) << r.error.dump();
  EXPECT_EQ(r.outputs, std::vector<std::string>{"2"});
  EXPECT_EQ(p["1"]["inputs"]["value"], 5);
  EXPECT_EQ(p["1"]["inputs"]["flag"], true);  // bool("false") is True, as in ComfyUI
}

TEST(Validate, ErrorShapesAndNodeErrors) {
  FakeDefs d;
  Json p = Json::parse(R"({"1": {"class_type": "Num", "inputs": {"value": 11, "mode": "z"}},
                           "2": {"class_type": "Out", "inputs": {"x": ["1", 0]}}})");
  auto r = validate_prompt(p, std::nullopt, d, nullptr);
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.error["type"], "prompt_outputs_failed_validation");
  EXPECT_EQ(r.error["details"], "");  // the output has no errors of its own
  auto errs = r.node_errors["1"]["errors"];
  ASSERT_EQ(errs.size(), 2u);
  EXPECT_EQ(errs[0], Json::parse(R"({"type": "value_bigger_than_max", "message": "Value 11 bigger than max of 10",
      "details": "value", "extra_info": {"input_name": "value", "input_config": ["INT", {"min": 0, "max": 10}], "received_value": 11}})"));
  EXPECT_EQ(errs[1]["details"], "mode: 'z' not in ['a', 'b']");
  EXPECT_EQ(r.node_errors["1"]["dependent_outputs"], Json::array({"2"}));
  EXPECT_EQ(r.node_errors["1"]["class_type"], "Num");
  EXPECT_FALSE(r.node_errors.contains("2"));
}

TEST(Validate, TypeMismatchMissingAndConversion) {
  FakeDefs d;
  Json p = Json::parse(R"({"1": {"class_type": "Img", "inputs": {}}, "2": {"class_type": "Out", "inputs": {"x": ["1", 0]}},
                           "3": {"class_type": "Out", "inputs": {}}, "4": {"class_type": "Num", "inputs": {"value": "x"}},
                           "5": {"class_type": "Out", "inputs": {"x": ["4", 0]}}})");
  auto r = validate_prompt(p, std::nullopt, d, nullptr);
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.node_errors["2"]["errors"][0]["details"], "x, received_type(IMAGE) mismatch input_type(INT,FLOAT)");
  EXPECT_EQ(r.node_errors["3"]["errors"][0]["type"], "required_input_missing");
  EXPECT_EQ(r.node_errors["4"]["errors"][0]["details"], "value, x, invalid literal for int() with base 10: 'x'");
  EXPECT_EQ(r.error["details"],
            "Return type mismatch between linked nodes: x, received_type(IMAGE) mismatch input_type(INT,FLOAT)\n"
            "Required input is missing: x");
}

TEST(Validate, PartialSuccessUnknownClassNoOutputsAndCycles) {
  FakeDefs d;
  Json ok = Json::parse(R"({"1": {"class_type": "Num", "inputs": {"value": 1}}, "2": {"class_type": "Out", "inputs": {"x": ["1", 0]}},
                            "3": {"class_type": "Out", "inputs": {}}})");
  auto r = validate_prompt(ok, std::nullopt, d, nullptr);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.outputs, std::vector<std::string>{"2"});
  EXPECT_TRUE(r.node_errors.contains("3"));

  Json unknown = Json::parse(R"({"7": {"class_type": "Nope", "inputs": {}}})");
  r = validate_prompt(unknown, std::nullopt, d, nullptr);
  EXPECT_EQ(r.error["type"], "missing_node_type");
  EXPECT_EQ(r.error["details"], "Node ID '#7'");

  Json none = Json::parse(R"({"1": {"class_type": "Num", "inputs": {"value": 1}}})");
  EXPECT_EQ(validate_prompt(none, std::nullopt, d, nullptr).error["type"], "prompt_no_outputs");
  EXPECT_EQ(validate_prompt(ok, std::vector<std::string>{}, d, nullptr).error["type"], "prompt_no_outputs");

  Json cyc = Json::parse(R"({"1": {"class_type": "Out", "inputs": {"x": ["2", 0]}}, "2": {"class_type": "Num", "inputs": {"value": ["3", 0]}},
                             "3": {"class_type": "Num", "inputs": {"value": ["2", 0]}}})");
  r = validate_prompt(cyc, std::nullopt, d, nullptr);
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.node_errors["2"]["errors"][0]["type"], "dependency_cycle");
  EXPECT_EQ(r.node_errors["3"]["errors"][0]["type"], "dependency_cycle");
}

TEST(Validate, LongChainHasNoRecursionLimit) {
  FakeDefs d;
  Json p = Json::object();
  p["0"] = {{"class_type", "Num"}, {"inputs", {{"value", 1}}}};
  for (int i = 1; i < 5000; ++i) p[std::to_string(i)] = {{"class_type", "Num"}, {"inputs", {{"value", Json::array({std::to_string(i - 1), 0})}}}};
  p["out"] = {{"class_type", "Out"}, {"inputs", {{"x", Json::array({"4999", 0})}}}};
  auto r = validate_prompt(p, std::nullopt, d, nullptr);
  EXPECT_TRUE(r.ok);
}

TEST(TypeMatch, CommaUnionsAndNoBareWildcard) {
  EXPECT_TRUE(types_compatible("INT", "INT,FLOAT"));
  EXPECT_TRUE(types_compatible("A, B", "B"));
  EXPECT_FALSE(types_compatible("*", "IMAGE"));
  EXPECT_FALSE(types_compatible("IMAGE", "MASK"));
}
