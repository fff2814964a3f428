// ResponseFraming: where an upstream response ends and whether its connection can be reused. Every
// case is fed whole, byte by byte, and in other piece sizes (the chunked one at every two-piece
// split too); the outcome must not depend on where the reads happened to split the stream.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "http/response_framing.h"

using comfy::http::ResponseFraming;
using Body = ResponseFraming::Body;

namespace {

struct Run {
  ResponseFraming f;
  size_t consumed = 0;
};

// Feeds `bytes` in pieces of `piece` bytes (0: all at once), as a reader would: it stops feeding
// once the parser says the response is complete or broken. `eof`: the upstream then closes.
Run run(const std::string& bytes, size_t piece, bool head_request = false, bool eof = false) {
  Run r{ResponseFraming(head_request)};
  size_t step = piece ? piece : std::max<size_t>(bytes.size(), 1);
  for (size_t off = 0; off < bytes.size() && !r.f.done() && !r.f.failed(); off += step) {
    size_t n = std::min(step, bytes.size() - off);
    size_t used = r.f.feed(bytes.data() + off, n);
    r.consumed += used;
    if (used < n) break;
  }
  if (eof) r.f.eof();
  return r;
}

const std::vector<size_t> kPieces = {0, 1, 2, 3, 5, 7, 13, 64};

const std::string kChunked =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: text/plain\r\n"
    "Transfer-Encoding: chunked\r\n"
    "\r\n"
    "5;name=value\r\n"
    "hello\r\n"
    "1A ; ext=\"quoted;still ext\"\r\n"
    "abcdefghijklmnopqrstuvwxyz\r\n"
    "c\r\n"
    "0123456789\r\n\r\n"  // data containing CRLFs is data
    "0;last\r\n"
    "X-Trailer: t\r\n"
    "Other: u\r\n"
    "\r\n";

}  // namespace

TEST(ResponseFraming, ContentLengthEndsAtTheLengthInEveryPieceSize) {
  const std::string head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n";
  const std::string resp = head + "{\"a\":1}";
  for (size_t piece : kPieces) {
    SCOPED_TRACE(piece);
    auto r = run(resp + "HTTP/1.1 200 OK\r\n", piece);  // what follows is not this response's
    EXPECT_TRUE(r.f.done());
    EXPECT_EQ(r.consumed, resp.size());
    EXPECT_TRUE(r.f.reusable());
    EXPECT_EQ(r.f.status(), 200);
    EXPECT_EQ(r.f.body(), Body::Length);
    EXPECT_EQ(r.f.content_length(), 7u);
    EXPECT_EQ(r.f.final_head_start(), 0u);
    EXPECT_EQ(r.f.head_end(), head.size());
  }
  // Not yet complete: one byte short.
  auto r = run(resp.substr(0, resp.size() - 1), 0);
  EXPECT_FALSE(r.f.done());
  EXPECT_FALSE(r.f.failed());
  EXPECT_TRUE(r.f.head_complete());
  r.f.eof();  // ... and then the upstream closed
  EXPECT_TRUE(r.f.failed());
  EXPECT_FALSE(r.f.reusable());
}

TEST(ResponseFraming, ZeroLengthAndRepeatedEqualLengths) {
  for (size_t piece : kPieces) {
    auto r = run("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nX", piece);
    EXPECT_TRUE(r.f.done());
    EXPECT_TRUE(r.f.reusable());
    EXPECT_EQ(r.consumed, 38u);
    r = run("HTTP/1.1 200 OK\r\nContent-Length: 2\r\ncontent-length:  2 \r\n\r\nok", piece);
    EXPECT_TRUE(r.f.done());
    EXPECT_TRUE(r.f.reusable());
  }
}

