// The runtime behind `cep serve` (docs/serve.md): the loaded pattern versions, and the deploys
// and undeploys that change them while events flow. It implements Control (control.hpp) for the
// admin endpoint's HTTP threads and applies every change on the event loop thread, between two
// driver steps, so a deploy takes effect at one point of the released event stream for all the
// patterns of its artifact together (docs/serve.md "The swap").
//
// Threads. The HTTP threads load an artifact (decode, verify, JIT: the slow part) and make its
// matchers themselves, then queue a command, write the wake eventfd and wait for the answer.
// The loop thread (runtime::serveInputs) calls onWake(), which runs the queued commands: the
// schema check, the compatibility check of `keep`, the swap of the operators (the pause the
// deploy costs, measured), the metrics. Nothing else is shared: `served_` belongs to the loop
// thread.
//
//   ServeRuntime runtime(options, registry);
//   runtime.loadAtStart(bytes, "rules.cepo", error);    // main thread: the schema to start with
//   RunLoop loop(runtime.schema(), {}, ...);
//   runtime.startLoop(loop);                            // deploys what was loaded at start
//   ServeHooks hooks;
//   hooks.wake_fd = runtime.wakeFd();
//   hooks.on_wake = [&](RunLoop &loop) { runtime.onWake(loop); };
//   AdminServer admin(runtime, admin_options);          // HTTP threads call runtime
//   serveInputs(loop, inputs, hooks);                   // until SIGTERM
//   runtime.shutdown();                                 // answers what is queued with 503
#pragma once

#include "compiler/artifact/load.hpp"
#include "runtime/engine/operator_set.hpp"
#include "runtime/engine/shadow_matcher.hpp"
#include "runtime/io/statistics.hpp"
#include "runtime/matcher.hpp"
#include "runtime/metrics/registry.hpp"
#include "runtime/schema.hpp"
#include "runtime/state/partition_state.hpp"
#include "service/changelog_record.hpp"
#include "service/control.hpp"
#include "service/savepoint.hpp"
#include "service/serve_checkpoint.hpp"
#include "service/serve_metrics.hpp"
#include "service/serve_trace.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace cep::runtime {
class RunLoop;
namespace store {
class CheckpointStore;
}
} // namespace cep::runtime

namespace cep::service {

// The stop request (runtime::requestStop) a failed transaction stops the loop with.
inline constexpr int kRewindStop = 10; // SIGUSR1's number on Linux: never a stop signal of ours

// One served pattern version's changes in a checkpoint (ServeRuntimeOptions::on_changes).
struct ServedChanges {
  runtime::OperatorId id = 0;
  std::string pattern, version, hash;
  bool whole = false;    // `changes.put` is its whole state (earlier records of the id are gone)
  bool draining = false; // a version draining (docs/serve.md "Modes")
  const runtime::MatcherChanges *changes = nullptr;
  // An aggregate's share of a drain: it writes the windows starting in [own_from, own_before)
  // (runtime/native/native_aggregate.hpp "Drain"; all of them outside a drain).
  std::int64_t own_from = INT64_MIN;
  std::int64_t own_before = INT64_MAX;
  // The artifact it was served from, as deployed (the changelog keeps a draining version's).
  std::shared_ptr<const std::string> artifact;
};

// What became of a checkpoint's Kafka transaction (ServeRuntimeOptions::commit_transaction).
enum class TransactionStep {
  Committed, // the next transaction has begun
  Rewind,    // aborted: the server goes back to its last committed checkpoint
  Fatal,     // the producer cannot go on: the server stops with an error
};

struct ServeRuntimeOptions {
  // What every served matcher is made with (--with-events, state bounds); `version` is set per
  // deploy to the artifact's version.
  runtime::MatcherOptions matcher;
  // Deploys must be signed by one of these (`--trust`); empty: any or no signature.
  std::vector<compiler::artifact::PublicKey> trusted;
  // The load host every artifact is loaded into (shared: code unloads per artifact).
  std::shared_ptr<compiler::jit::LoadHost> jit;
  // Longest an admin request waits for the event loop to take its command.
  std::chrono::milliseconds command_timeout{30000};
  // One line per deploy, undeploy and retired version (stderr by default, `cep serve: `).
  std::function<void(std::string_view)> log;
  // Epoch ms now (load times, the watermark lag); null: the system clock.
  std::function<std::int64_t()> clock;
  // `keep` always through the state model (export + migrateFrom), never in place (adoptFrom):
  // for tests that compare the two.
  bool no_adopt = false;
  // Not empty (`--repartition`): the served patterns and aggregates must key each event type
  // one way (service/key_shapes.hpp); a deploy that would key one otherwise is refused (422)
  // with each conflict, and this reason in the answer's error.
  std::string one_key_per_event;

