// Checks an identify result against the connection it came on: the secure
// channel (noise, tls) already authenticated the remote's peer id, and what
// identify claims must not contradict it.
#pragma once

#include <optional>

#include "base/peer_id.hpp"
#include "proto/identify/errors.hpp"
#include "proto/identify/message.hpp"
#include "proto/identify/peer_record.hpp"

namespace taho::identify {

// publicKey is optional on the wire (the secure channel already proved the
// key); when present it must be the authenticated peer's key.
Expected<void, IdentifyError> check_public_key(const Info& info, const PeerId& authenticated);

// check_public_key, and when the remote sent a signed peer record: it must
// verify and name the authenticated peer. Returns that record (nullopt when
// none was sent); its addresses are the ones worth sharing with others.
Expected<std::optional<PeerRecord>, IdentifyError> verify_remote(const Info& info, const PeerId& authenticated);

}  // namespace taho::identify
