// `cep run --workers N`: the matching of a run spread over N threads, each owning the keys that
// hash to it, with output byte-identical to one thread (docs/semantics.md §6, "Workers").
//
// The reading thread keeps everything but the matching: reading, decoding, ingestion (dead
// letters, late events, watermarks) and the reorder buffer (engine/driver). Where the driver
// would call the operators, it hands the pool one *step* instead:
//
//   event(e, ops)        e released to the operators `ops` (those of its type): each operator's
//                        key (Matcher::routeHash) picks the worker; the event is moved to it
//                        (copied when its operators' keys fall on several workers)
//   advance(t, mark)     advanceTime(t) / advanceWatermark(t): broadcast, every worker's
//                        timers and absences fire as they would on one thread
//   finish(at_end)       finish() on every worker; records marked "@at_end" or left out
//   late(e, ops, taken)  a late event, to its owners at once (the pool waits for them first)
//
// Steps are numbered. Worker w keeps operator i's state for the keys that hash to w in its own
// matcher, sets[w][i], and writes the records of each step sorted by MatchOutput::before, tagged
// with the step. The steps go in batches: while the workers match batch k, the reading thread
// decodes batch k + 1; then it merges batch k's records by (step, MatchOutput::before, worker)
// and writes them. That is the one-thread order: one thread writes each step's records sorted
// by `before` (stably), the steps in order; records of two keys never tie under `before` (they
// differ in their start event or window), and a key's records all come from one worker in its
// own order.
//
//   WorkerPool pool(schema, {set0, set1}, out, options); // set0: also the driver's operators
//   driver.useWorkers(&pool);                           // the driver's steps go to the pool
//   ...                                                 // driver.push / release / finish
//   pool.sync();                                        // every step merged and written
//
// `cep serve --workers N` (docs/serve.md "Workers"): the operators change while the server runs
// (deploys, undeploys, restores), so the pool does not hold sets of its own. It is made over the
// loop's OperatorSet, whose every operator is a ShardedMatcher (engine/sharded_matcher.hpp) of N
// shards: worker w drives shard(w) of each. The set may change only while the pool is synced:
// every worker has run every step given so far and waits (the barrier: all of them stopped at the
// same step of the stream); the serve loop syncs before it lets the server change anything
// (RunLoop::syncWorkers). A batch takes the set as it is when it is handed to the workers.
//
//   WorkerPool pool(schema, operators, 2, out, options); // operators: ShardedMatchers of 2
#pragma once

#include "runtime/engine/operator_set.hpp"
#include "runtime/engine/output_sink.hpp"
#include "runtime/engine/run_options.hpp"
#include "runtime/event.hpp"
#include "runtime/matcher.hpp"
#include "runtime/schema.hpp"

#include <cstdint>
#include <exception>
#include <memory>
#include <semaphore>
#include <thread>
#include <vector>

namespace cep::runtime {

// A copy of `event` in a block of its own (the worker that gets it owns its reference count),
// strings and raw record included; `type` is its type's schema.
EventRef copyEvent(const Event &event, const EventSchema &type);

// Which of `workers` owns the key whose Matcher::routeHash is `hash` (the hash mixed first:
// generated key hashes need not spread their low bits).
std::uint32_t workerOf(std::uint64_t hash, std::uint32_t workers);

class WorkerPool {
public:
  // sets[w][i]: worker w's matcher of operator i (operator ids 0, 1, ... in `cep run`'s
  // declaration order); every set has the same operators. The matchers, `schema` and `out` must
  // outlive the pool. At least two sets. Starts the threads.
  WorkerPool(const Schema &schema, std::vector<std::vector<Matcher *>> sets, OutputSink &out,
             const RunOptions &options);
  // `cep serve`: over `operators` (above), `workers` >= 2 threads. `operators` must outlive the
  // pool.
  WorkerPool(const Schema &schema, const OperatorSet &operators, std::uint32_t workers,
             OutputSink &out, const RunOptions &options);
  // Waits for the batch in flight (its records are dropped unless sync() ran), stops the
  // threads and joins them.
  ~WorkerPool();
  WorkerPool(const WorkerPool &) = delete;
  WorkerPool &operator=(const WorkerPool &) = delete;

