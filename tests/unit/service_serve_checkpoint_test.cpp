// service/serve_checkpoint: the CEPSMETA meta record of `cep serve --state` checkpoints. A record
// decodes to what was encoded and encodes again to the same bytes; every damaged byte is caught
// with a reason (the store then falls back to the checkpoint before).
#include "service/serve_checkpoint.hpp"

#include <catch2/catch.hpp>
#include <stdexcept>
#include <string>

using cep::runtime::FieldKind;
using cep::service::decodeServeMeta;
using cep::service::encodeServeMeta;
using cep::service::ServeMeta;

namespace {

ServeMeta sample() {
  ServeMeta meta;
  meta.taken_at = 1767607201962;
  meta.next_operator_id = 5;
  cep::runtime::EventSchema payment;
  payment.name = "Payment";
  payment.fields = {{"card", FieldKind::String, false},
                    {"amount", FieldKind::Float, false},
                    {"ts", FieldKind::Time, false},
                    {"country", FieldKind::String, true}};
  payment.time_field = 2;
  cep::runtime::EventSchema login;
  login.name = "Login";
  login.fields = {{"user", FieldKind::String, false}};
  meta.schema.types = {payment, login};
  meta.run = std::string("CEPRSNAP\0\x03 run bytes", 20);
  meta.served.push_back({1, "card_testing", "3f2a9c1d0b7e", "3f2a9c1d0b7e55aa", 17, true, 4, 1,
                         std::string("header\0one", 10)});
  meta.served.push_back(
      {4, "card_testing", "60785e6356bc", "60785e6356bc0011", 18, false, 0, 0, "header two"});
  cep::service::InputMark input;
  input.name = "payments.jsonl";
  input.position.offset = 4096;
  input.position.line = 37;
  input.position.identity = {true, 2049, 131075, 0x1122334455667788ULL, 0x99aabbccddeeff00ULL};
  meta.inputs.push_back(input);
  meta.outputs.push_back({"matches", "alerts.jsonl", 812});
  meta.outputs.push_back({"dead letters", "dead.jsonl", 0});
  return meta;
}

std::string bytesOf(const ServeMeta &meta) {
  std::string out;
  encodeServeMeta(meta, out);
  return out;
}

} // namespace

TEST_CASE("serve meta: decode gives back what was encoded, byte for byte", "[service]") {
  const std::string bytes = bytesOf(sample());
  ServeMeta back = decodeServeMeta(bytes);
  CHECK(bytesOf(back) == bytes);
  CHECK(back.taken_at == 1767607201962);
  CHECK(back.next_operator_id == 5);
  REQUIRE(back.schema.types.size() == 2);
  CHECK(back.schema.types[0].time_field == 2);
  CHECK(back.schema.types[0].fields[3].nullable);
  CHECK(back.schema.types[1].time_field == -1);
  CHECK(back.run == sample().run);
  REQUIRE(back.served.size() == 2);
  CHECK(back.served[0].draining);
  CHECK(back.served[0].matcher_header == std::string("header\0one", 10));
  CHECK(back.served[1].operator_id == 4);
  REQUIRE(back.inputs.size() == 1);
  CHECK(back.inputs[0].position.offset == 4096);
  CHECK(back.inputs[0].position.line == 37);
  CHECK(back.inputs[0].position.identity == sample().inputs[0].position.identity);
  REQUIRE(back.outputs.size() == 2);
  CHECK(back.outputs[0].role == "matches");
  CHECK(back.outputs[0].length == 812);
}

TEST_CASE("serve meta: every flipped byte and every cut is refused with a reason", "[service]") {
  const std::string bytes = bytesOf(sample());
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    std::string damaged = bytes;
    damaged[i] = static_cast<char>(damaged[i] ^ 0x20);
    CAPTURE(i);
    CHECK_THROWS_WITH(decodeServeMeta(damaged), Catch::StartsWith("bad serve checkpoint: "));
  }
  for (std::size_t n = 0; n < bytes.size(); n += 7) {
    CAPTURE(n);
    CHECK_THROWS_WITH(decodeServeMeta(std::string_view(bytes).substr(0, n)),
                      Catch::StartsWith("bad serve checkpoint: "));
  }
}

TEST_CASE("serve meta: records that pass the checksum but break the rules", "[service]") {
  ServeMeta meta = sample();
  meta.served[1].operator_id = 7; // not below next_operator_id
  CHECK_THROWS_WITH(decodeServeMeta(bytesOf(meta)),
                    "bad serve checkpoint: operator id 7 is not below the next one, 5");
  meta = sample();
  std::swap(meta.served[0], meta.served[1]);
  CHECK_THROWS_WITH(decodeServeMeta(bytesOf(meta)),
                    "bad serve checkpoint: served patterns out of operator id order");
  meta = sample();
  meta.schema.types[1].time_field = 1; // Login has one field
  CHECK_THROWS_WITH(decodeServeMeta(bytesOf(meta)),
                    "bad serve checkpoint: type `Login` has time field 1 of 1");
}

