#include "runtime/io/rejects.hpp"
#include "runtime/io/statistics.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <sstream>
#include <string>

using namespace cep::runtime;

TEST_CASE("rejects: report, dead letters and counts", "[runtime][rejects]") {
  std::ostringstream report, dead, late;
  Statistics stats(2);
  RejectOptions options;
  options.report = &report;
  options.dead_letter = &dead;
  options.late_output = &late;
  Rejects rejects({"events.jsonl", "<stdin>"}, stats, options);
  rejects.reject(0, 17, "unknown @type \"Paymnt\"", R"({"@type":"Paymnt","x":"a\"b"})");
  rejects.reject(1, 3, "not JSON: bad", "\x01raw\tline\xFF");
  rejects.late(0, 20, R"({"@type":"Payment","ts":5})");
  CHECK(report.str() == "events.jsonl:17: rejected: unknown @type \"Paymnt\"\n"
                        "<stdin>:3: rejected: not JSON: bad\n");
  CHECK(dead.str() == R"({"input":"events.jsonl","line":17,"reason":"unknown @type \"Paymnt\"",)"
                      R"("record":"{\"@type\":\"Paymnt\",\"x\":\"a\\\"b\"}"})"
                      "\n"
                      R"({"input":"<stdin>","line":3,"reason":"not JSON: bad",)"
                      R"("record_base64":"AXJhdwlsaW5l/w=="})"
                      "\n"); // not UTF-8: the exact bytes in base64, never U+FFFD
  CHECK(late.str() == "{\"@type\":\"Payment\",\"ts\":5}\n");
  CHECK(stats.inputs[0].rejected == 1);
  CHECK(stats.inputs[0].late == 1);
  CHECK(stats.inputs[1].rejected == 1);
  CHECK(stats.total().rejected == 2);
  CHECK_FALSE(rejects.strict());
  CHECK_FALSE(rejects.failed());
  rejects.finish();
  CHECK(report.str() == "events.jsonl:17: rejected: unknown @type \"Paymnt\"\n"
                        "<stdin>:3: rejected: not JSON: bad\n"); // nothing held back
}

TEST_CASE("rejects: the report is rate-limited per input", "[runtime][rejects]") {
  std::ostringstream report;
  Statistics stats(2);
  RejectOptions options;
  options.report = &report;
  options.report_limit = 3;
  Rejects rejects({"a.jsonl", "b.jsonl"}, stats, options);
  for (int line = 1; line <= 5; ++line) {
    rejects.reject(0, static_cast<std::uint64_t>(line), "r" + std::to_string(line), "{}");
  }
  rejects.reject(1, 9, "only", "{}");
  rejects.late(1, 10, "{}");
  rejects.late(1, 11, "{}");
  CHECK(report.str() == "a.jsonl:1: rejected: r1\n"
                        "a.jsonl:2: rejected: r2\n"
                        "a.jsonl:3: rejected: r3\n"
                        "b.jsonl:9: rejected: only\n");
  rejects.finish();
  rejects.finish(); // once
  CHECK(report.str() == "a.jsonl:1: rejected: r1\n"
                        "a.jsonl:2: rejected: r2\n"
                        "a.jsonl:3: rejected: r3\n"
                        "b.jsonl:9: rejected: only\n"
                        "a.jsonl: 2 more rejected records not shown (5 rejected in total)\n"
                        "b.jsonl: warning: 2 of 2 events (100.0%) were late (at or before the "
                        "watermark) and not matched (--late-output FILE keeps them)\n");
  CHECK(stats.inputs[0].rejected == 5);
  CHECK(stats.inputs[1].late == 2);
}

TEST_CASE("rejects: the default limit is 10 per input", "[runtime][rejects]") {
  std::ostringstream report;
  Statistics stats(1);
  RejectOptions options;
  options.report = &report;
  Rejects rejects({"x"}, stats, options);
  for (int line = 1; line <= 25; ++line) {
    rejects.reject(0, static_cast<std::uint64_t>(line), "bad", "{}");
  }
  rejects.finish();
  std::string text = report.str();
  CHECK(std::count(text.begin(), text.end(), '\n') == 11);
  CHECK(text.find("x:10: rejected: bad\n") != std::string::npos);
  CHECK(text.find("x:11:") == std::string::npos);
  CHECK(text.substr(text.rfind('\n', text.size() - 2) + 1) ==
        "x: 15 more rejected records not shown (25 rejected in total)\n");
}

TEST_CASE("rejects: strict mode fails at the first rejection", "[runtime][rejects]") {
  Statistics stats(1);
  RejectOptions options;
  options.strict = true;
  Rejects rejects({"x"}, stats, options);
  CHECK(rejects.strict());
  CHECK_FALSE(rejects.failed());
  rejects.late(0, 1, "{}"); // late events are not rejections
  CHECK_FALSE(rejects.failed());
  rejects.reject(0, 2, "bad", "{}");
  CHECK(rejects.failed());
}

TEST_CASE("rejects: silent without outputs", "[runtime][rejects]") {
  Statistics stats;
  Rejects rejects({"x"}, stats, RejectOptions{});
  rejects.reject(0, 1, "bad", "{}");
  rejects.late(0, 2, "{}");
  rejects.finish();
  CHECK(stats.inputs.size() == 1);
  CHECK(stats.inputs[0].rejected == 1);
  CHECK(stats.inputs[0].late == 1);
}

