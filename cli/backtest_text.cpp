// `cep backtest`'s text output: a header, the table per rule (and the "any rule" row), the
// frauds no rule caught, and the labels by class. The HTML report shows the same cells with the
// same text (tests/e2e/check_backtest.py compares them).
#include "cli/backtest_format.hpp"
#include "runtime/time/time_format.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace cep::cli::backtest {

namespace {

// Rounded half up in whole units of 10^-digits, as the HTML report's script does with the same
// double arithmetic (printf's and toFixed's ties differ), so both print the same text.
std::string rounded(double value, int digits) {
  double scale = digits == 1 ? 10.0 : 100.0;
  double units = std::floor(value * scale + 0.5);
  char text[64];
  std::snprintf(text, sizeof text, "%.0f", units);
  std::string s = text;
  bool negative = !s.empty() && s[0] == '-';
  std::string d = negative ? s.substr(1) : s;
  while (d.size() <= static_cast<std::size_t>(digits)) {
    d = "0" + d;
  }
  return (negative ? "-" : "") + d.substr(0, d.size() - digits) + "." + d.substr(d.size() - digits);
}

std::string percent(const std::optional<double> &value) {
  return value ? rounded(*value * 100.0, 1) + "%" : "-";
}

std::string fixed2(const std::optional<double> &value) {
  return value ? rounded(*value, 2) : "-";
}

std::string delay(const std::optional<std::int64_t> &value) {
  return value ? formatDelay(*value) : "-";
}

using Row = std::vector<std::string>;

Row ruleRow(const RuleResult &r) {
  return {r.rule,
          std::to_string(r.alerts),
          fixed2(r.alerts_per_day),
          std::to_string(r.true_positives),
          std::to_string(r.false_positives),
          percent(r.precision),
          std::to_string(r.caught),
          percent(r.recall),
          delay(r.delay_median_ms),
          delay(r.delay_p90_ms)};
}

// Columns two spaces apart: the first left-aligned, the others right-aligned unless `left`
// names them.
std::string table(const std::vector<Row> &rows, const std::vector<std::size_t> &left = {}) {
  std::vector<std::size_t> width;
  for (const Row &row : rows) {
    width.resize(std::max(width.size(), row.size()), 0);
    for (std::size_t c = 0; c < row.size(); ++c) {
      width[c] = std::max(width[c], row[c].size());
    }
  }
  std::string out;
  for (const Row &row : rows) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      std::string pad(width[c] - row[c].size(), ' ');
      bool left_aligned = c == 0 || std::find(left.begin(), left.end(), c) != left.end();
      line += (c == 0 ? "" : "  ") + (left_aligned ? row[c] + pad : pad + row[c]);
    }
    while (!line.empty() && line.back() == ' ') {
      line.pop_back();
    }
    out += line + '\n';
  }
  return out;
}

std::string joinList(const std::vector<std::string> &items) {
  std::string out;
  for (const std::string &item : items) {
    out += (out.empty() ? "" : " ") + item;
  }
  return out;
}

} // namespace

std::string formatDelay(std::int64_t ms) {
  std::string sign = ms < 0 ? "-" : "";
  // |INT64_MIN| does not fit: such a delay is no real one, but must not overflow.
  std::uint64_t v = ms < 0 ? 0 - static_cast<std::uint64_t>(ms) : static_cast<std::uint64_t>(ms);
  char text[64];
  if (v < 1000) {
    std::snprintf(text, sizeof text, "%llums", static_cast<unsigned long long>(v));
  } else if (v < 60'000) {
    std::snprintf(text, sizeof text, "%llu.%llus", static_cast<unsigned long long>(v / 1000),
                  static_cast<unsigned long long>(v % 1000 / 100));
  } else if (v < 3'600'000) {
    std::snprintf(text, sizeof text, "%llum%02llus", static_cast<unsigned long long>(v / 60'000),
                  static_cast<unsigned long long>(v % 60'000 / 1000));
  } else if (v < 86'400'000) {
    std::snprintf(text, sizeof text, "%lluh%02llum", static_cast<unsigned long long>(v / 3'600'000),
                  static_cast<unsigned long long>(v % 3'600'000 / 60'000));
  } else {
    std::snprintf(text, sizeof text, "%llud%02lluh",
                  static_cast<unsigned long long>(v / 86'400'000),
                  static_cast<unsigned long long>(v % 86'400'000 / 3'600'000));
  }
  return sign + text;
}

std::string formatText(const Report &report, const Context &context) {
  std::string out;
  out += "backtest of " + joinList(context.rules) + " over " + joinList(context.inputs) + "\n";
  const History &h = report.history;
  out += "history: " + std::to_string(h.events) + " events";
  if (h.events > 0) {
    out += " from " + runtime::formatRfc3339(h.first) + " to " + runtime::formatRfc3339(h.last) +
           " (" + fixed2(report.days) + " days)";
  }
  out += "; order " + context.order + ", at end " + context.at_end + ", engine " + context.engine +
         "\n";
  out += "labels: " + std::to_string(report.labels) + " in " + context.labels +
         "; an alert hits a label of its key from " + formatDelay(report.window.lookback_ms) +
         " before to " + formatDelay(report.window.horizon_ms) + " after the labelled time\n";
  if (report.labels_outside > 0) {
    out += "note: " + std::to_string(report.labels_outside) +
           " of the labels lie outside the "
           "history's time span and cannot be caught\n";
  }
  out += "\n";
  std::vector<Row> rows{{"rule", "alerts", "per day", "TP", "FP", "precision", "caught", "recall",
                         "median delay", "p90 delay"}};
  for (const RuleResult &r : report.rules) {
    rows.push_back(ruleRow(r));
  }
  rows.push_back(ruleRow(report.any));
  out += table(rows);
  for (const RuleResult &r : report.rules) {
    if (r.keyless > 0) {
      out += "note: " + std::to_string(r.keyless) + " of " + r.rule +
             "'s alerts have no key (no `partition by`): they cannot hit a label\n";
    }
  }
  std::uint64_t at_end = report.any.at_end;
  if (at_end > 0) {
    out += "(" + std::to_string(at_end) +
           " of the alerts were written only because the input "
           "ended: --at-end fire)\n";
  }

  out += "\nfrauds no rule caught: " + std::to_string(report.missed.size()) + " of " +
         std::to_string(report.labels) + "\n";
  constexpr std::size_t kShown = 20;
  std::vector<Row> missed;
  for (std::size_t i = 0; i < report.missed.size() && i < kShown; ++i) {
    const Label &label = report.missed[i];
    missed.push_back({"  " + label.key, runtime::formatRfc3339(label.time), label.label_class,
                      "line " + std::to_string(label.line)});
  }
  out += table(missed, {1, 2, 3});
  if (report.missed.size() > kShown) {
    out += "  ... and " + std::to_string(report.missed.size() - kShown) +
           " more (--format json lists them all)\n";
  }

  if (!report.classes.empty()) {
    out += "\nby class:\n";
    std::vector<Row> classes{{"  class", "labels", "caught", "caught by"}};
    for (const ClassResult &c : report.classes) {
      std::string by;
      for (std::size_t r = 0; r < c.caught_by.size(); ++r) {
        if (c.caught_by[r] > 0) {
          by += (by.empty() ? "" : ", ") + report.rules[r].rule + " " +
                std::to_string(c.caught_by[r]);
        }
      }
      classes.push_back({"  " + c.label_class, std::to_string(c.labels), std::to_string(c.caught),
                         by.empty() ? "-" : by});
    }
    out += table(classes, {3});
  }
  return out;
}

} // namespace cep::cli::backtest
