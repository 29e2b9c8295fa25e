// service/rule_message and service/rules_position: a rules topic's message headers
// (`cep serve --rules-topic`, docs/kafka.md "Rules topic") and the position a checkpoint keeps.
// Every bad header is refused with a reason naming it; a position decodes to what was encoded.
#include "service/rule_message.hpp"
#include "service/rules_position.hpp"

#include <catch2/catch.hpp>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

using namespace cep::service;

namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

std::string refusal(const Headers &headers, std::size_t value_bytes = 100) {
  RuleMessage rule;
  std::string error;
  if (decodeRuleHeaders(headers, value_bytes, rule, error)) {
    return "accepted";
  }
  return error;
}

} // namespace

TEST_CASE("rule message: a deploy and an undeploy decode", "[service][rules]") {
  RuleMessage rule;
  std::string error;
  REQUIRE(decodeRuleHeaders({{"cep-op", "deploy"},
                             {"cep-mode", "fresh"},
                             {"cep-effective-time", "2026-01-05T10:00:00Z"},
                             {"other", "ignored"}},
                            10, rule, error));
  CHECK(rule.op == RuleOp::Deploy);
  CHECK(rule.deploy_mode == DeployMode::Fresh);
  CHECK(rule.effective_time == 1767607200000);

  REQUIRE(decodeRuleHeaders({{"cep-op", "undeploy"},
                             {"cep-pattern", "card_testing"},
                             {"cep-effective-time", "1767607200123"}},
                            0, rule, error));
  CHECK(rule.op == RuleOp::Undeploy);
  CHECK(rule.undeploy_mode == UndeployMode::Drain); // the default
  CHECK(rule.pattern == "card_testing");
  CHECK(rule.effective_time == 1767607200123);

  REQUIRE(decodeRuleHeaders({{"cep-op", "deploy"}, {"cep-effective-time", "-5"}}, 1, rule, error));
  CHECK(rule.deploy_mode == DeployMode::Keep); // the default
  CHECK(rule.effective_time == -5);
}

TEST_CASE("rule message: what publish-rule writes decodes to the same change", "[service][rules]") {
  RuleMessage rule;
  rule.op = RuleOp::Undeploy;
  rule.undeploy_mode = UndeployMode::Drop;
  rule.pattern = "velocity";
  rule.effective_time = 1767607201962;
  RuleMessage back;
  std::string error;
  REQUIRE(decodeRuleHeaders(encodeRuleHeaders(rule), 0, back, error));
  CHECK(back.op == rule.op);
  CHECK(back.undeploy_mode == rule.undeploy_mode);
  CHECK(back.pattern == rule.pattern);
  CHECK(back.effective_time == rule.effective_time);
}

TEST_CASE("rule message: every bad header is refused with a reason", "[service][rules]") {
  const std::string t = "1767607200000";
  CHECK(refusal({}) == "cep-op: missing (deploy or undeploy): not a rules message");
  CHECK(refusal({{"cep-op", "redeploy"}, {"cep-effective-time", t}}) ==
        "cep-op: unknown operation \"redeploy\" (expected deploy or undeploy)");
  CHECK(refusal({{"cep-op", "deploy"}}) ==
        "cep-effective-time: missing (the event time the deploy takes effect at)");
  CHECK(refusal({{"cep-op", "deploy"}, {"cep-effective-time", "soon"}})
            .starts_with("cep-effective-time: expected an RFC 3339 time"));
  CHECK(refusal({{"cep-op", "deploy"}, {"cep-effective-time", "99999999999999999999"}}) ==
        "cep-effective-time: epoch milliseconds \"99999999999999999999\" out of range");
  CHECK(refusal({{"cep-op", "deploy"}, {"cep-effective-time", t}, {"cep-mode", "drop"}}) ==
        "cep-mode: expected keep, drain or fresh, got \"drop\"");
  CHECK(refusal({{"cep-op", "undeploy"},
                 {"cep-effective-time", t},
                 {"cep-pattern", "p"},
                 {"cep-mode", "fresh"}},
                0) == "cep-mode: expected drain or drop, got \"fresh\"");
  CHECK(refusal({{"cep-op", "deploy"}, {"cep-effective-time", t}}, 0) ==
        "a deploy without an artifact (the message value is empty)");
  CHECK(refusal({{"cep-op", "deploy"}, {"cep-effective-time", t}, {"cep-pattern", "p"}}) ==
        "cep-pattern: a deploy takes the patterns its artifact declares (leave the header out)");
  CHECK(refusal({{"cep-op", "undeploy"}, {"cep-effective-time", t}}, 0) ==
        "cep-pattern: missing (the pattern to undeploy)");
  CHECK(refusal({{"cep-op", "undeploy"}, {"cep-effective-time", t}, {"cep-pattern", "p"}}, 3) ==
        "an undeploy with a value (3 bytes): an undeploy carries none");
  CHECK(refusal({{"cep-op", "deploy"}, {"cep-effective-time", t}, {"cep-mdoe", "fresh"}})
            .starts_with("unknown header \"cep-mdoe\""));
  CHECK(refusal({{"cep-op", "deploy"}, {"cep-op", "undeploy"}, {"cep-effective-time", t}}) ==
        "cep-op: given twice (\"deploy\" and \"undeploy\")");
  // The same header twice with the same value is one header.
  CHECK(refusal({{"cep-op", "deploy"}, {"cep-op", "deploy"}, {"cep-effective-time", t}}) ==
        "accepted");
}

TEST_CASE("rules position: encoded and decoded, where a restart resumes and what it skips",
          "[service][rules]") {
  RulesPosition position;
  position.next = {7, 0, 3};
  position.pending = {{2, 4}, {}, {}};
  std::string bytes;
  encodeRulesPosition(position, bytes);
  RulesPosition back = decodeRulesPosition(bytes);
  CHECK(back.next == position.next);
  CHECK(back.pending == position.pending);
  std::string again;
  encodeRulesPosition(back, again);
  CHECK(again == bytes);

  CHECK(back.resumeAt(0) == 2);
  CHECK(back.resumeAt(1) == 0);
  CHECK(back.resumeAt(2) == 3);
  CHECK(back.resumeAt(9) == 0);  // a partition the checkpoint did not know: from the start
  CHECK(back.skips(0, 3));       // applied or rejected before the checkpoint
  CHECK_FALSE(back.skips(0, 2)); // pending: read again
  CHECK_FALSE(back.skips(0, 7)); // new
  CHECK_FALSE(back.skips(1, 0));
  CHECK(back.skips(2, 2));

  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    CHECK_THROWS_AS(decodeRulesPosition(std::string_view(bytes).substr(0, cut)),
                    std::runtime_error);
  }
  RulesPosition bad;
  bad.next = {3};
  bad.pending = {{5}}; // pending at or after next: not a position a server writes
  std::string bad_bytes;
  encodeRulesPosition(bad, bad_bytes);
  CHECK_THROWS_WITH(decodeRulesPosition(bad_bytes),
                    Catch::Contains("pending offset 5 of partition 0 not before its next offset"));
}
