#include "http/proxy.h"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/util.h"
#include "http/response_framing.h"

namespace comfy::http {

std::string upstream_request_bytes(const Request& req, bool upgrade) {
  std::string out = req.method + " " + req.target + " HTTP/1.1\r\n";
  for (const auto& [k, v] : req.headers) {
    if (iequals(k, "Content-Length") || iequals(k, "Transfer-Encoding") || iequals(k, "Expect")) continue;
    if (!upgrade && (iequals(k, "Connection") || iequals(k, "Keep-Alive"))) continue;
    out += k + ": " + v + "\r\n";
  }
  if (!req.body.empty() || req.method == "POST" || req.method == "PUT" || req.method == "PATCH")
    out += "Content-Length: " + std::to_string(req.body.size()) + "\r\n";
  out += "\r\n";
  out += req.body;
  return out;
}

std::string with_connection_header(std::string_view bytes, std::string_view connection, size_t from) {
  std::string out;
  out.reserve(bytes.size() + 16 + connection.size());
  out.append(bytes.substr(0, from));
  std::string_view head = bytes.substr(from);
  size_t pos = 0;
  bool first = true;
  while (pos < head.size()) {
    size_t e = head.find('\n', pos);
    e = e == std::string_view::npos ? head.size() : e + 1;
    std::string_view line = head.substr(pos, e - pos);
    pos = e;
    if (!first) {
      std::string_view content = line;
      while (!content.empty() && (content.back() == '\n' || content.back() == '\r')) content.remove_suffix(1);
      if (content.empty()) {  // the blank line: the head ends here
        if (!connection.empty()) out.append("Connection: ").append(connection).append("\r\n");
        out += line;
        out.append(head.substr(pos));
        return out;
      }
      auto colon = content.find(':');
      std::string_view name = content.substr(0, colon == std::string_view::npos ? 0 : colon);
      if (iequals(name, "Connection") || iequals(name, "Keep-Alive")) continue;
    }
    first = false;
    out += line;
  }
  return out;
}

namespace {

// Writes as much of `data` as the socket takes; returns how much that was (all of it, or up to
// the error left in errno).
size_t write_some(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  return off;
}

bool write_all(int fd, const std::string& data) { return write_some(fd, data) == data.size(); }

// An idle kept-alive socket is fit for a request when nothing is waiting on it: readable means the
// upstream closed it (its keep-alive timeout) or sent bytes nobody asked for.
bool idle_socket_usable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 0;
}

bool idempotent_method(const std::string& m) {
  return m == "GET" || m == "HEAD" || m == "OPTIONS" || m == "PUT" || m == "DELETE" || m == "TRACE";
}

}  // namespace

UnixProxy::UnixProxy(std::string socket_path, int threads)
    : path_(std::move(socket_path)), max_idle_(static_cast<size_t>(std::max(threads, 1))) {
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { worker(); });
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

