// `taho publish PATH|-`: stores a file (or stdin) in the content store and
// prints its content id, ca_blake3_<what b3sum prints>. With a daemon
// running, the daemon publishes it so it is announced to the mesh.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/command.hpp"
#include "cli/content_store.hpp"
#include "cli/daemon_client.hpp"
#include "cli/progress_bar.hpp"
#include "cli/session.hpp"

namespace taho::cli {
namespace {

namespace fs = std::filesystem;

// Files smaller than this publish too fast for a progress bar to help.
constexpr std::uint64_t kProgressBytesMin = std::uint64_t{64} << 20;
// The daemon hashes big files too; give it time.
constexpr std::uint32_t kDaemonPublishTimeoutMs = 30 * 60 * 1000;

struct PublishFlags {
  std::string path;
};

void print_result(const Context& context, const std::string& id, std::uint64_t size, const std::string& path) {
  if (context.global.json) {
    std::cout << nlohmann::json{{"id", id}, {"size", size}, {"path", path}}.dump() << "\n";
  } else {
    std::cout << id << "\n";
  }
}

// Asks the daemon to publish `path`. Returns nothing when the daemon has no
// content route (an older daemon): the caller then publishes locally.
std::optional<int> publish_through_daemon(const Context& context, const DaemonClient& daemon, const fs::path& path,
                                          const std::string& shown_path) {
  const nlohmann::json body{{"path", path.string()}};
  auto response = daemon.request("POST", "/api/v1/content", body.dump(), kDaemonPublishTimeoutMs);
  if (!response) {
    std::cerr << "taho publish: daemon at " << daemon.address() << ": " << response.error().text << "\n";
    return kExitFailure;
  }
  if (response->status == 404 || response->status == 405) return std::nullopt;
  const auto answer = nlohmann::json::parse(response->body, nullptr, false);
  if (response->status / 100 != 2 || answer.is_discarded() || !answer.contains("id")) {
    const std::string message =
        !answer.is_discarded() && answer.contains("error") ? answer["error"].dump() : response->body;
    std::cerr << "taho publish: " << message << "\n";
    return kExitFailure;
  }
  print_result(context, answer["id"].get<std::string>(), answer.value("size", std::uint64_t{0}), shown_path);
  return kExitOk;
}

int run_publish(const Context& context, const PublishFlags& flags) {
  auto session = load_session(context);
  if (!session) return kExitUsage;
  const bool from_stdin = flags.path == "-";

  std::error_code ec;
  const fs::path path = from_stdin ? fs::path() : fs::absolute(flags.path, ec);
  if (!from_stdin) {
    // Plain errors first, whether or not a daemon runs.
    const auto status = fs::status(path, ec);
    if (!fs::exists(status)) {
      std::cerr << "taho publish: " << flags.path << ": no such file\n";
      return kExitFailure;
    }
    if (fs::is_directory(status)) {
      std::cerr << "taho publish: " << flags.path << " is a directory; publishing directories is not supported yet\n";
      return kExitFailure;
    }
    if (auto daemon = DaemonClient::find(session->home)) {
      if (auto done = publish_through_daemon(context, *daemon, path, path.string())) return *done;
    }
  }

  auto store = open_content_store(*session, "publish");
  if (!store) return kExitFailure;
  std::optional<ProgressBar> bar;
  content::ProgressFn progress;
  if (!from_stdin && ::isatty(STDERR_FILENO) && fs::file_size(path, ec) >= kProgressBytesMin && !ec) {
    bar.emplace(fs::file_size(path, ec));
    progress = [&bar](std::uint64_t done) { bar->update(done); };
  }
  auto put = from_stdin ? store->put_stream(STDIN_FILENO) : store->put_file(path, progress);
  if (!put) {
    std::cerr << "taho publish: " << put.error().detail << "\n";
    return exit_code_of(put.error());
  }
  if (from_stdin) {
    // Stdin is stored now; a running daemon still has to announce it, and
    // publishing the stored copy is a cheap deduplicated put for it.
    if (auto daemon = DaemonClient::find(session->home)) {
      const auto stored = store->stat(put->id);
      if (stored) {
        if (auto done = publish_through_daemon(context, *daemon, stored->data_path, "-")) return *done;
      }
    }
  }
  print_result(context, put->id.to_string(), put->size, from_stdin ? "-" : path.string());
  return kExitOk;
}

}  // namespace

void register_publish_command(CLI::App& app, Context& context) {
  auto flags = std::make_shared<PublishFlags>();
  auto* command = app.add_subcommand("publish", "Store a file in the content store and print its content id "
                                                "(ca_blake3_ + what b3sum prints); - reads stdin");
  command->add_option("path", flags->path, "File to publish, or - for stdin")->required();
  command->callback([&context, flags] { context.action = [&context, flags] { return run_publish(context, *flags); }; });
}

}  // namespace taho::cli
