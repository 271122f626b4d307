#include "config/config_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <toml++/toml.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "config/ascii_case.hpp"
#include "config/schema.hpp"

namespace taho::config {
namespace {

constexpr mode_t kNewFileMode = 0644;

std::string_view trim_left(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  return text;
}

// The text split into lines, each keeping its line ending.
std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  while (!text.empty()) {
    const auto newline = text.find('\n');
    const auto length = newline == std::string_view::npos ? text.size() : newline + 1;
    lines.emplace_back(text.substr(0, length));
    text.remove_prefix(length);
  }
  return lines;
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& line : lines) text += line;
  return text;
}

// Byte offset of 1-based code-point column `column` in `line` (toml++
// counts columns in code points).
std::size_t byte_offset(std::string_view line, std::uint32_t column) {
  std::size_t offset = 0;
  for (std::uint32_t seen = 1; seen < column && offset < line.size(); ++seen) {
    ++offset;
    while (offset < line.size() && (static_cast<unsigned char>(line[offset]) & 0xC0) == 0x80) ++offset;
  }
  return offset;
}

// The section a line opens ("mesh" for "[mesh]  # note"), or nothing.
std::optional<std::string> section_header(std::string_view line) {
  line = trim_left(line);
  if (line.size() < 3 || line[0] != '[' || line[1] == '[') return std::nullopt;
  const auto close = line.find(']');
  if (close == std::string_view::npos) return std::nullopt;
  std::string_view name = line.substr(1, close - 1);
  while (!name.empty() && (name.front() == ' ' || name.front() == '\t')) name.remove_prefix(1);
  while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
  if (name.size() >= 2 && name.front() == '"' && name.back() == '"') name = name.substr(1, name.size() - 2);
  return std::string(name);
}

// Whether `line` is the commented default of `name`: "# name = ...".
bool is_commented_key(std::string_view line, std::string_view name) {
  line = trim_left(line);
  if (line.empty() || line.front() != '#') return false;
  line = trim_left(line.substr(1));
  if (line.substr(0, name.size()) != name) return false;
  return trim_left(line.substr(name.size())).starts_with('=');
}

std::string line_ending_of(const std::vector<std::string>& lines) {
  for (const auto& line : lines) {
    if (line.ends_with("\r\n")) return "\r\n";
    if (line.ends_with("\n")) return "\n";
  }
  return "\n";
}

Result<toml::table> parse_toml(std::string_view text, const std::string& file_name) {
  try {
    return toml::parse(text, file_name);
  } catch (const toml::parse_error& error) {
    const auto& begin = error.source().begin;
    return fail(file_name + ":" + std::to_string(begin.line) + ":" + std::to_string(begin.column) +
                ": invalid TOML: " + std::string(error.description()));
  }
}

std::string errno_text() { return std::strerror(errno); }

// Writes `text` to `path` through a temp file in the same directory, so a
// reader sees the old file or the new one, never half of one.
Result<void> write_atomically(const std::filesystem::path& path, std::string_view text, mode_t mode) {
  const auto temp = path.string() + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return fail("cannot create " + temp + ": " + errno_text());
  auto abandon = [&](const std::string& what) {
    const auto message = what + " " + temp + ": " + errno_text();
    ::close(fd);
    ::unlink(temp.c_str());
    return fail(message);
  };
  if (::fchmod(fd, mode) != 0) return abandon("cannot set the mode of");  // the umask must not narrow it
  std::size_t written = 0;
  while (written < text.size()) {
    const auto n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return abandon("cannot write");
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) return abandon("cannot sync");
  if (::close(fd) != 0) {
    ::unlink(temp.c_str());
    return fail("cannot close " + temp + ": " + errno_text());
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const auto message = "cannot replace " + path.string() + ": " + errno_text();
    ::unlink(temp.c_str());
    return fail(message);
  }
  return {};
}

Result<void> create_parent(const std::filesystem::path& path) {
  std::error_code error;
  std::filesystem::create_directories(path.parent_path(), error);
  if (error) return fail("cannot create " + path.parent_path().string() + ": " + error.message());
  return {};
}

}  // namespace

Result<std::optional<std::string>> read_config_file(const std::filesystem::path& path) {
  std::error_code error;
  const auto status = std::filesystem::status(path, error);
  if (status.type() == std::filesystem::file_type::not_found) return std::optional<std::string>{};
  if (error) return fail(path.string() + ": " + error.message());
  if (!std::filesystem::is_regular_file(status)) return fail(path.string() + ": not a regular file");
  const auto size = std::filesystem::file_size(path, error);
  if (error) return fail(path.string() + ": " + error.message());
  if (size > config_file_bytes_max) {
    return fail(path.string() + ": larger than " + std::to_string(config_file_bytes_max) + " bytes");
  }
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  if (!file) return fail(path.string() + ": cannot read");
  return std::optional<std::string>{text.str()};
}

