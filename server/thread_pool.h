// A fixed set of threads running posted jobs in order of posting.
#pragma once

#include <deque>
#include <functional>
#include <mutex>

#include "common/mutex.h"
#include <thread>
#include <vector>

namespace ormdb::server {

class ThreadPool {
 public:
  explicit ThreadPool(size_t threads) {
    for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
  }
  // Runs every job already posted, then joins.
  ~ThreadPool() { Shutdown(); }

  void Post(std::function<void()> job) {
    {
      MutexLock lock(&mu_);
      jobs_.push_back(std::move(job));
    }
    cv_.Signal();
  }

  void Shutdown() {
    {
      MutexLock lock(&mu_);
      stopping_ = true;
    }
    cv_.SignalAll();
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

 private:
  void Loop() {
    for (;;) {
      std::function<void()> job;
      {
        MutexLock lock(&mu_);
        while (!stopping_ && jobs_.empty()) cv_.Wait(&mu_);
        if (jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }

  Mutex mu_;
  CondVar cv_;
  std::deque<std::function<void()>> jobs_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace ormdb::server
