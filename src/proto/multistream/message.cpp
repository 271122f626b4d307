#include "proto/multistream/message.hpp"

#include "base/varint.hpp"

namespace taho::multistream {

std::string_view to_string(Errc code) {
  switch (code) {
    case Errc::bad_varint: return "bad_varint";
    case Errc::message_too_long: return "message_too_long";
    case Errc::missing_newline: return "missing_newline";
    case Errc::bad_utf8: return "bad_utf8";
    case Errc::bad_header: return "bad_header";
    case Errc::unexpected_message: return "unexpected_message";
    case Errc::no_protocol_agreed: return "no_protocol_agreed";
    case Errc::too_many_proposals: return "too_many_proposals";
    case Errc::invalid_argument: return "invalid_argument";
    case Errc::finished: return "finished";
  }
  return "unknown";
}

void append_message(std::string_view text, Bytes& out) {
  varint::encode(text.size() + 1, out);
  append(out, as_bytes(text));
  out.push_back('\n');
}

void append_protocol_list(std::span<const std::string> protocols, std::size_t message_bytes_max,
                          Bytes& out) {
  Bytes body;
  for (const auto& protocol : protocols) {
    const std::size_t line = varint::encoded_length(protocol.size() + 1) + protocol.size() + 1;
    // +1 for the list's own final newline.
    if (body.size() + line + 1 > message_bytes_max) continue;
    varint::encode(protocol.size() + 1, body);
    append(body, as_bytes(protocol));
    body.push_back('\n');
  }
  body.push_back('\n');
  varint::encode(body.size(), out);
  append(out, body);
}

Expected<std::vector<std::string>, NegotiationError> parse_protocol_list(std::string_view text,
                                                                         std::size_t protocols_max) {
  std::vector<std::string> protocols;
  ByteView rest = as_bytes(text);
  while (!rest.empty()) {
    if (protocols.size() == protocols_max) {
      return unexpected(NegotiationError{Errc::too_many_proposals, "ls answer lists too many protocols"});
    }
    const auto length = varint::decode(rest);
    if (!length) return unexpected(NegotiationError{Errc::bad_varint, "ls answer: " + length.error().detail});
    rest = rest.subspan(length->length);
    if (length->value == 0 || length->value > rest.size()) {
      return unexpected(NegotiationError{Errc::missing_newline, "ls answer: line overruns the message"});
    }
    const std::string_view line = as_text(rest.first(length->value));
    if (line.back() != '\n') {
      return unexpected(NegotiationError{Errc::missing_newline, "ls answer: line lacks its newline"});
    }
    protocols.emplace_back(line.substr(0, line.size() - 1));
    rest = rest.subspan(length->value);
  }
  return protocols;
}

bool is_valid_utf8(std::string_view text) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t size = text.size();
  std::size_t i = 0;
  while (i < size) {
    const unsigned char lead = bytes[i];
    std::size_t continuation = 0;
    std::uint32_t code_point = 0;
    if (lead < 0x80) {
      ++i;
      continue;
    } else if ((lead & 0xe0) == 0xc0) {
      continuation = 1;
      code_point = lead & 0x1f;
    } else if ((lead & 0xf0) == 0xe0) {
      continuation = 2;
      code_point = lead & 0x0f;
    } else if ((lead & 0xf8) == 0xf0) {
      continuation = 3;
      code_point = lead & 0x07;
    } else {
      return false;
    }
    if (i + continuation >= size) return false;  // truncated sequence
    for (std::size_t k = 1; k <= continuation; ++k) {
      const unsigned char next = bytes[i + k];
      if ((next & 0xc0) != 0x80) return false;
      code_point = (code_point << 6) | (next & 0x3f);
    }
    // Reject overlong forms, surrogates and values beyond Unicode.
    static constexpr std::uint32_t kSmallest[] = {0, 0x80, 0x800, 0x10000};
    if (code_point < kSmallest[continuation]) return false;
    if (code_point >= 0xd800 && code_point <= 0xdfff) return false;
    if (code_point > 0x10ffff) return false;
    i += continuation + 1;
  }
  return true;
}

bool is_valid_protocol_name(std::string_view name, std::size_t message_bytes_max) {
  return !name.empty() && name.find('\n') == std::string_view::npos && is_valid_utf8(name) &&
         name.size() + 1 <= message_bytes_max;
}

Expected<std::optional<std::string_view>, NegotiationError> MessageReader::next(ByteView& input) {
  // The prefix arrives byte by byte at worst; it is at most a few bytes long.
  while (!length_ && !input.empty()) {
    prefix_.push_back(input.front());
    input = input.subspan(1);
    const auto decoded = varint::decode(prefix_);
    if (decoded) {
      if (decoded->value > message_bytes_max_) {
        return unexpected(NegotiationError{
            Errc::message_too_long, "message of " + std::to_string(decoded->value) + " bytes, limit " +
                                        std::to_string(message_bytes_max_)});
      }
      if (decoded->value == 0) {
        return unexpected(NegotiationError{Errc::missing_newline, "empty message"});
      }
      length_ = static_cast<std::size_t>(decoded->value);
      prefix_.clear();
      body_.clear();
      body_.reserve(*length_);
    } else if (decoded.error().code != varint::Errc::truncated) {
      return unexpected(NegotiationError{Errc::bad_varint, decoded.error().detail});
    } else if (prefix_.size() >= varint::encoded_length(message_bytes_max_)) {
      // A continuation bit on the last byte any allowed length needs: too long.
      return unexpected(NegotiationError{Errc::message_too_long, "length prefix exceeds the message limit"});
    }
  }
  if (!length_) return std::optional<std::string_view>{};

  const std::size_t wanted = *length_ - body_.size();
  const std::size_t taken = std::min(wanted, input.size());
  body_.append(as_text(input.first(taken)));
  input = input.subspan(taken);
  if (body_.size() < *length_) return std::optional<std::string_view>{};

  length_.reset();
  if (body_.back() != '\n') {
    return unexpected(NegotiationError{Errc::missing_newline, "message does not end in a newline"});
  }
  const std::string_view text = std::string_view(body_).substr(0, body_.size() - 1);
  if (!is_valid_utf8(text)) return unexpected(NegotiationError{Errc::bad_utf8, "message is not UTF-8"});
  return std::optional<std::string_view>{text};
}

}  // namespace taho::multistream