  // Durable state (`--state DIR`, docs/state.md). The store checkpoints go to (it outlives the
  // runtime); null: the state lives in memory only.
  runtime::store::CheckpointStore *store = nullptr;
  // How often the loop takes a checkpoint; zero: only when stopping.
  std::chrono::milliseconds checkpoint_every{1000};
  // Not empty: a restart does not serve what a deploy or undeploy over HTTP changed, although a
  // checkpoint holds it (`--scale-out`: the folder's checkpoint is not restored, the artifacts
  // given on the command line and the rules topic's are served). Its answers then say
  // `"durable":false` and the log gives this reason.
  std::string http_changes_not_restored;
  // Fills a checkpoint's input positions and output lengths, on the loop thread, after the
  // loop's outputs were flushed (the caller owns inputs and outputs).
  std::function<void(ServeMeta &)> describe_io;
  // Fills a savepoint's input positions (ServeMeta::inputs), on the loop thread; null: a
  // savepoint is refused (500), as it could not say where to resume.
  std::function<void(ServeMeta &)> describe_inputs;
  // Syncs the outputs to disk (fdatasync) before a checkpoint commits; called on the
  // checkpoint thread while the loop writes on (OutputSink::syncWritten). Null: not synced.
  std::function<bool(std::string &)> sync_outputs;
  // Kafka transactions (`--state` with a kafka:// output; docs/kafka.md, "Exactly once"). Set:
  // every checkpoint is waited for on the loop (the next transaction may begin only once this
  // one is committed), and after the store committed it (its meta says "transaction pending",
  // filled by describe_io) this commits the producer's transaction on the loop thread. On
  // Committed it sets the meta's state to committed and begins the next transaction; the
  // runtime then writes that meta again (a checkpoint of the meta alone: "pending N" then
  // "committed N"). On Rewind (an abortable error: the transaction was aborted) or Fatal the
  // runtime takes no more checkpoints and asks the loop to stop (transactionFailure() says
  // which); `error` says why.
  //
  //   options.commit_transaction = [&](ServeMeta &meta, std::string &error) {
  //     switch (producer->commit(sources, error)) { ... }
  //   };
  std::function<TransactionStep(ServeMeta &, std::string &)> commit_transaction;
  // The changelog topic (docs/kafka.md "The changelog topic"): called on the loop thread in each
  // checkpoint, before describe_io, with what every served version's exportChanges gave (the
  // whole state when `whole`), in operator id order; the versions not named are gone.
  std::function<void(const std::vector<ServedChanges> &)> on_changes;

  // `cep serve --workers N` (docs/serve.md "Workers"): every served pattern version is a
  // runtime::ShardedMatcher of N matchers, one per worker thread of the loop (RunOptions::
  // serve_workers, the same N). Aggregates are refused (LoadError) with N > 1, and so are key
  // traces (409).
  std::uint32_t workers = 1;

  // Makes the shadow interpreters of key traces (serve_trace.hpp; the `cep` command's, which
  // links the front end). Null: POST /trace answers 501.
  TracerFactory tracer;
};

class ServeRuntime final : public Control {
public:
  ServeRuntime(ServeRuntimeOptions options, runtime::metrics::Registry &registry);
  ~ServeRuntime() override;
  ServeRuntime(const ServeRuntime &) = delete;
  ServeRuntime &operator=(const ServeRuntime &) = delete;

  // The eventfd the loop waits on (ServeHooks::wake_fd).
  int wakeFd() const { return wake_fd_; }

  // ---- Control: any HTTP thread ----
  std::vector<PatternInfo> patterns() override;
  ControlResult state(std::string_view pattern, const std::optional<std::string> &key) override;
  ControlResult deploy(std::string_view artifact_bytes, DeployMode mode) override;
  ControlResult undeploy(std::string_view pattern, UndeployMode mode) override;
  void metrics(std::string &prometheus_text) override;
  bool healthy(std::string &why) override;
  ControlResult savepoint(std::string &bytes) override;
  // Key traces (serve_trace.cpp, docs/debugging.md "On cep serve").
  ControlResult traceStart(const std::string &key, const std::string &pattern,
                           const std::string &format) override;
  ControlResult traceRead(const std::string &key, std::string &lines) override;
  ControlResult traceStop(const std::string &key) override;

