// The run loop behind `cep run`: reads the inputs round-robin and hands each record to
// ingestion (engine/ingest: decode, dead letters, late events, watermarks), then to the driver
// (engine/driver: reorder buffer, advanceTime / onEvent / finish on a set of operators with
// stable ids, sorted output) in the order of docs/semantics.md §3:
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

#include "runtime/engine/decode_ahead.hpp"
#include "runtime/engine/driver.hpp"
#include "runtime/engine/ingest.hpp"
#include "runtime/engine/operator_set.hpp"
#include "runtime/engine/output_sink.hpp"
#include "runtime/engine/run_options.hpp"
#include "runtime/engine/worker_pool.hpp"
#include "runtime/io/inputs.hpp"
#include "runtime/io/statistics.hpp"
#include "runtime/matcher.hpp"
#include "runtime/schema.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace cep::runtime {

struct PatternStats {
  std::string name;
  MatcherStats stats;
};

struct RunStats {
  std::vector<std::string> input_names;
  Statistics records;
  std::vector<PatternStats> patterns; // operator id order (declaration order under `cep run`)
  double wall_seconds = 0;
  // Records the end of the input settled: written marked "@at_end" / left out (RunOptions::at_end).
  std::uint64_t at_end_fired = 0;
  std::uint64_t at_end_dropped = 0;
};

struct RunResult {
  RunStatus status = RunStatus::Ok;
  std::string message; // what went wrong, one line, no "cep:" prefix
};

// The loop over records already read: what `run` does per record, exposed for tests.
class RunLoop {
public:
  // `matchers` in pattern declaration order (operator ids 0, 1, ...); `schema`, the matchers and
  // `out` must outlive the loop. `input_names` and `bound_types` (-1: none) are indexed by input.
  RunLoop(const Schema &schema, std::vector<Matcher *> matchers,
          std::vector<std::string> input_names, std::vector<std::int32_t> bound_types,
          OutputSink &out, const RunOptions &options);
  ~RunLoop();
  RunLoop(const RunLoop &) = delete;
  RunLoop &operator=(const RunLoop &) = delete;

  // One record of `input` as LineReader hands it out (padded). False when the run must stop
  // (strict mode rejected it, or the output failed).
  bool onRecord(std::uint32_t input, const Line &line);
  // With workers, over inputs read to their end (files): the records are decoded by `threads`
  // threads ahead of this one (engine/decode_ahead.hpp), `block` records at a time (small only
  // in tests). onRecord then copies each record and ingests whole blocks, so a stop (--strict,
  // an output failure) is seen at the block's end, at the record it happened; every other call
  // first ingests what is pending. Nothing to do without workers or when a type has no time
  // field (Ingest::canDecodeAhead): false then.
  bool decodeAhead(std::uint32_t threads, std::size_t block = DecodeAhead::kBlockRecords);
  // Whether `input` counts in the combined watermark (a Kafka partition assigned and not idle:
  // Inputs::counts); the events it lets pass are released. False when the output failed.
  bool setInputCounted(std::uint32_t input, bool counted);
  // `input` has ended. False when the output failed.
  bool onInputEnd(std::uint32_t input);
  // Every input has ended: release what is left, finish() every matcher, then stop(). Once.
  // False when the output failed.
  bool finish();
  // Ends the run where it is (also after a failure): rejection summaries, flush. The matchers
  // are not finished: what they hold is dropped.
  void stop();
  // Writes what the output and the side outputs hold (whole records) without ending the run,
  // for a caller that flushes in batches (RunOptions::flush_each_step false, ServeHooks::
  // flush_when_waiting). With workers, the steps handed to them are first matched and merged
  // (syncWorkers) unless `sync_workers` is false. False when an output failed (status() says
  // which).
  bool flush(bool sync_workers = true);
  // With workers (`cep serve --workers N`): every step given so far matched, merged and
  // written, every worker stopped at that step; the operators may change until the next record.
  // Without workers: nothing to do. False when the output failed.
  bool syncWorkers();
  // Nothing has arrived for a while (a wait ended without a record): with --time processing,
  // time advances to the wall clock, so the timers that are due fire; event time: nothing.
  // False when the output failed.
  bool onIdle();
  // How long a wait for input may last before a timer is due: ms until the earliest pending
  // timer on the wall clock (processing time), -1 when none (always -1 under event time).
  int idleTimeoutMs();
  TimeMode timeMode() const { return time_mode_; }

  RunStatus status() const { return status_; }
  const std::string &message() const { return message_; }
  RunStats stats() const;
  ReadPosition position() const { return ingest_.position(); }
  std::size_t bufferedEvents() const { return driver_.buffered(); } // waiting for the watermark

  // Between two records: `larger` replaces the schema (Ingest::extendSchema: the types in use
  // unchanged, new ones appended; throws std::invalid_argument otherwise, changing nothing) and
  // the operator set's dispatch table grows with it. `larger` must outlive the loop.
  void extendSchema(const Schema &larger) {
    ingest_.extendSchema(larger);
    operators_.setTypeCount(larger.types.size());
  }

  // The pieces, for a caller that drives them itself (`cep serve`).
  Ingest &ingest() { return ingest_; }
  OperatorSet &operators() { return operators_; }
  Driver &driver() { return driver_; }

private:
  friend struct RunSnapshotAccess; // run_snapshot.cpp reads and sets the state below

  bool outputOk(bool ok); // false from the driver: the output failed
  // After ingestion said `status` of a record (its event in `event`): to the driver.
  bool afterIngest(IngestStatus status, EventRef &event);
  bool ingestBlock(DecodeAhead::Block *block); // decoded ahead: ingested in order
  bool drainAhead();                           // every record decoded ahead ingested

  Ingest ingest_;
  OperatorSet operators_;
  Driver driver_;
  std::unique_ptr<WorkerPool> pool_; // RunOptions::worker_sets given
  OutputSink &out_;
  TimeMode time_mode_;
  bool finished_ = false;
  bool stopped_ = false;
  RunStatus status_ = RunStatus::Ok;
  std::string message_;
  std::unique_ptr<DecodeAhead> ahead_; // decodeAhead()
};

// Reads `inputs` to the end through a RunLoop. Stops at the first input error, strict rejection,
// output failure or stop signal (the result says which; after a signal the loop is stopped, not
// finished: no event is released past the watermark, time never advances to +infinity, so no
// timeout is invented). `stats` (optional) receives the counts.
RunResult run(const Schema &schema, const std::vector<Matcher *> &matchers,
              const std::vector<InputSpec> &inputs, OutputSink &out, const RunOptions &options,
              RunStats *stats = nullptr);

} // namespace cep::runtime
