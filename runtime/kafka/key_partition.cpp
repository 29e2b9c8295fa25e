// A pattern key's input partition: librdkafka's partitioner functions over the key's message key
// (key_partition.hpp).
#include "runtime/kafka/key_partition.hpp"

#include "support/internal_error.hpp"

#include <librdkafka/rdkafka.h>
#include <simdjson.h>

namespace cep::runtime::kafka {

std::optional<Partitioner> partitionerNamed(std::string_view name) {
  if (name == "consistent_random" || name == "consistent") {
    return Partitioner::Consistent;
  }
  if (name == "murmur2_random" || name == "murmur2") {
    return Partitioner::Murmur2;
  }
  return std::nullopt;
}

const char *partitionerName(Partitioner p) {
  return p == Partitioner::Consistent ? "consistent_random" : "murmur2_random";
}

std::optional<std::string> messageKeyOf(std::string_view key_json) {
  simdjson::padded_string padded(key_json);
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  if (parser.iterate(padded).get(doc) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  simdjson::ondemand::json_type type;
  if (doc.type().get(type) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  if (type == simdjson::ondemand::json_type::null) {
    return std::nullopt;
  }
  if (type == simdjson::ondemand::json_type::string) {
    std::string_view text;
    if (doc.get_string().get(text) != simdjson::SUCCESS) {
      return std::nullopt;
    }
    return std::string(text);
  }
  // Any other value: its text as written (the sink writes composite keys and numbers so).
  std::string_view text = key_json;
  while (!text.empty() && (text.back() == ' ' || text.back() == '\n')) {
    text.remove_suffix(1);
  }
  return std::string(text);
}

std::int32_t keyPartition(std::string_view key, std::int32_t partitions, Partitioner partitioner) {
  CEP_ASSERT(partitions >= 1, "a key's partition among no partitions");
  // Neither function reads the topic or the opaques (librdkafka 2.0.2, rdkafka_msg.c); a key
  // that is present always hashes (the "random" of their names is for keyless messages only).
  if (partitioner == Partitioner::Consistent) {
    return rd_kafka_msg_partitioner_consistent(nullptr, key.data(), key.size(), partitions, nullptr,
                                               nullptr);
  }
  return rd_kafka_msg_partitioner_murmur2(nullptr, key.data(), key.size(), partitions, nullptr,
                                          nullptr);
}

std::int32_t keyPartitionOf(std::string_view key_json, std::int32_t partitions,
                            Partitioner partitioner) {
  std::optional<std::string> key = messageKeyOf(key_json);
  return key ? keyPartition(*key, partitions, partitioner) : -1;
}

} // namespace cep::runtime::kafka