  std::uint32_t workers() const { return workers_count_; }
  // Over a changing OperatorSet (`cep serve`), not fixed sets.
  bool serving() const { return operators_ != nullptr; }

  // The steps (above), in the driver's order. False once the output failed.
  bool event(EventRef &&event, const std::vector<OperatorSet::Entry> &ops);
  bool advance(std::int64_t time, bool watermark);
  bool finish(AtEnd at_end);
  bool late(const EventRef &event, const std::vector<OperatorSet::Entry> &ops, bool &taken);
  // Every step given so far matched, merged and written (the output is not flushed). False
  // when the output failed. Rethrows an exception a worker's matcher threw.
  bool sync();

  // Operator i's counters summed over the workers (sync() first). Peaks are the sum of each
  // worker's peak: at least the peak of the sum. Fixed sets only (`cep serve`'s operators are
  // ShardedMatchers: their stats() sum).
  MatcherStats stats(std::size_t op) const;
  // The earliest pending timer over every worker (sync() first).
  std::int64_t nextTimer() const;
  std::uint64_t atEndFired() const { return at_end_fired_; }
  std::uint64_t atEndDropped() const { return at_end_dropped_; }
  std::uint64_t batches() const { return batches_; }

private:
  enum class Kind : std::uint8_t { Event, Advance, Watermark, Finish };
  struct Op {
    std::uint32_t id = 0; // operator id (stamped on its records)
    Matcher *matcher = nullptr;
  };
  struct Command {
    Kind kind = Kind::Event;
    std::uint32_t ops_begin = 0, ops_count = 0; // Event: into Batch::ops
    std::uint64_t step = 0;
    std::int64_t time = 0;
    EventRef event;
  };
  // One worker's share of one batch: its commands, and the records they wrote (sorted by
  // `before` within each step, tagged with it).
  struct Batch {
    std::vector<Command> commands;
    std::vector<Op> ops; // the operators of the Event commands (this worker's matchers)
    std::vector<Op> all; // every operator of this worker (Advance, Watermark, Finish)
    std::vector<MatchOutput> outputs;
    std::vector<std::uint64_t> output_steps;
    EventBlocks freed; // the event blocks the worker freed, back to the reading thread's pool
    void clear() {
      commands.clear();
      ops.clear();
      outputs.clear();
      output_steps.clear();
    }
  };
  struct Worker {
    std::thread thread;
    std::vector<Op> fixed; // fixed sets: every operator, in id order
    std::binary_semaphore start{0};
    Batch batches[2];
    std::exception_ptr error;
  };

  void loop(std::uint32_t w);
  void process(std::uint32_t w, Batch &batch);
  // Hands the batch being filled to the workers (after merging the one in flight).
  bool submit();
  bool waitAndMerge(); // the batch in flight, if any: waited for, merged, written
  bool mergeAndWrite(int index);
  bool broadcast(Kind kind, std::int64_t time);
  // Worker w's matcher of the operator `op` (of the driver's set).
  Matcher *matcherOf(std::uint32_t w, const OperatorSet::Entry &op) const;
  void start();

  static constexpr std::uint64_t kBatchSteps = 4096;

  const Schema &schema_;
  std::vector<std::vector<Matcher *>> sets_; // fixed sets (`cep run`); empty when serving
  const OperatorSet *operators_ = nullptr;   // `cep serve`
  std::uint32_t workers_count_ = 0;
  OutputSink &out_;
  bool flush_each_step_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::counting_semaphore<> done_{0};
  int filling_ = 0;       // the batch index the reading thread fills
  int running_ = -1;      // the batch index the workers run; -1: none
  bool stopping_ = false; // read by the workers after `start`
  std::uint64_t step_ = 0, batch_first_step_ = 0;
  std::uint64_t finish_step_ = UINT64_MAX;
  AtEnd at_end_ = AtEnd::Fire;
  std::uint64_t at_end_fired_ = 0, at_end_dropped_ = 0;
  std::uint64_t batches_ = 0;
  std::vector<std::uint32_t> route_; // scratch: each op's worker
};

} // namespace cep::runtime
