// `cep run --engine jit --trace KEY` (docs/debugging.md): the native matcher runs as always and
// writes every output; beside it a shadow interpreter matcher (nfa_matcher.hpp with an
// only-traced TraceTarget) is fed the same events and time advances, keeps the traced key's
// state only and writes the trace. The interpreter stays the one source of truth for why a
// match (did not) fire, and each call checks that the native matcher's records of the traced key
// equal the shadow's (the engines agree exactly, docs/semantics.md): a difference is a bug,
// counted and described here.
//
// Everything but the calls that match (snapshots, migration, draining) goes to the native
// matcher alone: `cep run` refuses --trace with a run cut (--snapshot-after, --resume).
#pragma once

#include "compiler/interp/nfa_matcher.hpp"
#include "runtime/matcher.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace cep::compiler::interp {

class ShadowMatcher : public runtime::Matcher {
public:
  // `shadow` must already trace `keys` with only_traced set.
  ShadowMatcher(std::unique_ptr<runtime::Matcher> native, std::unique_ptr<InterpMatcher> shadow,
                std::vector<std::string> keys);
  ~ShadowMatcher() override;

  void advanceTime(std::int64_t time, std::vector<runtime::MatchOutput> &out) override;
  void advanceWatermark(std::int64_t watermark, std::vector<runtime::MatchOutput> &out) override;
  void onEvent(const runtime::EventRef &event, std::vector<runtime::MatchOutput> &out) override;
  bool onLateEvent(const runtime::EventRef &event, std::vector<runtime::MatchOutput> &out) override;
  void finish(std::vector<runtime::MatchOutput> &out) override;
  runtime::MatcherStats stats() const override { return native_->stats(); }
  std::int64_t nextTimer() const override { return native_->nextTimer(); }
  void snapshot(std::string &out) const override { native_->snapshot(out); }
  void restore(std::string_view in) override { native_->restore(in); }
  void exportState(runtime::MatcherState &out) const override { native_->exportState(out); }
  runtime::MigrationReport checkMigration(const runtime::MatcherState &from) const override;
  runtime::MigrationReport migrateFrom(const runtime::MatcherState &from) override;
  const std::vector<std::uint32_t> &eventTypes() const override { return native_->eventTypes(); }
  std::string_view patternName() const override { return native_->patternName(); }
  void drain() override { native_->drain(); }
  bool draining() const override { return native_->draining(); }
  bool drained() const override { return native_->drained(); }
  std::uint64_t dropState() override { return native_->dropState(); }

  // Records of the traced key compared, and how many calls disagreed (the first described).
  std::uint64_t compared() const { return compared_; }
  std::uint64_t disagreements() const { return disagreements_; }
  const std::string &firstDifference() const { return first_difference_; }

private:
  // The native records of the traced key in out[from..] against what the shadow wrote.
  void compare(const std::vector<runtime::MatchOutput> &out, std::size_t from, const char *call);

  std::unique_ptr<runtime::Matcher> native_;
  std::unique_ptr<InterpMatcher> shadow_;
  std::vector<std::string> key_markers_; // `,"@key":K,"@start":` for each accepted key text
  std::vector<runtime::MatchOutput> shadow_out_;
  std::uint64_t compared_ = 0;
  std::uint64_t disagreements_ = 0;
  std::string first_difference_;
};

} // namespace cep::compiler::interp
