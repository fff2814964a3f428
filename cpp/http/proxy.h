// The bridge to Python routes (architecture §3, design 2): a request that no native route claims
// is written, whole, to the aiohttp app that hosts custom-node routes on a Unix socket, and its
// response bytes are streamed back to the client unchanged. Full aiohttp fidelity (middlewares,
// StreamResponse, FileResponse, a pack's own WebSocket route through `tunnel`) without relying
// on aiohttp internals. Blocking socket work runs on the proxy's own threads, never on a reactor
// thread and never under the GIL. Upstream connections are kept alive and pooled (ResponseFraming
// finds where each response ends); a tunnel gets a connection of its own. Thread-safe.
#pragma once
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "http/request.h"

namespace comfy::http {

// The request as bytes for the upstream: the body re-framed with Content-Length, hop-by-hop
// framing headers dropped. Without `upgrade` the client's Connection headers are dropped too: the
// upstream connection is the proxy's own, kept alive and reused whatever the client asked for.
std::string upstream_request_bytes(const Request& req, bool upgrade);

// A response head (through its blank line) with its Connection and Keep-Alive headers replaced by
// "Connection: <connection>" (none when empty): the upstream's connection options say nothing
// about the client's connection. Bytes after the head are kept, and so are the `from` bytes
// before it (interim 1xx heads).
std::string with_connection_header(std::string_view bytes, std::string_view connection, size_t from = 0);

class UnixProxy {
 public:
  using Write = std::function<void(std::string bytes)>;
  using Done = std::function<void(bool ok)>;

  // `threads` workers; each holds at most one upstream connection, and as many idle ones are kept.
  UnixProxy(std::string socket_path, int threads);
  ~UnixProxy();

  // Sends the request; the response goes to `write` as it arrives, unchanged: the first call
  // carries the whole head (interim 1xx heads before it), the following ones the body as read.
  // `done` once the response is complete or cannot go on (ok=false when nothing of a response
  // arrived: the caller answers 502; with ok=true the caller checks the body's length itself).
  void forward(const Request& req, Write write, Done done);

  // Pack middlewares guard native routes too (auth packs protect /prompt, /view, /ws): the
  // request, without its upgrade, is sent to the Python app, whose innermost handler answers a
  // marker (X-Comfy-Native) when every middleware let it through. `done(true, "")` then; else
  // `done(false, response bytes)` with the middleware's own response (a 401, a redirect...), its
  // head saying Connection: close (the caller closes after it); `done(false, "")` when the app
  // could not be reached.
  void preflight(const Request& req, std::function<void(bool pass, std::string response)> done);

  // For Upgrade requests: forwards the handshake, then relays bytes both ways on a connection of
  // its own (never pooled). `write` receives upstream bytes; returns a function the caller feeds
  // client bytes to (thread-safe), or nullptr when the upstream is unreachable. `done` runs once
  // when the tunnel ends.
  std::function<void(std::string)> tunnel(const Request& req, Write write, Done done);

  // Upstream connections opened so far (tests and diagnostics).
  size_t connections_opened() const;

 private:
  int connect_upstream() const;
  void submit(std::function<void()> job);
  void worker();
  // One request/response exchange on a pooled connection (a new one when none is idle): the
  // response goes to `sink` as described for `forward`. A pooled connection that proves dead
  // before any response byte arrived is replaced once by a new one. False when nothing of a
  // response could be relayed.
  bool exchange(const std::string& request, bool head, bool idempotent, const Write& sink);
  int acquire(bool allow_pooled, bool& pooled);  // registers the socket in active_
  void release(int fd, bool reuse);              // back to the pool, or closed

  std::string path_;
  size_t max_idle_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  std::vector<int> active_;  // upstream sockets in use by a worker, shut down on destruction
  std::vector<int> idle_;    // kept-alive upstream sockets, most recently used last
  size_t opened_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace comfy::http
