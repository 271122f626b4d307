// Fuzzes the /taho/blob/1.0.0 client core with arbitrary server responses,
// and with honest ones the fuzzer damages: it must never crash, every group
// it hands out must be the content's own bytes at that index, and it may
// only finish successfully with exactly the groups the range needs.
#include <algorithm>
#include <cstdlib>

#include "content/tree/range_encoding.hpp"
#include "content/tree/tree_shape.hpp"
#include "proto/blob/client.hpp"

namespace {

using namespace taho;
namespace blob = taho::blob;

void check(bool ok) {
  if (!ok) std::abort();
}

Bytes make_content(std::uint32_t size, std::uint8_t seed) {
  Bytes content(size);
  std::uint32_t state = seed * 2654435761u + 1;
  for (auto& byte : content) {
    state = state * 1103515245u + 12345u;
    byte = static_cast<std::uint8_t>(state >> 24);
  }
  return content;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 6) return 0;
  const std::uint8_t mode = data[0];
  const std::uint32_t content_size = (std::uint32_t{data[1]} << 8 | data[2]) % (5 * content::kGroupBytes + 999);
  const std::uint8_t seed = data[3];
  const content::ByteRange range{(data[4] % 6) * content::kGroupBytes,
                                 (data[5] % 6) * content::kGroupBytes + data[5] / 6};
  const ByteView rest(data + 6, size - 6);
  const Bytes content = make_content(content_size, seed);
  const content::Outboard outboard = content::compute_outboard(content);

  Bytes response;
  if (mode % 2 == 0) {
    response.assign(rest.begin(), rest.end());  // arbitrary bytes as the response
  } else {
    // An honest response, damaged: rest is (position, xor) pairs; mode bit 1 cuts the end.
    append(response, blob::frame(blob::encode_response_header(
                         {blob::Status::have, content.size(), blob::RemoteErrc::unspecified, {}})));
    auto view = content::OutboardView::open(outboard.bytes, content.size());
    check(view.has_value());
    auto encoding = content::encode_range(content, *view, range);
    check(encoding.has_value());
    append(response, *encoding);
    for (std::size_t i = 0; i + 2 < rest.size(); i += 3) {
      const std::size_t position = (std::size_t{rest[i]} << 8 | rest[i + 1]) * 7 % response.size();
      response[position] ^= rest[i + 2];
    }
    if (mode & 2) response.resize(response.size() - (rest.empty() ? 0 : rest[0] % response.size()));
  }

  auto client = mode & 4 ? blob::Client::for_size(outboard.root) : *blob::Client::for_range(outboard.root, range);
  client.consume_output(client.pending_output().size());
  check(client.close_write_due());

  const std::size_t piece = 1 + (seed % 9) * 2500;
  std::uint64_t groups_out = 0;
  bool ok = true;
  ByteView remaining(response);
  while (!remaining.empty() && ok) {
    const ByteView fragment = remaining.first(std::min(piece, remaining.size()));
    remaining = remaining.subspan(fragment.size());
    ok = client.handle_data(fragment).has_value();
    while (auto group = client.poll_group()) {
      ++groups_out;
      check(group->offset == group->index * content::kGroupBytes);
      check(group->index < content::group_count(content.size()));
      check(group->bytes.size() == content::group_length(content.size(), group->index));
      check(std::equal(group->bytes.begin(), group->bytes.end(),
                       content.begin() + static_cast<std::ptrdiff_t>(group->offset)));
    }
  }
  if (ok) ok = client.handle_end().has_value();
  if (ok) {
    check(client.done());
    check(client.size().has_value());
    if (!(mode & 4)) {
      check(*client.size() == content.size());
      const auto groups = content::groups_of(range, content.size());
      check(groups.has_value());
      const std::uint64_t last = content::group_count(content.size()) - 1;
      const std::uint64_t expected = groups->end - groups->first + (groups->end > last ? 0 : 1);
      check(groups_out == expected);
    }
  } else {
    check(client.failure().has_value());
  }
  return 0;
}