UnixProxy::~UnixProxy() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
    for (int fd : active_) ::shutdown(fd, SHUT_RDWR);  // unblock workers waiting on the upstream
    for (int fd : idle_) ::close(fd);
    idle_.clear();
    jobs_.clear();
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void UnixProxy::submit(std::function<void()> job) {
  {
    std::lock_guard lk(mu_);
    if (stopping_) return;
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
}

void UnixProxy::worker() {
  while (true) {
    std::function<void()> job;
    {
      std::unique_lock lk(mu_);
      cv_.wait(lk, [this] { return stopping_ || !jobs_.empty(); });
      if (stopping_ && jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

size_t UnixProxy::connections_opened() const {
  std::lock_guard lk(mu_);
  return opened_;
}

int UnixProxy::connect_upstream() const {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path_.c_str(), sizeof(addr.sun_path) - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

int UnixProxy::acquire(bool allow_pooled, bool& pooled) {
  while (allow_pooled) {
    int fd;
    {
      std::lock_guard lk(mu_);
      if (stopping_ || idle_.empty()) break;
      fd = idle_.back();  // the most recently used: the least likely to have timed out
      idle_.pop_back();
      active_.push_back(fd);
    }
    if (idle_socket_usable(fd)) {
      pooled = true;
      return fd;
    }
    release(fd, false);
  }
  pooled = false;
  {
    std::lock_guard lk(mu_);
    if (stopping_) return -1;
  }
  int fd = connect_upstream();
  if (fd < 0) return -1;
  std::lock_guard lk(mu_);
  if (stopping_) {
    ::close(fd);
    return -1;
  }
  ++opened_;
  active_.push_back(fd);
  return fd;
}

void UnixProxy::release(int fd, bool reuse) {
  std::lock_guard lk(mu_);
  std::erase(active_, fd);
  if (reuse && !stopping_ && idle_.size() < max_idle_) idle_.push_back(fd);
  else ::close(fd);
}

bool UnixProxy::exchange(const std::string& request, bool head, bool idempotent, const Write& sink) {
  // A request this small reaches the upstream in one piece: if the app read any of it, it read all.
  constexpr size_t kOnePiece = 64 * 1024;
  char buf[65536];
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool pooled = false;
    int fd = acquire(attempt == 0, pooled);
    if (fd < 0) return false;
    // A failed write is not the end: the app may have answered before it stopped reading (a 413
    // for a body it refuses), and that answer is still there to read.
    size_t written = write_some(fd, request);
    ResponseFraming framing(head);
    std::string held;  // the response until its final head is complete: a broken head is a 502
    size_t received = 0;
    int read_error = 0;
    bool relayed = false, trailing = false;
    while (true) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        read_error = n < 0 ? errno : 0;
        framing.eof();
        break;
      }
      received += static_cast<size_t>(n);
      size_t used = framing.feed(buf, static_cast<size_t>(n));
      trailing = framing.done() && used < static_cast<size_t>(n);  // bytes nobody asked for
      if (relayed) {
        if (used) sink(std::string(buf, used));
      } else {
        held.append(buf, used);
        if (framing.head_complete()) {
          relayed = true;
          sink(std::move(held));
        }
      }
      if (framing.done() || framing.failed()) break;
    }
    release(fd, written == request.size() && framing.reusable() && !trailing);
    if (relayed) return true;
    // Nothing arrived. On a kept-alive socket that is the upstream having closed it (its keep-
    // alive timeout racing this request) without handling the request: once more on a new
    // connection. But a handler may also drop its connection on purpose after reading the
    // request: only a request that is safe to repeat is sent again unless the upstream provably
    // did not read it (no byte of it was taken, or the close reset the connection with the
    // request unread and the request is small enough to have arrived in one piece).
    bool unread = written == 0 || (read_error == ECONNRESET && request.size() <= kOnePiece);
    if (!(pooled && received == 0 && (idempotent || unread))) return false;
  }
  return false;
}

void UnixProxy::forward(const Request& req, Write write, Done done) {
  auto bytes = std::make_shared<std::string>(upstream_request_bytes(req, false));
  bool head = req.method == "HEAD", idempotent = idempotent_method(req.method);
  submit([this, bytes, head, idempotent, write = std::move(write), done = std::move(done)] {
    done(exchange(*bytes, head, idempotent, write));
  });
}

void UnixProxy::preflight(const Request& req, std::function<void(bool, std::string)> done) {
  Request copy = req;
  copy.headers.erase(std::remove_if(copy.headers.begin(), copy.headers.end(),
                                    [](const auto& h) { return iequals(h.first, "Upgrade") || iequals(h.first, "X-Comfy-Preflight"); }),
                     copy.headers.end());
  copy.headers.emplace_back("X-Comfy-Preflight", "1");
  auto bytes = std::make_shared<std::string>(upstream_request_bytes(copy, false));
  bool head = req.method == "HEAD", idempotent = idempotent_method(req.method);
  submit([this, bytes, head, idempotent, done = std::move(done)] {
    std::string resp;
    if (!exchange(*bytes, head, idempotent, [&resp](std::string b) { resp += b; })) return done(false, "");
    // The marker is a header of the final head (the first sink call holds all of it).
    ResponseFraming framing(head);
    framing.feed(resp.data(), resp.size());
    std::string_view final_head(resp.data() + framing.final_head_start(), framing.head_end() - framing.final_head_start());
    if (to_lower(final_head).find("\r\nx-comfy-native: 1\r\n") != std::string::npos) return done(true, "");
    // The caller closes the client connection after the middleware's answer.
    done(false, with_connection_header(resp, "close", framing.final_head_start()));
  });
}

std::function<void(std::string)> UnixProxy::tunnel(const Request& req, Write write, Done done) {
  int fd = connect_upstream();
  if (fd < 0) return nullptr;
  if (!write_all(fd, upstream_request_bytes(req, true))) {
    ::close(fd);
    return nullptr;
  }
  // One reader thread per tunnel (pack WebSocket routes are rare and long-lived). The socket
  // closes when both the reader and the caller's feeder are gone.
  auto shared_fd = std::shared_ptr<int>(new int(fd), [](int* p) {
    ::close(*p);
    delete p;
  });
  std::thread([shared_fd, write = std::move(write), done = std::move(done)] {
    char buf[65536];
    while (true) {
      ssize_t n = ::recv(*shared_fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      write(std::string(buf, static_cast<size_t>(n)));
    }
    ::shutdown(*shared_fd, SHUT_RDWR);
    done(true);
  }).detach();
  return [shared_fd](std::string bytes) {
    if (bytes.empty()) {
      ::shutdown(*shared_fd, SHUT_WR);
      return;
    }
    write_all(*shared_fd, bytes);
  };
}

}  // namespace comfy::http
