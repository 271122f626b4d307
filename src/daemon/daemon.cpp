#include "daemon/daemon.hpp"

#include <spdlog/spdlog.h>
#include <malloc.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>

#include "api/api.hpp"
#include "api/content_routes.hpp"
#include "api/event_routes.hpp"
#include "api/mesh_routes.hpp"
#include "api/network_content_fetcher.hpp"
#include "crypto/os_rng.hpp"
#include "node/api_token.hpp"
#include "node/bootstrap_list.hpp"
#include "node/holder_index_file.hpp"
#include "node/home_lock.hpp"
#include "node/identity.hpp"
#include "node/lan_dialer.hpp"
#include "node/mdns_service.hpp"
#include "node/network.hpp"
#include "node/peerstore_file.hpp"
#include "node/node.hpp"
#include "node/private_file.hpp"
#include "node/store_content_storage.hpp"
#include "node/store_options.hpp"
#include "runtime/asio/event_loop.hpp"
#include "runtime/asio/http_server.hpp"

namespace taho::daemon {
namespace {

constexpr int kExitStartFailed = 1;

runtime::asio::HttpServerOptions api_server_options(const config::HostPort& listen) {
  runtime::asio::HttpServerOptions options;
  options.host = listen.host;
  options.port = listen.port;
  return options;
}

}  // namespace

// A node holds a socket per connection: take the whole descriptor allowance
// the system grants, as kubo does, rather than the shell's default soft limit.
void raise_open_files_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  limit.rlim_cur = limit.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) spdlog::debug("cannot raise the open files limit");
}

// Bulk transfers move multi-megabyte buffers through Noise and Yamux. With
// glibc's defaults each one is a fresh mmap whose pages fault in on first
// touch (a tenth of the CPU in a profile of a perf download); keeping such
// buffers on the heap lets them be reused.
void tune_allocator() {
  ::mallopt(M_MMAP_THRESHOLD, 64 * 1024 * 1024);
  ::mallopt(M_TRIM_THRESHOLD, 128 * 1024 * 1024);
}

