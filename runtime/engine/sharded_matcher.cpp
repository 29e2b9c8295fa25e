#include "runtime/engine/sharded_matcher.hpp"

#include "runtime/engine/worker_pool.hpp"
#include "runtime/state/key_record.hpp"
#include "runtime/state/migration.hpp"
#include "support/internal_error.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace cep::runtime {

namespace {

// The header of the shards' headers together: counters summed, the latest time, one key count.
MatcherHeader mergeHeaders(const std::vector<MatcherHeader> &headers) {
  MatcherHeader h = headers[0];
  h.stats = {};
  h.keys = 0;
  for (const MatcherHeader &one : headers) {
    h.stats += one.stats;
    h.time = std::max(h.time, one.time);
    h.keys += one.keys;
  }
  return h;
}

// A node of `key` that binds an event: its event decides the key's shard. -1: none.
std::int64_t boundNode(const StateKey &key) {
  for (const StateRun &run : key.runs) {
    if (run.last >= 0) {
      return run.last;
    }
  }
  for (const StateHeld &held : key.held) {
    if (held.last >= 0) {
      return held.last;
    }
  }
  return -1;
}

// An aggregate's key records come under its window header (runtime/native/native_aggregate.hpp
// isAggregateHeader), not a MatcherHeader.
bool windowHeader(std::string_view header) {
  return header.starts_with("CEPASNAP");
}

} // namespace

ShardedMatcher::ShardedMatcher(std::vector<std::unique_ptr<Matcher>> shards)
    : shards_(std::move(shards)), changes_(shards_.size()) {
  CEP_ASSERT(!shards_.empty(), "a sharded matcher without shards");
}

ShardedMatcher::~ShardedMatcher() = default;

std::uint32_t ShardedMatcher::shardOf(const Event &event) const {
  return workerOf(shards_[0]->routeHash(event), shardCount());
}

void ShardedMatcher::advanceTime(std::int64_t time, std::vector<MatchOutput> &out) {
  for (auto &shard : shards_) {
    shard->advanceTo(time, false, out);
  }
}

void ShardedMatcher::advanceWatermark(std::int64_t watermark, std::vector<MatchOutput> &out) {
  for (auto &shard : shards_) {
    shard->advanceTo(watermark, true, out);
  }
}

void ShardedMatcher::onEvent(const EventRef &event, std::vector<MatchOutput> &out) {
  shards_[shardOf(*event)]->onEvent(event, out);
}

bool ShardedMatcher::onLateEvent(const EventRef &event, std::vector<MatchOutput> &out) {
  return shards_[shardOf(*event)]->onLateEvent(event, out);
}

void ShardedMatcher::finish(std::vector<MatchOutput> &out) {
  for (auto &shard : shards_) {
    shard->finish(out);
  }
}

MatcherStats ShardedMatcher::stats() const {
  MatcherStats sum;
  for (const auto &shard : shards_) {
    sum += shard->stats();
  }
  return sum;
}

std::int64_t ShardedMatcher::nextTimer() const {
  std::int64_t next = kEndOfTime;
  for (const auto &shard : shards_) {
    next = std::min(next, shard->nextTimer());
  }
  return next;
}

void ShardedMatcher::exportState(MatcherState &out) const {
  if (shards_.size() == 1) {
    shards_[0]->exportState(out);
    return;
  }
  std::vector<MatcherState> states(shards_.size());
  std::vector<MatcherHeader> headers;
  std::vector<std::string> records;
  for (std::size_t w = 0; w < shards_.size(); ++w) {
    shards_[w]->exportState(states[w]);
    headers.push_back(headerOf(states[w]));
    std::vector<std::string> mine = encodeKeyRecords(states[w]);
    records.insert(records.end(), std::make_move_iterator(mine.begin()),
                   std::make_move_iterator(mine.end()));
  }
  std::string header;
  encodeMatcherHeader(mergeHeaders(headers), header);
  std::vector<std::string_view> views(records.begin(), records.end());
  // Numbered as one matcher numbers its state (key_record.hpp), whatever shard a key was on.
  out = assembleMatcherState(header, views, states[0].schema, patternName());
  out.key = states[0].key;
}

