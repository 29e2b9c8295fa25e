// cep-bench: the in-memory and decode-only rows of the benchmark suite (bench/README.md). Never
// part of `make test`; bench/run drives it and `cep run` for the end-to-end rows.
//
//   cep-bench match  RULES.cep... --input EVENTS.jsonl [--engine interp|jit] [--opt-level N]
//                    [--changes-every N]
//   (every command also takes --import-path DIR, as `cep run` does)
//       Decodes the whole file first (not timed), orders the events by (time, arrival) as the
//       run loop's reorder buffer would, builds one matcher per pattern as `cep run` does
//       (compiler/driver/pipeline.hpp: the interpreter, or the native matcher over the JIT's
//       code for --engine jit), then times only the
//       matching: advanceTime(t) on every matcher before the events of a new time t, onEvent on
//       the matchers whose stream has the event's type, finish() at the end. Outputs are counted
//       and dropped (not sorted or written). --changes-every N: every N events, exportChanges
//       on every matcher (what an incremental checkpoint takes from them: the native matcher's
//       change tracking on), timed apart from the matching (export_s, puts, put_bytes).
//   cep-bench decode RULES.cep... --input EVENTS.jsonl
//       LineReader + JsonlDecoder over the file (events built, then dropped), against a raw
//       simdjson On Demand pass over the same lines that touches every value.
//   cep-bench loop RULES.cep... --input EVENTS.jsonl [--max-delay MS] [--repeat N]
//       The whole input path of `cep run` (run(): Inputs, LineReader, JsonlDecoder, rejects,
//       watermarks, reorder buffer, dispatch, output sink) with one no-op Matcher per event type
//       that consumes every event and emits nothing: the cost of everything but matching. Also
//       the raw simdjson pass, for the decode target. Under callgrind divide the instruction
//       count by the events.
//
//   cep-bench migrate RULES.cep... --input EVENTS.jsonl [--engine interp|jit] [--repeat N]
//       What a `keep` deploy of `cep serve` does on its event loop (service/serve_runtime.cpp,
//       applyDeploy), phase by phase: feeds the events (as `match`, nothing finished) to one
//       matcher per pattern, then per pattern times exportState, checkMigration (migration
//       reasons, convertEvents, key check), migrateFrom into a fresh matcher of the same rules
//       (the same checks again, then importState), convertEvents alone, and freeing the old
//       matcher and the exported state. N times, moving the runs back and forth; the fastest.
//
// Each prints one line of `key=value` pairs for bench/run.
#include "compiler/driver/pipeline.hpp"
#include "runtime/engine/output_sink.hpp"
#include "runtime/engine/run_loop.hpp"
#include "runtime/io/jsonl_decoder.hpp"
#include "runtime/io/line_reader.hpp"
#include "runtime/matcher.hpp"
#include "runtime/native/native_aggregate.hpp"
#include "runtime/state/matcher_state.hpp"
#include "runtime/state/migration.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <simdjson.h>
#include <stdexcept>
#include <string>
#include <sys/resource.h>
#include <vector>

namespace lang = cep::lang;
namespace rt = cep::runtime;

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

long peakRssKib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

struct Args {
  std::string command;
  std::vector<std::string> rules;
  std::vector<std::string> import_paths; // --import-path DIR, as `cep run`'s
  std::string input;
  std::string engine = "interp";
  int opt_level = 2;
  long max_delay_ms = 2000;
  int repeat = 1;
  long changes_every = 0; // match: Matcher::exportChanges on every matcher every N events
};

int usage(const std::string &message) {
  std::cerr << "cep-bench: " << message << "\n"
            << "usage: cep-bench match|decode|loop RULES.cep... [--import-path DIR] --input "
               "EVENTS.jsonl "
               "[--engine interp|jit] [--opt-level N]\n";
  return 2;
}

// The checked rules (compiler/driver/pipeline.hpp, as `cep run` checks them); null after
// printing the diagnostics when they have errors.
std::unique_ptr<cep::compiler::driver::Pipeline> loadRules(const Args &args) {
  auto pipeline = std::make_unique<cep::compiler::driver::Pipeline>(
      cep::compiler::driver::PipelineOptions{args.import_paths, {}});
  bool checked = pipeline->check(args.rules);
  bool compilable = !checked || pipeline->requireRunnable(
                                    args.engine == "jit" ? cep::compiler::driver::Engine::Jit
                                                         : cep::compiler::driver::Engine::Interp);
  pipeline->diagnostics().render(std::cerr, false);
  return checked && compilable ? std::move(pipeline) : nullptr;
}

