#include "bindings/py_tasks.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdio>
#include <stdexcept>

#include <pybind11/pybind11.h>

namespace comfy::py {

TaskQueue::TaskQueue() : fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (fd_ < 0) throw std::runtime_error("eventfd failed");
}

TaskQueue::~TaskQueue() { close(fd_); }

void TaskQueue::post(std::function<void()> task) {
  {
    std::lock_guard lk(mu_);
    tasks_.push_back(std::move(task));
  }
  uint64_t one = 1;
  ssize_t n = write(fd_, &one, sizeof one);
  (void)n;
}

void TaskQueue::run_pending() {
  uint64_t v;
  ssize_t n = read(fd_, &v, sizeof v);
  (void)n;
  std::deque<std::function<void()>> batch;
  {
    std::lock_guard lk(mu_);
    batch.swap(tasks_);
  }
  for (auto& t : batch) {
    try {
      t();
    } catch (pybind11::error_already_set& e) {
      std::fprintf(stderr, "ERROR: python task failed: %s\n", e.what());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "ERROR: task failed: %s\n", e.what());
    }
  }
}

}  // namespace comfy::py