  // ---- main thread, before the loop runs ----
  // The schema the server starts with: the artifacts given on the command line, merged
  // (schema_merge.hpp). Loads each (throws compiler::artifact::LoadError) and keeps it for
  // startLoop(). False with the reasons when they do not fit together.
  bool loadAtStart(std::string_view bytes, const std::string &name, std::string &error);
  const runtime::Schema &schema() const { return *schema_; }
  // The pattern versions loaded (main thread before the loop runs, or the loop thread).
  std::size_t servedCount() const { return served_.size(); }
  // Deploys what loadAtStart loaded into `loop` (keep mode; nothing is loaded yet) and
  // registers the inputs' metrics.
  void startLoop(runtime::RunLoop &loop);

  // ---- durable state (serve_durable.cpp) ----
  // Main thread, before loadAtStart/startLoop: the store's latest usable checkpoint, if any. Its
  // artifacts are loaded, its schema becomes the server's, its pattern versions get their state
  // back (startLoop adds them to the loop under their operator ids); `meta` receives the rest
  // for the caller to restore (the run loop, the input positions, the output lengths) and
  // `report` what was restored, one line. False when the store has no checkpoint yet (a first
  // start). Throws std::runtime_error with the reason when none can be used.
  bool restoreAtStart(ServeMeta &meta, std::string &report);
  // Main thread, before loadAtStart/startLoop: restoreAtStart from a savepoint (savepoint.hpp)
  // instead of the store: its artifacts are loaded, its schema becomes the server's, its
  // pattern versions get their state back. `meta` receives the savepoint's meta record (the run
  // loop, the input positions). With a store, the first checkpoint writes everything. Throws
  // std::runtime_error with the reason when the savepoint cannot be used.
  // `instead` (name, bytes: the artifacts given at start) host the state of a pattern whose
  // artifact in the savepoint this build cannot load (another artifact format or ABI): the first
  // that declares the pattern takes its state by name (the same steps and states; else refused
  // with the reason).
  void restoreFromSavepoint(const Savepoint &savepoint, ServeMeta &meta, std::string &report,
                            const std::vector<std::pair<std::string, std::string>> &instead = {});
  // Main thread, after loadAtStart over a restored state (a checkpoint or a savepoint), before
  // anything is opened: whether startLoop's keep deploys of the artifacts given at start will
  // be taken. False with every reason (the event types, the partial matches that cannot move).
  bool checkStartDeploys(std::vector<std::string> &reasons);
  // Loop thread: a savepoint now (what Control::savepoint asks for): 200 with `bytes` and a JSON
  // summary; 409 when an input is a stream (its position could not be resumed); 500 when the
  // outputs cannot be flushed.
  ControlResult takeSavepoint(runtime::RunLoop &loop, std::string &bytes);
  // Loop thread: a checkpoint now, between two released events. The loop's part (flush the
  // outputs, export the changed keys, the meta record) is done here; the sync of the outputs
  // and the store's commit run on a thread of their own while the loop goes on (one checkpoint
  // in flight at most: this first waits for the previous one). `wait`: return once this one
  // is committed (a deploy's answer, the last checkpoint at stop). False with `error` when it
  // could not be written (the store keeps the previous one; the next writes what this would
  // have); without `wait`, a failure is reported by the next call's log line.
  bool checkpoint(runtime::RunLoop &loop, std::string &error, bool wait = false);
  // Main thread, before startLoop: ServeRuntimeOptions::describe_io, for a caller that opens its
  // inputs and outputs after making the runtime.
  void setDescribeIo(std::function<void(ServeMeta &)> describe) {
    options_.describe_io = std::move(describe);
  }
  // The same for ServeRuntimeOptions::describe_inputs.
  void setDescribeInputs(std::function<void(ServeMeta &)> describe) {
    options_.describe_inputs = std::move(describe);
  }
  // Main thread, before startLoop: ServeRuntimeOptions::sync_outputs.
  void setSyncOutputs(std::function<bool(std::string &)> sync) {
    options_.sync_outputs = std::move(sync);
  }
  // Main thread, before startLoop: ServeRuntimeOptions::commit_transaction.
  void setCommitTransaction(std::function<TransactionStep(ServeMeta &, std::string &)> commit) {
    options_.commit_transaction = std::move(commit);
  }
  // Main thread, before startLoop: ServeRuntimeOptions::on_changes.
  void setOnChanges(std::function<void(const std::vector<ServedChanges> &)> on_changes) {
    options_.on_changes = std::move(on_changes);
  }
  // Main thread, before the first checkpoint: that checkpoint exports every served version
  // whole (its on_changes sees the whole state, the store's records are written again), for a
  // receiver of on_changes that starts empty after a restore (the changelog's partition
  // records, docs/kafka.md).
  void exportWholeNext();
  // Loop thread between two records (or the main thread after startLoop, before the loop reads
  // anything): the keys of input partitions restored from the changelog topic
  // (serve_partitions.cpp). `records` maps a pattern name to its key records (of every restored
  // partition, service/changelog_record.hpp recordsByPattern); each served version of that name
  // (not draining) takes them (both engines, by the state's names:
  // runtime/state/partition_state.hpp), their arrival seqs moved to the loop's next ones and the
  // loop's counter raised past them (later events sort after them). An aggregate's version takes
  // its keys' open windows, under the latest watermark of its own and the records' headers (the
  // windows that had fired stay fired). A matcher that has seen events is replaced by a fresh
  // one of its version holding its state and the records (a partition taken over in a
  // rebalance); the next checkpoint writes it whole. A key already there that a record holds too
  // is replaced by the record's (its state was split by messages keyed otherwise). Returns a
  // line per pattern for the log; throws std::runtime_error with the reason when records do not
  // fit the pattern.
  // A draining aggregate version's windows (PatternRecords::draining, format version 5) go to
  // the served version of that name and version that drains, never to the active one; when
  // none is served (a start with an empty folder, with the new version; a taker whose drain
  // ended), that version is served again, draining, from its artifact (`artifact`: the bytes
  // of an artifact hash, from the changelog topic, or nullopt), owning the windows the record
  // says, until they are done; the active version, fresh, then owns the rest (the record's
  // split). Without its artifact (or with that version served as the active one) a line says
  // its windows are not restored.
  //   served.restorePartitions(loop, recordsByPattern(changelog_records));
  using ArtifactOf = std::function<std::optional<std::string>(const std::string &hash)>;
  std::vector<std::string> restorePartitions(runtime::RunLoop &loop,
                                             const std::map<std::string, PatternRecords> &records,
                                             const ArtifactOf &artifact = {});
  // Loop thread, between two records: the keys `drop` picks (by their "@key" JSON) taken out
  // of every served version, draining ones too, aggregates' open windows too (a partition given
  // up in a rebalance, after the checkpoint that wrote its state). Each matcher that loses keys is
  // replaced by a fresh one of its version holding the rest; the next checkpoint writes it whole.
  // Returns how many keys went. Throws std::runtime_error (internal: a state that does not
  // restore).
  std::uint64_t dropKeys(runtime::RunLoop &loop, const runtime::KeyFilter &drop);
  // Loop thread: the "@key" JSON `event` has in each served version (not draining) whose
  // stream reads its type and that is partitioned (an aggregate: whose step reads its type and
  // that has `partition by`), as (pattern or aggregate name, key JSON); appended to
  // `out`. `event` is of the server's schema (schema()).
  void patternKeys(const runtime::Event &event,
                   std::vector<std::pair<std::string, std::string>> &out) const;
  // Main thread, after loadAtStart, before any event is read: with
  // ServeRuntimeOptions::one_key_per_event, the pairs of operators (restored ones not replaced,
  // then the artifacts given) that key one event type differently, one line each (key_shapes.hpp);
  // empty when they agree or the option is not set.
  std::vector<std::string> keyConflictsAtStart() const;
  // After the loop: Committed while no transaction failed, else the step that stopped the
  // server and `transactionError()` why.
  TransactionStep transactionFailure() const { return transaction_failure_; }
  const std::string &transactionError() const { return transaction_error_; }

