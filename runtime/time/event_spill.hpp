// `cep run --order sort` beyond memory: an external merge sort of the held events.
//
// With --order sort every event is held until the inputs end (the watermark stays below them
// all). Once the held events pass a memory budget (--sort-memory), the driver hands them, in
// (time, arrival) order, to writeRun(), which writes them to a run file in a private temporary
// folder (under --sort-dir) and lets the memory go. At the end the driver writes what is held as
// a last run and releases the events of every run merged in (time, seq) order: `seq` is the
// arrival order over the whole run (Event::seq), so the order is exactly the in-memory one and
// the output is byte-identical (docs/semantics.md §3).
//
// A run file is a sequence of records: u32 byte length, then one event in the snapshot codec's
// encoding (runtime/snapshot_codec.hpp: type and fields by name, time, seq, input, line, raw
// record). Files are removed when the spill is destroyed (a `kill -9` leaves the folder
// behind: its name starts with `cep-sort-`).
//
//   EventSpill spill(schema, "/tmp", 1 << 30);          // throws SpillError: cannot create
//   driver.spillTo(&spill);                             // Driver::push accounts, spills
//   ...                                                 // Driver::finish merges
//   spill.runs(), spill.bytesWritten()                  // for the stderr summary
#pragma once

#include "runtime/event.hpp"
#include "runtime/schema.hpp"

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace cep::runtime {

// A run file could not be created, written or read back (a full disk, a removed folder): the
// message names the file and the reason. A runtime failure, not a bug.
struct SpillError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class EventSpill {
public:
  // Creates a private folder `cep-sort-XXXXXX` under `parent`. Throws SpillError.
  EventSpill(const Schema &schema, const std::string &parent, std::uint64_t budget_bytes);
  ~EventSpill(); // removes the run files and the folder
  EventSpill(const EventSpill &) = delete;
  EventSpill &operator=(const EventSpill &) = delete;

  // Called for each held event: true once the events held since the last run pass the budget.
  bool account(const Event &e) {
    held_bytes_ += heldBytes(e);
    return held_bytes_ > budget_;
  }
  // Writes `events` (in (time, seq) order) as one run and resets the account. Throws SpillError.
  void writeRun(const std::vector<EventRef> &events);

  // After the last writeRun: the next event over every run in (time, seq) order; false at the
  // end. Throws SpillError (a run file that cannot be read back).
  bool next(EventRef &out);

  std::size_t runs() const { return runs_.size(); }
  bool merging() const { return merging_; } // next() has been called
  std::uint64_t bytesWritten() const { return bytes_written_; }
  std::uint64_t eventsWritten() const { return events_written_; }
  const std::string &folder() const { return folder_; }
  std::uint64_t budget() const { return budget_; }

  // What one held event costs in memory: its block (header, slots, strings, raw record) and
  // the buffer's entry.
  std::size_t heldBytes(const Event &e) const;

private:
  struct Run; // one run file being read back in the merge
  void startMerge();
  EventRef decode(const Run &run) const;

  const Schema &schema_;
  std::uint64_t budget_;
  std::uint64_t held_bytes_ = 0;
  std::string folder_;
  std::vector<std::unique_ptr<Run>> runs_;
  std::vector<Run *> heap_; // the merge: runs with an event, earliest on top
  bool merging_ = false;
  std::uint64_t bytes_written_ = 0;
  std::uint64_t events_written_ = 0;
};

} // namespace cep::runtime
