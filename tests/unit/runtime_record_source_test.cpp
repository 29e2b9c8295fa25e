// Inputs over a RecordSource (runtime/io/record_source.hpp: Kafka's partitions as inputs) and an
// OutputSink whose records are handed to a writer (a Kafka topic).
#include "runtime/engine/output_sink.hpp"
#include "runtime/io/inputs.hpp"
#include "runtime/schema.hpp"

#include <catch2/catch.hpp>
#include <deque>
#include <string>
#include <vector>

using namespace cep::runtime;

namespace {

// Two splits; records queued by the test; no fd (the wait is bounded by wakeWithinMs).
class FakeSource final : public RecordSource {
public:
  struct Record {
    std::uint32_t split;
    std::string text;
    std::int64_t time;
  };
  std::deque<Record> queue;
  bool counted[2] = {true, true};
  std::uint64_t version = 0;

  std::uint32_t splits() const override { return 2; }
  std::string splitName(std::uint32_t split) const override {
    return "topic[" + std::to_string(split) + "]";
  }
  std::optional<PartitionOrigin> origin(std::uint32_t split) const override {
    return PartitionOrigin{"topic", static_cast<std::int32_t>(split)};
  }
  ReadStatus next(std::uint32_t &split, Line &line) override {
    if (queue.empty()) {
      return ReadStatus::Pending;
    }
    current_ = queue.front();
    queue.pop_front();
    buffer_ = current_.text + std::string(kLinePadding, '\0');
    split = current_.split;
    line.text = std::string_view(buffer_.data(), current_.text.size());
    line.capacity = buffer_.size();
    line.number = 7;
    line.source_time = current_.time;
    return ReadStatus::Line;
  }
  int fd() const override { return -1; }
  int wakeWithinMs() const override { return 5; }
  bool counts(std::uint32_t split) const override { return counted[split]; }
  std::uint64_t countsVersion() const override { return version; }
  const std::string &error() const override { return error_; }

private:
  Record current_;
  std::string buffer_;
  std::string error_;
};

} // namespace

TEST_CASE("inputs: a source's splits are inputs after the files", "[runtime][inputs][kafka]") {
  Schema schema;
  Inputs inputs;
  std::string error;
  REQUIRE(inputs.open({}, schema, error));
  auto owned = std::make_unique<FakeSource>();
  FakeSource &source = *owned;
  inputs.addSource(std::move(owned), -1);
  REQUIRE(inputs.size() == 2);
  CHECK(inputs.names() == std::vector<std::string>{"topic[0]", "topic[1]"});
  CHECK(inputs.anyStream());
  CHECK(inputs.hasSources());
  CHECK(inputs.origin(1)->partition == 1);

  source.queue.push_back({1, R"({"a":1})", 1234});
  InputRecord record;
  int asked = 0;
  auto timeout = [&asked] {
    ++asked;
    return 20;
  };
  REQUIRE(inputs.nextArrived(record, -1, timeout) == InputStatus::Record);
  CHECK(record.input == 1);
  CHECK(record.line.text == R"({"a":1})");
  CHECK(record.line.source_time == 1234);
  // Nothing queued: the wait ends at the timeout.
  CHECK(inputs.nextArrived(record, -1, timeout) == InputStatus::Idle);
  CHECK(asked == 1);
  // A split that stops counting ends the wait at once (the watermark is recomputed).
  std::uint64_t before = inputs.countsVersion();
  source.counted[0] = false;
  source.version++;
  CHECK(inputs.countsVersion() != before);
  CHECK_FALSE(inputs.counts(0));
  CHECK(inputs.counts(1));
}

TEST_CASE("output sink: records handed to a writer when flushed", "[runtime][output][kafka]") {
  std::vector<std::string> got;
  bool closed = false;
  bool refuse = false;
  auto sink = OutputSink::toRecords(
      "kafka://h:1/alerts",
      [&](std::string_view record, std::string &why) {
        if (refuse) {
          why = "the queue is gone";
          return false;
        }
        got.emplace_back(record);
        return true;
      },
      [&] { closed = true; });
  sink->writeLine("{\"a\":1}");
  sink->write("{\"b\":");
  CHECK(got.empty()); // buffered until flushed
  CHECK(sink->flush());
  CHECK(got == std::vector<std::string>{"{\"a\":1}"}); // a record in parts waits for its newline
  sink->write("2}\n");
  CHECK(sink->flush());
  CHECK(got == std::vector<std::string>{"{\"a\":1}", "{\"b\":2}"});
  CHECK(sink->records() == 2);
  refuse = true;
  sink->writeLine("{\"c\":3}");
  CHECK_FALSE(sink->flush());
  CHECK(sink->error() == "cannot write \"kafka://h:1/alerts\": the queue is gone; it ends after 2 "
                         "whole records");
  sink.reset();
  CHECK(closed);
}
