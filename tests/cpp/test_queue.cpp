#include <gtest/gtest.h>

#include "queue/prompt_queue.h"

using comfy::Json;
using comfy::PromptQueue;
using comfy::QueueItem;

static QueueItem item(Json number, std::string id) { return QueueItem{number, std::move(id), Json::object(), Json::object(), {"1"}}; }

TEST(PromptQueue, OrdersByNumberThenIdAndFrontRunsFirst) {
  PromptQueue q;
  int notified = 0;
  q.set_listener([&] { ++notified; });
  q.put(item(2, "b"));
  q.put(item(2, "a"));
  q.put(item(-5, "front"));
  q.put(item(1.5, "float"));
  EXPECT_EQ(notified, 4);
  auto pending = q.queue_json()["queue_pending"];
  ASSERT_EQ(pending.size(), 4u);
  EXPECT_EQ(pending[0][1], "front");
  EXPECT_EQ(pending[1][1], "float");
  EXPECT_EQ(pending[2][1], "a");
  auto got = q.get(std::chrono::milliseconds(10));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->first->prompt_id, "front");
  EXPECT_EQ(q.remaining(), 4u);
  EXPECT_EQ(q.queue_json()["queue_running"][0][1], "front");
  EXPECT_TRUE(q.delete_pending("a"));
  EXPECT_FALSE(q.delete_pending("a"));
  q.wipe();
  EXPECT_EQ(q.remaining(), 1u);
}

TEST(PromptQueue, HistoryPagingAndSecretsStripped) {
  PromptQueue q;
  for (int i = 0; i < 5; ++i) {
    QueueItem it = item(i, "p" + std::to_string(i));
    it.extra_data = {{"client_id", "c"}, {"api_key_comfy_org", "secret"}};
    q.put(it);
    auto got = q.get(std::chrono::milliseconds(10));
    q.task_done(got->second, Json::object(), Json::object(), {"success", true, Json::array()});
  }
  auto newest2 = q.history_json(2, std::nullopt);
  ASSERT_EQ(newest2.size(), 2u);
  EXPECT_EQ(newest2.begin().key(), "p3");
  auto from1 = q.history_json(2, 1);
  EXPECT_EQ(from1.begin().key(), "p1");
  EXPECT_EQ(q.history_json(std::nullopt, 9).size(), 0u);
  EXPECT_EQ(q.history_json(std::nullopt, std::nullopt).size(), 5u);
  // The serialised form is exactly py_dumps of the JSON form, for every paging choice.
  for (auto [m, o] : std::vector<std::pair<std::optional<int64_t>, std::optional<int64_t>>>{
           {2, std::nullopt}, {2, 1}, {std::nullopt, 9}, {std::nullopt, std::nullopt}, {0, std::nullopt}, {std::nullopt, 3}})
    EXPECT_EQ(q.history_dump(m, o), comfy::py_dumps(q.history_json(m, o)));
  auto e = q.history_entry("p0")["p0"];
  EXPECT_EQ(e["prompt"][3], (Json{{"client_id", "c"}}));
  EXPECT_EQ(std::vector<std::string>({"prompt", "outputs", "status", "meta"}),
            (std::vector<std::string>{e.begin().key(), std::next(e.begin()).key(), std::next(e.begin(), 2).key(),
                                      std::next(e.begin(), 3).key()}));
  EXPECT_EQ(q.history_entry("nope"), Json::object());
  q.delete_history("p1");
  EXPECT_EQ(q.history_size(), 4u);
}

TEST(PromptQueue, HistoryCapKeepsMaxPlusOne) {
  PromptQueue q(3);
  for (int i = 0; i < 6; ++i) {
    q.put(item(i, "p" + std::to_string(i)));
    auto got = q.get(std::chrono::milliseconds(10));
    q.task_done(got->second, Json::object(), Json::object(), {"success", true, Json::array()});
  }
  EXPECT_EQ(q.history_size(), 4u);
  EXPECT_EQ(q.history_json(std::nullopt, std::nullopt).begin().key(), "p2");
}

TEST(PromptQueue, QueueDumpIsTheJsonOfTheQueue) {
  PromptQueue q;
  QueueItem a = item(3, "caf\u00e9");
  a.prompt = Json::parse(R"({"1": {"class_type": "A", "inputs": {"s": "\u00e9\n\"", "f": 0.1, "x": ["2", 0]}}})");
  a.extra_data = {{"client_id", "c"}, {"extra_pnginfo", {{"workflow", {{"nodes", Json::array()}}}}}};
  a.outputs = {"1", "9"};
  q.put(a);
  q.put(item(1.5, "b"));
  q.put(item(-2, "front"));
  EXPECT_EQ(q.queue_dump(), comfy::py_dumps(q.queue_json()));
  auto got = q.get(std::chrono::milliseconds(10));  // one running, two pending
  ASSERT_TRUE(got);
  EXPECT_EQ(q.queue_dump(), comfy::py_dumps(q.queue_json()));
  EXPECT_EQ(PromptQueue().queue_dump(), "{\"queue_running\": [], \"queue_pending\": []}");
}
