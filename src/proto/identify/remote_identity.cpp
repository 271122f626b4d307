#include "proto/identify/remote_identity.hpp"

#include "proto/identify/public_key_peer_id.hpp"

namespace taho::identify {

Expected<void, IdentifyError> check_public_key(const Info& info, const PeerId& authenticated) {
  if (!info.public_key) return {};
  auto claimed = peer_id_of(*info.public_key);
  if (!claimed) return unexpected(std::move(claimed).error());
  if (*claimed != authenticated) {
    return unexpected(IdentifyError{Errc::peer_id_mismatch, "identify publicKey is " + claimed->to_string() +
                                                                "'s, the connection is with " +
                                                                authenticated.to_string()});
  }
  return {};
}

Expected<std::optional<PeerRecord>, IdentifyError> verify_remote(const Info& info, const PeerId& authenticated) {
  if (auto key = check_public_key(info, authenticated); !key) return unexpected(std::move(key).error());
  if (!info.signed_peer_record) return std::optional<PeerRecord>{};
  auto record = open_peer_record(*info.signed_peer_record);
  if (!record) return unexpected(std::move(record).error());
  if (record->peer_id != authenticated) {
    return unexpected(IdentifyError{Errc::peer_id_mismatch, "signed peer record of " + record->peer_id.to_string() +
                                                                " on a connection with " + authenticated.to_string()});
  }
  return std::optional<PeerRecord>(std::move(*record));
}

}  // namespace taho::identify