void ShardedMatcher::snapshot(std::string &out) const {
  MatcherState st;
  exportState(st);
  encodeMatcherState(st, out);
}

void ShardedMatcher::restore(std::string_view in) {
  MatcherState own;
  shards_[0]->exportState(own); // its schema (a fresh shard: nothing else)
  restoreState(decodeMatcherState(in, own.schema, patternName()));
}

std::vector<MatcherState> ShardedMatcher::split(const MatcherState &state,
                                                const std::vector<EventRef> &events) const {
  const std::size_t n = shards_.size();
  std::vector<std::string> records = encodeKeyRecords(state);
  std::vector<std::vector<std::string_view>> mine(n);
  for (std::size_t k = 0; k < state.keys.size(); ++k) {
    const StateKey &key = state.keys[k];
    std::int64_t node = boundNode(key);
    if (node < 0) {
      throw std::runtime_error("pattern " + std::string(patternName()) + ": key " + key.key_json +
                               " holds no event to place it on one of the " + std::to_string(n) +
                               " workers (--workers)");
    }
    const EventRef &event = events[state.nodes[static_cast<std::size_t>(node)].event];
    mine[shardOf(*event)].push_back(records[k]);
  }
  std::vector<MatcherState> parts(n);
  for (std::size_t w = 0; w < n; ++w) {
    MatcherHeader h = headerOf(state);
    if (w != 0) {
      h.stats = {}; // the counters once, on shard 0
    }
    h.keys = mine[w].size();
    std::string header;
    encodeMatcherHeader(h, header);
    parts[w] = assembleMatcherState(header, mine[w], state.schema, state.pattern);
    parts[w].key = state.key;
  }
  return parts;
}

void ShardedMatcher::restoreState(const MatcherState &state) {
  if (shards_.size() == 1) {
    shards_[0]->restoreState(state);
    return;
  }
  std::vector<MatcherState> parts = split(state, state.events); // throws before any change
  for (std::size_t w = 0; w < shards_.size(); ++w) {
    shards_[w]->restoreState(parts[w]);
  }
}

void ShardedMatcher::exportChanges(MatcherChanges &out) {
  out.clear();
  if (shards_.size() == 1) {
    shards_[0]->exportChanges(out);
    return;
  }
  std::vector<MatcherHeader> headers;
  bool all_full = true, any_full = false;
  for (std::size_t w = 0; w < shards_.size(); ++w) {
    shards_[w]->exportChanges(changes_[w]);
    if (!windowHeader(changes_[w].header)) {
      headers.push_back(decodeMatcherHeader(changes_[w].header, patternName()));
    }
    all_full = all_full && changes_[w].full;
    any_full = any_full || changes_[w].full;
  }
  if (headers.empty()) {
    // An aggregate's: the shards' window headers are equal (each has seen every advance), and
    // its shards are exported together from their first export on, so all or none are full.
    for (const MatcherChanges &c : changes_) {
      CEP_ASSERT(c.header == changes_[0].header && c.full == changes_[0].full,
                 "the workers of aggregate `" + std::string(patternName()) +
                     "` differ in their window header or export");
    }
    out.header = changes_[0].header;
  } else {
    encodeMatcherHeader(mergeHeaders(headers), out.header);
  }
  if (any_full && !all_full) {
    // A receiver of `full` forgets every key not in `put`: then every shard's keys go.
    MatcherState whole;
    exportState(whole);
    std::vector<std::string> records = encodeKeyRecords(whole);
    for (std::size_t k = 0; k < whole.keys.size(); ++k) {
      out.put.emplace_back(whole.keys[k].key_json, std::move(records[k]));
    }
    out.full = true;
    return;
  }
  out.full = all_full;
  for (MatcherChanges &c : changes_) {
    out.put.insert(out.put.end(), std::make_move_iterator(c.put.begin()),
                   std::make_move_iterator(c.put.end()));
    out.erased.insert(out.erased.end(), std::make_move_iterator(c.erased.begin()),
                      std::make_move_iterator(c.erased.end()));
    c.clear();
  }
  // Each shard's are sorted and the shards' keys are disjoint.
  std::sort(out.put.begin(), out.put.end(),
            [](const auto &a, const auto &b) { return a.first < b.first; });
  std::sort(out.erased.begin(), out.erased.end());
}

