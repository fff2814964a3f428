// The HTTP/WebSocket server on Pistache's TCP layer (listener, reactor threads, Peer::send).
// Our Http::Handler subclass replaces Pistache's request handling (architecture §2): keep-alive
// by default for HTTP/1.1, decoded query with repeated keys, any response header, a body limit
// that applies to the body only and refuses before buffering, 100-continue, and the WebSocket
// upgrade for /ws and /api/ws. Also the origin check / CORS middleware of spec §1.3 and
// cache_control. Route handlers run on reactor threads and must not block; they may answer
// later from any thread through their Responder. A response whose body is a file
// (Response::file) goes out head first through Pistache's queue, then the body from the file with
// the FileSender (file_sender.h); the connection takes its next request once the last byte is in
// the socket, and is shut down if the transfer cannot finish (client gone, file shrank).
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "http/response.h"
#include "ws/hub.h"

namespace comfy::http {

struct ServerOptions {
  std::vector<std::string> hosts{"127.0.0.1"};
  int port = 8188;
  size_t max_body = 100u * 1024 * 1024;
  int threads = 2;
  std::optional<std::string> cors_origin;  // --enable-cors-header; replaces the origin check
  size_t max_ws_message = 16u * 1024 * 1024;
  // Unix socket of the aiohttp app hosting custom-node routes; requests no native route claims
  // are forwarded there (empty: they get 404).
  std::string python_upstream;
  int proxy_threads = 4;
  StaticFallback static_fallback;  // tried after the route table, before the Python app
};

struct WsHooks {
  // After the 101 response: the session is registered in the hub by the server before this runs.
  std::function<void(const std::shared_ptr<ws::Session>&)> on_open;
  std::function<void(const std::shared_ptr<ws::Session>&, const std::string& text)> on_text;
  std::function<void(const std::shared_ptr<ws::Session>&)> on_close;
};

class Server {
 public:
  Server(ServerOptions opts, std::shared_ptr<Router> router, std::shared_ptr<ws::Hub> hub, WsHooks hooks);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  // Binds every host on the port and starts the reactor threads (with all signals blocked, so
  // SIGINT reaches the Python main thread). Throws std::runtime_error when no host can be bound.
  void start();
  void stop();
  int port() const;
  // Pack middlewares exist: every native route (and /ws) first passes through them.
  void set_preflight(bool on);

  struct Shared;

 private:
  std::shared_ptr<Shared> shared_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Spec §1.3 origin check. Returns true when the request must be refused with 403.
bool origin_mismatch(const Request& req);

}  // namespace comfy::http
