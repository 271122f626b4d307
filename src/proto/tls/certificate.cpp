#include "proto/tls/certificate.hpp"

#include <algorithm>
#include <string>

#include "proto/tls/der.hpp"
#include "proto/tls/signed_key.hpp"

namespace taho::tls {
namespace {

// Context tags inside TBSCertificate.
constexpr std::uint8_t tag_version = 0xa0;
constexpr std::uint8_t tag_issuer_unique_id = 0x81;
constexpr std::uint8_t tag_subject_unique_id = 0x82;
constexpr std::uint8_t tag_extensions = 0xa3;

Unexpected<TlsError> bad(std::string detail) { return unexpected(TlsError{Errc::bad_certificate, std::move(detail)}); }

// Re-labels a DER failure with where it happened.
Unexpected<TlsError> at(std::string_view where, const TlsError& error) {
  return unexpected(TlsError{error.code, std::string(where) + ": " + error.detail});
}

// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
// days_from_civil).
std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day) {
  year -= month <= 2;
  const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
  const auto year_of_era = static_cast<unsigned>(year - era * 400);
  const unsigned day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + static_cast<std::int64_t>(day_of_era) - 719468;
}

std::optional<unsigned> digits(ByteView text, std::size_t offset, std::size_t count) {
  unsigned value = 0;
  for (std::size_t i = offset; i < offset + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(text[i] - '0');
  }
  return value;
}

Expected<void, TlsError> parse_extensions(ByteView extensions_value, CertificateFields& fields) {
  der::Reader wrapper(extensions_value);
  auto list = wrapper.read(der::tag_sequence);
  if (!list) return at("extensions", list.error());
  if (!wrapper.at_end()) return bad("bytes after the extension list");
  der::Reader reader(list->value);
  std::size_t count = 0;
  while (!reader.at_end()) {
    if (++count > extensions_max) return unexpected(TlsError{Errc::too_long, "more than extensions_max extensions"});
    auto extension = reader.read(der::tag_sequence);
    if (!extension) return at("extension", extension.error());
    der::Reader parts(extension->value);
    auto oid = parts.read(der::tag_oid);
    if (!oid) return at("extension id", oid.error());
    bool critical = false;
    if (parts.peek_tag() == der::tag_boolean) {
      auto flag = parts.read();
      if (!flag) return at("extension critical flag", flag.error());
      // DER encodes TRUE as 0xff only (and omits a FALSE default, but we are
      // lenient there: some encoders write it).
      if (flag->value.size() != 1 || (flag->value[0] != 0x00 && flag->value[0] != 0xff)) {
        return bad("extension critical flag is not a DER boolean");
      }
      critical = flag->value[0] == 0xff;
    }
    auto value = parts.read(der::tag_octet_string);
    if (!value) return at("extension value", value.error());
    if (!parts.at_end()) return bad("bytes after an extension value");
    const bool is_libp2p = std::equal(oid->value.begin(), oid->value.end(), extension_oid_der.begin(),
                                      extension_oid_der.end());
    if (!is_libp2p) continue;  // the spec: ignore extensions we do not know
    if (fields.libp2p_extension) {
      return unexpected(TlsError{Errc::duplicate_extension, "the libp2p extension appears twice"});
    }
    fields.libp2p_extension = value->value;
    fields.libp2p_extension_critical = critical;
  }
  return {};
}

}  // namespace

