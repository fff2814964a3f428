// UnixProxy against a scripted upstream on a real Unix socket: connections kept alive and reused,
// responses relayed as they arrive, connections not reused when the framing or the upstream says
// so, a stale kept-alive connection replaced once (never after response bytes arrived, a POST only
// when the upstream provably did not read it), and destruction unblocking workers (preflight too)
// and closing idle connections.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "http/proxy.h"

using namespace comfy::http;
using namespace std::chrono_literals;

namespace {

void send_str(int fd, std::string_view s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

// One request (head, then a Content-Length body) from a blocking socket, a byte at a time so that
// nothing of a next request is consumed. nullopt at EOF.
std::optional<std::string> read_request(int fd) {
  std::string r;
  char c;
  while (r.size() < 4 || r.compare(r.size() - 4, 4, "\r\n\r\n") != 0) {
    if (::recv(fd, &c, 1, 0) != 1) return std::nullopt;
    r += c;
  }
  auto cl = r.find("Content-Length: ");
  if (cl != std::string::npos) {
    size_t n = std::stoul(r.substr(cl + 16));
    for (size_t i = 0; i < n; ++i) {
      if (::recv(fd, &c, 1, 0) != 1) return std::nullopt;
      r += c;
    }
  }
  return r;
}

std::string sized(std::string_view body, std::string_view extra = "") {
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + std::string(extra) +
         "\r\n" + std::string(body);
}

// A Unix-socket server that runs `handler(index, fd)` on a thread per accepted connection
// (index: 0 for the first connection); the fd is closed after the handler unless it set it to -1.
class FakeUpstream {
 public:
  using Handler = std::function<void(int index, int& fd)>;
  explicit FakeUpstream(Handler h) : handler_(std::move(h)) {
    static std::atomic<int> serial{0};
    path_ = "/tmp/comfy_test_proxy_" + std::to_string(::getpid()) + "_" + std::to_string(serial++) + ".sock";
    ::unlink(path_.c_str());
    listen_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path_.c_str(), sizeof(a.sun_path) - 1);
    EXPECT_EQ(::bind(listen_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(listen_, 16), 0);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~FakeUpstream() {
    stop_ = true;
    acceptor_.join();
    close_all();
    for (auto& t : conns_) t.join();
    ::close(listen_);
    ::unlink(path_.c_str());
  }
  const std::string& path() const { return path_; }
  int accepted() const { return accepted_; }
  // Shuts every accepted connection down (unblocks its handler and the proxy side).
  void close_all() {
    std::lock_guard lk(mu_);
    for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
  }

 private:
  void accept_loop() {
    while (!stop_) {
      pollfd p{listen_, POLLIN, 0};
      if (::poll(&p, 1, 20) != 1) continue;
      int fd = ::accept4(listen_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      int index = accepted_++;
      std::lock_guard lk(mu_);
      fds_.push_back(fd);
      conns_.emplace_back([this, index, fd]() mutable {
        int own = fd;
        handler_(index, own);
        std::lock_guard lk(mu_);
        std::erase(fds_, fd);
        if (own >= 0) ::close(own);
      });
    }
  }

  Handler handler_;
  std::string path_;
  int listen_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::mutex mu_;
  std::vector<int> fds_;
  std::vector<std::thread> conns_;
  std::thread acceptor_;
};

Request make_request(std::string method, std::string target, std::string body = "") {
  Request r;
  r.method = std::move(method);
  r.target = target;
  r.path = target;
  r.headers = {{"Host", "x"}, {"Connection", "close"}};  // the client's wish is not the upstream's
  r.body = std::move(body);
  return r;
}

struct Result {
  bool ok = false;
  std::string bytes;
  int writes = 0;
};

Result forward_sync(UnixProxy& p, const Request& req, std::function<void(const std::string&)> on_write = {}) {
  auto r = std::make_shared<Result>();
  auto done = std::make_shared<std::promise<void>>();
  auto fut = done->get_future();
  p.forward(
      req,
      [r, on_write](std::string b) {
        r->bytes += b;
        r->writes++;
        if (on_write) on_write(r->bytes);
      },
      [r, done](bool ok) {
        r->ok = ok;
        done->set_value();
      });
  EXPECT_EQ(fut.wait_for(10s), std::future_status::ready);
  return *r;
}

// A handler answering every request on its connection with "c<index>:<n>" (n counts requests).
FakeUpstream::Handler counting(std::atomic<int>* requests = nullptr) {
  return [requests](int index, int& fd) {
    for (int n = 0;; ++n) {
      auto req = read_request(fd);
      if (!req) return;
      if (requests) ++*requests;
      EXPECT_EQ(req->find("Connection:"), std::string::npos) << "the upstream connection is kept alive";
      send_str(fd, sized("c" + std::to_string(index) + ":" + std::to_string(n)));
    }
  };
}

}  // namespace

TEST(UnixProxy, SequentialRequestsReuseOneConnection) {
  FakeUpstream up(counting());
  UnixProxy proxy(up.path(), 4);
  for (int i = 0; i < 20; ++i) {
    auto r = forward_sync(proxy, make_request(i % 3 ? "GET" : "POST", "/pack/x", i % 3 ? "" : "{}"));
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.bytes, sized("c0:" + std::to_string(i)));
  }
  EXPECT_EQ(up.accepted(), 1);
  EXPECT_EQ(proxy.connections_opened(), 1u);
}

TEST(UnixProxy, ChunkedResponsesStreamAndTheConnectionIsReusedAfterThem) {
  std::promise<void> first_chunk_seen;
  auto seen = first_chunk_seen.get_future().share();
  FakeUpstream up([seen](int index, int& fd) {
    ASSERT_TRUE(read_request(fd));
    send_str(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7;ext=1\r\nchunk0;\r\n");
    // The rest only once the proxy relayed the first chunk: a proxy that waited for the whole
    // response would stall here.
    EXPECT_EQ(seen.wait_for(5s), std::future_status::ready);
    send_str(fd, "7\r\nchunk1;\r\n0\r\nX-Trailer: 1\r\n\r\n");
    auto again = read_request(fd);
    ASSERT_TRUE(again);
    send_str(fd, sized("after"));
    read_request(fd);
  });
  UnixProxy proxy(up.path(), 2);
  std::once_flag once;
  auto r = forward_sync(proxy, make_request("GET", "/stream"), [&](const std::string& so_far) {
    if (so_far.find("chunk0;") != std::string::npos) std::call_once(once, [&] { first_chunk_seen.set_value(); });
  });
  ASSERT_TRUE(r.ok);
  EXPECT_GE(r.writes, 2);
  EXPECT_EQ(r.bytes, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7;ext=1\r\nchunk0;\r\n"
                     "7\r\nchunk1;\r\n0\r\nX-Trailer: 1\r\n\r\n");  // unchanged
  auto next = forward_sync(proxy, make_request("GET", "/next"));
  EXPECT_EQ(next.bytes, sized("after"));
  EXPECT_EQ(up.accepted(), 1);
}

TEST(UnixProxy, HeadAnd204AndBodylessAnswersReuseTheConnection) {
  FakeUpstream up([](int index, int& fd) {
    auto a = read_request(fd);
    ASSERT_TRUE(a && a->rfind("HEAD ", 0) == 0);
    send_str(fd, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");  // no body for a HEAD
    ASSERT_TRUE(read_request(fd));
    send_str(fd, "HTTP/1.1 204 No Content\r\n\r\n");
    ASSERT_TRUE(read_request(fd));
    send_str(fd, "HTTP/1.1 304 Not Modified\r\nETag: x\r\n\r\n");
    ASSERT_TRUE(read_request(fd));
    send_str(fd, sized("end"));
    read_request(fd);
  });
  UnixProxy proxy(up.path(), 2);
  EXPECT_EQ(forward_sync(proxy, make_request("HEAD", "/h")).bytes, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
  EXPECT_EQ(forward_sync(proxy, make_request("DELETE", "/d")).bytes, "HTTP/1.1 204 No Content\r\n\r\n");
  EXPECT_EQ(forward_sync(proxy, make_request("GET", "/n")).bytes, "HTTP/1.1 304 Not Modified\r\nETag: x\r\n\r\n");
  EXPECT_EQ(forward_sync(proxy, make_request("GET", "/e")).bytes, sized("end"));
  EXPECT_EQ(up.accepted(), 1);
}

TEST(UnixProxy, ConnectionCloseCloseDelimitedAndMalformedAreNotReused) {
  FakeUpstream up([](int index, int& fd) {
    ASSERT_TRUE(read_request(fd));
    switch (index) {
      case 0:  // says close but keeps the socket open: the proxy must not send another request
        send_str(fd, sized("closing", "Connection: close\r\n"));
        EXPECT_FALSE(read_request(fd));
        return;
      case 1:  // close-delimited
        send_str(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end");
        ::shutdown(fd, SHUT_WR);
        EXPECT_FALSE(read_request(fd));
        return;
      case 2:  // a broken head: 502, and the connection is dropped
        send_str(fd, "HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\nbody");
        EXPECT_FALSE(read_request(fd));
        return;
      case 3:  // bytes past the response: nothing after it can be trusted
        send_str(fd, sized("ok") + "junk");
        EXPECT_FALSE(read_request(fd));
        return;
      default:
        send_str(fd, sized("fresh"));
        read_request(fd);
    }
  });
  UnixProxy proxy(up.path(), 2);
  auto r = forward_sync(proxy, make_request("GET", "/a"));
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.bytes, sized("closing", "Connection: close\r\n"));
  r = forward_sync(proxy, make_request("GET", "/b"));
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.bytes, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end");
  r = forward_sync(proxy, make_request("GET", "/c"));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.bytes, "");  // nothing of a broken head reaches the client
  r = forward_sync(proxy, make_request("GET", "/d"));
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.bytes, sized("ok"));
  r = forward_sync(proxy, make_request("GET", "/e"));
  EXPECT_EQ(r.bytes, sized("fresh"));
  EXPECT_EQ(up.accepted(), 5);
}

TEST(UnixProxy, AnIdleConnectionTheUpstreamClosedIsNotUsed) {
  std::atomic<int> requests{0};
  FakeUpstream up([&](int index, int& fd) {
    ASSERT_TRUE(read_request(fd));
    ++requests;
    send_str(fd, sized("c" + std::to_string(index)));
    if (index == 0) return;  // then closes, like aiohttp's keep-alive timeout
    read_request(fd);
  });
  UnixProxy proxy(up.path(), 2);
  EXPECT_EQ(forward_sync(proxy, make_request("POST", "/a", "x")).bytes, sized("c0"));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(forward_sync(proxy, make_request("POST", "/b", "y")).bytes, sized("c1"));
  EXPECT_EQ(requests, 2);
}

TEST(UnixProxy, AnIdleConnectionWithUnaskedBytesIsNotUsed) {
  FakeUpstream up([&](int index, int& fd) {
    ASSERT_TRUE(read_request(fd));
    send_str(fd, sized("c" + std::to_string(index)));
    if (index == 0) {  // some servers say why they are about to close an idle connection
      std::this_thread::sleep_for(20ms);  // (after the proxy took the response)
      send_str(fd, "HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n");
      EXPECT_FALSE(read_request(fd));  // the proxy closes it instead of sending a request
      return;
    }
    read_request(fd);
  });
  UnixProxy proxy(up.path(), 2);
  EXPECT_EQ(forward_sync(proxy, make_request("GET", "/a")).bytes, sized("c0"));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(forward_sync(proxy, make_request("GET", "/b")).bytes, sized("c1"));
}

TEST(UnixProxy, AStaleConnectionIsRetriedOnceBeforeAnyResponseByte) {
  std::atomic<int> requests{0};
  FakeUpstream up([&](int index, int& fd) {
    if (index == 0) {
      ASSERT_TRUE(read_request(fd));
      send_str(fd, sized("first"));
      // The next request is read, then the connection drops without an answer: what a request
      // racing the keep-alive timeout looks like from the proxy. A GET is sent again.
      ASSERT_TRUE(read_request(fd));
      ++requests;
      return;
    }
    while (auto r = read_request(fd)) {
      ++requests;
      send_str(fd, sized("retried"));
    }
  });
  UnixProxy proxy(up.path(), 2);
  EXPECT_EQ(forward_sync(proxy, make_request("GET", "/a")).bytes, sized("first"));
  auto r = forward_sync(proxy, make_request("GET", "/b"));
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.bytes, sized("retried"));
  EXPECT_EQ(requests, 2);
  EXPECT_EQ(up.accepted(), 2);
}

TEST(UnixProxy, APostTheUpstreamReadIsNotSentTwice) {
  std::atomic<int> posts{0};
  FakeUpstream up([&](int index, int& fd) {
    while (auto r = read_request(fd)) {
      if (r->rfind("POST", 0) == 0) {
        ++posts;
        return;  // read, then closed without an answer (a handler that drops the connection)
      }
      send_str(fd, sized("get"));
    }
  });
  UnixProxy proxy(up.path(), 2);
  EXPECT_EQ(forward_sync(proxy, make_request("GET", "/a")).bytes, sized("get"));
  auto r = forward_sync(proxy, make_request("POST", "/b", "{}"));
  EXPECT_FALSE(r.ok);  // 502
  EXPECT_EQ(posts, 1);
  EXPECT_EQ(up.accepted(), 1);
}

TEST(UnixProxy, APostTheUpstreamNeverReadIsRetried) {
  std::atomic<int> posts{0};
  FakeUpstream up([&](int index, int& fd) {
    if (index == 0) {
      ASSERT_TRUE(read_request(fd));
      send_str(fd, sized("get"));
      // The POST arrives but is never read: closing with unread bytes resets the connection, so
      // the proxy knows the request was not handled and may send it again.
      pollfd p{fd, POLLIN, 0};
      ASSERT_EQ(::poll(&p, 1, 5000), 1);
      std::this_thread::sleep_for(20ms);  // the whole request is in
      ::close(fd);
      fd = -1;
      return;
    }
    while (auto r = read_request(fd)) {
      ++posts;
      send_str(fd, sized("posted"));
    }
  });
  UnixProxy proxy(up.path(), 2);
  EXPECT_EQ(forward_sync(proxy, make_request("GET", "/a")).bytes, sized("get"));
  auto r = forward_sync(proxy, make_request("POST", "/b", "{}"));
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.bytes, sized("posted"));
  EXPECT_EQ(posts, 1);
}

TEST(UnixProxy, AnAnswerBeforeTheWholeRequestWasReadIsRelayed) {
  std::atomic<int> posts{0};
  FakeUpstream up([&](int index, int& fd) {
    ASSERT_TRUE(read_request(fd));
    send_str(fd, sized("warm"));
    // A big POST: only its head is read, then a refusal and a close with the body unread.
    std::string head;
    char c;
    while (head.size() < 4 || head.compare(head.size() - 4, 4, "\r\n\r\n") != 0) {
      ASSERT_EQ(::recv(fd, &c, 1, 0), 1);
      head += c;
    }
    ++posts;
    send_str(fd, "HTTP/1.1 413 Request Entity Too Large\r\nContent-Length: 8\r\nConnection: close\r\n\r\ntoo big!");
    ::close(fd);
    fd = -1;
  });
  UnixProxy proxy(up.path(), 2);
  EXPECT_EQ(forward_sync(proxy, make_request("GET", "/a")).bytes, sized("warm"));
  auto r = forward_sync(proxy, make_request("POST", "/upload", std::string(8 << 20, 'x')));
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.bytes, "HTTP/1.1 413 Request Entity Too Large\r\nContent-Length: 8\r\nConnection: close\r\n\r\ntoo big!");
  EXPECT_EQ(posts, 1);
  EXPECT_EQ(up.accepted(), 1);
}