  // ---- rules from a control topic (service/rules_topic.hpp) ----
  struct Loaded; // an artifact loaded, with its matchers (serve_served.hpp)
  // Any thread: loads an artifact as a deploy does (decode, verify against --trust, JIT, its
  // matchers); `name` says where it came from in log lines (`rules[0]@7`). Throws
  // compiler::artifact::LoadError.
  std::shared_ptr<Loaded> loadArtifact(std::string_view bytes, const std::string &name) {
    return load(bytes, name);
  }
  // Loop thread, between two driver steps (also from inside Driver::release, through
  // runtime::TimedChanges): the deploy and undeploy of Control, applied now, with the same
  // answers (status and JSON) and log lines; no checkpoint is taken here (checkpointSoon).
  // `at` is the event time the change is due at (the rules topic's effective time): the change
  // guard (setChangeGuard) does not refuse it, and once applied it goes to setOnTimedChange's
  // receiver, which applies it to the catch-up sets at their own event time.
  ControlResult deployNow(runtime::RunLoop &loop, Loaded &loaded, DeployMode mode, std::int64_t at);
  ControlResult undeployNow(runtime::RunLoop &loop, const std::string &name, UndeployMode mode,
                            std::int64_t at);
  // Any thread: `task` runs on the loop thread at its next wake, in the order posted, between
  // two records; dropped when the runtime is stopping. Does not wait.
  void post(std::function<void(runtime::RunLoop &)> task);
  // ---- a partition's catch-up (serve_catchup.cpp; docs/kafka.md "A partition taken over
  // behind the member") ----
  // One operator of a catch-up set: a fresh operator of a served version (a pattern's or an
  // aggregate's), holding the keys of one input partition, matched apart from the served ones
  // until it merges into them.
  struct CatchUpOperator {
    runtime::OperatorId id = 0; // the served version's (a draining one's: its draining id)
    std::string pattern, version, hash;
    bool aggregate = false;               // an aggregate's operator (its keys' open windows)
    bool draining = false;                // a rule change drained it (drain deploy, undeploy drain)
    std::shared_ptr<const Loaded> loaded; // keeps its code loaded
    std::shared_ptr<const runtime::Schema> schema; // its artifact's: outlives the matcher
    std::unique_ptr<runtime::Matcher> matcher;
    std::uint64_t matches_base = 0, timeouts_base = 0; // its counts when it started (keep)
  };
  // One version of the operator set as a catch-up set is made of: what the served set held at
  // some point (servedSet now, TimedChange::before as of a rule change).
  struct SetVersion {
    runtime::OperatorId id = 0; // its operator id then (a draining one's: its draining id)
    std::string name, version, hash;
    bool aggregate = false, draining = false;
    std::shared_ptr<const Loaded> loaded;
    std::shared_ptr<const runtime::Schema> schema;
  };
  // Loop thread: the versions in the operator set now (active and draining).
  std::vector<SetVersion> servedSet() const;
  // The artifact's bytes as loaded (null when not kept): what the changelog topic stores of a
  // draining version.
  static const std::shared_ptr<const std::string> &artifactBytes(const Loaded &loaded);
  // Loop thread: a fresh operator of every version of `set` (null: the served set now), each
  // holding the key records of `patterns` (a partition's changelog record; null: none) that
  // belong to it: an entry goes to the version of its name and version (a pattern draining
  // then: to that draining version, which drains here too), else to the active version of its
  // name. A pattern's arrival seqs are moved from `next_seq`, which is advanced past them; an
  // aggregate's open windows go under the latest of the records' headers. A draining version
  // is made only when it gets keys, a draining aggregate never (its windows are not in the
  // records). Empty with `why_not` set when a catch-up set cannot be made (an aggregate without
  // `partition by`: its one window state spans every partition). Throws std::runtime_error
  // when records do not fit their pattern.
  // An entry of a version that drained at the partition's watermark (marked draining) goes to
  // that draining version when the set has it, else that version is served again in the
  // catch-up, draining, from its artifact in the changelog topic (`artifact`, as
  // restorePartitions does; its operator id reserved in `loop`'s operator set), its windows
  // or runs its own; `lines` gets a log line per such version (also when it is NOT restored:
  // no artifact, or the set serves that version as its active one).
  std::vector<CatchUpOperator> catchUpOperators(const std::vector<SetVersion> *set,
                                                const std::vector<ChangelogPattern> *patterns,
                                                std::uint64_t &next_seq, std::string &why_not,
                                                runtime::RunLoop &loop, const ArtifactOf &artifact,
                                                std::vector<std::string> &lines);
  // Loop thread: the records a catch-up operator wrote (its matches and timeouts) added to its
  // served version's counters (cep_pattern_*, cep_output_records_total), when it merges or goes.
  void countCatchUp(const CatchUpOperator &op);
  // A rule change as the served set applied it, for the catch-up sets to apply at their own
  // event time (serve_catchup.cpp): the rules topic's (deployNow, undeployNow), due at the
  // message's time, or, under event time once the server has a watermark and a receiver is set
  // (setOnTimedChange), an admin endpoint's deploy or undeploy (`http`), at the event time its
  // keys switched at: the server's watermark when it was applied, plus 1 (the events up to the
  // watermark went to the versions before it, the later ones to the versions after it: a
  // rules topic change due at that time switches at the same point).
  struct TimedChange {
    std::int64_t at = 0; // its effective time
    bool http = false;   // the admin endpoint's (guarded by setChangeGuard)
    bool deploy = true;
    DeployMode deploy_mode = DeployMode::Keep;
    UndeployMode undeploy_mode = UndeployMode::Drain;
    std::string pattern; // an undeploy's
    // A deploy: its artifact (fresh operators of its versions are made from it), and per
    // operator its name, its operator id and, replacing a version in drain mode, the id that
    // version drains under (the catch-up's old operator takes it, so that it merges there).
    std::shared_ptr<const Loaded> loaded;
    struct Op {
      std::string name;
      runtime::OperatorId id = 0, draining_id = 0;
    };
    std::vector<Op> ops;
    std::shared_ptr<const runtime::Schema> schema; // the server's after the change
    std::string what; // "deploy of 3f2a9c1d4e5f (fresh)", "HTTP deploy of ..." (http)
    // The operator set just before the change (a catch-up behind it starts from these
    // versions: serve_kafka_catchup.cpp).
    std::vector<SetVersion> before;
  };
  // Main thread, before the loop: receives each timed change once the served set applied it
  // (an admin endpoint's too, before its answer and its --state checkpoint).
  void setOnTimedChange(std::function<void(std::shared_ptr<const TimedChange>)> receiver) {
    on_timed_change_ = std::move(receiver);
  }
  // Loop thread (from inside the catch-up loop's driver, through runtime::TimedChanges): `change`
  // applied to a catch-up set `ops` in its run loop `catch_up` as applyDeploy and applyUndeploy
  // apply it to the served set, mode for mode (keep moves the runs or windows, fresh drops them,
  // drain keeps the old version's operator draining under the served set's draining id).
  // Returns the log line's tail. A keep whose runs cannot move here drops them, said in the line.
  std::string applyToCatchUp(runtime::RunLoop &catch_up, std::vector<CatchUpOperator> &ops,
                             const TimedChange &change);
  // Loop thread: a catch-up set merged into the served set, operator by operator id (a pattern's
  // keys as restorePartitions merges them, an aggregate's open windows under the served
  // operator's own watermark, a draining operator into the served version draining under its
  // id, served again as draining when that version is gone already). Counts its records
  // (countCatchUp). Returns a line per operator for the log; throws std::runtime_error.
  std::vector<std::string> mergeCatchUp(runtime::RunLoop &loop, std::vector<CatchUpOperator> &ops);
  // Main thread, before the loop: while `guard` returns a reason, deploys and undeploys of the
  // admin endpoint are refused with it (409), changing nothing; the rules topic's (deployNow,
  // undeployNow) are not: they reach the catch-up sets through setOnTimedChange.
  void setChangeGuard(std::function<std::string()> guard) { change_guard_ = std::move(guard); }
  // Loop thread: with --state, the next wake takes a checkpoint (a change applied inside a
  // release step is made durable after it, at a point between two records).
  void checkpointSoon();

