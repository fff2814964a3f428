#include "http/file_sender.h"

#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <deque>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <vector>

namespace comfy::http {

FileBody::~FileBody() {
  if (fd >= 0) ::close(fd);
}

struct FileSender::Core {
  Options opts;
  int ep = -1;
  int wake = -1;
  std::thread thread;
  mutable std::mutex mu;
  bool started = false, stopping = false;
  uint64_t next_id = 1;  // 0 is the wake-up eventfd's tag
  std::unordered_map<uint64_t, std::shared_ptr<Transfer>> live;
  std::deque<std::shared_ptr<Transfer>> ready;  // used their budget: another turn without an event

  void run();
  void run_turn(const std::shared_ptr<Transfer>& t);
  void tick_all(std::chrono::steady_clock::time_point now);
  void settle(const std::shared_ptr<Transfer>& t, Transfer::Result& r);
  void notify() {
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake, &one, sizeof one);
  }
  ~Core() {
    if (ep >= 0) ::close(ep);
    if (wake >= 0) ::close(wake);
  }
};

void FileSender::Transfer::finish(Result& r) {
  r.turn = Turn::Done;
  if (r.outcome != Outcome::Complete) ::shutdown(sock_, SHUT_RDWR);
  if (in_epoll_) ::epoll_ctl(epfd_, EPOLL_CTL_DEL, sock_, nullptr);
  in_epoll_ = false;
  sock_ = -1;
  r.done = std::move(cb_.done);
  cb_ = {};
}

FileSender::Transfer::Result FileSender::Transfer::turn(size_t budget) {
  Result r;
  std::lock_guard lk(mu_);
  if (sock_ < 0) return r;  // Gone
  size_t sent = 0;
  for (;;) {
    if (left_ == 0) {
      finish(r);
      break;
    }
    if (sent >= budget) {
      r.turn = Turn::Again;
      break;
    }
    off_t off = static_cast<off_t>(off_);
    size_t want = static_cast<size_t>(std::min<uint64_t>(left_, budget - sent));
    ssize_t n = copy_ ? copy_some(want) : ::sendfile(sock_, body_->fd, &off, want);
    if (n < 0 && !copy_ && (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) {
      copy_ = true;  // this file's filesystem cannot splice
      continue;
    }
    if (n > 0) {
      off_ += static_cast<uint64_t>(n);
      left_ -= static_cast<uint64_t>(n);
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n == 0) {  // end of file before the announced length: the file shrank
      r.outcome = Outcome::Truncated;
      finish(r);
      break;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      r.turn = Turn::Wait;
      if (in_epoll_) break;
      // Adding reports the current state at once: no edge is lost between EAGAIN and here.
      epoll_event ev{};
      ev.events = EPOLLOUT | EPOLLET;
      ev.data.u64 = id_;
      if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, sock_, &ev) == 0) {
        in_epoll_ = true;
        break;
      }
    }
    r.outcome = Outcome::Failed;  // EPIPE, ECONNRESET, EIO from the file, or no epoll slot
    finish(r);
    break;
  }
  if (sent) last_progress_ = std::chrono::steady_clock::now();
  return r;
}

FileSender::Transfer::Result FileSender::Transfer::tick(std::chrono::steady_clock::time_point now,
                                                        std::chrono::milliseconds stall_timeout) {
  Result r;
  std::lock_guard lk(mu_);
  if (sock_ < 0) return r;  // Gone
  if (now - last_progress_ > stall_timeout) {
    r.outcome = Outcome::Failed;
    finish(r);
    return r;
  }
  r.turn = Turn::Wait;
  r.keepalive = cb_.keepalive;
  return r;
}

ssize_t FileSender::Transfer::copy_some(size_t want) {
  char buf[64 * 1024];
  ssize_t got = ::pread(body_->fd, buf, std::min(want, sizeof buf), static_cast<off_t>(off_));
  if (got <= 0) return got;  // 0: end of file; -1: errno says why (EINTR is retried)
  return ::send(sock_, buf, static_cast<size_t>(got), MSG_NOSIGNAL | MSG_DONTWAIT);
}

void FileSender::Transfer::detach() {
  Callbacks dropped;  // destroyed after the lock: captures may own anything
  {
    std::lock_guard lk(mu_);
    if (sock_ >= 0 && in_epoll_) ::epoll_ctl(epfd_, EPOLL_CTL_DEL, sock_, nullptr);
    in_epoll_ = false;
    sock_ = -1;
    dropped = std::move(cb_);
    cb_ = {};
  }
  if (auto core = core_.lock()) {
    std::lock_guard lk(core->mu);
    core->live.erase(id_);
  }
}

// Bookkeeping after a turn or tick, then the callbacks, with no lock held.
void FileSender::Core::settle(const std::shared_ptr<Transfer>& t, Transfer::Result& r) {
  if (r.turn == Transfer::Turn::Again) {
    std::lock_guard lk(mu);
    if (!stopping && !t->queued_ && live.count(t->id_)) {
      t->queued_ = true;
      ready.push_back(t);
      if (std::this_thread::get_id() != thread.get_id()) notify();
    }
  } else if (r.turn == Transfer::Turn::Done || r.turn == Transfer::Turn::Gone) {
    std::lock_guard lk(mu);
    live.erase(t->id_);
  }
  if (r.keepalive) r.keepalive();
  if (r.done) r.done(r.outcome);
}