TEST(UnixProxy, NoRetryAfterResponseBytesOrOnAFreshConnection) {
  std::atomic<int> requests{0};
  FakeUpstream up([&](int index, int& fd) {
    while (auto r = read_request(fd)) {
      ++requests;
      if (r->find("/partial-head") != std::string::npos) {
        send_str(fd, "HTTP/1.1 200 OK\r\nContent-Len");
        return;
      }
      if (r->find("/partial-body") != std::string::npos) {
        send_str(fd, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
        return;
      }
      if (r->find("/drop") != std::string::npos) return;
      send_str(fd, sized("ok"));
    }
  });
  UnixProxy proxy(up.path(), 2);
  // A fresh connection that drops: nothing to retry (it was not a stale kept-alive socket).
  EXPECT_FALSE(forward_sync(proxy, make_request("GET", "/drop")).ok);
  EXPECT_EQ(requests, 1);
  // Kept-alive connection, then part of a head: bytes arrived, so no retry; a 502 for the client.
  EXPECT_TRUE(forward_sync(proxy, make_request("GET", "/warm")).ok);
  auto r = forward_sync(proxy, make_request("GET", "/partial-head"));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.bytes, "");
  EXPECT_EQ(requests, 3);
  // Part of a body: the head went to the client; ok=true, the caller sees the body is short.
  EXPECT_TRUE(forward_sync(proxy, make_request("GET", "/warm")).ok);
  r = forward_sync(proxy, make_request("GET", "/partial-body"));
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.bytes, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
  EXPECT_EQ(requests, 5);
}

