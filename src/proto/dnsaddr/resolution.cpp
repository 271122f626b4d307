#include "proto/dnsaddr/resolution.hpp"

#include <algorithm>

namespace taho::dnsaddr {

Expected<Multiaddr, TxtError> parse_txt_record(std::string_view record) {
  if (!record.starts_with(txt_prefix)) return Unexpected<TxtError>{TxtError{TxtErrc::not_dnsaddr}};
  const std::string_view text = record.substr(txt_prefix.size());
  auto address = Multiaddr::parse(text);
  if (!address) {
    return Unexpected<TxtError>{TxtError{TxtErrc::bad_multiaddr, std::move(address).error().detail}};
  }
  return std::move(*address);
}

bool ends_with(const Multiaddr& address, const Multiaddr& suffix) {
  const auto& all = address.components();
  const auto& tail = suffix.components();
  if (tail.size() > all.size()) return false;
  return std::equal(tail.begin(), tail.end(), all.end() - static_cast<std::ptrdiff_t>(tail.size()));
}

std::optional<DnsaddrTarget> split_dnsaddr(const Multiaddr& address) {
  const auto& components = address.components();
  if (components.empty() || components.front().protocol() != multiaddr::Protocol::dnsaddr) return std::nullopt;
  Multiaddr suffix;
  for (std::size_t i = 1; i < components.size(); ++i) suffix = suffix.append(components[i]);
  return DnsaddrTarget{components.front().value_text(), std::move(suffix)};
}

std::string query_name(std::string_view domain) {
  if (domain.ends_with('.')) domain.remove_suffix(1);
  std::string name(query_label);
  name += '.';
  name += domain;
  return name;
}

Resolution::Resolution(const Multiaddr& address, Limits limits) : limits_(limits) {
  auto target = split_dnsaddr(address);
  if (!target) {
    note("\"" + address.to_string() + "\" does not start with /dnsaddr");
    return;
  }
  enqueue(*target, 0);
}

void Resolution::enqueue(const DnsaddrTarget& target, std::size_t depth) {
  std::string name = query_name(target.domain);
  if (std::find(names_queued_.begin(), names_queued_.end(), name) != names_queued_.end()) return;
  if (depth > limits_.depth_max) {
    note(name + ": not looked up, nested deeper than " + std::to_string(limits_.depth_max) + " levels");
    return;
  }
  if (lookups_started_ >= limits_.lookups_max) {
    note(name + ": not looked up, over " + std::to_string(limits_.lookups_max) + " lookups");
    return;
  }
  ++lookups_started_;
  names_queued_.push_back(name);
  waiting_.push_back(Pending{next_id_++, std::move(name), target.suffix, depth});
}

std::optional<Lookup> Resolution::poll_lookup() {
  if (waiting_.empty()) return std::nullopt;
  Pending next = std::move(waiting_.front());
  waiting_.erase(waiting_.begin());
  Lookup lookup{next.id, next.name};
  in_flight_.push_back(std::move(next));
  return lookup;
}

std::optional<Resolution::Pending> Resolution::take_in_flight(LookupId id) {
  const auto found =
      std::find_if(in_flight_.begin(), in_flight_.end(), [id](const Pending& pending) { return pending.id == id; });
  if (found == in_flight_.end()) return std::nullopt;
  Pending pending = std::move(*found);
  in_flight_.erase(found);
  return pending;
}

void Resolution::handle_txt(LookupId id, std::span<const std::string> records) {
  auto lookup = take_in_flight(id);
  if (!lookup) return;
  if (records.size() > limits_.txt_records_per_lookup_max) {
    note(lookup->name + ": read the first " + std::to_string(limits_.txt_records_per_lookup_max) + " of " +
         std::to_string(records.size()) + " TXT records");
    records = records.first(limits_.txt_records_per_lookup_max);
  }
  for (const auto& record : records) {
    auto address = parse_txt_record(record);
    if (!address) {
      // Other TXT records may share the name; only broken dnsaddr= ones are worth a note.
      if (address.error().code == TxtErrc::bad_multiaddr) {
        note(lookup->name + ": record \"" + record + "\" skipped: " + address.error().detail);
      }
      continue;
    }
    // Records for other peers under the same name are the normal case:
    // skipped without a note.
    if (!ends_with(*address, lookup->suffix)) {
      // A nested /dnsaddr that names no peer may still lead to ours.
      auto nested = split_dnsaddr(*address);
      if (!nested || !nested->suffix.empty()) continue;
      nested->suffix = lookup->suffix;
      enqueue(*nested, lookup->depth + 1);
      continue;
    }
    if (auto nested = split_dnsaddr(*address)) {
      // Both suffixes are tails of this address, so the longer one implies the
      // other; keeping the shorter would let a zone widen what we accept.
      if (nested->suffix.components().size() < lookup->suffix.components().size()) nested->suffix = lookup->suffix;
      enqueue(*nested, lookup->depth + 1);
      continue;
    }
    if (std::find(addresses_.begin(), addresses_.end(), *address) != addresses_.end()) continue;
    if (addresses_.size() >= limits_.addresses_max) {
      if (!noted_address_limit_) note("kept the first " + std::to_string(limits_.addresses_max) + " addresses");
      noted_address_limit_ = true;
      continue;
    }
    addresses_.push_back(std::move(*address));
  }
}

void Resolution::handle_failure(LookupId id, std::string_view reason) {
  auto lookup = take_in_flight(id);
  if (!lookup) return;
  ++failed_lookups_;
  note(lookup->name + ": " + std::string(reason));
}

void Resolution::note(std::string text) {
  if (notes_.size() < limits_.notes_max) notes_.push_back(std::move(text));
}

}  // namespace taho::dnsaddr
