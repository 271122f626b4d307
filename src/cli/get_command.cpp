// `taho get ID [-o FILE]`: fetches content through the running daemon (from
// the mesh when it is not local) and writes it to FILE or stdout.
//
// POST /api/v1/content/{id}/fetch brings the content into the daemon's store
// while its event stream drives the progress bar. With -o, when the daemon's
// store is readable here (same machine, same user), each progress event's
// contiguous verified bytes are copied from the store's partial download
// into FILE as the fetch goes, and the rest from the committed object at the
// end (cli/content_store.hpp): no second trip through HTTP. Otherwise, and
// for stdout, GET /api/v1/content/{id} streams the stored bytes. Either way
// the bytes that land in the output are hashed here against the id, so what
// is written is checked end to end, whatever the daemon or store did.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iostream>
#include <optional>
#include <nlohmann/json.hpp>

#include "cli/command.hpp"
#include "cli/content_store.hpp"
#include "cli/daemon_client.hpp"
#include "cli/progress_bar.hpp"
#include "cli/session.hpp"
#include "content/store/unique_fd.hpp"
#include "content/tree/content_id.hpp"
#include "node/store_options.hpp"
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
  bool local = false;  // it was in the store already
};

// What a progress event says; the callback returns an error to stop the
// fetch (the output cannot be written).
struct FetchProgressEvent {
  std::uint64_t size = 0;
  std::uint64_t contiguous_bytes = 0;  // verified and written from offset 0 on
};
using OnFetchProgress = std::function<Result<void>(const FetchProgressEvent&)>;

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

// The daemon fetches the content into its store; `on_progress` sees each
// progress event (and the done event's size) as it comes.
Result<Fetched> fetch_into_daemon(const DaemonClient& daemon, const content::ContentId& id, const GetFlags& flags,
                                  std::optional<ProgressBar>& bar, bool show_bar, const OnFetchProgress& on_progress) {
  std::string target = "/api/v1/content/" + id.to_string() + "/fetch";
  if (flags.timeout_seconds > 0) target += "?timeout=" + std::to_string(flags.timeout_seconds);
  auto request = api_request(daemon, "POST", target);
  runtime::SseParser parser;
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
      if (event->event == "progress") {
        const FetchProgressEvent progress{data.value("size", std::uint64_t{0}),
                                          data.value("contiguous_bytes", std::uint64_t{0})};
        if (show_bar) {
          if (!bar) bar.emplace(0);
          bar->set_total(progress.size);
          const auto sources = data.value("sources", std::uint64_t{0});
          bar->update(data.value("verified_bytes", std::uint64_t{0}),
                      std::to_string(sources) + (sources == 1 ? " source" : " sources"));
        }
        if (on_progress) {
          if (auto handled = on_progress(progress); !handled) {
            error = handled.error().text;
            return false;  // closing the stream cancels the fetch
          }
        }
      } else if (event->event == "done") {
        fetched = Fetched{data.value("size", std::uint64_t{0}), data.value("sources", std::uint64_t{0}),
                          data.value("local", false)};
        return false;
      } else if (event->event == "error") {
        error = data.value("message", std::string("the fetch failed"));
        return false;
      }
    }
    return true;
  });
  if (!error.empty()) return fail(error);
  if (!ended) return fail(ended.error().text);
  if (!fetched) return fail("the daemon ended the fetch without saying how it went");
  return *fetched;
}

// The stored bytes over HTTP to `fd` (at its current offset), hashed on the way.
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

