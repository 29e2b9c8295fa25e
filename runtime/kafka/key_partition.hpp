// Which input partition a pattern key belongs to (#12 §3, docs/kafka.md "Scale-out"): how the
// runtime knows, without asking the brokers, the partition whose state holds a key.
//
// Patterns read topics partitioned by their key (co-partitioned): every event of a key is in one
// partition, the one the PRODUCER's partitioner chose from the message key. The runtime
// recomputes that choice: a key's message key is the bytes `cep serve` itself writes as the key
// of a match record (kafka_sink.hpp): a string key its bytes as they are (`c-001611`), any other
// key its JSON text (`42`, `["u-1",3]`), a null key none; its partition is the producer's
// partitioner applied to those bytes and the topic's partition count. Two partitioners are known,
// librdkafka's own functions (so the result is the producer's bit for bit):
//   - Partitioner::Consistent: librdkafka's default `consistent_random` (CRC32 of the key;
//     kcat and every librdkafka-based producer without `partitioner=`);
//   - Partitioner::Murmur2: `murmur2_random`, the Java client's default (murmur2 of the key).
// A key without message key (null) has no partition (-1): its state stays with no partition and
// is never moved (docs/kafka.md says why such keys cannot be scaled out).
//
//   std::string k = messageKeyOf("\"c-001611\"");             // "c-001611"
//   std::int32_t p = keyPartition(k, 4, Partitioner::Consistent); // 0..3, as kcat -K put it
//   keyPartitionOf("[\"u-1\",3]", 4, Partitioner::Murmur2);  // the same from the key's JSON
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cep::runtime::kafka {

enum class Partitioner { Consistent, Murmur2 };

// "consistent_random" / "consistent", "murmur2_random" / "murmur2" (librdkafka's names for the
// property `partitioner`); nullopt for anything else.
std::optional<Partitioner> partitionerNamed(std::string_view name);
const char *partitionerName(Partitioner p); // "consistent_random", "murmur2_random"

// The message key of a pattern key given as its "@key" JSON text: the string's unescaped bytes
// for a JSON string, the text itself for any other value; nullopt for `null` or text that is not
// one JSON value.
std::optional<std::string> messageKeyOf(std::string_view key_json);

// The partition (0..partitions-1) `partitioner` gives the message key `key`; partitions >= 1.
std::int32_t keyPartition(std::string_view key, std::int32_t partitions, Partitioner partitioner);

// keyPartition(messageKeyOf(key_json)), or -1 when the key has no message key.
std::int32_t keyPartitionOf(std::string_view key_json, std::int32_t partitions,
                            Partitioner partitioner);

} // namespace cep::runtime::kafka