Expected<std::int64_t, TlsError> parse_time(std::uint8_t tag, ByteView text) {
  std::size_t year_digits = 0;
  if (tag == der::tag_utc_time) {
    year_digits = 2;
  } else if (tag == der::tag_generalized_time) {
    year_digits = 4;
  } else {
    return bad("validity time is neither UTCTime nor GeneralizedTime");
  }
  // RFC 5280: always seconds, always 'Z', never fractions.
  if (text.size() != year_digits + 11 || text.back() != 'Z') return bad("validity time is not YY(YY)MMDDHHMMSSZ");
  const auto year_part = digits(text, 0, year_digits);
  const auto month = digits(text, year_digits, 2);
  const auto day = digits(text, year_digits + 2, 2);
  const auto hour = digits(text, year_digits + 4, 2);
  const auto minute = digits(text, year_digits + 6, 2);
  const auto second = digits(text, year_digits + 8, 2);
  if (!year_part || !month || !day || !hour || !minute || !second) return bad("validity time has non-digits");
  if (*month < 1 || *month > 12 || *day < 1 || *day > 31 || *hour > 23 || *minute > 59 || *second > 60) {
    return bad("validity time out of range");
  }
  std::int64_t year = *year_part;
  if (year_digits == 2) year += year < 50 ? 2000 : 1900;  // RFC 5280 4.1.2.5.1
  return days_from_civil(year, *month, *day) * 86400 + std::int64_t{*hour} * 3600 + std::int64_t{*minute} * 60 +
         std::int64_t{*second};
}

Expected<CertificateFields, TlsError> parse_certificate(ByteView der) {
  if (der.size() > certificate_bytes_max) {
    return unexpected(TlsError{Errc::too_long, "certificate over certificate_bytes_max"});
  }
  CertificateFields fields;
  der::Reader outer(der);
  auto certificate = outer.read(der::tag_sequence);
  if (!certificate) return at("certificate", certificate.error());
  if (!outer.at_end()) return bad("bytes after the certificate");

  der::Reader top(certificate->value);
  auto tbs = top.read(der::tag_sequence);
  if (!tbs) return at("tbsCertificate", tbs.error());
  auto algorithm = top.read(der::tag_sequence);
  if (!algorithm) return at("signatureAlgorithm", algorithm.error());
  auto signature = top.read(der::tag_bit_string);
  if (!signature) return at("signatureValue", signature.error());
  if (!top.at_end()) return bad("bytes after signatureValue");
  if (signature->value.empty() || signature->value[0] != 0) return bad("signatureValue is not whole bytes");
  fields.tbs_certificate = tbs->encoded;
  fields.signature_algorithm = algorithm->encoded;
  fields.signature = signature->value.subspan(1);

  der::Reader body(tbs->value);
  if (body.peek_tag() == tag_version) {
    auto version = body.read();
    if (!version) return at("version", version.error());
  }
  for (const char* name : {"serialNumber", "signature", "issuer", "validity", "subject", "subjectPublicKeyInfo"}) {
    const std::string_view field = name;
    const std::uint8_t tag = field == "serialNumber" ? der::tag_integer : der::tag_sequence;
    auto element = body.read(tag);
    if (!element) return at(field, element.error());
    if (field == "validity") {
      der::Reader times(element->value);
      auto not_before = times.read();
      if (!not_before) return at("notBefore", not_before.error());
      auto not_after = times.read();
      if (!not_after) return at("notAfter", not_after.error());
      if (!times.at_end()) return bad("bytes after notAfter");
      auto before = parse_time(not_before->tag, not_before->value);
      if (!before) return at("notBefore", before.error());
      auto after = parse_time(not_after->tag, not_after->value);
      if (!after) return at("notAfter", after.error());
      fields.not_before_unix_s = *before;
      fields.not_after_unix_s = *after;
    } else if (field == "subjectPublicKeyInfo") {
      fields.subject_public_key_info = element->encoded;
    }
  }
  while (!body.at_end()) {
    auto element = body.read();
    if (!element) return at("tbsCertificate", element.error());
    if (element->tag == tag_issuer_unique_id || element->tag == tag_subject_unique_id) {
      fields.has_unique_ids = true;
    } else if (element->tag == tag_extensions) {
      if (auto parsed = parse_extensions(element->value, fields); !parsed) return unexpected(parsed.error());
      if (!body.at_end()) return bad("fields after the extensions");
    } else {
      return bad("unexpected field in tbsCertificate");
    }
  }
  return fields;
}

}  // namespace taho::tls
