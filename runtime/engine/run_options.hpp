// The options of a run (`cep run`, `cep serve`) that the engine pieces share: ingestion
// (engine/ingest), the driver (engine/driver) and the read loop (engine/run_loop), and the status
// a run ends with.
#pragma once

#include "runtime/engine/output_sink.hpp"
#include "runtime/io/line_reader.hpp"
#include "runtime/state_bounds.hpp"
#include "runtime/time/watermarks.hpp"
#include "support/time_arith.hpp"

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

namespace cep::runtime {

class EventSpill; // runtime/time/event_spill.hpp
class Matcher;    // runtime/matcher.hpp

// What the end of a finite input does with what only time could still settle: timeouts and
// absences whose deadline no event reached, matches a later event could still have changed
// (docs/semantics.md §3, `cep run --at-end`).
enum class AtEnd : std::uint8_t {
  Fire, // time jumps to +infinity: they are written, each marked "@at_end":true
  Drop, // they are counted and left out; time stops at the last event's
};

enum class TimeMode : std::uint8_t {
  Event,      // event time: the time field, watermarks, reordering, lateness (spec §4)
  Processing, // arrival order; each event's time is the wall clock when it is read
};

struct RunOptions {
  TimeMode time = TimeMode::Event;
  std::int64_t max_delay_ms = 0;
  WatermarkMode watermark = WatermarkMode::Auto;
  bool keep_raw = false; // keep each record's text in its event (`--with-events`)
  // Plausible event times, [time_min, time_max) (`--event-time-range`): a record whose time (or
  // an `@watermark` line whose value) is outside is rejected as a dead letter.
  std::int64_t time_min = cep::time::kDefaultTimeMin;
  std::int64_t time_max = cep::time::kDefaultTimeMax;
  bool strict = false;                 // stop at the first rejected record
  std::ostream *report = nullptr;      // rejection reports (stderr); null: silent
  std::ostream *dead_letter = nullptr; // rejected records; null: not written
  std::ostream *late_output = nullptr; // late events as read; null: not written
  // The sinks behind dead_letter and late_output (SinkStream), when they are files: flushed
  // with the output, and a write failure of one stops the run like the output's.
  std::vector<OutputSink *> side_outputs;
  // Flush the output after every step that wrote something (streaming from stdin, processing
  // time), not only in 64 KiB blocks.
  bool flush_each_step = false;
  // `--follow`: regular-file inputs are read on at their end as they grow (`tail -f`); they
  // never end, so their watermark never becomes +infinity from their end.
  bool follow = false;
  AtEnd at_end = AtEnd::Fire;
  // `cep run --workers N` (engine/worker_pool.hpp): the matchers of workers 1 .. N-1, each set
  // the same operators as the run's own matchers (worker 0's), in the same order. Empty: the
  // run matches on the reading thread. Event time only.
  std::vector<std::vector<Matcher *>> worker_sets;
  // With worker_sets, over inputs read to their end (files): the records are decoded on
  // `decode_threads` threads ahead of the reading thread, `decode_block` records at a time
  // (engine/decode_ahead.hpp; the block small only in tests). 0: on the reading thread.
  std::uint32_t decode_threads = 0;
  std::size_t decode_block = 2048;
  // `cep serve --workers N` (engine/worker_pool.hpp, "cep serve"): N > 1 matcher threads over
  // the loop's operator set, every operator a ShardedMatcher of N shards. Event time only.
  std::uint32_t serve_workers = 1;
  // Epoch ms now: ingestion time of events whose type has no time field, and every event's time
  // with TimeMode::Processing. Null: the system clock. The loop never lets it go backwards.
  std::function<std::int64_t()> clock;
  std::size_t read_size = kDefaultReadSize;
  // Longer records are rejected as dead letters without being buffered whole
  // (`--max-record-bytes`; 0: no limit).
  std::size_t max_record_bytes = kDefaultMaxRecordBytes;
  // The matchers' state bounds (MatcherOptions::bounds): the loop does not use them, run
  // snapshots record them (run_snapshot.hpp) so that a run resumes only under the same ones.
  StateBounds state_bounds;
  // Called on the loop thread every 8192 records and once when the last input has ended
  // (`ended`, before its end releases what is held): records and bytes read so far (`cep
  // backtest`'s progress line).
  std::function<void(std::uint64_t records, std::uint64_t bytes, bool ended)> progress;
  // `--order sort` beyond memory (runtime/time/event_spill.hpp); null: held in memory. Must
  // outlive the loop.
  EventSpill *spill = nullptr;
};

enum class RunStatus : std::uint8_t {
  Ok,
  InputError,  // an input could not be opened or read
  Rejected,    // strict mode: a record was rejected
  OutputError, // the output could not be written
  Interrupted, // a stop signal (stop_signals.hpp): what was complete is written, nothing finished
};

// How far a run has read each input in records, so a resumed run (runtime/engine/run_snapshot.hpp)
// can skip what was consumed when it replays an input from its start (where it cannot seek to
// the byte position, runtime/io/inputs.hpp InputPosition).
struct InputProgress {
  std::uint64_t records = 0; // records (non-blank lines) handed to onRecord so far
  std::uint64_t line = 0;    // line number of the last of them (0: none)
  bool finished = false;     // onInputEnd was called for it
};

struct ReadPosition {
  std::vector<InputProgress> inputs;
  // Whose turn it is in the round-robin (Inputs::next): the input after the last one reported
  // to onRecord / onInputEnd.
  std::uint32_t next_input = 0;
};

} // namespace cep::runtime
