#include "ws/hub.h"

#include <algorithm>

#include "ws/frame.h"

namespace comfy::ws {

void Hub::add(const std::shared_ptr<Session>& s) {
  std::lock_guard lk(mu_);
  if (!sessions_.count(s->sid)) order_.push_back(s->sid);
  sessions_[s->sid] = s;
}

void Hub::remove(const std::shared_ptr<Session>& s) {
  std::lock_guard lk(mu_);
  auto it = sessions_.find(s->sid);
  if (it == sessions_.end() || it->second != s) return;
  sessions_.erase(it);
  order_.erase(std::remove(order_.begin(), order_.end(), s->sid), order_.end());
}

std::string Hub::json_frame_text(const std::string& event, const Json& data) {
  std::string text = "{\"type\": ";
  py_dumps_to(text, Json(event));
  text += ", \"data\": ";
  py_dumps_to(text, data);
  text += '}';
  return text;
}

std::vector<std::shared_ptr<Session>> Hub::targets(const std::optional<std::string>& sid) const {
  std::lock_guard lk(mu_);
  std::vector<std::shared_ptr<Session>> out;
  if (sid) {
    auto it = sessions_.find(*sid);
    if (it != sessions_.end()) out.push_back(it->second);
  } else {
    out.reserve(order_.size());
    for (const auto& k : order_) out.push_back(sessions_.at(k));
  }
  return out;
}

void Hub::deliver(const std::shared_ptr<Session>& s, const std::shared_ptr<const std::string>& frame,
                  bool droppable) {
  int64_t q = s->queued.load();
  if (droppable && q > kDropPreviewBytes) return;
  if (q > kCloseBytes) {
    s->close();
    return;
  }
  auto n = static_cast<int64_t>(frame->size());
  s->queued += n;
  std::weak_ptr<Session> w = s;
  s->write(*frame, [w, n] {
    if (auto sp = w.lock()) sp->queued -= n;
  });
}

void Hub::send_json(const std::string& event, const Json& data, const std::optional<std::string>& sid) {
  std::lock_guard order(send_mu_);
  auto ts = targets(sid);
  if (ts.empty()) return;  // never build a frame nobody receives
  auto frame = std::make_shared<const std::string>(encode_frame(kText, json_frame_text(event, data)));
  for (auto& s : ts) deliver(s, frame, false);
}

void Hub::send_text_to(const std::shared_ptr<Session>& s, const std::string& text) {
  std::lock_guard order(send_mu_);
  deliver(s, std::make_shared<const std::string>(encode_frame(kText, text)), false);
}

void Hub::send_binary(const std::string& payload, const std::optional<std::string>& sid, bool droppable) {
  std::lock_guard order(send_mu_);
  auto ts = targets(sid);
  if (ts.empty()) return;
  auto frame = std::make_shared<const std::string>(encode_frame(kBinary, payload));
  for (auto& s : ts) deliver(s, frame, droppable);
}

void Hub::ping_all() {
  auto frame = std::make_shared<const std::string>(encode_frame(kPing, ""));
  for (auto& s : targets(std::nullopt)) deliver(s, frame, true);
}

std::vector<std::string> Hub::sids() const {
  std::lock_guard lk(mu_);
  return order_;
}

std::shared_ptr<Session> Hub::find(const std::string& sid) const {
  std::lock_guard lk(mu_);
  auto it = sessions_.find(sid);
  return it == sessions_.end() ? nullptr : it->second;
}

std::optional<Json> Hub::feature_flags(const std::string& sid) const {
  auto s = find(sid);
  if (!s) return std::nullopt;
  std::lock_guard lk(s->mu);
  return s->feature_flags;
}

bool Hub::feature_on(const std::string& sid, const std::string& flag) const {
  auto s = find(sid);
  if (!s) return false;
  std::lock_guard lk(s->mu);
  if (!s->feature_flags.is_object()) return false;
  auto f = s->feature_flags.find(flag);
  return f != s->feature_flags.end() && f->is_boolean() && f->get<bool>();
}

bool Hub::has_targets(const std::optional<std::string>& sid) const {
  std::lock_guard lk(mu_);
  return sid ? sessions_.count(*sid) > 0 : !sessions_.empty();
}

size_t Hub::size() const {
  std::lock_guard lk(mu_);
  return sessions_.size();
}

}  // namespace comfy::ws
