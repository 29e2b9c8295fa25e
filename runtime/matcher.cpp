#include "runtime/matcher.hpp"

#include "runtime/state/key_record.hpp"
#include "runtime/state/matcher_state.hpp"
#include "runtime/state/migration.hpp"

#include <algorithm>
#include <functional>
#include <stdexcept>
#include <unordered_map>

namespace cep::runtime {

MatcherStats &MatcherStats::operator+=(const MatcherStats &s) {
  events += s.events;
  matches += s.matches;
  timeouts += s.timeouts;
  evicted += s.evicted;
  for (std::size_t r = 0; r < kEvictReasons; ++r) {
    evicted_by[r] += s.evicted_by[r];
  }
  dropped += s.dropped;
  live_runs += s.live_runs;
  peak_runs += s.peak_runs;
  live_keys += s.live_keys;
  peak_keys += s.peak_keys;
  bound_events += s.bound_events;
  peak_bound_events += s.peak_bound_events;
  state_bytes += s.state_bytes;
  peak_state_bytes += s.peak_state_bytes;
  bound_event_bytes += s.bound_event_bytes;
  windows += s.windows;
  late_counted += s.late_counted;
  late_missed += s.late_missed;
  return *this;
}

// docs/semantics.md §6. A strict weak order: every key below is compared in turn.
bool MatchOutput::before(const MatchOutput &a, const MatchOutput &b) {
  // 1. completion time (end-of-input completions carry kEndOfTime and so come last)
  if (a.completion_time != b.completion_time) {
    return a.completion_time < b.completion_time;
  }
  // 2. time-driven (timeouts, absences, releases by them) before event completions, then among
  //    event completions by the completing event's arrival
  if (a.time_driven != b.time_driven) {
    return a.time_driven;
  }
  if (!a.time_driven && a.completion_seq != b.completion_seq) {
    return a.completion_seq < b.completion_seq;
  }
  // 3. the operator id (declaration order under `cep run`)
  if (a.operator_id != b.operator_id) {
    return a.operator_id < b.operator_id;
  }
  // 4. match start: its first event's time, then arrival
  if (a.start_time != b.start_time) {
    return a.start_time < b.start_time;
  }
  if (a.start_seq != b.start_seq) {
    return a.start_seq < b.start_seq;
  }
  // 5. the matched events in match order by their place (event time, then arrival); a prefix
  //    sorts first
  return a.events < b.events;
}

// A record's fingerprint: two independent 64-bit hashes (std::hash and FNV-1a), so a changed
// record going unnoticed is out of the question in practice.
struct Matcher::ExportedKeys {
  using Fingerprint = std::pair<std::uint64_t, std::uint64_t>;
  std::unordered_map<std::string, Fingerprint> keys;

  static Fingerprint of(std::string_view bytes) {
    std::uint64_t fnv = 0xcbf29ce484222325ULL;
    for (char c : bytes) {
      fnv = (fnv ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
    }
    return {std::hash<std::string_view>()(bytes), fnv};
  }
};

Matcher::Matcher() = default;
Matcher::~Matcher() = default;

void Matcher::restoreState(const MatcherState &state) {
  std::string bytes;
  encodeMatcherState(state, bytes);
  restore(bytes);
}

void Matcher::assumeExported() {
  MatcherChanges all;
  exportChanges(all);
}

void Matcher::exportChanges(MatcherChanges &out) {
  out.clear();
  MatcherState st;
  exportState(st);
  encodeMatcherHeader(headerOf(st), out.header);
  out.full = exported_ == nullptr;
  auto now = std::make_unique<ExportedKeys>();
  now->keys.reserve(st.keys.size());
  std::vector<std::string> records = encodeKeyRecords(st);
  for (std::size_t i = 0; i < st.keys.size(); ++i) {
    std::string &record = records[i];
    ExportedKeys::Fingerprint print = ExportedKeys::of(record);
    const std::string &key = st.keys[i].key_json;
    if (exported_ != nullptr) {
      auto was = exported_->keys.find(key);
      bool same = was != exported_->keys.end() && was->second == print;
      if (was != exported_->keys.end()) {
        exported_->keys.erase(was);
      }
      if (same) {
        now->keys.emplace(key, print);
        continue;
      }
    }
    out.put.emplace_back(key, std::move(record)); // keys come sorted
    now->keys.emplace(key, print);
  }
  if (exported_ != nullptr) {
    for (auto &[key, print] : exported_->keys) { // what is left is gone
      out.erased.push_back(key);
    }
    std::sort(out.erased.begin(), out.erased.end());
  }
  exported_ = std::move(now);
}

MigrationReport Matcher::adoptFrom(Matcher &old) {
  (void)old;
  throw std::logic_error("adoptFrom without canAdopt (pattern " + std::string(patternName()) + ")");
}

} // namespace cep::runtime
