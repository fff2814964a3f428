// Batches: one image per worker thread (the Python bindings write each file from the worker that
// encoded it).
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>

#include "media/media.h"

namespace comfy::media {

std::vector<std::string> parallel_encode(size_t count, unsigned threads,
                                         const std::function<std::string(size_t)>& encode_one) {
  std::vector<std::string> out(count);
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  if (threads > count) threads = static_cast<unsigned>(count);
  if (threads <= 1) {
    for (size_t i = 0; i < count; ++i) out[i] = encode_one(i);
    return out;
  }
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto work = [&] {
    for (size_t i; !failed && (i = next++) < count;) {
      try {
        out[i] = encode_one(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
        failed = true;
      }
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(threads - 1);
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
  work();  // the calling thread is one of the workers
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
  return out;
}

void write_file(const std::string& path, const std::string& bytes) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) throw FileError("cannot open " + path + ": " + std::strerror(errno));
  bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  int err = errno;
  if (std::fclose(f) != 0 && ok) ok = false, err = errno;
  if (!ok) throw FileError("cannot write " + path + ": " + std::strerror(err));
}

}  // namespace comfy::media
