#include "runtime/io/inputs.hpp"
#include "runtime/io/jsonl_decoder.hpp"
#include "runtime/io/rejects.hpp"
#include "runtime/io/statistics.hpp"
#include "runtime/time/reorder_buffer.hpp"
#include "runtime/time/watermarks.hpp"
#include "temp_file_test.hpp"

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

using namespace cep::runtime;

namespace {

// A temp input file named for this test.
struct TempFile : cep_test::TempFile {
  explicit TempFile(const std::string &content) : cep_test::TempFile("cep_inputs", content) {}
};

Schema schema() {
  Schema s;
  s.types.push_back(
      EventSchema{"Payment", {{"id", FieldKind::Int, false}, {"ts", FieldKind::Time, false}}, 1});
  s.types.push_back(EventSchema{"Login", {{"id", FieldKind::Int, false}}, -1});
  return s;
}

} // namespace

TEST_CASE("inputs: PATH and PATH:Type arguments", "[runtime][inputs]") {
  auto check = [](const char *argument, const char *path, const char *type) {
    InputSpec spec = parseInputSpec(argument);
    INFO(argument);
    CHECK(spec.path == path);
    CHECK(spec.type_name == type);
  };
  check("events.jsonl", "events.jsonl", "");
  check("events.jsonl:Payment", "events.jsonl", "Payment");
  check("-", "-", "");
  check("-:Login", "-", "Login");
  check("dir:v2/events.jsonl", "dir:v2/events.jsonl", "");
  check("a:b:Payment_2", "a:b", "Payment_2");
  check(":Payment", ":Payment", "");
  check("events.jsonl:", "events.jsonl:", "");
  check("events.jsonl:2x", "events.jsonl:2x", "");
}

TEST_CASE("inputs: round-robin, one record at a time", "[runtime][inputs]") {
  TempFile a("a1\na2\n\na3\na4\n");
  TempFile b("b1\n");
  TempFile c("\n\nc1\nc2");
  Inputs inputs;
  std::string error;
  Schema s = schema();
  REQUIRE(inputs.open({{a.path(), ""}, {b.path(), "Login"}, {c.path(), ""}}, s, error));
  CHECK(inputs.size() == 3);
  CHECK(inputs.boundType(0) == -1);
  CHECK(inputs.boundType(1) == 1);
  CHECK(inputs.name(1) == b.path());
  std::vector<std::string> seen;
  InputRecord record;
  InputStatus status;
  while ((status = inputs.next(record)) != InputStatus::End) {
    if (status == InputStatus::Record) {
      seen.push_back(std::string(record.line.text) + "@" + std::to_string(record.line.number));
    } else {
      REQUIRE(status == InputStatus::Finished);
      seen.push_back("end" + std::to_string(record.input));
    }
  }
  CHECK(seen == std::vector<std::string>{"a1@1", "b1@1", "c1@3", "a2@2", "end1", "c2@4", "a3@4",
                                         "end2", "a4@5", "end0"});
  CHECK(inputs.finished(0));
  CHECK(inputs.next(record) == InputStatus::End);
}

TEST_CASE("inputs: errors", "[runtime][inputs]") {
  Schema s = schema();
  Inputs inputs;
  std::string error;
  CHECK_FALSE(inputs.open({{"x.jsonl", "Paymnt"}}, s, error));
  CHECK(error == "input \"x.jsonl:Paymnt\": unknown event type \"Paymnt\"");
  CHECK_FALSE(inputs.open({{"-", ""}, {"-", "Login"}}, s, error));
  CHECK(error == "standard input (\"-\") is given more than once");

  TempFile good("g1\n");
  REQUIRE(inputs.open({{"/nonexistent/x.jsonl", ""}, {good.path(), ""}}, s, error));
  InputRecord record;
  CHECK(inputs.next(record) == InputStatus::Error);
  CHECK(record.input == 0);
  CHECK(inputs.error(0) == "cannot open \"/nonexistent/x.jsonl\": No such file or directory");
  CHECK(inputs.finished(0));
  CHECK(inputs.next(record) == InputStatus::Record);
  CHECK(record.line.text == "g1");
  CHECK(inputs.next(record) == InputStatus::Finished);
  CHECK(inputs.next(record) == InputStatus::End);
}

