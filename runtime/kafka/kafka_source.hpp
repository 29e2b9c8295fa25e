// A Kafka topic read by a consumer group as a RecordSource (runtime/io/record_source.hpp): each
// partition of the topic is one input of `cep serve` and one watermark partition, counted in
// the combined watermark while it is assigned to this process and has not been silent for
// longer than `idle_timeout` of wall time (docs/kafka.md). Message values are the JSON records
// of spec §5 (the same decoder as files, through Inputs); a record's Line::number and offset are
// the message's offset, Line::source_time its timestamp (the event time of a type without a time
// field). Opening reads the topic's metadata (its partition count; a missing topic or brokers
// that do not answer are refused here) and subscribes with the group; partitions are assigned
// and revoked later by the group (eager or cooperative rebalances).
//
// The wait: librdkafka writes a byte on fd() when its consumer queue gets a message, a
// rebalance or an error (rd_kafka_queue_io_event_enable), so Inputs::nextArrived polls it beside
// files, the admin wake fd and the stop signal. Backpressure: messages are taken only when the
// loop asks (next()); while the output cannot keep up the loop does not ask, and librdkafka's
// prefetch stops at queued.max.messages.kbytes (16 MiB here unless --kafka-config says
// otherwise), so memory stays bounded.
//
// Offsets: committed to the group by librdkafka's auto commit (what was handed to the loop);
// with `commit_offsets` false (`cep serve --state` with a Kafka output) nothing is committed by
// the consumer: the offsets go into each checkpoint's transaction (KafkaProducer::commit).
// Resuming (`--state`, with `assign_all`: the process takes every partition itself, no group
// join): `resume_at` gives a partition's next offset from the checkpoint; an
// assigned partition starts there, not at the group's committed offset, and one log line per
// assignment says where each partition starts and from where (the checkpoint, the group, or
// `start`), with the group's committed offset when it differs.
//
//   options.resume_at = {{0, 120}, {2, 98}};        // the checkpoint's next offsets
//   options.commit_offsets = false;                 // offsets go with the transactions
//   ...
//   source->positions();  // {{0, 131}, {2, 98}}: next offset of each partition read or resumed
//
//   KafkaSourceOptions options;
//   parseKafkaUrl("kafka://127.0.0.1:9092/payments?group=fraud", KafkaUrl::Input, options.url,
//                 error);
//   options.idle_timeout_ms = 5000;
//   options.registry = &registry;  // cep_kafka_* metrics
//   auto source = KafkaSource::open(options, error);   // null: refused, `error` says why
//   inputs.addSource(std::move(source), -1);           // one input per partition
#pragma once

#include "runtime/io/record_source.hpp"
#include "runtime/kafka/kafka_config.hpp"
#include "runtime/kafka/kafka_url.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cep::runtime::metrics {
class Registry;
}

