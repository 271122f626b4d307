// Why an identify exchange or a signed record was refused. Callers branch on
// the code: a peer_id_mismatch or bad_signature means the remote lies about
// who it is (close the connection), a too_large or malformed message means a
// broken or hostile peer (drop the stream, keep what we already knew).
#pragma once

#include <string_view>

#include "base/error.hpp"

namespace taho::identify {

enum class Errc {
  too_large,             // a message over message_bytes_max (or a field that can never fit in one)
  too_many_messages,     // more than messages_max messages on one stream
  too_many_entries,      // more listen addresses or protocols than the limits allow
  bad_length_prefix,     // the uvarint length prefix is malformed
  truncated,             // the stream ended inside a message, or before any message
  bad_protobuf,          // not well-formed protobuf, or a known field with the wrong wire type
  bad_field,             // a known field whose value is invalid (e.g. a protocol id over its limit)
  bad_public_key,        // publicKey (or an envelope's key) is not a valid libp2p PublicKey
  bad_envelope,          // a signed envelope that is not valid protobuf or lacks a field
  unsupported_key_type,  // a signed envelope under a key type we cannot verify (only Ed25519)
  wrong_payload_type,    // an envelope whose payload type is not the one expected
  bad_signature,         // the envelope's signature does not verify
  bad_record,            // the PeerRecord payload is malformed (missing or bad peer id, ...)
  peer_id_mismatch,      // the key or record belongs to another peer than the connection's
  finished,              // the reader was used after it returned its result or an error
};
using IdentifyError = Error<Errc>;

std::string_view to_string(Errc code);

}  // namespace taho::identify
