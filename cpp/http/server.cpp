#include "http/server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <pistache/peer.h>
#include <signal.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "common/util.h"
#include "http/proxy.h"
#include "http/response_framing.h"
#include "ws/frame.h"

namespace comfy::http {

// Pistache's reaper closes connections idle this long; a download that stalls as long is dropped.
constexpr std::chrono::seconds kKeepaliveTimeout{75};

struct Server::Shared {
  ServerOptions opts;
  std::shared_ptr<Router> router;
  std::shared_ptr<ws::Hub> hub;
  WsHooks hooks;
  std::unique_ptr<UnixProxy> proxy;  // set before the server starts, then read-only
  std::atomic<bool> preflight{false};
  FileSender sender{{.stall_timeout = kKeepaliveTimeout}};  // bodies of file responses
};

namespace {
using PeerPtr = std::shared_ptr<Pistache::Tcp::Peer>;
constexpr const char* kConnKey = "comfy.conn";

struct Conn {
  std::recursive_mutex mu;
  RequestParser parser;
  bool busy = false;    // a response is pending; later pipelined requests wait
  bool closed = false;  // a Connection: close response went out; ignore further input
  bool in_loop = false; // process_input is running on this connection (no re-entry)
  bool disconnected = false;  // onDisconnection ran: the fd is no longer ours
  std::shared_ptr<ws::Session> ws;
  std::unique_ptr<ws::FrameParser> frames;
  std::function<void(std::string)> tunnel;  // a pack's WebSocket route, relayed to the Python app
  std::shared_ptr<FileSender::Transfer> sending;  // a file body in flight (detached on disconnection)
  bool streaming = false;  // a file response is under way (head queued or body in flight)
  explicit Conn(size_t max_body) : parser(max_body) {}
};

// Half-closes the connection once a Connection: close response is out. Pistache closes the fd
// right after onDisconnection, and the number can then belong to a new client: only shut it down
// under the connection's lock while onDisconnection has not run.
void shutdown_after(const PeerPtr& peer) {
  auto conn = std::static_pointer_cast<Conn>(peer->tryGetData(kConnKey));
  if (!conn) return;
  std::lock_guard lk(conn->mu);
  if (!conn->disconnected) ::shutdown(peer->fd(), SHUT_WR);
}

void write_bytes(const std::weak_ptr<Pistache::Tcp::Peer>& wp, std::string bytes, bool close_after,
                 std::function<void()> done = {}) {
  auto peer = wp.lock();
  if (!peer) {
    if (done) done();
    return;
  }
  size_t n = bytes.size();
  Pistache::RawBuffer buf(std::move(bytes), n);
  peer->send(buf).then(
      [wp, close_after, done](ssize_t) {
        if (close_after)
          if (auto p = wp.lock()) shutdown_after(p);
        if (done) done();
      },
      [done](std::exception_ptr) {
        if (done) done();
      });
}

// A touch of Pistache's own per-peer parser resets the clock its idle reaper reads.
void touch_clock(const PeerPtr& peer, bool idle) {
  if (auto p = peer->tryGetData(Pistache::Http::Handler::ParserData))
    std::static_pointer_cast<Pistache::Http::RequestParser>(p)->reset();
  peer->setIdle(idle);
}

bool is_loopback_host(const std::string& host) {
  static std::mutex mu;
  static std::unordered_map<std::string, bool> cache;
  in_addr a4;
  in6_addr a6;
  if (inet_pton(AF_INET, host.c_str(), &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
  if (inet_pton(AF_INET6, host.c_str(), &a6) == 1) return IN6_IS_ADDR_LOOPBACK(&a6);
  {
    std::lock_guard lk(mu);
    auto it = cache.find(host);
    if (it != cache.end()) return it->second;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  addrinfo* res = nullptr;
  bool loop = false;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &res) == 0 && res) {
    loop = true;
    for (auto* p = res; p; p = p->ai_next) {
      if (p->ai_family == AF_INET) {
        auto* s = reinterpret_cast<sockaddr_in*>(p->ai_addr);
        if ((ntohl(s->sin_addr.s_addr) >> 24) != 127) loop = false;
      } else if (p->ai_family == AF_INET6) {
        auto* s = reinterpret_cast<sockaddr_in6*>(p->ai_addr);
        if (!IN6_IS_ADDR_LOOPBACK(&s->sin6_addr)) loop = false;
      }
    }
    freeaddrinfo(res);
  }
  std::lock_guard lk(mu);
  if (cache.size() > 1024) cache.clear();
  cache[host] = loop;
  return loop;
}

// Splits "host[:port]" / "[v6]:port" into hostname and whether a port was present.
std::pair<std::string, bool> split_hostport(const std::string& s) {
  if (!s.empty() && s[0] == '[') {
    auto e = s.find(']');
    if (e == std::string::npos) return {s, false};
    return {s.substr(1, e - 1), e + 1 < s.size() && s[e + 1] == ':'};
  }
  auto c = s.rfind(':');
  if (c == std::string::npos || s.find(':') != c) return {s, false};
  return {s.substr(0, c), true};
}

void add_cache_control(const std::string& path, Response& r) {
  for (const auto& [k, v] : r.headers)
    if (iequals(k, "Cache-Control")) return;
  auto lower = to_lower(path);
  auto last = lower.substr(lower.find_last_of('/') + 1);
  auto ends = [&](const char* suf) {
    std::string s(suf);
    return lower.size() >= s.size() && lower.compare(lower.size() - s.size(), s.size(), s) == 0;
  };
  if (ends(".js") || ends(".css") || (last.rfind("index", 0) == 0 && ends(".json"))) {
    r.headers.emplace_back("Cache-Control", "no-cache");
    return;
  }
  static const char* img[] = {".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp"};
  bool is_img = false;
  for (auto* e : img) is_img = is_img || ends(e);
  if (!is_img) return;
  int s = r.status;
  if (s == 404) r.headers.emplace_back("Cache-Control", "public, max-age=3600");
  else if ((s >= 200 && s <= 206) || s == 301 || s == 308) r.headers.emplace_back("Cache-Control", "public, max-age=86400");
  else if (s == 302 || s == 303 || s == 307) r.headers.emplace_back("Cache-Control", "no-cache");
}
}  // namespace

bool origin_mismatch(const Request& req) {
  auto host = req.header("Host");
  auto origin = req.header("Origin");
  if (!host || !origin) return false;
  std::string host_domain = to_lower(*host);
  // netloc of the Origin URL: strip scheme and any path.
  std::string o = to_lower(*origin);
  auto sch = o.find("://");
  std::string netloc = sch == std::string::npos ? "" : o.substr(sch + 3);
  netloc = netloc.substr(0, netloc.find('/'));
  auto [host_name, host_has_port] = split_hostport(host_domain);
  auto [origin_name, origin_has_port] = split_hostport(netloc);
  if (!is_loopback_host(host_name)) return false;
  std::string hd = origin_has_port ? host_domain : host_name;
  std::string od = host_has_port ? netloc : origin_name;
  return !hd.empty() && !od.empty() && hd != od;
}

struct Responder::Impl {
  std::weak_ptr<Pistache::Tcp::Peer> peer;
  std::weak_ptr<Conn> conn;
  std::shared_ptr<Server::Shared> shared;
  std::string path;
  bool keep_alive = true;
  bool head = false;
  int version_minor = 1;
  std::atomic<bool> sent{false};
  std::function<void()> after;  // resumes the connection's pipeline
  Pairs extra_headers;
};

void Responder::add_header(std::string name, std::string value) const {
  if (impl_) impl_->extra_headers.emplace_back(std::move(name), std::move(value));
}

namespace {
void process_input(const std::shared_ptr<Server::Shared>& sh, const PeerPtr& peer, const std::shared_ptr<Conn>& conn);
void dispatch_native(const std::shared_ptr<Server::Shared>& sh, const PeerPtr& peer, const std::shared_ptr<Conn>& conn,
                     Request&& req, Responder resp);

// A transfer that cannot go on: no more requests on this connection, and the client sees it end.
void abandon(const std::shared_ptr<Responder::Impl>& impl) {
  auto c = impl->conn.lock();
  auto p = impl->peer.lock();
  if (!c || !p) return;
  std::lock_guard lk(c->mu);
  c->closed = true;
  c->streaming = false;
  c->sending.reset();
  if (!c->disconnected) ::shutdown(p->fd(), SHUT_RDWR);
}

// Second half of a file response: Pistache has written the head (and everything queued before
// it), so the socket is ours until the body is through; the FileSender moves it. The connection
// stays busy meanwhile (pipelined requests wait) and resumes in `done`.
void start_file_body(const std::shared_ptr<Responder::Impl>& impl, std::shared_ptr<FileBody> body, bool keep_alive) {
  auto c = impl->conn.lock();
  auto p = impl->peer.lock();
  if (!c || !p) return;
  FileSender::Callbacks cb;
  cb.done = [impl, keep_alive](FileSender::Outcome outcome) {
    if (outcome != FileSender::Outcome::Complete) return abandon(impl);
    auto c = impl->conn.lock();
    auto p = impl->peer.lock();
    if (!c || !p) return;
    {
      std::lock_guard lk(c->mu);
      c->sending.reset();
      c->streaming = false;
    }
    if (!keep_alive) shutdown_after(p);
    if (impl->after) impl->after();
  };
  // Pistache's reaper must not reap the connection while the body is in flight: its removePeer
  // closes the fd without onDisconnection, and the sender would never be detached. The sender
  // times out stalled clients itself, through a shutdown that does reach onDisconnection.
  cb.keepalive = [impl] {
    auto c = impl->conn.lock();
    auto p = impl->peer.lock();
    if (!c || !p) return;
    std::lock_guard lk(c->mu);
    if (!c->disconnected) touch_clock(p, true);
  };
  std::shared_ptr<FileSender::Transfer> t;
  {
    std::lock_guard lk(c->mu);
    if (c->disconnected) return;
    t = impl->shared->sender.create(p->fd(), std::move(body), std::move(cb));
    if (!t) {  // the server is stopping
      c->closed = true;
      ::shutdown(p->fd(), SHUT_RDWR);
      return;
    }
    c->sending = t;
  }
  impl->shared->sender.start(t);  // first turn here, on the reactor thread; a detach meanwhile is fine
}

// Head through Pistache's queue, then the body from the file. Marked idle meanwhile (pipelined
// input too, see onInput): should the client stop reading for the keep-alive timeout, Pistache's
// reaper closes the connection quietly instead of writing a 408 into the middle of the body.
void send_file_response(const std::shared_ptr<Responder::Impl>& impl, const Response& r, bool keep_alive) {
  auto c = impl->conn.lock();
  auto p = impl->peer.lock();
  if (!c || !p) return;
  {
    std::lock_guard lk(c->mu);
    c->streaming = true;
    touch_clock(p, true);
  }
  std::string head = serialize(r, keep_alive, impl->version_minor);
  size_t n = head.size();
  Pistache::RawBuffer buf(std::move(head), n);
  // MSG_MORE: the head leaves with the first body bytes instead of in a packet of its own.
  p->send(buf, MSG_MORE)
      .then([impl, body = r.file, keep_alive](ssize_t) { start_file_body(impl, body, keep_alive); },
            [impl](std::exception_ptr) { abandon(impl); });
}
}  // namespace

void Responder::send(Response r) const {
  if (!impl_ || impl_->sent.exchange(true)) return;
  auto& sh = *impl_->shared;
  if (sh.opts.cors_origin) {
    r.headers.emplace_back("Access-Control-Allow-Origin", *sh.opts.cors_origin);
    r.headers.emplace_back("Access-Control-Allow-Methods", "POST, GET, DELETE, PUT, OPTIONS");
    r.headers.emplace_back("Access-Control-Allow-Headers", "Content-Type, Authorization");
    r.headers.emplace_back("Access-Control-Allow-Credentials", "true");
  }
  for (auto& h : impl_->extra_headers) r.headers.push_back(std::move(h));
  add_cache_control(impl_->path, r);
  bool ka = impl_->keep_alive;
  if (r.file && r.file->length && !impl_->head) return send_file_response(impl_, r, ka);  // resumes when sent
  write_bytes(impl_->peer, serialize(r, ka, impl_->version_minor, impl_->head), !ka);
  if (impl_->after) impl_->after();
}

namespace {

// Writes of one WebSocket session, coalesced: while a write is on its way to the socket, later
// frames gather in `pending` and leave together in one send, so a burst of progress messages costs
// a few syscalls instead of one each (frame order is kept: one write in flight at a time). Pistache
// resolves a send synchronously when it completes on the reactor thread, so the pump loops instead
// of recursing: whichever of the caller and the completion comes second carries on.
class WsWriter : public std::enable_shared_from_this<WsWriter> {
 public:
  explicit WsWriter(std::weak_ptr<Pistache::Tcp::Peer> wp) : wp_(std::move(wp)) {}
  void write(std::string bytes, std::function<void()> done) {
    {
      std::lock_guard lk(mu_);
      if (pending_.empty()) pending_ = std::move(bytes);
      else pending_ += bytes;
      dones_.push_back(std::move(done));
      if (in_flight_) return;
      in_flight_ = true;
    }
    pump();
  }