void FileSender::Core::run_turn(const std::shared_ptr<Transfer>& t) {
  auto r = t->turn(opts.turn_bytes);
  settle(t, r);
}

void FileSender::Core::tick_all(std::chrono::steady_clock::time_point now) {
  std::vector<std::shared_ptr<Transfer>> all;
  {
    std::lock_guard lk(mu);
    all.reserve(live.size());
    for (auto& [id, t] : live) all.push_back(t);
  }
  for (const auto& t : all) {
    auto r = t->tick(now, opts.stall_timeout);
    settle(t, r);
  }
}

void FileSender::Core::run() {
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
  using clock = std::chrono::steady_clock;
  std::vector<epoll_event> events(64);
  std::vector<std::shared_ptr<Transfer>> batch;
  auto next_tick = clock::now() + opts.tick;
  for (;;) {
    int timeout = -1;
    {
      std::lock_guard lk(mu);
      if (stopping) return;
      if (!ready.empty()) {
        timeout = 0;
      } else if (!live.empty()) {
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(next_tick - clock::now()).count();
        timeout = static_cast<int>(std::clamp<long long>(ms + 1, 0, opts.tick.count() + 1));
      }
    }
    int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), timeout);
    if (n < 0 && errno != EINTR) {
      std::perror("FileSender: epoll_wait");
      n = 0;
    }
    batch.clear();
    {
      std::lock_guard lk(mu);
      if (stopping) return;
      for (int i = 0; i < n; ++i) {
        uint64_t id = events[i].data.u64;
        if (id == 0) {
          uint64_t count;
          [[maybe_unused]] auto got = ::read(wake, &count, sizeof count);
          continue;
        }
        auto it = live.find(id);
        if (it != live.end() && !it->second->queued_) {
          it->second->queued_ = true;
          ready.push_back(it->second);
        }
      }
      for (auto& t : ready) {
        t->queued_ = false;
        batch.push_back(std::move(t));
      }
      ready.clear();
    }
    for (const auto& t : batch) run_turn(t);
    auto now = clock::now();
    if (now >= next_tick) {
      next_tick = now + opts.tick;
      tick_all(now);
    }
  }
}

FileSender::FileSender(Options opts) : core_(std::make_shared<Core>()) {
  opts.turn_bytes = std::max<size_t>(opts.turn_bytes, 4096);
  opts.tick = std::max(opts.tick, std::chrono::milliseconds(1));
  core_->opts = opts;
}

FileSender::~FileSender() { stop(); }

void FileSender::start() {
  auto& c = *core_;
  std::lock_guard lk(c.mu);
  if (c.started) return;
  c.ep = ::epoll_create1(EPOLL_CLOEXEC);
  c.wake = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (c.ep < 0 || c.wake < 0) throw std::system_error(errno, std::generic_category(), "FileSender");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = 0;
  if (::epoll_ctl(c.ep, EPOLL_CTL_ADD, c.wake, &ev) != 0)
    throw std::system_error(errno, std::generic_category(), "FileSender");
  c.thread = std::thread([core = core_] { core->run(); });
  c.started = true;
}

void FileSender::stop() {
  auto& c = *core_;
  std::vector<std::shared_ptr<Transfer>> all;
  {
    std::lock_guard lk(c.mu);
    if (!c.started || c.stopping) return;
    c.stopping = true;
    for (auto& [id, t] : c.live) all.push_back(t);
    c.ready.clear();
  }
  for (auto& t : all) t->detach();
  c.notify();
  if (!c.thread.joinable()) return;
  if (c.thread.get_id() == std::this_thread::get_id()) c.thread.detach();  // from a callback: it ends by itself
  else c.thread.join();
}

bool FileSender::running() const {
  std::lock_guard lk(core_->mu);
  return core_->started && !core_->stopping;
}

std::shared_ptr<FileSender::Transfer> FileSender::create(int sock, std::shared_ptr<FileBody> body, Callbacks cb) {
  auto t = std::make_shared<Transfer>();
  t->sock_ = sock;
  t->off_ = body->offset;
  t->left_ = body->length;
  t->body_ = std::move(body);
  t->cb_ = std::move(cb);
  t->core_ = core_;
  t->last_progress_ = std::chrono::steady_clock::now();
  std::lock_guard lk(core_->mu);
  if (!core_->started || core_->stopping) return nullptr;
  t->epfd_ = core_->ep;
  t->copy_ = core_->opts.copy;
  t->id_ = core_->next_id++;
  if (core_->live.empty()) core_->notify();  // the thread may sleep without a tick: wake it to time this one
  core_->live.emplace(t->id_, t);
  return t;
}

void FileSender::start(const std::shared_ptr<Transfer>& t) {
  if (t) core_->run_turn(t);
}

size_t FileSender::active() const {
  std::lock_guard lk(core_->mu);
  return core_->live.size();
}

}  // namespace comfy::http