TEST(UnixProxy, PreflightSharesThePoolAndRewritesARejection) {
  FakeUpstream up([](int index, int& fd) {
    while (auto r = read_request(fd)) {
      EXPECT_NE(r->find("X-Comfy-Preflight: 1\r\n"), std::string::npos);
      EXPECT_EQ(r->find("Upgrade:"), std::string::npos);
      if (r->find("Bearer ok") != std::string::npos)
        send_str(fd, "HTTP/1.1 204 No Content\r\nX-Comfy-Native: 1\r\n\r\n");
      else
        send_str(fd, sized("{\"error\": \"unauthorized\"}", "Connection: keep-alive\r\nKeep-Alive: timeout=75\r\n"));
    }
  });
  UnixProxy proxy(up.path(), 2);
  auto preflight = [&](std::string auth) {
    auto req = make_request("GET", "/ws");
    req.headers.emplace_back("Upgrade", "websocket");
    req.headers.emplace_back("Authorization", auth);
    std::promise<std::pair<bool, std::string>> p;
    auto f = p.get_future();
    proxy.preflight(req, [&p](bool pass, std::string resp) { p.set_value({pass, std::move(resp)}); });
    EXPECT_EQ(f.wait_for(10s), std::future_status::ready);
    return f.get();
  };
  for (int i = 0; i < 3; ++i) {
    auto [pass, resp] = preflight("Bearer ok");
    EXPECT_TRUE(pass);
    EXPECT_EQ(resp, "");
    std::tie(pass, resp) = preflight("Bearer no");
    EXPECT_FALSE(pass);
    EXPECT_EQ(resp, "HTTP/1.1 200 OK\r\nContent-Length: 25\r\nConnection: close\r\n\r\n{\"error\": \"unauthorized\"}");
  }
  EXPECT_EQ(up.accepted(), 1);
}