 private:
  void pump() {  // called by the owner of in_flight_
    auto self = shared_from_this();
    for (;;) {
      std::string bytes;
      std::vector<std::function<void()>> dones;
      {
        std::lock_guard lk(mu_);
        if (pending_.empty()) {
          in_flight_ = false;
          return;
        }
        bytes.swap(pending_);
        dones.swap(dones_);
      }
      // 0: the call is running; 1: it completed inside the call; 2: the call returned first.
      auto stage = std::make_shared<std::atomic<int>>(0);
      write_bytes(wp_, std::move(bytes), false, [self, stage, dones = std::move(dones)] {
        for (const auto& d : dones)
          if (d) d();
        int running = 0;
        if (stage->compare_exchange_strong(running, 1)) return;  // the loop below continues
        self->pump();
      });
      int running = 0;
      if (stage->compare_exchange_strong(running, 2)) return;  // the completion will continue
    }
  }

  std::weak_ptr<Pistache::Tcp::Peer> wp_;
  std::mutex mu_;
  bool in_flight_ = false;
  std::string pending_;
  std::vector<std::function<void()>> dones_;
};

void upgrade_websocket(const std::shared_ptr<Server::Shared>& sh, const PeerPtr& peer,
                       const std::shared_ptr<Conn>& conn, const Request& req) {
  auto key = req.header("Sec-WebSocket-Key");
  Response r;
  r.status = 101;
  r.headers = {{"Upgrade", "websocket"}, {"Connection", "upgrade"},
               {"Sec-WebSocket-Accept", ws::accept_key(key.value_or(""))}};
  std::string head = "HTTP/1.1 101 Switching Protocols\r\n";
  for (auto& [k, v] : r.headers) head += k + ": " + v + "\r\n";
  head += "\r\n";

  auto s = std::make_shared<ws::Session>();
  auto q = req.query_value("clientId");
  s->sid = q && !q->empty() ? *q : uuid4_hex();
  std::weak_ptr<Pistache::Tcp::Peer> wp = peer;
  auto writer = std::make_shared<WsWriter>(wp);
  s->write = [writer](std::string bytes, std::function<void()> done) { writer->write(std::move(bytes), std::move(done)); };
  s->close = [wp] {
    if (auto p = wp.lock()) write_bytes(wp, ws::encode_close(1001), true);
  };
  conn->ws = s;
  conn->frames = std::make_unique<ws::FrameParser>(sh->opts.max_ws_message);
  write_bytes(wp, head, false);
  touch_clock(peer, true);
  sh->hub->add(s);
  if (sh->hooks.on_open) sh->hooks.on_open(s);
}

void on_ws_bytes(const std::shared_ptr<Server::Shared>& sh, const PeerPtr& peer, Conn& conn,
                 const char* data, size_t len) {
  conn.frames->feed(data, len);
  ws::Message m;
  while (true) {
    auto res = conn.frames->next(m);
    if (res == ws::FrameParser::Result::Incomplete) return;
    if (res == ws::FrameParser::Result::Error) {
      write_bytes(peer, ws::encode_close(conn.frames->error_code()), true);
      conn.closed = true;
      return;
    }
    switch (m.opcode) {
      case ws::kPing: write_bytes(peer, ws::encode_frame(ws::kPong, m.payload), false); break;
      case ws::kPong: break;
      case ws::kClose:
        write_bytes(peer, ws::encode_close(1000), true);
        conn.closed = true;
        return;
      case ws::kText:
        if (sh->hooks.on_text) sh->hooks.on_text(conn.ws, m.payload);
        break;
      default: break;  // binary messages are ignored, as in ComfyUI
    }
  }
}

// Streams proxied bytes to the client as they arrive and, after finish(), closes the connection
// once every write is out (Pistache completes the writes of a peer in order, so the last one to
// complete is the last one queued). Pushes come from one thread; completions from the reactor.
class StreamToClient {
 public:
  explicit StreamToClient(std::weak_ptr<Pistache::Tcp::Peer> p) : peer_(std::move(p)), state_(std::make_shared<State>()) {}
  void push(std::string bytes) {
    {
      std::lock_guard lk(state_->mu);
      ++state_->in_flight;
    }
    write_bytes(peer_, std::move(bytes), false, [st = state_, wp = peer_] {
      bool close;
      {
        std::lock_guard lk(st->mu);
        close = --st->in_flight == 0 && st->finished;
      }
      if (close)
        if (auto p = wp.lock()) shutdown_after(p);
    });
  }
  void finish() {
    bool close;
    {
      std::lock_guard lk(state_->mu);
      state_->finished = true;
      close = state_->in_flight == 0;
    }
    if (close)
      if (auto p = peer_.lock()) shutdown_after(p);
  }

