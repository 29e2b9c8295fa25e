// service/schema_merge: which artifacts fit a running server's event schema.
#include "service/schema_merge.hpp"

#include <catch2/catch.hpp>

using namespace cep;
using runtime::FieldKind;

namespace {

runtime::EventSchema type(std::string name, std::vector<runtime::FieldSchema> fields,
                          std::int32_t time_field = -1) {
  runtime::EventSchema t;
  t.name = std::move(name);
  t.fields = std::move(fields);
  t.time_field = time_field;
  return t;
}

runtime::EventSchema tx() {
  return type("Tx", {{"card", FieldKind::String, false}, {"ts", FieldKind::Time, false}}, 1);
}
runtime::EventSchema login() {
  return type("Login", {{"user", FieldKind::String, false}});
}

runtime::Schema schema(std::vector<runtime::EventSchema> types) {
  runtime::Schema s;
  s.types = std::move(types);
  return s;
}

} // namespace

TEST_CASE("an artifact with the server's types, or more after them, fits", "[service]") {
  runtime::Schema merged;
  std::vector<std::string> reasons;
  REQUIRE(service::mergeSchema(schema({tx()}), schema({tx(), login()}), merged, reasons));
  CHECK(reasons.empty());
  REQUIRE(merged.types.size() == 2);
  CHECK(merged.types[1].name == "Login");

  REQUIRE(service::mergeSchema(schema({tx(), login()}), schema({tx()}), merged, reasons));
  CHECK(merged.types.size() == 2);

  REQUIRE(service::mergeSchema(schema({}), schema({login()}), merged, reasons));
  CHECK(merged.types.size() == 1);
}

TEST_CASE("types in another order are refused with both positions", "[service]") {
  runtime::Schema merged = schema({tx()});
  std::vector<std::string> reasons;
  REQUIRE_FALSE(service::mergeSchema(schema({tx()}), schema({login(), tx()}), merged, reasons));
  REQUIRE(reasons.size() == 2);
  CHECK(reasons[0] == "event type 1 of the artifact is `Login`, the server's is `Tx`: event "
                      "types must be declared in the same order by every deployed artifact "
                      "(import them from one module)");
  CHECK(reasons[1] == "event type `Tx` is the artifact's type 2 and the server's type 1: event "
                      "types must be declared in the same order by every deployed artifact "
                      "(import them from one module)");
  CHECK(merged.types.size() == 1); // untouched
}

TEST_CASE("a changed type is refused with both definitions", "[service]") {
  runtime::EventSchema wider = tx();
  wider.fields.push_back({"amount", FieldKind::Float, true});
  runtime::Schema merged;
  std::vector<std::string> reasons;
  REQUIRE_FALSE(service::mergeSchema(schema({tx()}), schema({wider}), merged, reasons));
  REQUIRE(reasons.size() == 1);
  CHECK(reasons[0] == "event type `Tx` differs: the server has Tx(card: string, ts: time @time), "
                      "the artifact declares Tx(card: string, ts: time @time, amount: float?); "
                      "a loaded event type cannot change");
}
