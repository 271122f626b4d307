// The node's long-lived Ed25519 identity, stored in TAHO_HOME/identity.key as
// the libp2p PrivateKey protobuf (the format go/rust/js-libp2p tools use), so
// the file can be moved between implementations.
#pragma once

#include <filesystem>

#include "base/error.hpp"
#include "crypto/ed25519.hpp"

namespace taho::node {

enum class IdentityErrc {
  missing,          // no key file (only from load_identity)
  unsafe_mode,      // readable or writable by group or others
  unreadable,       // I/O error
  corrupt,          // not a libp2p Ed25519 private key
  write_failed,     // could not create the file
};
using IdentityError = Error<IdentityErrc>;

// Loads the key; refuses a key file that group or others can access.
Expected<crypto::Ed25519KeyPair, IdentityError> load_identity(const std::filesystem::path& key_file);

// Loads the key, or creates a fresh one (mode 0600, written crash-safely) when
// the file does not exist. `created` reports which happened.
Expected<crypto::Ed25519KeyPair, IdentityError> load_or_create_identity(
    const std::filesystem::path& key_file, bool* created = nullptr);

// The libp2p PrivateKey protobuf bytes for a key pair, and back.
Bytes encode_private_key(const crypto::Ed25519KeyPair& pair);
Expected<crypto::Ed25519KeyPair, IdentityError> decode_private_key(ByteView encoded);

}  // namespace taho::node
