#include "proto/mdns/dns_message.hpp"

#include <algorithm>
#include <limits>
#include <optional>

namespace taho::mdns::dns {
namespace {

constexpr std::size_t kHeaderBytes = 12;
constexpr std::size_t kQuestionFixedBytes = 4;  // type, class
constexpr std::size_t kRecordFixedBytes = 10;   // type, class, ttl, rdlength
constexpr std::size_t kSrvFixedBytes = 6;       // priority, weight, port
constexpr std::uint8_t kPointerBits = 0xC0;
constexpr std::size_t kU16Max = std::numeric_limits<std::uint16_t>::max();

Unexpected<DnsError> error(Errc code, std::string detail) { return unexpected(DnsError{code, std::move(detail)}); }

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool labels_equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

// Reads big-endian fields and names from one received message.
class Reader {
 public:
  explicit Reader(ByteView message) : message_(message) {}

  std::size_t position() const { return position_; }
  void seek(std::size_t position) { position_ = position; }

  Expected<std::uint16_t, DnsError> u16(const char* what) {
    if (message_.size() - position_ < 2) return error(Errc::truncated, std::string("message ends inside ") + what);
    const auto value = static_cast<std::uint16_t>((message_[position_] << 8) | message_[position_ + 1]);
    position_ += 2;
    return value;
  }

  Expected<std::uint32_t, DnsError> u32(const char* what) {
    auto high = u16(what);
    if (!high) return unexpected(std::move(high).error());
    auto low = u16(what);
    if (!low) return unexpected(std::move(low).error());
    return (static_cast<std::uint32_t>(*high) << 16) | *low;
  }

  // A name at the current position; the position moves past its in-place
  // part (up to and including the first pointer).
  Expected<Name, DnsError> name() {
    Name out;
    std::size_t wire_bytes = 1;  // the final zero
    std::size_t cursor = position_;
    std::size_t segment_start = position_;
    std::optional<std::size_t> end_in_place;
    while (true) {
      if (cursor >= message_.size()) return error(Errc::truncated, "message ends inside a name");
      const std::uint8_t length = message_[cursor];
      if ((length & kPointerBits) == kPointerBits) {
        if (cursor + 1 >= message_.size()) return error(Errc::truncated, "message ends inside a compression pointer");
        const std::size_t target = (static_cast<std::size_t>(length & ~kPointerBits) << 8) | message_[cursor + 1];
        if (!end_in_place) end_in_place = cursor + 2;
        // Each jump lands before the previous segment began, so jumps
        // strictly decrease and a name cannot loop.
        if (target >= segment_start) {
          return error(Errc::bad_pointer, "compression pointer to offset " + std::to_string(target) +
                                              " does not point before offset " + std::to_string(segment_start));
        }
        cursor = target;
        segment_start = target;
        continue;
      }
      if ((length & kPointerBits) != 0) {
        return error(Errc::bad_label, "reserved label type at offset " + std::to_string(cursor));
      }
      if (length == 0) {
        if (!end_in_place) end_in_place = cursor + 1;
        break;
      }
      if (message_.size() - cursor - 1 < length) return error(Errc::truncated, "message ends inside a label");
      wire_bytes += 1 + length;
      if (wire_bytes > name_wire_bytes_max) {
        return error(Errc::name_too_long, "name longer than " + std::to_string(name_wire_bytes_max) + " bytes");
      }
      out.labels.emplace_back(as_text(message_.subspan(cursor + 1, length)));
      cursor += 1 + length;
    }
    position_ = *end_in_place;
    return out;
  }

  ByteView bytes(std::size_t offset, std::size_t count) const { return message_.subspan(offset, count); }
  std::size_t remaining() const { return message_.size() - position_; }

