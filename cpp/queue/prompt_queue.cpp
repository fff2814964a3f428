#include "queue/prompt_queue.h"

#include <algorithm>

namespace comfy {
namespace {
bool item_less(const QueueItem& a, const QueueItem& b) {
  double x = a.order(), y = b.order();
  if (x != y) return x < y;
  return a.prompt_id < b.prompt_id;
}
}  // namespace

Json QueueItem::to_json() const { return QueueItem(*this).into_json(); }

Json QueueItem::into_json() && {
  // Built by moving in: an initializer list copies its elements, the whole prompt among them.
  Json outs = Json::array();
  for (auto& o : outputs) outs.push_back(std::move(o));
  Json out = Json::array();
  auto& a = out.get_ref<Json::array_t&>();
  a.reserve(5);
  a.push_back(std::move(number));
  a.emplace_back(prompt_id);
  a.push_back(std::move(prompt));
  a.push_back(std::move(extra_data));
  a.push_back(std::move(outs));
  return out;
}

void QueueItem::dump_to(std::string& out) const {
  out += '[';
  py_dumps_to(out, number);
  out += ", ";
  py_dumps_to(out, Json(prompt_id));
  out += ", ";
  py_dumps_to(out, prompt);
  out += ", ";
  py_dumps_to(out, extra_data);
  out += ", [";
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (i) out += ", ";
    py_dumps_to(out, Json(outputs[i]));
  }
  out += "]]";
}

void PromptQueue::set_listener(std::function<void()> f) {
  std::lock_guard lk(mu_);
  listener_ = std::move(f);
}

void PromptQueue::notify() {
  std::function<void()> f;
  {
    std::lock_guard lk(mu_);
    f = listener_;
  }
  if (f) f();
}

int64_t PromptQueue::take_number() {
  std::lock_guard lk(mu_);
  return number_++;
}

int64_t PromptQueue::peek_number() const {
  std::lock_guard lk(mu_);
  return number_;
}

void PromptQueue::put(QueueItem item) {
  std::lock_guard order(notify_mu_);
  {
    std::lock_guard lk(mu_);
    auto pos = std::upper_bound(pending_.begin(), pending_.end(), item, item_less);
    pending_.insert(pos, std::move(item));
  }
  cv_.notify_all();
  notify();
}

std::optional<std::pair<std::shared_ptr<QueueItem>, int64_t>> PromptQueue::get(std::chrono::milliseconds timeout) {
  std::optional<std::pair<std::shared_ptr<QueueItem>, int64_t>> out;
  {
    std::unique_lock lk(mu_);
    cv_.wait_for(lk, timeout, [this] { return stopped_ || !pending_.empty() || !flags_.empty(); });
    if (stopped_ || pending_.empty()) return std::nullopt;
  }
  std::lock_guard order(notify_mu_);
  {
    std::lock_guard lk(mu_);
    if (stopped_ || pending_.empty()) return std::nullopt;
    auto item = std::make_shared<QueueItem>(std::move(pending_.front()));
    pending_.erase(pending_.begin());
    int64_t id = task_counter_++;
    running_[id] = item;
    out.emplace(std::move(item), id);
  }
  notify();
  return out;
}

void PromptQueue::task_done(int64_t task_id, Json outputs, Json meta, HistoryStatus status) {
  std::lock_guard order(notify_mu_);
  {
    std::lock_guard lk(mu_);
    auto it = running_.find(task_id);
    if (it == running_.end()) return;
    // The executor still holds the item: its id stays, the rest moves into the history.
    QueueItem item;
    item.number = std::move(it->second->number);
    item.prompt_id = it->second->prompt_id;
    item.prompt = std::move(it->second->prompt);
    item.extra_data = std::move(it->second->extra_data);
    item.outputs = std::move(it->second->outputs);
    running_.erase(it);
    if (history_.size() > max_history_) {
      history_index_.erase(history_.front().first);
      history_.pop_front();
    }
    for (const char* k : {"auth_token_comfy_org", "api_key_comfy_org"})
      if (item.extra_data.is_object()) item.extra_data.erase(k);
    std::string prompt_id = item.prompt_id;
    Json queued = std::move(item).into_json();
    Json st = Json::object();
    auto& so = json_members(st);  // reserved: growing would copy (see json_members)
    so.reserve(3);
    so.emplace_back("status_str", status.status_str);
    so.emplace_back("completed", status.completed);
    so.emplace_back("messages", std::move(status.messages));
    Json entry = Json::object();
    auto& eo = json_members(entry);  // one member is the whole prompt
    eo.reserve(4);
    eo.emplace_back("prompt", std::move(queued));
    eo.emplace_back("outputs", std::move(outputs));
    eo.emplace_back("status", std::move(st));
    eo.emplace_back("meta", std::move(meta));
    auto old = history_index_.find(prompt_id);
    if (old != history_index_.end()) {
      old->second->second = std::move(entry);  // a dict assignment keeps the key's position
    } else {
      history_.emplace_back(prompt_id, std::move(entry));
      history_index_[prompt_id] = std::prev(history_.end());
    }
  }
  notify();
}