void ShardedMatcher::assumeExported() {
  for (auto &shard : shards_) {
    shard->assumeExported();
  }
}

MigrationReport ShardedMatcher::checkMigration(const MatcherState &from) const {
  return shards_[0]->checkMigration(from);
}

MigrationReport ShardedMatcher::migrateFrom(const MatcherState &from) {
  if (shards_.size() == 1) {
    return shards_[0]->migrateFrom(from);
  }
  MigrationReport report = checkMigration(from);
  if (!report.ok()) {
    return report;
  }
  // Each key goes to the shard its events hash to under this version's key (as converted).
  MatcherState own;
  shards_[0]->exportState(own);
  std::vector<EventRef> converted = convertEvents(from, *own.schema);
  std::vector<MatcherState> parts = split(from, converted);
  for (std::size_t w = 0; w < shards_.size(); ++w) {
    MigrationReport part = shards_[w]->migrateFrom(parts[w]);
    if (!part.ok()) {
      // checkMigration passed on the whole state: a shard cannot refuse its part.
      throw std::runtime_error("pattern " + std::string(patternName()) + ": worker " +
                               std::to_string(w) + " refused its keys: " + part.reasons[0] +
                               " (internal error)");
    }
    report.runs_moved += part.runs_moved;
    report.keys_moved += part.keys_moved;
    report.held_moved += part.held_moved;
  }
  return report;
}

bool ShardedMatcher::canAdopt(const Matcher &old) const {
  const auto *other = dynamic_cast<const ShardedMatcher *>(&old);
  if (other == nullptr || other->shardCount() != shardCount()) {
    return false;
  }
  for (std::size_t w = 0; w < shards_.size(); ++w) {
    if (!shards_[w]->canAdopt(*other->shards_[w])) {
      return false;
    }
  }
  return true;
}

MigrationReport ShardedMatcher::adoptFrom(Matcher &old) {
  if (!canAdopt(old)) {
    return Matcher::adoptFrom(old); // throws: callers ask canAdopt first
  }
  auto &other = static_cast<ShardedMatcher &>(old);
  MigrationReport report;
  for (std::size_t w = 0; w < shards_.size(); ++w) {
    MigrationReport part = shards_[w]->adoptFrom(*other.shards_[w]);
    if (!part.ok()) {
      CEP_ASSERT(w == 0, "a shard refused what the first adopted"); // canAdopt held for all
      return part;
    }
    report.runs_moved += part.runs_moved;
    report.keys_moved += part.keys_moved;
    report.held_moved += part.held_moved;
  }
  return report;
}

void ShardedMatcher::drain() {
  const std::int64_t at = drainTime();
  for (auto &shard : shards_) {
    if (at == INT64_MIN) {
      shard->drain(); // a pattern: no switch time
    } else {
      shard->drainAt(at);
    }
  }
}

std::int64_t ShardedMatcher::drainTime() const {
  std::int64_t at = INT64_MIN;
  for (const auto &shard : shards_) {
    at = std::max(at, shard->drainTime());
  }
  return at;
}

void ShardedMatcher::drainAt(std::int64_t switch_time) {
  for (auto &shard : shards_) {
    shard->drainAt(switch_time);
  }
}

bool ShardedMatcher::drained() const {
  return std::all_of(shards_.begin(), shards_.end(),
                     [](const auto &shard) { return shard->drained(); });
}

std::uint64_t ShardedMatcher::dropState() {
  std::uint64_t dropped = 0;
  for (auto &shard : shards_) {
    dropped += shard->dropState();
  }
  return dropped;
}

} // namespace cep::runtime