 private:
  struct State {
    std::mutex mu;
    int in_flight = 0;
    bool finished = false;
  };
  std::weak_ptr<Pistache::Tcp::Peer> peer_;
  std::shared_ptr<State> state_;
};

// Relays a response of the Python app; the first push holds its whole head (UnixProxy::forward).
// When the client wants keep-alive and the head tells the body's length (a Content-Length, or no
// body: HEAD, 204, 304), the upstream's Connection headers are dropped and the connection resumes
// with the next request once the body is through and the upstream exchange has ended (so the
// next request finds the upstream connection back in the pool). Otherwise (chunked streams,
// unknown length, interim 1xx heads) the response goes out with Connection: close and the
// connection closes after it.
class ProxyRelay {
 public:
  ProxyRelay(std::weak_ptr<Pistache::Tcp::Peer> p, bool keep_alive, bool head, int version_minor,
             std::function<void()> resume)
      : peer_(p), keep_alive_(keep_alive), head_(head), version_minor_(version_minor), resume_(std::move(resume)),
        closer_(p) {}

  void push(std::string bytes) {
    if (!head_done_) return take_head(std::move(bytes));
    if (!length_mode_) return closer_.push(std::move(bytes));
    send_body(std::move(bytes));
  }

  // The upstream exchange ended (the response complete, or cut short).
  void finish() {
    if (length_mode_) {
      if (remaining_ == 0) resume_();
      else if (auto p = peer_.lock()) shutdown_after(p);  // the app stopped short: the client cannot reuse this
      return;
    }
    closer_.finish();
  }

