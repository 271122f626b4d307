#include "node/identity.hpp"

#include <algorithm>
#include <optional>

#include "base/protobuf.hpp"
#include "node/private_file.hpp"

namespace taho::node {
namespace {

// libp2p crypto.proto: PrivateKey { KeyType Type = 1; bytes Data = 2; }.
// For Ed25519, Data is the 32-byte seed followed by the 32-byte public key.
constexpr std::uint64_t kKeyTypeEd25519 = 1;
constexpr std::size_t kEd25519PrivateDataBytes = 64;

IdentityError corrupt(const std::string& why) { return {IdentityErrc::corrupt, why}; }

}  // namespace

Bytes encode_private_key(const crypto::Ed25519KeyPair& pair) {
  Bytes data(pair.seed().begin(), pair.seed().end());
  data.insert(data.end(), pair.public_key().begin(), pair.public_key().end());
  pb::Writer writer;
  writer.varint(1, kKeyTypeEd25519);
  writer.bytes(2, data);
  return writer.take();
}

Expected<crypto::Ed25519KeyPair, IdentityError> decode_private_key(ByteView encoded) {
  pb::Reader reader(encoded);
  std::optional<std::uint64_t> type;
  std::optional<ByteView> data;
  while (!reader.done()) {
    auto field = reader.next();
    if (!field) return unexpected(corrupt("not a libp2p private key (bad protobuf)"));
    if (field->number == 1 && field->type == pb::WireType::varint) type = field->integer;
    if (field->number == 2 && field->type == pb::WireType::length_delimited) data = field->bytes;
  }
  if (!type || !data) return unexpected(corrupt("not a libp2p private key (missing type or data)"));
  if (*type != kKeyTypeEd25519) {
    return unexpected(corrupt("key type " + std::to_string(*type) + " is not Ed25519"));
  }
  if (data->size() != kEd25519PrivateDataBytes && data->size() != 32) {
    return unexpected(corrupt("Ed25519 key data has " + std::to_string(data->size()) + " bytes"));
  }
  crypto::Ed25519Seed seed;
  std::copy_n(data->begin(), seed.size(), seed.begin());
  auto pair = crypto::Ed25519KeyPair::from_seed(seed);
  if (!pair) return unexpected(corrupt(pair.error().text));
  // The stored public half must match the seed, or the file was damaged.
  if (data->size() == kEd25519PrivateDataBytes &&
      !std::equal(pair->public_key().begin(), pair->public_key().end(), data->begin() + 32)) {
    return unexpected(corrupt("public key does not match the private key"));
  }
  return *pair;
}

Expected<crypto::Ed25519KeyPair, IdentityError> load_identity(const std::filesystem::path& key_file) {
  bool unsafe_mode = false;
  bool missing = false;
  auto contents = read_private_file(key_file, &unsafe_mode, &missing);
  if (!contents) {
    auto code = missing ? IdentityErrc::missing
                        : unsafe_mode ? IdentityErrc::unsafe_mode : IdentityErrc::unreadable;
    return unexpected(IdentityError{code, contents.error().text});
  }
  auto pair = decode_private_key(*contents);
  if (!pair) {
    return unexpected(IdentityError{IdentityErrc::corrupt,
                                    key_file.string() + " is corrupt: " + pair.error().detail +
                                        " (move it away to create a new identity)"});
  }
  return pair;
}

Expected<crypto::Ed25519KeyPair, IdentityError> load_or_create_identity(
    const std::filesystem::path& key_file, bool* created) {
  if (created) *created = false;
  auto existing = load_identity(key_file);
  if (existing || existing.error().code != IdentityErrc::missing) return existing;

  auto pair = crypto::Ed25519KeyPair::generate();
  if (!pair) return unexpected(IdentityError{IdentityErrc::write_failed, pair.error().text});
  std::error_code ignored;
  std::filesystem::create_directories(key_file.parent_path(), ignored);
  bool kept_existing = false;
  auto written = write_file_atomically(key_file, encode_private_key(*pair), 0600, IfExists::keep, &kept_existing);
  if (!written) return unexpected(IdentityError{IdentityErrc::write_failed, written.error().text});
  // Another process created the key between our check and our write: use its key.
  if (kept_existing) return load_identity(key_file);
  if (created) *created = true;
  return *pair;
}

}  // namespace taho::node
