#include "ws/frame.h"

#include "common/util.h"

namespace comfy::ws {

std::string encode_frame(uint8_t opcode, std::string_view payload) {
  std::string out;
  size_t n = payload.size();
  out.reserve(n + 10);
  out += static_cast<char>(0x80 | opcode);
  if (n < 126) {
    out += static_cast<char>(n);
  } else if (n <= 0xFFFF) {
    out += static_cast<char>(126);
    out += static_cast<char>((n >> 8) & 0xFF);
    out += static_cast<char>(n & 0xFF);
  } else {
    out += static_cast<char>(127);
    for (int i = 7; i >= 0; --i) out += static_cast<char>((static_cast<uint64_t>(n) >> (8 * i)) & 0xFF);
  }
  out.append(payload.data(), payload.size());
  return out;
}

std::string encode_close(uint16_t code, std::string_view reason) {
  std::string p;
  p += static_cast<char>(code >> 8);
  p += static_cast<char>(code & 0xFF);
  p.append(reason.data(), reason.size());
  return encode_frame(kClose, p);
}

std::string accept_key(const std::string& client_key) {
  return sha1_base64(client_key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
}

FrameParser::Result FrameParser::next(Message& out) {
  while (true) {
    if (buf_.size() < 2) return Result::Incomplete;
    auto b0 = static_cast<uint8_t>(buf_[0]);
    auto b1 = static_cast<uint8_t>(buf_[1]);
    bool fin = b0 & 0x80;
    uint8_t opcode = b0 & 0x0F;
    if (b0 & 0x70) return fail(1002);      // no extensions negotiated
    if (!(b1 & 0x80)) return fail(1002);   // clients must mask
    uint64_t len = b1 & 0x7F;
    size_t pos = 2;
    if (len == 126) {
      if (buf_.size() < 4) return Result::Incomplete;
      len = (static_cast<uint8_t>(buf_[2]) << 8) | static_cast<uint8_t>(buf_[3]);
      pos = 4;
    } else if (len == 127) {
      if (buf_.size() < 10) return Result::Incomplete;
      len = 0;
      for (int i = 0; i < 8; ++i) len = (len << 8) | static_cast<uint8_t>(buf_[2 + i]);
      pos = 10;
    }
    bool control = opcode >= 8;
    if (control && (len > 125 || !fin)) return fail(1002);
    if (!control && opcode != kContinuation && opcode != kText && opcode != kBinary) return fail(1002);
    if (len > max_message_ || (!control && frag_.size() + len > max_message_)) return fail(1009);
    if (buf_.size() < pos + 4 + len) return Result::Incomplete;
    unsigned char mask[4];
    for (int i = 0; i < 4; ++i) mask[i] = static_cast<unsigned char>(buf_[pos + i]);
    pos += 4;
    std::string payload = buf_.substr(pos, len);
    for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(payload[i] ^ mask[i & 3]);
    buf_.erase(0, pos + len);

    if (control) {
      out.opcode = opcode;
      out.payload = std::move(payload);
      return Result::Message;
    }
    if (opcode == kContinuation) {
      if (!in_fragment_) return fail(1002);
      frag_ += payload;
    } else {
      if (in_fragment_) return fail(1002);
      frag_opcode_ = opcode;
      frag_ = std::move(payload);
      in_fragment_ = true;
    }
    if (fin) {
      out.opcode = frag_opcode_;
      out.payload = std::move(frag_);
      frag_.clear();
      in_fragment_ = false;
      return Result::Message;
    }
  }
}

}  // namespace comfy::ws