TEST_CASE("serve meta: sections (the rules topic's position) make a version 3 record",
          "[service]") {
  ServeMeta plain = sample();
  const std::string v1 = bytesOf(plain);
  CHECK(v1.substr(8, 4) == std::string("\x01\0\0\0", 4)); // no section: version 1, as before
  ServeMeta with = sample();
  with.sections.emplace_back("rules", std::string("CEPRULES\0position", 17));
  const std::string v2 = bytesOf(with);
  CHECK(v2.substr(8, 4) == std::string("\x03\0\0\0", 4)); // sections: version 3
  ServeMeta back = decodeServeMeta(v2);
  REQUIRE(back.section("rules") != nullptr);
  CHECK(*back.section("rules") == std::string("CEPRULES\0position", 17));
  CHECK(back.section("other") == nullptr);
  CHECK(bytesOf(back) == v2);
  CHECK(decodeServeMeta(v1).sections.empty());
  ServeMeta twice = sample();
  twice.sections = {{"rules", "a"}, {"rules", "b"}};
  CHECK_THROWS_WITH(decodeServeMeta(bytesOf(twice)), Catch::Contains("section \"rules\" twice"));

  // A Kafka part and sections together (a server with Kafka outputs and a rules topic).
  cep::service::KafkaMeta &k = with.kafka.emplace();
  k.inputs.push_back({"payments", "fraud", "mkCluster-7", 4, {{1, 5}}});
  k.transactional_id = "cep-fraud-host1";
  const std::string v3 = bytesOf(with);
  CHECK(v3.substr(8, 4) == std::string("\x03\0\0\0", 4));
  ServeMeta both = decodeServeMeta(v3);
  REQUIRE(both.kafka);
  CHECK(both.kafka->inputs[0].next_offsets ==
        std::vector<std::pair<std::int32_t, std::int64_t>>{{1, 5}});
  REQUIRE(both.section("rules") != nullptr);
  CHECK(bytesOf(both) == v3);
}

TEST_CASE("serve meta: the Kafka part (version 2) round-trips, without it, version 1's bytes",
          "[service][kafka]") {
  ServeMeta meta = sample();
  const std::string v1 = bytesOf(meta);
  CHECK(v1.substr(8, 4) == std::string("\x01\0\0\0", 4)); // no Kafka: version 1, as before
  CHECK_FALSE(decodeServeMeta(v1).kafka);

  cep::service::KafkaMeta &k = meta.kafka.emplace();
  k.inputs.push_back({"payments", "fraud", "mkCluster-7", 4, {{0, 120}, {2, 98}}});
  k.outputs.push_back({"matches", "kafka://127.0.0.1:9092/alerts"});
  k.transactional_id = "cep-fraud-host1";
  k.transaction = "1733301234567-7";
  k.state = cep::service::KafkaTxnState::Pending;
  const std::string v2 = bytesOf(meta);
  CHECK(v2.substr(8, 4) == std::string("\x02\0\0\0", 4));
  ServeMeta back = decodeServeMeta(v2);
  CHECK(bytesOf(back) == v2);
  REQUIRE(back.kafka);
  REQUIRE(back.kafka->inputs.size() == 1);
  CHECK(back.kafka->inputs[0].topic == "payments");
  CHECK(back.kafka->inputs[0].cluster == "mkCluster-7");
  CHECK(back.kafka->inputs[0].partitions == 4);
  CHECK(back.kafka->inputs[0].next_offsets ==
        std::vector<std::pair<std::int32_t, std::int64_t>>{{0, 120}, {2, 98}});
  CHECK(back.kafka->outputs[0].url == "kafka://127.0.0.1:9092/alerts");
  CHECK(back.kafka->transaction == "1733301234567-7");
  CHECK(back.kafka->state == cep::service::KafkaTxnState::Pending);

  // Every flipped byte of the Kafka part is refused (the checksum).
  for (std::size_t i = v1.size() - 8; i + 8 < v2.size(); ++i) {
    std::string bad = v2;
    bad[i] = static_cast<char>(bad[i] ^ 0x20);
    CHECK_THROWS_AS(decodeServeMeta(bad), std::runtime_error);
  }
  // A position beyond the topic's partitions passes the checksum but not the rules.
  k.inputs[0].next_offsets = {{4, 1}};
  CHECK_THROWS_WITH(decodeServeMeta(bytesOf(meta)),
                    Catch::Contains("has the position 1 of partition 4 of 4"));
}