TEST(UnixProxy, DestructionUnblocksForwardAndPreflightAndClosesIdleConnections) {
  std::atomic<int> idle_closed{0};
  FakeUpstream up([&](int index, int& fd) {
    auto r = read_request(fd);
    if (!r) return;
    if (r->find("/hang") != std::string::npos) {
      read_request(fd);  // never answers; returns when the proxy shuts the socket down
      return;
    }
    send_str(fd, sized("ok"));
    if (!read_request(fd)) ++idle_closed;  // the pooled connection closed by the destructor
  });
  auto proxy = std::make_unique<UnixProxy>(up.path(), 3);
  std::promise<bool> fwd, pre;
  auto fwd_f = fwd.get_future(), pre_f = pre.get_future();
  proxy->forward(make_request("GET", "/hang"), [](std::string) {}, [&](bool ok) { fwd.set_value(ok); });
  proxy->preflight(make_request("GET", "/hang"), [&](bool pass, std::string) { pre.set_value(pass); });
  while (up.accepted() < 2) std::this_thread::sleep_for(5ms);
  std::this_thread::sleep_for(50ms);  // both requests written, both workers in recv
  // The third worker opens a third connection, which then waits in the pool.
  EXPECT_TRUE(forward_sync(*proxy, make_request("GET", "/ok")).ok);
  EXPECT_EQ(up.accepted(), 3);
  auto destroyed = std::async(std::launch::async, [&] { proxy.reset(); });
  bool in_time = destroyed.wait_for(5s) == std::future_status::ready;
  if (!in_time) up.close_all();  // unblock the stuck worker so the test can end
  destroyed.wait();
  EXPECT_TRUE(in_time) << "a worker stayed blocked on the upstream";
  EXPECT_EQ(fwd_f.wait_for(1s), std::future_status::ready);
  EXPECT_EQ(pre_f.wait_for(1s), std::future_status::ready);
  for (int i = 0; i < 100 && idle_closed == 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(idle_closed, 1);
}

TEST(UnixProxy, UnreachableUpstreamIsNotOk) {
  UnixProxy proxy("/tmp/comfy_test_proxy_nobody_listens.sock", 1);
  EXPECT_FALSE(forward_sync(proxy, make_request("GET", "/x")).ok);
}

TEST(ProxyHelpers, ConnectionHeadersOfTheUpstreamAreReplaced) {
  const std::string head = "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\nkeep-alive: timeout=5\r\n\r\n";
  EXPECT_EQ(with_connection_header(head + "ok", ""), "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  EXPECT_EQ(with_connection_header(head, "close"), "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(with_connection_header("HTTP/1.1 204 No Content\r\n\r\n", "keep-alive"),
            "HTTP/1.1 204 No Content\r\nConnection: keep-alive\r\n\r\n");
  // The request side: the client's Connection header never reaches the pooled upstream.
  auto bytes = upstream_request_bytes(make_request("POST", "/p", "ab"), false);
  EXPECT_EQ(bytes, "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab");
}
