// service/savepoint: the CEPSAVEP file of `cep savepoint`. A savepoint decodes to what was
// encoded and encodes again to the same bytes; every damaged byte and every cut is refused with a
// reason; the released format versions are still read (the committed v1 fixture,
// tests/state/savepoints/v1).
#include "runtime/io/file_write.hpp"
#include "service/savepoint.hpp"

#include <catch2/catch.hpp>
#include <stdexcept>
#include <string>

using cep::runtime::FieldKind;
using cep::service::decodeSavepoint;
using cep::service::encodeSavepoint;
using cep::service::Savepoint;

namespace {

Savepoint sample() {
  Savepoint sp;
  cep::service::ServeMeta &meta = sp.meta;
  meta.taken_at = 1767607201962;
  meta.next_operator_id = 5;
  cep::runtime::EventSchema payment;
  payment.name = "Payment";
  payment.fields = {{"card", FieldKind::String, false},
                    {"amount", FieldKind::Float, false},
                    {"ts", FieldKind::Time, false}};
  payment.time_field = 2;
  meta.schema.types = {payment};
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
  sp.artifacts.push_back({"3f2a9c1d0b7e55aa", std::string("CEPO\0first", 10)});
  sp.artifacts.push_back({"60785e6356bc0011", "CEPO second"});
  sp.records.push_back({std::string("key\0c1", 6), "key c2"});
  sp.records.push_back({});
  return sp;
}

std::string bytesOf(const Savepoint &sp) {
  std::string out;
  encodeSavepoint(sp, out);
  return out;
}

} // namespace

TEST_CASE("savepoint: decode gives back what was encoded, byte for byte", "[service][state]") {
  const std::string bytes = bytesOf(sample());
  CHECK(bytes.compare(0, 8, "CEPSAVEP") == 0);
  CHECK(bytes.compare(8, 4, std::string("\x01\0\0\0", 4)) == 0);
  Savepoint back = decodeSavepoint(bytes);
  CHECK(bytesOf(back) == bytes);
  CHECK(back.meta.taken_at == 1767607201962);
  REQUIRE(back.meta.served.size() == 2);
  CHECK(back.meta.served[0].matcher_header == std::string("header\0one", 10));
  REQUIRE(back.artifacts.size() == 2);
  CHECK(back.artifact("3f2a9c1d0b7e55aa")->bytes == std::string("CEPO\0first", 10));
  CHECK(back.artifact("60785e6356bc0011")->bytes == "CEPO second");
  CHECK(back.artifact("0000") == nullptr);
  REQUIRE(back.records.size() == 2);
  CHECK(back.records[0] == std::vector<std::string>{std::string("key\0c1", 6), "key c2"});
  CHECK(back.records[1].empty());
  REQUIRE(back.meta.inputs.size() == 1);
  CHECK(back.meta.inputs[0].position.identity == sample().meta.inputs[0].position.identity);
}

TEST_CASE("savepoint: every flipped byte and every cut is refused with a reason",
          "[service][state]") {
  const std::string bytes = bytesOf(sample());
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    std::string damaged = bytes;
    damaged[i] = static_cast<char>(damaged[i] ^ 0x20);
    CAPTURE(i);
    CHECK_THROWS_WITH(decodeSavepoint(damaged), Catch::StartsWith("bad savepoint: "));
  }
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    CAPTURE(n);
    CHECK_THROWS_WITH(decodeSavepoint(std::string_view(bytes).substr(0, n)),
                      Catch::StartsWith("bad savepoint: "));
  }
}

TEST_CASE("savepoint: files that pass the checksum but break the rules", "[service][state]") {
  Savepoint sp = sample();
  sp.artifacts.pop_back();
  CHECK_THROWS_WITH(decodeSavepoint(bytesOf(sp)),
                    "bad savepoint: the artifact 60785e6356bc0011 of pattern `card_testing` "
                    "60785e6356bc is missing");
  sp = sample();
  std::swap(sp.artifacts[0], sp.artifacts[1]);
  CHECK_THROWS_WITH(decodeSavepoint(bytesOf(sp)),
                    "bad savepoint: artifacts out of hash order (or one twice)");
  sp = sample();
  sp.meta.served[1].operator_id = 7; // the meta record's own rules
  CHECK_THROWS_WITH(decodeSavepoint(bytesOf(sp)),
                    Catch::StartsWith("bad savepoint: the meta record: bad serve checkpoint: "
                                      "operator id 7"));
  // A later version than this build reads, with a valid checksum.
  std::string bytes = bytesOf(sample());
  bytes[8] = 2;
  bytes.resize(bytes.size() - 8);
  std::uint64_t h = 0xcbf29ce484222325ULL; // FNV-1a 64, as the trailer
  for (unsigned char c : bytes) {
    h = (h ^ c) * 0x100000001b3ULL;
  }
  for (int i = 0; i < 8; ++i) {
    bytes.push_back(static_cast<char>(h >> (8 * i)));
  }
  CHECK_THROWS_WITH(decodeSavepoint(bytes),
                    "bad savepoint: format version 2 (this build reads 1 to 1)");
}

// Every released format version stays readable: the fixture's file, made by
// tests/state/savepoints/v1/make_savepoint.py with the build that introduced the version.
TEST_CASE("savepoint: the committed version 1 fixture is read, and encodes to the same bytes",
          "[service][state][migration]") {
  std::string bytes, error;
  REQUIRE(cep::runtime::readWholeFile(CEP_SOURCE_DIR "/tests/state/savepoints/v1/savepoint.cepsp",
                                      bytes, error));
  Savepoint sp = decodeSavepoint(bytes);
  CHECK(bytesOf(sp) == bytes); // version 1 is still what this build writes
  REQUIRE(sp.meta.served.size() == 2);
  CHECK(sp.meta.served[0].pattern == "card_testing");
  CHECK(sp.meta.served[1].pattern == "double_big");
  REQUIRE(sp.meta.inputs.size() == 1);
  CHECK(sp.meta.inputs[0].name == "events.jsonl");
  CHECK(sp.artifacts.size() == 1);
  REQUIRE(sp.records.size() == 2);
  CHECK_FALSE(sp.records[0].empty());
  CHECK_FALSE(sp.records[1].empty());
}