// Decodes every record of `path`; false on a read error. Rejected records are counted.
bool decodeFile(const std::string &path, const rt::Schema &schema, std::vector<rt::EventRef> &out,
                std::uint64_t &rejected) {
  rt::LineReader reader(path);
  rt::JsonlDecoder decoder(schema);
  rt::Line line;
  std::uint64_t seq = 0;
  rt::ReadStatus status;
  while ((status = reader.next(line)) == rt::ReadStatus::Line) {
    rt::RecordContext context;
    context.line = line.number;
    context.seq = seq++;
    rt::DecodeResult result = decoder.decode(line, context);
    if (result.status == rt::DecodeStatus::Event) {
      out.push_back(std::move(result.event));
    } else if (result.status == rt::DecodeStatus::Rejected) {
      ++rejected;
    }
  }
  if (status == rt::ReadStatus::Error) {
    std::cerr << "cep-bench: " << reader.error() << "\n";
    return false;
  }
  return true;
}

int runMatch(const Args &args) {
  std::unique_ptr<cep::compiler::driver::Pipeline> pipeline = loadRules(args);
  if (!pipeline) {
    return 1;
  }
  const rt::Schema &schema = pipeline->schema();

  std::vector<rt::EventRef> events;
  std::uint64_t rejected = 0;
  auto decode_start = Clock::now();
  if (!decodeFile(args.input, schema, events, rejected)) {
    return 3;
  }
  double decode_s = secondsSince(decode_start);
  std::stable_sort(events.begin(), events.end(), [](const rt::EventRef &a, const rt::EventRef &b) {
    return a->time != b->time ? a->time < b->time : a->seq < b->seq;
  });
  long rss_before = peakRssKib();

  // As `cep run` builds them (the same Pipeline); with the JIT, at its default level O2.
  auto build_start = Clock::now();
  double compile_ms = 0;
  cep::compiler::driver::MatcherSet set;
  std::string error;
  if (!pipeline->makeMatchers({args.engine == "jit" ? cep::compiler::driver::Engine::Jit
                                                    : cep::compiler::driver::Engine::Interp,
                               args.opt_level},
                              {}, set, error)) {
    std::cerr << "cep-bench: " << (set.jit ? "" : "--engine jit: ") << error << "\n";
    return 3;
  }
  for (const auto &stats : set.jit_stats) {
    compile_ms += stats.compile_ms;
  }
  std::vector<std::unique_ptr<rt::Matcher>> &matchers = set.matchers;
  double build_ms = secondsSince(build_start) * 1e3;
  std::vector<std::vector<rt::Matcher *>> by_type(schema.types.size());
  for (const auto &matcher : matchers) {
    for (std::uint32_t type : matcher->eventTypes()) {
      by_type[type].push_back(matcher.get());
    }
  }

  std::vector<rt::MatchOutput> outputs;
  std::uint64_t records = 0;
  std::int64_t time = INT64_MIN;
  // The keyed state per live run besides the shared event blocks, sampled every 4096 events
  // and taken where the most runs were live (the "bytes per live run" target).
  std::uint64_t sample_runs = 0, sample_own_bytes = 0, sampled = 0;
  // Aggregates (issue #13 §4): their state where the most windows were open (panes, sessions,
  // running cells, rolling entries: MatcherStats::windows), with the keys then.
  std::uint64_t sample_windows = 0, sample_agg_keys = 0, sample_agg_bytes = 0;
  // --changes-every N: what a checkpoint every N events would take from the matchers (timed
  // apart; `seconds` is the matching alone, tracking included).
  rt::MatcherChanges changes;
  std::uint64_t exports = 0, puts = 0, erased = 0, put_bytes = 0;
  double export_s = 0;
  auto exportChanges = [&] {
    auto start = Clock::now();
    for (const auto &matcher : matchers) {
      matcher->exportChanges(changes);
      puts += changes.put.size();
      erased += changes.erased.size();
      put_bytes += changes.header.size();
      for (const auto &[key, record] : changes.put) {
        put_bytes += key.size() + record.size();
      }
    }
    ++exports;
    export_s += secondsSince(start);
  };
  if (args.changes_every > 0) {
    exportChanges(); // the first call: tracking starts (nothing to export yet)
  }
  long until_export = args.changes_every;
  auto match_start = Clock::now();
  for (const rt::EventRef &event : events) {
    if (args.changes_every > 0 && --until_export == 0) {
      exportChanges();
      until_export = args.changes_every;
    }
    if ((++sampled & 4095) == 0) {
      std::uint64_t runs = 0, own = 0, windows = 0, agg_keys = 0, agg_bytes = 0;
      for (const auto &matcher : matchers) {
        rt::MatcherStats s = matcher->stats();
        if (rt::native::isAggregate(*matcher) || s.windows > 0) {
          windows += s.windows;
          agg_keys += s.live_keys;
          agg_bytes += s.state_bytes;
          continue;
        }
        runs += s.live_runs;
        own += s.state_bytes - s.bound_event_bytes;
      }
      if (runs > sample_runs) {
        sample_runs = runs;
        sample_own_bytes = own;
      }
      if (windows > sample_windows) {
        sample_windows = windows;
        sample_agg_keys = agg_keys;
        sample_agg_bytes = agg_bytes;
      }
    }
    if (event->time != time) {
      time = event->time;
      for (const auto &matcher : matchers) {
        matcher->advanceTime(time, outputs);
      }
    }
    for (rt::Matcher *matcher : by_type[event->type]) {
      matcher->onEvent(event, outputs);
    }
    records += outputs.size();
    outputs.clear();
  }
  for (const auto &matcher : matchers) {
    matcher->finish(outputs);
  }
  records += outputs.size();
  outputs.clear();
  double match_s = secondsSince(match_start) - export_s;

  std::uint64_t peak_runs = 0, peak_state = 0, peak_keys = 0;
  for (const auto &matcher : matchers) {
    rt::MatcherStats stats = matcher->stats();
    peak_runs += stats.peak_runs;
    peak_state += stats.peak_state_bytes;
    peak_keys += stats.peak_keys;
  }
  double n = static_cast<double>(events.size());
  std::printf("events=%zu rejected=%llu decode_s=%.3f build_ms=%.3f compile_ms=%.3f seconds=%.4f "
              "events_per_s=%.0f ns_per_event=%.1f records=%llu peak_runs=%llu "
              "peak_state_bytes=%llu peak_keys=%llu rss_before_kib=%ld peak_rss_kib=%ld "
              "sample_runs=%llu sample_own_bytes=%llu sample_windows=%llu "
              "sample_agg_keys=%llu sample_agg_bytes=%llu\n",
              events.size(), static_cast<unsigned long long>(rejected), decode_s, build_ms,
              compile_ms, match_s, n / match_s, match_s * 1e9 / n,
              static_cast<unsigned long long>(records), static_cast<unsigned long long>(peak_runs),
              static_cast<unsigned long long>(peak_state),
              static_cast<unsigned long long>(peak_keys), rss_before, peakRssKib(),
              static_cast<unsigned long long>(sample_runs),
              static_cast<unsigned long long>(sample_own_bytes),
              static_cast<unsigned long long>(sample_windows),
              static_cast<unsigned long long>(sample_agg_keys),
              static_cast<unsigned long long>(sample_agg_bytes));
  if (args.changes_every > 0) {
    std::printf("changes_every=%ld exports=%llu export_s=%.4f puts=%llu erased=%llu "
                "put_bytes=%llu\n",
                args.changes_every, static_cast<unsigned long long>(exports), export_s,
                static_cast<unsigned long long>(puts), static_cast<unsigned long long>(erased),
                static_cast<unsigned long long>(put_bytes));
  }
  return 0;
}

