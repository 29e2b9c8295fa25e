// runtime/metrics: the exact Prometheus text of counters, gauges and histograms, escaping, the
// registration rules, and lock-free updates read concurrently.
#include "runtime/metrics/registry.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <thread>

using namespace cep::runtime::metrics;

namespace {

std::string text(const Registry &registry) {
  std::string out;
  registry.writePrometheus(out);
  return out;
}

} // namespace

TEST_CASE("metrics: counters and gauges in the text format, sorted", "[metrics]") {
  Registry r;
  Counter &b = r.counter("cep_input_records_total", "Records read from an input.",
                         {{"input", "b.jsonl"}, {"outcome", "accepted"}});
  Counter &a = r.counter("cep_input_records_total", "Records read from an input.",
                         {{"input", "a.jsonl"}, {"outcome", "accepted"}});
  Gauge &runs =
      r.gauge("cep_pattern_live_runs", "Partial matches in flight.", {{"pattern", "card_testing"}});
  Gauge &lag = r.gauge("cep_watermark_lag_seconds", "How far the watermark is behind.");
  a.add();
  a.add(4);
  b.add(2);
  runs.set(12);
  lag.set(0.25);
  CHECK(text(r) == "# HELP cep_input_records_total Records read from an input.\n"
                   "# TYPE cep_input_records_total counter\n"
                   "cep_input_records_total{input=\"a.jsonl\",outcome=\"accepted\"} 5\n"
                   "cep_input_records_total{input=\"b.jsonl\",outcome=\"accepted\"} 2\n"
                   "# HELP cep_pattern_live_runs Partial matches in flight.\n"
                   "# TYPE cep_pattern_live_runs gauge\n"
                   "cep_pattern_live_runs{pattern=\"card_testing\"} 12\n"
                   "# HELP cep_watermark_lag_seconds How far the watermark is behind.\n"
                   "# TYPE cep_watermark_lag_seconds gauge\n"
                   "cep_watermark_lag_seconds 0.25\n");
  // Registering an existing series returns it.
  CHECK(&r.counter("cep_input_records_total", "Records read from an input.",
                   {{"input", "a.jsonl"}, {"outcome", "accepted"}}) == &a);
  runs.add(-2);
  CHECK(runs.value() == 10);
}

TEST_CASE("metrics: a histogram's cumulative buckets, sum and count", "[metrics]") {
  Registry r;
  const double bounds[] = {0.001, 0.01, 1};
  Histogram &h = r.histogram("cep_deploy_pause_seconds", "Event-loop pause of a deploy.", bounds);
  CHECK(text(r) == "# HELP cep_deploy_pause_seconds Event-loop pause of a deploy.\n"
                   "# TYPE cep_deploy_pause_seconds histogram\n"
                   "cep_deploy_pause_seconds_bucket{le=\"0.001\"} 0\n"
                   "cep_deploy_pause_seconds_bucket{le=\"0.01\"} 0\n"
                   "cep_deploy_pause_seconds_bucket{le=\"1\"} 0\n"
                   "cep_deploy_pause_seconds_bucket{le=\"+Inf\"} 0\n"
                   "cep_deploy_pause_seconds_sum 0\n"
                   "cep_deploy_pause_seconds_count 0\n");
  h.observe(0.0005);
  h.observe(0.001); // on a bound: in that bucket (le = less or equal)
  h.observe(0.5);
  h.observe(3);
  CHECK(text(r) == "# HELP cep_deploy_pause_seconds Event-loop pause of a deploy.\n"
                   "# TYPE cep_deploy_pause_seconds histogram\n"
                   "cep_deploy_pause_seconds_bucket{le=\"0.001\"} 2\n"
                   "cep_deploy_pause_seconds_bucket{le=\"0.01\"} 2\n"
                   "cep_deploy_pause_seconds_bucket{le=\"1\"} 3\n"
                   "cep_deploy_pause_seconds_bucket{le=\"+Inf\"} 4\n"
                   "cep_deploy_pause_seconds_sum 3.5015\n"
                   "cep_deploy_pause_seconds_count 4\n");

  Registry labelled;
  Histogram &m = labelled.histogram("cep_x_seconds", "X.", bounds, {{"mode", "keep"}});
  m.observe(0.02);
  CHECK(text(labelled) == "# HELP cep_x_seconds X.\n"
                          "# TYPE cep_x_seconds histogram\n"
                          "cep_x_seconds_bucket{mode=\"keep\",le=\"0.001\"} 0\n"
                          "cep_x_seconds_bucket{mode=\"keep\",le=\"0.01\"} 0\n"
                          "cep_x_seconds_bucket{mode=\"keep\",le=\"1\"} 1\n"
                          "cep_x_seconds_bucket{mode=\"keep\",le=\"+Inf\"} 1\n"
                          "cep_x_seconds_sum{mode=\"keep\"} 0.02\n"
                          "cep_x_seconds_count{mode=\"keep\"} 1\n");
}

TEST_CASE("metrics: a scaled counter adds integers and is written in base units", "[metrics]") {
  Registry r;
  Counter &busy = r.counter("cep_event_loop_busy_seconds_total", "Busy time.", {}, 1e-9);
  busy.add(1500000000); // 1.5 s in nanoseconds
  busy.add(250000);
  CHECK(text(r) == "# HELP cep_event_loop_busy_seconds_total Busy time.\n"
                   "# TYPE cep_event_loop_busy_seconds_total counter\n"
                   "cep_event_loop_busy_seconds_total 1.50025\n");
  CHECK_THROWS_AS(r.counter("cep_event_loop_busy_seconds_total", "Busy time.", {}, 1e-6),
                  std::invalid_argument);
  CHECK_THROWS_AS(r.counter("cep_other_total", "Other.", {}, 0), std::invalid_argument);
}

