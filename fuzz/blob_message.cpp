// Fuzzes the /taho/blob/1.0.0 codec and the server core's request reading:
// never crashes or reads out of bounds; whatever decodes re-encodes to
// itself; a frame read whole and in fragments gives the same result; the
// server either fails the stream or answers with a header that decodes.
#include <cstdlib>

#include "proto/blob/message.hpp"
#include "proto/blob/server.hpp"

namespace {

using taho::ByteView;
using taho::Bytes;
namespace blob = taho::blob;

void check(bool ok) {
  if (!ok) std::abort();
}

// Reads one frame in pieces whose sizes the input steers.
std::optional<Bytes> read_frame(ByteView stream, ByteView sizes, std::size_t& taken_total) {
  blob::FrameReader reader(blob::response_header_bytes_max);
  std::size_t next = 0;
  taken_total = 0;
  while (!stream.empty() && !reader.complete()) {
    const std::size_t size = sizes.empty() ? stream.size() : std::size_t{sizes[next++ % sizes.size()]} + 1;
    const ByteView piece = stream.first(std::min(size, stream.size()));
    auto taken = reader.handle_data(piece);
    if (!taken) return std::nullopt;
    check(*taken <= piece.size());
    taken_total += *taken;
    if (*taken < piece.size()) check(reader.complete());
    stream = stream.subspan(piece.size());
  }
  if (!reader.complete()) return Bytes{};
  return Bytes(reader.body().begin(), reader.body().end());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView input(data, size);

  if (auto request = blob::decode_request(input)) {
    const auto again = blob::decode_request(blob::encode_request(*request));
    check(again && *again == *request);
  }
  if (auto header = blob::decode_response_header(input)) {
    check(header->error.size() <= blob::error_text_bytes_max);
    const auto again = blob::decode_response_header(blob::encode_response_header(*header));
    check(again && *again == *header);
  }

  // Framing, whole and fragmented.
  const std::size_t steering = input.empty() ? 0 : std::min<std::size_t>(input[0] % 8, input.size() - 1);
  const ByteView sizes = input.empty() ? ByteView{} : input.subspan(1, steering);
  const ByteView stream = input.empty() ? ByteView{} : input.subspan(1 + steering);
  std::size_t whole_taken = 0;
  std::size_t fragmented_taken = 0;
  const auto whole = read_frame(stream, {}, whole_taken);
  const auto fragmented = read_frame(stream, sizes, fragmented_taken);
  check(whole.has_value() == fragmented.has_value());
  if (whole) check(*whole == *fragmented && whole_taken == fragmented_taken);

  // The stream as a request to a server that holds 100 KiB of everything.
  blob::Server server;
  bool failed = !server.handle_data(stream);
  if (!failed) failed = !server.handle_end();
  if (failed) return 0;
  std::uint64_t body = 0;
  if (server.poll_request()) {
    auto answer = server.respond_have(100 * 1024);
    if (answer) body = *answer;
  }
  // Answered (or refused): the output starts with a header that decodes.
  check(server.request().has_value() || server.refusal().has_value());
  blob::FrameReader reader(blob::response_header_bytes_max);
  auto taken = reader.handle_data(server.pending_output());
  check(taken && reader.complete() && blob::decode_response_header(reader.body()).has_value());
  server.consume_output(server.pending_output().size());
  // Then exactly the announced body fits through.
  const Bytes filler(4096, 0);
  std::uint64_t pushed = 0;
  while (server.body_bytes_remaining() > 0) {
    const std::size_t piece = static_cast<std::size_t>(std::min<std::uint64_t>(filler.size(), server.body_bytes_remaining()));
    auto pushed_now = server.push_body(ByteView(filler).first(piece));
    check(pushed_now.has_value() && *pushed_now == piece);
    pushed += *pushed_now;
    server.consume_output(server.pending_output().size());
  }
  check(pushed == body);
  check(server.close_write_due());
  return 0;
}
