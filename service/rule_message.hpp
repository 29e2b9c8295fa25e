// One message of a rules topic (`cep serve --rules-topic`, docs/kafka.md "Rules topic"): what
// its headers ask for, checked before the artifact in its value is loaded. Pure: no Kafka, no
// artifact loading (service/rules_topic.cpp does both).
//
// The format (headers are UTF-8 text; names are case-sensitive):
//   cep-op              deploy | undeploy                                    (required)
//   cep-effective-time  the event time the change takes effect at: an RFC 3339 instant
//                       (2026-01-05T10:00:00Z) or epoch milliseconds (1767607200000) (required)
//   cep-mode            deploy: keep (default) | drain | fresh; undeploy: drain (default) | drop
//   cep-pattern         undeploy: the pattern's name (required); deploy: not taken
//   value               deploy: the .cepo bytes (verified as `cep deploy`'s); undeploy: empty
// Any other header whose name starts with `cep-` is refused (a misspelt `cep-mode` must not
// deploy with the default mode); other headers are ignored, and so is the message key.
//
//   std::vector<std::pair<std::string, std::string>> headers = {
//       {"cep-op", "deploy"}, {"cep-mode", "fresh"}, {"cep-effective-time", "1767607200000"}};
//   RuleMessage rule;
//   std::string error;
//   if (!decodeRuleHeaders(headers, value.size(), rule, error)) {
//     // rejected: error = "cep-mode: expected keep, drain or fresh, got \"fast\""
//   }
//   rule.op == RuleOp::Deploy; rule.deploy_mode == DeployMode::Fresh;
//   rule.effective_time == 1767607200000;
#pragma once

#include "service/control.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace cep::service {

enum class RuleOp { Deploy, Undeploy };

struct RuleMessage {
  RuleOp op = RuleOp::Deploy;
  DeployMode deploy_mode = DeployMode::Keep;
  UndeployMode undeploy_mode = UndeployMode::Drain;
  std::int64_t effective_time = 0; // epoch ms, event time
  std::string pattern;             // undeploy: the pattern's name
};

// The header names.
inline constexpr const char *kRuleOpHeader = "cep-op";
inline constexpr const char *kRuleModeHeader = "cep-mode";
inline constexpr const char *kRuleTimeHeader = "cep-effective-time";
inline constexpr const char *kRulePatternHeader = "cep-pattern";

// Decodes the headers of a message whose value has `value_bytes` bytes. False with `error`, one
// line naming the header at fault and why (a header given twice is refused too).
bool decodeRuleHeaders(const std::vector<std::pair<std::string, std::string>> &headers,
                       std::size_t value_bytes, RuleMessage &rule, std::string &error);

// `cep-effective-time`'s value: RFC 3339 or integer epoch milliseconds. False with `error`.
bool parseEffectiveTime(const std::string &text, std::int64_t &epoch_ms, std::string &error);

// The headers `cep publish-rule` sends for `rule` (the inverse of decodeRuleHeaders; the time
// as epoch milliseconds).
std::vector<std::pair<std::string, std::string>> encodeRuleHeaders(const RuleMessage &rule);

// "deploy" | "undeploy".
const char *ruleOpName(RuleOp op);

} // namespace cep::service
