#include "runtime/state_bounds.hpp"

#include "runtime/io/json_writer.hpp"

#include <algorithm>

namespace cep::runtime {

std::string_view evictReasonName(EvictReason reason) {
  switch (reason) {
  case EvictReason::RunsPerKey:
    return "max-runs-per-key";
  case EvictReason::StateBytes:
    return "max-state-bytes";
  case EvictReason::Ttl:
    return "ttl";
  }
  return "?";
}

std::string formatDurationMs(std::int64_t ms) {
  static constexpr std::pair<std::int64_t, const char *> kUnits[] = {
      {86'400'000, "d"}, {3'600'000, "h"}, {60'000, "m"}, {1'000, "s"}};
  for (const auto &[size, unit] : kUnits) {
    if (ms != 0 && ms % size == 0) {
      return std::to_string(ms / size) + unit;
    }
  }
  return std::to_string(ms) + "ms";
}

void appendEvictedRecord(std::string &out, std::string_view pattern, std::string_view key_json,
                         EvictReason reason, std::string_view state, std::int64_t start_time,
                         std::int64_t at_time, const std::vector<std::string_view> &steps,
                         const std::vector<bool> &negated,
                         const std::vector<EvictedEvent> &events) {
  JsonWriter w(out);
  w.beginObject();
  w.key("@pattern");
  w.writeString(pattern);
  w.key("@key");
  w.writeRaw(key_json);
  w.key("@reason");
  w.writeString(evictReasonName(reason));
  w.key("@state");
  w.writeString(state);
  w.key("@start");
  w.writeTime(start_time);
  w.key("@at");
  w.writeTime(at_time);
  w.key("@events");
  w.beginObject();
  for (std::size_t s = 0; s < steps.size(); ++s) {
    if (s < negated.size() && negated[s]) {
      continue;
    }
    w.key(steps[s]);
    w.beginArray();
    for (const EvictedEvent &e : events) {
      if (e.step != static_cast<std::int32_t>(s)) {
        continue;
      }
      if (e.event->raw_size > 0) {
        w.writeRaw(e.event->rawRecord());
      } else {
        w.writeNull();
      }
    }
    w.endArray();
  }
  w.endObject();
  w.endObject();
}

namespace {

std::string limitText(const StateBounds &bounds, EvictReason reason) {
  switch (reason) {
  case EvictReason::RunsPerKey:
    return "--max-runs-per-key " + std::to_string(bounds.max_runs_per_key);
  case EvictReason::StateBytes:
    return "--max-state-bytes " + std::to_string(bounds.max_state_bytes);
  case EvictReason::Ttl:
    return "--key-ttl " + formatDurationMs(bounds.key_ttl_ms);
  }
  return "?";
}

} // namespace

void EvictionLog::evicted(std::string_view pattern, EvictReason reason, std::string_view key_json,
                          std::string_view record) {
  ++total_;
  auto it = std::find_if(patterns_.begin(), patterns_.end(),
                         [&](const PatternCounts &p) { return p.name == pattern; });
  if (it == patterns_.end()) {
    patterns_.push_back(PatternCounts{std::string(pattern), {0, 0, 0}});
    it = patterns_.end() - 1;
  }
  std::uint64_t &count = it->by_reason[static_cast<std::size_t>(reason)];
  if (++count == 1 && report_ != nullptr && reason == EvictReason::Ttl) {
    *report_ << program_ << ": pattern `" << pattern << "`: " << limitText(bounds_, reason)
             << " passed, dropping the partial matches of keys without an event that long "
                "(first at key "
             << key_json << ")\n";
  } else if (count == 1 && report_ != nullptr) {
    // The first eviction of a pattern for a reason is reported at once; the rest are counted
    // and summed up by finish().
    *report_ << program_ << ": pattern `" << pattern << "`: " << limitText(bounds_, reason)
             << " reached, evicting the oldest partial matches (first at key " << key_json
             << "); add `within` to the pattern or raise the limit\n";
  }
  if (records_ != nullptr) {
    records_->write(record.data(), static_cast<std::streamsize>(record.size()));
    records_->put('\n');
  }
}

void EvictionLog::finish() {
  if (finished_) {
    return;
  }
  finished_ = true;
  if (report_ == nullptr) {
    return;
  }
  for (const PatternCounts &p : patterns_) {
    *report_ << program_ << ": pattern `" << p.name
             << "`: " << p.by_reason[0] + p.by_reason[1] + p.by_reason[2]
             << " partial matches evicted (";
    bool first = true;
    for (EvictReason reason :
         {EvictReason::RunsPerKey, EvictReason::StateBytes, EvictReason::Ttl}) {
      std::uint64_t n = p.by_reason[static_cast<std::size_t>(reason)];
      if (n == 0) {
        continue;
      }
      *report_ << (first ? "" : ", ") << limitText(bounds_, reason) << ": " << n;
      first = false;
    }
    *report_ << ")" << (records_ != nullptr ? ", written to --evicted-output" : "") << '\n';
  }
}

} // namespace cep::runtime
