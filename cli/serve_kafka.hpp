// Kafka inputs and outputs of `cep serve` (docs/kafka.md): the `kafka://` arguments of -i, -o,
// --dead-letter and --late-output taken out of the file plan, checked before anything is opened
// (URLs, --kafka-config, --idle-timeout; exit 2 with the reason), then opened: each input topic
// as a RecordSource appended to the Inputs (one input per partition), each output topic as an
// OutputSink whose records are messages (runtime/kafka/).
//
//   ServeKafka kafka;
//   if (int code = kafka.take(options, plan, run_copy); code != kOk) return code; // before files
//   ...
//   if (!kafka.openInputs(inputs, schema, registry, max_record_bytes, error)) ...  // after open()
//   auto out = kafka.isOutput(run.output) ? kafka.openOutput(run.output, registry, error) : ...;
//
// With --state (docs/kafka.md, "Exactly once"; serve_kafka_state.cpp):
//
//   kafka.prepareState(*store, registry);      // transactional producer, init_transactions, and
//                                              // a pending latest checkpoint decided
//   served.restoreAtStart(meta, report);       // the checkpoint to resume from
//   kafka.resumeFrom(meta);                    // topics, groups, outputs checked; positions
//   kafka.openInputs(...); kafka.checkIdentity(error);   // cluster and partition count
//   served.setDescribeIo([&](ServeMeta &m) { ...; kafka.describe(m); });
//   served.setCommitTransaction([&](ServeMeta &m, std::string &e) {
//     return kafka.commitTransaction(m, e); });
#pragma once

#include "cli/commands.hpp"
#include "cli/run_shared.hpp"
#include "cli/serve_kafka_watermarks.hpp"
#include "runtime/engine/output_sink.hpp"
#include "runtime/engine/run_loop.hpp"
#include "runtime/io/inputs.hpp"
#include "runtime/io/jsonl_decoder.hpp"
#include "runtime/kafka/kafka_config.hpp"
#include "runtime/kafka/kafka_url.hpp"
#include "runtime/metrics/registry.hpp"
#include "runtime/schema.hpp"
#include "service/changelog_record.hpp"
#include "service/serve_checkpoint.hpp"
#include "service/serve_runtime.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace cep::runtime::kafka {
class KafkaProducer;
class KafkaSource;
} // namespace cep::runtime::kafka

namespace cep::runtime::store {
class CheckpointStore;
}

namespace cep::cli {

// One line of the server's Kafka log on stderr: "cep serve: kafka: <line>".
void kafkaLog(const std::string &line);
// "topic[1], topic[3]": partitions named in log lines.
std::string partitionNames(const std::string &topic, const std::vector<std::int32_t> &partitions);

class ServeKafka {
public:
  // Moves the kafka:// inputs out of `plan.inputs` and clears the kafka:// side outputs of
  // `files` (a copy of the run options the side outputs are opened from), checking every URL,
  // --kafka-config (read and checked by librdkafka) and --idle-timeout. kOk, or the exit code
  // after printing why. Refuses Kafka with --from-savepoint (not yet: docs/kafka.md), and with
  // --state Kafka outputs on different brokers (one transaction spans them).
  int take(const ServeOptions &options, RunPlan &plan, RunOptions &files);

  bool any() const { return !inputs_.empty() || !outputs_.empty(); }
  bool hasInputs() const { return !inputs_.empty(); }
  bool isOutput(const std::string &where) const { return runtime::kafka::isKafkaUrl(where); }

  // Appends a source per input topic to `inputs` (after Inputs::open of the files). False with
  // `error` when a topic cannot be read (brokers down, no such topic).
  bool openInputs(runtime::Inputs &inputs, const runtime::Schema &schema,
                  runtime::metrics::Registry &registry, std::size_t max_record_bytes,
                  std::string &error);
  // An output topic as a sink of records. Null with `error` when it cannot be written.
  std::unique_ptr<runtime::OutputSink>
  openOutput(const std::string &where, runtime::metrics::Registry &registry, std::string &error);
  // Opens the Kafka side outputs taken out by take() into `sides`.
  bool openSideOutputs(SideOutputs &sides, const RunOptions &run,
                       runtime::metrics::Registry &registry, std::string &error);

