#include "service/serve_metrics.hpp"

#include <limits>
#include <string>

namespace cep::service {

namespace {

using runtime::metrics::Labels;

constexpr const char *kRead = "cep_input_records_read_total";
constexpr const char *kReadHelp = "Records (lines) read from an input.";
constexpr const char *kRecords = "cep_input_records_total";
constexpr const char *kRecordsHelp =
    "Records read from an input, by outcome: accepted, rejected (dead letter), late, watermark.";
constexpr const char *kMatches = "cep_pattern_matches_total";
constexpr const char *kMatchesHelp = "Matches written by a pattern version.";
constexpr const char *kTimeouts = "cep_pattern_timeouts_total";
constexpr const char *kTimeoutsHelp = "Timeout records written by a pattern version.";
constexpr const char *kLiveRuns = "cep_pattern_live_runs";
constexpr const char *kLiveRunsHelp = "Partial matches in flight in a pattern version.";
constexpr const char *kKeys = "cep_pattern_keys";
constexpr const char *kKeysHelp = "Partition keys with at least one partial match.";
constexpr const char *kStateBytes = "cep_pattern_state_bytes";
constexpr const char *kStateBytesHelp =
    "Accounted state of a pattern version in bytes (docs/semantics.md section 9).";
constexpr const char *kEvicted = "cep_pattern_evicted_runs_total";
constexpr const char *kEvictedHelp =
    "Partial matches evicted by a state bound (--max-runs-per-key, --max-state-bytes, "
    "--key-ttl), by reason.";
constexpr runtime::EvictReason kReasons[] = {
    runtime::EvictReason::RunsPerKey, runtime::EvictReason::StateBytes, runtime::EvictReason::Ttl};
constexpr const char *kDropped = "cep_runs_dropped_total";
constexpr const char *kDroppedHelp =
    "Partial matches dropped by a fresh deploy or a drop undeploy.";
constexpr const char *kDeploys = "cep_deploys_total";
constexpr const char *kDeploysHelp = "Deploys by mode and outcome (done, refused).";
constexpr const char *kUndeploys = "cep_undeploys_total";
constexpr const char *kUndeploysHelp = "Undeploys by mode and outcome (done, refused).";
constexpr const char *kPause = "cep_deploy_pause_seconds";
constexpr const char *kPauseHelp = "How long a deploy held the event loop, in seconds.";

Labels patternLabels(std::string_view name, std::string_view version) {
  return {{"pattern", std::string(name)}, {"version", std::string(version)}};
}

} // namespace

ServeMetrics::ServeMetrics(runtime::metrics::Registry &registry)
    : watermark_seconds(registry.gauge(
          "cep_watermark_seconds",
          "The combined event-time watermark as Unix time in seconds (NaN before the first).")),
      watermark_lag_seconds(registry.gauge(
          "cep_watermark_lag_seconds",
          "Wall-clock time minus the watermark, in seconds (NaN before the first).")),
      busy_nanoseconds(registry.counter("cep_event_loop_busy_seconds_total",
                                        "Time the event loop spent working (not waiting for "
                                        "input), in seconds.",
                                        {}, 1e-9)),
      events_released(registry.counter("cep_events_released_total",
                                       "Events released in event-time order to the patterns.")),
      outputs(registry.counter("cep_output_records_total",
                               "Records written to the output (matches and timeouts).")),
      registry_(registry) {
  watermark_seconds.set(std::numeric_limits<double>::quiet_NaN());
  watermark_lag_seconds.set(std::numeric_limits<double>::quiet_NaN());
}

ServeMetrics::Input ServeMetrics::input(std::string_view name) {
  const std::string input(name);
  auto outcome = [&](const char *o) -> Counter & {
    return registry_.counter(kRecords, kRecordsHelp, {{"input", input}, {"outcome", o}});
  };
  return Input{registry_.counter(kRead, kReadHelp, {{"input", input}}),
               outcome("accepted"),
               outcome("rejected"),
               outcome("late"),
               outcome("watermark"),
               registry_.gauge("cep_input_watermark_seconds",
                               "The watermark of one input (a Kafka partition: its own), Unix "
                               "seconds.",
                               {{"input", input}})};
}

ServeMetrics::Pattern ServeMetrics::pattern(std::string_view name, std::string_view version) {
  const Labels labels = patternLabels(name, version);
  Pattern p{registry_.counter(kMatches, kMatchesHelp, labels),
            registry_.counter(kTimeouts, kTimeoutsHelp, labels),
            registry_.gauge(kLiveRuns, kLiveRunsHelp, labels),
            registry_.gauge(kKeys, kKeysHelp, labels),
            registry_.gauge(kStateBytes, kStateBytesHelp, labels),
            {}};
  for (runtime::EvictReason reason : kReasons) {
    Labels with = labels;
    with.emplace_back("reason", std::string(runtime::evictReasonName(reason)));
    p.evicted[static_cast<std::size_t>(reason)] = &registry_.counter(kEvicted, kEvictedHelp, with);
  }
  return p;
}

void ServeMetrics::removePattern(std::string_view name, std::string_view version) {
  const Labels labels = patternLabels(name, version);
  for (const char *family : {kMatches, kTimeouts, kLiveRuns, kKeys, kStateBytes}) {
    registry_.remove(family, labels);
  }
  for (runtime::EvictReason reason : kReasons) {
    Labels with = labels;
    with.emplace_back("reason", std::string(runtime::evictReasonName(reason)));
    registry_.remove(kEvicted, with);
  }
}

namespace {

constexpr const char *kAggRecords = "cep_aggregate_records_total";
constexpr const char *kAggWindows = "cep_aggregate_open_windows";
constexpr const char *kAggKeys = "cep_aggregate_keys";
constexpr const char *kAggBytes = "cep_aggregate_state_bytes";
constexpr const char *kAggLate = "cep_aggregate_late_events_total";
constexpr const char *kAggLateHelp =
    "Late events (spec section 4) of an aggregate's step, by outcome: counted (a window of theirs "
    "had not fired yet, or is open within `lateness`), or missed (too late for any window; to "
    "the late output unless another operator took them).";

Labels aggregateLabels(std::string_view name, std::string_view version) {
  return {{"aggregate", std::string(name)}, {"version", std::string(version)}};
}

Labels withOutcome(Labels labels, const char *outcome) {
  labels.emplace_back("outcome", outcome);
  return labels;
}

} // namespace

ServeMetrics::Aggregate ServeMetrics::aggregate(std::string_view name, std::string_view version) {
  const Labels labels = aggregateLabels(name, version);
  return Aggregate{
      registry_.counter(kAggRecords,
                        "Records written by an aggregate version (windows fired, "
                        "revisions).",
                        labels),
      registry_.gauge(kAggWindows,
                      "Open windows of an aggregate version (panes, sessions, running cells, "
                      "rolling entries).",
                      labels),
      registry_.gauge(kAggKeys, "Keys with window state in an aggregate version.", labels),
      registry_.gauge(kAggBytes, "Window state of an aggregate version in bytes.", labels),
      registry_.counter(kAggLate, kAggLateHelp, withOutcome(labels, "counted")),
      registry_.counter(kAggLate, kAggLateHelp, withOutcome(labels, "missed"))};
}

void ServeMetrics::removeAggregate(std::string_view name, std::string_view version) {
  const Labels labels = aggregateLabels(name, version);
  for (const char *family : {kAggRecords, kAggWindows, kAggKeys, kAggBytes}) {
    registry_.remove(family, labels);
  }
  registry_.remove(kAggLate, withOutcome(labels, "counted"));
  registry_.remove(kAggLate, withOutcome(labels, "missed"));
}

ServeMetrics::Counter &ServeMetrics::runsDropped(std::string_view pattern,
                                                 std::string_view reason) {
  return registry_.counter(kDropped, kDroppedHelp,
                           {{"pattern", std::string(pattern)}, {"reason", std::string(reason)}});
}

ServeMetrics::Counter &ServeMetrics::deploys(std::string_view mode, std::string_view outcome) {
  return registry_.counter(kDeploys, kDeploysHelp,
                           {{"mode", std::string(mode)}, {"outcome", std::string(outcome)}});
}

ServeMetrics::Counter &ServeMetrics::undeploys(std::string_view mode, std::string_view outcome) {
  return registry_.counter(kUndeploys, kUndeploysHelp,
                           {{"mode", std::string(mode)}, {"outcome", std::string(outcome)}});
}

ServeMetrics::Counter &ServeMetrics::checkpoints(std::string_view outcome) {
  return registry_.counter("cep_checkpoints_total",
                           "Checkpoints of the state (--state), by outcome.",
                           {{"outcome", std::string(outcome)}});
}

ServeMetrics::Histogram &ServeMetrics::checkpointDuration() {
  return registry_.histogram("cep_checkpoint_duration_seconds",
                             "How long a checkpoint took from its cut to its commit (outputs "
                             "synced, atomic commit), in seconds.",
                             runtime::metrics::kPauseBuckets);
}

ServeMetrics::Histogram &ServeMetrics::checkpointPause() {
  return registry_.histogram("cep_checkpoint_pause_seconds",
                             "How long a checkpoint held the event loop (flush, export of the "
                             "changed keys, the batch), in seconds.",
                             runtime::metrics::kPauseBuckets);
}

ServeMetrics::Counter &ServeMetrics::checkpointKeysWritten() {
  return registry_.counter("cep_checkpoint_keys_written_total",
                           "Key records written or erased by checkpoints (incremental: only "
                           "the keys that changed).");
}

ServeMetrics::Gauge &ServeMetrics::lastCheckpoint() {
  return registry_.gauge("cep_checkpoint_last_timestamp_seconds",
                         "Unix time of the last complete checkpoint, in seconds.");
}

ServeMetrics::Counter &ServeMetrics::savepoints(std::string_view outcome) {
  return registry_.counter("cep_savepoints_total",
                           "Savepoints asked for (POST /savepoint), by outcome.",
                           {{"outcome", std::string(outcome)}});
}

ServeMetrics::Histogram &ServeMetrics::savepointDuration() {
  return registry_.histogram("cep_savepoint_duration_seconds",
                             "How long a savepoint held the event loop (flush, export of every "
                             "key, encoding), in seconds.",
                             runtime::metrics::kPauseBuckets);
}

ServeMetrics::Gauge &ServeMetrics::lastSavepointBytes() {
  return registry_.gauge("cep_savepoint_last_bytes", "Size of the last savepoint made, in bytes.");
}

ServeMetrics::Histogram &ServeMetrics::deployPause(std::string_view mode) {
  return registry_.histogram(kPause, kPauseHelp, runtime::metrics::kPauseBuckets,
                             {{"mode", std::string(mode)}});
}

} // namespace cep::service
