// The run loop behind `cep run`: reads the inputs round-robin, decodes each record by schema,
// rejects what does not decode (dead letters), sets late events aside (late output), buffers the
// rest until the combined watermark passes them and drives the matchers in (time, arrival) order
// (docs/semantics.md §3):
//
//   before the events of time t   advanceTime(t) on every matcher
//   each released event e         onEvent(e) on the matchers whose stream contains e's type
//   after each release batch      advanceTime(watermark) on every matcher
//   at the end of every input     everything is released, then finish() on every matcher
//
// The outputs of each of these steps (over all matchers) are sorted with MatchOutput::before and
// written one line each. Nothing here depends on wall-clock time in event-time mode, except the
// time of events whose type has no time field (their ingestion time), so the same input gives
// the same bytes. With TimeMode::Processing events are matched in arrival order at the wall-clock
// time of their arrival, and what comes out depends on that timing.
#pragma once

#include "runtime/engine/output_sink.hpp"
#include "runtime/io/inputs.hpp"
#include "runtime/io/jsonl_decoder.hpp"
#include "runtime/io/rejects.hpp"
#include "runtime/io/statistics.hpp"
#include "runtime/matcher.hpp"
#include "runtime/schema.hpp"
#include "runtime/state_bounds.hpp"
#include "runtime/time/reorder_buffer.hpp"
#include "runtime/time/watermarks.hpp"
#include "support/time_arith.hpp"

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

namespace cep::runtime {

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
};

struct PatternStats {
  std::string name;
  MatcherStats stats;
};

struct RunStats {
  std::vector<std::string> input_names;
  Statistics records;
  std::vector<PatternStats> patterns; // declaration order
  double wall_seconds = 0;
};

// The `--stats` table (stderr). `timing` false leaves wall time and speed out, so the table is
// the same on every run (golden tests).
std::string formatRunStats(const RunStats &stats, bool timing = true);

enum class RunStatus : std::uint8_t {
  Ok,
  InputError,  // an input could not be opened or read
  Rejected,    // strict mode: a record was rejected
  OutputError, // the output could not be written
  Interrupted, // a stop signal (stop_signals.hpp): what was complete is written, nothing finished
};

struct RunResult {
  RunStatus status = RunStatus::Ok;
  std::string message; // what went wrong, one line, no "cep:" prefix
};

// How far a run has read each input, so a resumed run (runtime/engine/run_snapshot.hpp) can
// skip what was consumed when it replays the inputs.
struct InputPosition {
  std::uint64_t records = 0; // records (non-blank lines) handed to onRecord so far
  std::uint64_t line = 0;    // line number of the last of them (0: none)
  bool finished = false;     // onInputEnd was called for it
};

struct ReadPosition {
  std::vector<InputPosition> inputs;
  // Whose turn it is in the round-robin (Inputs::next): the input after the last one reported
  // to onRecord / onInputEnd.
  std::uint32_t next_input = 0;
};

// The loop over records already read: what `run` does per record, exposed for tests.
class RunLoop {
public:
  // `matchers` in pattern declaration order; `schema`, the matchers and `out` must outlive the
  // loop. `input_names` and `bound_types` (-1: none) are indexed by input.
  RunLoop(const Schema &schema, std::vector<Matcher *> matchers,
          std::vector<std::string> input_names, std::vector<std::int32_t> bound_types,
          OutputSink &out, const RunOptions &options);
  ~RunLoop();
  RunLoop(const RunLoop &) = delete;
  RunLoop &operator=(const RunLoop &) = delete;

  // One record of `input` as LineReader hands it out (padded). False when the run must stop
  // (strict mode rejected it, or the output failed).
  bool onRecord(std::uint32_t input, const Line &line);
  // `input` has ended. False when the output failed.
  bool onInputEnd(std::uint32_t input);
  // Every input has ended: release what is left, finish() every matcher, then stop(). Once.
  // False when the output failed.
  bool finish();
  // Ends the run where it is (also after a failure): rejection summaries, flush. The matchers
  // are not finished: what they hold is dropped.
  void stop();

  RunStatus status() const { return status_; }
  const std::string &message() const { return message_; }
  RunStats stats() const;
  ReadPosition position() const;
  std::size_t bufferedEvents() const { return buffer_.size(); } // waiting for the watermark

private:
  friend struct RunSnapshotAccess; // run_snapshot.cpp reads and sets the state below

  using Outputs = std::vector<MatchOutput>;

  std::int64_t now();
  // A rejected record: counted, reported, written as a dead letter; false in strict mode.
  bool reject(std::uint32_t input, const Line &line, std::string_view reason);
  // Each returns false once the run must stop (status_ says why).
  bool release();                       // the events the watermark has passed, then W
  bool advanceTo(std::int64_t time);    // advanceTime on every matcher, write its outputs
  void dispatch(const EventRef &event); // onEvent on the matchers of its type
  // Sort and write step_outputs_; false once the output failed.
  bool writeStep() {
    if (step_outputs_.empty() && !out_.failed()) {
      return true; // the usual step: nothing to write
    }
    return writeOutputs();
  }
  bool writeOutputs();
  // After a dead letter or late event: flush the side outputs when streaming; false (status_
  // set) once one of them failed.
  bool sideOutputsOk();

  const Schema *schema_;
  std::vector<Matcher *> matchers_;
  std::vector<std::vector<Matcher *>> by_type_; // event type -> matchers whose stream has it
  std::vector<std::string> input_names_;
  std::vector<std::int32_t> bound_types_;
  OutputSink &out_;
  RunOptions options_;
  bool needs_clock_; // some type has no time field, or processing time

  Statistics records_;
  Rejects rejects_;
  JsonlDecoder decoder_;
  Watermarks watermarks_;
  ReorderBuffer buffer_;

  Outputs step_outputs_;
  std::uint64_t next_seq_ = 0;
  std::vector<std::uint64_t> last_lines_; // per input: line of the last record
  std::uint32_t next_input_ = 0;          // ReadPosition::next_input
  std::int64_t last_now_ = kNoWatermark;
  std::int64_t time_ = kNoWatermark; // the time the matchers were last advanced to
  bool events_since_advance_ = false;
  bool finished_ = false;
  bool stopped_ = false;
  RunStatus status_ = RunStatus::Ok;
  std::string message_;
};

// Reads `inputs` to the end through a RunLoop. Stops at the first input error, strict rejection,
// output failure or stop signal (the result says which; after a signal the loop is stopped, not
// finished: no event is released past the watermark, time never advances to +infinity, so no
// timeout is invented). `stats` (optional) receives the counts.
RunResult run(const Schema &schema, const std::vector<Matcher *> &matchers,
              const std::vector<InputSpec> &inputs, OutputSink &out, const RunOptions &options,
              RunStats *stats = nullptr);

} // namespace cep::runtime