  // ---- --state (serve_kafka_state.cpp) ----
  // Whether the Kafka outputs are written in transactions (--state with a kafka:// output).
  bool transactional() const { return state_ && !outputs_.empty(); }
  // Main thread, before the store's checkpoint is restored. With a Kafka output: opens the
  // transactional producer (transactional.id `cep-<group>-<host name>` unless --kafka-config
  // sets one) and initialises transactions, which fences earlier producers of the id (the
  // broker aborts the transaction a killed server left open), then begins the first
  // transaction. Then, when the latest checkpoint is PENDING (written before its transaction's
  // commit, which it did not see), reads the group's committed offsets: they carry the label of
  // the last committed transaction; when it is not the checkpoint's, the checkpoint is
  // discarded for the one before (CheckpointStore::discardLatest). Each step logs a line. kOk or
  // the exit code after printing why.
  int prepareState(runtime::store::CheckpointStore &store, runtime::metrics::Registry &registry);
  // Main thread, after the restore: the checkpoint's Kafka part against the command line (the
  // same input topics and groups, the same output topics; else std::runtime_error, exit 2) and
  // the partitions' next offsets to start from.
  void resumeFrom(const service::ServeMeta &meta);
  // After openInputs: each topic's cluster id and partition count against the checkpoint's.
  // False with `error` when another cluster or a topic made again (exit 3).
  bool checkIdentity(std::string &error) const;
  // Loop thread, in a checkpoint's describe_io: the Kafka part of the meta record (positions,
  // identities, outputs; the open transaction, "pending" when transactional).
  void describe(service::ServeMeta &meta) const;
  // Loop thread, once the store holds the pending checkpoint: commits the transaction with the
  // consumed offsets, then begins the next one (ServeRuntimeOptions::commit_transaction).
  service::TransactionStep commitTransaction(service::ServeMeta &meta, std::string &error);

  // ---- the changelog topic `<group>-state` (serve_kafka_changelog.cpp; docs/kafka.md "The
  // changelog topic") ----
  // Whether checkpoints also write the changelog: transactional with exactly one input topic.
  bool changelog() const { return transactional() && inputs_.size() == 1; }
  // Main thread, after prepareState: creates `<group>-state` (compacted) when missing, on a
  // thread of its own (the start does not wait for it); else reads the latest record of each
  // partition of the input topic. Without `restored` (a start whose --state folder holds no
  // checkpoint) their next offsets become where the partitions resume and applyChangelog
  // restores their keys. With it, the folder is the fast path, unless a record written by
  // another transactional.id is newer than its checkpoint: the folder is stale, refused (exit
  // 2, saying so). kOk or the exit code after printing why.
  int readChangelog(runtime::metrics::Registry &registry, const service::ServeMeta *restored);
  ~ServeKafka(); // waits for the changelog topic's creation, when one is under way
  // Main thread, after the runtime's startLoop: the records read by readChangelog into the
  // served matchers (ServeRuntime::restorePartitions); logs what came from where. Also keeps
  // `loop` for the checkpoints' records (the events it holds for reordering). kOk or exit code.
  int applyChangelog(service::ServeRuntime &served, runtime::RunLoop &loop);
  // Loop thread, in each checkpoint: ServeRuntimeOptions::on_changes. The key records of every
  // served version, kept by partition, for the changelog records.
  void onChanges(const std::vector<service::ServedChanges> &changes);

  // ---- a partition taken over behind the member (serve_kafka_catchup.cpp; docs/kafka.md
  // "A partition taken over behind the member") ----
  // Main thread, before the loop: the loop's output and run options; a catch-up's own run loop
  // writes to that output and is made with those options (--max-delay, side outputs).
  // Main thread, before the loop, with --rules-topic: when the rules topic holds a deploy of an
  // artifact (by hash) pending here due at or before a time (RulesTopic::pendingDeploy): the
  // entries of a record taken over ahead of this member wait for it (holdAhead).
  void setPendingDeploy(
      std::function<std::optional<std::int64_t>(const std::string &hash, std::int64_t upto)>
          pending) {
    pending_deploy_ = std::move(pending);
  }
  // The same for a change that drains the active version of a pattern or aggregate `name`
  // (RulesTopic::pendingDrain): the record's entries that version's drain marked draining wait
  // for it (holdAheadDrain).
  void setPendingDrain(
      std::function<std::optional<std::int64_t>(const std::string &name, std::int64_t upto)>
          pending) {
    pending_drain_ = std::move(pending);
  }
  void setLoopIo(runtime::OutputSink &out, const runtime::RunOptions &options) {
    loop_out_ = &out;
    loop_options_ = options;
  }
  // Partitions catching up now (for tests and the log).
  std::size_t catchingUp() const { return catch_up_.size(); }

