// The runtime's records of loaded artifacts and served pattern versions (private to
// serve_runtime.cpp and serve_durable.cpp).
#pragma once

#include "runtime/engine/shadow_matcher.hpp"
#include "service/serve_runtime.hpp"

#include <chrono>
#include <deque>
#include <future>
#include <memory>
#include <optional>

namespace cep::service {

// An artifact loaded on an HTTP thread: its code and one fresh matcher per pattern.
struct ServeRuntime::Loaded : std::enable_shared_from_this<ServeRuntime::Loaded> {
  std::string name; // as the user knows it: a path, "POST /deploy"
  compiler::artifact::LoadedArtifact artifact;
  std::shared_ptr<const std::string> bytes; // the artifact as deployed (checkpoints keep it)
  std::vector<std::unique_ptr<runtime::Matcher>> matchers; // operator order
  // Parallel to matchers (patterns and aggregates in operator order: an artifact's
  // pattern_names and images list the patterns alone): each operator's name, and its pattern
  // image or, for an aggregate, its aggregate image (the other null).
  std::vector<std::string> names;
  std::vector<std::shared_ptr<const runtime::native::PatternImage>> images;
  std::vector<std::shared_ptr<const runtime::native::AggregateImage>> aggregates;
};

// One pattern version in the operator set.
struct ServeRuntime::Served {
  std::string name, version, hash;
  std::int64_t loaded_at = 0;
  bool draining = false;
  runtime::OperatorId id = 0;
  std::unique_ptr<runtime::Matcher> matcher;
  // The artifact it was loaded from: fresh matchers of the version (a rebalance replaces the
  // matcher by a fresh one holding another set of keys: serve_partitions.cpp).
  std::shared_ptr<const Loaded> loaded;
  std::shared_ptr<const runtime::Schema> schema; // the artifact's: outlives the matcher
  std::shared_ptr<const runtime::native::PatternImage> image; // its states' bounds (GET /state)
  // Set for an aggregate (spec §8; `image` is null then): its window state is kept in per-key
  // records of its own beside the patterns' state model (checkpoints, savepoints, `keep`,
  // listing); `drain` of time windows by window start (docs/serve.md "Aggregates").
  std::shared_ptr<const runtime::native::AggregateImage> aggregate;
  std::optional<ServeMetrics::Pattern> series;             // a pattern's, set once it serves
  std::optional<ServeMetrics::Aggregate> aggregate_series; // an aggregate's
  std::uint64_t late_counted_seen = 0, late_missed_seen = 0;
  // The matcher's counts when it started serving under this version (a `keep` deploy moves the
  // old version's counts in with its state).
  std::uint64_t matches_base = 0, timeouts_base = 0;
  std::uint64_t matches_seen = 0, timeouts_seen = 0;              // already added to the counters
  std::uint64_t evicted_seen[runtime::kEvictReasons] = {0, 0, 0}; // by runtime::EvictReason
  bool in_operators = true; // false once replaced (keep, fresh): retired with the deploy
  std::shared_ptr<const std::string> artifact_bytes;
  // The operator id its key records are stored under (--state), once a checkpoint wrote them:
  // a matcher that is not there yet is written whole, after the id's old records are cleared.
  std::optional<runtime::OperatorId> persisted_as;
};

// A checkpoint committing on its own thread (serve_durable.cpp).
struct ServeRuntime::PendingCheckpoint {
  struct Outcome {
    bool ok = false;
    std::string error;
    std::chrono::steady_clock::time_point finished; // when the commit returned
  };
  std::future<Outcome> outcome;
  // What the store held before (it still does if the commit fails).
  std::vector<runtime::OperatorId> old_ops;
  std::vector<std::string> old_artifacts;
  std::uint64_t keys = 0;
  std::int64_t taken_at = 0;
  std::chrono::steady_clock::time_point started;
};

} // namespace cep::service

namespace cep::service {

// One traced key (serve_trace.cpp): a shadow beside each traced served version, one tracer
// (one trace writer) for all, the lines not read yet.
struct ServeRuntime::KeyTrace {
  std::string key; // as the user wrote it
  std::vector<std::string> keys;
  bool json = false;
  std::shared_ptr<ShadowTracer> tracer;
  struct Part {
    std::string pattern, version;
    runtime::OperatorId id = 0;                       // ServeRuntime::shadowed_'s key
    runtime::ShadowMatcher::Shadow *shadow = nullptr; // in the wrapper of that operator
    std::uint64_t disagreements_seen = 0;             // already counted in the metric
  };
  std::vector<Part> parts;
  std::deque<std::string> lines; // written, not read yet (at most kMaxTraceLines)
  std::uint64_t written = 0, dropped = 0, dropped_unsaid = 0;
  std::int64_t started_at = 0;
};

} // namespace cep::service
