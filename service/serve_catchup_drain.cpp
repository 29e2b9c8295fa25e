// A drain's old version in a partition's catch-up (ServeRuntime::catchUpDraining; docs/kafka.md
// "Aggregates' window state" and "A partition taken over behind the member"): the partition's
// record holds entries of a version that was draining where it was written (marked draining,
// format 5) and the catch-up set has no such version (the member started after the drain, or
// its own drain ended and its rule history does not reach back to it). As a changelog restore
// does (restoreDraining), that version is served again, draining, from its artifact stored
// beside the records under `@artifact/<hash>`: its windows or runs stay its own, it writes the
// windows of its share (an aggregate's [own_from, own_before) as recorded) or finishes its runs
// and starts none (a pattern), and at the merge it joins the member's draining version of that
// name and hash, or is served again there as its own (ServeRuntime::mergeCatchUp).
#include "runtime/aggregate/snapshot_format.hpp"
#include "runtime/engine/run_loop.hpp"
#include "runtime/native/native_aggregate.hpp"
#include "runtime/state/matcher_state.hpp"
#include "runtime/state/partition_state.hpp"
#include "runtime/time/time_format.hpp"
#include "service/schema_merge.hpp"
#include "service/serve_runtime.hpp"
#include "service/serve_served.hpp"

#include <stdexcept>

namespace cep::service {

const std::shared_ptr<const std::string> &ServeRuntime::artifactBytes(const Loaded &loaded) {
  return loaded.bytes;
}

std::shared_ptr<ServeRuntime::Loaded> ServeRuntime::loadStoredArtifact(const std::string &what,
                                                                       const std::string &hash,
                                                                       const ArtifactOf &artifact,
                                                                       std::string &why_not) {
  std::optional<std::string> bytes = artifact ? artifact(hash) : std::optional<std::string>();
  if (!bytes) {
    why_not = "its artifact " + hash +
              " is not in the changelog topic (records written before format 5, or before a "
              "draining pattern's artifact was written)";
    return nullptr;
  }
  std::shared_ptr<Loaded> loaded = load(*bytes, "the changelog's " + what);
  if (loaded->artifact.hash != hash) {
    throw std::runtime_error("the artifact stored as " + hash + " hashes to " +
                             loaded->artifact.hash);
  }
  runtime::Schema merged;
  std::vector<std::string> reasons;
  if (!mergeSchema(*schema_, *loaded->artifact.schema, merged, reasons) ||
      merged.types.size() != schema_->types.size()) {
    // Its code refers to event types by their place in the server's schema (schema_merge).
    why_not =
        "its event types do not fit the server's (" +
        (reasons.empty() ? std::string("it declares types the server has not") : reasons.front()) +
        ")";
    return nullptr;
  }
  return loaded;
}

std::optional<ServeRuntime::CatchUpOperator>
ServeRuntime::catchUpDraining(const std::string &name, const std::string &hash,
                              const ChangelogPattern &entry, const PatternRecords &in,
                              std::uint64_t &next_seq, runtime::RunLoop &loop,
                              const ArtifactOf &artifact, std::vector<std::string> &lines) {
  const std::string what = name + " " + entry.version + " (draining)";
  const std::string keys = std::to_string(in.records.size()) + " keys";
  std::string why_not;
  std::shared_ptr<Loaded> loaded;
  try {
    loaded = loadStoredArtifact(what, hash, artifact, why_not);
  } catch (const std::exception &e) {
    throw std::runtime_error(what + ": " + e.what());
  }
  if (!loaded) {
    lines.push_back(what + ": NOT restored in the catch-up: " + why_not + ": the state of its " +
                    keys + " is lost");
    return std::nullopt;
  }
  CatchUpOperator op;
  op.pattern = name;
  op.version = loaded->artifact.version();
  op.hash = loaded->artifact.hash;
  op.loaded = loaded;
  op.schema = loaded->artifact.schema;
  op.draining = true;
  std::string restored;
  try {
    op.matcher = freshOperator(*loaded, name);
    op.aggregate = runtime::native::isAggregate(*op.matcher);
    if (op.aggregate) {
      const std::string_view header = runtime::aggregate::latestSnapshotHeader(in.headers);
      if (header.empty()) {
        throw std::runtime_error("its key records come without the aggregate's header");
      }
      runtime::native::restoreAggregateRecords(*op.matcher, header, in.records);
      // Its share as its writer recorded it (drain() would take the switch time from here).
      runtime::native::ownWindows(*op.matcher, entry.own_from, entry.own_before);
      restored = keys + ", " + std::to_string(op.matcher->stats().windows) +
                 " open windows (it writes those that started before " +
                 runtime::formatRfc3339(entry.own_before) + ")";
    } else {
      runtime::MatcherState empty;
      op.matcher->exportState(empty);
      op.matcher->restoreState(runtime::withKeys(empty, in.records, next_seq));
      op.matcher->drain(); // it finishes its runs and starts none, as its writer's
      restored = keys + ", " + std::to_string(op.matcher->stats().live_runs) +
                 " partial matches (it starts no new one)";
    }
  } catch (const std::exception &e) {
    throw std::runtime_error((op.aggregate ? "aggregate " : "pattern ") + what + ": " + e.what());
  }
  // An operator id of its own, never given to a version the member serves later (a rule
  // change applied to the catch-up adds the served set's ids).
  op.id = loop.operators().nextId();
  loop.operators().reserveIds(op.id + 1);
  lines.push_back(what +
                  ": served again in the catch-up, draining, from its artifact in the "
                  "changelog topic: " +
                  restored);
  return op;
}

} // namespace cep::service
