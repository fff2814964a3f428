#include <gtest/gtest.h>

#include "exec/prompt_run.h"

using namespace comfy;

TEST(PromptRun, ProgressForAnIdBeforeItsNodeExistsIsOneEntry) {
  ws::Hub hub;
  QueueItem item;
  item.prompt_id = "p";
  item.prompt = Json::parse(R"({"1": {"class_type": "A", "inputs": {}}})");
  PromptRun run(hub, item);
  run.add_queued(nullptr);
  run.start_progress(0);
  run.update_progress("5", 3, 10);  // a node an expansion has not added yet
  ASSERT_EQ(run.progress.size(), 2u);
  int n = run.add_ephemeral("5", Json::parse(R"({"class_type": "A", "inputs": {}})"));
  EXPECT_EQ(run.find("5"), n);
  run.finish_progress(n);  // by index now: the same entry
  ASSERT_EQ(run.progress.size(), 2u);
  EXPECT_EQ(run.progress[1].id, "5");
  EXPECT_STREQ(run.progress[1].state, "finished");
  EXPECT_EQ(run.progress[1].value, Json(10));
  run.update_progress("5", 1, 4);  // and by id again
  ASSERT_EQ(run.progress.size(), 2u);
  EXPECT_EQ(run.progress[1].max, Json(4));
  EXPECT_EQ(run.progress[0].id, "1");
}

TEST(PromptRun, IndexAndLinks) {
  ws::Hub hub;
  QueueItem item;
  item.prompt = Json::parse(R"({"a": {"class_type": "A", "inputs": {"x": ["b", 1], "y": ["zz", 0], "c": 5}},
                                "b": {"class_type": "B"}})");
  PromptRun run(hub, item);
  run.add_queued(nullptr);
  ASSERT_EQ(run.queued, 2u);
  EXPECT_EQ(run.find("a"), 0);
  EXPECT_EQ(run.find("b"), 1);
  EXPECT_EQ(run.find("zz"), -1);
  EXPECT_EQ(run.class_of(1), "B");
  EXPECT_TRUE(run.inputs(1).empty());  // a node without inputs
  int slot = -1;
  EXPECT_EQ(run.link(run.inputs(0)["x"], slot), 1);
  EXPECT_EQ(slot, 1);
  EXPECT_EQ(run.link(run.inputs(0)["y"], slot), -1);  // a link to no node of the run
  EXPECT_EQ(run.link(run.inputs(0)["c"], slot), -1);
  auto shared = run.queued_index;
  PromptRun again(hub, item);
  again.add_queued(shared);  // an equal prompt reuses the index
  EXPECT_EQ(again.queued_index, shared);
  EXPECT_EQ(again.find("b"), 1);
}
