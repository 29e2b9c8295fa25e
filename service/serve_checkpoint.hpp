// What a checkpoint of `cep serve --state DIR` holds besides the matchers' key records and the
// artifacts' bytes (docs/state.md): the server's META record, one per checkpoint, and its
// versioned binary encoding CEPSMETA. The key records of every served matcher are in the store
// under the matcher's operator id (runtime/state/store); the artifacts under their hash.
//
// A checkpoint is a consistent cut between two released events, taken on the event loop:
//   - `run`: the run loop without its matchers (a CEPRSNAP with no pattern,
//     runtime/engine/run_snapshot.hpp): watermarks, record counts, the arrival counter, the
//     events held for reordering, the clock;
//   - `schema`: the server's event types in their order (deploys append to it);
//   - `served`: every loaded pattern version in operator id order, with its artifact's hash, its
//     matcher's header (time, counters, draining; runtime/state/key_record.hpp) and what the
//     metrics need to go on counting;
//   - `inputs`: each input's byte position and the identity of the file it read;
//   - `outputs`: each output's length when the checkpoint was taken (after a flush).
//
// Layout (runtime/snapshot_codec.hpp encodings; str = u32 length + bytes, blob = u64 + bytes):
//   "CEPSMETA" u32 version (kServeMetaVersion with a Kafka part, else 1)
//   u64 checkpoint wall time (epoch ms), u32 next operator id
//   u32 type count, per type: str name, i32 time field (-1 none) as u32, u32 field count, per
//     field: str name, u8 kind (runtime::FieldKind), u8 nullable
//   blob run (CEPRSNAP without patterns)
//   u32 served count, per served: u32 operator id, str pattern, str version, str artifact hash,
//     i64 loaded at (epoch ms), u8 draining, u64 matches base, u64 timeouts base,
//     blob matcher header
//   u32 input count, per input: str name, position (run_snapshot.hpp writeInputPosition)
//   u32 output count, per output: str role ("matches", "late", "dead letters", "evicted"),
//     str path, u64 length
//   (version 2) u8 has Kafka; when 1 (KafkaMeta, docs/kafka.md "Exactly once"):
//     u32 input topic count, per topic: str topic, str group, str cluster id, u32 partitions,
//       u32 position count, per position: u32 partition, i64 next offset
//     u32 output count, per output: str role, str URL
//     str transactional id, str transaction label, u8 transaction state (KafkaTxnState)
//   (version 3) u32 section count, per section: str name, blob bytes (the state of a part of
//     the server that keeps its own: "rules", service/rules_topic.hpp)
//   u64 FNV-1a 64 of every byte before it
// The version written is the lowest that holds the record: 1 without a Kafka part or sections
// (byte for byte what builds before either wrote), 2 with a Kafka part and no sections, 3 with
// sections. All three are read.
// Decoding anything else throws std::runtime_error("bad serve checkpoint: <reason>").
#pragma once

#include "runtime/io/inputs.hpp"
#include "runtime/schema.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cep::service {

inline constexpr char kServeMetaMagic[8] = {'C', 'E', 'P', 'S', 'M', 'E', 'T', 'A'};
// The section of the aggregates being drained (docs/serve.md "Aggregates"): per such version,
// u32 operator id, i64 from, i64 before: it writes the windows starting in [from, before)
// (runtime/native/native_aggregate.hpp "Drain"); absent when no aggregate drains.
inline constexpr char kWindowOwnersSection[] = "aggregate_windows";
inline constexpr std::uint32_t kServeMetaVersion = 3;      // the newest read and written
inline constexpr std::uint32_t kServeMetaVersionKafka = 2; // a Kafka part, no sections
inline constexpr std::uint32_t kServeMetaVersionPlain = 1; // neither

struct ServedState {
  std::uint32_t operator_id = 0;
  std::string pattern;
  std::string version;       // the artifact's version (hash prefix)
  std::string artifact_hash; // key of the artifact's bytes in the store
  std::int64_t loaded_at = 0;
  bool draining = false;
  // Counts the version had when it started serving (a keep deploy moves the counters).
  std::uint64_t matches_base = 0, timeouts_base = 0;
  std::string matcher_header; // the matcher's header record
};

struct InputMark {
  std::string name;
  runtime::InputPosition position; // offset, line, file identity
};

struct OutputMark {
  std::string role;
  std::string path;
  std::uint64_t length = 0;
};

// Kafka in a checkpoint (`cep serve --state` with kafka:// inputs or outputs, docs/kafka.md):
// each input topic's identity and, per partition read so far, the next offset to read (named
// by topic and partition, never by input index); the output topics; and the producer
// transaction that carries this checkpoint's output records and offsets.
//
//   KafkaMeta kafka;
//   KafkaTopicMark &in = kafka.inputs.emplace_back();
//   in.topic = "payments"; in.group = "fraud"; in.cluster = "mkT3..."; in.partitions = 4;
//   in.next_offsets = {{0, 120}, {2, 98}};            // partitions 1 and 3: nothing read yet
//   kafka.outputs.push_back({"matches", "kafka://127.0.0.1:9092/alerts"});
//   kafka.transactional_id = "cep-fraud-host1";
//   kafka.transaction = "1733301234567-7";           // the header cep-txn of its records
//   kafka.state = KafkaTxnState::Pending;            // written before the transaction commits
enum class KafkaTxnState : std::uint8_t {
  None = 0,      // no transactional output (Kafka inputs with file outputs)
  Pending = 1,   // written before its transaction's commit: it stands only if that committed
  Committed = 2, // its transaction committed (or it carried none: the first checkpoint)
};

struct KafkaTopicMark {
  std::string topic;
  std::string group;
  std::string cluster;          // the brokers' cluster id (rd_kafka_clusterid)
  std::uint32_t partitions = 0; // the topic's partition count
  std::vector<std::pair<std::int32_t, std::int64_t>> next_offsets; // partition -> next offset
};

struct KafkaOutputMark {
  std::string role; // "matches", "dead letters", "late events"
  std::string url;
};

struct KafkaMeta {
  std::vector<KafkaTopicMark> inputs;
  std::vector<KafkaOutputMark> outputs;
  std::string transactional_id;
  std::string transaction; // its label; empty: none
  KafkaTxnState state = KafkaTxnState::None;
};

struct ServeMeta {
  std::int64_t taken_at = 0;
  std::uint32_t next_operator_id = 0;
  runtime::Schema schema;
  std::string run;
  std::vector<ServedState> served;
  std::vector<InputMark> inputs;
  std::vector<OutputMark> outputs;
  std::optional<KafkaMeta> kafka; // with kafka:// inputs or outputs
  // Named states of the server's other parts, restored by them ("rules": the rules topic's
  // offsets and pending changes). Names are unique.
  std::vector<std::pair<std::string, std::string>> sections;
  // The section `name`, or null.
  const std::string *section(std::string_view name) const {
    for (const auto &[n, bytes] : sections) {
      if (n == name) {
        return &bytes;
      }
    }
    return nullptr;
  }
};

void encodeServeMeta(const ServeMeta &meta, std::string &out);
ServeMeta decodeServeMeta(std::string_view in);

} // namespace cep::service
