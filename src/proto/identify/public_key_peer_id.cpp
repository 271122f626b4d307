#include "proto/identify/public_key_peer_id.hpp"

#include "crypto/sha256.hpp"

namespace taho::identify {

Expected<PeerId, IdentifyError> peer_id_of(const PublicKey& key) {
  auto id = PeerId::from_public_key(key, [](ByteView data) { return crypto::sha256(data); });
  if (!id) return unexpected(IdentifyError{Errc::bad_public_key, "no peer id for key: " + id.error().detail});
  return std::move(*id);
}

}  // namespace taho::identify
