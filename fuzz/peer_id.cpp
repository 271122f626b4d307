// Fuzzes peer id text and bytes and the PublicKey protobuf. The first byte
// picks the parser; whatever is accepted must round-trip exactly.
#include <cstdlib>

#include "base/peer_id.hpp"

namespace {

void check_peer_id(const taho::PeerId& id) {
  auto from_text = taho::PeerId::parse(id.to_string());
  if (!from_text || *from_text != id) std::abort();
  for (auto base : {taho::multibase::Base::base32, taho::multibase::Base::base58btc,
                    taho::multibase::Base::base16, taho::multibase::Base::base64url}) {
    auto from_cid = taho::PeerId::parse(id.to_cid_string(base));
    if (!from_cid || *from_cid != id) std::abort();
  }
  auto from_bytes = taho::PeerId::from_bytes(id.bytes());
  if (!from_bytes || *from_bytes != id) std::abort();
  if (auto key = id.public_key()) {
    auto rebuilt = taho::PeerId::from_public_key(*key);
    if (!rebuilt || *rebuilt != id) std::abort();
  } else if (id.multihash().code() != taho::multihash::Code::sha2_256) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const taho::ByteView rest(data + 1, size - 1);
  switch (data[0] % 3) {
    case 0: {
      auto id = taho::PeerId::parse(taho::as_text(rest));
      if (id) check_peer_id(*id);
      break;
    }
    case 1: {
      auto id = taho::PeerId::from_bytes(rest);
      if (id) {
        if (!std::equal(id->bytes().begin(), id->bytes().end(), rest.begin(), rest.end())) std::abort();
        check_peer_id(*id);
      }
      break;
    }
    default: {
      auto key = taho::PublicKey::decode(rest);
      if (!key) break;
      const taho::Bytes encoded = key->encode();
      if (!std::equal(encoded.begin(), encoded.end(), rest.begin(), rest.end())) std::abort();
      // Long keys need a hash; any deterministic stand-in exercises the path.
      const auto stand_in = [](taho::ByteView bytes) {
        taho::peer_id::Sha256Digest digest{};
        for (std::size_t i = 0; i < bytes.size(); ++i) digest[i % digest.size()] ^= bytes[i];
        return digest;
      };
      auto id = taho::PeerId::from_public_key(*key, stand_in);
      if (!id) std::abort();
      check_peer_id(*id);
      break;
    }
  }
  return 0;
}
