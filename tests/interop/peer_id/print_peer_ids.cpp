// Prints peer ids computed by taho for js-libp2p to check (check.mjs):
//   seed <seed_hex> <peer_id> <multihash_hex> <cid>   for the spec's Ed25519
//     key and 50 random ones,
//   key <protobuf_hex> <peer_id>   for the spec's secp256k1 key (inline) and
//     RSA key (sha2-256 path, with taho_crypto's SHA-256).
#include <cstdio>
#include <cstdlib>
#include <string>

#include "base/peer_id.hpp"
#include "crypto/ed25519.hpp"
#include "crypto/sha256.hpp"

namespace {

constexpr int kRandomKeys = 50;

// libp2p/specs peer-ids/peer-ids.md test vectors.
constexpr const char* kSpecEd25519Seed = "7e0830617c4a7de83925dfb2694556b12936c477a0e1feb2e148ec9da60fee7d";
constexpr const char* kSpecEd25519PublicKey = "080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e";
constexpr const char* kSpecOtherPublicKeys[] = {
    // secp256k1 (inline, 37 bytes)
    "08021221037777e994e452c21604f91de093ce415f5432f701dd8cd1a7a6fea0e630bfca99",
    // (The spec's ECDSA key is left out: @libp2p/crypto 5.1.23 fails to
    // parse its DER, so js cannot check it.)
    // RSA 4096 (hashed)
    "080012a60430820222300d06092a864886f70d01010105000382020f003082020a0282020100e1beab071d08200bde24eef00d049449b0"
    "7770ff9910257b2d7d5dda242ce8f0e2f12e1af4b32d9efd2c090f66b0f29986dbb645dae9880089704a94e5066d594162ae6ee8892e6e"
    "c70701db0a6c445c04778eb3de1293aa1a23c3825b85c6620a2bc3f82f9b0c309bc0ab3aeb1873282bebd3da03c33e76c21e9beb172fd4"
    "4c9e43be32e2c99827033cf8d0f0c606f4579326c930eb4e854395ad941256542c793902185153c474bed109d6ff5141ebf9cd256cf588"
    "93a37f83729f97e7cb435ec679d2e33901d27bb35aa0d7e20561da08885ef0abbf8e2fb48d6a5487047a9ecb1ad41fa7ed84f6e3e8ecd5"
    "d98b3982d2a901b4454991766da295ab78822add5612a2df83bcee814cf50973e80d7ef38111b1bd87da2ae92438a2c8cbcc70b31ee319"
    "939a3b9c761dbc13b5c086d6b64bf7ae7dacc14622375d92a8ff9af7eb962162bbddebf90acb32adb5e4e4029f1c96019949ecfbfeffd7"
    "ac1e3fbcc6b6168c34be3d5a2e5999fcbb39bba7adbca78eab09b9bc39f7fa4b93411f4cc175e70c0a083e96bfaefb04a9580b4753c173"
    "8a6a760ae1afd851a1a4bdad231cf56e9284d832483df215a46c1c21bdf0c6cfe951c18f1ee4078c79c13d63edb6e14feaeffabc90ad31"
    "7e4875fe648101b0864097e998f0ca3025ef9638cd2b0caecd3770ab54a1d9c6ca959b0f5dcbc90caeefc4135baca6fd475224269bbe1b"
    "0203010001",
};

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "print_peer_ids: %s\n", message.c_str());
  std::exit(1);
}

void print_seed_line(const taho::crypto::Ed25519KeyPair& key) {
  const taho::PeerId id = taho::PeerId::from_ed25519(key.public_key());
  std::printf("seed %s %s %s %s\n", taho::to_hex(key.seed()).c_str(), id.to_string().c_str(),
              taho::to_hex(id.bytes()).c_str(), id.to_cid_string().c_str());
}

}  // namespace

int main() {
  taho::crypto::Ed25519Seed spec_seed{};
  taho::Bytes seed_bytes;
  if (!taho::from_hex(kSpecEd25519Seed, seed_bytes) || seed_bytes.size() != spec_seed.size()) die("bad spec seed");
  std::copy(seed_bytes.begin(), seed_bytes.end(), spec_seed.begin());
  auto spec_key = taho::crypto::Ed25519KeyPair::from_seed(spec_seed);
  if (!spec_key) die(spec_key.error().text);
  // The spec's key pair must give the spec's public key, byte for byte.
  const std::string spec_public = taho::to_hex(taho::PublicKey::ed25519(spec_key->public_key()).encode());
  if (spec_public != kSpecEd25519PublicKey) die("spec seed gives public key " + spec_public);
  print_seed_line(*spec_key);

  for (int i = 0; i < kRandomKeys; ++i) {
    auto key = taho::crypto::Ed25519KeyPair::generate();
    if (!key) die(key.error().text);
    print_seed_line(*key);
  }

  for (const char* key_hex : kSpecOtherPublicKeys) {
    taho::Bytes encoded;
    if (!taho::from_hex(key_hex, encoded)) die("bad key hex");
    auto key = taho::PublicKey::decode(encoded);
    if (!key) die("spec key does not decode: " + key.error().detail);
    auto id = taho::PeerId::from_public_key(*key, [](taho::ByteView data) { return taho::crypto::sha256(data); });
    if (!id) die("no peer id for spec key: " + id.error().detail);
    std::printf("key %s %s\n", key_hex, id->to_string().c_str());
  }
  return 0;
}