  // ---- --repartition (serve_kafka_repartition.cpp; docs/kafka.md "Repartition") ----
  bool repartition() const { return !repartition_from_.topic.empty(); }
  // Before openInputs: the runtime whose patterns key the republished messages (the first
  // stage runs on the loop thread, inside the input's reads).
  void setServed(service::ServeRuntime &served) { served_ = &served; }
  // Set when the failure() is the user's (--repartition over patterns that key one event
  // differently): exit 2, not 3.
  bool failureIsUsage() const { return failure_usage_; }

  // ---- --scale-out (serve_kafka_group.cpp; docs/kafka.md "Scale-out") ----
  bool scaleOut() const { return scale_out_; }
  // Set when a partition given to this process could not get its state (the changelog topic
  // unreadable, a record that does not fit): the server stops with it (exit 3), writing no
  // changelog record that would replace the partition's state by an empty one.
  const std::string &failure() const { return failure_; }

private:
  struct Input {
    runtime::kafka::KafkaUrl url;
    std::string type_name; // bound with URL:Type; empty: none
  };
  std::vector<Input> inputs_;
  std::vector<std::string> outputs_; // every kafka:// output given
  runtime::kafka::KafkaConfig config_;
  bool has_config_ = false;
  std::int64_t idle_timeout_ms_ = 0;

  // --state
  bool state_ = false;
  std::vector<std::pair<std::string, std::string>> output_roles_; // role, URL
  std::shared_ptr<runtime::kafka::KafkaProducer> producer_;       // transactional
  std::vector<runtime::kafka::KafkaSource *> sources_;            // owned by the Inputs
  std::optional<service::KafkaMeta> restored_;
  std::map<std::string, std::map<std::int32_t, std::int64_t>> resume_; // topic -> positions
  std::string label_base_; // transaction labels: <base>-<sequence>
  std::uint64_t transactions_ = 0;
  bool beginNext(std::string &error);

  // The changelog (serve_kafka_changelog.cpp).
  struct MirrorOp {
    std::string pattern, version, hash;
    struct Record {
      std::int32_t partition = -1; // partitionOfKey
      std::string bytes;
    };
    std::map<std::string, Record> records; // key JSON -> its partition and key record
    // An aggregate's CEPASNAP header (its watermark); empty for a pattern. When it moves, every
    // partition holding the aggregate's keys is written again (the header says which windows
    // fired, and a window may fire without changing its key's record: a hopping window's panes
    // stay for the next one).
    std::string header;
    // A version of a drain: the draining one (a pattern's or an aggregate's), and the windows an
    // aggregate's writes (those starting in [own_from, own_before)); both in its records
    // (format version 5).
    bool draining = false;
    std::int64_t own_from = INT64_MIN;
    std::int64_t own_before = INT64_MAX;
    std::shared_ptr<const std::string> artifact; // a draining version's: written beside
  };
  std::map<runtime::OperatorId, MirrorOp> mirror_;
  std::map<std::int32_t, std::int64_t> written_offsets_; // partition -> resume offset written
  std::set<std::int32_t> dirty_;                         // partitions whose keys changed
  std::vector<std::pair<std::int32_t, std::string>> restored_records_; // readChangelog's values
  // Draining versions' artifacts: read from the topic (hash -> bytes; applyChangelog and
  // onAssigned serve such a version again from them), and those written by this process.
  std::map<std::string, std::string> changelog_artifacts_;
  std::set<std::string> artifacts_written_;
  // restorePartitions' lookup of changelog_artifacts_.
  service::ServeRuntime::ArtifactOf changelogArtifact() const;
  runtime::RunLoop *loop_ = nullptr;
  runtime::metrics::Counter *changelog_bytes_ = nullptr;
  runtime::metrics::Counter *changelog_records_ = nullptr;
  runtime::metrics::Registry *registry_ = nullptr;
  std::thread creator_; // makes the changelog topic (readChangelog)
  bool warned_offsets_ = false;
  std::int32_t partitionOfKey(std::string_view key_json) const;
  // Produces the changelog records of the checkpoint into its transaction. False with `error`;
  // `fatal` when trying again cannot help (a record over kChangelogRecordMaxBytes).
  bool writeChangelog(const service::ServeMeta &meta, std::string &error, bool &fatal);
  // A changelog record of `source`'s `partition` with what every record says of its writer
  // (topic, partition count, group, cluster, transaction, transactional.id, checkpoint time).
  service::ChangelogRecord recordHead(const runtime::kafka::KafkaSource &source,
                                      std::int32_t partition, const service::ServeMeta &meta) const;
  // Every record of the changelog topic now, the latest of each message key (read_committed,
  // to its end, at most 30 s). False with `error`.
  bool readLatest(std::map<std::string, std::string> &latest, std::string &error);