 private:
  ByteView message_;
  std::size_t position_ = 0;
};

Expected<RecordData, DnsError> parse_rdata(Reader& reader, std::uint16_t rtype, std::size_t start,
                                           std::size_t length) {
  const std::size_t end = start + length;
  const ByteView rdata = reader.bytes(start, length);
  auto name_ending_at_end = [&](const char* what) -> Expected<Name, DnsError> {
    auto target = reader.name();
    if (!target) return unexpected(std::move(target).error());
    if (reader.position() != end) return error(Errc::bad_rdata, std::string(what) + " name does not fill its record data");
    return target;
  };
  switch (rtype) {
    case type::a: {
      if (length != 4) return error(Errc::bad_rdata, "A record data of " + std::to_string(length) + " bytes");
      AData out;
      std::copy(rdata.begin(), rdata.end(), out.address.begin());
      return RecordData{out};
    }
    case type::aaaa: {
      if (length != 16) return error(Errc::bad_rdata, "AAAA record data of " + std::to_string(length) + " bytes");
      AaaaData out;
      std::copy(rdata.begin(), rdata.end(), out.address.begin());
      return RecordData{out};
    }
    case type::ptr: {
      reader.seek(start);
      auto target = name_ending_at_end("PTR");
      if (!target) return unexpected(std::move(target).error());
      return RecordData{PtrData{std::move(*target)}};
    }
    case type::srv: {
      if (length < kSrvFixedBytes) return error(Errc::bad_rdata, "SRV record data too short");
      reader.seek(start);
      SrvData out;
      out.priority = *reader.u16("SRV");
      out.weight = *reader.u16("SRV");
      out.port = *reader.u16("SRV");
      auto target = name_ending_at_end("SRV");
      if (!target) return unexpected(std::move(target).error());
      out.target = std::move(*target);
      return RecordData{std::move(out)};
    }
    case type::txt: {
      TxtData out;
      std::size_t offset = 0;
      while (offset < length) {
        const std::size_t string_length = rdata[offset];
        if (length - offset - 1 < string_length) return error(Errc::bad_rdata, "TXT string runs past its record");
        out.strings.emplace_back(as_text(rdata.subspan(offset + 1, string_length)));
        offset += 1 + string_length;
      }
      return RecordData{std::move(out)};
    }
    default:
      return RecordData{OpaqueData{Bytes(rdata.begin(), rdata.end())}};
  }
}

// The rdata size once written uncompressed by encode().
std::size_t expanded_rdata_bytes(const RecordData& data) {
  if (const auto* ptr = std::get_if<PtrData>(&data)) return ptr->target.wire_bytes();
  if (const auto* srv = std::get_if<SrvData>(&data)) return kSrvFixedBytes + srv->target.wire_bytes();
  if (const auto* txt = std::get_if<TxtData>(&data)) {
    std::size_t total = 0;
    for (const auto& string : txt->strings) total += 1 + string.size();
    return total;
  }
  if (std::holds_alternative<AData>(data)) return 4;
  if (std::holds_alternative<AaaaData>(data)) return 16;
  return std::get<OpaqueData>(data).bytes.size();
}

Expected<Record, DnsError> parse_record(Reader& reader) {
  Record record;
  auto name = reader.name();
  if (!name) return unexpected(std::move(name).error());
  record.name = std::move(*name);
  auto rtype = reader.u16("record type");
  if (!rtype) return unexpected(std::move(rtype).error());
  auto rclass = reader.u16("record class");
  if (!rclass) return unexpected(std::move(rclass).error());
  auto ttl = reader.u32("record TTL");
  if (!ttl) return unexpected(std::move(ttl).error());
  auto length = reader.u16("record data length");
  if (!length) return unexpected(std::move(length).error());
  record.rtype = *rtype;
  record.rclass = *rclass;
  record.ttl = *ttl;
  const std::size_t start = reader.position();
  if (reader.remaining() < *length) return error(Errc::truncated, "message ends inside record data");
  auto data = parse_rdata(reader, record.rtype, start, *length);
  if (!data) return unexpected(std::move(data).error());
  record.data = std::move(*data);
  reader.seek(start + *length);
  return record;
}

// ---- encoding ----

class Writer {
 public:
  void u8(std::uint8_t value) { out_.push_back(value); }
  void u16(std::uint16_t value) {
    out_.push_back(static_cast<std::uint8_t>(value >> 8));
    out_.push_back(static_cast<std::uint8_t>(value));
  }
  void u32(std::uint32_t value) {
    u16(static_cast<std::uint16_t>(value >> 16));
    u16(static_cast<std::uint16_t>(value));
  }
  void text(std::string_view bytes) { append(out_, as_bytes(bytes)); }
  void bytes(ByteView more) { append(out_, more); }
  std::size_t size() const { return out_.size(); }
  void patch_u16(std::size_t offset, std::uint16_t value) {
    out_[offset] = static_cast<std::uint8_t>(value >> 8);
    out_[offset + 1] = static_cast<std::uint8_t>(value);
  }
  Bytes take() { return std::move(out_); }