// Touches every value of a JSON document (On Demand parses lazily: skipped values are only
// scanned, so the raw pass reads each one).
std::uint64_t touch(simdjson::ondemand::value value) {
  using simdjson::ondemand::json_type;
  switch (value.type().value()) {
  case json_type::object: {
    std::uint64_t sum = 0;
    for (auto field : value.get_object()) {
      sum += field.unescaped_key().value().size();
      sum += touch(field.value().value());
    }
    return sum;
  }
  case json_type::array: {
    std::uint64_t sum = 0;
    for (auto element : value.get_array()) {
      sum += touch(element.value());
    }
    return sum;
  }
  case json_type::string:
    return value.get_string().value().size();
  case json_type::number: {
    simdjson::ondemand::number number = value.get_number().value();
    return number.is_double() ? static_cast<std::uint64_t>(number.get_double())
                              : static_cast<std::uint64_t>(number.get_int64());
  }
  case json_type::boolean:
    return value.get_bool().value() ? 1 : 0;
  case json_type::null:
    return value.is_null().value() ? 1 : 0;
  }
  return 0;
}

int runDecode(const Args &args) {
  std::unique_ptr<cep::compiler::driver::Pipeline> pipeline = loadRules(args);
  if (!pipeline) {
    return 1;
  }
  const rt::Schema &schema = pipeline->schema();

  // The decoder: line reading + schema-driven decoding + event allocation (and release).
  std::uint64_t events = 0, rejected = 0;
  auto start = Clock::now();
  {
    rt::LineReader reader(args.input);
    rt::JsonlDecoder decoder(schema);
    rt::Line line;
    std::uint64_t seq = 0;
    while (reader.next(line) == rt::ReadStatus::Line) {
      rt::RecordContext context;
      context.line = line.number;
      context.seq = seq++;
      rt::DecodeResult result = decoder.decode(line, context);
      events += result.status == rt::DecodeStatus::Event;
      rejected += result.status == rt::DecodeStatus::Rejected;
    }
  }
  double decoder_s = secondsSince(start);

  // Line reading alone.
  std::uint64_t lines = 0;
  start = Clock::now();
  {
    rt::LineReader reader(args.input);
    rt::Line line;
    while (reader.next(line) == rt::ReadStatus::Line) {
      ++lines;
    }
  }
  double lines_s = secondsSince(start);

  // Raw simdjson On Demand over the same lines, every value touched.
  std::uint64_t checksum = 0, errors = 0;
  start = Clock::now();
  {
    rt::LineReader reader(args.input);
    simdjson::ondemand::parser parser;
    rt::Line line;
    while (reader.next(line) == rt::ReadStatus::Line) {
      simdjson::padded_string_view view(line.text.data(), line.text.size(), line.capacity);
      auto doc = parser.iterate(view);
      simdjson::ondemand::value root;
      if (doc.get_value().get(root) != simdjson::SUCCESS) {
        ++errors;
        continue;
      }
      checksum += touch(root);
    }
  }
  double simdjson_s = secondsSince(start);

  std::printf("events=%llu rejected=%llu lines=%llu decoder_s=%.4f lines_s=%.4f "
              "simdjson_s=%.4f decoder_events_per_s=%.0f simdjson_events_per_s=%.0f "
              "ratio=%.2f checksum=%llu errors=%llu peak_rss_kib=%ld\n",
              static_cast<unsigned long long>(events), static_cast<unsigned long long>(rejected),
              static_cast<unsigned long long>(lines), decoder_s, lines_s, simdjson_s,
              static_cast<double>(lines) / decoder_s, static_cast<double>(lines) / simdjson_s,
              decoder_s / simdjson_s, static_cast<unsigned long long>(checksum),
              static_cast<unsigned long long>(errors), peakRssKib());
  return 0;
}

