// The metrics of `cep serve`, by name, help text and label set, registered in one place so the
// names in docs/serve.md ("Admin endpoint and metrics") are the names exposed. The event loop
// thread registers a series when an input opens or a pattern version loads, keeps the references
// and updates them without locks; it removes a pattern version's series when that version is
// unloaded (after its last update). Labels are bounded: input names, pattern names and versions,
// deploy modes and outcomes; never keys or field values.
//
// Example (event loop thread):
//   runtime::metrics::Registry registry;
//   ServeMetrics metrics(registry);
//   ServeMetrics::Input in = metrics.input("payments.jsonl");
//   in.read.add(); in.accepted.add();
//   ServeMetrics::Pattern p = metrics.pattern("card_testing", "3f2a9c1d");
//   p.matches.add(); p.live_runs.set(12);
//   p.evicted[static_cast<std::size_t>(runtime::EvictReason::Ttl)]->add(3);
//   metrics.watermark_seconds.set(1767607200.0);
//   metrics.deploys("keep", "done").add();
//   metrics.deployPause("keep").observe(0.0004);
//   metrics.removePattern("card_testing", "3f2a9c1d");   // on unload
//   ServeMetrics::Aggregate a = metrics.aggregate("uses_per_hour", "3f2a9c1d");
//   a.records.add(); a.windows.set(40);
#pragma once

#include "runtime/metrics/registry.hpp"
#include "runtime/state_bounds.hpp"

#include <array>
#include <string_view>

namespace cep::service {

class ServeMetrics {
public:
  using Counter = runtime::metrics::Counter;
  using Gauge = runtime::metrics::Gauge;
  using Histogram = runtime::metrics::Histogram;

  explicit ServeMetrics(runtime::metrics::Registry &registry);

  // Per input (label `input`: the input's name as given to -i).
  struct Input {
    Counter &read;       // cep_input_records_read_total: lines read (the sum of the others)
    Counter &accepted;   // cep_input_records_total{outcome="accepted"}
    Counter &rejected;   // ...{outcome="rejected"}: dead letters
    Counter &late;       // ...{outcome="late"}
    Counter &watermarks; // ...{outcome="watermark"}: {"@watermark": ms} lines
    // cep_input_watermark_seconds: the input's own watermark, Unix seconds (a Kafka partition's
    // is its per-partition watermark); absent until it has one.
    Gauge &watermark;
  };
  Input input(std::string_view name);

  // Per loaded pattern version (labels `pattern`, `version`).
  struct Pattern {
    Counter &matches;   // cep_pattern_matches_total
    Counter &timeouts;  // cep_pattern_timeouts_total
    Gauge &live_runs;   // cep_pattern_live_runs
    Gauge &keys;        // cep_pattern_keys
    Gauge &state_bytes; // cep_pattern_state_bytes
    // cep_pattern_evicted_runs_total{pattern, version, reason}: partial matches evicted by a
    // state bound, by runtime::EvictReason (reason "max-runs-per-key", "max-state-bytes", "ttl").
    std::array<Counter *, runtime::kEvictReasons> evicted;
  };
  Pattern pattern(std::string_view name, std::string_view version);
  // Removes the version's series (on unload); the caller no longer uses its Pattern.
  void removePattern(std::string_view name, std::string_view version);

  // Per loaded aggregate version (spec §8; labels `aggregate`, `version`).
  struct Aggregate {
    Counter &records;   // cep_aggregate_records_total: records written (windows fired, revisions)
    Gauge &windows;     // cep_aggregate_open_windows: panes, sessions, running cells, entries
    Gauge &keys;        // cep_aggregate_keys: keys with state
    Gauge &state_bytes; // cep_aggregate_state_bytes
    Counter &late_counted; // cep_aggregate_late_events_total{outcome="counted"}: a window took it
    Counter &late_missed;  // ...{outcome="missed"}: too late for any window of this aggregate
  };
  Aggregate aggregate(std::string_view name, std::string_view version);
  void removeAggregate(std::string_view name, std::string_view version);

  // cep_runs_dropped_total{pattern, reason="fresh"|"drop"}: partial matches dropped by a `fresh`
  // deploy or a `drop` undeploy.
  Counter &runsDropped(std::string_view pattern, std::string_view reason);
  // cep_deploys_total{mode, outcome="done"|"refused"} and cep_undeploys_total{mode, outcome}.
  Counter &deploys(std::string_view mode, std::string_view outcome);
  Counter &undeploys(std::string_view mode, std::string_view outcome);
  // cep_deploy_pause_seconds{mode}: how long a deploy held the event loop.
  Histogram &deployPause(std::string_view mode);

  // Durable state (--state; registered on first use, so a server without it shows none):
  // cep_checkpoints_total{outcome="done"|"failed"}, cep_checkpoint_duration_seconds (from the
  // cut to the commit), cep_checkpoint_pause_seconds (what the event loop spent on it: flush,
  // export, the batch; the sync and commit run beside the loop),
  // cep_checkpoint_keys_written_total (key records put or erased),
  // cep_checkpoint_last_timestamp_seconds (Unix time of the last complete checkpoint).
  Counter &checkpoints(std::string_view outcome);
  Histogram &checkpointDuration();
  Histogram &checkpointPause();
  Counter &checkpointKeysWritten();
  Gauge &lastCheckpoint();

  // Savepoints (POST /savepoint; registered on first use): cep_savepoints_total{outcome="done"|
  // "refused"|"failed"}, cep_savepoint_duration_seconds (how long one held the event loop),
  // cep_savepoint_last_bytes (the size of the last one made).
  Counter &savepoints(std::string_view outcome);
  Histogram &savepointDuration();
  Gauge &lastSavepointBytes();

  // Unlabelled, registered by the constructor.
  Gauge &watermark_seconds;     // cep_watermark_seconds: the combined watermark, Unix seconds
  Gauge &watermark_lag_seconds; // cep_watermark_lag_seconds: wall clock minus the watermark
  Counter &busy_nanoseconds;    // cep_event_loop_busy_seconds_total (add nanoseconds)
  Counter &events_released;     // cep_events_released_total: events handed to the matchers
  Counter &outputs;             // cep_output_records_total: records written to the output

private:
  runtime::metrics::Registry &registry_;
};

} // namespace cep::service
