// `kafka://HOST:PORT[,HOST:PORT...]/TOPIC[?group=G&start=earliest|latest]`: a Kafka topic as an
// input (`cep serve -i`) or an output (`-o`, `--dead-letter`, `--late-output`), docs/kafka.md.
// The brokers are the bootstrap servers; an input names its consumer group (required) and where
// a group without committed offsets starts (`start`, default earliest); an output takes no
// parameters. Every error says what is wrong with which part:
//
//   KafkaUrl url;
//   std::string error;
//   if (!parseKafkaUrl("kafka://127.0.0.1:9092/payments?group=fraud", KafkaUrl::Input, url,
//                      error)) { ... error: `kafka://...: <reason>` ... }
//   url.bootstrap();  // "127.0.0.1:9092"
//   url.topic;        // "payments"
//   url.group;        // "fraud"
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cep::runtime::kafka {

struct KafkaUrl {
  enum Role { Input, Output };
  std::string text;                 // as given
  std::vector<std::string> brokers; // "HOST:PORT" each, in order
  std::string topic;
  std::string group;              // inputs: the consumer group (group.id)
  std::string start = "earliest"; // inputs: auto.offset.reset for a group without offsets
  // The brokers joined by commas (bootstrap.servers).
  std::string bootstrap() const;
};

// Whether `text` is meant as a Kafka URL (it starts with "kafka://").
bool isKafkaUrl(std::string_view text);

// Parses `text` for `role`. False with `error` = `<text>: <reason>` naming the part at fault
// (a host, a port, the topic, a parameter).
bool parseKafkaUrl(std::string_view text, KafkaUrl::Role role, KafkaUrl &url, std::string &error);

} // namespace cep::runtime::kafka