// Consumes every event of its types, emits nothing.
class NoopMatcher final : public rt::Matcher {
public:
  explicit NoopMatcher(std::vector<std::uint32_t> types) : types_(std::move(types)) {}
  void advanceTime(std::int64_t, std::vector<rt::MatchOutput> &) override {}
  void onEvent(const rt::EventRef &event, std::vector<rt::MatchOutput> &) override {
    ++stats_.events;
    checksum_ += static_cast<std::uint64_t>(event->time);
  }
  void finish(std::vector<rt::MatchOutput> &) override {}
  rt::MatcherStats stats() const override { return stats_; }
  std::int64_t nextTimer() const override { return rt::kEndOfTime; }
  void snapshot(std::string &) const override {}
  void restore(std::string_view) override {}
  void exportState(rt::MatcherState &) const override {}
  rt::MigrationReport checkMigration(const rt::MatcherState &) const override { return {}; }
  rt::MigrationReport migrateFrom(const rt::MatcherState &) override { return {}; }
  const std::vector<std::uint32_t> &eventTypes() const override { return types_; }
  std::string_view patternName() const override { return "noop"; }
  void drain() override { draining_ = true; }
  bool draining() const override { return draining_; }
  bool drained() const override { return draining_; } // holds no state
  std::uint64_t dropState() override { return 0; }
  std::uint64_t checksum() const { return checksum_; }

private:
  std::vector<std::uint32_t> types_;
  rt::MatcherStats stats_;
  std::uint64_t checksum_ = 0;
  bool draining_ = false;
};

