// FileSender over real loopback TCP sockets: byte-identical bodies and slices, many turns through
// a tiny socket buffer, a file that shrinks mid-transfer, a client that resets, detach and stop
// (the socket is left alone, no callback), concurrent transfers; plus the pure helpers the file
// routes use around it (Content-Range, the threshold variable, the head of a file response).
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "app/files.h"
#include "http/file_sender.h"
#include "http/response.h"

using namespace comfy;
using http::FileBody;
using http::FileSender;
using Outcome = FileSender::Outcome;

namespace {

struct IgnoreSigpipe {
  IgnoreSigpipe() { ::signal(SIGPIPE, SIG_IGN); }  // the server's threads block it; so must a test
} ignore_sigpipe;

// A connected loopback pair: `server` is non-blocking (what Pistache hands us), `client` blocking.
struct TcpPair {
  int server = -1, client = -1;
  explicit TcpPair(int sndbuf = 0, int rcvbuf = 0) {
    int l = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    EXPECT_EQ(::bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(l, 1), 0);
    ::getsockname(l, reinterpret_cast<sockaddr*>(&a), &len);
    client = ::socket(AF_INET, SOCK_STREAM, 0);
    if (rcvbuf) ::setsockopt(client, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    EXPECT_EQ(::connect(client, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    server = ::accept(l, nullptr, nullptr);
    ::close(l);
    if (sndbuf) ::setsockopt(server, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    ::fcntl(server, F_SETFL, ::fcntl(server, F_GETFL) | O_NONBLOCK);
  }
  ~TcpPair() {
    if (server >= 0) ::close(server);
    if (client >= 0) ::close(client);
  }
  // Reads until EOF (or `limit` bytes).
  std::string read_all(size_t limit = SIZE_MAX) const {
    std::string out;
    char buf[65536];
    while (out.size() < limit) {
      ssize_t n = ::recv(client, buf, std::min(sizeof buf, limit - out.size()), 0);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
};

std::string random_bytes(size_t n, unsigned seed = 1) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

struct TempFile {
  std::string path;
  explicit TempFile(const std::string& data) {
    char tmpl[] = "/tmp/comfy_sender_XXXXXX";
    int fd = ::mkstemp(tmpl);
    path = tmpl;
    size_t done = 0;
    while (done < data.size()) done += static_cast<size_t>(::write(fd, data.data() + done, data.size() - done));
    ::close(fd);
  }
  ~TempFile() { ::unlink(path.c_str()); }
  std::shared_ptr<FileBody> body(uint64_t offset, uint64_t length) const {
    return std::make_shared<FileBody>(::open(path.c_str(), O_RDONLY | O_CLOEXEC), offset, length);
  }
};

// Collects the outcome of `done` (and how often it ran).
struct Done {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Outcome> outcome;
  int calls = 0;
  FileSender::Callbacks callbacks() {
    FileSender::Callbacks cb;
    cb.done = [this](Outcome o) {
      std::lock_guard lk(mu);
      outcome = o;
      ++calls;
      cv.notify_all();
    };
    return cb;
  }
  std::optional<Outcome> wait(std::chrono::milliseconds ms = std::chrono::seconds(20)) {
    std::unique_lock lk(mu);
    cv.wait_for(lk, ms, [this] { return outcome.has_value(); });
    return outcome;
  }
};

std::shared_ptr<FileSender::Transfer> go(FileSender& s, const TcpPair& p, std::shared_ptr<FileBody> body, Done& d) {
  auto t = s.create(p.server, std::move(body), d.callbacks());
  s.start(t);
  return t;
}

bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds ms = std::chrono::seconds(10)) {
  auto end = std::chrono::steady_clock::now() + ms;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return pred();
}

// Every FileSender test runs with sendfile and with the pread + send fallback.
class FileSenderTest : public ::testing::TestWithParam<bool> {
 protected:
  FileSender::Options opts(size_t turn_bytes = 1u << 20) const {
    FileSender::Options o;
    o.turn_bytes = turn_bytes;
    o.copy = GetParam();
    return o;
  }
};

}  // namespace

TEST_P(FileSenderTest, WholeFileAndSlicesAreByteIdentical) {
  FileSender sender(opts());
  sender.start();
  const std::string data = random_bytes(3 * 1024 * 1024 + 123);
  TempFile f(data);
  struct Case { uint64_t off, len; } cases[] = {
      {0, data.size()}, {0, 1}, {1000, 1024 * 1024 + 17}, {data.size() - 5, 5}, {data.size() / 2, data.size() / 2}};
  for (auto c : cases) {
    TcpPair p;
    Done d;
    go(sender, p, f.body(c.off, c.len), d);
    std::string got = p.read_all(c.len);
    EXPECT_EQ(d.wait(), Outcome::Complete);
    EXPECT_EQ(got.size(), c.len);
    EXPECT_TRUE(got == data.substr(c.off, c.len)) << "offset " << c.off << " length " << c.len;
    EXPECT_EQ(d.calls, 1);
  }
  EXPECT_TRUE(wait_until([&] { return sender.active() == 0; }));
}

TEST_P(FileSenderTest, ManyTurnsThroughATinySocketBuffer) {
  FileSender sender(opts(64 * 1024));
  sender.start();
  const std::string data = random_bytes(4 * 1024 * 1024, 7);
  TempFile f(data);
  TcpPair p(8 * 1024, 8 * 1024);
  Done d;
  go(sender, p, f.body(0, data.size()), d);
  std::string got;
  char buf[3000];
  while (got.size() < data.size()) {  // a slow reader: small reads
    ssize_t n = ::recv(p.client, buf, sizeof buf, 0);
    ASSERT_GT(n, 0);
    got.append(buf, static_cast<size_t>(n));
  }
  EXPECT_EQ(d.wait(), Outcome::Complete);
  EXPECT_TRUE(got == data);
  // Keep-alive: the socket is still open and usable after the body.
  ASSERT_EQ(::send(p.server, "next", 4, MSG_NOSIGNAL), 4);
  EXPECT_EQ(p.read_all(4), "next");
}

TEST_P(FileSenderTest, FileThatShrinksEndsTheConnectionWithoutGarbage) {
  FileSender sender(opts(64 * 1024));
  sender.start();
  const std::string data = random_bytes(4 * 1024 * 1024, 3);
  TempFile f(data);
  TcpPair p(16 * 1024, 16 * 1024);
  Done d;
  go(sender, p, f.body(0, data.size()), d);
  std::string got = p.read_all(64 * 1024);
  ASSERT_EQ(::truncate(f.path.c_str(), 1024 * 1024), 0);
  got += p.read_all();  // until the sender shuts the socket down
  EXPECT_EQ(d.wait(), Outcome::Truncated);
  EXPECT_LT(got.size(), data.size());
  EXPECT_GE(got.size(), 64u * 1024);
  EXPECT_TRUE(got == data.substr(0, got.size()));
}

TEST_P(FileSenderTest, AnnouncedLengthBeyondTheFileIsTruncated) {
  FileSender sender(opts());
  sender.start();
  const std::string data = random_bytes(100000, 5);
  TempFile f(data);
  TcpPair p;
  Done d;
  go(sender, p, f.body(0, data.size() + 100), d);
  std::string got = p.read_all();
  EXPECT_EQ(d.wait(), Outcome::Truncated);
  EXPECT_TRUE(got == data);
}

TEST_P(FileSenderTest, ClientResetFails) {
  FileSender sender(opts(64 * 1024));
  sender.start();
  const std::string data = random_bytes(8 * 1024 * 1024, 9);
  TempFile f(data);
  TcpPair p(16 * 1024, 16 * 1024);
  Done d;
  go(sender, p, f.body(0, data.size()), d);
  EXPECT_EQ(p.read_all(10000).size(), 10000u);
  linger lg{1, 0};  // close with RST
  ::setsockopt(p.client, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  ::close(p.client);
  p.client = -1;
  EXPECT_EQ(d.wait(), Outcome::Failed);
  EXPECT_TRUE(wait_until([&] { return sender.active() == 0; }));
}

TEST_P(FileSenderTest, DetachLeavesTheSocketAloneAndSkipsDone) {
  FileSender sender(opts(64 * 1024));
  sender.start();
  const std::string data = random_bytes(4 * 1024 * 1024, 11);
  TempFile f(data);
  TcpPair p(16 * 1024, 16 * 1024);
  Done d;
  auto t = go(sender, p, f.body(0, data.size()), d);  // nobody reads: it stalls on EAGAIN
  EXPECT_EQ(sender.active(), 1u);
  t->detach();
  EXPECT_EQ(sender.active(), 0u);
  std::string got;
  char buf[65536];
  ::fcntl(p.client, F_SETFL, ::fcntl(p.client, F_GETFL) | O_NONBLOCK);
  for (int idle = 0; idle < 20;) {  // drain whatever was sent; no EOF, no further bytes
    ssize_t n = ::recv(p.client, buf, sizeof buf, 0);
    if (n > 0) {
      got.append(buf, static_cast<size_t>(n));
      idle = 0;
      continue;
    }
    ASSERT_TRUE(n < 0 && errno == EAGAIN) << "the sender shut down or wrote to a detached socket";
    ++idle;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_LT(got.size(), data.size());
  EXPECT_TRUE(got == data.substr(0, got.size()));
  EXPECT_FALSE(d.wait(std::chrono::milliseconds(50)).has_value());
}

TEST_P(FileSenderTest, ConcurrentTransfersAllArrive) {
  FileSender sender(opts(256 * 1024));
  sender.start();
  const std::string data = random_bytes(6 * 1024 * 1024, 13);
  TempFile f(data);
  constexpr int kClients = 8;
  std::vector<std::unique_ptr<TcpPair>> pairs;
  std::vector<std::unique_ptr<Done>> dones;
  std::vector<std::string> got(kClients);
  std::vector<std::thread> readers;
  for (int i = 0; i < kClients; ++i) {
    pairs.push_back(std::make_unique<TcpPair>(64 * 1024, 64 * 1024));
    dones.push_back(std::make_unique<Done>());
    uint64_t off = static_cast<uint64_t>(i) * 1000;
    go(sender, *pairs[i], f.body(off, data.size() - off), *dones[i]);
  }
  for (int i = 0; i < kClients; ++i)
    readers.emplace_back([&, i] { got[i] = pairs[i]->read_all(data.size() - static_cast<size_t>(i) * 1000); });
  for (auto& r : readers) r.join();
  for (int i = 0; i < kClients; ++i) {
    EXPECT_EQ(dones[i]->wait(), Outcome::Complete) << i;
    EXPECT_TRUE(got[i] == data.substr(static_cast<size_t>(i) * 1000)) << i;
  }
}

TEST_P(FileSenderTest, StopDetachesEverythingAndRefusesNewTransfers) {
  auto sender = std::make_unique<FileSender>(opts(64 * 1024));
  sender->start();
  const std::string data = random_bytes(4 * 1024 * 1024, 17);
  TempFile f(data);
  TcpPair a(16 * 1024, 16 * 1024), b(16 * 1024, 16 * 1024);
  Done da, db;
  go(*sender, a, f.body(0, data.size()), da);
  go(*sender, b, f.body(0, data.size()), db);
  EXPECT_EQ(sender->active(), 2u);
  sender->stop();
  EXPECT_FALSE(sender->running());
  EXPECT_EQ(sender->active(), 0u);
  EXPECT_EQ(sender->create(a.server, f.body(0, 1), {}), nullptr);
  sender.reset();
  EXPECT_FALSE(da.wait(std::chrono::milliseconds(20)).has_value());
  EXPECT_FALSE(db.wait(std::chrono::milliseconds(20)).has_value());
}

TEST_P(FileSenderTest, StalledClientIsDroppedAndKeptAliveUntilThen) {
  auto o = opts(64 * 1024);
  o.stall_timeout = std::chrono::milliseconds(400);
  o.tick = std::chrono::milliseconds(50);
  FileSender sender(o);
  sender.start();
  const std::string data = random_bytes(4 * 1024 * 1024, 19);
  TempFile f(data);
  TcpPair p(16 * 1024, 16 * 1024);
  Done d;
  std::atomic<int> keepalives{0};
  auto cb = d.callbacks();
  cb.keepalive = [&] { ++keepalives; };
  auto t = sender.create(p.server, f.body(0, data.size()), cb);
  auto t0 = std::chrono::steady_clock::now();
  sender.start(t);  // nobody reads
  EXPECT_EQ(d.wait(), Outcome::Failed);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(400));
  EXPECT_GE(keepalives.load(), 3);
  std::string got = p.read_all();  // what was sent, then EOF: the socket was shut down
  EXPECT_LT(got.size(), data.size());
  EXPECT_TRUE(got == data.substr(0, got.size()));
  int before = keepalives.load();
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  EXPECT_EQ(keepalives.load(), before);  // none after the end
  EXPECT_EQ(sender.active(), 0u);
}

TEST_P(FileSenderTest, SlowButSteadyClientIsNotAStall) {
  auto o = opts(16 * 1024);
  o.stall_timeout = std::chrono::milliseconds(300);
  o.tick = std::chrono::milliseconds(20);
  FileSender sender(o);
  sender.start();
  const std::string data = random_bytes(1024 * 1024, 23);
  TempFile f(data);
  TcpPair p(16 * 1024, 16 * 1024);
  Done d;
  go(sender, p, f.body(0, data.size()), d);
  std::string got;
  char buf[32 * 1024];
  auto t0 = std::chrono::steady_clock::now();
  while (got.size() < data.size()) {  // ~1 s in all, never 300 ms without a byte
    ssize_t n = ::recv(p.client, buf, sizeof buf, 0);
    ASSERT_GT(n, 0);
    got.append(buf, static_cast<size_t>(n));
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
  }
  EXPECT_GT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(600));
  EXPECT_EQ(d.wait(), Outcome::Complete);
  EXPECT_TRUE(got == data);
}

INSTANTIATE_TEST_SUITE_P(Modes, FileSenderTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "copy" : "sendfile"; });

TEST(FileResponse, HeadCarriesTheFileLengthAndNoBody) {
  TempFile f("0123456789");
  http::Response r;
  r.status = 206;
  r.content_type = "image/png";
  r.headers = {{"Content-Range", files::content_range(2, 5, 10)}};
  r.file = f.body(2, 5);
  std::string wire = http::serialize(r, true, 1);
  EXPECT_NE(wire.find("HTTP/1.1 206 Partial Content\r\nContent-Type: image/png\r\nContent-Range: bytes 2-6/10\r\n"
                      "Content-Length: 5\r\n"),
            std::string::npos)
      << wire;
  EXPECT_EQ(wire.substr(wire.size() - 4), "\r\n\r\n");  // the body goes out separately
  EXPECT_EQ(http::serialize(r, true, 1, true), wire);   // HEAD: the same bytes
}

TEST(FileResponse, ContentRangeAndThreshold) {
  EXPECT_EQ(files::content_range(0, 10, 10), "bytes 0-9/10");
  EXPECT_EQ(files::content_range(1000, 24, 1024), "bytes 1000-1023/1024");
  EXPECT_EQ(files::content_range(5, 0, 10), "bytes 5-5/10");  // what the buffered path always said
  EXPECT_EQ(files::sendfile_threshold(nullptr), files::kSendfileMinBytes);
  EXPECT_EQ(files::sendfile_threshold(""), files::kSendfileMinBytes);
  EXPECT_EQ(files::sendfile_threshold("0"), 0u);
  EXPECT_EQ(files::sendfile_threshold("1048576"), 1048576u);
  EXPECT_EQ(files::sendfile_threshold("4611686018427387904"), 4611686018427387904ull);
  EXPECT_EQ(files::sendfile_threshold("12k"), files::kSendfileMinBytes);
  EXPECT_EQ(files::sendfile_threshold("-1"), files::kSendfileMinBytes);
  EXPECT_EQ(files::sendfile_threshold("99999999999999999999999"), files::kSendfileMinBytes);
}
