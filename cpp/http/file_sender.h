// Large response bodies straight from a file to a socket with sendfile(2), in turns as the socket
// drains, without a user-space copy and without blocking the reactor (issue #5, /view and static
// files; architecture §2).
//
// Why not Pistache's own file write: 0.0.5's write queue sends a FileBuffer only as a whole file
// it opens again by name (no offset or length, so no Range, and a second open after our path
// check), and a RawBuffer left over after EAGAIN is copied again each time (a 50 MB body is
// copied tens of times). So the server writes the response head through Pistache's queue (which
// orders it after any earlier response still queued there) and, once Pistache reports the head
// written, hands the body to a FileSender:
//
//  - One sender thread with its own epoll set. A socket joins it (EPOLLOUT, edge-triggered) only
//    after sendfile said EAGAIN; Linux lets one socket sit in several epoll sets, so Pistache's
//    reactor keeps reading the same socket (pipelined requests, a client going away).
//  - A turn sends at most `turn_bytes`, then the next ready transfer gets its turn (round robin),
//    so one fast client does not starve the others. There is no user-space buffer: memory per
//    transfer is this small object whatever the file size or the number of downloads.
//  - The first turn runs in the thread calling start() (the reactor thread that saw the head
//    written): a body that fits the socket buffer goes out without waking the sender thread.
//  - The socket belongs to Pistache, which closes it right after its onDisconnection, and the
//    number can then belong to a new client. Every syscall on the socket happens under the
//    transfer's mutex while it is attached; the server calls detach() from onDisconnection (before
//    that close), and after detach() returns the descriptor is never touched again.
//  - A filesystem without sendfile support (EINVAL, ENOSYS) switches that transfer to pread and
//    send through a 64 KiB stack buffer; bytes the socket did not take are read again next turn,
//    so nothing is kept between turns either way.
//  - The file ending before the announced length (it shrank meanwhile), a socket error, or a
//    client that takes nothing for `stall_timeout` ends the transfer with shutdown(SHUT_RDWR): the
//    client sees the connection end short of its Content-Length, never bytes that are not the
//    file's, and the reactor sees EOF and runs onDisconnection.
//  - Pistache's idle reaper must never reap a connection with a transfer in flight: its
//    removePeer closes the fd *without* onDisconnection (0.0.5), so detach() would not run. So
//    `keepalive` fires every `tick` for each transfer (the server refreshes Pistache's clock with
//    it) and stalls are timed out here instead, through the shutdown above.
//
// sendfile raises SIGPIPE on a socket the peer reset: the sender thread blocks it; threads calling
// start() must block or ignore it (Pistache's reactor threads start with every signal blocked,
// and Python ignores SIGPIPE).
//
// Thread-safety: every member function is thread-safe. Callbacks run with no lock of the sender
// held, on the thread that moved the bytes (the caller of start() or the sender thread). `done`
// runs at most once; it does not run for a transfer detached (or stopped) before it finished.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>

namespace comfy::http {

// A region of an open file sent as a response body instead of Response::body. Owns `fd`.
struct FileBody {
  FileBody(int fd, uint64_t offset, uint64_t length) : fd(fd), offset(offset), length(length) {}
  ~FileBody();
  FileBody(const FileBody&) = delete;
  FileBody& operator=(const FileBody&) = delete;
  int fd;
  uint64_t offset;
  uint64_t length;
};

class FileSender {
 public:
  // Complete: every byte is in the socket. Truncated: the file ended early. Failed: a socket
  // error (the client went away) or no byte taken for `stall_timeout`. Both of the latter shut
  // the socket down.
  enum class Outcome { Complete, Truncated, Failed };
  struct Callbacks {
    std::function<void(Outcome)> done;
    std::function<void()> keepalive;  // about every `tick` while the transfer is in flight
  };
  struct Options {
    size_t turn_bytes = 1u << 20;
    // A client that takes no byte for this long is dropped (Pistache's keep-alive timeout).
    std::chrono::milliseconds stall_timeout{75000};
    std::chrono::milliseconds tick{1000};  // keepalive calls and stall checks
    bool copy = false;  // every transfer uses the pread + send fallback (tests cover it so)
  };
  struct Core;

  class Transfer {
   public:
    // The socket is about to be closed by its owner: never touch it again, no `done`.
    void detach();

   private:
    friend class FileSender;
    enum class Turn { Wait, Again, Done, Gone };
    struct Result {
      Turn turn = Turn::Gone;
      Outcome outcome = Outcome::Complete;
      std::function<void(Outcome)> done;
      std::function<void()> keepalive;
    };
    Result turn(size_t budget);
    Result tick(std::chrono::steady_clock::time_point now, std::chrono::milliseconds stall_timeout);
    void finish(Result& r);          // under mu_: leaves the socket for good
    ssize_t copy_some(size_t want);  // the fallback: one pread + send

    std::mutex mu_;
    int sock_ = -1;  // -1 once finished or detached
    bool in_epoll_ = false;
    bool copy_ = false;    // pread + send instead of sendfile
    bool queued_ = false;  // in the ready list (guarded by the sender's mutex)
    int epfd_ = -1;
    uint64_t id_ = 0;
    uint64_t off_ = 0, left_ = 0;
    std::shared_ptr<FileBody> body_;
    Callbacks cb_;
    std::chrono::steady_clock::time_point last_progress_;
    std::weak_ptr<Core> core_;
  };

  FileSender() : FileSender(Options()) {}
  explicit FileSender(Options opts);
  ~FileSender();
  FileSender(const FileSender&) = delete;
  FileSender& operator=(const FileSender&) = delete;

  // Starts the sender thread (with SIGPIPE blocked). Throws std::system_error without epoll.
  void start();
  // Detaches every transfer (no callbacks run for them) and joins the thread. Idempotent.
  void stop();
  bool running() const;

  // A transfer of body->length bytes from body->offset to the non-blocking socket `sock`, not yet
  // started (register it where detach() can find it, then call start()). nullptr when the sender
  // is not running.
  std::shared_ptr<Transfer> create(int sock, std::shared_ptr<FileBody> body, Callbacks cb);
  // Runs the first turn in this thread; the sender thread does the rest.
  void start(const std::shared_ptr<Transfer>& t);
  // Transfers created and not yet finished or detached.
  size_t active() const;

 private:
  std::shared_ptr<Core> core_;
};

}  // namespace comfy::http