TEST(ResponseFraming, ChunkedWithExtensionsAndTrailersAtEverySplit) {
  const std::string stream = kChunked + "HTTP/1.1 204 No Content\r\n\r\n";
  for (size_t piece : kPieces) {
    SCOPED_TRACE(piece);
    auto r = run(stream, piece);
    EXPECT_TRUE(r.f.done()) << r.f.error();
    EXPECT_EQ(r.consumed, kChunked.size());
    EXPECT_EQ(r.f.body(), Body::Chunked);
    EXPECT_TRUE(r.f.reusable());
  }
  // Every two-piece split, and every three-piece split with a one-byte middle.
  for (size_t cut = 0; cut <= kChunked.size(); ++cut) {
    SCOPED_TRACE(cut);
    for (size_t mid : {size_t(0), size_t(1)}) {
      ResponseFraming f;
      size_t a = cut, b = std::min(kChunked.size(), cut + mid);
      size_t used = f.feed(kChunked.data(), a);
      used += f.feed(kChunked.data() + a, b - a);
      EXPECT_FALSE(f.done() && b < kChunked.size());
      used += f.feed(kChunked.data() + b, kChunked.size() - b);
      EXPECT_TRUE(f.done()) << f.error();
      EXPECT_EQ(used, kChunked.size());
    }
  }
}