  // ---- the loop thread ----
  // Empties the wake fd, runs every queued command, sweeps drained versions and refreshes the
  // metrics.
  void onWake(runtime::RunLoop &loop);
  // After the loop has ended: every queued and later command is answered 503; the served
  // matchers stay (their outputs are written) until destruction.
  void shutdown();

private:
  struct Served; // one pattern version in the operator set
  struct Command;

  ControlResult submit(std::shared_ptr<Command> command);
  // Runs `call` on the loop thread between two records and answers with what it returns.
  ControlResult callOnLoop(std::function<ControlResult(runtime::RunLoop &)> call);
  // ---- key traces (serve_trace.cpp), loop thread ----
  struct KeyTrace;
  ControlResult startTrace(runtime::RunLoop &loop, const std::string &key,
                           const std::string &pattern, bool json);
  // Ends the parts of traces whose served version left the operator set (a deploy, undeploy,
  // rebalance or restore replaced it), with a line saying so.
  void checkTraces(runtime::RunLoop &loop);
  void removeTrace(runtime::RunLoop &loop, KeyTrace &trace);
  void run(runtime::RunLoop &loop, Command &command);
  // `timed`: filled with what a catch-up set needs to apply the change too; a change of the
  // rules topic (deployNow, undeployNow) is not guarded, an admin endpoint's (`timed` null, or
  // `http` set: httpChange) is.
  ControlResult applyDeploy(runtime::RunLoop &loop, Loaded &loaded, DeployMode mode,
                            TimedChange *timed = nullptr);
  ControlResult applyUndeploy(runtime::RunLoop &loop, const std::string &name, UndeployMode mode,
                              TimedChange *timed = nullptr);
  // An admin endpoint's deploy or undeploy about to be applied, as a TimedChange at the
  // server's watermark + 1 (TimedChange::http); null when it is not recorded (no receiver, not
  // event time, no watermark yet: no partition can be behind it).
  std::shared_ptr<TimedChange> httpChange(runtime::RunLoop &loop) const;
  // Answers `result` of an admin endpoint's change recorded as `timed` (null: not recorded):
  // the receiver gets it and the answer says its event time (`"switched_at"`).
  void recordHttpChange(std::shared_ptr<TimedChange> timed, ControlResult &result);
  void sweep(runtime::RunLoop &loop);                          // unloads drained versions
  void durable(runtime::RunLoop &loop, ControlResult &result); // --state: checkpoint a change
  // What a checkpoint and a savepoint share: the server's part of the meta record.
  void describeServer(runtime::RunLoop &loop, ServeMeta &meta);
  ServedState servedState(const Served &served) const;
  // `served`'s matcher replaced by a fresh one of its version holding `state` (throws with the
  // reason, changing nothing, when it does not restore).
  void replaceState(runtime::RunLoop &loop, Served &served, const runtime::MatcherState &state);
  // The same for an aggregate: a fresh operator of its version holding `header` and `records`
  // (its key records, runtime/native/native_aggregate.hpp).
  void replaceWindows(runtime::RunLoop &loop, Served &served, std::string_view header,
                      const std::vector<std::string_view> &records);
  // A fresh matcher of `served`'s version (throws when its artifact is not kept).
  std::unique_ptr<runtime::Matcher> freshMatcher(const Served &served) const;
  // Puts `matcher` in `served`'s place (the loop's operator too); the next checkpoint writes it
  // whole.
  void replaceMatcher(runtime::RunLoop &loop, Served &served,
                      std::unique_ptr<runtime::Matcher> matcher);
  // restorePartitions of one aggregate version: `in`'s open windows merged into its own.
  // `own_watermark`: under the served operator's own watermark when it has one (a catch-up's
  // merge: its windows up to there have fired on the catch-up's side), not the latest.
  std::string restoreWindows(runtime::RunLoop &loop, Served &served, const PatternRecords &in,
                             bool own_watermark = false);
  // restorePartitions of the draining versions of one pattern or aggregate name
  // (`in.draining`): a line per version (`next_seq`: as restoreKeys').
  void restoreDraining(runtime::RunLoop &loop, const std::string &name, const PatternRecords &in,
                       const ArtifactOf &artifact, std::uint64_t &next_seq,
                       std::vector<std::string> &lines);
  // A draining version's artifact as stored in the changelog topic (`hash`), loaded, for
  // restoreDraining and a catch-up (serve_catchup_drain.cpp); null with `why_not` (the log
  // line's reason: not in the topic, event types that do not fit the server's) when it cannot
  // serve; throws when the bytes stored do not hash to `hash`.
  std::shared_ptr<Loaded> loadStoredArtifact(const std::string &what, const std::string &hash,
                                             const ArtifactOf &artifact, std::string &why_not);
  // catchUpOperators: a version served again in a catch-up set, draining, from its stored
  // artifact, holding `in` (its entries of the partition's record); null with a log line in
  // `lines` when it cannot be (serve_catchup_drain.cpp).
  std::optional<CatchUpOperator> catchUpDraining(const std::string &name, const std::string &hash,
                                                 const ChangelogPattern &entry,
                                                 const PatternRecords &in, std::uint64_t &next_seq,
                                                 runtime::RunLoop &loop, const ArtifactOf &artifact,
                                                 std::vector<std::string> &lines);
  // restorePartitions of one pattern version: the key records `in` merged into its matcher.
  std::string restoreKeys(runtime::RunLoop &loop, Served &served,
                          const std::vector<std::string_view> &in, std::uint64_t &next_seq);
  // Fresh operators of `artifact` in its operator order (LoadedArtifact::makeMatchers), each
  // a ShardedMatcher of options_.workers shards when that is over one.
  std::vector<std::unique_ptr<runtime::Matcher>>
  makeOperators(const compiler::artifact::LoadedArtifact &artifact) const;
  // A fresh operator `name` of the artifact `loaded` (throws when it is not there).
  std::unique_ptr<runtime::Matcher> freshOperator(const Loaded &loaded,
                                                  const std::string &name) const;
  // restoreAtStart and restoreFromSavepoint: the versions of `meta` with their artifacts and
  // their key records; `persisted`: the store holds exactly them. Returns the report's tail.
  // `artifact_of` gives the loaded artifact of a version (called once per artifact hash); it
  // may be another artifact than the one the version was served by, declaring its pattern.
  std::string
  restoreServed(const ServeMeta &meta,
                const std::function<std::shared_ptr<Loaded>(const ServedState &)> &artifact_of,
                const std::function<std::vector<std::string>(const ServedState &)> &key_records,
                bool persisted);
  struct PendingCheckpoint; // committing on its own thread
  // Waits for the checkpoint in flight, if any, and takes its outcome in (metrics; after a
  // failure the next checkpoint writes every matcher whole). False with `error` if it failed.
  bool awaitCheckpoint(std::string &error);
  void refresh(runtime::RunLoop &loop);
  std::vector<PatternInfo> describe() const;
  ControlResult listState(const std::string &pattern, const std::optional<std::string> &key) const;
  Served *active(const std::string &name);
  void retire(runtime::RunLoop &loop, std::size_t index, const char *why);
  // Registers `served`'s metric series (a pattern's or an aggregate's) and takes its counts now
  // as already seen (a restored or moved state's counts are not added again).
  void startSeries(Served &served);
  // Keep deploy of an aggregate: `old`'s open windows restored into the fresh operator
  // `loaded.matchers[i]` when the state is the same (event type and key by name, the window
  // spec checked by the snapshot's header); else every reason (and the operator is not used).
  std::vector<std::string> moveWindows(const Served &old, Loaded &loaded, std::size_t i) const;
  std::shared_ptr<Loaded> load(std::string_view bytes, const std::string &name);
  std::int64_t now() const;

