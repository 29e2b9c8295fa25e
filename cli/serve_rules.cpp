#include "cli/serve_rules.hpp"

#include "cli/exit_codes.hpp"
#include "cli/run_shared.hpp"
#include "runtime/kafka/control_topic.hpp"

namespace cep::cli {

namespace {
constexpr const char *kSection = "rules";
}

int ServeRules::take(const ServeOptions &options) {
  if (!options.rules_topic) {
    return kOk;
  }
  given_ = true;
  std::string error;
  if (!runtime::kafka::parseControlTopicUrl(*options.rules_topic, options_.topic.url, error)) {
    return runUsage("--rules-topic " + error);
  }
  if (options.kafka_config) {
    if (!runtime::kafka::readKafkaConfig(*options.kafka_config, config_, error) ||
        !runtime::kafka::checkKafkaConfig(config_, error)) {
      return runUsage("--kafka-config: " + error);
    }
    options_.topic.config = &config_;
  }
  return kOk;
}

bool ServeRules::open(service::ServeRuntime &runtime, runtime::metrics::Registry &registry,
                      const service::ServeMeta *restored, std::string &error) {
  options_.runtime = &runtime;
  options_.registry = &registry;
  std::optional<service::RulesPosition> position;
  if (restored != nullptr) {
    if (const std::string *bytes = restored->section(kSection)) {
      try {
        position = service::decodeRulesPosition(*bytes);
      } catch (const std::runtime_error &e) {
        error = "--rules-topic: cannot restore its position: " + std::string(e.what());
        return false;
      }
    }
  }
  topic_ = service::RulesTopic::open(options_, position ? &*position : nullptr, error);
  if (!topic_) {
    error = "--rules-topic " + error;
    return false;
  }
  return true;
}

bool ServeRules::start(runtime::RunLoop &loop, std::ostream *dead_letter, std::string &error) {
  return topic_->start(loop, dead_letter, error);
}

void ServeRules::describe(service::ServeMeta &meta) const {
  if (!topic_) {
    return;
  }
  std::string bytes;
  service::encodeRulesPosition(topic_->position(), bytes);
  meta.sections.emplace_back(kSection, std::move(bytes));
}

void ServeRules::stop() {
  if (topic_) {
    topic_->stop();
    topic_.reset(); // its pending artifacts go while the runtime that loaded them is there
  }
}

} // namespace cep::cli
