// RFC 6455 frame codec. Pistache has no WebSocket server; the HTTP layer upgrades /ws itself and
// feeds the connection's bytes here. Parsers are per connection and not thread-safe.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace comfy::ws {

enum Opcode : uint8_t { kContinuation = 0, kText = 1, kBinary = 2, kClose = 8, kPing = 9, kPong = 10 };

struct Message {
  uint8_t opcode = kText;  // kText/kBinary for data (fragments already joined), or a control opcode
  std::string payload;
};

// Server-to-client frame (never masked).
std::string encode_frame(uint8_t opcode, std::string_view payload);
std::string encode_close(uint16_t code, std::string_view reason = {});
// Sec-WebSocket-Accept for a client's Sec-WebSocket-Key.
std::string accept_key(const std::string& client_key);

class FrameParser {
 public:
  enum class Result { Incomplete, Message, Error };
  explicit FrameParser(size_t max_message) : max_message_(max_message) {}
  void feed(const char* data, size_t len) { buf_.append(data, len); }
  // Yields complete messages; control frames may arrive between fragments and are yielded at once.
  Result next(Message& out);
  // After Error: the close code to send (1002 protocol error, 1009 message too big).
  uint16_t error_code() const { return error_code_; }

 private:
  Result fail(uint16_t code) { error_code_ = code; return Result::Error; }
  std::string buf_;
  std::string frag_;
  uint8_t frag_opcode_ = 0;
  bool in_fragment_ = false;
  size_t max_message_;
  uint16_t error_code_ = 1002;
};

}  // namespace comfy::ws
