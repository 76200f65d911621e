#include "common/keep_alive.h"

#include <vector>

#include "common/mutex.h"

namespace ormdb {

void KeepUntilExit(std::shared_ptr<void> object) {
  static Mutex mu;
  static auto* kept = new std::vector<std::shared_ptr<void>>();  // never destroyed
  MutexLock lock(&mu);
  kept->push_back(std::move(object));
}

}  // namespace ormdb
