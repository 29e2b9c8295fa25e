// `cep backtest RULES -i HISTORY... --labels LABELS.jsonl [--report out.html] [--format json]`
// (docs/backtest.md): the rules are loaded and run exactly as `cep run` runs them (run_shared.hpp:
// the same checks, engines and .cepo loading; by default --order sort and --at-end drop), but
// their records go to the join with the labels (backtest_join.hpp) instead of a file, as the run
// writes them: nothing is held per alert, so the history may be of any size (--order sort holds
// events, beyond --sort-memory on disk). Then the text or JSON on stdout, the HTML page to
// --report. Exit codes: 0 ok, 1 rule errors, 2 usage, 3 a bad label line, an unreadable input, a
// report that cannot be written; 130/143 stopped by a signal (no results then).
#include "cli/backtest_format.hpp"
#include "cli/backtest_join.hpp"
#include "cli/backtest_labels.hpp"
#include "cli/backtest_progress.hpp"
#include "cli/backtest_span.hpp"
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/output_paths.hpp"
#include "cli/run_shared.hpp"
#include "runtime/engine/output_sink.hpp"
#include "runtime/engine/run_loop.hpp"
#include "runtime/io/file_write.hpp"
#include "runtime/io/stop_signals.hpp"
#include "runtime/time/event_spill.hpp"
#include "runtime/time/time_format.hpp"
#include "support/time_arith.hpp"

#include <algorithm>
#include <fstream>
#include <iostream>
#include <set>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>
#include <unordered_map>

namespace cep::cli {

namespace {

using backtest::Alert;
using backtest::Join;

// Reads one output record of the run into the join: "@pattern", "@key", "@end", "@at_end".
class AlertReader {
public:
  AlertReader(Join &join) : join_(&join) {
    for (std::uint32_t i = 0; i < join.rules().size(); ++i) {
      rules_.emplace(join.rules()[i], i);
    }
  }

  bool read(std::string_view record, std::string &error) {
    simdjson::dom::element root;
    if (auto e = parser_.parse(record.data(), record.size()).get(root); e) {
      return bad(record, simdjson::error_message(e), error);
    }
    std::string_view pattern, end;
    simdjson::dom::element key;
    if (root["@pattern"].get_string().get(pattern) || root["@end"].get_string().get(end) ||
        root["@key"].get(key)) {
      return bad(record, "no @pattern, @key or @end", error);
    }
    auto rule = rules_.find(std::string(pattern));
    if (rule == rules_.end()) {
      return bad(record, "an unknown @pattern", error);
    }
    Alert alert;
    alert.rule = rule->second;
    key_.clear();
    std::string key_error;
    if (key.is_null()) {
      key_ = "null"; // no `partition by`: matches no label (labels have keys)
    } else if (!backtest::canonicalKey(key, key_, key_error)) {
      return bad(record, "@key: " + key_error, error);
    }
    alert.key = key_;
    if (!runtime::parseRfc3339(end, alert.time, &key_error)) {
      return bad(record, "@end: " + key_error, error);
    }
    bool at_end = false;
    alert.at_end = !root["@at_end"].get_bool().get(at_end) && at_end;
    join_->add(alert);
    return true;
  }

private:
  // The run's own records: a failure here is a bug in cep, said as such.
  static bool bad(std::string_view record, const std::string &why, std::string &error) {
    error = "internal error: cannot read the run's record (" + why +
            "): " + std::string(record.substr(0, 200));
    return false;
  }

