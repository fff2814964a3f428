// Where one HTTP/1.x response ends on a persistent connection (RFC 9112 §6.3), for the bridge's
// pooled upstream connections to the Python app. Fed the bytes as they arrive, in pieces of any
// size (one byte at a time included); it never copies body bytes, only the head's and the chunk
// framing's lines. It answers: is the response complete, and may the connection carry the next
// request. Anything it does not understand is an error: the caller closes that connection.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace comfy::http {

class ResponseFraming {
 public:
  enum class Body { None, Length, Chunked, UntilClose };

  // `head_request`: the request was HEAD, so the response has no body whatever its headers say.
  explicit ResponseFraming(bool head_request = false) : head_request_(head_request) {}

  // Consumes the bytes of this response and returns how many belong to it: all `n` while it is
  // incomplete; fewer once it is complete (whatever follows is not part of it) or on an error
  // (the rest was not looked at).
  size_t feed(const char* data, size_t n);
  // The upstream closed: completes a close-delimited body; anything else unfinished is an error.
  void eof();

  bool done() const { return phase_ == Phase::Done; }
  bool failed() const { return phase_ == Phase::Error; }
  const std::string& error() const { return error_; }

  // The final (non-1xx) response head has been read. Interim 1xx heads come before it.
  bool head_complete() const { return head_complete_; }
  int status() const { return status_; }
  Body body() const { return body_; }
  std::optional<uint64_t> content_length() const { return content_length_; }
  // Offsets in the consumed stream: where the final head starts (after any interim heads) and
  // where it ends (just past its blank line). Valid once head_complete().
  uint64_t final_head_start() const { return final_head_start_; }
  uint64_t head_end() const { return head_end_; }
  // The connection can carry another request: the response is complete, delimited by its own
  // framing (not by a close), and neither a `Connection: close` nor HTTP/1.0 without keep-alive.
  bool reusable() const;

  // Limits: a head (each of interim and final) and the trailer section; one chunk-size line.
  static constexpr size_t kMaxHead = 64 * 1024;
  static constexpr size_t kMaxChunkLine = 4096;

 private:
  enum class Phase { StatusLine, Headers, Length, ChunkSize, ChunkData, ChunkDataEnd, Trailers, UntilClose, Done, Error };

  void line(std::string_view l);  // one complete line of the current line-based phase, CR(LF) removed
  void status_line(std::string_view l);
  void header_line(std::string_view l);
  void end_of_head();
  void chunk_size_line(std::string_view l);
  void fail(const char* why);
  size_t line_limit() const;

  bool head_request_;
  Phase phase_ = Phase::StatusLine;
  std::string line_;        // the partial line carried over from the previous feed
  size_t section_bytes_ = 0;  // bytes of the current head or trailer section so far
  uint64_t offset_ = 0;     // bytes consumed so far
  uint64_t remaining_ = 0;  // of the Content-Length body or the current chunk
  int status_ = 0;
  int version_minor_ = 1;
  bool head_complete_ = false;
  Body body_ = Body::None;
  std::optional<uint64_t> content_length_;
  bool chunked_ = false, transfer_encoding_ = false, close_ = false, keep_alive_token_ = false;
  uint64_t head_start_ = 0;  // where the head being read starts
  uint64_t final_head_start_ = 0, head_end_ = 0;
  std::string error_;
};

}  // namespace comfy::http
