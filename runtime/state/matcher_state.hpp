// The matcher-state model: the whole keyed state of one pattern's matcher (runs, the events they
// bound, held matches, counters, statistics) as plain structs that refer to NFA states, steps,
// event types and fields by NAME, and its one binary encoding, CEPISNAP. Both engines (the
// reference interpreter, compiler/interp; the native matcher, runtime/native) only map their own
// state to and from this model (names <-> their own indices), so a snapshot written by either
// restores into the other, and a state survives recompiling the same rules (state indices may
// change; names do not). Moving a state into ANOTHER version of the pattern is
// runtime/state/migration.hpp.
//
// CEPISNAP layout (encodings of runtime/snapshot_codec.hpp):
//   "CEPISNAP" u32 version (kMatcherStateVersion)
//   str pattern name
//   i64 current time
//   u64 x7 statistics: events matches timeouts peak_runs peak_keys peak_bound_events
//                      peak_state_bytes
//   u64 evicted (partial matches evicted by state bounds; version 2 on, 0 when reading 1)
//   u64 dropped (runs dropped by Matcher::dropState; version 3 on, 0 when reading 1 and 2)
//   u8 draining (0 or 1: Matcher::drain was called; version 3 on, 0 when reading 1 and 2)
//   u64 event count, then per event: an event (runtime/snapshot_codec.hpp)
//   u64 node count, then per node (an earlier node first): u64 event, str step name,
//     i64 previous node (-1: none)
//   u64 key count, then per key (sorted by key text):
//     str key JSON, u64 run count, per run: str state name, u32 counter, i64 last node,
//       i64 start time, u64 start seq, i64 previous time;
//     u64 held count, per held match: i64 last node, i64 start time, u64 start seq;
//     i64 last event time, u64 last event seq (version 4 on: the key's last event seen by the
//       pattern, kept under --key-ttl; INT64_MIN and 0 when not tracked, and when reading 1-3)
// Deadlines, timers and key expiries are not stored: they are recomputed on restore.
//
// Example (what Matcher::snapshot / restore do):
//   MatcherState st;
//   matcher.exportState(st);                  // engine -> model
//   std::string bytes;
//   encodeMatcherState(st, bytes);            // model -> CEPISNAP
//   MatcherState back = decodeMatcherState(bytes, schema, "p"); // CEPISNAP -> model
#pragma once

#include "runtime/event.hpp"
#include "runtime/matcher.hpp"
#include "runtime/schema.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cep::runtime {

inline constexpr char kMatcherStateMagic[8] = {'C', 'E', 'P', 'I', 'S', 'N', 'A', 'P'};
inline constexpr std::uint32_t kMatcherStateVersion = 4;
// Versions 1 (no eviction counter), 2 (no dropped counter, no draining flag) and 3 (no last event
// per key) are still read.
inline constexpr std::uint32_t kMatcherStateOldestVersion = 1;

// One bound event of a partial or held match: the list of a match's bound events runs from its
// last node back through `prev` to its first.
struct StateNode {
  std::uint64_t event = 0; // index into MatcherState::events
  std::string step;        // the step it is bound to
  std::int64_t prev = -1;  // an earlier node, or -1 (the first bound event)
};

// A partial match: the NFA state it waits in, its loop counter, its last bound event.
struct StateRun {
  std::string state;
  std::uint32_t counter = 0;
  std::int64_t last = -1; // index into MatcherState::nodes; -1: nothing bound
  std::int64_t start_time = 0;
  std::uint64_t start_seq = 0;
  std::int64_t prev_time = 0; // time of the last bound event
};

// A complete match held back by an earlier partial match (docs/semantics.md §5).
struct StateHeld {
  std::int64_t last = -1; // index into MatcherState::nodes
  std::int64_t start_time = 0;
  std::uint64_t start_seq = 0;
};

// No last event: the key's last event is not tracked (no --key-ttl, or an older state).
inline constexpr std::int64_t kNoLastEvent = INT64_MIN;

struct StateKey {
  std::string key_json; // "@key" as written
  std::vector<StateRun> runs;
  std::vector<StateHeld> held;
  // --key-ttl: the key's last event seen by the pattern (time, arrival seq).
  std::int64_t last_time = kNoLastEvent;
  std::uint64_t last_seq = 0;
};

// The pattern's key as names and kinds (not part of CEPISNAP: exportState fills it, a decoded
// state has known == false). Per event type of the pattern's stream, by type name, sorted.
struct StateKeyDef {
  bool known = false;
  bool keyed = false; // `partition by`
  struct TypeKey {
    std::string type;
    std::vector<std::pair<std::string, FieldKind>> fields;
    bool operator==(const TypeKey &o) const { return type == o.type && fields == o.fields; }
  };
  std::vector<TypeKey> types;
};
// Describes a key given by field indices per event type index of `schema` (empty for a type
// outside the stream), as both engines hold it.
StateKeyDef describeKey(const Schema &schema, bool keyed,
                        const std::vector<std::vector<std::int32_t>> &key_fields);

struct MatcherState {
  std::string pattern;
  std::int64_t time = INT64_MIN;
  // events, matches, timeouts, evicted and the peaks; the live counts are not part of a state.
  MatcherStats stats;
  bool draining = false; // Matcher::drain was called (a fresh matcher migrated into ignores it)
  // The schema `events` are of (their types are indices into it).
  std::shared_ptr<const Schema> schema;
  std::vector<EventRef> events; // each once, in the order the nodes first reach them
  std::vector<StateNode> nodes; // an earlier node first
  std::vector<StateKey> keys;   // sorted by key_json
  StateKeyDef key;

  std::uint64_t runCount() const;
  std::uint64_t heldCount() const;
};

// The last event of `key` (a key of `state`) for --key-ttl, as (time, arrival seq): the one it
// holds, or when not tracked (a state written without --key-ttl or by an older version) the
// latest event its runs and held matches bound. Both engines restore keys' expiries from this.
std::pair<std::int64_t, std::uint64_t> lastEventOf(const MatcherState &state, const StateKey &key);

// Appends the CEPISNAP encoding of `state` to `out`.
void encodeMatcherState(const MatcherState &state, std::string &out);
// Reads CEPISNAP: events are matched to `schema` by name, the pattern must be `pattern`, and
// the structure must hold (nodes refer to events and earlier nodes, runs and held matches to
// nodes, keys sorted and distinct, nothing trailing). Anything else throws std::runtime_error
// "bad interpreter snapshot: <reason>" (the name both engines have always used).
MatcherState decodeMatcherState(std::string_view in, std::shared_ptr<const Schema> schema,
                                std::string_view pattern);
// Throws std::runtime_error "bad interpreter snapshot: <why>" (for what an engine finds while
// mapping a decoded state to its own: an unknown state or step name, ...).
[[noreturn]] void failMatcherState(const std::string &why);

} // namespace cep::runtime