// FILE being written: FILE.taho-partial beside it, renamed over FILE once
// complete and verified, removed on any failure, so FILE is either absent
// (or as it was) or right.
class PartialOutput {
 public:
  static Result<PartialOutput> create(const std::string& name) {
    std::error_code ec;
    const fs::path target = fs::absolute(name, ec);
    if (ec) return fail(name + ": " + ec.message());
    fs::path partial = target.string() + ".taho-partial";
    content::UniqueFd fd(::open(partial.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd) return fail("cannot write " + name + ": " + std::strerror(errno));
    return PartialOutput(name, target, std::move(partial), std::move(fd));
  }
  PartialOutput(PartialOutput&&) = default;
  PartialOutput& operator=(PartialOutput&&) = delete;
  ~PartialOutput() {
    if (fd_ && !renamed_) ::unlink(partial_.c_str());
  }

  int fd() const { return fd_.get(); }
  const fs::path& target() const { return target_; }

  // Claims the space up front, so a full disk fails at once and not after
  // the transfer. File systems without fallocate just skip it.
  Result<void> reserve(std::uint64_t size) {
    if (size == 0 || reserved_ >= size) return {};
    if (::fallocate(fd_.get(), 0, 0, static_cast<off_t>(size)) != 0) {
      const int error = errno;
      if (error == EOPNOTSUPP || error == ENOSYS) return {};
      return fail("cannot write " + name_ + " (" + human_bytes(static_cast<double>(size)) + "): " +
                  std::strerror(error));
    }
    reserved_ = size;
    return {};
  }
  // Empties the file for another attempt.
  Result<void> restart() {
    reserved_ = 0;
    if (::ftruncate(fd_.get(), 0) != 0 || ::lseek(fd_.get(), 0, SEEK_SET) != 0) {
      return fail("cannot write " + name_ + ": " + std::strerror(errno));
    }
    return {};
  }
  // Durable first, then under its name.
  Result<void> commit() {
    if (auto synced = content::sync_fd(fd_.get(), "sync"); !synced) {
      return fail("cannot write " + name_ + ": " + synced.error().detail);
    }
    if (::rename(partial_.c_str(), target_.c_str()) != 0) {
      return fail("cannot write " + name_ + ": " + std::strerror(errno));
    }
    renamed_ = true;
    return {};
  }

 private:
  PartialOutput(std::string name, fs::path target, fs::path partial, content::UniqueFd fd)
      : name_(std::move(name)), target_(std::move(target)), partial_(std::move(partial)), fd_(std::move(fd)) {}
  std::string name_;
  fs::path target_;
  fs::path partial_;
  content::UniqueFd fd_;
  std::uint64_t reserved_ = 0;
  bool renamed_ = false;
};

struct Landed {
  std::uint64_t size = 0;
  std::string via;             // "store" or "http"
  std::string store_problem;  // why not "store", when the store was tried
};

// Fetches into the daemon and writes FILE: from the store as the fetch goes
// when it is readable here, else over HTTP afterwards.
Result<Landed> get_to_file(const Session& session, const DaemonClient& daemon, const content::ContentId& id,
                           const GetFlags& flags, bool show_bar, PartialOutput& out, Fetched& fetched) {
  const auto store_root = node::store_options(session.config, session.home).root;
  std::optional<StoreCopy> copy(std::in_place, content_files(store_root, id), out.fd());
  std::string store_problem;  // why the copy from the store was given up
  const auto give_up_store = [&](const CopyError& error) -> Result<void> {
    if (error.code == CopyErrc::output) return fail("cannot write " + flags.output + ": " + error.detail);
    store_problem = error.detail;
    copy.reset();
    return {};
  };

  std::optional<ProgressBar> bar;
  auto done = fetch_into_daemon(daemon, id, flags, bar, show_bar, [&](const FetchProgressEvent& progress) {
    if (auto reserved = out.reserve(progress.size); !reserved) return reserved;
    if (!copy) return Result<void>{};
    if (auto copied = copy->copy_verified(progress.contiguous_bytes); !copied) return give_up_store(copied.error());
    return Result<void>{};
  });
  if (bar) {
    if (done) bar->update(done->size);
    bar->finish();
  }
  if (!done) return fail(done.error().text);
  fetched = *done;
  if (auto reserved = out.reserve(fetched.size); !reserved) return fail(reserved.error().text);

  // The rest from the committed object. Content that was local already is
  // copied whole and hashed here; a mismatch (the store's file damaged since
  // its commit) goes the slower way round, where the daemon verifies.
  if (copy) {
    const bool whole = copy->copied() == 0;
    std::optional<ProgressBar> copy_bar;
    if (show_bar && whole && fetched.size >= (std::uint64_t{64} << 20)) copy_bar.emplace(fetched.size);
    auto hash = copy->finish(fetched.size, [&](std::uint64_t bytes) {
      if (copy_bar) copy_bar->update(bytes, "copying from the store");
    });
    if (copy_bar) copy_bar->finish();
    if (!hash) {
      if (auto given_up = give_up_store(hash.error()); !given_up) return fail(given_up.error().text);
    } else if (!*hash || **hash == id.hash()) {
      return Landed{fetched.size, "store", store_problem};
    } else {
      store_problem = "the copy from the store does not hash to the id";
      std::cerr << "taho get: the copy from the store does not hash to " << id.to_string()
                << "; fetching it over the API instead\n";
    }
  }
  if (auto restarted = out.restart(); !restarted) return fail(restarted.error().text);
  if (auto reserved = out.reserve(fetched.size); !reserved) return fail(reserved.error().text);
  auto written = download(daemon, id, out.fd());
  if (!written) return fail(written.error().text);
  return Landed{*written, "http", store_problem};
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
  if (flags.output.empty()) {
    std::optional<ProgressBar> bar;
    auto fetched = fetch_into_daemon(*daemon, *id, flags, bar, show_bar, {});
    if (bar) bar->finish();
    if (!fetched) {
      std::cerr << "taho get: " << fetched.error().text << "\n";
      return kExitFailure;
    }
    if (auto written = download(*daemon, *id, STDOUT_FILENO); !written) {
      std::cerr << "taho get: " << written.error().text << "\n";
      return kExitFailure;
    }
    return kExitOk;
  }

  // Opened before the fetch: a FILE that cannot be written fails at once.
  auto out = PartialOutput::create(flags.output);
  if (!out) {
    std::cerr << "taho get: " << out.error().text << "\n";
    return kExitFailure;
  }
  Fetched fetched;
  auto landed = get_to_file(*session, *daemon, *id, flags, show_bar, *out, fetched);
  if (landed) {
    if (auto committed = out->commit(); !committed) landed = fail(committed.error().text);
  }
  if (!landed) {
    std::cerr << "taho get: " << landed.error().text << "\n";
    return kExitFailure;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (context.global.json) {
    nlohmann::json summary{{"id", id->to_string()},   {"size", landed->size},
                           {"sources", fetched.sources}, {"local", fetched.local},
                           {"via", landed->via},         {"seconds", seconds},
                           {"path", out->target().string()}};
    if (!landed->store_problem.empty()) summary["store_problem"] = landed->store_problem;
    std::cout << summary.dump() << "\n";
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