  Join *join_;
  std::unordered_map<std::string, std::uint32_t> rules_;
  simdjson::dom::parser parser_;
  std::string key_;
};

// The sizes of the inputs when every one is a regular file (0: unknown).
std::uint64_t inputBytes(const std::vector<runtime::InputSpec> &inputs) {
  std::uint64_t total = 0;
  for (const runtime::InputSpec &input : inputs) {
    struct stat info {};
    if (input.path == "-" || ::stat(input.path.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) {
      return 0;
    }
    total += static_cast<std::uint64_t>(info.st_size);
  }
  return total;
}

int executeBacktest(const BacktestOptions &options, const RunOptions &run, const RunPlan &plan,
                    std::vector<backtest::Label> &labels, backtest::Window window,
                    const runtime::Schema &schema,
                    const std::vector<runtime::Matcher *> &rule_matchers) {
  std::vector<NamedPath> reads = plan.rule_files;
  for (const runtime::InputSpec &input : plan.inputs) {
    reads.push_back({"--input", input.path});
  }
  reads.push_back({"--labels", options.labels});
  if (options.report) {
    if (std::string conflict = sameFileConflict({{"--report", *options.report}}, reads);
        !conflict.empty()) {
      return runUsage(conflict);
    }
  }

  std::vector<std::string> names;
  std::set<std::uint32_t> types;
  for (runtime::Matcher *matcher : rule_matchers) {
    names.emplace_back(matcher->patternName());
    types.insert(matcher->eventTypes().begin(), matcher->eventTypes().end());
  }
  Join join(names, std::move(labels), window);
  AlertReader reader(join);
  backtest::HistorySpan span(std::vector<std::uint32_t>(types.begin(), types.end()));
  std::vector<runtime::Matcher *> matchers = rule_matchers;
  matchers.push_back(&span); // last: the rules keep their operator ids, so their order

  std::unique_ptr<runtime::OutputSink> sink = runtime::OutputSink::toRecords(
      "the alerts", [&reader](std::string_view record, std::string &error) {
        return reader.read(record, error);
      });

  std::string error;
  if (!runtime::installStopSignals(error)) {
    return runFailure(error);
  }
  SideOutputs sides; // none: rejections are summarised on stderr
  runtime::RunOptions run_options = runtimeOptions(run, plan, sides);
  std::unique_ptr<runtime::EventSpill> spill;
  if (plan.sort_memory != 0) {
    try {
      spill = std::make_unique<runtime::EventSpill>(schema, plan.sort_dir, plan.sort_memory);
    } catch (const runtime::SpillError &e) {
      return runFailure(e.what());
    }
    run_options.spill = spill.get();
  }
  bool show =
      options.progress == "always" || (options.progress == "auto" && ::isatty(STDERR_FILENO) != 0);
  backtest::Progress progress(stderr, inputBytes(plan.inputs), plan.sort_memory != 0);
  if (show) {
    run_options.progress = [&progress](std::uint64_t records, std::uint64_t bytes, bool ended) {
      progress.update(records, bytes, ended);
    };
  }

  runtime::RunStats stats;
  runtime::RunResult result;
  try {
    result = runtime::run(schema, matchers, plan.inputs, *sink, run_options, &stats);
  } catch (const runtime::SpillError &e) {
    progress.clear();
    return runFailure(std::string("--order sort: ") + e.what());
  }
  bool flushed = sink->flush();
  progress.clear();
  if (result.status == runtime::RunStatus::Interrupted) {
    std::cerr << "cep backtest: " << result.message << ": stopped; no results\n";
    return kInterrupted + runtime::stopSignal();
  }
  if (result.status != runtime::RunStatus::Ok) {
    return runFailure(result.message);
  }
  if (!flushed) {
    std::cerr << "cep backtest: " << sink->error() << '\n';
    return kInternal;
  }
  if (stats.at_end_dropped > 0) {
    std::cerr << "cep backtest: --at-end drop left out " << stats.at_end_dropped
              << (stats.at_end_dropped == 1 ? " alert" : " alerts")
              << " that only the end of the history would have written (--at-end fire counts "
                 "them)\n";
  }
  if (spill && spill->runs() > 0) {
    std::cerr << "cep backtest: --order sort: " << spill->eventsWritten()
              << " events were sorted in " << spill->runs() << " runs on disk under "
              << plan.sort_dir << "\n";
  }

  backtest::Report report = join.report(span.history());
  backtest::Context context;
  context.rules = run.rules;
  context.inputs = run.inputs;
  context.labels = options.labels;
  context.order = run.order;
  context.at_end = run.at_end;
  bool artifact = run.rules.size() == 1 && run.rules.front().size() > 5 &&
                  run.rules.front().compare(run.rules.front().size() - 5, 5, ".cepo") == 0;
  context.engine = artifact ? "cepo" : run.engine;
  if (options.report) {
    if (!runtime::writeFileAtomically(*options.report, backtest::formatHtml(report, context),
                                      error)) {
      return runFailure(error);
    }
  }
  std::cout << (options.format == "json" ? backtest::formatJson(report, context)
                                         : backtest::formatText(report, context));
  std::cout.flush();
  if (!std::cout) {
    return runFailure("cannot write the results to stdout");
  }
  return kOk;
}

} // namespace

int runBacktest(const BacktestOptions &options) {
  setRunCommandName("backtest");
  const RunOptions &run = options.run;
  backtest::Window window;
  std::string error;
  if (!runtime::parseDuration(options.horizon, window.horizon_ms, &error) ||
      window.horizon_ms > cep::time::kMaxDurationMs) {
    return runUsage("--horizon " + options.horizon + ": " +
                    (error.empty() ? "longer than the longest duration" : error));
  }
  std::string lookback = options.lookback.value_or(options.horizon);
  if (!runtime::parseDuration(lookback, window.lookback_ms, &error) ||
      window.lookback_ms > cep::time::kMaxDurationMs) {
    return runUsage("--lookback " + lookback + ": " +
                    (error.empty() ? "longer than the longest duration" : error));
  }
  if (options.report && (options.report->empty() || *options.report == "-")) {
    return runUsage("--report needs a file path");
  }
  RunPlan plan;
  if (int code = checkRunOptions(run, plan); code != kOk) {
    return code;
  }

  // The labels, before anything runs: every bad line is reported.
  std::ifstream in(options.labels, std::ios::binary);
  if (!in) {
    return runFailure("cannot open \"" + options.labels + "\"");
  }
  std::vector<backtest::Label> labels;
  std::vector<backtest::LabelError> errors;
  backtest::readLabels(in, plan.time_min, plan.time_max, labels, errors);
  if (in.bad()) {
    return runFailure("cannot read \"" + options.labels + "\"");
  }
  if (!errors.empty()) {
    constexpr std::size_t kShown = 20;
    for (std::size_t i = 0; i < errors.size() && i < kShown; ++i) {
      std::cerr << options.labels << ":" << errors[i].line << ": error: " << errors[i].message
                << '\n';
    }
    if (errors.size() > kShown) {
      std::cerr << "... and " << errors.size() - kShown << " more\n";
    }
    std::cerr << "cep backtest: " << errors.size() << " bad label "
              << (errors.size() == 1 ? "line" : "lines") << " in " << options.labels << '\n';
    return kRuntimeFailure;
  }

  plan.execute = [&](const runtime::Schema &schema,
                     const std::vector<runtime::Matcher *> &matchers) {
    return executeBacktest(options, run, plan, labels, window, schema, matchers);
  };
  return runPlanned(run, plan);
}

} // namespace cep::cli
