// Fuzzes the libp2p TLS certificate path: the bounded X.509 walker, the
// SignedKey codec and the whole verification, on arbitrary bytes taken both
// as a certificate and as an extension value. Never crashes or reads out of
// bounds; a SignedKey that decodes re-encodes to the same bytes (DER is
// canonical); views stay inside the input.
#include <cstdlib>

#include "crypto/crypto_suite.hpp"
#include "proto/tls/certificate.hpp"
#include "proto/tls/signed_key.hpp"
#include "proto/tls/verify.hpp"

namespace {

using taho::ByteView;
namespace tls = taho::tls;

bool inside(ByteView part, ByteView whole) {
  return part.empty() || (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView input(data, size);
  static taho::crypto::OpenSslCryptoSuite suite;

  if (const auto fields = tls::parse_certificate(input)) {
    if (!inside(fields->tbs_certificate, input) || !inside(fields->subject_public_key_info, input) ||
        !inside(fields->signature, input) || !inside(fields->signature_algorithm, input)) {
      std::abort();
    }
    if (fields->libp2p_extension && !inside(*fields->libp2p_extension, input)) std::abort();
  }
  (void)tls::verify_certificate(input, 1'800'000'000, std::nullopt, suite);

  if (const auto key = tls::SignedKey::decode(input)) {
    const auto again = key->encode();
    if (again.size() != input.size() || !std::equal(again.begin(), again.end(), input.begin())) std::abort();
  }
  (void)tls::verify_extension(input, input, suite);
  return 0;
}