  ServeRuntimeOptions options_;
  std::function<std::string()> change_guard_;                               // setChangeGuard
  std::function<void(std::shared_ptr<const TimedChange>)> on_timed_change_; // setOnTimedChange
  ServeMetrics metrics_;
  runtime::metrics::Registry &registry_;
  int wake_fd_ = -1;

  std::mutex mutex_; // guards queue_ and stopped_
  std::deque<std::shared_ptr<Command>> queue_;
  bool stopped_ = false;
  // While a version drains, the ticker wakes the loop every 200 ms so that a drained version is
  // unloaded soon after its last run goes, even when no admin request comes.
  std::atomic<std::uint32_t> draining_{0};
  std::condition_variable ticker_wait_;
  std::thread ticker_;

  // Loop thread only (and the main thread before the loop starts).
  std::shared_ptr<const runtime::Schema> schema_;
  std::vector<std::shared_ptr<const runtime::Schema>> schemas_; // every schema the loop has used
  std::vector<std::shared_ptr<Loaded>> at_start_;
  // The key conflicts once `adding` is served over the served versions it does not replace
  // (keyConflictsAtStart, applyDeploy); empty without one_key_per_event.
  std::vector<std::string> keyConflictsWith(const std::vector<const Loaded *> &adding) const;
  std::vector<std::unique_ptr<Served>> served_;    // by load order
  std::vector<std::unique_ptr<Served>> graveyard_; // retired: destroyed after the answer
  std::vector<ServeMetrics::Input> inputs_;
  std::vector<runtime::RecordCounts> inputs_seen_;
  std::uint64_t outputs_seen_ = 0;
  bool loop_started_ = false;
  std::map<std::string, std::unique_ptr<KeyTrace>> traces_; // by the key as the user wrote it
  // The served matchers with shadows: the wrapper in the operator set in the native's place,
  // one shadow per traced key.
  std::map<runtime::OperatorId, std::unique_ptr<runtime::ShadowMatcher>> shadowed_;

  // Durable state. The ticker asks for a checkpoint every options_.checkpoint_every.
  std::atomic<bool> checkpoint_due_{false};
  std::optional<ServeMeta> restored_; // restoreAtStart -> startLoop
  std::uint64_t checkpoints_ = 0;
  std::vector<runtime::OperatorId> persisted_ops_; // operators with key records in the store
  std::vector<std::string> persisted_artifacts_;   // artifact hashes in the store
  std::uint64_t checkpoint_failures_ = 0;
  std::unique_ptr<PendingCheckpoint> pending_;
  TransactionStep transaction_failure_ = TransactionStep::Committed;
  std::string transaction_error_;
  // Commits the transaction of the checkpoint `meta` just committed, then its "committed"
  // meta (serve_durable.cpp).
  bool commitTransaction(ServeMeta &meta, std::chrono::steady_clock::time_point started,
                         std::string &error);
};

} // namespace cep::service
