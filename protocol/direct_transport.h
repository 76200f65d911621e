// The direct transport (`ormdb://HOST:PORT`, docs/PROTOCOL.md "Transports"):
// the same frames as over nng, carried over a plain TCP socket with
// run-to-completion handling. A connection's own thread reads a frame,
// answers it (a short read is answered on that thread, without a hand-off)
// and sends the reply; a client keeps a pool of connections, one call at a
// time on each.
//
// On the socket: the client opens with the 8-byte greeting "ORMDB\0\0\1"
// and the server answers with the same 8 bytes; then each frame is an
// 8-byte big-endian length followed by the frame (4-byte header + message).
//
// Internal to protocol/: Listener::Start and Connection::Dial pick this
// transport by the URL's scheme.
#pragma once

#include <memory>
#include <string_view>

#include "protocol/transport.h"

namespace ormdb::protocol {

// Whether `url` names the direct transport (ormdb://).
bool IsDirectUrl(std::string_view url);

// Listens on options.url (ormdb://HOST:PORT; port 0 picks one). UNAVAILABLE
// when the address is in use; INVALID_ARGUMENT for a bad URL.
Result<std::unique_ptr<Listener>> StartDirectListener(const ListenerOptions& options,
                                                      Listener::Callbacks callbacks);

// Dials options.url (ormdb://HOST:PORT) at once: UNAVAILABLE when nothing
// answers. A connection lost mid-call is redialed and the request resent
// until the call's timeout (the server answers a resent write from its
// request record, so it is applied once).
Result<std::unique_ptr<Connection>> DialDirect(const ConnectionOptions& options);

}  // namespace ormdb::protocol
