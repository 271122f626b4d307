#include "proto/tls/der.hpp"

#include <string>

namespace taho::tls::der {
namespace {

Unexpected<TlsError> bad(std::string detail) { return unexpected(TlsError{Errc::bad_der, std::move(detail)}); }

}  // namespace

std::optional<std::uint8_t> Reader::peek_tag() const {
  if (rest_.empty()) return std::nullopt;
  return rest_[0];
}

Expected<Element, TlsError> Reader::read() {
  if (rest_.size() < 2) return bad("element truncated before its length");
  const std::uint8_t tag = rest_[0];
  // High tag numbers (0x1f) never occur in what we parse.
  if ((tag & 0x1f) == 0x1f) return bad("multi-byte tag");
  std::size_t header = 2;
  std::size_t length = rest_[1];
  if (length & 0x80) {
    const std::size_t count = length & 0x7f;
    // 0x80 is BER's indefinite length; DER forbids it. Four bytes is plenty.
    if (count == 0 || count > 4) return bad("indefinite or oversized length");
    if (rest_.size() < 2 + count) return bad("length truncated");
    length = 0;
    for (std::size_t i = 0; i < count; ++i) length = (length << 8) | rest_[2 + i];
    // DER: the shortest form, so no leading zero byte and no long form below 128.
    if (rest_[2] == 0 || length < 0x80) return bad("non-minimal length");
    header += count;
  }
  if (length > element_bytes_max) return bad("element over element_bytes_max");
  if (length > rest_.size() - header) return bad("element longer than its input");
  Element element{tag, rest_.subspan(header, length), rest_.first(header + length)};
  rest_ = rest_.subspan(header + length);
  return element;
}

Expected<Element, TlsError> Reader::read(std::uint8_t tag) {
  auto element = read();
  if (!element) return element;
  if (element->tag != tag) {
    return bad("expected tag 0x" + to_hex(ByteView(&tag, 1)) + ", found 0x" + to_hex(ByteView(&element->tag, 1)));
  }
  return element;
}

void write(Bytes& out, std::uint8_t tag, ByteView value) {
  out.push_back(tag);
  const std::size_t length = value.size();
  if (length < 0x80) {
    out.push_back(static_cast<std::uint8_t>(length));
  } else {
    std::uint8_t digits[sizeof(std::size_t)];
    std::size_t count = 0;
    for (std::size_t rest = length; rest != 0; rest >>= 8) digits[count++] = static_cast<std::uint8_t>(rest & 0xff);
    out.push_back(static_cast<std::uint8_t>(0x80 | count));
    while (count > 0) out.push_back(digits[--count]);
  }
  append(out, value);
}

}  // namespace taho::tls::der
