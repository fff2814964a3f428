// The bridge from native threads to the Python main thread: a queue of closures plus an eventfd
// that the asyncio loop watches (loop.add_reader). post() never blocks on Python.
#pragma once
#include <deque>
#include <functional>
#include <mutex>

#include "app/app.h"

namespace comfy::py {

class TaskQueue : public PyBridge {
 public:
  TaskQueue();
  ~TaskQueue() override;
  void post(std::function<void()> task) override;  // any thread
  int fd() const { return fd_; }
  // Runs every queued closure; called from Python (GIL held) when fd() is readable.
  void run_pending();

 private:
  int fd_;
  std::mutex mu_;
  std::deque<std::function<void()>> tasks_;
};

}  // namespace comfy::py
