// The accumulator state of one window, pane or session: a CELL, a run of 8-byte slots laid out
// by CellLayout from the spec. Slot 0 counts the cell's events (count(p) reads it); then each
// accumulator takes its slots:
//   count(p) 0 | count(p.f) 1: n | sum 1: sum | avg 2: sum, n | min/max 2: value, has |
//   first/last 4: time, seq, value, flags (1 has, 2 null) | count_distinct 1: DistinctSet* |
//   and with spec.keep_events one more slot at the end: EventList*.
// Strings (min/max/first/last of a string) are held as std::string* in the value slot. A
// count+sum cell is 2 slots (16 bytes), so a tumbling pane with its index and first arrival is
// 32 bytes. Cells that own heap objects must be destroyed with destroy().
//
// Example (a hopping window from its panes):
//   CellLayout layout(spec);
//   std::vector<Slot> w(layout.width());
//   layout.init(w.data());
//   for (const Slot *pane : panes) layout.combine(w.data(), pane);
//   AggValue v = layout.result(w.data(), 0);
//   layout.destroy(w.data());
#pragma once

#include "runtime/aggregate/result.hpp"
#include "runtime/aggregate/spec.hpp"
#include "runtime/snapshot_codec.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

namespace cep::runtime::aggregate {

// The distinct non-null values of a field: numbers by their 8 bytes (-0.0 as 0.0), strings as
// they are, each with how many times it occurs (rolling windows remove values again).
using DistinctKey = std::string;
struct DistinctSet {
  std::unordered_map<DistinctKey, std::uint64_t> counts;
  std::size_t heapBytes() const;
};
DistinctKey distinctKey(FieldKind k, const Slot &v);
DistinctKey distinctKeyOf(const AggValue &v); // the same key from a non-null AggValue

// A cell as plain values, owning nothing through a slot: the reference runtime
// (reference.hpp) keeps restored panes, sessions and running cells this way and builds its
// snapshots' cells from it. CellLayout::exportState / importState convert; what a slot means
// per function is in the layout above.
struct AccState {
  std::int64_t n = 0;    // count(p.f); avg: the non-null values
  std::int64_t isum = 0; // sum, avg of int and duration (wrapping)
  double fsum = 0;       // sum, avg of float
  bool has = false;      // min/max: a non-null value seen; first/last: an event seen
  AggValue value;        // min/max: the best value; first/last: the field (null when null)
  std::int64_t time = 0; // first/last: the event's time and arrival
  std::uint64_t seq = 0;
  std::map<DistinctKey, std::uint64_t> distinct; // count_distinct: value -> occurrences
};
struct CellState {
  std::uint64_t events = 0;
  std::vector<AccState> accs; // per accumulator
  std::vector<EventId> ids;   // keep_events: as EventList
  bool overflow = false;
};

// The events of a cell for `--with-events`: all of them while there are at most
// kMaxEventsKept, afterwards only their count (`ids` cleared, `overflow` set).
struct EventList {
  std::vector<EventId> ids;
  bool overflow = false;
};

class CellLayout {
public:
  explicit CellLayout(const AggregateSpec &spec);

  std::size_t width() const { return width_; }
  const AggregateSpec &spec() const { return *spec_; }

  void init(Slot *c) const; // an empty cell
  void add(Slot *c, const AggInput &in) const;
  // What add() does past the event count, on a cell's other slots kept apart from its count
  // (a pane column's row, pane_columns.hpp): `accs` is slot 1 on, `n` the event count after.
  void addAccs(Slot *accs, std::uint64_t n, const AggInput &in) const;
  // Every accumulator is count(p) and no events are kept: the cell is its count alone.
  bool countsOnly() const { return counts_only_; }
  // Adds the events of `src` to `dst` (order-independent: first/last compare time, arrival).
  void combine(Slot *dst, const Slot *src) const;
  void destroy(Slot *c) const;
  std::uint64_t count(const Slot *c) const { return static_cast<std::uint64_t>(c[0].i); }
  AggValue result(const Slot *c, std::size_t acc) const;
  // Fills `r.values`, `event_count` and the events.
  void fill(const Slot *c, WindowResult &r) const;
  // Heap bytes the cell owns (strings, distinct sets, event lists), for AggregateStats.
  std::size_t heapBytes(const Slot *c) const;
  std::size_t distinctBytes(const Slot *c) const;

  // Snapshot encoding of a cell (per accumulator in spec order; see aggregator.hpp).
  void write(SnapshotWriter &w, const Slot *c) const;
  void read(SnapshotReader &r, Slot *c) const; // `c` must be init()ed
  // The cell as plain values, and back (into an init()ed cell; destroy() it after use).
  CellState exportState(const Slot *c) const;
  void importState(const CellState &s, Slot *c) const;

private:
  const AggregateSpec *spec_;
  std::vector<std::uint32_t> offset_; // first slot of each accumulator
  std::uint32_t events_slot_ = 0;     // EventList* (keep_events), else 0
  std::size_t width_ = 1;
  bool counts_only_ = true; // one slot, the event count: add and combine touch nothing else
};

// Values as the snapshot codec writes them: bool u8, int/time/duration i64, float f64,
// string str; `null` first as a u8 where a value may be null.
void writeValue(SnapshotWriter &w, const AggValue &v);
AggValue readValue(SnapshotReader &r, FieldKind kind);
// Field `f` of `in` (not null) in a cell's value representation: bool as 0/1 in `i`, the
// other kinds as they are (strings are read by the caller).
Slot numericSlot(const AggInput &in, std::int32_t f, FieldKind k);
// A value of `in` as an AggValue (null when the slot is null).
AggValue valueOf(const AggInput &in, std::int32_t field, FieldKind kind);
// Three-way comparison of two non-null values of the same kind (strings bytewise).
int compareValues(const AggValue &a, const AggValue &b);

} // namespace cep::runtime::aggregate
