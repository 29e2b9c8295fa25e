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

// One line to stderr: `cep serve: kafka: <text>` (one write, safe from any thread).
void logLine(std::string_view text);

} // namespace cep::runtime::kafka
