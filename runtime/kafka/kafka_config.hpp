// `--kafka-config FILE`: librdkafka properties, one `key=value` a line (docs/kafka.md), applied
// to every Kafka consumer and producer of the process (TLS, SASL, tuning). Blank lines and
// lines starting with '#' or '!' are comments; spaces around the key and the value are
// trimmed; a later line overrides an earlier one. A line that is not `key=value` is refused
// here; a key or value librdkafka does not take is refused when the clients are checked
// (checkKafkaConfig), before anything is opened; both name the line:
//
//   client.properties:3: expected key=value, got "security.protocol"
//   client.properties:4: librdkafka refuses "sasl.mechanism=PLAN": Unsupported value "PLAN" ...
//
//   KafkaConfig config;
//   if (!readKafkaConfig("client.properties", config, error)) { ... exit 2 ... }
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace cep::runtime::kafka {

struct KafkaProperty {
  std::string key;
  std::string value;
  std::size_t line = 0; // 1-based, in `KafkaConfig::path`
};

struct KafkaConfig {
  std::string path; // for messages; empty: no file
  std::vector<KafkaProperty> properties;
};

// Parses the text of a properties file named `path` (for messages).
bool parseKafkaConfig(std::string_view text, const std::string &path, KafkaConfig &config,
                      std::string &error);
// Reads and parses the file `path`.
bool readKafkaConfig(const std::string &path, KafkaConfig &config, std::string &error);
// Whether librdkafka takes every property of `config` (kafka_client.cpp): false with `error`
// naming the first line it refuses and its reason.
bool checkKafkaConfig(const KafkaConfig &config, std::string &error);

} // namespace cep::runtime::kafka