TEST(ResponseFraming, ChunkedIsIncompleteUntilTheTrailerSectionEnds) {
  // Up to any byte short of the final CRLF, the response is not complete.
  for (size_t len = 0; len < kChunked.size(); ++len) {
    auto r = run(kChunked.substr(0, len), 1);
    EXPECT_FALSE(r.f.done()) << len;
    EXPECT_FALSE(r.f.failed()) << len << " " << r.f.error();
  }
  auto r = run("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 1);
  EXPECT_TRUE(r.f.done());
  EXPECT_TRUE(r.f.reusable());
  r = run("HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n", 0);
  EXPECT_TRUE(r.f.done());  // coding names and hex digits are case-insensitive
}

TEST(ResponseFraming, ResponsesWithoutABody) {
  for (size_t piece : kPieces) {
    SCOPED_TRACE(piece);
    // HEAD: the headers describe the GET's body, which is not sent.
    const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n";
    auto r = run(head + "NEXT", piece, true);
    EXPECT_TRUE(r.f.done());
    EXPECT_EQ(r.consumed, head.size());
    EXPECT_EQ(r.f.body(), Body::None);
    EXPECT_TRUE(r.f.reusable());
    r = run("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", piece, true);
    EXPECT_TRUE(r.f.done());
    EXPECT_TRUE(r.f.reusable());
    for (const char* status : {"204 No Content", "304 Not Modified"}) {
      std::string resp = std::string("HTTP/1.1 ") + status + "\r\nX-Comfy-Native: 1\r\n\r\n";
      r = run(resp + "more", piece);
      EXPECT_TRUE(r.f.done()) << status;
      EXPECT_EQ(r.consumed, resp.size());
      EXPECT_TRUE(r.f.reusable());
    }
  }
}

TEST(ResponseFraming, InterimResponsesPrecedeTheFinalOne) {
  const std::string interim = "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\nContent-Length: 99\r\n\r\n";
  const std::string final_ = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  for (size_t piece : kPieces) {
    auto r = run("HTTP/1.1 100 Continue\r\n\r\n" + interim + final_, piece);
    EXPECT_TRUE(r.f.done()) << piece;
    EXPECT_EQ(r.f.status(), 200);
    EXPECT_EQ(r.f.final_head_start(), 25u + interim.size());
    EXPECT_EQ(r.f.head_end(), 25u + interim.size() + final_.size() - 2);
    EXPECT_TRUE(r.f.reusable());
  }
  // Only interim heads so far: no final head yet.
  auto r = run(interim, 0);
  EXPECT_FALSE(r.f.head_complete());
  EXPECT_FALSE(r.f.done());
  // 101 switches protocols: the rest is not HTTP; never reusable.
  r = run("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x02hi", 1);
  EXPECT_TRUE(r.f.head_complete());
  EXPECT_FALSE(r.f.done());
  r.f.eof();
  EXPECT_TRUE(r.f.done());
  EXPECT_FALSE(r.f.reusable());
}

TEST(ResponseFraming, CloseDelimitedBodiesEndAtEofAndAreNotReused) {
  const std::string resp = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of this until the close";
  for (size_t piece : kPieces) {
    auto r = run(resp, piece);
    EXPECT_FALSE(r.f.done());
    EXPECT_EQ(r.consumed, resp.size());
    EXPECT_EQ(r.f.body(), Body::UntilClose);
    r.f.eof();
    EXPECT_TRUE(r.f.done());
    EXPECT_FALSE(r.f.reusable());
  }
  // A transfer coding other than chunked last: also delimited by the close.
  auto r = run("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzzz", 0, false, true);
  EXPECT_TRUE(r.f.done());
  EXPECT_EQ(r.f.body(), Body::UntilClose);
  EXPECT_FALSE(r.f.reusable());
}

TEST(ResponseFraming, ConnectionOptionsAndVersionDecideReuse) {
  auto r = run("HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 1\r\n\r\nx", 1);
  EXPECT_TRUE(r.f.done());
  EXPECT_FALSE(r.f.reusable());
  r = run("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", 1);
  EXPECT_TRUE(r.f.done());
  EXPECT_FALSE(r.f.reusable());  // HTTP/1.0 closes unless it says keep-alive
  r = run("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\nx", 1);
  EXPECT_TRUE(r.f.reusable());
  // Both Transfer-Encoding and Content-Length: chunked framing wins, the connection is not reused.
  r = run("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n", 1);
  EXPECT_TRUE(r.f.done());
  EXPECT_EQ(r.f.body(), Body::Chunked);
  EXPECT_FALSE(r.f.reusable());
  // Bare LF line ends are accepted.
  r = run("HTTP/1.1 200 OK\nContent-Length: 2\n\nok", 1);
  EXPECT_TRUE(r.f.done());
  EXPECT_TRUE(r.f.reusable());
}

TEST(ResponseFraming, MalformedInputFailsInEveryPieceSize) {
  const std::string big_header = "X-Big: " + std::string(ResponseFraming::kMaxHead, 'a') + "\r\n";
  const std::vector<std::string> bad = {
      "garbage\r\n\r\n",
      "HTTP/2 200 OK\r\n\r\n",
      "HTTP/1.1 20 OK\r\n\r\n",
      "HTTP/1.1 200OK\r\n\r\n",
      "HTTP/1.1 099 Low\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
      "HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
      "HTTP/1.1 200 OK\r\n: empty name\r\n\r\n",
      "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 x\r\nhello\r\n0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX\r\n0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1000000000000000\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + std::string(ResponseFraming::kMaxChunkLine + 1, '0'),
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nno colon trailer\r\n\r\n",
      "HTTP/1.1 200 OK\r\n" + big_header + "\r\n",
  };
  for (const auto& b : bad) {
    for (size_t piece : kPieces) {
      auto r = run(b, piece);
      EXPECT_TRUE(r.f.failed()) << piece << ": " << b.substr(0, 80);
      EXPECT_FALSE(r.f.done());
      EXPECT_FALSE(r.f.reusable());
      r.f.eof();  // stays failed
      EXPECT_TRUE(r.f.failed());
      // The parser stops taking bytes at the error.
      EXPECT_EQ(r.f.feed("x", 1), 0u);
    }
  }
}

TEST(ResponseFraming, EofBeforeTheEndIsAnError) {
  for (const std::string& cut : {std::string(""), std::string("HTTP/1.1 200"), std::string("HTTP/1.1 200 OK\r\nContent-Le"),
                                 kChunked.substr(0, kChunked.size() - 2)}) {
    auto r = run(cut, 1, false, true);
    EXPECT_TRUE(r.f.failed()) << cut;
    EXPECT_FALSE(r.f.reusable());
  }
}
