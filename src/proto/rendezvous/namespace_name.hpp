// What a rendezvous namespace may be: 1 to 255 bytes of UTF-8. Points check
// it before storing a registration, because a non-UTF-8 name would make
// every rust-libp2p client that discovers it fail to decode the response.
#pragma once

#include <string_view>

namespace taho::rendezvous {

bool is_valid_utf8(std::string_view text);
bool is_valid_namespace(std::string_view ns);

}  // namespace taho::rendezvous
