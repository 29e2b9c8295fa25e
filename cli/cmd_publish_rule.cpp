// `cep publish-rule --to kafka://HOST:PORT/TOPIC (FILE.cepo | --undeploy NAME) --at TIME`: one
// message of a rules topic (docs/kafka.md "Rules topic"), read by every `cep serve
// --rules-topic` and applied at the event time TIME. The artifact is decoded here (a file that
// is not one is refused before anything is sent); its signature is checked by each server
// (--trust), as `cep deploy`'s. Exit 2 for a bad command line, 3 when the topic cannot be
// written.
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "compiler/artifact/cepo.hpp"
#include "runtime/kafka/control_topic.hpp"
#include "runtime/kafka/kafka_config.hpp"
#include "runtime/kafka/kafka_url.hpp"
#include "runtime/time/time_format.hpp"
#include "service/rule_message.hpp"

#include <iostream>

namespace cep::cli {

namespace {

int usage(const std::string &message) {
  std::cerr << "cep publish-rule: " << message << '\n';
  return kUsage;
}

} // namespace

int runPublishRule(const PublishRuleOptions &options) {
  runtime::kafka::ControlTopicOptions topic;
  std::string error;
  if (!runtime::kafka::parseControlTopicUrl(options.to, topic.url, error)) {
    return usage("--to " + error);
  }
  runtime::kafka::KafkaConfig config;
  if (options.kafka_config) {
    if (!runtime::kafka::readKafkaConfig(*options.kafka_config, config, error) ||
        !runtime::kafka::checkKafkaConfig(config, error)) {
      return usage("--kafka-config: " + error);
    }
    topic.config = &config;
  }
  if (options.artifact.has_value() == options.undeploy.has_value()) {
    return usage("give either an artifact to deploy (FILE.cepo) or --undeploy NAME");
  }
  service::RuleMessage rule;
  if (!service::parseEffectiveTime(options.at, rule.effective_time, error)) {
    return usage("--at: " + error);
  }
  std::string value;
  if (options.artifact) {
    rule.op = service::RuleOp::Deploy;
    if (options.mode && !service::parseDeployMode(*options.mode, rule.deploy_mode)) {
      return usage("--mode " + *options.mode + ": a deploy takes keep, drain or fresh");
    }
    try {
      value = compiler::artifact::readArtifactBytes(*options.artifact);
      (void)compiler::artifact::decodeArtifact(value, *options.artifact);
    } catch (const compiler::artifact::ArtifactError &e) {
      return usage(e.what());
    }
  } else {
    rule.op = service::RuleOp::Undeploy;
    rule.pattern = *options.undeploy;
    if (rule.pattern.empty()) {
      return usage("--undeploy: the pattern's name is empty");
    }
    if (options.mode && !service::parseUndeployMode(*options.mode, rule.undeploy_mode)) {
      return usage("--mode " + *options.mode + ": an undeploy takes drain or drop");
    }
  }
  runtime::kafka::ControlPosition at;
  if (!runtime::kafka::publishControlMessage(
          topic, service::encodeRuleHeaders(rule),
          rule.op == service::RuleOp::Undeploy ? rule.pattern : "", value, at, error)) {
    std::cerr << "cep publish-rule: " << error << '\n';
    return kRuntimeFailure;
  }
  std::cout << topic.url.topic << "[" << at.partition << "]@" << at.offset << ": "
            << service::ruleOpName(rule.op) << " ("
            << (rule.op == service::RuleOp::Deploy ? service::deployModeName(rule.deploy_mode)
                                                   : service::undeployModeName(rule.undeploy_mode))
            << ") at " << runtime::formatRfc3339(rule.effective_time) << '\n';
  return kOk;
}

} // namespace cep::cli
