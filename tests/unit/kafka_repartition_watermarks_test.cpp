// Watermarks and idleness through the repartition topic (cli/serve_kafka_watermarks.hpp): the
// first stage's records, what a repartition partition hands its loop, and the state a
// checkpoint carries.
#include "cli/serve_kafka_watermarks.hpp"

#include <catch2/catch.hpp>
#include <stdexcept>

using namespace cep::cli;

namespace {

using Take = InputWatermarks::Take;

Take take(InputWatermarks &w, const std::string &text) {
  std::int32_t from = -1;
  bool changed = false;
  return w.take(text, from, changed);
}

} // namespace

TEST_CASE("repartition watermarks: the first stage's records round-trip", "[kafka]") {
  std::int64_t time = 0;
  std::int32_t partition = -1;
  REQUIRE(parsePartitionWatermark(partitionWatermark(1767618000000, 2), time, partition));
  CHECK(time == 1767618000000);
  CHECK(partition == 2);
  bool idle = false;
  CHECK(partitionIdle(true, 3) == "{\"@idle\":true,\"@partition\":3}");
  REQUIRE(parsePartitionIdle(partitionIdle(true, 3), idle, partition));
  CHECK((idle && partition == 3));
  REQUIRE(parsePartitionIdle(partitionIdle(false, 1), idle, partition));
  CHECK((!idle && partition == 1));
  CHECK_FALSE(parsePartitionIdle("{\"@idle\":true}", idle, partition));
  CHECK_FALSE(parsePartitionIdle("{\"@idle\":true,\"@partition\":3,\"x\":1}", idle, partition));
  CHECK_FALSE(parsePartitionWatermark("{\"@watermark\":5}", time, partition));
}

TEST_CASE("repartition watermarks: the minimum over input partitions not idle", "[kafka]") {
  InputWatermarks w(3);
  CHECK(take(w, "{\"type\":\"Payment\"}") == Take::NotOne);
  CHECK(take(w, partitionWatermark(100, 0)) == Take::Taken);
  CHECK(take(w, partitionWatermark(200, 1)) == Take::Taken); // partition 2 not heard yet
  CHECK(take(w, partitionWatermark(50, 7)) == Take::Outside);
  // Partition 2 idle: left out, the minimum rises to 100.
  std::int32_t from = -1;
  bool changed = false;
  CHECK(w.take(partitionIdle(true, 2), from, changed) == Take::Rose);
  CHECK((from == 2 && changed));
  CHECK(w.handed == 100);
  CHECK(w.idleCount() == 1);
  CHECK(take(w, partitionWatermark(300, 0)) == Take::Rose);
  CHECK(w.handed == 200);
  // Back with an older watermark: counted again, the minimum does not go back.
  CHECK(w.take(partitionWatermark(150, 2), from, changed) == Take::Taken);
  CHECK((from == 2 && changed && w.idleCount() == 0));
  CHECK(w.handed == 200);
  CHECK(w.low() == 150);
  // Back without a watermark of its own: holds the minimum until it has one.
  CHECK(take(w, partitionIdle(true, 2)) == Take::Taken);
  CHECK(take(w, partitionIdle(false, 2)) == Take::Taken);
  CHECK(w.low() == 150);
}

TEST_CASE("repartition watermarks: every input partition idle flushes the highest", "[kafka]") {
  InputWatermarks w(3);
  take(w, partitionWatermark(100, 0));
  take(w, partitionWatermark(400, 1));
  CHECK(take(w, partitionIdle(true, 0)) == Take::Taken); // 2 not heard: nothing yet
  CHECK(take(w, partitionIdle(true, 2)) == Take::Rose);  // only 1 counts
  CHECK(w.handed == 400);
  CHECK(take(w, partitionIdle(true, 1)) == Take::Taken); // all idle: the highest, 400
  CHECK(w.low() == 400);
}

TEST_CASE("repartition watermarks: a restore resumes with what was heard", "[kafka]") {
  InputWatermarks w(3);
  w.restore({100, InputWatermarks::kNone, 300}, {0, 1, 0});
  CHECK(w.handed == InputWatermarks::kNone);
  CHECK(take(w, partitionWatermark(120, 0)) == Take::Rose); // at once: 1 idle, 2 heard
  CHECK(w.handed == 120);

  std::map<std::uint32_t, HeardState> state;
  state[1] = HeardState{{100, InputWatermarks::kNone}, {0, 1}};
  state[3] = HeardState{{7, 8}, {1, 1}};
  const std::map<std::uint32_t, HeardState> back = decodeHeard(encodeHeard(state));
  REQUIRE(back.size() == 2);
  CHECK(back.at(1).heard == state[1].heard);
  CHECK(back.at(1).idle == state[1].idle);
  CHECK(back.at(3).heard == state[3].heard);
  CHECK(back.at(3).idle == state[3].idle);
  std::string bytes = encodeHeard(state);
  CHECK_THROWS_AS(decodeHeard(bytes.substr(0, bytes.size() - 1)), std::runtime_error);
  CHECK_THROWS_AS(decodeHeard(bytes + "x"), std::runtime_error);
}
