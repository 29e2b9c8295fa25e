// Snapshots of an InterpMatcher (Matcher::snapshot / restore): the whole keyed state in a
// versioned, self-describing binary format that refers to NFA states, steps, event types and
// fields by NAME, so a snapshot survives recompiling the same rules (state indices may change;
// names do not).
//
// Layout (encodings of runtime/snapshot_codec.hpp):
//   "CEPISNAP" u32 version (kSnapshotVersion)
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
//     u64 held count, per held match: i64 last node, i64 start time, u64 start seq
// Deadlines and timers are recomputed from the NFA on restore.
#pragma once

#include <cstdint>

namespace cep::compiler::interp {

inline constexpr char kSnapshotMagic[8] = {'C', 'E', 'P', 'I', 'S', 'N', 'A', 'P'};
inline constexpr std::uint32_t kSnapshotVersion = 3;
// Versions 1 (no eviction counter) and 2 (no dropped counter, no draining flag) are still
// read.
inline constexpr std::uint32_t kSnapshotOldestVersion = 1;

} // namespace cep::compiler::interp
