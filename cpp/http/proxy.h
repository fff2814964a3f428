// The bridge to Python routes (architecture §3, design 2): a request that no native route claims
// is written, whole, to the aiohttp app that hosts custom-node routes on a Unix socket, and its
// response bytes are streamed back to the client unchanged. Full aiohttp fidelity (middlewares,
// StreamResponse, FileResponse, a pack's own WebSocket route through `tunnel`) without relying
// on aiohttp internals. Blocking socket work runs on the proxy's own threads, never on a reactor
// thread and never under the GIL. Thread-safe.
#pragma once
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "http/request.h"

namespace comfy::http {

// The request as bytes for the upstream: Connection: close, the body re-framed with
// Content-Length, hop-by-hop framing headers dropped.
std::string upstream_request_bytes(const Request& req, bool upgrade);

class UnixProxy {
 public:
  using Write = std::function<void(std::string bytes)>;
  using Done = std::function<void(bool ok)>;

  UnixProxy(std::string socket_path, int threads);
  ~UnixProxy();

  // Sends the request; every response chunk goes to `write` as it arrives; `done` at EOF
  // (ok=false when the upstream could not be reached: the caller answers 502).
  void forward(const Request& req, Write write, Done done);

  // Pack middlewares guard native routes too (auth packs protect /prompt, /view, /ws): the
  // request, without its upgrade, is sent to the Python app, whose innermost handler answers a
  // marker (X-Comfy-Native) when every middleware let it through. `done(true, "")` then; else
  // `done(false, response bytes)` with the middleware's own response (a 401, a redirect...).
  void preflight(const Request& req, std::function<void(bool pass, std::string response)> done);

  // For Upgrade requests: forwards the handshake, then relays bytes both ways. `write` receives
  // upstream bytes; returns a function the caller feeds client bytes to (thread-safe), or
  // nullptr when the upstream is unreachable. `done` runs once when the tunnel ends.
  std::function<void(std::string)> tunnel(const Request& req, Write write, Done done);

 private:
  int connect_upstream() const;
  void worker();

  std::string path_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  std::vector<int> active_;  // upstream sockets of running forwards, shut down on destruction
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace comfy::http