 private:
  void take_head(std::string bytes) {
    head_done_ = true;
    ResponseFraming framing(head_);
    framing.feed(bytes.data(), bytes.size());
    bool sized = framing.body() == ResponseFraming::Body::None || framing.body() == ResponseFraming::Body::Length;
    if (!framing.head_complete() || !keep_alive_ || !sized || framing.final_head_start() != 0) {
      if (framing.head_complete())
        bytes = with_connection_header(bytes, "close", framing.final_head_start());
      return closer_.push(std::move(bytes));
    }
    length_mode_ = true;
    remaining_ = framing.body() == ResponseFraming::Body::Length ? *framing.content_length() : 0;
    std::string out = with_connection_header(std::string_view(bytes).substr(0, framing.head_end()),
                                             version_minor_ == 0 ? "keep-alive" : "");
    bytes.erase(0, framing.head_end());
    send_body(std::move(bytes), std::move(out));
  }

  // Body bytes, after the head when one is given (a head is never empty: it has a status line).
  void send_body(std::string bytes, std::string head = {}) {
    size_t take = std::min<uint64_t>(bytes.size(), remaining_);
    bytes.resize(take);  // bytes past the declared length are dropped
    remaining_ -= take;
    if (!head.empty()) {
      head += bytes;
      return write_bytes(peer_, std::move(head), false);
    }
    if (take) write_bytes(peer_, std::move(bytes), false);
  }

