// service/key_shapes: one key per event type across the patterns and aggregates served with
// `cep serve --repartition` (docs/kafka.md "Repartition").
#include "service/key_shapes.hpp"

#include <catch2/catch.hpp>

using namespace cep;
using runtime::FieldKind;

namespace {

// Payment {card, merchant, amount}, Login {user}.
runtime::Schema schema() {
  runtime::Schema s;
  s.types.push_back({"Payment",
                     {{"card", FieldKind::String, false},
                      {"merchant", FieldKind::String, false},
                      {"amount", FieldKind::Float, false}},
                     -1});
  s.types.push_back({"Login", {{"user", FieldKind::String, false}}, -1});
  return s;
}

// A pattern keyed by `payment` fields on Payment and `login` fields on Login (empty: the
// pattern does not read the type).
runtime::native::PatternImage pattern(std::string name, std::vector<std::int32_t> payment,
                                      std::vector<std::int32_t> login, bool keyed = true) {
  runtime::native::PatternImage image;
  image.name = std::move(name);
  image.keyed = keyed;
  image.key_fields = {std::move(payment), std::move(login)};
  return image;
}

runtime::native::AggregateImage aggregate(std::string name, std::uint32_t type,
                                          std::vector<std::int32_t> key) {
  runtime::native::AggregateImage image;
  image.name = std::move(name);
  image.event_type = type;
  image.key_fields = std::move(key);
  return image;
}

} // namespace

TEST_CASE("key shapes: patterns keying each event type one way agree", "[key-shapes]") {
  const runtime::Schema s = schema();
  std::vector<service::OperatorKeys> ops = {
      service::patternKeys("velocity", s, pattern("velocity", {0}, {})),
      service::patternKeys("takeover", s, pattern("takeover", {}, {0})),
      service::patternKeys("card_testing", s, pattern("card_testing", {0}, {})),
      service::aggregateKeys("hourly", s, aggregate("hourly", 0, {0})),
      // Without `partition by`: one global partition, keying nothing.
      service::patternKeys("global", s, pattern("global", {}, {}, false)),
      service::aggregateKeys("total", s, aggregate("total", 0, {})),
  };
  CHECK(ops[0].types.size() == 1);
  CHECK(ops[0].types[0].first == "Payment");
  CHECK(ops[0].types[0].second == std::vector<std::string>{"card"});
  CHECK(ops[4].types.empty());
  CHECK(ops[5].types.empty());
  CHECK(service::keyConflicts(ops).empty());
}

TEST_CASE("key shapes: a type keyed two ways names both operators and keys", "[key-shapes]") {
  const runtime::Schema s = schema();
  std::vector<service::OperatorKeys> ops = {
      service::patternKeys("velocity", s, pattern("velocity", {0}, {0})),
      service::patternKeys("by_merchant", s, pattern("by_merchant", {1}, {})),
      service::aggregateKeys("pairs", s, aggregate("pairs", 0, {0, 1})),
      service::aggregateKeys("logins", s, aggregate("logins", 1, {0})),
  };
  std::vector<std::string> lines = service::keyConflicts(ops);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] ==
        "pattern velocity keys Payment by (card) and pattern by_merchant keys it by (merchant)");
  CHECK(lines[1] ==
        "pattern velocity keys Payment by (card) and aggregate pairs keys it by (card, merchant)");
}

TEST_CASE("key shapes: the order of a composite key matters", "[key-shapes]") {
  const runtime::Schema s = schema();
  std::vector<service::OperatorKeys> ops = {
      service::aggregateKeys("a", s, aggregate("a", 0, {0, 1})),
      service::aggregateKeys("b", s, aggregate("b", 0, {1, 0})),
  };
  std::vector<std::string> lines = service::keyConflicts(ops);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] ==
        "aggregate a keys Payment by (card, merchant) and aggregate b keys it by (merchant, card)");
}