TEST_CASE("metrics: escaping of help text and label values", "[metrics]") {
  Registry r;
  r.counter("cep_a_total", "Back\\slash and\nnewline \"quoted\".",
            {{"input", "C:\\in \"x\"\nnext"}})
      .add();
  CHECK(text(r) == "# HELP cep_a_total Back\\\\slash and\\nnewline \"quoted\".\n"
                   "# TYPE cep_a_total counter\n"
                   "cep_a_total{input=\"C:\\\\in \\\"x\\\"\\nnext\"} 1\n");
}

TEST_CASE("metrics: sample values", "[metrics]") {
  auto value = [](double v) {
    std::string out;
    appendSampleValue(out, v);
    return out;
  };
  CHECK(value(0) == "0");
  CHECK(value(-3) == "-3");
  CHECK(value(1e15) == "1000000000000000");
  CHECK(value(1e20) == "1e+20");
  CHECK(value(0.1) == "0.1");
  CHECK(value(0.0005) == "0.0005");
  CHECK(value(0.00005) == "5e-05");
  CHECK(value(1.5e-7) == "1.5e-07");
  CHECK(value(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(value(-std::numeric_limits<double>::infinity()) == "-Inf");
  CHECK(value(std::nan("")) == "NaN");
}

TEST_CASE("metrics: registration rules", "[metrics]") {
  Registry r;
  CHECK_THROWS_AS(r.counter("cep_reads", "No _total."), std::invalid_argument);
  CHECK_THROWS_AS(r.gauge("1bad", "Digit first."), std::invalid_argument);
  CHECK_THROWS_AS(r.gauge("cep_bad-name", "Dash."), std::invalid_argument);
  CHECK_THROWS_AS(r.gauge("cep_g", ""), std::invalid_argument);
  CHECK_THROWS_AS(r.gauge("cep_g", "G.", {{"__x", "1"}}), std::invalid_argument);
  CHECK_THROWS_AS(r.gauge("cep_g", "G.", {{"a-b", "1"}}), std::invalid_argument);
  CHECK_THROWS_AS(r.gauge("cep_g", "G.", {{"a", "1"}, {"a", "2"}}), std::invalid_argument);
  const double bounds[] = {1, 2};
  const double unordered[] = {2, 1};
  CHECK_THROWS_AS(r.histogram("cep_h", "H.", bounds, {{"le", "1"}}), std::invalid_argument);
  CHECK_THROWS_AS(r.histogram("cep_h", "H.", unordered), std::invalid_argument);
  CHECK_THROWS_AS(r.histogram("cep_h", "H.", std::span<const double>{}), std::invalid_argument);

  r.gauge("cep_g", "G.", {{"pattern", "p"}});
  CHECK_THROWS_AS(r.counter("cep_g", "G."), std::invalid_argument); // type
  CHECK_THROWS_AS(r.gauge("cep_g", "Other help.", {{"pattern", "q"}}), std::invalid_argument);
  CHECK_THROWS_AS(r.gauge("cep_g", "G.", {{"input", "q"}}), std::invalid_argument); // label set
  CHECK_THROWS_AS(r.gauge("cep_g", "G.", {}), std::invalid_argument);
  CHECK_NOTHROW(r.gauge("cep_g", "G.", {{"pattern", "q"}}));
  const double other[] = {1, 3};
  r.histogram("cep_h", "H.", bounds, {{"m", "a"}});
  CHECK_THROWS_AS(r.histogram("cep_h", "H.", other, {{"m", "b"}}), std::invalid_argument);
}

TEST_CASE("metrics: removing a series, an empty family is not written", "[metrics]") {
  Registry r;
  r.gauge("cep_pattern_live_runs", "Runs.", {{"pattern", "a"}}).set(1);
  r.gauge("cep_pattern_live_runs", "Runs.", {{"pattern", "b"}}).set(2);
  CHECK(r.remove("cep_pattern_live_runs", {{"pattern", "a"}}));
  CHECK_FALSE(r.remove("cep_pattern_live_runs", {{"pattern", "a"}}));
  CHECK_FALSE(r.remove("cep_nothing", {}));
  CHECK(text(r) == "# HELP cep_pattern_live_runs Runs.\n"
                   "# TYPE cep_pattern_live_runs gauge\n"
                   "cep_pattern_live_runs{pattern=\"b\"} 2\n");
  CHECK(r.remove("cep_pattern_live_runs", {{"pattern", "b"}}));
  CHECK(text(r).empty());
  // Registered again after removal: a new series from zero.
  CHECK(r.gauge("cep_pattern_live_runs", "Runs.", {{"pattern", "a"}}).value() == 0);
}

TEST_CASE("metrics: one writer thread, readers exposing concurrently", "[metrics]") {
  Registry r;
  Counter &c = r.counter("cep_events_total", "Events.");
  Histogram &h = r.histogram("cep_pause_seconds", "Pauses.", kPauseBuckets);
  constexpr int kUpdates = 200000;
  std::thread writer([&] {
    for (int i = 0; i < kUpdates; ++i) {
      c.add();
      if (i % 100 == 0) {
        h.observe(0.0001 * (i % 7));
      }
    }
  });
  std::uint64_t last = 0;
  bool monotonic = true;
  for (int i = 0; i < 200; ++i) {
    std::string out;
    r.writePrometheus(out);
    std::size_t at = out.find("\ncep_events_total ");
    if (at == std::string::npos) {
      monotonic = false;
      break;
    }
    std::uint64_t now = std::stoull(out.substr(at + 18));
    monotonic = monotonic && now >= last;
    last = now;
  }
  writer.join();
  CHECK(monotonic);
  CHECK(c.value() == kUpdates);
  CHECK(h.count() == kUpdates / 100);
}
