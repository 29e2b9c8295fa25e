// `cep serve --workers N` (docs/serve.md "Workers"): one served pattern version as N matchers
// of the same version ("shards"), shard w owning the keys that hash to worker w
// (workerOf(routeHash(event), N), as `cep run --workers N` spreads them: engine/worker_pool.hpp).
//
// The worker pool drives shard(w) on worker w's thread. Everything else the server does with a
// matcher (export its state for a checkpoint, a savepoint or GET /state, restore one, move a
// version's partial matches into another in `keep` mode, drain, drop, count) goes through this
// class on the loop thread while the workers are stopped at the same step (the pool synced:
// the barrier every change of the served set waits for), and sees ONE matcher:
//
//   exportState     the shards' states merged: keys in key order, events and nodes numbered as
//                   one matcher numbers them (through the key records: runtime/state/
//                   key_record.hpp), counters summed; so the key records of a state exported
//                   under N workers are the bytes one worker's has. The peaks (peak_runs,
//                   peak_keys, ...) are the sum of each shard's peak: at least the peak of the
//                   sum, not always equal to it.
//   migrateFrom,    keep deploys: shard by shard in place when the old version is sharded the
//   adoptFrom       same way (canAdopt), else through the merged state, split again
//   restoreState    the state split by key: each key to the shard its bound events hash to
//                   (the counters to shard 0), so a state taken under any worker count
//                   restores under any other
//   exportChanges   the shards' changed keys merged in key order, one header (an aggregate's
//                   window header: the shards', equal; runtime/native/native_aggregate.hpp
//                   handles the rest of a sharded aggregate: its key records, snapshots, drains)
//
// A key whose state holds no bound event cannot be placed (nothing to hash): restoring or
// moving one throws std::runtime_error with its key and the reason.
//
//   std::vector<std::unique_ptr<Matcher>> shards = ...; // N fresh matchers of one version
//   ShardedMatcher m(std::move(shards));
//   m.shard(1)->onEvent(e, out);                          // on worker 1's thread, by the pool
//   MatcherState st; m.exportState(st);                   // loop thread, pool synced
#pragma once

#include "runtime/matcher.hpp"
#include "runtime/state/matcher_state.hpp"

#include <cstdint>
#include <memory>
#include <vector>

namespace cep::runtime {

class ShardedMatcher final : public Matcher {
public:
  // At least one shard; all fresh matchers of one pattern version.
  explicit ShardedMatcher(std::vector<std::unique_ptr<Matcher>> shards);
  ~ShardedMatcher() override;

  std::uint32_t shardCount() const { return static_cast<std::uint32_t>(shards_.size()); }
  Matcher *shard(std::uint32_t w) const { return shards_[w].get(); }
  // The shard that owns the key of `event` (its routeHash).
  std::uint32_t shardOf(const Event &event) const;

  // Single-threaded use (the loop thread, workers stopped): routed to the owning shard, or
  // given to every shard.
  void advanceTime(std::int64_t time, std::vector<MatchOutput> &out) override;
  void advanceWatermark(std::int64_t watermark, std::vector<MatchOutput> &out) override;
  void onEvent(const EventRef &event, std::vector<MatchOutput> &out) override;
  bool onLateEvent(const EventRef &event, std::vector<MatchOutput> &out) override;
  void finish(std::vector<MatchOutput> &out) override;

  MatcherStats stats() const override; // summed (peaks: the sum of the shards' peaks)
  std::int64_t nextTimer() const override;
  void snapshot(std::string &out) const override;
  void restore(std::string_view in) override;
  void exportState(MatcherState &out) const override;
  void restoreState(const MatcherState &state) override;
  void exportChanges(MatcherChanges &out) override;
  void assumeExported() override;
  MigrationReport checkMigration(const MatcherState &from) const override;
  MigrationReport migrateFrom(const MatcherState &from) override;
  // In place (Matcher::adoptFrom), shard by shard: when `old` is sharded over as many workers
  // and every shard can adopt its counterpart. A key stays on its worker: canAdopt needs the
  // same key fields, and the generated key hash depends on the key's values and kinds alone.
  bool canAdopt(const Matcher &old) const override;
  MigrationReport adoptFrom(Matcher &old) override;
  std::uint64_t routeHash(const Event &event) const override {
    return shards_[0]->routeHash(event);
  }
  const std::vector<std::uint32_t> &eventTypes() const override { return shards_[0]->eventTypes(); }
  std::string_view patternName() const override { return shards_[0]->patternName(); }
  // Every shard drains at the same switch time: the latest of the shards' (an aggregate's
  // switch time follows the latest event it counted, which differs from worker to worker;
  // one worker's is the latest of them all).
  void drain() override;
  std::int64_t drainTime() const override;
  void drainAt(std::int64_t switch_time) override;
  bool draining() const override { return shards_[0]->draining(); }
  bool drained() const override;
  std::uint64_t dropState() override;

private:
  // `state` (of the schema `events` are laid out in: `events` parallel to state.events) split
  // by key into one state per shard; the counters go to shard 0.
  std::vector<MatcherState> split(const MatcherState &state,
                                  const std::vector<EventRef> &events) const;

  std::vector<std::unique_ptr<Matcher>> shards_;
  std::vector<MatcherChanges> changes_; // scratch of exportChanges, per shard
};

} // namespace cep::runtime
