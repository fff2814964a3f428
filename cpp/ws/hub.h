// WebSocket session registry and fan-out. Thread-safe: the executor, the Python thread and reactor
// threads all send through it. Frames for a message are built once and shared by every recipient.
// Each session counts bytes handed to the socket and not yet written: past kDropPreviewBytes,
// droppable (preview) frames are skipped; past kCloseBytes the slow client is disconnected, so a
// stalled reader cannot grow server memory without bound.
#pragma once
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/json.h"

namespace comfy::ws {

struct Session {
  std::string sid;
  // Writes bytes to the socket; calls done() once they are written or dropped. Thread-safe.
  std::function<void(std::string bytes, std::function<void()> done)> write;
  std::function<void()> close;  // initiates a close of the TCP connection
  std::atomic<int64_t> queued{0};
  std::mutex mu;                 // guards the fields below
  bool first_text_seen = false;  // only the first text message is inspected (feature_flags)
  Json feature_flags = Json::object();
};

class Hub {
 public:
  static constexpr int64_t kDropPreviewBytes = 8 << 20;
  static constexpr int64_t kCloseBytes = 64 << 20;

  // Registers a session under its sid, replacing any session with the same sid.
  void add(const std::shared_ptr<Session>& s);
  // Unregisters only if `s` is still the session registered under its sid (ComfyUI also drops a
  // newer socket that reused the sid; we don't).
  void remove(const std::shared_ptr<Session>& s);
  // {"type": event, "data": data} laid out as Python's json.dumps; sid empty = broadcast.
  void send_json(const std::string& event, const Json& data, const std::optional<std::string>& sid);
  void send_text_to(const std::shared_ptr<Session>& s, const std::string& text);
  void send_binary(const std::string& payload, const std::optional<std::string>& sid, bool droppable);
  void ping_all();
  // Whether a message to `sid` (empty = broadcast) would reach anyone: lets callers skip building it.
  bool has_targets(const std::optional<std::string>& sid) const;
  std::vector<std::string> sids() const;
  std::optional<Json> feature_flags(const std::string& sid) const;
  // Whether the client announced `flag` as true (without copying its flags).
  bool feature_on(const std::string& sid, const std::string& flag) const;
  size_t size() const;

  static std::string json_frame_text(const std::string& event, const Json& data);

 private:
  std::shared_ptr<Session> find(const std::string& sid) const;  // null when sid has no session
  void deliver(const std::shared_ptr<Session>& s, const std::shared_ptr<const std::string>& frame, bool droppable);
  std::vector<std::shared_ptr<Session>> targets(const std::optional<std::string>& sid) const;
  mutable std::mutex mu_;
  // Serialises build-and-write of messages from different threads, so each thread's messages and
  // the order between threads' messages are what every client sees.
  std::mutex send_mu_;
  std::unordered_map<std::string, std::shared_ptr<Session>> sessions_;
  std::vector<std::string> order_;  // registration order, for deterministic broadcasts
};

}  // namespace comfy::ws