  // --scale-out (serve_kafka_group.cpp). Called by the KafkaSource inside the loop's read,
  // between two records (runtime/kafka/kafka_source.hpp KafkaRebalanceHooks).
  bool scale_out_ = false;
  std::string state_dir_; // its path names the transactional.id (one per process and folder)
  service::ServeRuntime *served_ = nullptr;
  std::string failure_;
  // Partitions about to go: a checkpoint commits their state and offsets (unless `lost`), then
  // their keys and held events are dropped here.
  void onRevoking(const std::vector<std::int32_t> &partitions, bool lost);
  // Partitions given: their latest changelog records merged into the served matchers; returns
  // where each resumes.
  std::map<std::int32_t, std::int64_t> onAssigned(const std::vector<std::int32_t> &partitions);
  void fail(const std::string &why);

  // The message key against the patterns' keys of its event (serve_kafka_keys.cpp; docs/kafka.md
  // "Scale-out"): a keyed message whose key is not the key its event has in a partitioned
  // pattern is counted per pattern (cep_kafka_message_key_mismatches_total) and logged once per
  // partition with the example. With the changelog only (where a key's state goes by its
  // partition). The event is decoded a second time here, by a decoder of the server's schema.
  void checkMessageKey(std::int32_t partition, std::int64_t offset, std::string_view key,
                       const runtime::Line &line);
  // A decoder of the server's schema for the two checks above and below (made again when a
  // deploy grows the schema).
  runtime::JsonlDecoder &messageDecoder();
  std::unique_ptr<runtime::JsonlDecoder> key_decoder_;
  const runtime::Schema *key_schema_ = nullptr;
  std::set<std::int32_t> key_logged_;                            // partitions logged once
  std::vector<std::pair<std::string, std::string>> key_scratch_; // pattern, key JSON

