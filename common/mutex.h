// Mutex, MutexLock and CondVar: std::mutex and std::condition_variable
// with clang's thread-safety annotations, so that `-Wthread-safety` (the
// `make thread-safety` build, docs/TESTING.md) checks at compile time that
// state marked GUARDED_BY(mu_) is only touched with mu_ held and that a
// function marked REQUIRES(mu_) is only called with it held.
//
//   class Counter {
//    public:
//     void Add(int n) EXCLUDES(mu_) {
//       MutexLock lock(&mu_);
//       total_ += n;
//       changed_.SignalAll();
//     }
//     // Blocks until the total reaches `n`.
//     void WaitFor(int n) EXCLUDES(mu_) {
//       MutexLock lock(&mu_);
//       while (total_ < n) changed_.Wait(&mu_);
//     }
//    private:
//     Mutex mu_;
//     CondVar changed_;
//     int total_ GUARDED_BY(mu_) = 0;
//   };
//
// Wait in a loop on the condition, as above, rather than with a predicate
// lambda: the analysis does not know that a lambda runs with the lock held.
//
// The macros are those of clang's documentation ("Thread Safety Analysis",
// mutex.h); under other compilers they expand to nothing and the classes
// are plain wrappers (no cost beyond std::mutex).
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

#if defined(__clang__)
#define ORMDB_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define ORMDB_THREAD_ANNOTATION(x)
#endif

// A class that is a capability (a lock); the name shows in messages.
#define CAPABILITY(x) ORMDB_THREAD_ANNOTATION(capability(x))
// A RAII class that holds a capability for its lifetime.
#define SCOPED_CAPABILITY ORMDB_THREAD_ANNOTATION(scoped_lockable)
// A member read or written only with the capability held.
#define GUARDED_BY(x) ORMDB_THREAD_ANNOTATION(guarded_by(x))
// A pointer member whose pointee is accessed only with the capability held.
#define PT_GUARDED_BY(x) ORMDB_THREAD_ANNOTATION(pt_guarded_by(x))
// Lock order: this capability is taken before / after the others.
#define ACQUIRED_BEFORE(...) ORMDB_THREAD_ANNOTATION(acquired_before(__VA_ARGS__))
#define ACQUIRED_AFTER(...) ORMDB_THREAD_ANNOTATION(acquired_after(__VA_ARGS__))
// The caller must hold the capabilities (exclusively / shared).
#define REQUIRES(...) ORMDB_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define REQUIRES_SHARED(...) ORMDB_THREAD_ANNOTATION(requires_shared_capability(__VA_ARGS__))
// The function takes / gives back the capabilities.
#define ACQUIRE(...) ORMDB_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define ACQUIRE_SHARED(...) ORMDB_THREAD_ANNOTATION(acquire_shared_capability(__VA_ARGS__))
#define RELEASE(...) ORMDB_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define RELEASE_SHARED(...) ORMDB_THREAD_ANNOTATION(release_shared_capability(__VA_ARGS__))
// Takes the capability when the function returns the given value.
#define TRY_ACQUIRE(...) ORMDB_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
// The caller must not hold the capabilities (the function takes them).
#define EXCLUDES(...) ORMDB_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
// Asserts at run time that the capability is held; the analysis trusts it.
#define ASSERT_CAPABILITY(x) ORMDB_THREAD_ANNOTATION(assert_capability(x))
// The function returns a reference to the capability.
#define RETURN_CAPABILITY(x) ORMDB_THREAD_ANNOTATION(lock_returned(x))
// Turns the analysis off for one function: say why next to it.
#define NO_THREAD_SAFETY_ANALYSIS ORMDB_THREAD_ANNOTATION(no_thread_safety_analysis)

namespace ormdb {

// A std::mutex the analysis knows about. Not recursive.
class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ACQUIRE() { mu_.lock(); }
  void Unlock() RELEASE() { mu_.unlock(); }
  // True when the lock was free and is now held.
  bool TryLock() TRY_ACQUIRE(true) { return mu_.try_lock(); }
  // Tells the analysis that the lock is held where it cannot see it (a
  // callback run under the lock). Checks nothing at run time.
  void AssertHeld() const ASSERT_CAPABILITY(this) {}

 private:
  friend class CondVar;
  std::mutex mu_;
};

// Holds `mu` from construction to the end of the scope.
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ACQUIRE(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() RELEASE() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

// A condition variable waited on with a Mutex held. Waits may wake
// spuriously: wait in a loop on the condition.
class CondVar {
 public:
  CondVar() = default;
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  // Releases `mu`, waits for a signal, and takes `mu` again.
  void Wait(Mutex* mu) REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    cv_.wait(lock);
    lock.release();  // still held: the caller's MutexLock releases it
  }
  // As Wait, giving up at `deadline`. Returns false when the deadline passed
  // (the condition may still have become true: check it).
  template <typename Clock, typename Duration>
  bool WaitUntil(Mutex* mu, const std::chrono::time_point<Clock, Duration>& deadline)
      REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    bool signalled = cv_.wait_until(lock, deadline) == std::cv_status::no_timeout;
    lock.release();
    return signalled;
  }
  void Signal() { cv_.notify_one(); }
  void SignalAll() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

}  // namespace ormdb
