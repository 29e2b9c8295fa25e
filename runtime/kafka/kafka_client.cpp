#include "runtime/kafka/kafka_client.hpp"

#include <unistd.h>

namespace cep::runtime::kafka {

namespace {

bool setOne(rd_kafka_conf_t *conf, const std::string &key, const std::string &value,
            std::string &why) {
  char errstr[512] = {0};
  if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), errstr, sizeof errstr) !=
      RD_KAFKA_CONF_OK) {
    why = errstr;
    return false;
  }
  return true;
}

void logCallback(const rd_kafka_t *rk, int level, const char *facility, const char *message) {
  (void)rk;
  // LOG_WARNING and worse; FAIL and ERROR lines repeat what the error callbacks log.
  std::string_view f(facility);
  if (level <= 4 && f != "FAIL" && f != "ERROR") {
    logLine(std::string(facility) + ": " + message);
  }
}

} // namespace

void logLine(std::string_view text) {
  std::string line = "cep serve: kafka: ";
  line += text;
  line += '\n';
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

rd_kafka_conf_t *makeConf(const Settings &defaults, const KafkaConfig *config,
                          const Settings &fixed, std::string &error) {
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  std::string why;
  for (const auto &[key, value] : defaults) {
    if (!setOne(conf, key, value, why)) {
      error = "librdkafka refuses \"" + key + "=" + value + "\": " + why;
      rd_kafka_conf_destroy(conf);
      return nullptr;
    }
  }
  if (config != nullptr) {
    for (const KafkaProperty &property : config->properties) {
      if (!setOne(conf, property.key, property.value, why)) {
        error = config->path + ":" + std::to_string(property.line) + ": librdkafka refuses \"" +
                property.key + "=" + property.value + "\": " + why;
        rd_kafka_conf_destroy(conf);
        return nullptr;
      }
    }
  }
  for (const auto &[key, value] : fixed) {
    if (!setOne(conf, key, value, why)) {
      error = "librdkafka refuses \"" + key + "=" + value + "\": " + why;
      rd_kafka_conf_destroy(conf);
      return nullptr;
    }
  }
  return conf;
}

void setLogCallback(rd_kafka_conf_t *conf) {
  rd_kafka_conf_set_log_cb(conf, logCallback);
}

rd_kafka_t *newConsumer(rd_kafka_conf_t *conf, const std::string &what, std::string &error) {
  setLogCallback(conf);
  char errstr[512] = {0};
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    error = what + ": cannot make a consumer: " + errstr;
  }
  return rk;
}

bool checkKafkaConfig(const KafkaConfig &config, std::string &error) {
  rd_kafka_conf_t *conf = makeConf({}, &config, {}, error);
  if (conf == nullptr) {
    return false;
  }
  rd_kafka_conf_destroy(conf);
  return true;
}

} // namespace cep::runtime::kafka
