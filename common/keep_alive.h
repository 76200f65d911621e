#pragma once

// Objects that must outlive their owner: a thread the process cannot stop,
// or a library callback that cannot be cancelled (nng's wedged socket
// close), still points at them. They are kept until the process exits,
// reachable from a process-wide list (so LeakSanitizer does not report
// them), and never destroyed.

#include <memory>
#include <utility>

namespace ormdb {

void KeepUntilExit(std::shared_ptr<void> object);

template <class T>
void KeepUntilExit(std::unique_ptr<T> object) {
  KeepUntilExit(std::shared_ptr<void>(std::shared_ptr<T>(std::move(object))));
}

}  // namespace ormdb