int runLoop(const Args &args) {
  std::unique_ptr<cep::compiler::driver::Pipeline> pipeline = loadRules(args);
  if (!pipeline) {
    return 1;
  }
  const rt::Schema &schema = pipeline->schema();
  std::vector<std::uint32_t> types;
  for (std::uint32_t t = 0; t < schema.types.size(); ++t) {
    types.push_back(t);
  }
  double best_loop = 1e30;
  std::uint64_t events = 0, read = 0, checksum = 0;
  for (int r = 0; r < args.repeat; ++r) {
    NoopMatcher matcher(types);
    std::string captured;
    rt::OutputSink sink(captured);
    rt::RunOptions options;
    options.max_delay_ms = args.max_delay_ms;
    rt::RunStats stats;
    auto start = Clock::now();
    rt::RunResult result =
        rt::run(schema, {&matcher}, {rt::parseInputSpec(args.input)}, sink, options, &stats);
    best_loop = std::min(best_loop, secondsSince(start));
    if (result.status != rt::RunStatus::Ok) {
      std::cerr << "cep-bench: " << result.message << "\n";
      return 3;
    }
    events = matcher.stats().events;
    read = stats.records.total().read;
    checksum = matcher.checksum();
  }

  // Raw simdjson On Demand over the same lines, every value touched.
  double best_raw = 1e30;
  std::uint64_t raw_sum = 0;
  for (int r = 0; r < args.repeat; ++r) {
    auto start = Clock::now();
    rt::LineReader reader(args.input);
    simdjson::ondemand::parser parser;
    rt::Line line;
    raw_sum = 0;
    while (reader.next(line) == rt::ReadStatus::Line) {
      simdjson::padded_string_view view(line.text.data(), line.text.size(), line.capacity);
      auto doc = parser.iterate(view);
      simdjson::ondemand::value root;
      if (doc.get_value().get(root) == simdjson::SUCCESS) {
        raw_sum += touch(root);
      }
    }
    best_raw = std::min(best_raw, secondsSince(start));
  }
  double n = static_cast<double>(read);
  std::printf("records=%llu events=%llu loop_s=%.4f loop_events_per_s=%.0f loop_ns=%.1f "
              "simdjson_s=%.4f simdjson_events_per_s=%.0f simdjson_ns=%.1f ratio=%.2f "
              "simdjson_impl=%s checksum=%llu/%llu peak_rss_kib=%ld\n",
              static_cast<unsigned long long>(read), static_cast<unsigned long long>(events),
              best_loop, n / best_loop, best_loop * 1e9 / n, best_raw, n / best_raw,
              best_raw * 1e9 / n, best_loop / best_raw,
              simdjson::builtin_implementation()->name().c_str(),
              static_cast<unsigned long long>(checksum), static_cast<unsigned long long>(raw_sum),
              peakRssKib());
  return 0;
}

