// Bounds on a pattern's partial matches (`cep run --max-runs-per-key N --max-state-bytes B`,
// docs/semantics.md §9, docs/limits.md): what both engines share so that they evict exactly the
// same runs.
//
//  - StateBounds: the three limits (0: unbounded, the default): runs per key, accounted bytes per
//    pattern, and the key TTL in event time (`--key-ttl D`: a key's state is dropped once the
//    watermark reaches D past the key's last event; docs/semantics.md §9).
//  - DistinctEventBytes: the engine-independent accounted state of a pattern, which
//    --max-state-bytes bounds: kRunAccountedBytes per live partial match, plus the raw record
//    length of every distinct event (by arrival) bound by a live partial match or a held match.
//    Each engine reports the events its binding nodes hold (add on bind, remove on free); two
//    nodes holding the same event count it once.
//  - appendEvictedRecord: one `--evicted-output` line.
//  - EvictionLog: where evictions go: a first stderr line per pattern and reason, a summary per
//    pattern at the end, and the records file when one is given. Counting per pattern for
//    --stats is each matcher's own (MatcherStats::evicted).
#pragma once

#include "runtime/event.hpp"

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace cep::runtime {

struct StateBounds {
  std::uint64_t max_runs_per_key = 0; // live partial matches per key; 0: unbounded
  std::uint64_t max_state_bytes = 0;  // accounted bytes per pattern; 0: unbounded
  std::int64_t key_ttl_ms = 0;        // --key-ttl in ms of event time; 0: keys never expire
  bool any() const { return max_runs_per_key != 0 || max_state_bytes != 0 || key_ttl_ms != 0; }
};

// The fixed accounted cost of one live partial match.
constexpr std::uint64_t kRunAccountedBytes = 64;

enum class EvictReason : std::uint8_t { RunsPerKey, StateBytes, Ttl };
constexpr std::size_t kEvictReasons = 3;
// "max-runs-per-key" | "max-state-bytes" | "ttl"
std::string_view evictReasonName(EvictReason reason);
// A duration as --key-ttl takes it, in its largest exact unit: 1d, 90m, 1500ms.
std::string formatDurationMs(std::int64_t ms);

// The raw record bytes of the distinct events held, counted once per event however many nodes
// hold it. Raw lengths need the records kept (RunOptions::keep_raw), which cep run turns on with
// --max-state-bytes.
class DistinctEventBytes {
public:
  void add(const Event &e) {
    if (++holders_[e.seq] == 1) {
      bytes_ += e.raw_size;
    }
  }
  void remove(const Event &e) {
    auto it = holders_.find(e.seq);
    if (it != holders_.end() && --it->second == 0) {
      bytes_ -= e.raw_size;
      holders_.erase(it);
    }
  }
  std::uint64_t bytes() const { return bytes_; }
  std::size_t events() const { return holders_.size(); }

private:
  std::unordered_map<std::uint64_t, std::uint32_t> holders_; // arrival seq -> nodes holding it
  std::uint64_t bytes_ = 0;
};

// One bound event of an evicted run, in match order.
struct EvictedEvent {
  std::int32_t step = -1;
  const Event *event = nullptr;
};

// One line of --evicted-output (no newline), docs/semantics.md §9:
// {"@pattern":"p","@key":<key>,"@reason":"max-runs-per-key","@state":"b:loop",
//  "@start":"<first bound event's time>","@at":"<eviction time>","@events":{"a":[<raw>...],...}}
// `steps` are the pattern's step names, `negated[i]` true for steps that bind nothing (left out).
void appendEvictedRecord(std::string &out, std::string_view pattern, std::string_view key_json,
                         EvictReason reason, std::string_view state, std::int64_t start_time,
                         std::int64_t at_time, const std::vector<std::string_view> &steps,
                         const std::vector<bool> &negated, const std::vector<EvictedEvent> &events);

class EvictionLog {
public:
  // `report`: stderr in the CLI (null: silent); `records`: the --evicted-output stream or null.
  EvictionLog(StateBounds bounds, std::ostream *report) : bounds_(bounds), report_(report) {}

  void setRecords(std::ostream *records) { records_ = records; }
  // The program its report lines start with ("cep run" unless set: `cep serve` sets its own).
  void setProgram(std::string program) { program_ = std::move(program); }
  bool wantsRecords() const { return records_ != nullptr; }
  const StateBounds &bounds() const { return bounds_; }

  // One evicted run. `record` (empty unless wantsRecords()) is written as one line.
  void evicted(std::string_view pattern, EvictReason reason, std::string_view key_json,
               std::string_view record);
  // One summary line per pattern that evicted anything. Once.
  void finish();
  std::uint64_t total() const { return total_; }

private:
  std::string program_ = "cep run";
  struct PatternCounts {
    std::string name;
    std::uint64_t by_reason[kEvictReasons] = {0, 0, 0};
  };
  StateBounds bounds_;
  std::ostream *report_ = nullptr;
  std::ostream *records_ = nullptr;
  std::vector<PatternCounts> patterns_; // in order of first eviction
  std::uint64_t total_ = 0;
  bool finished_ = false;
};

} // namespace cep::runtime