  std::weak_ptr<Pistache::Tcp::Peer> peer_;
  bool keep_alive_, head_;
  int version_minor_;
  std::function<void()> resume_;
  StreamToClient closer_;
  bool head_done_ = false, length_mode_ = false;
  uint64_t remaining_ = 0;
};

void proxy_request(const std::shared_ptr<Server::Shared>& sh, const PeerPtr& peer, const std::shared_ptr<Conn>& conn,
                   const Request& req, bool upgrade, const std::shared_ptr<Responder::Impl>& impl) {
  std::weak_ptr<Pistache::Tcp::Peer> wp = peer;
  if (upgrade) {
    // A tunnel relays as bytes arrive (holding one back would stall the handshake).
    auto feed = sh->proxy->tunnel(
        req, [wp](std::string b) { write_bytes(wp, std::move(b), false); },
        [wp](bool) {
          if (auto p = wp.lock()) write_bytes(wp, ws::encode_close(1001), true);
        });
    if (!feed) {
      write_bytes(wp, serialize(Response::text("502: Bad Gateway", 502), false, 1), true);
      conn->closed = true;
      return;
    }
    conn->tunnel = std::move(feed);
    touch_clock(peer, true);
    return;
  }
  auto relay = std::make_shared<ProxyRelay>(peer, req.keep_alive, req.method == "HEAD", req.version_minor, impl->after);
  sh->proxy->forward(req, [relay](std::string b) { relay->push(std::move(b)); }, [relay, wp](bool ok) {
    if (!ok) write_bytes(wp, serialize(Response::text("502: Bad Gateway", 502), false, 1), true);
    else relay->finish();
  });
}

bool is_ws_upgrade(const Request& req) {
  auto up = req.header("Upgrade");
  return up && iequals(trim(*up), "websocket") && req.method == "GET";
}

void dispatch(const std::shared_ptr<Server::Shared>& sh, const PeerPtr& peer, const std::shared_ptr<Conn>& conn,
              Request&& req) {
  auto impl = std::make_shared<Responder::Impl>();
  impl->peer = peer;
  impl->conn = conn;
  impl->shared = sh;
  impl->path = req.path;
  impl->keep_alive = req.keep_alive;
  impl->head = req.method == "HEAD";
  impl->version_minor = req.version_minor;
  std::weak_ptr<Conn> wc = conn;
  std::weak_ptr<Pistache::Tcp::Peer> wp = peer;
  impl->after = [sh, wc, wp] {
    auto c = wc.lock();
    auto p = wp.lock();
    if (!c || !p) return;
    std::lock_guard lk(c->mu);
    c->busy = false;
    touch_clock(p, !c->parser.mid_request());
    if (!c->in_loop && c->parser.buffered()) process_input(sh, p, c);
  };
  if (!req.keep_alive) conn->closed = true;
  Responder resp(impl);

  if (sh->opts.cors_origin) {
    if (req.method == "OPTIONS") return resp.send(Response::empty(200));
  } else if (origin_mismatch(req)) {
    std::fprintf(stderr, "WARNING: request with non matching host and origin %s != %s, returning 403\n",
                 req.header("Host").value_or("").c_str(), req.header("Origin").value_or("").c_str());
    return resp.send(Response::empty(403));
  } else if (req.method == "OPTIONS") {
    return resp.send(Response::empty(200));
  }

  if (sh->preflight.load() && sh->proxy) {
    bool native = (req.path == "/ws" || req.path == "/api/ws") && is_ws_upgrade(req);
    std::unordered_map<std::string, std::string> params;
    native = native || sh->router->match(req.method, req.path, params, nullptr) != nullptr;
    if (native) {
      auto shared_req = std::make_shared<Request>(std::move(req));
      std::weak_ptr<Conn> wc = conn;
      std::weak_ptr<Pistache::Tcp::Peer> wp = peer;
      sh->proxy->preflight(*shared_req, [sh, wc, wp, shared_req, impl](bool pass, std::string response) {
        auto c = wc.lock();
        auto p = wp.lock();
        if (!c || !p) return;
        std::lock_guard lk(c->mu);
        if (!pass) {
          impl->sent = true;
          c->closed = true;
          if (response.empty()) response = serialize(Response::text("502: Bad Gateway", 502), false, 1);
          return write_bytes(wp, std::move(response), true);
        }
        dispatch_native(sh, p, c, std::move(*shared_req), Responder(impl));
      });
      return;
    }
  }
  dispatch_native(sh, peer, conn, std::move(req), resp);
}

void dispatch_native(const std::shared_ptr<Server::Shared>& sh, const PeerPtr& peer, const std::shared_ptr<Conn>& conn,
                     Request&& req, Responder resp) {
  auto& impl = resp.impl_ref();
  if ((req.path == "/ws" || req.path == "/api/ws") && is_ws_upgrade(req)) {
    impl->sent = true;
    conn->busy = false;
    return upgrade_websocket(sh, peer, conn, req);
  }

  RouteRequest rr{std::move(req), {}};
  bool mismatch = false;
  const RouteHandler* h = sh->router->match(rr.req.method, rr.req.path, rr.params, &mismatch);
  if (!h) {
    if (sh->opts.static_fallback && sh->opts.static_fallback(rr, resp)) return;
    if (sh->proxy) {
      impl->sent = true;  // the upstream's own response goes out instead
      return proxy_request(sh, peer, conn, rr.req, is_ws_upgrade(rr.req), impl);
    }
    if (mismatch) return resp.send(Response::text("405: Method Not Allowed", 405));
    return resp.send(Response::text("404: Not Found", 404));
  }
  try {
    (*h)(rr, resp);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ERROR: handler for %s failed: %s\n", rr.req.path.c_str(), e.what());
    resp.send(Response::text("500 Internal Server Error\n\nServer got itself in trouble", 500));
  }
}

void process_input(const std::shared_ptr<Server::Shared>& sh, const PeerPtr& peer, const std::shared_ptr<Conn>& conn) {
  conn->in_loop = true;
  struct Reset { bool& f; ~Reset() { f = false; } } reset{conn->in_loop};
  while (!conn->busy && !conn->closed && !conn->ws) {
    Request req;
    auto st = conn->parser.next(req);
    if (st == RequestParser::State::Incomplete) {
      if (conn->parser.wants_continue()) write_bytes(peer, "HTTP/1.1 100 Continue\r\n\r\n", false);
      return;
    }
    if (st == RequestParser::State::Error) {
      int code = conn->parser.error_status();
      std::string msg = code == 413 ? "413: Request Entity Too Large" : std::to_string(code) + ": " + conn->parser.error_reason();
      write_bytes(peer, serialize(Response::text(msg, code), false, 1), true);
      conn->closed = true;
      return;
    }
    conn->busy = true;
    dispatch(sh, peer, conn, std::move(req));
  }
}

class PeerHandler : public Pistache::Http::Handler {
 public:
  HTTP_PROTOTYPE(PeerHandler)
  explicit PeerHandler(std::shared_ptr<Server::Shared> sh) : sh_(std::move(sh)) {}

