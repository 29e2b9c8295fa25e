#include "cli/run_stats.hpp"

#include <algorithm>
#include <cstdio>
#include <vector>

namespace cep::cli {

using runtime::MatcherStats;
using runtime::PatternStats;
using runtime::RecordCounts;
using runtime::RunStats;

namespace {

// Columns separated by two spaces; the first left-aligned, the others right-aligned.
void appendTable(std::string &out, const std::vector<std::vector<std::string>> &rows) {
  std::vector<std::size_t> widths;
  for (const auto &row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (std::size_t c = 0; c < row.size(); ++c) {
      widths[c] = std::max(widths[c], row[c].size());
    }
  }
  for (const auto &row : rows) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      if (c > 0) {
        line += "  ";
        line.append(widths[c] - row[c].size(), ' ');
        line += row[c];
      } else {
        line += row[c];
        line.append(widths[c] - row[c].size(), ' ');
      }
    }
    while (!line.empty() && line.back() == ' ') {
      line.pop_back();
    }
    out += line;
    out += '\n';
  }
}

std::vector<std::string> countsRow(const std::string &name, const RecordCounts &c) {
  return {name,
          std::to_string(c.read),
          std::to_string(c.accepted),
          std::to_string(c.rejected),
          std::to_string(c.late),
          std::to_string(c.watermarks)};
}

std::vector<std::string> patternRow(const std::string &name, const MatcherStats &s,
                                    bool evictions) {
  std::vector<std::string> row{name,
                               std::to_string(s.events),
                               std::to_string(s.matches),
                               std::to_string(s.timeouts),
                               std::to_string(s.peak_runs),
                               std::to_string(s.peak_keys),
                               std::to_string(s.peak_bound_events),
                               std::to_string(s.peak_state_bytes)};
  if (evictions) {
    row.push_back(std::to_string(s.evicted));
  }
  return row;
}

} // namespace

std::string formatRunStats(const RunStats &stats, bool timing) {
  std::string out;
  std::vector<std::vector<std::string>> inputs{
      {"input", "read", "accepted", "rejected", "late", "watermarks"}};
  for (std::size_t i = 0; i < stats.records.inputs.size(); ++i) {
    inputs.push_back(countsRow(i < stats.input_names.size() ? stats.input_names[i]
                                                            : "input " + std::to_string(i),
                               stats.records.inputs[i]));
  }
  if (stats.records.inputs.size() != 1) {
    inputs.push_back(countsRow("total", stats.records.total()));
  }
  appendTable(out, inputs);

  out += '\n';
  std::vector<std::vector<std::string>> patterns{{"pattern", "events", "matches", "timeouts",
                                                  "peak runs", "peak keys", "peak bound",
                                                  "peak bytes"}};
  // The evicted column appears once a state bound (--max-runs-per-key, --max-state-bytes)
  // evicted anything.
  bool evictions = std::any_of(stats.patterns.begin(), stats.patterns.end(),
                               [](const PatternStats &p) { return p.stats.evicted != 0; });
  if (evictions) {
    patterns[0].push_back("evicted");
  }
  MatcherStats sum;
  for (const PatternStats &pattern : stats.patterns) {
    patterns.push_back(patternRow(pattern.name, pattern.stats, evictions));
    sum.evicted += pattern.stats.evicted;
    sum.events += pattern.stats.events;
    sum.matches += pattern.stats.matches;
    sum.timeouts += pattern.stats.timeouts;
    sum.peak_runs += pattern.stats.peak_runs;
    sum.peak_keys += pattern.stats.peak_keys;
    sum.peak_bound_events += pattern.stats.peak_bound_events;
    sum.peak_state_bytes += pattern.stats.peak_state_bytes;
  }
  // The total of the peaks is their sum: an upper bound of the peak of the whole.
  patterns.push_back(patternRow("total", sum, evictions));
  appendTable(out, patterns);

  if (timing) {
    std::uint64_t read = stats.records.total().read;
    double seconds = stats.wall_seconds;
    char line[128];
    std::snprintf(line, sizeof line, "\nwall time %.3f s, %.0f events/s\n", seconds,
                  seconds > 0 ? static_cast<double>(read) / seconds : 0.0);
    out += line;
  }
  return out;
}

} // namespace cep::cli