 private:
  Bytes out_;
};

Expected<void, DnsError> check_name(const Name& name) {
  for (const auto& label : name.labels) {
    if (label.empty() || label.size() > label_bytes_max) {
      return error(Errc::bad_label, "label of " + std::to_string(label.size()) + " bytes in \"" + name.to_string() + "\"");
    }
  }
  if (name.wire_bytes() > name_wire_bytes_max) return error(Errc::name_too_long, "\"" + name.to_string() + "\"");
  return {};
}

Expected<void, DnsError> write_name(Writer& writer, const Name& name) {
  if (auto checked = check_name(name); !checked) return checked;
  for (const auto& label : name.labels) {
    writer.u8(static_cast<std::uint8_t>(label.size()));
    writer.text(label);
  }
  writer.u8(0);
  return {};
}

bool type_matches(std::uint16_t rtype, const RecordData& data) {
  switch (data.index()) {
    case 0: return rtype == type::a;
    case 1: return rtype == type::aaaa;
    case 2: return rtype == type::ptr;
    case 3: return rtype == type::txt;
    case 4: return rtype == type::srv;
    default:
      return rtype != type::a && rtype != type::aaaa && rtype != type::ptr && rtype != type::txt &&
             rtype != type::srv;
  }
}

Expected<void, DnsError> write_rdata(Writer& writer, const RecordData& data) {
  if (const auto* a = std::get_if<AData>(&data)) {
    writer.bytes(a->address);
  } else if (const auto* aaaa = std::get_if<AaaaData>(&data)) {
    writer.bytes(aaaa->address);
  } else if (const auto* ptr = std::get_if<PtrData>(&data)) {
    return write_name(writer, ptr->target);
  } else if (const auto* srv = std::get_if<SrvData>(&data)) {
    writer.u16(srv->priority);
    writer.u16(srv->weight);
    writer.u16(srv->port);
    return write_name(writer, srv->target);
  } else if (const auto* txt = std::get_if<TxtData>(&data)) {
    for (const auto& string : txt->strings) {
      if (string.size() > txt_string_bytes_max) {
        return error(Errc::bad_field, "TXT string of " + std::to_string(string.size()) + " bytes");
      }
      writer.u8(static_cast<std::uint8_t>(string.size()));
      writer.text(string);
    }
  } else {
    writer.bytes(std::get<OpaqueData>(data).bytes);
  }
  return {};
}

Expected<void, DnsError> write_record(Writer& writer, const Record& record) {
  if (!type_matches(record.rtype, record.data)) {
    return error(Errc::bad_field, "record type " + std::to_string(record.rtype) + " does not match its data");
  }
  if (auto written = write_name(writer, record.name); !written) return written;
  writer.u16(record.rtype);
  writer.u16(record.rclass);
  writer.u32(record.ttl);
  const std::size_t length_at = writer.size();
  writer.u16(0);
  if (auto written = write_rdata(writer, record.data); !written) return written;
  const std::size_t length = writer.size() - length_at - 2;
  if (length > kU16Max) return error(Errc::bad_field, "record data of " + std::to_string(length) + " bytes");
  writer.patch_u16(length_at, static_cast<std::uint16_t>(length));
  return {};
}

}  // namespace

std::string_view to_string(Errc code) {
  switch (code) {
    case Errc::too_large: return "too_large";
    case Errc::too_many_records: return "too_many_records";
    case Errc::truncated: return "truncated";
    case Errc::bad_label: return "bad_label";
    case Errc::name_too_long: return "name_too_long";
    case Errc::bad_pointer: return "bad_pointer";
    case Errc::bad_rdata: return "bad_rdata";
    case Errc::bad_field: return "bad_field";
  }
  return "unknown";
}

Expected<Name, DnsError> Name::parse(std::string_view dotted) {
  Name out;
  if (!dotted.empty() && dotted.back() == '.') dotted.remove_suffix(1);
  while (!dotted.empty()) {
    const auto dot = dotted.find('.');
    const auto label = dotted.substr(0, dot);
    if (label.empty() || label.size() > label_bytes_max) {
      return error(Errc::bad_label, "label of " + std::to_string(label.size()) + " bytes");
    }
    out.labels.emplace_back(label);
    if (dot == std::string_view::npos) break;
    dotted.remove_prefix(dot + 1);
    if (dotted.empty()) return error(Errc::bad_label, "empty label");
  }
  if (out.wire_bytes() > name_wire_bytes_max) return error(Errc::name_too_long, "name too long");
  return out;
}

std::string Name::to_string() const {
  std::string out;
  for (const auto& label : labels) {
    if (!out.empty()) out += '.';
    out += label;
  }
  return out;
}

bool Name::equals(const Name& other) const {
  return labels.size() == other.labels.size() &&
         std::equal(labels.begin(), labels.end(), other.labels.begin(), labels_equal);
}

std::size_t Name::wire_bytes() const {
  std::size_t total = 1;
  for (const auto& label : labels) total += 1 + label.size();
  return total;
}

Expected<Message, DnsError> decode(ByteView datagram, const Limits& limits) {
  if (datagram.size() > limits.message_bytes_max) {
    return error(Errc::too_large, std::to_string(datagram.size()) + " bytes, limit " +
                                      std::to_string(limits.message_bytes_max));
  }
  if (datagram.size() < kHeaderBytes) return error(Errc::truncated, "shorter than a DNS header");
  Reader reader(datagram);
  Message message;
  message.header.id = *reader.u16("header");
  message.header.flags = *reader.u16("header");
  const std::size_t question_count = *reader.u16("header");
  const std::array<std::size_t, 3> record_counts = {*reader.u16("header"), *reader.u16("header"),
                                                    *reader.u16("header")};
  const std::size_t total = question_count + record_counts[0] + record_counts[1] + record_counts[2];
  if (total > limits.records_max) {
    return error(Errc::too_many_records, std::to_string(total) + " entries, limit " + std::to_string(limits.records_max));
  }

  // What encode() would write for this message, checked as we go.
  std::size_t expanded_bytes = kHeaderBytes;
  auto grow = [&](std::size_t bytes) -> Expected<void, DnsError> {
    expanded_bytes += bytes;
    if (expanded_bytes > limits.message_bytes_max) {
      return error(Errc::too_large, "names expand past " + std::to_string(limits.message_bytes_max) + " bytes");
    }
    return {};
  };

  for (std::size_t i = 0; i < question_count; ++i) {
    Question question;
    auto name = reader.name();
    if (!name) return unexpected(std::move(name).error());
    question.name = std::move(*name);
    auto qtype = reader.u16("question");
    if (!qtype) return unexpected(std::move(qtype).error());
    auto qclass = reader.u16("question");
    if (!qclass) return unexpected(std::move(qclass).error());
    question.qtype = *qtype;
    question.qclass = *qclass;
    if (auto grown = grow(question.name.wire_bytes() + kQuestionFixedBytes); !grown) {
      return unexpected(std::move(grown).error());
    }
    message.questions.push_back(std::move(question));
  }

  std::array<std::vector<Record>*, 3> sections = {&message.answers, &message.authorities, &message.additionals};
  for (std::size_t s = 0; s < sections.size(); ++s) {
    for (std::size_t i = 0; i < record_counts[s]; ++i) {
      auto record = parse_record(reader);
      if (!record) return unexpected(std::move(record).error());
      if (auto grown = grow(record->name.wire_bytes() + kRecordFixedBytes + expanded_rdata_bytes(record->data));
          !grown) {
        return unexpected(std::move(grown).error());
      }
      sections[s]->push_back(std::move(*record));
    }
  }
  return message;
}

Expected<Bytes, DnsError> encode(const Message& message) {
  const std::array<std::size_t, 4> counts = {message.questions.size(), message.answers.size(),
                                             message.authorities.size(), message.additionals.size()};
  for (const auto count : counts) {
    if (count > kU16Max) return error(Errc::bad_field, "more than 65535 entries in a section");
  }
  Writer writer;
  writer.u16(message.header.id);
  writer.u16(message.header.flags);
  for (const auto count : counts) writer.u16(static_cast<std::uint16_t>(count));
  for (const auto& question : message.questions) {
    if (auto written = write_name(writer, question.name); !written) return unexpected(std::move(written).error());
    writer.u16(question.qtype);
    writer.u16(question.qclass);
  }
  for (const auto* section : {&message.answers, &message.authorities, &message.additionals}) {
    for (const auto& record : *section) {
      if (auto written = write_record(writer, record); !written) return unexpected(std::move(written).error());
    }
  }
  return writer.take();
}

}  // namespace taho::mdns::dns
