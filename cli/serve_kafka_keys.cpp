// The message key of a Kafka input against the pattern key of its event (serve_kafka.hpp;
// docs/kafka.md "Scale-out"): the changelog keeps a key's state with the partition librdkafka's
// partitioner gives the key, and members of a group each hold some partitions, so a pattern's
// events of one key must all be in that key's partition: their message key must be the key the
// pattern partitions by, as `cep serve` writes it (a string its bytes, any other value its JSON
// text: runtime/kafka/key_partition.hpp). A message keyed otherwise splits the pattern's state
// of that key between members: counted per pattern, logged once per partition with the example.
#include "cli/serve_kafka.hpp"
#include "runtime/kafka/kafka_source.hpp"
#include "runtime/kafka/key_partition.hpp"

#include <iostream>

namespace cep::cli {

void ServeKafka::checkMessageKey(std::int32_t partition, std::int64_t offset, std::string_view key,
                                 const runtime::Line &line) {
  if (served_ == nullptr || sources_.empty()) {
    return; // before the loop
  }
  const runtime::Schema &schema = served_->schema();
  runtime::JsonlDecoder &decoder = messageDecoder();
  runtime::RecordContext context;
  context.line = static_cast<std::uint64_t>(offset) + 1;
  context.bound_type =
      inputs_.front().type_name.empty() ? -1 : schema.typeIndex(inputs_.front().type_name);
  runtime::DecodeResult decoded = decoder.decodeCopy(line.text, context);
  if (decoded.status != runtime::DecodeStatus::Event) {
    return; // a watermark, or a dead letter (the loop's own decode says why)
  }
  key_scratch_.clear();
  served_->patternKeys(*decoded.event, key_scratch_);
  const std::string &topic = sources_.front()->topic();
  for (const auto &[pattern, key_json] : key_scratch_) {
    std::optional<std::string> expected = runtime::kafka::messageKeyOf(key_json);
    if (!expected || *expected == key) {
      continue;
    }
    if (registry_ != nullptr) {
      registry_
          ->counter("cep_kafka_message_key_mismatches_total",
                    "Messages whose key is not the key their event has in a partitioned "
                    "pattern (the pattern's state of that key is split between partitions).",
                    {{"topic", topic}, {"pattern", pattern}})
          .add();
    }
    if (key_logged_.insert(partition).second) {
      std::cerr << "cep serve: kafka: " << topic << "[" << partition << "]@" << offset
                << ": message key \"" << key.substr(0, 64) << "\" is not pattern " << pattern
                << "'s key of its event, " << key_json.substr(0, 64)
                << ": the pattern's state of a key is split between the partitions (and "
                   "members) its events are in; key the topic by the pattern's key (docs/kafka.md "
                   "\"Scale-out\"; logged once per partition, counted in "
                   "cep_kafka_message_key_mismatches_total)\n";
    }
  }
}

} // namespace cep::cli
