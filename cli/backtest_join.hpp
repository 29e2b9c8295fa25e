// `cep backtest` (docs/backtest.md): the join of alerts with labelled frauds and the statistics
// per rule. No I/O: cmd_backtest.cpp feeds it the labels (backtest_labels.hpp), then every alert
// as the run writes it, then the history's span; the formatters (backtest_text.cpp,
// backtest_json.cpp, backtest_html.cpp) print the Report.
//
//   Join join(rule_names, labels, {.horizon_ms = 86'400'000, .lookback_ms = 86'400'000});
//   join.add({rule, key_json, end_ms});   // each alert, in any order, streamed
//   Report report = join.report(history);
//
// An alert of rule R for key K at time A is a hit of the label (K, L) when
//   L - lookback <= A <= L + horizon       (both ends included)
// A hit alert is a true positive of R (several alerts of one label are all true positives);
// any other alert is a false positive. A label is caught by R when some alert of R hits it; its
// time to detection by R is the earliest such A minus L (negative: R alerted before L).
// precision = true positives / alerts, recall = labels caught / labels (null when 0 / 0).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace cep::cli::backtest {

struct Label {
  std::string key;         // canonical JSON (backtest_key.hpp): "c-1", 42, ["c-1",3]
  std::int64_t time = 0;   // epoch ms
  std::string label_class; // "class" in the file
  std::uint64_t line = 0;  // 1-based line in the labels file
};

struct Alert {
  std::uint32_t rule = 0; // index into the rule names
  std::string_view key;   // canonical JSON
  std::int64_t time = 0;  // the record's @end, epoch ms
  bool at_end = false;    // "@at_end": written only because the input ended
};

struct Window {
  std::int64_t horizon_ms = 0;  // after the label's time
  std::int64_t lookback_ms = 0; // before it
};

// What the run saw of the history: its accepted events' count and event-time span.
struct History {
  std::uint64_t events = 0;
  std::int64_t first = 0; // epoch ms of the earliest event (valid when events > 0)
  std::int64_t last = 0;  // of the latest
};

// Nearest-rank percentile of sorted values (no interpolation): the smallest value v such that
// at least p% of the values are <= v. Null for no values. p in (0, 100].
std::optional<std::int64_t> percentile(const std::vector<std::int64_t> &sorted, int p);

// The bins of the detection-delay histogram: [edge[i-1], edge[i]) ms; the first bin is
// everything before 0 ("before": the alert came before the labelled time), the last
// everything from the last edge on.
const std::vector<std::int64_t> &delayBinEdges(); // 0, 1s, 10s, 1m, 5m, 15m, 1h, 6h, 1d
const std::vector<std::string> &delayBinNames();  // before, 0-1s, ..., >=1d (edges + 1)
std::size_t delayBin(std::int64_t delay_ms);

struct RuleResult {
  std::string rule; // the pattern or aggregate name; "any rule" for the union row
  std::uint64_t alerts = 0;
  std::uint64_t at_end = 0;  // of them, marked "@at_end" (only with --at-end fire)
  std::uint64_t keyless = 0; // of them, with the key null (no `partition by`): they hit nothing
  std::uint64_t true_positives = 0;
  std::uint64_t false_positives = 0;
  std::optional<double> alerts_per_day; // alerts / the history's span in days; null: no span
  std::optional<double> precision;
  std::uint64_t caught = 0; // labels caught
  std::optional<double> recall;
  std::optional<std::int64_t> delay_median_ms, delay_p90_ms;
  std::vector<std::uint64_t> delay_bins; // delayBinNames().size() counts
};

struct ClassResult {
  std::string label_class;
  std::uint64_t labels = 0;
  std::uint64_t caught = 0;             // by any rule
  std::vector<std::uint64_t> caught_by; // per rule
};

struct Report {
  Window window;
  History history;
  std::optional<double> days; // the history's span in days (null: fewer than 2 events' span 0)
  std::uint64_t labels = 0;
  std::uint64_t labels_outside = 0; // labelled times outside [first, last] of the history
  std::vector<RuleResult> rules;    // in declaration order
  RuleResult any;                   // every rule together: an alert of any rule, caught by any
  std::vector<ClassResult> classes; // sorted by class
  // overlap[i][j]: labels caught by both rule i and rule j (overlap[i][i]: caught by i).
  std::vector<std::vector<std::uint64_t>> overlap;
  // Alerts per bucket of event time (UTC days; UTC hours when the history is shorter than 2
  // days), from the bucket of the first event to that of the last event or alert.
  std::string bucket = "day";                         // day | hour
  std::vector<std::int64_t> bucket_starts;            // epoch ms
  std::vector<std::vector<std::uint64_t>> per_bucket; // [rule][bucket]
  std::vector<Label> missed;                          // caught by no rule, in file order
};

class Join {
public:
  Join(std::vector<std::string> rules, std::vector<Label> labels, Window window);

  // One alert (streamed; any order).
  void add(const Alert &alert);
  Report report(const History &history) const;

  const std::vector<std::string> &rules() const { return rules_; }

private:
  struct Caught {
    std::uint32_t rule;
    std::int64_t earliest; // earliest hit alert's time
  };

  std::vector<std::string> rules_;
  std::vector<Label> labels_;
  Window window_;
  // Labels by key, each list sorted by time (indices into labels_).
  std::unordered_map<std::string, std::vector<std::uint32_t>> by_key_;
  std::vector<std::vector<Caught>> caught_; // per label, per rule that caught it
  std::vector<std::uint64_t> alerts_, at_end_, hits_, keyless_;
  std::uint64_t any_alerts_ = 0, any_hits_ = 0, any_at_end_ = 0, any_keyless_ = 0;
  std::map<std::int64_t, std::vector<std::uint64_t>> per_hour_; // hour index -> per rule
  std::int64_t last_alert_ = 0;
  bool any_alert_ = false;
};

} // namespace cep::cli::backtest