int run(const DaemonOptions& options) {
  raise_open_files_limit();
  tune_allocator();
  const auto& home = options.home;
  std::error_code error;
  std::filesystem::create_directories(home.data_dir, error);
  if (error) {
    spdlog::error("cannot create {}: {}", home.data_dir.string(), error.message());
    return kExitStartFailed;
  }
  ::chmod(home.data_dir.c_str(), 0700);  // identity and token live here

  auto lock = node::HomeLock::acquire(home.daemon_lock());
  if (!lock) {
    spdlog::error("{}", lock.error().text);
    return kExitStartFailed;
  }

  bool created = false;
  auto identity = node::load_or_create_identity(home.identity_key(), &created);
  if (!identity) {
    spdlog::error("identity: {}", identity.error().detail);
    return kExitStartFailed;
  }
  if (created) spdlog::info("created a new identity in {}", home.identity_key().string());

  auto token = node::load_or_create_api_token(home.api_token());
  if (!token) {
    spdlog::error("api token: {}", token.error().text);
    return kExitStartFailed;
  }

  node::Node node(*identity, options.version);
  runtime::asio::EventLoop loop;

  node::NetworkOptions network_options;
  network_options.listen = options.config.mesh.listen;
  network_options.connections_max = std::max<std::size_t>(options.config.mesh.max_peers * 2, 16);
  network_options.min_peers = options.config.mesh.min_peers;
  network_options.max_peers = options.config.mesh.max_peers;
  network_options.dht_protocol = options.config.mesh.dht_protocol;
  network_options.rendezvous_server = options.config.mesh.rendezvous_server;
  network_options.dht_server = options.config.mesh.dht_server;
  network_options.gossip_message_bytes_max = options.config.mesh.max_event_bytes;
  network_options.gossip_messages_per_peer_per_second = options.config.mesh.event_rate_per_peer;
  network_options.heartbeat = options.config.mesh.heartbeat;

  // ---- content exchange: the store this node serves from and fetches into.
  // The API's publishes use their own handles on worker threads; this one
  // lives on the event loop.
  auto store = content::Store::open(node::store_options(options.config, home));
  if (!store) {
    spdlog::error("content store: {}", store.error().detail);
    return kExitStartFailed;
  }
  node::StoreContentStorage content_storage(*store);
  network_options.content_storage = &content_storage;
  network_options.content.discovery_timeout = options.config.content.find_timeout;
  network_options.content.serving_bytes_per_second_per_peer =
      static_cast<double>(options.config.content.serve_mbps_per_peer) * 1e6 / 8;
  // Our signed peer record's sequence number must grow across restarts.
  network_options.peer_record_seq = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
  node::Network network(loop, node, network_options);
  auto listening = network.start();
  if (!listening) {
    spdlog::error("{}", listening.error().text);
    return kExitStartFailed;
  }
  node.set_listen_addrs(*listening);

  // ---- mDNS discovery ([mesh] mdns) -------------------------------------
  // Answers with our dialable addresses; LanDialer connects to the peers it
  // finds. Not being able to run it (port 5353 held exclusively) is no
  // reason to stop the daemon.
  crypto::OsRng mdns_rng;
  std::unique_ptr<node::LanDialer> lan_dialer;
  std::unique_ptr<node::MdnsService> mdns;
  if (options.config.mesh.mdns) {
    lan_dialer = std::make_unique<node::LanDialer>(loop, network, node.peer_id());
    node::MdnsServiceOptions mdns_options;
    mdns_options.include_loopback = options.config.mesh.mdns_loopback;
    mdns = std::make_unique<node::MdnsService>(
        loop, node.peer_id(), mdns_rng, mdns_options,
        [dialer = lan_dialer.get()](PeerId peer, std::vector<Multiaddr> addrs) { dialer->on_peer(peer, addrs); });
    mdns->set_listen_addrs(*listening);
    if (auto started = mdns->start(); !started) spdlog::warn("mDNS is off: {}", started.error().text);
  }
  // ---- end of mDNS discovery ----------------------------------------------

  // Peers held before the last shutdown: reconnecting needs no bootstrap.
  node::PeerstoreKeeper peerstore(loop, network, home.peerstore() / "peers.json");
  if (const auto loaded = peerstore.load(); loaded > 0) spdlog::info("peerstore: {} peers from the last run", loaded);
  // Bootstrap peers stay known to the connection manager, which dials them
  // while the node has fewer than min_peers connections and re-dials them
  // (with backoff) after drops. Bad entries are logged and skipped; /dnsaddr
  // entries are resolved in the background (node/bootstrap_list.hpp).
  node::BootstrapPeers bootstrap_peers(loop, [&network](const Multiaddr& address) { network.add_bootstrap(address); });
  if (auto started = bootstrap_peers.start(options.config.mesh.bootstrap); !started) {
    constexpr int kExitBadBootstrap = 2;  // a configuration error, as cli/command.hpp's kExitUsage
    spdlog::error("{}", started.error().text);
    return kExitBadBootstrap;
  }
  for (const auto& point : options.config.mesh.rendezvous) network.add_rendezvous_point(point);
  // Who holds what, as last announced: fetches need not wait for re-announcements.
  node::HolderIndexKeeper holder_index(loop, network, home.data_dir / "content" / "holders.json");
  if (const auto loaded = holder_index.load(); loaded > 0) spdlog::info("holder index: {} entries", loaded);

  api::NetworkContentFetcher content_fetcher(network);
  api::ContentRoutesOptions content_routes_options;
  content_routes_options.holder_wait_ms = static_cast<std::uint32_t>(options.config.content.find_timeout.count());
  api::ContentRoutes content_routes(loop, node::store_options(options.config, home), &content_fetcher,
                                    content_routes_options);
  api::MeshRoutes mesh_routes(network);
  api::EventRoutes event_routes(network);
  api::Api api(node, &network, *token);
  api.set_content_routes(&content_routes);
  api.set_mesh_routes(&mesh_routes);
  api.set_event_routes(&event_routes);
  auto server = runtime::asio::HttpServer::start(
      loop, api_server_options(options.config.api.listen),
      [&api](const runtime::HttpRequest& request, runtime::asio::HttpResponder respond) {
        api.handle(request, std::move(respond));
      });
  if (!server) {
    spdlog::error("{}", server.error().text);
    return kExitStartFailed;
  }
  const std::string api_address = (*server)->local_address();
  const std::string addr_line = api_address + "\n";
  if (auto written = node::write_file_atomically(home.api_addr(), as_bytes(addr_line), 0644); !written) {
    spdlog::error("{}", written.error().text);
    return kExitStartFailed;
  }
  lock->describe("pid " + std::to_string(::getpid()) + ", API http://" + api_address);

  spdlog::info("taho {} running as {}", options.version, node.peer_id().to_string());
  spdlog::info("config: {}", options.config_file.string());
  spdlog::info("API: http://{} (token in {})", api_address, home.api_token().string());
  // One line on stdout so scripts and users see the node is up without -v.
  if (options.json) {
    std::printf("{\"event\":\"ready\",\"peer_id\":\"%s\",\"api\":\"%s\"}\n",
                node.peer_id().to_string().c_str(), api_address.c_str());
  } else {
    std::printf("taho daemon ready: peer %s, API http://%s\n", node.peer_id().to_string().c_str(),
                api_address.c_str());
  }
  std::fflush(stdout);

  loop.run_until_signal([](int signal_number) {
    spdlog::info("received signal {}, shutting down", signal_number);
  });

  (*server)->stop();
  std::filesystem::remove(home.api_addr(), error);
  spdlog::info("stopped");
  return 0;
}

}  // namespace taho::daemon