std::string default_file_text() {
  std::string text =
      "# taho configuration (TOML).\n"
      "# Every key is listed with its default, commented out: remove the \"# \" to change one.\n"
      "# Precedence: defaults < this file < TAHO__<SECTION>__<KEY> environment variables\n"
      "# (lists comma-separated) < command-line flags. `taho config` shows the effective values.\n";
  std::string_view section;
  for (const auto& spec : schema()) {
    if (spec.section != section) {
      section = spec.section;
      text += "\n[" + std::string(section) + "]\n";
    }
    text += "\n# " + std::string(spec.doc) + " (" + spec.type + ")\n";
    text += "# " + std::string(spec.name) + " = " + std::string(spec.default_toml) + "\n";
  }
  return text;
}

Result<bool> ensure_config_file(const Paths& paths) {
  std::error_code error;
  if (std::filesystem::exists(paths.config_file, error)) return false;
  if (error) return fail(paths.config_file.string() + ": " + error.message());
  if (auto created = create_parent(paths.config_file); !created) return fail(created.error().text);
  if (auto written = write_atomically(paths.config_file, default_file_text(), kNewFileMode); !written) {
    return fail(written.error().text);
  }
  return true;
}

Result<std::string> edit_config_text(std::string_view file_text, std::string_view section, std::string_view name,
                                     std::string_view toml_value) {
  auto root = parse_toml(file_text, "config file");
  if (!root) return fail(root.error().text);
  auto lines = split_lines(file_text);
  const std::string new_line = std::string(name) + " = " + std::string(toml_value);

  // 1. The key is set: replace its value, keeping what surrounds it.
  if (const auto* node = (*root)[section][name].node()) {
    const auto& where = node->source();
    const auto first = static_cast<std::size_t>(where.begin.line - 1);
    const auto last = static_cast<std::size_t>(where.end.line - 1);
    if (last >= lines.size() || first > last) return fail("cannot locate " + std::string(name) + " in the file");
    const auto prefix = lines[first].substr(0, byte_offset(lines[first], where.begin.column));
    const auto suffix = lines[last].substr(byte_offset(lines[last], where.end.column));
    lines[first] = prefix + std::string(toml_value) + suffix;
    lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(first) + 1,
                lines.begin() + static_cast<std::ptrdiff_t>(last) + 1);
    return join_lines(lines);
  }

  // 2. Its section header exists: uncomment "# name = ..." or append to the section.
  const auto ending = line_ending_of(lines);
  std::optional<std::size_t> header;
  std::size_t section_end = lines.size();
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto opened = section_header(lines[i]);
    if (!opened) continue;
    if (header) {
      section_end = i;
      break;
    }
    if (*opened == section) header = i;
  }
  if (header) {
    for (std::size_t i = *header + 1; i < section_end; ++i) {
      if (is_commented_key(lines[i], name)) {
        const auto indent = lines[i].substr(0, lines[i].size() - trim_left(lines[i]).size());
        lines[i] = indent + new_line + ending;
        return join_lines(lines);
      }
    }
    // After the section's last key, so comments that introduce the next section stay with it.
    std::size_t last_content = *header;
    for (std::size_t i = *header + 1; i < section_end; ++i) {
      const auto content = trim_left(lines[i]);
      if (!content.empty() && content.front() != '#' && content.front() != '\n' && content.front() != '\r') {
        last_content = i;
      }
    }
    if (!lines[last_content].ends_with('\n')) lines[last_content] += ending;
    lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(last_content) + 1, new_line + ending);
    return join_lines(lines);
  }

  // 3. No such section yet: add it at the end.
  std::string text(file_text);
  if (!text.empty() && !text.ends_with('\n')) text += ending;
  if (!text.empty()) text += ending;
  text += "[" + std::string(section) + "]" + ending + new_line + ending;
  return text;
}

Result<FileChange> set_in_file(const Paths& paths, std::string_view key, std::string_view value) {
  const auto wanted = ascii_lowercase(key);
  const KeySpec* spec = find_key(wanted);
  if (spec == nullptr) return fail(unknown_key_message(key));
  Config scratch = defaults();
  if (auto problem = spec->store_text(value, scratch)) return fail(spec->key() + ": " + problem->text);
  FileChange change{spec->key(), std::nullopt, to_toml(spec->read(scratch))};

  auto existing = read_config_file(paths.config_file);
  if (!existing) return fail(existing.error().text);
  const std::string old_text = existing->value_or(default_file_text());
  const auto file_name = paths.config_file.string();
  auto old_root = parse_toml(old_text, file_name);
  if (!old_root) return fail(old_root.error().text);
  if (const auto* node = (*old_root)[spec->section][spec->name].node()) {
    std::ostringstream shown;
    node->visit([&shown](const auto& current) { shown << current; });
    change.before = shown.str();
  }

  auto new_text = edit_config_text(old_text, spec->section, spec->name, change.after);
  if (!new_text) return fail(new_text.error().text);
  // The edited file must be a valid config on its own (env and flags aside).
  if (auto checked = load_text(*new_text, file_name, {}, {}); !checked) {
    return fail("not changing " + file_name + ", the result would not load:\n" + describe(checked.error()));
  }

  mode_t mode = kNewFileMode;
  struct stat info {};
  if (::stat(paths.config_file.c_str(), &info) == 0) mode = info.st_mode & 07777;
  if (auto created = create_parent(paths.config_file); !created) return fail(created.error().text);
  if (auto written = write_atomically(paths.config_file, *new_text, mode); !written) return fail(written.error().text);
  return change;
}

}  // namespace taho::config
