// `cep backtest`: an operator that writes nothing and sees every released event of the types the
// rules read, for the history's count and event-time span (alerts per day). Added after the
// rules' matchers, so their operator ids, and so the order of their records, are `cep run`'s.
// Only what a run calls is implemented; state, snapshots and migrations are not (a backtest
// never takes any).
#pragma once

#include "cli/backtest_join.hpp"
#include "runtime/matcher.hpp"
#include "runtime/state/migration.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

namespace cep::cli::backtest {

class HistorySpan final : public runtime::Matcher {
public:
  explicit HistorySpan(std::vector<std::uint32_t> types) : types_(std::move(types)) {}

  const History &history() const { return history_; }

  void advanceTime(std::int64_t, std::vector<runtime::MatchOutput> &) override {}
  void onEvent(const runtime::EventRef &event, std::vector<runtime::MatchOutput> &) override {
    std::int64_t t = event->time;
    history_.first = history_.events == 0 ? t : std::min(history_.first, t);
    history_.last = history_.events == 0 ? t : std::max(history_.last, t);
    ++history_.events;
  }
  void finish(std::vector<runtime::MatchOutput> &) override {}
  runtime::MatcherStats stats() const override {
    runtime::MatcherStats stats;
    stats.events = history_.events;
    return stats;
  }
  std::int64_t nextTimer() const override { return runtime::kEndOfTime; }
  const std::vector<std::uint32_t> &eventTypes() const override { return types_; }
  std::string_view patternName() const override { return "(history)"; }
  void drain() override {}
  bool draining() const override { return false; }
  bool drained() const override { return false; }
  std::uint64_t dropState() override { return 0; }

  // Never called by a backtest's run.
  void snapshot(std::string &) const override { unsupported(); }
  void restore(std::string_view) override { unsupported(); }
  void exportState(runtime::MatcherState &) const override { unsupported(); }
  runtime::MigrationReport checkMigration(const runtime::MatcherState &) const override {
    unsupported();
  }
  runtime::MigrationReport migrateFrom(const runtime::MatcherState &) override { unsupported(); }

private:
  [[noreturn]] static void unsupported() {
    throw std::logic_error("the backtest's history operator has no state to save or move");
  }

  std::vector<std::uint32_t> types_;
  History history_;
};

} // namespace cep::cli::backtest
