// A control topic (`cep serve --rules-topic`, docs/kafka.md "Rules topic"): read whole by every
// process, without a consumer group (every partition assigned by hand from a given offset, no
// offsets committed), and written one message at a time (`cep publish-rule`). Messages carry
// their headers, key and value as they are; what they mean is service/rule_message.hpp's.
//
//   ControlTopicOptions options;
//   parseKafkaUrl("kafka://127.0.0.1:9092/rules", KafkaUrl::Output, options.url, error);
//   auto reader = ControlTopicReader::open(options, {}, error);   // from the beginning
//   std::vector<std::int64_t> low, end;
//   reader->offsets(low, end, error);              // what is in the topic now, per partition
//   ControlMessage message;
//   while (reader->poll(100, message, error) == ControlPoll::Message) { ... message.offset ... }
//
//   publishControlMessage(options, {{"cep-op", "deploy"}, ...}, "", bytes, at, error);
#pragma once

#include "runtime/kafka/kafka_config.hpp"
#include "runtime/kafka/kafka_url.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace cep::runtime::kafka {

struct ControlTopicOptions {
  KafkaUrl url;                        // kafka://HOST:PORT/TOPIC (no parameters)
  const KafkaConfig *config = nullptr; // --kafka-config; null: none
  int metadata_timeout_ms = 10000;     // how long open() waits for the brokers
};

struct ControlMessage {
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::vector<std::pair<std::string, std::string>> headers; // in order; a null value is ""
  std::string key;
  std::string value;
};

// Where a message was written (publishControlMessage).
struct ControlPosition {
  std::int32_t partition = -1;
  std::int64_t offset = -1;
};

enum class ControlPoll { Message, Nothing, Error };

// `kafka://HOST:PORT[,HOST:PORT...]/TOPIC` as a control topic: an output URL (kafka_url.hpp)
// that also refuses parameters with the reason (every process reads it whole, with no group).
// False with `error` = `<text>: <reason>`.
bool parseControlTopicUrl(std::string_view text, KafkaUrl &url, std::string &error);

class ControlTopicReader {
public:
  // Connects, reads the topic's metadata and assigns every partition: partition p from
  // `start[p]` (a missing entry or -1: the beginning). Null with `error` when the configuration
  // is refused, the brokers do not answer in time, or the topic does not exist.
  static std::unique_ptr<ControlTopicReader> open(const ControlTopicOptions &options,
                                                  const std::vector<std::int64_t> &start,
                                                  std::string &error);
  ~ControlTopicReader();
  ControlTopicReader(const ControlTopicReader &) = delete;
  ControlTopicReader &operator=(const ControlTopicReader &) = delete;

  std::uint32_t partitions() const;
  // Each partition's first offset still kept (`low`) and end offset now (`high`: the offset the
  // next message written will get). False with `error` when the brokers do not answer within
  // the metadata timeout.
  bool offsets(std::vector<std::int64_t> &low, std::vector<std::int64_t> &high, std::string &error);
  // The next message, waiting at most `timeout_ms`. Error: a consumer error that is not
  // transient (`error` says which); broker outages are retried by librdkafka and logged once.
  ControlPoll poll(int timeout_ms, ControlMessage &message, std::string &error);

  struct Impl;

private:
  explicit ControlTopicReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Writes one message (idempotent producer, flushed before returning, at most `timeout_ms`).
// False with `error` when the topic does not exist, or the message was not delivered.
bool publishControlMessage(const ControlTopicOptions &options,
                           const std::vector<std::pair<std::string, std::string>> &headers,
                           const std::string &key, const std::string &value, ControlPosition &at,
                           std::string &error, int timeout_ms = 10000);

} // namespace cep::runtime::kafka