  void onRequest(const Pistache::Http::Request&, Pistache::Http::ResponseWriter) override {}

  void onConnection(const PeerPtr& peer) override {
    // Pistache's reaper reads this parser's clock; we never feed it (4 KiB, unused).
    peer->putData(ParserData, std::make_shared<Pistache::Http::RequestParser>(4096));
    peer->putData(kConnKey, std::make_shared<Conn>(sh_->opts.max_body));
    peer->setIdle(false);
  }

  void onInput(const char* buffer, size_t len, const PeerPtr& peer) override {
    auto conn = std::static_pointer_cast<Conn>(peer->tryGetData(kConnKey));
    if (!conn) return;
    std::lock_guard lk(conn->mu);
    if (conn->closed) return;
    if (conn->tunnel) {
      touch_clock(peer, true);
      return conn->tunnel(std::string(buffer, len));
    }
    if (conn->ws) {
      touch_clock(peer, true);
      return on_ws_bytes(sh_, peer, *conn, buffer, len);
    }
    touch_clock(peer, conn->streaming);
    conn->parser.feed(buffer, len);
    process_input(sh_, peer, conn);
  }

  void onDisconnection(const PeerPtr& peer) override {
    auto conn = std::static_pointer_cast<Conn>(peer->tryGetData(kConnKey));
    if (!conn) return;
    std::shared_ptr<ws::Session> s;
    {
      std::lock_guard lk(conn->mu);
      s = conn->ws;
      conn->closed = true;
      conn->disconnected = true;
      if (conn->tunnel) conn->tunnel("");  // half-close towards the Python app
      conn->tunnel = nullptr;
      if (conn->sending) conn->sending->detach();  // Pistache closes the fd after this returns
      conn->sending.reset();
    }
    if (s) {
      sh_->hub->remove(s);
      if (sh_->hooks.on_close) sh_->hooks.on_close(s);
    }
  }

