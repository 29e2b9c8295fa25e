// `cep serve --state DIR` (docs/state.md): the runtime's checkpoints into the RocksDB store and
// its restore at start-up. A checkpoint is cut on the loop thread between two released events:
// the outputs are flushed, every served matcher gives the keys that changed since the last
// checkpoint (Matcher::exportChanges), and one atomic batch gets them with the meta record
// (serve_checkpoint.hpp) and the artifacts not stored yet. Filling the batch with the records,
// the outputs' fdatasync and the batch's commit then run on a thread of their own (std::async)
// while the loop goes on; the next checkpoint first waits for it (one in flight at most).
#include "runtime/engine/run_loop.hpp"
#include "runtime/engine/run_snapshot.hpp"
#include "runtime/io/stop_signals.hpp"
#include "runtime/metrics/registry.hpp"
#include "runtime/native/native_aggregate.hpp"
#include "runtime/state/key_record.hpp"
#include "runtime/state/matcher_state.hpp"
#include "runtime/state/store/checkpoint_store.hpp"
#include "runtime/time/time_format.hpp"
#include "service/serve_runtime.hpp"
#include "service/serve_served.hpp"
#include "support/internal_error.hpp"

#include <algorithm>
#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <set>
#include <stdexcept>
#include <tuple>

namespace cep::service {

bool ServeRuntime::awaitCheckpoint(std::string &error) {
  if (!pending_) {
    return true;
  }
  std::unique_ptr<PendingCheckpoint> pending = std::move(pending_);
  PendingCheckpoint::Outcome outcome = pending->outcome.get();
  if (!outcome.ok) {
    // What exportChanges handed out is not on disk: the next checkpoint writes every matcher
    // whole, against what the store still holds.
    for (const auto &served : served_) {
      served->persisted_as.reset();
    }
    persisted_ops_ = std::move(pending->old_ops);
    persisted_artifacts_ = std::move(pending->old_artifacts);
    ++checkpoint_failures_;
    metrics_.checkpoints("failed").add();
    error = std::move(outcome.error);
    return false;
  }
  ++checkpoints_;
  metrics_.checkpoints("done").add();
  metrics_.checkpointDuration().observe(
      std::chrono::duration<double>(outcome.finished - pending->started).count());
  metrics_.checkpointKeysWritten().add(pending->keys);
  metrics_.lastCheckpoint().set(static_cast<double>(pending->taken_at) / 1000.0);
  return true;
}

bool ServeRuntime::checkpoint(runtime::RunLoop &loop, std::string &error, bool wait) {
  CEP_ASSERT(options_.store != nullptr, "a checkpoint without a store");
  auto started = std::chrono::steady_clock::now();
  if (transaction_failure_ != TransactionStep::Committed) {
    error = "no checkpoint after a failed Kafka transaction (" + transaction_error_ + ")";
    return false;
  }
  const bool transactional = static_cast<bool>(options_.commit_transaction);
  wait = wait || transactional;
  // The store is used by one thread at a time: the previous commit ends before begin().
  if (std::string previous; !awaitCheckpoint(previous)) {
    options_.log("checkpoint failed: " + previous);
  }
  if (!loop.flush()) {
    error = "the outputs could not be written: " + loop.message();
    return false;
  }
  runtime::store::CheckpointStore &store = *options_.store;
  auto batch = store.begin();
  ServeMeta meta;
  describeServer(loop, meta);

  std::vector<Served *> order;
  for (const auto &served : served_) {
    order.push_back(served.get());
  }
  std::sort(order.begin(), order.end(),
            [](const Served *a, const Served *b) { return a->id < b->id; });
  std::set<runtime::OperatorId> live;
  std::set<std::string> hashes;
  std::uint64_t keys_put = 0, keys_erased = 0;
  // What goes into the batch; the records are moved into it on the commit thread (a checkpoint
  // of many changed keys would otherwise copy every record into the batch on the loop).
  struct OperatorWrite {
    runtime::OperatorId id = 0;
    bool drop = false; // the id's old records go first
    runtime::MatcherChanges changes;
  };
  std::vector<OperatorWrite> writes;
  for (Served *served : order) {
    live.insert(served->id);
    OperatorWrite &write = writes.emplace_back();
    write.id = served->id;
    runtime::MatcherChanges &changes = write.changes;
    served->matcher->exportChanges(changes);
    if (changes.full) {
      // Its first export (a new version): the id's old records go, `put` is the whole state.
      write.drop = true;
    } else if (served->persisted_as != served->id) {
      // Not stored under this id (a drain renumbered it; a checkpoint failed): the id's old
      // records go and the matcher is written whole.
      write.drop = true;
      changes.put.clear();
      changes.erased.clear();
      if (served->aggregate) {
        runtime::native::exportAggregateRecords(*served->matcher, changes);
      } else {
        runtime::MatcherState whole;
        served->matcher->exportState(whole);
        for (std::size_t k = 0; k < whole.keys.size(); ++k) {
          std::string record;
          runtime::encodeKeyRecord(whole, k, record);
          changes.put.emplace_back(whole.keys[k].key_json, std::move(record));
        }
      }
    }
    keys_put += changes.put.size();
    keys_erased += changes.erased.size();
    if (hashes.insert(served->hash).second &&
        std::find(persisted_artifacts_.begin(), persisted_artifacts_.end(), served->hash) ==
            persisted_artifacts_.end()) {
      batch.putArtifact(served->hash, *served->artifact_bytes);
    }
    ServedState &s = meta.served.emplace_back(servedState(*served));
    s.matcher_header = changes.header; // a copy: on_changes reads it too (an aggregate's header)
  }
  for (runtime::OperatorId op : persisted_ops_) {
    if (!live.count(op)) {
      batch.dropOperator(op);
    }
  }
  for (const std::string &hash : persisted_artifacts_) {
    if (!hashes.count(hash)) {
      batch.eraseArtifact(hash);
    }
  }
  if (options_.on_changes) {
    std::vector<ServedChanges> all;
    for (std::size_t i = 0; i < order.size(); ++i) {
      ServedChanges &c = all.emplace_back();
      c.id = order[i]->id;
      c.pattern = order[i]->name;
      c.version = order[i]->version;
      c.hash = order[i]->hash;
      c.whole = writes[i].drop;
      c.draining = order[i]->draining;
      c.changes = &writes[i].changes;
      if (order[i]->aggregate) {
        std::tie(c.own_from, c.own_before) = runtime::native::ownedWindows(*order[i]->matcher);
      }
      c.artifact = order[i]->artifact_bytes;
    }
    options_.on_changes(all);
  }
  if (options_.describe_io) {
    options_.describe_io(meta);
  }
  std::string bytes;
  encodeServeMeta(meta, bytes);
  batch.setMeta(std::move(bytes));
  std::optional<ServeMeta> transaction_meta; // written again once its transaction committed
  if (transactional) {
    transaction_meta = std::move(meta);
  }

  // The commit (after the outputs' sync) runs on its own thread; the loop goes on. Taken as
  // committed until awaitCheckpoint says otherwise.
  auto pending = std::make_unique<PendingCheckpoint>();
  pending->old_ops = std::move(persisted_ops_);
  pending->old_artifacts = std::move(persisted_artifacts_);
  pending->keys = keys_put + keys_erased;
  pending->taken_at = meta.taken_at;
  pending->started = started;
  for (Served *served : order) {
    served->persisted_as = served->id;
  }
  persisted_ops_.assign(live.begin(), live.end());
  persisted_artifacts_.assign(hashes.begin(), hashes.end());
  pending->outcome = std::async(std::launch::async,
                                [&store, sync = options_.sync_outputs, batch = std::move(batch),
                                 writes = std::move(writes)]() mutable {
                                  for (OperatorWrite &write : writes) {
                                    if (write.drop) {
                                      batch.dropOperator(write.id);
                                    }
                                    for (auto &[key, record] : write.changes.put) {
                                      batch.putMoved(write.id, std::move(key), std::move(record));
                                    }
                                    for (std::string &key : write.changes.erased) {
                                      batch.erase(write.id, key);
                                    }
                                  }
                                  writes.clear(); // the records' memory goes back before the commit
                                  PendingCheckpoint::Outcome outcome;
                                  if (!sync || sync(outcome.error)) {
                                    outcome.ok = store.commit(std::move(batch), outcome.error);
                                  }
                                  outcome.finished = std::chrono::steady_clock::now();
                                  return outcome;
                                });
  pending_ = std::move(pending);
  metrics_.checkpointPause().observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  if (!wait) {
    return true;
  }
  if (!awaitCheckpoint(error)) {
    return false; // the transaction stays open: the next checkpoint commits its records too
  }
  return !transaction_meta || commitTransaction(*transaction_meta, started, error);
}

bool ServeRuntime::commitTransaction(ServeMeta &meta, std::chrono::steady_clock::time_point started,
                                     std::string &error) {
  TransactionStep step = options_.commit_transaction(meta, error);
  if (step == TransactionStep::Committed) {
    registry_
        .histogram("cep_kafka_checkpoint_commit_seconds",
                   "From a checkpoint's cut to the commit of its Kafka transaction, in seconds.",
                   runtime::metrics::kPauseBuckets)
        .observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    // "committed N": the meta alone, again (no key record changes).
    auto batch = options_.store->begin();
    std::string bytes;
    encodeServeMeta(meta, bytes);
    batch.setMeta(std::move(bytes));
    std::string why;
    if (options_.store->commit(std::move(batch), why)) {
      return true;
    }
    // The transaction committed but the store cannot say so: a restart decides from the
    // group's committed offsets (docs/kafka.md). Going on would stack checkpoints on it.
    step = TransactionStep::Fatal;
    error = "the transaction committed, but marking its checkpoint committed failed: " + why;
  }
  transaction_failure_ = step;
  transaction_error_ = error;
  options_.log(std::string(step == TransactionStep::Rewind
                               ? "Kafka transaction aborted; rewinding to the last committed "
                                 "checkpoint: "
                               : "Kafka transaction failed; stopping: ") +
               error);
  if (runtime::stopSignal() == 0) { // a stop asked from outside stays a stop
    runtime::requestStop(kRewindStop);
  }
  return false;
}

void ServeRuntime::describeServer(runtime::RunLoop &loop, ServeMeta &meta) {
  meta.taken_at = now();
  meta.next_operator_id = loop.operators().nextId();
  meta.schema = *schema_;
  runtime::snapshotRun(loop, meta.run, {}, /*with_patterns=*/false);
  // The windows each version of a drained aggregate writes (its key records do not say).
  std::string owners;
  runtime::SnapshotWriter w(owners);
  std::uint32_t count = 0;
  for (const auto &served : served_) {
    if (served->aggregate) {
      auto [from, before] = runtime::native::ownedWindows(*served->matcher);
      if (from != INT64_MIN || before != INT64_MAX) {
        w.u32(served->id);
        w.i64(from);
        w.i64(before);
        ++count;
      }
    }
  }
  if (count > 0) {
    meta.sections.emplace_back(kWindowOwnersSection, std::move(owners));
  }
}

ServedState ServeRuntime::servedState(const Served &served) const {
  ServedState s;
  s.operator_id = served.id;
  s.pattern = served.name;
  s.version = served.version;
  s.artifact_hash = served.hash;
  s.loaded_at = served.loaded_at;
  s.draining = served.draining;
  s.matches_base = served.matches_base;
  s.timeouts_base = served.timeouts_base;
  return s;
}

bool ServeRuntime::restoreAtStart(ServeMeta &meta, std::string &report) {
  CEP_ASSERT(options_.store != nullptr, "a restore without a store");
  std::string error;
  auto reader = options_.store->read(error);
  if (!reader) {
    if (!error.empty()) {
      throw std::runtime_error(error);
    }
    return false;
  }
  meta = decodeServeMeta(reader->meta);
  std::string restored = restoreServed(
      meta,
      [&](const ServedState &s) {
        std::optional<std::string> bytes = reader->artifact(s.artifact_hash, error);
        if (!error.empty()) {
          throw std::runtime_error(error);
        }
        if (!bytes) {
          throw std::runtime_error("bad serve checkpoint: the artifact " + s.artifact_hash +
                                   " of pattern `" + s.pattern + "` is not in the store");
        }
        std::shared_ptr<Loaded> artifact =
            load(*bytes, "the " + s.version + " of pattern `" + s.pattern + "`");
        if (artifact->artifact.hash != s.artifact_hash) {
          throw std::runtime_error("the artifact stored as " + s.artifact_hash + " hashes to " +
                                   artifact->artifact.hash);
        }
        return artifact;
      },
      [&](const ServedState &s) {
        std::vector<std::string> records;
        if (!reader->forEach(
                s.operator_id,
                [&](std::string_view, std::string_view value) { records.emplace_back(value); },
                error)) {
          throw std::runtime_error(error);
        }
        return records;
      },
      /*persisted=*/true);
  if (!reader->fallback_reason.empty()) {
    // "checkpoint N is damaged (...)", or "is discarded (...)" (a Kafka transaction that did
    // not commit, docs/kafka.md)
    options_.log("the latest checkpoint is not used (" + reader->fallback_reason +
                 "): restoring the one before it");
  }
  report = "restored checkpoint " + std::to_string(reader->id) + " (taken " +
           runtime::formatRfc3339(meta.taken_at) + "): " + restored;
  return true;
}

std::string ServeRuntime::restoreServed(
    const ServeMeta &meta,
    const std::function<std::shared_ptr<Loaded>(const ServedState &)> &artifact_of,
    const std::function<std::vector<std::string>(const ServedState &)> &key_records,
    bool persisted) {
  CEP_ASSERT(served_.empty() && at_start_.empty() && !loop_started_,
             "a restore after patterns were loaded");
  auto schema = std::make_shared<const runtime::Schema>(meta.schema);
  schema_ = schema;
  schemas_.push_back(schema_);

  std::map<std::string, std::shared_ptr<Loaded>> loaded; // by hash
  // describeServer's section: operator id -> the windows it writes.
  std::map<std::uint32_t, std::pair<std::int64_t, std::int64_t>> owners;
  if (const std::string *bytes = meta.section(kWindowOwnersSection)) {
    runtime::SnapshotReader r(*bytes, "window owners");
    while (!r.atEnd()) {
      std::uint32_t id = r.u32();
      std::int64_t from = r.i64();
      owners[id] = {from, r.i64()};
    }
  }
  std::uint64_t keys = 0, runs = 0;
  std::string patterns;
  for (const ServedState &s : meta.served) {
    std::shared_ptr<Loaded> &artifact = loaded[s.artifact_hash];
    if (!artifact) {
      artifact = artifact_of(s);
    }
    auto served = std::make_unique<Served>();
    served->name = s.pattern;
    served->version = artifact->artifact.version();
    served->hash = artifact->artifact.hash;
    served->loaded_at = s.loaded_at;
    served->draining = s.draining;
    served->id = s.operator_id;
    served->schema = artifact->artifact.schema;
    served->artifact_bytes = artifact->bytes;
    served->loaded = artifact;
    served->matches_base = s.matches_base;
    served->timeouts_base = s.timeouts_base;
    for (std::size_t i = 0; i < artifact->matchers.size(); ++i) {
      if (artifact->matchers[i] && artifact->names[i] == s.pattern) {
        served->matcher = std::move(artifact->matchers[i]);
        served->image = artifact->images[i];
        served->aggregate = artifact->aggregates[i];
        break;
      }
    }
    if (!served->matcher) {
      throw std::runtime_error("pattern `" + s.pattern + "` is not in its artifact " +
                               artifact->artifact.version() + " (or appears twice)");
    }
    std::vector<std::string> records = key_records(s);
    std::vector<std::string_view> views(records.begin(), records.end());
    try {
      if (served->aggregate) {
        runtime::native::restoreAggregateRecords(*served->matcher, s.matcher_header, views);
        if (auto owned = owners.find(s.operator_id); owned != owners.end()) {
          runtime::native::ownWindows(*served->matcher, owned->second.first, owned->second.second);
        }
      } else {
        runtime::MatcherState state =
            runtime::assembleMatcherState(s.matcher_header, views, served->schema, served->name);
        served->matcher->restoreState(state);
      }
    } catch (const std::runtime_error &e) {
      throw std::runtime_error("pattern `" + s.pattern + "` " + s.version + ": " + e.what());
    }
    if (persisted) {
      served->matcher->assumeExported(); // what the store holds already: not written again
      served->persisted_as = served->id; // the store holds exactly this
      persisted_ops_.push_back(served->id);
    }
    runtime::MatcherStats stats = served->matcher->stats();
    keys += stats.live_keys;
    runs += stats.live_runs;
    patterns += (patterns.empty() ? "" : ", ") + s.pattern + " " + served->version +
                (s.draining ? " (draining)" : "");
    served_.push_back(std::move(served));
  }
  if (persisted) {
    for (const auto &[hash, artifact] : loaded) {
      persisted_artifacts_.push_back(hash);
    }
  }
  restored_ = meta;
  return (patterns.empty() ? std::string("no pattern") : patterns) + "; " + std::to_string(keys) +
         " keys, " + std::to_string(runs) + " partial matches";
}

} // namespace cep::service
