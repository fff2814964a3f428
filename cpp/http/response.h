// HTTP response model, serialisation in aiohttp's header layout, MIME table, and the route table.
#pragma once
#include <ctime>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/json.h"
#include "http/file_sender.h"
#include "http/request.h"

namespace comfy::http {

struct Response {
  int status = 200;
  std::string content_type;  // empty with a body: application/octet-stream (aiohttp's default)
  Pairs headers;             // extra headers, sent as given (Pistache drops Header::Raw; we don't)
  std::string body;
  // Set instead of `body` for a file region: the server sends it with sendfile (file_sender.h).
  // Content-Length is its length; a HEAD request never reads it.
  std::shared_ptr<FileBody> file;

  static Response json(const Json& value, int status = 200);
  static Response empty(int status = 200);
  static Response text(std::string body, int status = 200, std::string type = "text/plain; charset=utf-8");
  // ComfyUI's error envelope for bad prompt bodies: {"error": {...}, "node_errors": {}}.
  static Response error_envelope(int status, const std::string& type, const std::string& message,
                                 const std::string& details);
};

const char* reason_phrase(int status);
// Full wire bytes (head + body); only the head when the body is a file.
std::string serialize(const Response& r, bool keep_alive, int version_minor, bool head_request = false);
// RFC 7231 IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") of a UTC time.
std::string http_date(std::time_t t);

// A one-shot handle to the pending response of one request. Copyable; send() is thread-safe and
// may be called from any thread (it goes through Pistache's Peer::send); later calls are ignored.
class Responder {
 public:
  struct Impl;
  Responder() = default;
  explicit Responder(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  void send(Response r) const;
  bool valid() const { return impl_ != nullptr; }
  const std::shared_ptr<Impl>& impl_ref() const { return impl_; }
  // Headers added to whatever response is sent later (call before send; not thread-safe with it).
  void add_header(std::string name, std::string value) const;

 private:
  std::shared_ptr<Impl> impl_;
};

struct RouteRequest {
  Request req;
  std::unordered_map<std::string, std::string> params;  // {name} segments of the matched pattern
};
using RouteHandler = std::function<void(RouteRequest&, Responder)>;
// Serves what no route claims (static files); returns false to let the request go on.
using StaticFallback = std::function<bool(RouteRequest&, const Responder&)>;

// Method + pattern table. Patterns are literal segments or {name}; a trailing {name:.*} matches the
// rest. Every route added with mirror=true is also registered under "/api" (ComfyUI's mirror).
class Router {
 public:
  void add(const std::string& method, const std::string& pattern, RouteHandler h, bool mirror = true);
  // Returns nullptr when nothing matches; sets *method_mismatch when the path exists with another method.
  const RouteHandler* match(const std::string& method, const std::string& path,
                            std::unordered_map<std::string, std::string>& params, bool* method_mismatch) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segs;
    RouteHandler handler;
  };
  std::vector<Route> routes_;
};

}  // namespace comfy::http
