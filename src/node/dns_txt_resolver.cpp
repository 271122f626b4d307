#include "node/dns_txt_resolver.hpp"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <netdb.h>
#include <resolv.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <variant>

#include "proto/mdns/dns_message.hpp"

namespace taho::node {
namespace {

constexpr std::size_t dns_name_chars_max = 253;  // dotted form, RFC 1035 §2.3.4

Unexpected<TxtLookupError> lookup_error(TxtLookupErrc code, std::string detail) {
  return Unexpected<TxtLookupError>{TxtLookupError{code, std::move(detail)}};
}

// Sizes the decoder for what one TCP answer can hold.
mdns::dns::Limits answer_limits(std::size_t bytes_max) {
  mdns::dns::Limits limits;
  limits.message_bytes_max = bytes_max;
  limits.records_max = 1024;
  return limits;
}

Expected<TxtRecords, TxtLookupError> query_txt(const std::string& name, const DnsTxtResolverOptions& options) {
  if (name.empty() || name.size() > dns_name_chars_max || name.find('\0') != std::string::npos) {
    return lookup_error(TxtLookupErrc::bad_name, "\"" + name + "\" is not a DNS name");
  }
  struct __res_state state {};
  if (res_ninit(&state) != 0) {
    return lookup_error(TxtLookupErrc::unreachable, "cannot read the resolver configuration");
  }
  state.retrans = options.try_timeout_seconds;
  state.retry = options.tries;
  // Room for more than 512 bytes over UDP: a zone with many dnsaddr records.
  state.options |= RES_USE_EDNS0;
  if (options.nameserver) {
    sockaddr_in server{};
    server.sin_family = AF_INET;
    server.sin_port = htons(options.nameserver->port);
    if (::inet_pton(AF_INET, options.nameserver->ipv4.c_str(), &server.sin_addr) != 1) {
      res_nclose(&state);
      return lookup_error(TxtLookupErrc::unreachable, "bad nameserver address " + options.nameserver->ipv4);
    }
    state.nsaddr_list[0] = server;
    state.nscount = 1;
  }
  Bytes answer(options.answer_bytes_max);
  const int length = res_nquery(&state, name.c_str(), ns_c_in, ns_t_txt, answer.data(), static_cast<int>(answer.size()));
  const int h_error = state.res_h_errno;
  res_nclose(&state);
  if (length < 0) {
    switch (h_error) {
      case HOST_NOT_FOUND: return lookup_error(TxtLookupErrc::no_such_name, "no such name");
      case NO_DATA: return lookup_error(TxtLookupErrc::no_records, "no TXT records");
      case TRY_AGAIN: return lookup_error(TxtLookupErrc::unreachable, "no answer from DNS (timeout or server failure)");
      default: return lookup_error(TxtLookupErrc::unreachable, "DNS refused the query");
    }
  }
  answer.resize(std::min(static_cast<std::size_t>(length), answer.size()));
  return txt_records_from_answer(answer);
}

}  // namespace

Expected<TxtRecords, TxtLookupError> txt_records_from_answer(ByteView answer) {
  auto message = mdns::dns::decode(answer, answer_limits(std::max<std::size_t>(answer.size(), 512)));
  if (!message) {
    return lookup_error(TxtLookupErrc::bad_answer,
                        "undecodable answer: " + std::string(mdns::dns::to_string(message.error().code)));
  }
  TxtRecords records;
  for (const auto& record : message->answers) {
    const auto* txt = std::get_if<mdns::dns::TxtData>(&record.data);
    if (record.rtype != mdns::dns::type::txt || txt == nullptr) continue;
    std::string joined;
    for (const auto& piece : txt->strings) joined += piece;
    records.push_back(std::move(joined));
  }
  if (records.empty()) return lookup_error(TxtLookupErrc::no_records, "no TXT records");
  return records;
}

struct DnsTxtResolver::Request {
  std::string name;
  Done done;
  std::weak_ptr<bool> alive;  // checked on the loop thread before `done` runs
};

struct DnsTxtResolver::Shared {
  explicit Shared(runtime::asio::EventLoop& event_loop, DnsTxtResolverOptions resolver_options)
      : options(std::move(resolver_options)), loop(&event_loop) {}

  const DnsTxtResolverOptions options;
  std::mutex mutex;
  std::condition_variable wake;
  // Guarded by mutex:
  std::deque<Request> queue;
  runtime::asio::EventLoop* loop;  // null once the resolver is gone: the worker stops
  bool worker_started = false;
};

DnsTxtResolver::DnsTxtResolver(runtime::asio::EventLoop& loop, DnsTxtResolverOptions options)
    : loop_(loop), shared_(std::make_shared<Shared>(loop, std::move(options))), alive_(std::make_shared<bool>(true)) {}

DnsTxtResolver::~DnsTxtResolver() {
  {
    const std::lock_guard lock(shared_->mutex);
    shared_->loop = nullptr;
    shared_->queue.clear();
  }
  shared_->wake.notify_all();
}

void DnsTxtResolver::lookup(std::string name, Done done) {
  bool start_worker = false;
  {
    const std::lock_guard lock(shared_->mutex);
    if (shared_->queue.size() >= shared_->options.queue_max) {
      loop_.post([alive = std::weak_ptr<bool>(alive_), done = std::move(done),
                  max = shared_->options.queue_max]() {
        if (alive.expired()) return;
        done(lookup_error(TxtLookupErrc::queue_full, "over " + std::to_string(max) + " DNS lookups waiting"));
      });
      return;
    }
    shared_->queue.push_back(Request{std::move(name), std::move(done), alive_});
    start_worker = !shared_->worker_started;
    shared_->worker_started = true;
  }
  if (start_worker) {
    // Detached: a lookup stuck in res_nquery must not hold up shutdown. The
    // thread owns a share of the state and touches the loop only under the
    // mutex while the resolver lives.
    std::thread(&DnsTxtResolver::work, shared_).detach();
  } else {
    shared_->wake.notify_one();
  }
}

void DnsTxtResolver::work(std::shared_ptr<Shared> shared) {
  for (;;) {
    Request request;
    {
      std::unique_lock lock(shared->mutex);
      shared->wake.wait(lock, [&] { return shared->loop == nullptr || !shared->queue.empty(); });
      if (shared->loop == nullptr) return;
      request = std::move(shared->queue.front());
      shared->queue.pop_front();
    }
    auto result = query_txt(request.name, shared->options);
    const std::lock_guard lock(shared->mutex);
    if (shared->loop == nullptr) return;
    shared->loop->post(
        [done = std::move(request.done), alive = std::move(request.alive), result = std::move(result)]() mutable {
          if (!alive.expired()) done(std::move(result));
        });
  }
}

}  // namespace taho::node
