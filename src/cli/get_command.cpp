// `taho get ID [-o FILE]`: fetches content through the running daemon (from
// the mesh when it is not local) and writes it to FILE or stdout.
//
// Two steps over the local API: POST /api/v1/content/{id}/fetch brings the
// content into the daemon's store while its event stream drives the progress
// bar; GET /api/v1/content/{id} then streams the stored bytes. The daemon
// verified every group on arrival; the bytes written are hashed once more
// here against the id, so what lands on disk is checked end to end.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/command.hpp"
#include "cli/daemon_client.hpp"
#include "cli/progress_bar.hpp"
#include "cli/session.hpp"
#include "content/store/unique_fd.hpp"
#include "content/tree/content_id.hpp"
#include "runtime/asio/http_client.hpp"
#include "runtime/asio/sse_parser.hpp"

namespace taho::cli {
namespace {

namespace fs = std::filesystem;

// The daemon sends progress at most 10 times a second and an SSE keep-alive
// every 15 s; this much silence means it is gone.
constexpr std::uint32_t kStreamIdleTimeoutMs = 120'000;
constexpr std::size_t kErrorBodyBytesMax = 64 * 1024;

struct GetFlags {
  std::string id;
  std::string output;
  double timeout_seconds = 0;  // 0: the daemon's holder wait
};

struct Fetched {
  std::uint64_t size = 0;
  std::uint64_t sources = 0;
};

// An error answer's {"error": ...}, or the status when the body says nothing.
std::string error_of(int status, const std::string& body) {
  auto parsed = nlohmann::json::parse(body, nullptr, false);
  if (parsed.is_object() && parsed.contains("error") && parsed["error"].is_string()) return parsed["error"].get<std::string>();
  return "the daemon answered HTTP " + std::to_string(status);
}

runtime::HttpRequest api_request(const DaemonClient& daemon, std::string method, std::string target) {
  runtime::HttpRequest request;
  request.method = std::move(method);
  request.target = std::move(target);
  request.headers["Authorization"] = daemon.authorization();
  return request;
}

runtime::asio::HttpStreamOptions stream_options() {
  runtime::asio::HttpStreamOptions options;
  options.idle_timeout_ms = kStreamIdleTimeoutMs;
  return options;
}

// One streamed API call: `on_body` sees the body of a 200 answer and
// returns false to stop; any other status becomes the error it carries.
// Returns the body bytes of the answer.
Result<std::uint64_t> stream_api(const DaemonClient& daemon, const runtime::HttpRequest& request,
                                 const std::function<bool(std::string_view)>& on_body) {
  int failed_status = 0;
  std::string error_body;
  auto ended = runtime::asio::http_stream(
      daemon.address(), request, stream_options(),
      [&](int status, const runtime::HttpHeaders&) {
        if (status != 200) failed_status = status;
        return true;
      },
      [&](std::string_view bytes) {
        if (!failed_status) return on_body(bytes);
        error_body.append(bytes.substr(0, kErrorBodyBytesMax - std::min(kErrorBodyBytesMax, error_body.size())));
        return true;
      });
  if (failed_status) return fail(error_of(failed_status, error_body));
  if (!ended) return fail("daemon at " + daemon.address() + ": " + ended.error().detail);
  return ended->body_bytes;
}

// Step 1: the daemon fetches the content into its store.
Result<Fetched> fetch_into_daemon(const DaemonClient& daemon, const content::ContentId& id, const GetFlags& flags,
                                  bool show_bar) {
  std::string target = "/api/v1/content/" + id.to_string() + "/fetch";
  if (flags.timeout_seconds > 0) target += "?timeout=" + std::to_string(flags.timeout_seconds);
  auto request = api_request(daemon, "POST", target);
  runtime::SseParser parser;
  std::optional<ProgressBar> bar;
  std::optional<Fetched> fetched;
  std::string error;
  auto ended = stream_api(daemon, request, [&](std::string_view bytes) {
    if (auto fed = parser.feed(bytes); !fed) {
      error = "bad event stream from the daemon: " + fed.error().detail;
      return false;
    }
    while (auto event = parser.poll_event()) {
      auto data = nlohmann::json::parse(event->data, nullptr, false);
      if (!data.is_object()) continue;
      if (event->event == "progress" && show_bar) {
        if (!bar) bar.emplace(0);
        bar->set_total(data.value("size", std::uint64_t{0}));
        const auto sources = data.value("sources", std::uint64_t{0});
        bar->update(data.value("verified_bytes", std::uint64_t{0}),
                    std::to_string(sources) + (sources == 1 ? " source" : " sources"));
      } else if (event->event == "done") {
        fetched = Fetched{data.value("size", std::uint64_t{0}), data.value("sources", std::uint64_t{0})};
        return false;
      } else if (event->event == "error") {
        error = data.value("message", std::string("the fetch failed"));
        return false;
      }
    }
    return true;
  });
  if (bar) {
    if (fetched) bar->update(fetched->size);
    bar->finish();
  }
  if (!error.empty()) return fail(error);
  if (!ended) return fail(ended.error().text);
  if (!fetched) return fail("the daemon ended the fetch without saying how it went");
  return *fetched;
}

// Step 2: the stored bytes to `fd`, hashed on the way.
Result<std::uint64_t> download(const DaemonClient& daemon, const content::ContentId& id, int fd) {
  auto request = api_request(daemon, "GET", "/api/v1/content/" + id.to_string());
  crypto::blake3::Hasher hasher;
  std::string write_error;
  auto ended = stream_api(daemon, request, [&](std::string_view bytes) {
    const ByteView view(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    hasher.update(view);
    if (auto written = content::write_all(fd, view); !written) {
      write_error = written.error().detail;
      return false;
    }
    return true;
  });
  if (!write_error.empty()) return fail(write_error);
  if (!ended) return fail(ended.error().text);
  if (hasher.finalize() != id.hash()) {
    return fail("the bytes received do not hash to " + id.to_string() + "; the daemon's store may be corrupt "
                "(check it with `taho content verify`)");
  }
  return *ended;
}

int run_get(const Context& context, const GetFlags& flags) {
  auto id = content::ContentId::parse(flags.id);
  if (!id) {
    std::cerr << "taho get: bad content id '" << flags.id << "': " << id.error().detail << "\n";
    return kExitUsage;
  }
  if (context.global.json && flags.output.empty()) {
    std::cerr << "taho get: --json needs -o FILE (stdout carries the content otherwise)\n";
    return kExitUsage;
  }
  auto session = load_session(context);
  if (!session) return kExitUsage;
  auto daemon = DaemonClient::require(session->home, "get");
  if (!daemon) return kExitFailure;

  const auto started = std::chrono::steady_clock::now();
  const bool show_bar = !context.global.json && ::isatty(STDERR_FILENO);
  auto fetched = fetch_into_daemon(*daemon, *id, flags, show_bar);
  if (!fetched) {
    std::cerr << "taho get: " << fetched.error().text << "\n";
    return kExitFailure;
  }

  if (flags.output.empty()) {
    auto written = download(*daemon, *id, STDOUT_FILENO);
    if (!written) {
      std::cerr << "taho get: " << written.error().text << "\n";
      return kExitFailure;
    }
    return kExitOk;
  }
  // To a file: written beside it and renamed, so a failure leaves no partial file.
  std::error_code ec;
  const fs::path target = fs::absolute(flags.output, ec);
  const fs::path partial = target.string() + ".taho-partial";
  const content::UniqueFd fd(::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd) {
    std::cerr << "taho get: " << flags.output << ": " << std::strerror(errno) << "\n";
    return kExitFailure;
  }
  auto written = download(*daemon, *id, fd.get());
  if (written) {
    if (auto synced = content::sync_fd(fd.get(), "sync"); !synced) written = fail(synced.error().detail);
  }
  if (written) {
    fs::rename(partial, target, ec);
    if (ec) written = fail(flags.output + ": " + ec.message());
  }
  if (!written) {
    fs::remove(partial, ec);
    std::cerr << "taho get: " << written.error().text << "\n";
    return kExitFailure;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (context.global.json) {
    std::cout << nlohmann::json{{"id", id->to_string()},
                                {"size", *written},
                                {"sources", fetched->sources},
                                {"seconds", seconds},
                                {"path", target.string()}}
                     .dump()
              << "\n";
  }
  return kExitOk;
}

}  // namespace

void register_get_command(CLI::App& app, Context& context) {
  auto flags = std::make_shared<GetFlags>();
  auto* command = app.add_subcommand("get", "Fetch content by id through the running daemon (from the mesh when "
                                            "it is not local) and write it to stdout or a file");
  command->add_option("id", flags->id, "Content id (ca_blake3_... or its CID)")->required();
  command->add_option("-o,--output", flags->output, "Write to FILE instead of stdout")->type_name("FILE");
  command->add_option("--timeout", flags->timeout_seconds,
                      "Give up when no holder is found within S seconds (default: the daemon's)")
      ->type_name("S")
      ->check(CLI::PositiveNumber);
  command->callback([&context, flags] { context.action = [&context, flags] { return run_get(context, *flags); }; });
}

}  // namespace taho::cli
