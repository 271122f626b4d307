// TXT lookups through the system's stub resolver (glibc res_nquery: it reads
// /etc/resolv.conf, retries, falls back to TCP on truncated answers). The
// call blocks, so it runs on a worker thread of its own and the answer is
// posted back to the event loop: the network thread never waits on DNS
// (STYLE.md principle 10). Answers are decoded by our bounded DNS codec
// (proto/mdns/dns_message), not by libresolv's ns_parserr.
//
// Threading: construct, call and destroy on the loop's thread; `done` runs
// there, never inside lookup(), and not after the resolver is destroyed. A
// `done` dropped at destruction may be destroyed on the worker thread, so
// it should capture nothing that minds which thread lets it go.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.hpp"
#include "base/error.hpp"
#include "runtime/asio/event_loop.hpp"

namespace taho::node {

enum class TxtLookupErrc {
  no_such_name,  // NXDOMAIN
  no_records,    // the name exists but holds no TXT record
  unreachable,   // no answer in time, server failure or refusal, no resolver configuration
  bad_answer,    // an answer our DNS codec refuses
  bad_name,      // not a name DNS can carry (empty, too long, NUL inside)
  queue_full,    // over DnsTxtResolverOptions::queue_max lookups waiting
};
using TxtLookupError = Error<TxtLookupErrc>;
using TxtRecords = std::vector<std::string>;  // one string per record, its character strings joined

struct DnsNameserver {
  std::string ipv4;        // "127.0.0.1"
  std::uint16_t port = 53;
};

struct DnsTxtResolverOptions {
  // Ask this server instead of the ones in /etc/resolv.conf (tests point it
  // at a fake server on loopback).
  std::optional<DnsNameserver> nameserver;
  // Per try and tries per server: a lookup gives up after about their
  // product, whatever resolv.conf says.
  int try_timeout_seconds = 2;
  int tries = 2;
  std::size_t queue_max = 64;
  std::size_t answer_bytes_max = 65535;  // the largest DNS message over TCP
};

// The TXT records in the answer section of a DNS response (the question's
// name or the aliases a CNAME chain led to; the server answered for it).
Expected<TxtRecords, TxtLookupError> txt_records_from_answer(ByteView answer);

class DnsTxtResolver {
 public:
  using Done = std::function<void(Expected<TxtRecords, TxtLookupError>)>;

  DnsTxtResolver(runtime::asio::EventLoop& loop, DnsTxtResolverOptions options = {});
  // Does not wait for a lookup in progress: the worker is left to finish it
  // (bounded by the timeouts) and drops the answer.
  ~DnsTxtResolver();
  DnsTxtResolver(const DnsTxtResolver&) = delete;
  DnsTxtResolver& operator=(const DnsTxtResolver&) = delete;

  // Queues a TXT lookup of `name` ("_dnsaddr.example.org"); lookups run one
  // at a time in the order asked.
  void lookup(std::string name, Done done);

 private:
  struct Shared;
  struct Request;
  static void work(std::shared_ptr<Shared> shared);

  runtime::asio::EventLoop& loop_;
  std::shared_ptr<Shared> shared_;
  std::shared_ptr<bool> alive_;  // expires with the resolver: late answers are dropped
};

}  // namespace taho::node
