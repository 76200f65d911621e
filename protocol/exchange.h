// What every transport's exchange shares (internal to protocol/): the
// listener that owes its reply, so a listener serving several transports
// sends each reply through the one that received the request.
#pragma once

#include "protocol/transport.h"

namespace ormdb::protocol {

class Listener::Exchange {
 public:
  explicit Exchange(Listener* owner) : owner_(owner) {}
  virtual ~Exchange() = default;
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;

  Listener* owner() const { return owner_; }

 private:
  Listener* owner_;
};

}  // namespace ormdb::protocol