int runMigrate(const Args &args) {
  std::unique_ptr<cep::compiler::driver::Pipeline> pipeline = loadRules(args);
  if (!pipeline) {
    return 1;
  }
  const rt::Schema &schema = pipeline->schema();
  std::vector<rt::EventRef> events;
  std::uint64_t rejected = 0;
  if (!decodeFile(args.input, schema, events, rejected)) {
    return 3;
  }
  cep::compiler::driver::EngineOptions options{args.engine == "jit"
                                                   ? cep::compiler::driver::Engine::Jit
                                                   : cep::compiler::driver::Engine::Interp,
                                               args.opt_level};
  auto make = [&](cep::compiler::driver::MatcherSet &set) {
    std::string error;
    if (!pipeline->makeMatchers(options, {}, set, error)) {
      throw std::runtime_error(error);
    }
  };
  cep::compiler::driver::MatcherSet a;
  make(a);
  std::vector<rt::MatchOutput> outputs;
  std::int64_t time = INT64_MIN;
  for (const rt::EventRef &event : events) {
    if (event->time != time) {
      time = event->time;
      for (const auto &matcher : a.matchers) {
        matcher->advanceTime(time, outputs);
      }
    }
    for (const auto &matcher : a.matchers) {
      for (std::uint32_t type : matcher->eventTypes()) {
        if (type == event->type) {
          matcher->onEvent(event, outputs);
        }
      }
    }
    outputs.clear();
  }
  events.clear(); // the runs hold what they bound
  std::uint64_t runs = 0;
  for (const auto &matcher : a.matchers) {
    runs += matcher->stats().live_runs;
  }
  // Best of --repeat per phase, summed over the patterns.
  double best[6] = {1e9, 1e9, 1e9, 1e9, 1e9, 1e9};
  std::uint64_t moved = 0;
  // Every set stays until the end: a set's JIT holds the code of the matchers moved out of it.
  std::vector<std::unique_ptr<cep::compiler::driver::MatcherSet>> sets;
  for (int r = 0; r < args.repeat; ++r) {
    cep::compiler::driver::MatcherSet &b =
        *sets.emplace_back(std::make_unique<cep::compiler::driver::MatcherSet>());
    make(b);
    double t[6] = {0, 0, 0, 0, 0, 0};
    moved = 0;
    for (std::size_t i = 0; i < a.matchers.size(); ++i) {
      auto start = Clock::now();
      auto st = std::make_unique<rt::MatcherState>();
      a.matchers[i]->exportState(*st);
      t[0] += secondsSince(start);
      start = Clock::now();
      rt::MigrationReport check = b.matchers[i]->checkMigration(*st);
      t[1] += secondsSince(start);
      if (!check.ok()) {
        std::cerr << "cep-bench: refused: " << check.reasons.front() << "\n";
        return 3;
      }
      start = Clock::now();
      std::vector<rt::EventRef> converted = rt::convertEvents(*st, *st->schema);
      t[3] += secondsSince(start);
      converted.clear();
      start = Clock::now();
      rt::MigrationReport report = b.matchers[i]->migrateFrom(*st);
      t[2] += secondsSince(start);
      moved += report.runs_moved;
      start = Clock::now();
      a.matchers[i].reset();
      t[4] += secondsSince(start);
      start = Clock::now();
      st.reset();
      t[5] += secondsSince(start);
    }
    for (int k = 0; k < 6; ++k) {
      best[k] = std::min(best[k], t[k]);
    }
    std::swap(a.matchers, b.matchers); // the next round moves them back
  }
  std::printf("live_runs=%llu runs_moved=%llu export_s=%.6f check_s=%.6f migrate_s=%.6f "
              "convert_events_s=%.6f free_old_s=%.6f free_state_s=%.6f pause_s=%.6f "
              "peak_rss_kib=%ld\n",
              static_cast<unsigned long long>(runs), static_cast<unsigned long long>(moved),
              best[0], best[1], best[2], best[3], best[4], best[5],
              best[0] + best[1] + best[2] + best[4] + best[5], peakRssKib());
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  Args args;
  if (argc < 2) {
    return usage("missing command");
  }
  args.command = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--import-path" && i + 1 < argc) {
      args.import_paths.push_back(argv[++i]);
    } else if ((arg == "--input" || arg == "-i" || arg == "--engine") && i + 1 < argc) {
      (arg == "--engine" ? args.engine : args.input) = argv[++i];
    } else if (arg == "--opt-level" && i + 1 < argc) {
      args.opt_level = std::atoi(argv[++i]);
    } else if (arg == "--max-delay" && i + 1 < argc) {
      args.max_delay_ms = std::atol(argv[++i]);
    } else if (arg == "--changes-every" && i + 1 < argc) {
      args.changes_every = std::max(0L, std::atol(argv[++i]));
    } else if (arg == "--repeat" && i + 1 < argc) {
      args.repeat = std::max(1, std::atoi(argv[++i]));
    } else if (!arg.empty() && arg[0] == '-') {
      return usage("unknown option " + arg);
    } else {
      args.rules.push_back(arg);
    }
  }
  if (args.rules.empty() || args.input.empty()) {
    return usage("rules and --input are required");
  }
  try {
    if (args.command == "match") {
      return runMatch(args);
    }
    if (args.command == "decode") {
      return runDecode(args);
    }
    if (args.command == "loop") {
      return runLoop(args);
    }
    if (args.command == "migrate") {
      return runMigrate(args);
    }
  } catch (const std::exception &e) {
    std::cerr << "cep-bench: " << e.what() << "\n";
    return 70;
  }
  return usage("unknown command " + args.command);
}
