#include <gtest/gtest.h>

#include "ws/frame.h"
#include "ws/hub.h"

using namespace comfy::ws;

static std::string masked(uint8_t b0, const std::string& payload) {
  std::string f;
  f += static_cast<char>(b0);
  unsigned char mask[4] = {1, 2, 3, 4};
  if (payload.size() < 126) {
    f += static_cast<char>(0x80 | payload.size());
  } else {
    f += static_cast<char>(0x80 | 126);
    f += static_cast<char>(payload.size() >> 8);
    f += static_cast<char>(payload.size() & 0xFF);
  }
  f.append(reinterpret_cast<char*>(mask), 4);
  for (size_t i = 0; i < payload.size(); ++i) f += static_cast<char>(payload[i] ^ mask[i & 3]);
  return f;
}

TEST(WsFrame, AcceptKeyFromRfc6455) { EXPECT_EQ(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="); }

TEST(WsFrame, EncodesLengthsBigEndian) {
  EXPECT_EQ(encode_frame(kText, "hi"), std::string("\x81\x02hi", 4));
  std::string big(300, 'x');
  auto f = encode_frame(kBinary, big);
  EXPECT_EQ(static_cast<uint8_t>(f[0]), 0x82);
  EXPECT_EQ(static_cast<uint8_t>(f[1]), 126);
  EXPECT_EQ((static_cast<uint8_t>(f[2]) << 8) | static_cast<uint8_t>(f[3]), 300);
}

TEST(WsFrame, ParsesMaskedFragmentsWithInterleavedPing) {
  FrameParser p(1 << 20);
  std::string bytes = masked(0x01, "hel") + masked(0x89, "p") + masked(0x80, "lo");
  p.feed(bytes.data(), 5);  // partial first
  Message m;
  EXPECT_EQ(p.next(m), FrameParser::Result::Incomplete);
  p.feed(bytes.data() + 5, bytes.size() - 5);
  ASSERT_EQ(p.next(m), FrameParser::Result::Message);
  EXPECT_EQ(m.opcode, kPing);
  ASSERT_EQ(p.next(m), FrameParser::Result::Message);
  EXPECT_EQ(m.opcode, kText);
  EXPECT_EQ(m.payload, "hello");
}

TEST(WsFrame, RejectsUnmaskedAndOversized) {
  FrameParser p(10);
  std::string unmasked("\x81\x01x", 3);
  p.feed(unmasked.data(), unmasked.size());
  Message m;
  EXPECT_EQ(p.next(m), FrameParser::Result::Error);
  EXPECT_EQ(p.error_code(), 1002);
  FrameParser q(10);
  auto big = masked(0x81, std::string(11, 'a'));
  q.feed(big.data(), big.size());
  EXPECT_EQ(q.next(m), FrameParser::Result::Error);
  EXPECT_EQ(q.error_code(), 1009);
}

TEST(Hub, JsonFramesAndSlowClientBound) {
  Hub hub;
  auto s = std::make_shared<Session>();
  s->sid = "a";
  std::vector<std::string> written;
  std::vector<std::function<void()>> pending;
  bool closed = false;
  s->write = [&](std::string b, std::function<void()> done) {
    written.push_back(std::move(b));
    pending.push_back(std::move(done));  // never completes: a stalled reader
  };
  s->close = [&] { closed = true; };
  hub.add(s);
  hub.send_json("status", comfy::Json{{"x", 1}}, std::nullopt);
  ASSERT_EQ(written.size(), 1u);
  EXPECT_EQ(written[0].substr(2), R"({"type": "status", "data": {"x": 1}})");
  hub.send_json("other", {}, std::string("nobody"));
  EXPECT_EQ(written.size(), 1u);
  std::string preview(1 << 20, 'p');
  for (int i = 0; i < 20; ++i) hub.send_binary(preview, std::nullopt, true);
  EXPECT_LE(s->queued.load(), Hub::kDropPreviewBytes + (2 << 20));  // previews dropped past the mark
  for (int i = 0; i < 80; ++i) hub.send_binary(preview, std::nullopt, false);
  EXPECT_TRUE(closed);
  for (auto& d : pending) d();
  EXPECT_EQ(s->queued.load(), 0);
}
