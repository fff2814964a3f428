// HTTP/1.x request model and an incremental parser. Pistache 0.0.5's own parser loses repeated
// query keys, does not percent-decode, counts headers towards the body limit and buffers a body
// before it can be refused; this one fixes those (architecture §2). One parser per connection;
// not thread-safe (used under the connection's lock).
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace comfy::http {

using Pairs = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;     // upper-case as sent
  std::string target;     // raw request target: path plus query
  std::string path;       // percent-decoded path
  std::string raw_path;   // path as sent
  std::string raw_query;  // after '?', undecoded
  Pairs query;            // decoded, in order, repeated keys kept
  Pairs headers;          // in order, names as sent
  std::string body;
  int version_minor = 1;
  bool keep_alive = true;

  // Case-insensitive lookup of the first header with this name.
  std::optional<std::string> header(std::string_view name) const;
  std::optional<std::string> query_value(std::string_view key) const;  // first value
};

Pairs parse_query(std::string_view raw);

class RequestParser {
 public:
  enum class State { Incomplete, Complete, Error };

  explicit RequestParser(size_t max_body) : max_body_(max_body) {}

  // Appends bytes. Then call next() until it returns Incomplete.
  void feed(const char* data, size_t len) { buf_.append(data, len); }
  // Tries to complete one request from the buffered bytes.
  State next(Request& out);
  // After an Error: the status to answer with (400, 413, 431, 501) and a short reason.
  int error_status() const { return error_status_; }
  const std::string& error_reason() const { return error_reason_; }
  // True once the headers of the current request are in and it announced "Expect: 100-continue".
  bool wants_continue();
  size_t buffered() const { return buf_.size(); }
  bool mid_request() const { return !buf_.empty() || have_head_; }

 private:
  State fail(int status, std::string reason);
  State parse_head(size_t head_end);
  State take_chunked(Request& out);

  std::string buf_;
  size_t max_body_;
  bool have_head_ = false;
  bool continue_sent_ = false;
  Request cur_;
  size_t body_len_ = 0;
  bool chunked_ = false;
  int error_status_ = 400;
  std::string error_reason_;
};

}  // namespace comfy::http