Json PromptQueue::queue_json() const {
  std::lock_guard lk(mu_);
  Json running = Json::array(), pending = Json::array();
  std::vector<int64_t> ids;
  for (const auto& [id, _] : running_) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  for (auto id : ids) running.push_back(running_.at(id)->to_json());
  for (const auto& it : pending_) pending.push_back(it.to_json());
  return {{"queue_running", running}, {"queue_pending", pending}};
}

std::string PromptQueue::queue_dump() const {
  std::lock_guard lk(mu_);
  std::vector<int64_t> ids;
  for (const auto& [id, _] : running_) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  std::string out = "{\"queue_running\": [";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ", ";
    running_.at(ids[i])->dump_to(out);
  }
  out += "], \"queue_pending\": [";
  for (size_t i = 0; i < pending_.size(); ++i) {
    if (i) out += ", ";
    pending_[i].dump_to(out);
  }
  out += "]}";
  return out;
}

size_t PromptQueue::remaining() const {
  std::lock_guard lk(mu_);
  return pending_.size() + running_.size();
}

bool PromptQueue::delete_pending(const std::string& prompt_id) {
  std::lock_guard order(notify_mu_);
  bool found = false;
  {
    std::lock_guard lk(mu_);
    auto it = std::find_if(pending_.begin(), pending_.end(), [&](const QueueItem& q) { return q.prompt_id == prompt_id; });
    if (it != pending_.end()) {
      pending_.erase(it);
      found = true;
    }
  }
  if (found) notify();
  return found;
}

void PromptQueue::wipe() {
  std::lock_guard order(notify_mu_);
  {
    std::lock_guard lk(mu_);
    pending_.clear();
  }
  notify();
}

// Calls fn(id, entry) for the entries ComfyUI's get_history(max_items, offset) returns. Under mu_.
template <class Fn>
static void for_history(const std::list<std::pair<std::string, Json>>& history, std::optional<int64_t> max_items,
                        std::optional<int64_t> offset_in, Fn fn) {
  int64_t offset = offset_in.value_or(-1);
  if (offset < 0 && max_items) offset = static_cast<int64_t>(history.size()) - *max_items;
  int64_t i = 0, taken = 0;
  for (const auto& [id, entry] : history) {
    if (i++ < offset) continue;
    fn(id, entry);
    if (max_items && ++taken >= *max_items) break;
  }
}

Json PromptQueue::history_json(std::optional<int64_t> max_items, std::optional<int64_t> offset) const {
  std::lock_guard lk(mu_);
  Json out = Json::object();
  // Ids are unique: append to the object's vector instead of ordered_map's linear operator[].
  auto& items = json_members(out);
  items.reserve(history_.size());
  for_history(history_, max_items, offset, [&](const std::string& id, const Json& e) { items.emplace_back(id, e); });
  return out;
}

std::string PromptQueue::history_dump(std::optional<int64_t> max_items, std::optional<int64_t> offset) const {
  std::lock_guard lk(mu_);
  std::string out = "{";
  bool first = true;
  for_history(history_, max_items, offset, [&](const std::string& id, const Json& e) {
    if (!first) out += ", ";
    first = false;
    py_dumps_to(out, Json(id));
    out += ": ";
    py_dumps_to(out, e);
  });
  out += "}";
  return out;
}

Json PromptQueue::history_entry(const std::string& prompt_id) const {
  std::lock_guard lk(mu_);
  auto it = history_index_.find(prompt_id);
  if (it == history_index_.end()) return Json::object();
  return Json{{prompt_id, it->second->second}};
}

void PromptQueue::delete_history(const std::string& prompt_id) {
  std::lock_guard lk(mu_);
  auto it = history_index_.find(prompt_id);
  if (it == history_index_.end()) return;
  history_.erase(it->second);
  history_index_.erase(it);
}

void PromptQueue::wipe_history() {
  std::lock_guard lk(mu_);
  history_.clear();
  history_index_.clear();
}

size_t PromptQueue::history_size() const {
  std::lock_guard lk(mu_);
  return history_.size();
}

void PromptQueue::set_flag(const std::string& name, const Json& value) {
  {
    std::lock_guard lk(mu_);
    flags_[name] = value;
  }
  cv_.notify_all();
}

Json PromptQueue::take_flags() {
  std::lock_guard lk(mu_);
  Json f = std::move(flags_);
  flags_ = Json::object();
  return f;
}

void PromptQueue::stop() {
  {
    std::lock_guard lk(mu_);
    stopped_ = true;
  }
  cv_.notify_all();
}

}  // namespace comfy
