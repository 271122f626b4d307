#include "proto/quic/certificate.hpp"

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <array>
#include <memory>
#include <string>
#include <type_traits>

#include "proto/tls/signed_key.hpp"

namespace taho::quic {
namespace {

struct X509CrtDeleter {
  void operator()(std::remove_pointer_t<gnutls_x509_crt_t>* crt) const { gnutls_x509_crt_deinit(crt); }
};
struct X509KeyDeleter {
  void operator()(std::remove_pointer_t<gnutls_x509_privkey_t>* key) const { gnutls_x509_privkey_deinit(key); }
};
struct PubkeyDeleter {
  void operator()(std::remove_pointer_t<gnutls_pubkey_t>* key) const { gnutls_pubkey_deinit(key); }
};
struct DatumFree {
  void operator()(unsigned char* data) const { gnutls_free(data); }
};

Bytes take(gnutls_datum_t datum) {
  std::unique_ptr<unsigned char, DatumFree> owner(datum.data);
  return Bytes(datum.data, datum.data + datum.size);
}

Unexpected<Message> gnutls_failure(const char* what, int code) {
  return fail(std::string("certificate: ") + what + ": " + gnutls_strerror(code));
}

// 1975-01-01 and 4096-01-01, as seconds since 1970.
constexpr time_t valid_from_unix_s = 157766400;
constexpr time_t valid_until_unix_s = 67090118400;

}  // namespace

Result<Certificate> generate_certificate(const crypto::Ed25519KeyPair& host, CertificateKind kind) {
  gnutls_x509_privkey_t raw_key = nullptr;
  if (int rv = gnutls_x509_privkey_init(&raw_key); rv < 0) return gnutls_failure("key init", rv);
  std::unique_ptr<std::remove_pointer_t<gnutls_x509_privkey_t>, X509KeyDeleter> key(raw_key);
  if (int rv = gnutls_x509_privkey_generate(key.get(), GNUTLS_PK_ECDSA,
                                            GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
      rv < 0) {
    return gnutls_failure("key generation", rv);
  }
  gnutls_x509_crt_t raw_crt = nullptr;
  if (int rv = gnutls_x509_crt_init(&raw_crt); rv < 0) return gnutls_failure("crt init", rv);
  std::unique_ptr<std::remove_pointer_t<gnutls_x509_crt_t>, X509CrtDeleter> crt(raw_crt);

  std::array<std::uint8_t, 16> serial{};
  crypto::os_random(serial);
  serial[0] &= 0x7f;  // a positive INTEGER
  serial[0] |= 0x01;  // and no leading zero byte
  if (int rv = gnutls_x509_crt_set_version(crt.get(), 3); rv < 0) return gnutls_failure("version", rv);
  if (int rv = gnutls_x509_crt_set_serial(crt.get(), serial.data(), serial.size()); rv < 0) {
    return gnutls_failure("serial", rv);
  }
  if (int rv = gnutls_x509_crt_set_activation_time(crt.get(), valid_from_unix_s); rv < 0) {
    return gnutls_failure("activation time", rv);
  }
  if (int rv = gnutls_x509_crt_set_expiration_time(crt.get(), valid_until_unix_s); rv < 0) {
    return gnutls_failure("expiration time", rv);
  }
  const char* error_at = nullptr;
  if (int rv = gnutls_x509_crt_set_dn(crt.get(), "CN=libp2p", &error_at); rv < 0) return gnutls_failure("dn", rv);
  if (int rv = gnutls_x509_crt_set_key(crt.get(), key.get()); rv < 0) return gnutls_failure("set key", rv);

  gnutls_pubkey_t raw_pubkey = nullptr;
  if (int rv = gnutls_pubkey_init(&raw_pubkey); rv < 0) return gnutls_failure("pubkey init", rv);
  std::unique_ptr<std::remove_pointer_t<gnutls_pubkey_t>, PubkeyDeleter> pubkey(raw_pubkey);
  if (int rv = gnutls_pubkey_import_x509(pubkey.get(), crt.get(), 0); rv < 0) return gnutls_failure("pubkey", rv);
  gnutls_datum_t spki_datum{};
  if (int rv = gnutls_pubkey_export2(pubkey.get(), GNUTLS_X509_FMT_DER, &spki_datum); rv < 0) {
    return gnutls_failure("spki export", rv);
  }
  Bytes spki = take(spki_datum);

  if (kind != CertificateKind::without_extension) {
    if (kind == CertificateKind::bad_signature) spki.back() ^= 0x01;  // sign a key that is not ours
    const Bytes extension = tls::make_extension(host, spki);
    if (int rv = gnutls_x509_crt_set_extension_by_oid(crt.get(), std::string(tls::extension_oid_text).c_str(),
                                                      extension.data(), extension.size(), 1);
        rv < 0) {
      return gnutls_failure("libp2p extension", rv);
    }
  }
  if (int rv = gnutls_x509_crt_sign2(crt.get(), crt.get(), key.get(), GNUTLS_DIG_SHA256, 0); rv < 0) {
    return gnutls_failure("self-signature", rv);
  }
  gnutls_datum_t der{};
  if (int rv = gnutls_x509_crt_export2(crt.get(), GNUTLS_X509_FMT_DER, &der); rv < 0) {
    return gnutls_failure("crt export", rv);
  }
  gnutls_datum_t pkcs8{};
  if (int rv = gnutls_x509_privkey_export2_pkcs8(key.get(), GNUTLS_X509_FMT_DER, nullptr, GNUTLS_PKCS_PLAIN, &pkcs8);
      rv < 0) {
    return gnutls_failure("key export", rv);
  }
  return Certificate{take(der), take(pkcs8)};
}

}  // namespace taho::quic