  // --repartition: take() moves the input's URL here and puts `<group>-repartition` in its
  // place; openRepartition (in openInputs) makes the topic when missing, the producer, and a
  // source of the input topic whose every message is republished by `republish` (its
  // skip_message: none is handed out, none counts in the watermark). Watermark records are
  // combined as the minimum over the input's partitions and sent to every partition of the
  // repartition topic when it rises.
  runtime::kafka::KafkaUrl repartition_from_;
  std::string repartition_topic_;
  int repartition_partitions_ = 0; // wanted (0: the input's), then the topic's
  bool failure_usage_ = false;
  std::shared_ptr<runtime::kafka::KafkaProducer> republisher_; // with --state: producer_
  // The first stage's source (owned by the Inputs): with --state its positions are in the
  // checkpoint (after the matching stage's inputs) and its offsets in each transaction.
  const runtime::kafka::KafkaSource *repartition_source_ = nullptr;
  // Per input partition, the highest watermark republished (INT64_MIN: none yet): each goes
  // to every repartition partition as {"@watermark":T,"@partition":P}, combined by the matching
  // stage (serve_kafka_watermarks.hpp).
  std::vector<std::int64_t> input_watermarks_;
  runtime::metrics::Counter *republished_ = nullptr;
  runtime::metrics::Counter *republished_watermarks_ = nullptr;
  // --idle-timeout: per input partition, whether it was said idle to the repartition topic
  // ({"@idle":true,"@partition":P}; kUnknown: newly held, maybe said idle by its previous
  // owner or in a restored record); its next message first says it is back.
  enum : std::uint8_t { kCounted, kSaidIdle, kUnknown };
  std::vector<std::uint8_t> idle_said_;
  std::vector<std::uint8_t> first_stage_held_; // per input partition: assigned, seen by sayIdle
  // The matching stage's source (owned by the Inputs): what each repartition partition has
  // heard goes into its changelog record and the checkpoint (serve_kafka_state.cpp), and
  // comes back from them.
  RepartitionedSource *repartitioned_ = nullptr;
  std::map<std::uint32_t, HeardState> folder_heard_; // resumeFrom, given to it by openInputs
  runtime::metrics::Counter *republished_idle_ = nullptr;
  void sayIdle(const runtime::kafka::KafkaSource &source); // on the source's counts changing
  bool sendToEveryPartition(const std::string &value);     // false: failed (fail() said why)
  int takeRepartition(const ServeOptions &options);
  bool openRepartition(runtime::Inputs &inputs, runtime::metrics::Registry &registry,
                       std::string &error);
  bool republish(std::int32_t partition, std::int64_t offset, const runtime::Line &line);
  // --repartition --scale-out (serve_kafka_repartition_group.cpp): the first stages share the
  // input's partitions in the group `<group>-repartition`. Giving some up commits a checkpoint
  // first (what was republished of them, their offsets and records); taking some reads their
  // records from the changelog topic and resumes each at its offset. Each transaction writes a
  // record per input partition held whose position moved (group `<group>-repartition`, no
  // keys: the first stage has no state but its position).
  void onFirstStageRevoking(const std::vector<std::int32_t> &partitions, bool lost);
  std::map<std::int32_t, std::int64_t>
  onFirstStageAssigned(const std::vector<std::int32_t> &partitions);
  bool writeFirstStageRecords(const service::ServeMeta &meta, std::string &error);
  std::map<std::int32_t, std::int64_t> first_written_; // input partition -> offset written

