#include "cli/backtest_join.hpp"

#include <algorithm>
#include <numeric>
#include <utility>

namespace cep::cli::backtest {

namespace {

constexpr std::int64_t kHour = 3'600'000;
constexpr std::int64_t kDay = 24 * kHour;

std::int64_t floorDiv(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

std::optional<double> ratio(std::uint64_t part, std::uint64_t whole) {
  if (whole == 0) {
    return std::nullopt;
  }
  return static_cast<double>(part) / static_cast<double>(whole);
}

void fillDelays(RuleResult &result, std::vector<std::int64_t> &delays) {
  std::sort(delays.begin(), delays.end());
  result.delay_median_ms = percentile(delays, 50);
  result.delay_p90_ms = percentile(delays, 90);
  result.delay_bins.assign(delayBinNames().size(), 0);
  for (std::int64_t delay : delays) {
    ++result.delay_bins[delayBin(delay)];
  }
}

} // namespace

std::optional<std::int64_t> percentile(const std::vector<std::int64_t> &sorted, int p) {
  if (sorted.empty()) {
    return std::nullopt;
  }
  // rank = ceil(p / 100 * n), 1-based
  std::size_t n = sorted.size();
  std::size_t rank = (static_cast<std::size_t>(p) * n + 99) / 100;
  rank = std::clamp<std::size_t>(rank, 1, n);
  return sorted[rank - 1];
}

const std::vector<std::int64_t> &delayBinEdges() {
  static const std::vector<std::int64_t> edges{0,           1'000, 10'000,    60'000, 5 * 60'000,
                                               15 * 60'000, kHour, 6 * kHour, kDay};
  return edges;
}

const std::vector<std::string> &delayBinNames() {
  static const std::vector<std::string> names{"before", "0-1s",   "1-10s", "10s-1m", "1-5m",
                                              "5-15m",  "15m-1h", "1-6h",  "6h-1d",  ">=1d"};
  return names;
}

std::size_t delayBin(std::int64_t delay_ms) {
  const std::vector<std::int64_t> &edges = delayBinEdges();
  // the number of edges <= delay: 0 for a negative delay ("before")
  return static_cast<std::size_t>(std::upper_bound(edges.begin(), edges.end(), delay_ms) -
                                  edges.begin());
}

Join::Join(std::vector<std::string> rules, std::vector<Label> labels, Window window)
    : rules_(std::move(rules)), labels_(std::move(labels)), window_(window),
      caught_(labels_.size()), alerts_(rules_.size(), 0), at_end_(rules_.size(), 0),
      hits_(rules_.size(), 0), keyless_(rules_.size(), 0) {
  for (std::uint32_t i = 0; i < labels_.size(); ++i) {
    by_key_[labels_[i].key].push_back(i);
  }
  for (auto &[key, list] : by_key_) {
    std::stable_sort(list.begin(), list.end(), [this](std::uint32_t a, std::uint32_t b) {
      return labels_[a].time < labels_[b].time;
    });
  }
}

void Join::add(const Alert &alert) {
  ++alerts_[alert.rule];
  ++any_alerts_;
  if (alert.at_end) {
    ++at_end_[alert.rule];
    ++any_at_end_;
  }
  if (alert.key == "null") {
    ++keyless_[alert.rule];
    ++any_keyless_;
  }
  std::vector<std::uint64_t> &hour = per_hour_[floorDiv(alert.time, kHour)];
  hour.resize(rules_.size(), 0);
  ++hour[alert.rule];
  last_alert_ = any_alert_ ? std::max(last_alert_, alert.time) : alert.time;
  any_alert_ = true;

  auto found = by_key_.find(std::string(alert.key));
  if (found == by_key_.end()) {
    return;
  }
  // The labels L with A - horizon <= L <= A + lookback.
  const std::vector<std::uint32_t> &list = found->second;
  std::int64_t from = alert.time - window_.horizon_ms;
  std::int64_t to = alert.time + window_.lookback_ms;
  auto first =
      std::lower_bound(list.begin(), list.end(), from,
                       [this](std::uint32_t i, std::int64_t t) { return labels_[i].time < t; });
  bool hit = false;
  for (auto it = first; it != list.end() && labels_[*it].time <= to; ++it) {
    hit = true;
    std::vector<Caught> &caught = caught_[*it];
    auto mine = std::find_if(caught.begin(), caught.end(),
                             [&](const Caught &c) { return c.rule == alert.rule; });
    if (mine == caught.end()) {
      caught.push_back({alert.rule, alert.time});
    } else {
      mine->earliest = std::min(mine->earliest, alert.time);
    }
  }
  if (hit) {
    ++hits_[alert.rule];
    ++any_hits_;
  }
}

Report Join::report(const History &history) const {
  Report report;
  report.window = window_;
  report.history = history;
  if (history.events > 0 && history.last > history.first) {
    report.days = static_cast<double>(history.last - history.first) / static_cast<double>(kDay);
  }
  report.labels = labels_.size();
  for (const Label &label : labels_) {
    if (history.events == 0 || label.time < history.first || label.time > history.last) {
      ++report.labels_outside;
    }
  }

  std::size_t n = rules_.size();
  std::vector<std::vector<std::int64_t>> delays(n);
  std::vector<std::int64_t> any_delays;
  report.overlap.assign(n, std::vector<std::uint64_t>(n, 0));
  std::map<std::string, ClassResult> classes;
  std::vector<std::uint64_t> caught_by(n, 0);
  for (std::size_t i = 0; i < labels_.size(); ++i) {
    const Label &label = labels_[i];
    ClassResult &cls = classes[label.label_class];
    cls.label_class = label.label_class;
    cls.caught_by.resize(n, 0);
    ++cls.labels;
    const std::vector<Caught> &caught = caught_[i];
    if (caught.empty()) {
      report.missed.push_back(label);
      continue;
    }
    ++cls.caught;
    std::int64_t earliest = caught.front().earliest;
    for (const Caught &c : caught) {
      earliest = std::min(earliest, c.earliest);
      delays[c.rule].push_back(c.earliest - label.time);
      ++caught_by[c.rule];
      ++cls.caught_by[c.rule];
      for (const Caught &d : caught) {
        ++report.overlap[c.rule][d.rule];
      }
    }
    any_delays.push_back(earliest - label.time);
  }
  for (auto &[name, cls] : classes) {
    report.classes.push_back(std::move(cls));
  }

  auto fill = [&](RuleResult &r, std::uint64_t alerts, std::uint64_t at_end, std::uint64_t keyless,
                  std::uint64_t hits, std::uint64_t caught,
                  std::vector<std::int64_t> &rule_delays) {
    r.alerts = alerts;
    r.at_end = at_end;
    r.keyless = keyless;
    r.true_positives = hits;
    r.false_positives = alerts - hits;
    if (report.days) {
      r.alerts_per_day = static_cast<double>(alerts) / *report.days;
    }
    r.precision = ratio(hits, alerts);
    r.caught = caught;
    r.recall = ratio(caught, labels_.size());
    fillDelays(r, rule_delays);
  };
  for (std::size_t r = 0; r < n; ++r) {
    RuleResult result;
    result.rule = rules_[r];
    fill(result, alerts_[r], at_end_[r], keyless_[r], hits_[r], caught_by[r], delays[r]);
    report.rules.push_back(std::move(result));
  }
  report.any.rule = "any rule";
  fill(report.any, any_alerts_, any_at_end_, any_keyless_, any_hits_,
       labels_.size() - report.missed.size(), any_delays);

  // Alerts per bucket: days, or hours for a history shorter than two days.
  bool hours = !report.days || *report.days < 2.0;
  report.bucket = hours ? "hour" : "day";
  std::int64_t width = hours ? kHour : kDay;
  bool any_time = history.events > 0 || any_alert_;
  if (any_time) {
    std::int64_t lo = history.events > 0 ? history.first : per_hour_.begin()->first * kHour;
    std::int64_t hi = history.events > 0 ? history.last : last_alert_;
    if (any_alert_) {
      lo = std::min(lo, per_hour_.begin()->first * kHour);
      hi = std::max(hi, last_alert_);
    }
    std::int64_t first_bucket = floorDiv(lo, width);
    std::int64_t last_bucket = floorDiv(hi, width);
    std::size_t count = static_cast<std::size_t>(last_bucket - first_bucket + 1);
    for (std::size_t b = 0; b < count; ++b) {
      report.bucket_starts.push_back((first_bucket + static_cast<std::int64_t>(b)) * width);
    }
    report.per_bucket.assign(n, std::vector<std::uint64_t>(count, 0));
    for (const auto &[hour, counts] : per_hour_) {
      std::size_t b = static_cast<std::size_t>(floorDiv(hour * kHour, width) - first_bucket);
      for (std::size_t r = 0; r < counts.size(); ++r) {
        report.per_bucket[r][b] += counts[r];
      }
    }
  } else {
    report.per_bucket.assign(n, {});
  }
  return report;
}

} // namespace cep::cli::backtest
