#include "service/rule_message.hpp"

#include "runtime/time/time_format.hpp"

#include <charconv>
#include <limits>
#include <optional>

namespace cep::service {

namespace {

// Event times a change may carry: what formatRfc3339 shows as a year of at most six digits, and
// room for T - 1 (the driver advances to it first).
constexpr std::int64_t kMaxEffectiveMs = 253402300799999 * 1000; // far beyond any event

std::string quoted(const std::string &text) {
  std::string out = "\"";
  for (char c : text.substr(0, 80)) {
    out += (static_cast<unsigned char>(c) < 0x20 || c == '"') ? '?' : c;
  }
  return out + (text.size() > 80 ? "...\"" : "\"");
}

} // namespace

bool parseEffectiveTime(const std::string &text, std::int64_t &epoch_ms, std::string &error) {
  if (text.empty()) {
    error = "empty; expected an RFC 3339 time (2026-01-05T10:00:00Z) or epoch milliseconds";
    return false;
  }
  bool digits = true;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    digits = digits && ((c >= '0' && c <= '9') || (i == 0 && c == '-' && text.size() > 1));
  }
  if (digits) {
    std::int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value > kMaxEffectiveMs ||
        value < -kMaxEffectiveMs) {
      error = "epoch milliseconds " + quoted(text) + " out of range";
      return false;
    }
    epoch_ms = value;
    return true;
  }
  std::string why;
  if (!runtime::parseRfc3339(text, epoch_ms, &why)) {
    error = "expected an RFC 3339 time (2026-01-05T10:00:00Z) or epoch milliseconds, got " +
            quoted(text) + (why.empty() ? "" : " (" + why + ")");
    return false;
  }
  if (epoch_ms > kMaxEffectiveMs || epoch_ms < -kMaxEffectiveMs) {
    error = quoted(text) + " out of range";
    return false;
  }
  return true;
}

bool decodeRuleHeaders(const std::vector<std::pair<std::string, std::string>> &headers,
                       std::size_t value_bytes, RuleMessage &rule, std::string &error) {
  std::optional<std::string> op, mode, time, pattern;
  for (const auto &[name, value] : headers) {
    std::optional<std::string> *slot = nullptr;
    if (name == kRuleOpHeader) {
      slot = &op;
    } else if (name == kRuleModeHeader) {
      slot = &mode;
    } else if (name == kRuleTimeHeader) {
      slot = &time;
    } else if (name == kRulePatternHeader) {
      slot = &pattern;
    } else if (name.rfind("cep-", 0) == 0) {
      error = "unknown header " + quoted(name) + " (a rules message takes cep-op, cep-mode, " +
              "cep-effective-time, cep-pattern)";
      return false;
    } else {
      continue;
    }
    if (*slot && **slot != value) {
      error = name + ": given twice (" + quoted(**slot) + " and " + quoted(value) + ")";
      return false;
    }
    *slot = value;
  }
  if (!op) {
    error = std::string(kRuleOpHeader) + ": missing (deploy or undeploy): not a rules message";
    return false;
  }
  RuleMessage out;
  if (*op == "deploy") {
    out.op = RuleOp::Deploy;
  } else if (*op == "undeploy") {
    out.op = RuleOp::Undeploy;
  } else {
    error = std::string(kRuleOpHeader) + ": unknown operation " + quoted(*op) +
            " (expected deploy or undeploy)";
    return false;
  }
  if (!time) {
    error =
        std::string(kRuleTimeHeader) + ": missing (the event time the " + *op + " takes effect at)";
    return false;
  }
  if (std::string why; !parseEffectiveTime(*time, out.effective_time, why)) {
    error = std::string(kRuleTimeHeader) + ": " + why;
    return false;
  }
  if (out.op == RuleOp::Deploy) {
    if (mode && !parseDeployMode(*mode, out.deploy_mode)) {
      error =
          std::string(kRuleModeHeader) + ": expected keep, drain or fresh, got " + quoted(*mode);
      return false;
    }
    if (pattern) {
      error = std::string(kRulePatternHeader) +
              ": a deploy takes the patterns its artifact declares (leave the header out)";
      return false;
    }
    if (value_bytes == 0) {
      error = "a deploy without an artifact (the message value is empty)";
      return false;
    }
  } else {
    if (mode && !parseUndeployMode(*mode, out.undeploy_mode)) {
      error = std::string(kRuleModeHeader) + ": expected drain or drop, got " + quoted(*mode);
      return false;
    }
    if (!pattern || pattern->empty()) {
      error = std::string(kRulePatternHeader) + ": missing (the pattern to undeploy)";
      return false;
    }
    out.pattern = *pattern;
    if (value_bytes != 0) {
      error = "an undeploy with a value (" + std::to_string(value_bytes) +
              " bytes): an undeploy carries none";
      return false;
    }
  }
  rule = std::move(out);
  return true;
}

std::vector<std::pair<std::string, std::string>> encodeRuleHeaders(const RuleMessage &rule) {
  std::vector<std::pair<std::string, std::string>> headers;
  headers.emplace_back(kRuleOpHeader, ruleOpName(rule.op));
  headers.emplace_back(kRuleModeHeader, rule.op == RuleOp::Deploy
                                            ? deployModeName(rule.deploy_mode)
                                            : undeployModeName(rule.undeploy_mode));
  headers.emplace_back(kRuleTimeHeader, std::to_string(rule.effective_time));
  if (rule.op == RuleOp::Undeploy) {
    headers.emplace_back(kRulePatternHeader, rule.pattern);
  }
  return headers;
}

const char *ruleOpName(RuleOp op) {
  return op == RuleOp::Deploy ? "deploy" : "undeploy";
}

} // namespace cep::service
