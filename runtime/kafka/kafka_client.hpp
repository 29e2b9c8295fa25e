// Internal to runtime/kafka: librdkafka configuration shared by the source and the sink.
// Includes librdkafka: include it from runtime/kafka/*.cpp only, never from a header.
#pragma once

#include "runtime/kafka/kafka_config.hpp"

#include <functional>
#include <librdkafka/rdkafka.h>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cep::runtime::kafka {

using Settings = std::vector<std::pair<std::string, std::string>>;

// A configuration of `defaults`, then the user's `config` (may be null), then `fixed` (what the
// URL says: bootstrap.servers, group.id). Null with `error` naming the refused setting.
rd_kafka_conf_t *makeConf(const Settings &defaults, const KafkaConfig *config,
                          const Settings &fixed, std::string &error);

// Routes librdkafka's log lines of level <= warning to `log` (from librdkafka's threads).
void setLogCallback(rd_kafka_conf_t *conf);

// A consumer of `conf` (taken: destroyed on failure), with the log callback set; null with
// `error` = "<what>: cannot make a consumer: <librdkafka's reason>".
rd_kafka_t *newConsumer(rd_kafka_conf_t *conf, const std::string &what, std::string &error);

// One line to stderr: `cep serve: kafka: <text>` (one write, safe from any thread).
void logLine(std::string_view text);

class KafkaProducer;
class KafkaSource;

// The producer's handle (kafka_producer.cpp) and a source's consumer (kafka_source.cpp).
rd_kafka_t *producerHandle(KafkaProducer &producer);
rd_kafka_t *consumerHandle(const KafkaSource &source);

// What a message's delivery report goes to: each message is produced with its sink as the
// message opaque (RD_KAFKA_V_OPAQUE), and the shared producer's callback hands the report on.
class DeliveryTarget {
public:
  virtual void onDelivery(const rd_kafka_message_t *message) = 0;

protected:
  ~DeliveryTarget() = default;
};

} // namespace cep::runtime::kafka
