// A Kafka topic as an output of `cep serve` (`-o kafka://HOST:PORT/TOPIC`, and the dead-letter
// and late outputs): each record is one message. A match record (spec §5) is keyed by its
// partition key, so that consumers downstream co-partition with the input: `"@key"` a string
// is the key's bytes as they are (`c-001611`), any other value its JSON text (`["u-1",3]`,
// `42`), null or absent no key; its `"@stream"` goes into the header `@stream`. Other records
// (dead letters, late events) go unkeyed.
//
// Delivery: librdkafka retries; a message it gives up on is counted
// (cep_kafka_delivery_errors_total) and logged, never silent. When its queue is full, write()
// waits for room (serving delivery reports): the event loop, and with it consumption, pauses
// until the brokers keep up (backpressure). close() flushes, waiting at most flush_timeout_ms,
// and logs how many messages were not delivered. Written through a transactional producer
// (KafkaSinkOptions::producer, kafka_producer.hpp), a record also carries the header `cep-txn`:
// the label of the transaction it belongs to.
//
//   KafkaSinkOptions options;
//   parseKafkaUrl("kafka://127.0.0.1:9092/alerts", KafkaUrl::Output, options.url, error);
//   auto sink = KafkaSink::open(options, error);        // null: refused
//   sink->write(R"({"@stream":"Alert","@pattern":"p","@key":"c-1",...})", error);
//   sink->close();                                      // flush, bounded
#pragma once

#include "runtime/kafka/kafka_config.hpp"
#include "runtime/kafka/kafka_url.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace cep::runtime::metrics {
class Registry;
}

namespace cep::runtime::kafka {

class KafkaProducer;

struct KafkaSinkOptions {
  KafkaUrl url; // an output URL
  // The producer to write with, shared by several sinks (one transaction spans them:
  // kafka_producer.hpp); null: the sink makes its own, not transactional.
  std::shared_ptr<KafkaProducer> producer;
  const KafkaConfig *config = nullptr;   // --kafka-config; null: none
  metrics::Registry *registry = nullptr; // null: no metrics
  int metadata_timeout_ms = 10000;       // how long open() waits for the brokers
  int flush_timeout_ms = 10000;          // close(): the longest wait for deliveries
};

class KafkaSink {
public:
  // Connects and checks that the topic exists. Null with `error` otherwise.
  static std::unique_ptr<KafkaSink> open(const KafkaSinkOptions &options, std::string &error);
  ~KafkaSink(); // close()
  KafkaSink(const KafkaSink &) = delete;
  KafkaSink &operator=(const KafkaSink &) = delete;

  // Queues one record (without its newline). False with `error` only when the process is
  // stopping while the queue stays full, or librdkafka refuses the message (too large, ...).
  bool write(std::string_view record, std::string &error);
  // Flushes (at most flush_timeout_ms) and logs what was not delivered. Once.
  void close();

  std::uint64_t produced() const;       // messages delivered
  std::uint64_t deliveryErrors() const; // messages librdkafka gave up on
  const std::string &name() const;      // the URL

  struct Impl;

private:
  explicit KafkaSink(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

} // namespace cep::runtime::kafka
