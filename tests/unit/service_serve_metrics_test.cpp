// service/serve_metrics: the metric names, help texts and labels of cep serve, exactly as
// docs/serve.md lists them.
#include "service/serve_metrics.hpp"

#include <catch2/catch.hpp>

using cep::runtime::metrics::Registry;
using cep::service::ServeMetrics;

namespace {

std::string text(const Registry &registry) {
  std::string out;
  registry.writePrometheus(out);
  return out;
}

} // namespace

TEST_CASE("serve metrics: the unlabelled families", "[service]") {
  Registry registry;
  ServeMetrics metrics(registry);
  metrics.busy_nanoseconds.add(2500000000);
  metrics.events_released.add(10);
  metrics.outputs.add(3);
  CHECK(text(registry) ==
        "# HELP cep_event_loop_busy_seconds_total Time the event loop spent working (not waiting "
        "for input), in seconds.\n"
        "# TYPE cep_event_loop_busy_seconds_total counter\n"
        "cep_event_loop_busy_seconds_total 2.5\n"
        "# HELP cep_events_released_total Events released in event-time order to the patterns.\n"
        "# TYPE cep_events_released_total counter\n"
        "cep_events_released_total 10\n"
        "# HELP cep_output_records_total Records written to the output (matches and timeouts).\n"
        "# TYPE cep_output_records_total counter\n"
        "cep_output_records_total 3\n"
        "# HELP cep_watermark_lag_seconds Wall-clock time minus the watermark, in seconds (NaN "
        "before the first).\n"
        "# TYPE cep_watermark_lag_seconds gauge\n"
        "cep_watermark_lag_seconds NaN\n"
        "# HELP cep_watermark_seconds The combined event-time watermark as Unix time in seconds "
        "(NaN before the first).\n"
        "# TYPE cep_watermark_seconds gauge\n"
        "cep_watermark_seconds NaN\n");
}

TEST_CASE("serve metrics: inputs, pattern versions, deploys", "[service]") {
  Registry registry;
  ServeMetrics metrics(registry);
  ServeMetrics::Input in = metrics.input("a.jsonl");
  in.read.add(4);
  in.accepted.add(2);
  in.rejected.add();
  in.watermarks.add();
  ServeMetrics::Pattern p = metrics.pattern("card_testing", "3f2a9c1d");
  p.matches.add(2);
  p.live_runs.set(5);
  p.state_bytes.set(640);
  p.evicted[static_cast<std::size_t>(cep::runtime::EvictReason::Ttl)]->add(3);
  metrics.deploys("keep", "done").add();
  metrics.deployPause("keep").observe(0.0003);
  metrics.runsDropped("card_testing", "fresh").add(7);

  const std::string all = text(registry);
  for (const char *line : {
           "cep_input_records_read_total{input=\"a.jsonl\"} 4\n",
           "cep_input_records_total{input=\"a.jsonl\",outcome=\"accepted\"} 2\n",
           "cep_input_records_total{input=\"a.jsonl\",outcome=\"late\"} 0\n",
           "cep_input_records_total{input=\"a.jsonl\",outcome=\"rejected\"} 1\n",
           "cep_input_records_total{input=\"a.jsonl\",outcome=\"watermark\"} 1\n",
           "cep_pattern_matches_total{pattern=\"card_testing\",version=\"3f2a9c1d\"} 2\n",
           "cep_pattern_timeouts_total{pattern=\"card_testing\",version=\"3f2a9c1d\"} 0\n",
           "cep_pattern_live_runs{pattern=\"card_testing\",version=\"3f2a9c1d\"} 5\n",
           "cep_pattern_keys{pattern=\"card_testing\",version=\"3f2a9c1d\"} 0\n",
           "cep_pattern_state_bytes{pattern=\"card_testing\",version=\"3f2a9c1d\"} 640\n",
           "cep_pattern_evicted_runs_total{pattern=\"card_testing\",version=\"3f2a9c1d\","
           "reason=\"ttl\"} 3\n",
           "cep_pattern_evicted_runs_total{pattern=\"card_testing\",version=\"3f2a9c1d\","
           "reason=\"max-runs-per-key\"} 0\n",
           "cep_pattern_evicted_runs_total{pattern=\"card_testing\",version=\"3f2a9c1d\","
           "reason=\"max-state-bytes\"} 0\n",
           "cep_deploys_total{mode=\"keep\",outcome=\"done\"} 1\n",
           "cep_deploy_pause_seconds_bucket{mode=\"keep\",le=\"0.0005\"} 1\n",
           "cep_deploy_pause_seconds_count{mode=\"keep\"} 1\n",
           "cep_runs_dropped_total{pattern=\"card_testing\",reason=\"fresh\"} 7\n",
           "# TYPE cep_deploy_pause_seconds histogram\n",
       }) {
    INFO(line);
    CHECK(all.find(line) != std::string::npos);
  }
  metrics.removePattern("card_testing", "3f2a9c1d");
  const std::string after = text(registry);
  CHECK(after.find("cep_pattern_") == std::string::npos);
  CHECK(after.find("cep_runs_dropped_total{pattern=\"card_testing\"") != std::string::npos);
}

TEST_CASE("serve metrics: checkpoints (--state)", "[service]") {
  Registry registry;
  ServeMetrics metrics(registry);
  metrics.checkpoints("done").add(3);
  metrics.checkpoints("failed").add();
  metrics.checkpointDuration().observe(0.004);
  metrics.checkpointPause().observe(0.0003);
  metrics.checkpointKeysWritten().add(120);
  metrics.lastCheckpoint().set(1767607201.962);
  const std::string all = text(registry);
  for (const char *line : {
           "# TYPE cep_checkpoints_total counter\n",
           "cep_checkpoints_total{outcome=\"done\"} 3\n",
           "cep_checkpoints_total{outcome=\"failed\"} 1\n",
           "# TYPE cep_checkpoint_duration_seconds histogram\n",
           "cep_checkpoint_duration_seconds_count 1\n",
           "# TYPE cep_checkpoint_pause_seconds histogram\n",
           "cep_checkpoint_pause_seconds_bucket{le=\"0.0005\"} 1\n",
           "cep_checkpoint_keys_written_total 120\n",
           "# TYPE cep_checkpoint_last_timestamp_seconds gauge\n",
           "cep_checkpoint_last_timestamp_seconds 1.767607201962e+09\n",
       }) {
    CAPTURE(line);
    CHECK(all.find(line) != std::string::npos);
  }
}
