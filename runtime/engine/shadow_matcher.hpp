// A native matcher with a shadow interpreter matcher beside it, for one traced key (`cep run
// --engine jit --trace KEY` and `cep serve`'s traces, docs/debugging.md): the native matcher runs
// as always and writes every output; the shadow (compiler/interp/nfa_matcher.hpp with an
// only-traced TraceTarget) is fed the same events and time advances, keeps the traced key's
// state only and writes the trace. The interpreter stays the one source of truth for why a
// match (did not) fire, and each call checks that the native matcher's records of the traced key
// equal the shadow's (the engines agree exactly, docs/semantics.md): a difference is a bug,
// counted and described here.
//
// Everything but the calls that match (snapshots, state, migration, draining) goes to the
// native matcher alone: `cep run` refuses --trace with a run cut (--snapshot-after, --resume);
// `cep serve` puts the wrapper in the loop's operator set only, beside the native matcher it
// serves (service/serve_trace.cpp), and takes it out when the trace stops.
//
// Engine-free (runtime/): the shadow is any Matcher, so `cep serve` (which links no front end)
// gets it from the `cep` command's factory (service/serve_trace.hpp).
#pragma once

#include "runtime/matcher.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace cep::runtime {

class ShadowMatcher : public Matcher {
public:
  // One shadow: a matcher tracing some keys only, and what comparing it found.
  struct Shadow {
    std::shared_ptr<void> keep; // destroyed after `matcher`
    std::unique_ptr<Matcher> matcher;
    std::vector<std::string> key_markers; // `,"@key":K,"@start":` for each accepted key text
    std::vector<MatchOutput> out;
    std::uint64_t compared = 0;
    std::uint64_t disagreements = 0;
    std::string first_difference;
  };

  // `shadow` must already trace `keys` (their "@key" JSON texts) only. Owns the native matcher.
  ShadowMatcher(std::unique_ptr<Matcher> native, std::unique_ptr<Matcher> shadow,
                std::vector<std::string> keys);
  // Borrows `native` (which outlives it), with no shadow yet (`cep serve`: addShadow per key).
  explicit ShadowMatcher(Matcher &native);
  ~ShadowMatcher() override;

  // Another shadow beside the others (`keep`: what it borrows, destroyed after it); the handle
  // stays valid until removeShadow.
  Shadow *addShadow(std::unique_ptr<Matcher> shadow, const std::vector<std::string> &keys,
                    std::shared_ptr<void> keep);
  void removeShadow(Shadow *shadow);
  std::size_t shadows() const { return shadows_.size(); }

  void advanceTime(std::int64_t time, std::vector<MatchOutput> &out) override;
  void advanceWatermark(std::int64_t watermark, std::vector<MatchOutput> &out) override;
  void onEvent(const EventRef &event, std::vector<MatchOutput> &out) override;
  bool onLateEvent(const EventRef &event, std::vector<MatchOutput> &out) override;
  void finish(std::vector<MatchOutput> &out) override;
  MatcherStats stats() const override { return native_->stats(); }
  std::int64_t nextTimer() const override { return native_->nextTimer(); }
  void snapshot(std::string &out) const override { native_->snapshot(out); }
  void restore(std::string_view in) override { native_->restore(in); }
  void exportState(MatcherState &out) const override { native_->exportState(out); }
  void restoreState(const MatcherState &state) override { native_->restoreState(state); }
  void exportChanges(MatcherChanges &out) override { native_->exportChanges(out); }
  void assumeExported() override { native_->assumeExported(); }
  MigrationReport checkMigration(const MatcherState &from) const override;
  MigrationReport migrateFrom(const MatcherState &from) override;
  const std::vector<std::uint32_t> &eventTypes() const override { return native_->eventTypes(); }
  std::string_view patternName() const override { return native_->patternName(); }
  void drain() override { native_->drain(); }
  std::int64_t drainTime() const override { return native_->drainTime(); }
  void drainAt(std::int64_t switch_time) override { native_->drainAt(switch_time); }
  bool draining() const override { return native_->draining(); }
  bool drained() const override { return native_->drained(); }
  std::uint64_t dropState() override { return native_->dropState(); }

  Matcher &native() { return *native_; }
  // Of the first shadow (`cep run`'s one): records of the traced key compared, and how many
  // calls disagreed (the first described).
  std::uint64_t compared() const { return shadows_.empty() ? 0 : shadows_[0]->compared; }
  std::uint64_t disagreements() const { return shadows_.empty() ? 0 : shadows_[0]->disagreements; }
  const std::string &firstDifference() const { return shadows_[0]->first_difference; }

private:
  // The native records of each shadow's key in out[from..] against what the shadow wrote.
  void compare(const std::vector<MatchOutput> &out, std::size_t from, const char *call);

  std::unique_ptr<Matcher> owned_native_;
  Matcher *native_;
  std::vector<std::unique_ptr<Shadow>> shadows_;
};

} // namespace cep::runtime
