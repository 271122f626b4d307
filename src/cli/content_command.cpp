// `taho content ls|stat|cat|rm|verify|holders`: the local content store.
// `rm` goes through a running daemon (which withdraws the content from the
// mesh); `holders` asks the daemon's holder index.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/command.hpp"
#include "cli/content_store.hpp"
#include "cli/daemon_client.hpp"
#include "cli/progress_bar.hpp"
#include "cli/session.hpp"
#include "content/store/unique_fd.hpp"

namespace taho::cli {
namespace {

namespace fs = std::filesystem;

struct ContentFlags {
  std::string id;
  std::string output;   // cat -o FILE
  bool verify = false;  // cat --verify
};

// A bad id is a usage error; the message says what an id looks like.
std::optional<content::ContentId> parse_id(std::string_view command, const std::string& text) {
  auto id = content::ContentId::parse(text);
  if (!id) {
    std::cerr << "taho content " << command << ": " << id.error().detail << "\n";
    return std::nullopt;
  }
  return *id;
}

// Opens the session and the store; prints and returns the exit code on failure.
struct Opened {
  std::optional<Session> session;
  std::optional<content::Store> store;
  int failure = kExitOk;
};
Opened open_all(const Context& context, std::string_view command) {
  Opened opened;
  opened.session = load_session(context);
  if (!opened.session) {
    opened.failure = kExitUsage;
    return opened;
  }
  opened.store = open_content_store(*opened.session, "content " + std::string(command));
  if (!opened.store) opened.failure = kExitFailure;
  return opened;
}

int report(std::string_view command, const content::StoreError& error) {
  std::cerr << "taho content " << command << ": " << error.detail << "\n";
  return exit_code_of(error);
}

int run_ls(const Context& context) {
  auto opened = open_all(context, "ls");
  if (opened.failure) return opened.failure;
  auto objects = opened.store->list();
  if (!objects) return report("ls", objects.error());
  if (context.global.json) {
    auto list = nlohmann::json::array();
    for (const auto& object : *objects) list.push_back({{"id", object.id.to_string()}, {"size", object.size}});
    std::cout << list.dump() << "\n";
  } else {
    for (const auto& object : *objects) std::cout << object.id.to_string() << "  " << object.size << "\n";
  }
  return kExitOk;
}

int run_stat(const Context& context, const ContentFlags& flags) {
  const auto id = parse_id("stat", flags.id);
  if (!id) return kExitUsage;
  auto opened = open_all(context, "stat");
  if (opened.failure) return opened.failure;
  auto info = opened.store->stat(*id);
  if (!info) return report("stat", info.error());
  const nlohmann::json out{{"id", id->to_string()},
                           {"cid", id->to_cid_string()},
                           {"size", info->size},
                           {"path", info->data_path.string()}};
  if (context.global.json) {
    std::cout << out.dump() << "\n";
  } else {
    std::cout << "id    " << id->to_string() << "\ncid   " << id->to_cid_string() << "\nsize  " << info->size
              << "\npath  " << info->data_path.string() << "\n";
  }
  return kExitOk;
}

int run_cat(const Context& context, const ContentFlags& flags) {
  const auto id = parse_id("cat", flags.id);
  if (!id) return kExitUsage;
  auto opened = open_all(context, "cat");
  if (opened.failure) return opened.failure;
  if (!opened.store->contains(*id)) return report("cat", {content::StoreErrc::not_found, id->to_string() + " is not in the content store"});
  if (flags.output.empty()) {
    auto written = opened.store->write_to(*id, STDOUT_FILENO, flags.verify);
    return written ? kExitOk : report("cat", written.error());
  }
  // To a file: written beside it and renamed, so a failure leaves no partial file.
  const fs::path target = flags.output;
  const fs::path partial = target.string() + ".taho-partial";
  const content::UniqueFd fd(::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd) {
    std::cerr << "taho content cat: " << target.string() << ": " << std::strerror(errno) << "\n";
    return kExitFailure;
  }
  auto written = opened.store->write_to(*id, fd.get(), flags.verify);
  std::error_code ec;
  if (!written) {
    fs::remove(partial, ec);
    return report("cat", written.error());
  }
  fs::rename(partial, target, ec);
  if (ec) {
    std::cerr << "taho content cat: " << target.string() << ": " << ec.message() << "\n";
    fs::remove(partial, ec);
    return kExitFailure;
  }
  return kExitOk;
}

void print_removed(const Context& context, const content::ContentId& id) {
  if (context.global.json) {
    std::cout << nlohmann::json{{"removed", id.to_string()}}.dump() << "\n";
  } else {
    std::cout << "removed " << id.to_string() << "\n";
  }
}

// Asks a running daemon to remove the content, so it also withdraws it from
// the mesh. Nothing when the daemon cannot (an older daemon without the
// route, or the id unknown to it): the caller then removes it locally.
std::optional<int> remove_through_daemon(const Context& context, const DaemonClient& daemon,
                                         const content::ContentId& id) {
  auto response = daemon.request("DELETE", "/api/v1/content/" + id.to_string());
  if (!response) {
    std::cerr << "taho content rm: " << response.error().text << "\n";
    return kExitFailure;
  }
  if (response->status == 404 || response->status == 405) return std::nullopt;
  if (response->status / 100 != 2) {
    auto body = nlohmann::json::parse(response->body, nullptr, false);
    std::cerr << "taho content rm: "
              << (body.is_object() && body.contains("error") && body["error"].is_string()
                      ? body["error"].get<std::string>()
                      : "the daemon answered HTTP " + std::to_string(response->status))
              << "\n";
    return kExitFailure;
  }
  print_removed(context, id);
  return kExitOk;
}

int run_rm(const Context& context, const ContentFlags& flags) {
  const auto id = parse_id("rm", flags.id);
  if (!id) return kExitUsage;
  auto session = load_session(context);
  if (!session) return kExitUsage;
  if (auto daemon = DaemonClient::find(session->home)) {
    if (auto done = remove_through_daemon(context, *daemon, *id)) return *done;
  }
  auto opened = open_all(context, "rm");
  if (opened.failure) return opened.failure;
  auto removed = opened.store->remove(*id);
  if (!removed) return report("rm", removed.error());
  print_removed(context, *id);
  return kExitOk;
}

int run_holders(const Context& context, const ContentFlags& flags) {
  const auto id = parse_id("holders", flags.id);
  if (!id) return kExitUsage;
  auto session = load_session(context);
  if (!session) return kExitUsage;
  auto daemon = DaemonClient::require(session->home, "content holders");
  if (!daemon) return kExitFailure;
  auto answer = daemon->get("/api/v1/content/" + id->to_string() + "/holders");
  if (!answer) {
    std::cerr << "taho content holders: " << answer.error().text << "\n";
    return kExitFailure;
  }
  if (context.global.json) {
    std::cout << answer->dump() << "\n";
    return kExitOk;
  }
  const auto& body = *answer;
  if (body.value("local", false)) {
    std::cout << "this node holds it (" << body.value("size", std::uint64_t{0}) << " bytes)\n";
  }
  const auto& holders = body.contains("holders") ? body["holders"] : nlohmann::json::array();
  if (holders.empty()) {
    std::cout << "no other holder known\n";
    return kExitOk;
  }
  for (const auto& holder : holders) {
    std::cout << holder.value("peer_id", std::string("?")) << "  "
              << (holder.value("connected", false) ? "connected" : "not connected");
    if (holder.contains("throughput") && holder["throughput"].is_number()) {
      std::cout << "  " << human_bytes(holder["throughput"].get<double>()) << "/s";
    }
    for (const auto& addr : holder.value("addrs", nlohmann::json::array())) {
      if (addr.is_string()) std::cout << "  " << addr.get<std::string>();
    }
    std::cout << "\n";
  }
  return kExitOk;
}

int run_verify(const Context& context, const ContentFlags& flags) {
  const auto id = parse_id("verify", flags.id);
  if (!id) return kExitUsage;
  auto opened = open_all(context, "verify");
  if (opened.failure) return opened.failure;
  auto verified = opened.store->verify(*id);
  if (context.global.json) {
    nlohmann::json out{{"id", id->to_string()}, {"ok", verified.has_value()}};
    if (!verified) out["error"] = verified.error().detail;
    std::cout << out.dump() << "\n";
  } else if (verified) {
    std::cout << "ok " << id->to_string() << "\n";
  }
  if (!verified) return context.global.json ? exit_code_of(verified.error()) : report("verify", verified.error());
  return kExitOk;
}

template <class Run>
void on_select(CLI::App* command, Context& context, std::shared_ptr<ContentFlags> flags, Run run) {
  command->callback([&context, flags, run] { context.action = [&context, flags, run] { return run(context, *flags); }; });
}

}  // namespace

void register_content_command(CLI::App& app, Context& context) {
  auto* content = app.add_subcommand("content", "The content store: ls, stat, cat, rm, verify, holders");
  content->require_subcommand(1);
  auto flags = std::make_shared<ContentFlags>();

  auto* ls = content->add_subcommand("ls", "List stored content: id and size");
  on_select(ls, context, flags, [](const Context& c, const ContentFlags&) { return run_ls(c); });

  auto* stat = content->add_subcommand("stat", "Show an object's size, CID and file");
  stat->add_option("id", flags->id, "Content id (ca_blake3_...)")->required();
  on_select(stat, context, flags, run_stat);

  auto* cat = content->add_subcommand("cat", "Write an object's bytes to stdout or to a file");
  cat->add_option("id", flags->id, "Content id (ca_blake3_...)")->required();
  cat->add_option("-o,--output", flags->output, "Write to FILE instead of stdout")->type_name("FILE");
  cat->add_flag("--verify", flags->verify, "Check every 16 KiB against the id while reading");
  on_select(cat, context, flags, run_cat);

  auto* rm = content->add_subcommand("rm", "Remove an object from the store (and withdraw it from the mesh when "
                                           "a daemon runs)");
  rm->add_option("id", flags->id, "Content id (ca_blake3_...)")->required();
  on_select(rm, context, flags, run_rm);

  auto* holders = content->add_subcommand("holders", "List the holders of an id the running daemon knows of");
  holders->add_option("id", flags->id, "Content id (ca_blake3_...)")->required();
  on_select(holders, context, flags, run_holders);

  auto* verify = content->add_subcommand("verify", "Re-hash an object and check it against its id");
  verify->add_option("id", flags->id, "Content id (ca_blake3_...)")->required();
  on_select(verify, context, flags, run_verify);
}

}  // namespace taho::cli
