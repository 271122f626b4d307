// Fuzzes pb::Reader: never crashes or reads outside the message, and every
// field it returns survives re-encoding with pb::Writer.
#include <cstdlib>
#include <vector>

#include "base/protobuf.hpp"

namespace {

std::vector<taho::pb::Field> read_fields(taho::ByteView message, bool& ok) {
  std::vector<taho::pb::Field> fields;
  taho::pb::Reader reader(message);
  ok = true;
  while (!reader.done()) {
    auto field = reader.next();
    if (!field) {
      ok = false;
      break;
    }
    fields.push_back(*field);
  }
  return fields;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using taho::pb::WireType;
  const taho::ByteView message(data, size);
  bool ok = false;
  const auto fields = read_fields(message, ok);

  taho::pb::Writer writer;
  for (const auto& field : fields) {
    if (field.number == 0 || field.number > (1u << 29) - 1) std::abort();
    switch (field.type) {
      case WireType::varint: writer.varint(field.number, field.integer); break;
      case WireType::fixed64: writer.fixed64(field.number, field.integer); break;
      case WireType::fixed32:
        if (field.integer > 0xffffffffu) std::abort();
        writer.fixed32(field.number, static_cast<std::uint32_t>(field.integer));
        break;
      case WireType::length_delimited:
        if (field.bytes.data() < data || field.bytes.data() + field.bytes.size() > data + size) std::abort();
        writer.bytes(field.number, field.bytes);
        break;
    }
  }
  // The canonical re-encoding reads back as the same fields.
  bool reread_ok = false;
  const auto again = read_fields(writer.data(), reread_ok);
  if (!reread_ok || again.size() != fields.size()) std::abort();
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const auto& a = fields[i];
    const auto& b = again[i];
    if (a.number != b.number || a.type != b.type || a.integer != b.integer) std::abort();
    if (!std::equal(a.bytes.begin(), a.bytes.end(), b.bytes.begin(), b.bytes.end())) std::abort();
  }
  // A message that read cleanly and was already canonical re-encodes identically.
  if (ok && writer.data().size() > size) std::abort();
  return 0;
}
