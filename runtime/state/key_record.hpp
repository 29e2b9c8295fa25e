// A matcher's state cut into pieces that can be stored apart: one HEADER (the part of CEPISNAP
// that is not per key: pattern, time, statistics, the evicted and dropped counters, the draining
// flag, and how many keys there are) and one KEY RECORD per key (its runs and held matches with
// every node and event they reach, self-contained). A checkpoint writes the header and the
// records of the keys that changed (Matcher::exportChanges, runtime/matcher.hpp); recovery
// reassembles the whole state from the header and every record, in any order:
// encodeMatcherState(assembleMatcherState(header, records, ...)) is BYTE-EQUAL to the
// Matcher::snapshot() of the matcher they were taken from (the keys sorted by key text, events
// numbered in the order the nodes first reach them, an event under two keys kept once, by its
// arrival seq). The model and CEPISNAP are runtime/state/matcher_state.hpp.
//
// Layouts (encodings of runtime/snapshot_codec.hpp; each starts with a version byte and a kind):
//   header: u8 version (kKeyRecordVersion), u8 'H', str pattern, i64 time,
//           u64 x9 statistics: events matches timeouts peak_runs peak_keys peak_bound_events
//                              peak_state_bytes evicted dropped,
//           u8 draining (0 or 1), u64 key count (the number of key records of the state)
//   key record: u8 version, u8 'K', str key JSON,
//           u64 event count, per event: an event (runtime/snapshot_codec.hpp)
//           u64 node count, per node (an earlier node first): u64 event, str step name,
//             i64 previous node (-1: none)
//           u64 run count, per run: str state name, u32 counter, i64 last node, i64 start time,
//             u64 start seq, i64 previous time
//           u64 held count, per held match: i64 last node, i64 start time, u64 start seq
//           i64 last event time, u64 last event seq (version 2 on; matcher_state.hpp's
//             StateKey: kNoLastEvent and 0 when not tracked, and when reading version 1)
//   Events and nodes are numbered within the record, in the order its runs, then its held
//   matches, first reach them (exportState's order restricted to one key).
// Bad bytes throw std::runtime_error "bad key record: <reason>" ("bad matcher header: <reason>"
// for a header).
//
// Example (a checkpoint and a recovery):
//   MatcherChanges c;
//   matcher.exportChanges(c);                  // header + records of the keys that changed
//   store.put("header", c.header);
//   for (auto &[key, record] : c.put) store.put(key, record);
//   for (auto &key : c.erased) store.erase(key);
//   ...
//   std::vector<std::string_view> records = every record in the store;
//   restoreFromRecords(*fresh, header, records, schema); // fresh->snapshot() == the matcher's
#pragma once

#include "runtime/matcher.hpp"
#include "runtime/state/matcher_state.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace cep::runtime {

inline constexpr std::uint8_t kKeyRecordVersion = 2;
// Version 1 (no last event per key) is still read; the header is the same in both.
inline constexpr std::uint8_t kKeyRecordOldestVersion = 1;
// The kind bytes after the version (a writer that encodes records from its own structures, as
// the native matcher's exportChanges does, writes the same layout).
inline constexpr char kMatcherHeaderKind = 'H';
inline constexpr char kKeyRecordKind = 'K';

// The per-matcher part of a state (everything in CEPISNAP but the keys, and their count).
struct MatcherHeader {
  std::string pattern;
  std::int64_t time = INT64_MIN;
  MatcherStats stats; // the counters and peaks CEPISNAP keeps (no live counts)
  bool draining = false;
  std::uint64_t keys = 0; // how many key records the state has
};

// One key's part of a state, its events and nodes numbered within it (key.runs[i].last and
// key.held[i].last index `nodes`, nodes[i].event indexes `events`).
struct KeyRecord {
  StateKey key;
  std::vector<EventRef> events;
  std::vector<StateNode> nodes;
};

MatcherHeader headerOf(const MatcherState &state);
// Appends the header's encoding to `out`.
void encodeMatcherHeader(const MatcherHeader &header, std::string &out);
// Reads a header; its pattern must be `pattern`.
MatcherHeader decodeMatcherHeader(std::string_view in, std::string_view pattern);

// Appends the record of state.keys[key_index] to `out`.
void encodeKeyRecord(const MatcherState &state, std::size_t key_index, std::string &out);
// The records of every key of `state`, in its key order (each equal to encodeKeyRecord's; one
// pass over the state instead of a map per key).
std::vector<std::string> encodeKeyRecords(const MatcherState &state);
// Reads a record, matching its events to `schema` by name; checks that nodes refer to earlier
// nodes and to events, runs and held matches to nodes, and that every event is reached.
KeyRecord decodeKeyRecord(std::string_view in, const Schema &schema);

// The whole state from a header and every key record of it (in any order): keys sorted by key
// text, nodes and events numbered as Matcher::exportState numbers them. Throws "bad key record:
// <reason>" when the records do not make one state (a key twice, a count other than the
// header's).
MatcherState assembleMatcherState(std::string_view header,
                                  const std::vector<std::string_view> &records,
                                  std::shared_ptr<const Schema> schema, std::string_view pattern);

// restore() of `fresh` (a matcher of the header's pattern that has seen nothing) from a header
// and every key record: encodeMatcherState(assembleMatcherState(...)) then Matcher::restore.
void restoreFromRecords(Matcher &fresh, std::string_view header,
                        const std::vector<std::string_view> &records,
                        std::shared_ptr<const Schema> schema);

} // namespace cep::runtime
