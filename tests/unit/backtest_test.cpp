// `cep backtest` (docs/backtest.md): the join of alerts with labels and the statistics per rule
// (cli/backtest_join.hpp), the labels file (cli/backtest_labels.hpp) and the text and JSON
// numbers (cli/backtest_format.hpp), on cases computed by hand. End to end with the HTML page in
// chromium: tests/e2e/check_backtest.py.
#include "cli/backtest_format.hpp"
#include "cli/backtest_join.hpp"
#include "cli/backtest_labels.hpp"

#include <catch2/catch.hpp>
#include <sstream>
#include <string>
#include <vector>

using namespace cep::cli::backtest;

namespace {

constexpr std::int64_t kDay = 86'400'000;

Label label(std::string key, std::int64_t time, std::string cls = "fraud", std::uint64_t line = 0) {
  return {std::move(key), time, std::move(cls), line};
}

Alert alert(std::uint32_t rule, std::string_view key, std::int64_t time) {
  return {rule, key, time, false};
}

History history(std::int64_t first, std::int64_t last, std::uint64_t events = 100) {
  return {events, first, last};
}

} // namespace

TEST_CASE("backtest join: an alert exactly at the horizon or the lookback hits, 1 ms beyond "
          "does not",
          "[backtest]") {
  Join join({"r0", "r1"}, {label("\"a\"", 1000)}, {500, 100});
  join.add(alert(0, "\"a\"", 1500)); // L + horizon: hit
  join.add(alert(0, "\"a\"", 1501)); // one past: false positive
  join.add(alert(1, "\"a\"", 900));  // L - lookback: hit
  join.add(alert(1, "\"a\"", 899));  // one before: false positive
  Report r = join.report(history(0, 10'000));
  REQUIRE(r.rules.size() == 2);
  CHECK(r.rules[0].alerts == 2);
  CHECK(r.rules[0].true_positives == 1);
  CHECK(r.rules[0].false_positives == 1);
  CHECK(r.rules[0].precision == 0.5);
  CHECK(r.rules[0].caught == 1);
  CHECK(r.rules[0].recall == 1.0);
  CHECK(r.rules[0].delay_median_ms == 500);
  CHECK(r.rules[1].true_positives == 1);
  CHECK(r.rules[1].delay_median_ms == -100); // before the labelled time
  CHECK(r.rules[1].delay_bins[0] == 1);      // "before"
  CHECK(r.any.alerts == 4);
  CHECK(r.any.true_positives == 2);
  CHECK(r.any.caught == 1);
  CHECK(r.any.delay_median_ms == -100); // the earliest of any rule
  CHECK(r.missed.empty());
}

TEST_CASE("backtest join: several alerts for one label are all true positives, the earliest "
          "gives the delay",
          "[backtest]") {
  Join join({"r"}, {label("\"a\"", 1000)}, {1000, 0});
  join.add(alert(0, "\"a\"", 1300));
  join.add(alert(0, "\"a\"", 1100));
  join.add(alert(0, "\"a\"", 1200));
  join.add(alert(0, "\"b\"", 1100)); // another key: false positive
  Report r = join.report(history(0, 5000));
  CHECK(r.rules[0].alerts == 4);
  CHECK(r.rules[0].true_positives == 3);
  CHECK(r.rules[0].false_positives == 1);
  CHECK(r.rules[0].precision == 0.75);
  CHECK(r.rules[0].caught == 1);
  CHECK(r.rules[0].delay_median_ms == 100);
  CHECK(r.rules[0].delay_p90_ms == 100);
  CHECK(r.rules[0].delay_bins[1] == 1); // 0-1s
}

TEST_CASE("backtest join: one alert hits every label of its key in its window", "[backtest]") {
  Join join({"r"}, {label("\"a\"", 1000), label("\"a\"", 2000), label("\"a\"", 9000)}, {1500, 0});
  join.add(alert(0, "\"a\"", 2400)); // hits 1000 (delay 1400) and 2000 (delay 400), not 9000
  Report r = join.report(history(0, 10'000));
  CHECK(r.rules[0].true_positives == 1);
  CHECK(r.rules[0].caught == 2);
  CHECK(*r.rules[0].recall == Approx(2.0 / 3.0));
  REQUIRE(r.missed.size() == 1);
  CHECK(r.missed[0].time == 9000);
  CHECK(r.rules[0].delay_median_ms == 400); // nearest rank of {400, 1400}
  CHECK(r.rules[0].delay_p90_ms == 1400);
}

TEST_CASE("backtest join: no labels: every alert a false positive, recall undefined",
          "[backtest]") {
  Join join({"r"}, {}, {kDay, kDay});
  join.add(alert(0, "\"a\"", 10));
  join.add(alert(0, "\"b\"", 20));
  Report r = join.report(history(0, 2 * kDay));
  CHECK(r.rules[0].alerts == 2);
  CHECK(r.rules[0].false_positives == 2);
  CHECK(r.rules[0].precision == 0.0);
  CHECK_FALSE(r.rules[0].recall.has_value());
  CHECK_FALSE(r.rules[0].delay_median_ms.has_value());
  CHECK(r.missed.empty());
  CHECK(r.classes.empty());
  CHECK(r.rules[0].alerts_per_day == 1.0);
}

TEST_CASE("backtest join: no alerts: precision undefined, every label missed", "[backtest]") {
  Join join({"r0", "r1"}, {label("\"a\"", 5, "x", 1), label("7", 6, "y", 2)}, {kDay, kDay});
  Report r = join.report(history(0, kDay / 2));
  for (const RuleResult &rule : r.rules) {
    CHECK(rule.alerts == 0);
    CHECK_FALSE(rule.precision.has_value());
    CHECK(rule.recall == 0.0);
    CHECK_FALSE(rule.delay_median_ms.has_value());
  }
  REQUIRE(r.missed.size() == 2);
  CHECK(r.missed[0].line == 1);
  CHECK(r.missed[1].line == 2);
  CHECK(r.bucket == "hour"); // half a day of history
  CHECK(r.bucket_starts.size() == 13);
}

TEST_CASE("backtest join: overlap between rules and labels by class", "[backtest]") {
  Join join({"r0", "r1"},
            {label("\"a\"", 100, "x"), label("\"b\"", 100, "y"), label("\"c\"", 100, "x")},
            {1000, 0});
  join.add(alert(0, "\"a\"", 200));
  join.add(alert(0, "\"b\"", 300));
  join.add(alert(1, "\"b\"", 150));
  Report r = join.report(history(0, 1000));
  CHECK(r.overlap == std::vector<std::vector<std::uint64_t>>{{2, 1}, {1, 1}});
  CHECK(r.any.caught == 2);
  CHECK(r.any.delay_median_ms == 50); // b: r1 at 150
  REQUIRE(r.classes.size() == 2);
  CHECK(r.classes[0].label_class == "x");
  CHECK(r.classes[0].labels == 2);
  CHECK(r.classes[0].caught == 1);
  CHECK(r.classes[0].caught_by == std::vector<std::uint64_t>{1, 0});
  CHECK(r.classes[1].caught_by == std::vector<std::uint64_t>{1, 1});
  REQUIRE(r.missed.size() == 1);
  CHECK(r.missed[0].key == "\"c\"");
}

TEST_CASE("backtest join: alerts per day over the history's span, by UTC day", "[backtest]") {
  Join join({"r"}, {}, {0, 0});
  join.add(alert(0, "1", kDay / 2));
  join.add(alert(0, "1", kDay + 5));
  join.add(alert(0, "1", kDay + 6));
  join.add(alert(0, "1", 3 * kDay + 1));
  Report r = join.report(history(kDay / 4, kDay / 4 + 2 * kDay));
  CHECK(r.days == 2.0);
  CHECK(r.rules[0].alerts_per_day == 2.0);
  CHECK(r.bucket == "day");
  CHECK(r.bucket_starts == std::vector<std::int64_t>{0, kDay, 2 * kDay, 3 * kDay});
  CHECK(r.per_bucket[0] == std::vector<std::uint64_t>{1, 2, 0, 1});
}

TEST_CASE("backtest join: alerts without a key hit no label and are counted", "[backtest]") {
  Join join({"keyed", "unkeyed"}, {label("\"a\"", 100)}, {1000, 1000});
  join.add(alert(0, "\"a\"", 100));
  join.add(alert(1, "null", 100));
  join.add(alert(1, "null", 200));
  Report r = join.report(history(0, 1000));
  CHECK(r.rules[0].keyless == 0);
  CHECK(r.rules[1].keyless == 2);
  CHECK(r.rules[1].false_positives == 2);
  CHECK(r.any.keyless == 2);
  Context context{{"rules.cep"}, {"events.jsonl"}, "labels.jsonl", "sort", "drop", "jit"};
  CHECK(formatText(r, context).find("note: 2 of unkeyed's alerts have no key") !=
        std::string::npos);
}

TEST_CASE("backtest join: labels outside the history are counted", "[backtest]") {
  Join join({"r"}, {label("1", 5), label("1", 50), label("1", 500)}, {0, 0});
  Report r = join.report(history(10, 100));
  CHECK(r.labels == 3);
  CHECK(r.labels_outside == 2);
}

TEST_CASE("backtest statistics: nearest-rank percentiles", "[backtest]") {
  std::vector<std::int64_t> ten{1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  CHECK(percentile(ten, 50) == 5);
  CHECK(percentile(ten, 90) == 9);
  CHECK(percentile(ten, 100) == 10);
  CHECK(percentile({7}, 50) == 7);
  CHECK(percentile({7}, 90) == 7);
  CHECK(percentile({1, 2}, 50) == 1);
  CHECK(percentile({1, 2}, 90) == 2);
  CHECK_FALSE(percentile({}, 50).has_value());
  CHECK(delayBin(-1) == 0);
  CHECK(delayBin(0) == 1);
  CHECK(delayBin(999) == 1);
  CHECK(delayBin(1000) == 2);
  CHECK(delayBin(kDay) == delayBinNames().size() - 1);
}

TEST_CASE("backtest labels: the format, composite keys and every bad line with its reason",
          "[backtest]") {
  std::istringstream in(
      "{\"key\":\"c-1\",\"time\":\"2026-01-05T10:00:00.000Z\",\"class\":\"card_testing\"}\n"
      "\n"
      "{\"key\":[\"c-1\",3.0],\"time\":1767607200000,\"class\":\"velocity\",\"note\":\"x\"}\n"
      "not json\n"
      "{\"key\":\"c-2\",\"time\":1}\n"
      "{\"key\":null,\"time\":1,\"class\":\"x\"}\n"
      "{\"key\":\"c\",\"time\":\"yesterday\",\"class\":\"x\"}\n"
      "[1,2]\n"
      "{\"key\":\"c\",\"key\":\"d\",\"time\":1,\"class\":\"x\"}\n"
      "{\"key\":{\"a\":1},\"time\":1,\"class\":\"x\"}\n"
      "{\"key\":\"c\",\"time\":1,\"class\":\"\"}\n"
      "{\"key\":\"c\",\"time\":99999999999999999,\"class\":\"x\"}\n");
  std::vector<Label> labels;
  std::vector<LabelError> errors;
  readLabels(in, 0, 7'258'118'400'000, labels, errors);
  REQUIRE(labels.size() == 2);
  CHECK(labels[0].key == "\"c-1\"");
  CHECK(labels[0].time == 1767607200000);
  CHECK(labels[0].label_class == "card_testing");
  CHECK(labels[0].line == 1);
  CHECK(labels[1].key == "[\"c-1\",3]"); // 3.0 and 3 are one key
  CHECK(labels[1].line == 3);
  std::vector<std::uint64_t> lines;
  for (const LabelError &e : errors) {
    lines.push_back(e.line);
  }
  CHECK(lines == std::vector<std::uint64_t>{4, 5, 6, 7, 8, 9, 10, 11, 12});
  REQUIRE(errors.size() == 9);
  CHECK(errors[0].message.rfind("not JSON", 0) == 0);
  CHECK(errors[1].message.find("missing \"class\"") != std::string::npos);
  CHECK(errors[2].message.find("cannot be null") != std::string::npos);
  CHECK(errors[3].message.rfind("\"time\":", 0) == 0);
  CHECK(errors[4].message.find("JSON object") != std::string::npos);
  CHECK(errors[5].message == "\"key\" given twice");
  CHECK(errors[6].message.find("object") != std::string::npos);
  CHECK(errors[7].message.find("non-empty string") != std::string::npos);
  CHECK(errors[8].message.find("outside --event-time-range") != std::string::npos);
}

TEST_CASE("backtest output: delays, percentages rounded half up, and the JSON numbers",
          "[backtest]") {
  CHECK(formatDelay(0) == "0ms");
  CHECK(formatDelay(999) == "999ms");
  CHECK(formatDelay(1000) == "1.0s");
  CHECK(formatDelay(12'345) == "12.3s");
  CHECK(formatDelay(65'000) == "1m05s");
  CHECK(formatDelay(2 * 3'600'000 + 3 * 60'000) == "2h03m");
  CHECK(formatDelay(3 * kDay + 4 * 3'600'000) == "3d04h");
  CHECK(formatDelay(-100) == "-100ms");

  // 1 of 16 alerts a hit: precision 6.25% prints as 6.3% (printf would round the tie to 6.2%).
  std::vector<Label> labels{label("\"a\"", 1000, "x", 1)};
  Join join({"r"}, labels, {0, 0});
  join.add(alert(0, "\"a\"", 1000));
  for (int i = 0; i < 15; ++i) {
    join.add(alert(0, "\"z\"", 1000));
  }
  Report r = join.report(history(0, kDay));
  Context context{{"rules.cep"}, {"events.jsonl"}, "labels.jsonl", "sort", "drop", "jit"};
  std::string text = formatText(r, context);
  INFO(text);
  CHECK(text.find("\nr             16    16.00   1  15       6.3%       1  100.0%           0ms"
                  "        0ms\n") != std::string::npos);
  std::string json = formatJson(r, context);
  INFO(json);
  CHECK(json.find("\"rules\":[{\"rule\":\"r\",\"alerts\":16,\"at_end\":0,\"keyless\":0,"
                  "\"alerts_per_day\":16.0,"
                  "\"true_positives\":1,\"false_positives\":15,\"precision\":0.0625,"
                  "\"caught\":1,\"recall\":1.0,\"delay_median_ms\":0,\"delay_p90_ms\":0,") !=
        std::string::npos);
}