// The pieces together, as the run loop will use them: decode, lateness, watermarks, reorder.
TEST_CASE("inputs: end to end through decoder, watermarks and reorder buffer",
          "[runtime][inputs]") {
  TempFile a(R"({"@type":"Payment","id":1,"ts":1000})"
             "\n"
             R"({"@type":"Payment","id":2,"ts":3000})"
             "\n"
             R"({"@type":"Payment","id":3,"ts":2200})"
             "\n" // behind input b's 2500, not late: reordered
             R"({"@type":"Payment","id":4,"ts":"oops"})"
             "\n"
             R"({"@type":"Payment","id":5,"ts":1200})"
             "\n" // late: both inputs have passed 1999
             "\n"
             R"({"@watermark":10000})"
             "\n"
             R"({"@type":"Payment","id":6,"ts":11000})"
             "\n");
  TempFile b(R"({"@type":"Payment","id":10,"ts":2500})"
             "\n"
             R"({"@type":"Payment","id":11,"ts":4000})"
             "\n"
             R"({"@type":"Payment","id":12,"ts":2000})"
             "\n");
  Schema s = schema();
  Inputs inputs;
  std::string error;
  REQUIRE(inputs.open({{a.path(), ""}, {b.path(), "Payment"}}, s, error));
  JsonlDecoder decoder(s, DecoderOptions{true});
  Watermarks marks(inputs.size(), 1000, WatermarkMode::Auto);
  ReorderBuffer buffer;
  Statistics stats(inputs.size());
  std::ostringstream report, dead, late;
  RejectOptions options;
  options.report = &report;
  options.dead_letter = &dead;
  options.late_output = &late;
  Rejects rejects(inputs.names(), stats, options);
  std::vector<std::int64_t> released;
  std::uint64_t seq = 0;
  auto release = [&] {
    buffer.advanceTo(marks.combined());
    EventRef event;
    while (buffer.pop(event)) {
      released.push_back(event->slots()[0].i);
    }
  };
  InputRecord record;
  InputStatus status;
  while ((status = inputs.next(record)) != InputStatus::End) {
    if (status != InputStatus::Record) {
      marks.finish(record.input);
      release();
      continue;
    }
    RecordCounts &counts = stats.inputs[record.input];
    ++counts.read;
    RecordContext context{record.input, record.line.number, seq++, 0,
                          inputs.boundType(record.input)};
    DecodeResult result = decoder.decode(record.line, context);
    switch (result.status) {
    case DecodeStatus::Rejected:
      rejects.reject(record.input, record.line.number, result.reason, record.line.text);
      break;
    case DecodeStatus::Watermark:
      ++counts.watermarks;
      marks.onWatermark(record.input, result.watermark);
      break;
    case DecodeStatus::Event: {
      std::int64_t time = result.event->time;
      if (buffer.push(std::move(result.event)) == PushResult::Late) {
        rejects.late(record.input, record.line.number, record.line.text);
        break;
      }
      ++counts.accepted;
      marks.onEvent(record.input, time);
      break;
    }
    }
    release();
  }
  rejects.finish();
  CHECK(released == std::vector<std::int64_t>{1, 12, 3, 10, 2, 11, 6});
  CHECK(buffer.empty());
  CHECK(report.str() == a.path() + ":4: rejected: field \"ts\": invalid time \"oops\": expected a "
                                   "4-digit year at character 1, found 'o'\n");
  CHECK(late.str() == "{\"@type\":\"Payment\",\"id\":5,\"ts\":1200}\n");
  CHECK(dead.str().find("\"line\":4,") != std::string::npos);
  CHECK(stats.inputs[0] == RecordCounts{7, 4, 1, 1, 1});
  CHECK(stats.inputs[1] == RecordCounts{3, 3, 0, 0, 0});
}