  // A partition assigned behind this member's event time (serve_kafka_catchup.cpp): its keys in
  // a catch-up set of its own (fresh matchers of the served versions) in a run loop of its own
  // that only its messages feed, with its own watermark; it is out of the member's combined
  // watermark (KafkaSource::setHeldOut) until its watermark reaches the member's, when its keys
  // and held events merge into the served matchers and the member's loop.
  // Rule changes of the rules topic the served set applied, applied to the catch-up set when
  // its own watermark reaches their effective time (its driver's TimedChanges).
  struct CatchUpChanges final : runtime::TimedChanges {
    ServeKafka *kafka = nullptr;
    std::int32_t partition = 0;
    std::vector<std::shared_ptr<const service::ServeRuntime::TimedChange>> pending; // by time
    std::int64_t nextChange() const override;
    void applyNext(std::int64_t time) override;
  };
  struct CatchUp {
    std::int32_t partition = 0;
    std::uint32_t input = 0; // its input in the loop (and in the catch-up's own loop)
    std::vector<service::ServeRuntime::CatchUpOperator> ops; // outlive `loop`
    CatchUpChanges changes;                                  // outlives `loop`
    std::unique_ptr<runtime::RunLoop> loop;
    std::uint64_t rule_changes = 0; // applied to it
    std::int64_t from = 0;          // its watermark when it started
    std::int64_t member = 0;        // what it must reach then (catchUpReference)
    std::uint64_t messages = 0;
    // --repartition: the latest watermark heard through it of each input partition, their
    // idleness, and the minimum last handed to its loop (serve_kafka_watermarks.hpp; empty
    // without it).
    InputWatermarks heard;
    std::string buffer;
    std::chrono::steady_clock::time_point started;
    runtime::metrics::Gauge *catching_up = nullptr, *lag = nullptr;
  };
  std::map<std::int32_t, std::unique_ptr<CatchUp>> catch_up_;
  // The rule changes of the rules topic the served set applied since the start, and its
  // deploys and undeploys over HTTP at the event time its keys switched at (its watermark then
  // + 1: TimedChange::http), in the order applied (onTimedChange), less those
  // --rule-history-retention dropped (boundRuleHistory): a partition taken over behind them starts
  // its catch-up from the versions served before the first one after its watermark, and applies
  // them at their times (startCatchUp). Each holds its artifact (bytes and code) and the versions
  // served before it (docs/kafka.md "A partition taken over behind the member").
  std::vector<std::shared_ptr<const service::ServeRuntime::TimedChange>> rule_history_;
  runtime::metrics::Gauge *rule_history_gauge_ = nullptr;
  // Its bound (serve_kafka_rule_history.cpp): the changes due at or before this member's event
  // time minus --rule-history-retention, plus 1, are dropped (boundRuleHistory); every change
  // due after rule_history_complete_ is still in rule_history_ (kNoRuleHistoryFloor: all).
  static constexpr std::int64_t kNoRuleHistoryFloor = INT64_MIN;
  std::int64_t rule_history_retention_ms_ = 24 * 3600 * 1000;
  std::int64_t rule_history_complete_ = kNoRuleHistoryFloor;
  runtime::metrics::Counter *rule_history_dropped_ = nullptr;
  runtime::metrics::Counter *rule_history_http_ = nullptr; // HTTP changes recorded (onTimedChange)
  // onTimedChange and startCatchUp: drops the changes no partition at or after this member's
  // event time minus the retention needs (logged, counted).
  void boundRuleHistory();
  // startCatchUp: why a catch-up from `watermark` cannot be made as of it (a change due after
  // it was dropped); empty when it can.
  std::string ruleHistoryGap(std::int64_t watermark) const;
  // onTimedChange and boundRuleHistory: cep_kafka_rule_history_changes set.
  void countRuleHistory();
  // onAssigned, before the records' keys go into the served set: a member holding no partition
  // (a first start, a restart: its rules topic read whole, every change pending) applies the
  // changes due up to the records' watermarks first, as the records' writers had applied them
  // before they wrote (and keeps them in rule_history_ for later catch-ups).
  void applyRulesBefore(const std::vector<service::ChangelogRecord> &records,
                        const std::vector<std::int32_t> &partitions);
  // A partition taken over AHEAD of this member (serve_kafka_rule_history.cpp): its record's
  // entries of a version this member does not serve yet, which a rules-topic deploy still
  // pending here (due after this member's time, at or before the record's watermark + 1) brings,
  // are held out of the served set (holdAhead) and restored into that version when the deploy
  // is applied (restoreHeld from onTimedChange); the other entries go in at once. The
  // partition's events are released only past this member's watermark, so after the deploy;
  // until then its record in the changelog topic stays the one restored (writeChangelog skips
  // it: its keys' state has not changed), and giving it up drops what is held.
  struct HeldEntry {
    std::int64_t due = 0; // the pending deploy's effective time
    service::ChangelogPattern entry;
  };
  std::map<std::int32_t, std::vector<HeldEntry>> held_ahead_; // by partition
  std::function<std::optional<std::int64_t>(const std::string &hash, std::int64_t upto)>
      pending_deploy_; // setPendingDeploy
  // onAssigned: the entries of `records` (merged at once) held as above, taken out of them.
  void holdAhead(std::vector<service::ChangelogRecord> &records);
  // The held entries of the version `change` deploys restored into it (`change` null, or of
  // another version: those whose deploy is overdue, its time passed without it, go into the
  // versions served now, as a restore does, said in a line).
  void restoreHeld(const service::ServeRuntime::TimedChange *change);
  // Puts `rec`'s held entries (partition `name`) into the served versions and marks the
  // partition's record to be written again: the lines restorePartitions gives, or nothing
  // after fail() ("cannot restore the <what> of <name>: ...").
  std::optional<std::vector<std::string>> restoreHeldRecord(const service::ChangelogRecord &rec,
                                                            const std::string &name,
                                                            const std::string &what);
  // The drain's side of the same (serve_kafka_hold_drain.cpp): a record taken over ahead whose
  // entries are marked draining (its writer applied a drain of their version) while this member
  // still serves that version as its active one, a change draining it still pending here (due
  // after this member's time, at or before the record's watermark + 1). Those entries are held
  // in held_ahead_ too (entry.draining tells them apart) and go into the draining version once
  // the served set no longer serves theirs as the active one (the drain applied: its draining
  // version, or that version served again from its artifact when it drained away at once); a
  // drain that did not come by its time puts them into the active version they were written by
  // (their runs or windows go on there), said in a line. restoreHeldDrain runs before
  // restoreHeld, which would put an overdue draining entry where a restore does.
  std::function<std::optional<std::int64_t>(const std::string &name, std::int64_t upto)>
      pending_drain_; // setPendingDrain
  void holdAheadDrain(std::vector<service::ChangelogRecord> &records);
  void restoreHeldDrain(const service::ServeRuntime::TimedChange *change);
  runtime::OutputSink *loop_out_ = nullptr;
  std::optional<runtime::RunOptions> loop_options_;
  // The event time partitions assigned with `records` must have reached to merge at once
  // (kNoWatermark: none catches up: processing time, setLoopIo not done): this member's
  // watermark, and, when the records carry aggregates' windows, the latest of the records'
  // watermarks (the served aggregates restore under the latest header: the windows of a
  // partition behind it up to there would be taken as fired; a first assignment included).
  std::int64_t catchUpReference(const std::vector<service::ChangelogRecord> &records) const;
  // Whether a partition whose restored watermark is `watermark` (kNoWatermark: unknown) is
  // behind `reference` (catchUpReference).
  static bool behind(std::int64_t watermark, std::int64_t reference);
  // onAssigned: starts partition `p`'s catch-up with its record's keys (`patterns`; null: a
  // partition without a record) from `watermark`, to merge once its watermark reaches both
  // `reference` and the member's. Its set is made as of `watermark`: the versions served
  // before the first rule change (rule_history_) due after it, the changes from there on
  // scheduled at their times; the versions served now when no change is due after it. False (and
  // logs what is late instead) when no catch-up set can be made. Throws std::runtime_error
  // when the records do not fit.
  bool startCatchUp(std::int32_t p, std::int64_t watermark,
                    const std::vector<service::ChangelogPattern> *patterns, std::int64_t reference);
  // skip_message: a message of a partition catching up goes to its catch-up (true: the main
  // loop does not see it); merges it once its watermark reaches the member's.
  bool feedCatchUp(std::int32_t partition, const runtime::Line &line);
  void mergeCatchUp(std::int32_t partition);
  // onRevoking: a partition catching up given away (after its record was written).
  void dropCatchUp(std::int32_t partition);
  // ServeRuntime::setOnTimedChange: a rule change the served set applied, scheduled in every
  // catch-up at its effective time (applied at once where that catch-up is past it).
  void onTimedChange(const std::shared_ptr<const service::ServeRuntime::TimedChange> &change);
  // A rule change applied to partition `p`'s catch-up set now (`late`: past its time there).
  void applyCatchUpChange(std::int32_t p, const service::ServeRuntime::TimedChange &change,
                          bool late);
  // writeChangelog: a partition catching up writes its catch-up's keys, where it resumes (its
  // first held event) and its own watermark. False for any other partition (`rec` untouched).
  bool catchUpRecord(std::int32_t partition, service::ChangelogRecord &rec) const;
  // writeChangelog: the artifact of a version draining in catch-up `c` into the changelog
  // topic once, when neither this process nor the topic has it (its entries are marked
  // draining: whoever restores them serves it again from there). False with `error`.
  bool writeCatchUpArtifacts(const CatchUp &c, const std::string &topic, std::string &error);

  // Messages read again after a restore from the changelog (serve_kafka_replay.cpp): a
  // partition restored from a record resumes at the first event its writer still held, so
  // the messages up to `read_to` whose event time is at or before the writer's `watermark`
  // (matched by the writer, their effect in the state restored) are skipped, counted and
  // logged once when the partition's replay ends.
  struct Replay {
    std::int64_t read_to = -1;
    std::int64_t watermark = 0;
    std::uint64_t skipped = 0;
  };
  std::map<std::int32_t, Replay> replay_; // partition -> its replay
  runtime::metrics::Counter *replay_skipped_ = nullptr;
  void replayFrom(const service::ChangelogRecord &rec); // a partition restored from `rec`
  // (replayFrom) The partition's watermark in the loop raised to the record's (not for a
  // partition catching up: its own), and with --repartition what it had heard of the input's
  // partitions given back to the matching stage's source (or its catch-up).
  void resumeWatermarks(const service::ChangelogRecord &rec);
  bool skipReplayed(std::int32_t partition, std::int64_t offset, const runtime::Line &line);
};

} // namespace cep::cli