namespace cep::runtime::kafka {

// `cep serve --scale-out` (docs/kafka.md "Scale-out"): what the server does when the group moves
// partitions. Both are called on the loop thread, inside next() (librdkafka's rebalance
// callback runs in its poll), so between two records.
struct KafkaRebalanceHooks {
  // `partitions` are about to be taken from this process; they are still assigned (positions()
  // has them) so that their state and offsets can be committed first. `lost`: the group has
  // given them to another member already (this one missed its session timeout): their state
  // must not be written, only dropped.
  std::function<void(const std::vector<std::int32_t> &partitions, bool lost)> revoking;
  // `partitions` are given to this process: returns where each starts (partition -> next
  // offset); a partition it does not name starts at the group's committed offset, else at
  // url.start.
  std::function<std::map<std::int32_t, std::int64_t>(const std::vector<std::int32_t> &partitions)>
      assigned;
};

struct KafkaSourceOptions {
  KafkaUrl url;                          // an input URL (with its group)
  const KafkaConfig *config = nullptr;   // --kafka-config; null: none
  std::int64_t idle_timeout_ms = 0;      // --idle-timeout; 0: a silent partition always counts
  std::size_t max_record_bytes = 0;      // longer values are handed out as Line::oversized
  metrics::Registry *registry = nullptr; // null: no metrics
  int metadata_timeout_ms = 10000;       // how long open() waits for the brokers
  // --state: partition -> the next offset to read (the checkpoint's); others start at the
  // group's committed offset, or at url.start without one.
  std::map<std::int32_t, std::int64_t> resume_at;
  bool commit_offsets = true; // false: no auto commit (offsets go in transactions)
  // Every partition assigned to this process at open (rd_kafka_assign: no group join, no
  // rebalance), the group keeping only the offsets: `cep serve --state` without --scale-out, one
  // process per group.
  bool assign_all = false;
  // `cep serve --scale-out`: subscribes with partition.assignment.strategy=cooperative-sticky
  // (incremental rebalances: only the partitions that move are revoked) and calls `hooks` on
  // every assignment and revocation. Not with assign_all.
  bool cooperative = false;
  KafkaRebalanceHooks hooks;
  // The changelog topic (docs/kafka.md "A key's partition"): a keyed message in another
  // partition than librdkafka's default partitioner gives its key is counted
  // (cep_kafka_key_partition_mismatches_total) and logged with its topic, partition and offset
  // (the first 10, then every 1000th); it is matched all the same.
  bool check_key_partition = false;
  // Called for every message with a non-empty key, with its partition, offset, key and the
  // record handed out (`cep serve` checks the key against the patterns' keys of its event:
  // docs/kafka.md "Scale-out"). Null: none.
  std::function<void(std::int32_t partition, std::int64_t offset, std::string_view key,
                     const Line &line)>
      on_keyed_message;
  // Called for every message before it is handed out, with its partition, offset and record:
  // true skips it (it is consumed, its offset passed, but never handed out). `cep serve` skips
  // the messages a partition taken over reads again that its previous owner had matched
  // already (docs/kafka.md "Scale-out"). Null: none.
  std::function<bool(std::int32_t partition, std::int64_t offset, const Line &line)> skip_message;
};

// One partition's offset committed by a consumer group: -1 when it has none; `metadata` as
// committed with it (a transaction's `cep-txn:<label>`, kafka_producer.hpp).
struct CommittedOffset {
  std::int32_t partition = 0;
  std::int64_t offset = -1;
  std::string metadata;
};

// The offsets `url.group` has committed for partitions 0..partitions-1 of `url.topic` (an
// OffsetFetch with a consumer that joins nothing). False with `error` when the brokers do not
// answer within timeout_ms.
bool readCommittedOffsets(const KafkaUrl &url, const KafkaConfig *config, std::uint32_t partitions,
                          std::vector<CommittedOffset> &offsets, std::string &error,
                          int timeout_ms = 10000);

class KafkaSource final : public RecordSource {
public:
  // Connects, reads the topic's metadata and subscribes. Null with `error` when the
  // configuration is refused, the brokers do not answer within metadata_timeout_ms, or the topic
  // does not exist.
  static std::unique_ptr<KafkaSource> open(const KafkaSourceOptions &options, std::string &error);
  ~KafkaSource() override; // leaves the group (commits what was handed out)

  std::uint32_t splits() const override;
  std::string splitName(std::uint32_t split) const override; // "payments[2]"
  std::optional<PartitionOrigin> origin(std::uint32_t split) const override;
  ReadStatus next(std::uint32_t &split, Line &line) override;
  int fd() const override;
  int wakeWithinMs() const override;
  bool counts(std::uint32_t split) const override;
  // Whether partition `split` is assigned to this process now (idle or not).
  bool assigned(std::uint32_t split) const;
  // Whether partition `split` is assigned and silent for idle_timeout_ms (out of the watermark
  // until it has a message again).
  bool idle(std::uint32_t split) const;
  // `cep serve --scale-out`: partition `split` is left out of the combined watermark while
  // `held_out` (counts() false: its messages are matched by a catch-up of its own, with its own
  // watermark; docs/kafka.md "A partition taken over behind the member").
  void setHeldOut(std::uint32_t split, bool held_out);
  std::uint64_t countsVersion() const override;
  const std::string &error() const override;

  const std::string &topic() const;
  const std::string &group() const;
  // The brokers' cluster id (read at open; empty when they did not say).
  const std::string &clusterId() const;
  // The next offset of each partition read or resumed so far, by partition (ascending): what a
  // checkpoint records and a transaction commits.
  std::vector<std::pair<std::int32_t, std::int64_t>> positions() const;

  struct Impl;
  Impl &impl() const { return *impl_; }

private:
  explicit KafkaSource(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

} // namespace cep::runtime::kafka