TEST_CASE("statistics: totals and text", "[runtime][rejects]") {
  Statistics stats(2);
  stats.inputs[0] = RecordCounts{10, 6, 2, 1, 1};
  stats.inputs[1] = RecordCounts{5, 5, 0, 0, 0};
  CHECK(stats.total() == RecordCounts{15, 11, 2, 1, 1});
  CHECK(formatStatistics(stats, {"a.jsonl", "b.jsonl"}) ==
        "a.jsonl: 10 read, 6 accepted, 2 rejected, 1 late, 1 watermarks\n"
        "b.jsonl: 5 read, 5 accepted, 0 rejected, 0 late, 0 watermarks\n"
        "total: 15 read, 11 accepted, 2 rejected, 1 late, 1 watermarks\n");
  Statistics one(1);
  CHECK(formatStatistics(one, {"a"}) ==
        "a: 0 read, 0 accepted, 0 rejected, 0 late, 0 watermarks\n");
}

TEST_CASE("rejects: dead letters keep the exact bytes, or say they are truncated",
          "[runtime][rejects]") {
  std::ostringstream dead;
  Statistics stats(1);
  RejectOptions options;
  options.dead_letter = &dead;
  Rejects rejects({"in"}, stats, options);
  // Control characters, a raw CR and valid UTF-8 round-trip through the JSON string.
  rejects.reject(0, 1, "r", "a\rb\x1f\xC3\xA9");
  // Every base64 tail: 0, 1 and 2 leftover bytes.
  rejects.reject(0, 2, "r", "\xFF\xFE\xFD");
  rejects.reject(0, 3, "r", "\xFF");
  rejects.reject(0, 4, "r",
                 "\xFF"
                 "ab\x80");
  // A truncated record: a character cut at the end is dropped, not turned into base64.
  rejects.reject(0, 5, "too long", "ab\xC3", 5000);
  rejects.reject(0, 6, "too long",
                 "\xFF"
                 "ab",
                 70000);
  rejects.reject(0, 7, "too long", "ab\xE6\x97", 9000);
  CHECK(dead.str() ==
        "{\"input\":\"in\",\"line\":1,\"reason\":\"r\",\"record\":\"a\\rb\\u001f\xC3\xA9\"}\n"
        R"({"input":"in","line":2,"reason":"r","record_base64":"//79"})"
        "\n"
        R"({"input":"in","line":3,"reason":"r","record_base64":"/w=="})"
        "\n"
        R"({"input":"in","line":4,"reason":"r","record_base64":"/2FigA=="})"
        "\n"
        R"({"input":"in","line":5,"reason":"too long","record":"ab",)"
        R"("record_bytes":5000,"truncated":true})"
        "\n"
        R"({"input":"in","line":6,"reason":"too long","record_base64":"/2Fi",)"
        R"("record_bytes":70000,"truncated":true})"
        "\n"
        R"({"input":"in","line":7,"reason":"too long","record":"ab",)"
        R"("record_bytes":9000,"truncated":true})"
        "\n");
}

TEST_CASE("rejects: a Kafka partition's dead letters name topic, partition and offset",
          "[runtime][rejects][kafka]") {
  std::ostringstream report, dead;
  Statistics stats(2);
  RejectOptions options;
  options.report = &report;
  options.dead_letter = &dead;
  Rejects rejects({"events.jsonl", "payments[2]"}, stats, options);
  rejects.setOrigin(1, PartitionOrigin{"payments", 2});
  rejects.reject(1, 57, "not JSON: empty record", "");
  rejects.reject(0, 4, "not JSON: bad", "x");
  CHECK(report.str() == "payments[2]@57: rejected: not JSON: empty record\n"
                        "events.jsonl:4: rejected: not JSON: bad\n");
  CHECK(dead.str() == R"({"input":"payments[2]","topic":"payments","partition":2,"offset":57,)"
                      R"("reason":"not JSON: empty record","record":""})"
                      "\n"
                      R"({"input":"events.jsonl","line":4,"reason":"not JSON: bad","record":"x"})"
                      "\n");
}

TEST_CASE("rejects: the late summary says the share and the --max-delay that keeps them",
          "[runtime][rejects]") {
  RecordCounts counts;
  counts.accepted = 1586;
  counts.late = 463;
  // 41m7s behind a watermark of --max-delay 0s: 41m7.001s needed, said in whole minutes.
  CHECK(lateSummary("events.jsonl", counts, 0, 2'467'000) ==
        "events.jsonl: warning: 463 of 2049 events (22.6%) were late (at or before the "
        "watermark) and not matched; --max-delay 42m would have kept them all, and --order sort "
        "reads a whole file in event-time order (--late-output FILE keeps them)");
  // Under 1%: no warning; one event; under 10 s the hint stays in ms (2s + 3299 + 1).
  counts.accepted = 999;
  counts.late = 1;
  CHECK(lateSummary("a", counts, 2000, 3299) ==
        "a: 1 of 1000 events (0.1%) was late (at or before the watermark) and not matched; "
        "--max-delay 5300ms would have kept it (--late-output FILE keeps them)");
  // Whole units from 10 of them up: 61 min stays in minutes (62m, not 2h); hours from 10h.
  counts.late = 500;
  CHECK(lateSummary("a", counts, 0, 61 * 60'000).find("--max-delay 62m ") != std::string::npos);
  CHECK(lateSummary("a", counts, 3'600'000, 9 * 3'600'000 - 1).find("--max-delay 10h ") !=
        std::string::npos);
  // Explicit watermarks: no hint (-1).
  CHECK(lateSummary("a", counts, -1, 5).find("--max-delay") == std::string::npos);
}
