#include "http/proxy.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "common/util.h"

namespace comfy::http {

std::string upstream_request_bytes(const Request& req, bool upgrade) {
  std::string out = req.method + " " + req.target + " HTTP/1.1\r\n";
  for (const auto& [k, v] : req.headers) {
    if (iequals(k, "Content-Length") || iequals(k, "Transfer-Encoding") || iequals(k, "Expect")) continue;
    if (!upgrade && (iequals(k, "Connection") || iequals(k, "Keep-Alive"))) continue;
    out += k + ": " + v + "\r\n";
  }
  if (!upgrade) out += "Connection: close\r\n";
  if (!req.body.empty() || req.method == "POST" || req.method == "PUT" || req.method == "PATCH")
    out += "Content-Length: " + std::to_string(req.body.size()) + "\r\n";
  out += "\r\n";
  out += req.body;
  return out;
}

UnixProxy::UnixProxy(std::string socket_path, int threads) : path_(std::move(socket_path)) {
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
    jobs_.clear();
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
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

static bool write_all(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

void UnixProxy::forward(const Request& req, Write write, Done done) {
  auto bytes = std::make_shared<std::string>(upstream_request_bytes(req, false));
  {
    std::lock_guard lk(mu_);
    jobs_.push_back([this, bytes, write = std::move(write), done = std::move(done)] {
      int fd = connect_upstream();
      if (fd >= 0) {
        std::lock_guard lk(mu_);
        active_.push_back(fd);
      }
      auto release = [this, fd] {
        std::lock_guard lk(mu_);
        std::erase(active_, fd);
        ::close(fd);
      };
      if (fd < 0) return done(false);
      if (!write_all(fd, *bytes)) {
        release();
        return done(false);
      }
      char buf[65536];
      bool any = false;
      while (true) {
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        any = true;
        write(std::string(buf, static_cast<size_t>(n)));
      }
      release();
      done(any);
    });
  }
  cv_.notify_one();
}

void UnixProxy::preflight(const Request& req, std::function<void(bool, std::string)> done) {
  Request copy = req;
  copy.headers.erase(std::remove_if(copy.headers.begin(), copy.headers.end(),
                                    [](const auto& h) { return iequals(h.first, "Upgrade") || iequals(h.first, "X-Comfy-Preflight"); }),
                     copy.headers.end());
  copy.headers.emplace_back("X-Comfy-Preflight", "1");
  auto bytes = std::make_shared<std::string>(upstream_request_bytes(copy, false));
  {
    std::lock_guard lk(mu_);
    jobs_.push_back([this, bytes, done = std::move(done)] {
      int fd = connect_upstream();
      if (fd < 0) return done(false, "");
      std::string resp;
      if (write_all(fd, *bytes)) {
        char buf[65536];
        while (true) {
          ssize_t n = ::recv(fd, buf, sizeof buf, 0);
          if (n <= 0) break;
          resp.append(buf, static_cast<size_t>(n));
        }
      }
      ::close(fd);
      auto head_end = resp.find("\r\n\r\n");
      std::string head = to_lower(resp.substr(0, head_end == std::string::npos ? 0 : head_end));
      bool pass = head.find("\r\nx-comfy-native: 1") != std::string::npos;
      done(pass, pass ? std::string() : std::move(resp));
    });
  }
  cv_.notify_one();
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
