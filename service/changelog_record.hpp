// One record of the changelog topic `<group>-state` (#12 §3, docs/kafka.md "The changelog
// topic"): the state of ONE input partition as of one checkpoint, written in the same producer
// transaction as the checkpoint, so that whichever process takes the partition next (after a
// rebalance, or on another machine with an empty `--state` folder) restores it from the topic.
// The topic is compacted: its message key is `changelogKey(topic, partition)`
// ("payments/2"), so the topic keeps the latest record of every partition.
//
// What a record holds: where the partition resumes (its next offset, or its first event still
// held for reordering), where the writer had read it to and the watermark its events were
// released up to (the messages read again before `read_to` with an event time at or before
// `watermark` were matched, or judged late, by the writer: the next owner skips them;
// docs/kafka.md "Scale-out"),
// the transaction it was written in (the label every record of that transaction carries in its
// header `cep-txn`, kafka_producer.hpp), which tells it apart from the local store's checkpoint
// and the producer's transactional.id (which server wrote it: a record of another id newer than
// a local checkpoint means the local folder is stale), and, per
// served pattern version (by NAME, never by operator index, so a record restores into another
// process, another build or recompiled rules), the key records (runtime/state/key_record.hpp) of
// the pattern's keys that belong to the partition (runtime/kafka/key_partition.hpp). A
// pattern's matcher header (time, counters) is not in it: those belong to the process. An
// aggregate's (spec §8) is: its key records are its open windows per key, the same records as
// the RocksDB store's (runtime/native/native_aggregate.hpp "Key records"), and its header (the
// CEPASNAP header: the spec by name and the watermark its windows fired up to) says which
// windows have fired, so it travels with them.
//
// Layout (runtime/snapshot_codec.hpp encodings; str = u32 length + bytes, blob = u64 + bytes):
//   "CEPCHLOG" u32 version (kChangelogVersion)
//   str topic, u32 partition, u32 partition count of the topic, str group, str cluster id
//   str transaction label, str transactional id, i64 taken at (epoch ms),
//   i64 next offset (-1: nothing read yet),
//   i64 watermark (INT64_MIN: none yet)
//   i64 read to (-1: unknown; version 2 on)
//   u32 input partition count, per input partition: i64 watermark heard (INT64_MIN: none),
//     u8 idle (version 4 on; `--repartition`'s matching stage: what the partition had heard of
//     the input topic's partitions, cli/serve_kafka_watermarks.hpp; 0 otherwise)
//   u32 pattern count, per pattern: str pattern, str version, str artifact hash,
//     blob header (version 3 on: an aggregate's CEPASNAP header, empty for a pattern),
//     u8 draining, i64 own from, i64 own before (version 5 on: an aggregate version of a drain,
//     docs/serve.md "Aggregates": whether it is the draining one and the windows it writes,
//     those starting in [own from, own before); 0, INT64_MIN, INT64_MAX otherwise),
//     u64 record count, per record: blob key record
//   u64 FNV-1a 64 of every byte before it
// Decoding anything else throws std::runtime_error("bad changelog record: <reason>"). Versions
// 1 (without `read to`: read_to -1), 2 (without headers), 3 (without input partitions) and 4
// (without a drain's shares: every entry active, owning every window) are still read.
//
// The topic holds one more kind of message (version 5 on): the ARTIFACT of an aggregate version
// that drains, keyed changelogArtifactKey(hash) ("@artifact/<hash>": no topic name holds an
// `@`, so no partition's key is one), its value the .cepo bytes as deployed. A server restoring
// a draining version it does not serve (an empty `--state` folder, started with the new
// version) loads it from there and serves it again, draining, until its windows are done.
//
// Size: librdkafka's mock cluster keeps at most 5 MiB per partition and drops older data
// silently, and a real broker refuses a message above `message.max.bytes` (1 MiB by default):
// a writer checks encodeChangelogRecord's size against kChangelogRecordMaxBytes first.
//
//   ChangelogRecord rec;
//   rec.topic = "payments"; rec.partition = 2; rec.partitions = 4; rec.group = "fraud";
//   rec.transaction = "1733301234567-7"; rec.transactional_id = "cep-fraud-host1";
//   rec.taken_at = 1733301235000;
//   rec.next_offset = 516; rec.read_to = 530; rec.watermark = 1764842400000;
//   auto &p = rec.patterns.emplace_back();
//   p.pattern = "card_testing"; p.version = "3248ce6a4836"; p.artifact_hash = "3248ce6a...";
//   p.records = keyRecordsOf(state, inPartition2);   // runtime/state/partition_state.hpp
//   std::string value;
//   encodeChangelogRecord(rec, value);                // the message value
//   std::string key = changelogKey("payments", 2);    // "payments/2", the message key
//   ChangelogRecord back = decodeChangelogRecord(value);
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace cep::service {

inline constexpr char kChangelogMagic[8] = {'C', 'E', 'P', 'C', 'H', 'L', 'O', 'G'};
inline constexpr std::uint32_t kChangelogVersion = 5;
// The largest record written: under a real broker's default message.max.bytes (1 MiB, less the
// batch overhead) and far under the mock cluster's 5 MiB per partition.
inline constexpr std::size_t kChangelogRecordMaxBytes = 1000 * 1000;

struct ChangelogPattern {
  std::string pattern;              // the pattern's (or aggregate's) name: what restores it
  std::string version;              // the artifact's version (hash prefix), for the log and checks
  std::string artifact_hash;        // the artifact it was served from
  std::string header;               // an aggregate's CEPASNAP header; empty for a pattern
  std::vector<std::string> records; // key records of the partition's keys, in key order
  // An aggregate version of a drain (version 5 on): the draining one (its windows restore into
  // that version, never into the active one of its name), and the windows it writes, those
  // starting in [own_from, own_before) (runtime/native/native_aggregate.hpp "Drain").
  bool draining = false;
  std::int64_t own_from = INT64_MIN;
  std::int64_t own_before = INT64_MAX;
};

struct ChangelogRecord {
  std::string topic;
  std::uint32_t partition = 0;
  std::uint32_t partitions = 0; // the topic's partition count (keys are hashed over it)
  std::string group;
  std::string cluster;          // the brokers' cluster id
  std::string transaction;      // label of the transaction it was written in
  std::string transactional_id; // of the producer that wrote it (which server, which folder)
  std::int64_t taken_at = 0;
  std::int64_t next_offset = -1; // where the partition resumes (first held event, else read_to)
  // The writer's next offset at the cut (-1: unknown) and its watermark then (INT64_MIN: none):
  // every message before read_to with an event time at or before the watermark was released
  // to the matchers (its effect is in the keys' state) or judged late there.
  std::int64_t read_to = -1;
  std::int64_t watermark = INT64_MIN;
  // --repartition's matching stage: per partition of the input topic, the latest watermark
  // heard through this repartition partition (INT64_MIN: none) and whether it was said idle
  // (same length; empty otherwise).
  std::vector<std::int64_t> input_watermarks;
  std::vector<std::uint8_t> input_idle;
  std::vector<ChangelogPattern> patterns;

  std::uint64_t keyRecords() const;
};

// The message key of a partition's record: "<topic>/<partition>".
std::string changelogKey(std::string_view topic, std::uint32_t partition);
// The topic of a group's changelog: "<group>-state".
std::string changelogTopic(std::string_view group);
// The message key of a draining version's artifact in the changelog: "@artifact/<hash>"; the
// hash of such a key, or "" when it is not one.
std::string changelogArtifactKey(std::string_view hash);
std::string artifactOfChangelogKey(std::string_view key);

void encodeChangelogRecord(const ChangelogRecord &record, std::string &out);
ChangelogRecord decodeChangelogRecord(std::string_view in);

// What the records of some partitions hold for one pattern or aggregate name (views into the
// records): its key records, and an aggregate's headers (one per partition record that has one).
struct PatternRecords {
  std::vector<std::string_view> records;
  std::vector<std::string_view> headers;
  // Per record, the header of the partition's entry it came in (empty: none), when built by
  // recordsByPattern (else empty): an aggregate's time windows restored ahead of the operator
  // take their partition's watermark as the keys' "fired up to" mark.
  std::vector<std::string_view> record_headers;
  // The windows the active version writes when a drain split them (version 5 on; else all).
  std::int64_t own_from = INT64_MIN;
  std::int64_t own_before = INT64_MAX;
  // The aggregate versions of its name that drain, by version (version 5 on): never merged
  // into `records` (the active version's), restored into the draining version they belong to.
  struct Draining {
    std::string artifact_hash;
    std::int64_t own_from = INT64_MIN;
    std::int64_t own_before = INT64_MAX;
    std::vector<std::string_view> records;
    std::vector<std::string_view> headers;
    std::vector<std::string_view> record_headers; // as PatternRecords'
  };
  std::map<std::string, Draining> draining;
};
// By name, from every pattern entry of `records` (ServeRuntime::restorePartitions takes it);
// the entries of a draining version go to `draining` under their version.
std::map<std::string, PatternRecords> recordsByPattern(const std::vector<ChangelogRecord> &records);

} // namespace cep::service