 private:
  std::shared_ptr<Server::Shared> sh_;
};
}  // namespace

struct Server::Impl {
  std::vector<std::unique_ptr<Pistache::Http::Endpoint>> endpoints;
  std::thread pinger;
  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  int port = 0;
};

Server::Server(ServerOptions opts, std::shared_ptr<Router> router, std::shared_ptr<ws::Hub> hub, WsHooks hooks)
    : shared_(std::make_shared<Shared>()),
      impl_(std::make_unique<Impl>()) {
  shared_->opts = std::move(opts);
  shared_->router = std::move(router);
  shared_->hub = std::move(hub);
  shared_->hooks = std::move(hooks);
}

Server::~Server() { stop(); }

void Server::start() {
  if (!shared_->opts.python_upstream.empty() && !shared_->proxy)
    shared_->proxy = std::make_unique<UnixProxy>(shared_->opts.python_upstream, shared_->opts.proxy_threads);
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  shared_->sender.start();
  std::string errors;
  for (const auto& host : shared_->opts.hosts) {
    try {
      Pistache::Address addr(host, Pistache::Port(static_cast<uint16_t>(shared_->opts.port)));
      auto ep = std::make_unique<Pistache::Http::Endpoint>(addr);
      auto o = Pistache::Http::Endpoint::options()
                   .threads(shared_->opts.threads)
                   .flags(Pistache::Tcp::Options::ReuseAddr | Pistache::Tcp::Options::NoDelay)
                   .keepaliveTimeout(kKeepaliveTimeout)
                   .maxRequestSize(shared_->opts.max_body + 65536);
      ep->init(o);
      ep->setHandler(Pistache::Http::make_handler<PeerHandler>(shared_));
      ep->serveThreaded();
      if (!impl_->port) impl_->port = static_cast<uint16_t>(ep->getPort());
      impl_->endpoints.push_back(std::move(ep));
    } catch (const std::exception& e) {
      errors += host + ": " + e.what() + "; ";
    }
  }
  // WebSocket pings well inside the 75 s idle timeout keep quiet sockets open.
  impl_->pinger = std::thread([this] {
    std::unique_lock lk(impl_->mu);
    while (!impl_->cv.wait_for(lk, std::chrono::seconds(20), [this] { return impl_->stopping; }))
      shared_->hub->ping_all();
  });
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (impl_->endpoints.empty()) throw std::runtime_error("could not bind: " + errors);
  if (!errors.empty()) std::fprintf(stderr, "WARNING: %s\n", errors.c_str());
}

void Server::stop() {
  {
    std::lock_guard lk(impl_->mu);
    if (impl_->stopping) return;
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  if (impl_->pinger.joinable()) impl_->pinger.join();
  shared_->sender.stop();  // before the sockets go: it never touches one again
  for (auto& ep : impl_->endpoints) ep->shutdown();
  impl_->endpoints.clear();
}

int Server::port() const { return impl_->port; }

void Server::set_preflight(bool on) { shared_->preflight = on; }

}  // namespace comfy::http
