// What every `cep run` does once its rules are loaded, .cep files (cmd_run.cpp) or a .cepo
// (run_artifact.cpp), in the whole program and the lean `cep` alike (run_shared.hpp): the command
// line's checks, the inputs' checks against the schema, and the run itself (executeRun). No
// compiler here: the lean `cep` (main_lean.cpp) links it without LLVM or the front end.
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/run_resume.hpp"
#include "cli/run_shared.hpp"
#include "cli/run_stats.hpp"
#include "runtime/engine/output_sink.hpp"
#include "runtime/engine/run_loop.hpp"
#include "runtime/io/stop_signals.hpp"
#include "runtime/time/event_spill.hpp"
#include "runtime/time/time_format.hpp"
#include "support/time_arith.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace cep::cli {

namespace {

int usage(const std::string &message) {
  return runUsage(message);
}

int failure(const std::string &message) {
  return runFailure(message);
}

std::string typeList(const runtime::Schema &schema) {
  std::string list;
  for (const runtime::EventSchema &type : schema.types) {
    list += (list.empty() ? "" : ", ") + type.name;
  }
  return list.empty() ? "none" : list;
}

} // namespace

namespace {
std::string run_command = "run"; // setRunCommandName
} // namespace

void setRunCommandName(const std::string &name) {
  run_command = name;
}

std::vector<NamedPath> outputPaths(const RunOptions &options) {
  std::vector<NamedPath> outputs{{"--output", options.output}};
  if (options.dead_letter) {
    outputs.push_back({"--dead-letter", *options.dead_letter});
  }
  if (options.late_output) {
    outputs.push_back({"--late-output", *options.late_output});
  }
  if (options.evicted_output) {
    outputs.push_back({"--evicted-output", *options.evicted_output});
  }
  if (options.trace_output && *options.trace_output != "-") {
    outputs.push_back({"--trace-output", *options.trace_output});
  }
  return outputs;
}

bool SideOutputs::open(const RunOptions &options, const RunPlan &plan, std::string &error) {
  if (!late.open(options.late_output, error) || !dead.open(options.dead_letter, error) ||
      !evicted.open(options.evicted_output, error)) {
    return false;
  }
  if (plan.evictions) {
    plan.evictions->setRecords(evicted.get());
  }
  return true;
}

runtime::RunOptions runtimeOptions(const RunOptions &options, const RunPlan &plan,
                                   SideOutputs &sides) {
  runtime::RunOptions run_options;
  run_options.time = plan.processing ? runtime::TimeMode::Processing : runtime::TimeMode::Event;
  run_options.max_delay_ms = plan.max_delay_ms;
  run_options.max_record_bytes = static_cast<std::size_t>(options.max_record_bytes);
  run_options.time_min = plan.time_min;
  run_options.time_max = plan.time_max;
  run_options.watermark = options.watermark == "explicit" ? runtime::WatermarkMode::Explicit
                                                          : runtime::WatermarkMode::Auto;
  // --max-state-bytes accounts raw record lengths; --evicted-output writes the records.
  run_options.keep_raw =
      options.with_events || plan.bounds.max_state_bytes != 0 || options.evicted_output;
  run_options.report = &std::cerr;
  run_options.dead_letter = sides.dead.get();
  run_options.late_output = sides.late.get();
  for (SideOutput *side : {&sides.dead, &sides.late, &sides.evicted}) {
    if (side->sink) {
      run_options.side_outputs.push_back(side->sink.get());
    }
  }
  run_options.follow = options.follow;
  run_options.at_end = options.at_end == "drop" ? runtime::AtEnd::Drop : runtime::AtEnd::Fire;
  run_options.state_bounds = plan.bounds; // recorded in run snapshots
  return run_options;
}

int runUsage(const std::string &message) {
  std::cerr << "cep " << run_command << ": " << message << '\n';
  return kUsage;
}

int runFailure(const std::string &message) {
  std::cerr << "cep " << run_command << ": " << message << '\n';
  return kRuntimeFailure;
}

// A byte size: digits, then optionally K, M or G (powers of 1024).
namespace {

// 1073741824 -> "1.0 GiB".
std::string formatBytes(std::uint64_t bytes) {
  const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  std::size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(units)) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : "%.1f %s", value, units[unit]);
  return text;
}

} // namespace

bool parseByteSize(const std::string &text, std::uint64_t &bytes) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
    ++digits;
  }
  if (digits == 0 || digits > 15) {
    return false;
  }
  std::uint64_t value = std::stoull(text.substr(0, digits));
  std::string_view suffix = std::string_view(text).substr(digits);
  int shift = 0;
  if (suffix == "K" || suffix == "k") {
    shift = 10;
  } else if (suffix == "M") {
    shift = 20;
  } else if (suffix == "G") {
    shift = 30;
  } else if (!suffix.empty()) {
    return false;
  }
  if (value > (UINT64_MAX >> 30)) {
    return false;
  }
  bytes = value << shift;
  return true;
}

runtime::MatcherOptions matcherOptions(const RunOptions &options, const RunPlan &plan) {
  runtime::MatcherOptions matcher_options;
  matcher_options.with_events = options.with_events;
  matcher_options.bounds = plan.bounds;
  matcher_options.evictions = plan.evictions.get();
  return matcher_options;
}

int checkRunCommandLine(const RunOptions &options, RunPlan &plan) {
  // The command line first: nothing is read or written before it is known to be right.
  std::string error;
  if (!runtime::parseDuration(options.max_delay, plan.max_delay_ms, &error)) {
    return usage("--max-delay " + options.max_delay + ": " + error);
  }
  if (plan.max_delay_ms > cep::time::kMaxDurationMs) {
    return usage("--max-delay " + options.max_delay + ": longer than the longest duration, " +
                 std::to_string(cep::time::kMaxDurationDays) + "d");
  }
  if (!runtime::parseTimeRange(options.event_time_range, plan.time_min, plan.time_max, &error)) {
    return usage("--event-time-range " + options.event_time_range + ": " + error);
  }
  plan.processing = options.time == "processing";
  if (plan.processing && (plan.max_delay_ms != 0 || options.watermark != "auto")) {
    return usage("--max-delay and --watermark apply to --time event only");
  }
  if (options.order == "sort") {
    // Flink's batch mode for a bounded input: the watermark stays at "none" until every input
    // has ended (a delay no time can reach), so the reorder buffer releases everything in
    // (time, arrival) order at the end. docs/semantics.md §3.
    if (plan.processing || options.watermark != "auto" || options.max_delay != "0s" ||
        options.follow) {
      return usage("--order sort reads finite inputs whole and has no lateness: it takes no "
                   "--max-delay, --watermark, --time processing or --follow");
    }
    plan.max_delay_ms = std::numeric_limits<std::int64_t>::max();
    std::string memory = options.sort_memory.empty() ? "1G" : options.sort_memory;
    if (!parseByteSize(memory, plan.sort_memory) || plan.sort_memory == 0) {
      return usage("--sort-memory " + memory +
                   ": expected a positive byte size such as 1048576, 512M or 4G");
    }
    plan.sort_dir = options.sort_dir;
    if (plan.sort_dir.empty()) {
      const char *tmp = std::getenv("TMPDIR");
      plan.sort_dir = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
    }
  } else if (!options.sort_memory.empty() || !options.sort_dir.empty()) {
    return usage("--sort-memory and --sort-dir apply to --order sort only");
  }
  for (const auto *side : {&options.late_output, &options.dead_letter, &options.evicted_output}) {
    if (*side && (side->value().empty() || *side == "-")) {
      return usage("--late-output, --dead-letter and --evicted-output need a file path");
    }
  }
  plan.bounds.max_runs_per_key = options.max_runs_per_key;
  if (!options.max_state_bytes.empty() &&
      (!parseByteSize(options.max_state_bytes, plan.bounds.max_state_bytes) ||
       plan.bounds.max_state_bytes == 0)) {
    return usage("--max-state-bytes " + options.max_state_bytes +
                 ": expected a positive byte size such as 1048576, 512K, 64M or 2G");
  }
  if (!options.key_ttl.empty()) {
    if (!runtime::parseDuration(options.key_ttl, plan.bounds.key_ttl_ms, &error)) {
      return usage("--key-ttl " + options.key_ttl + ": " + error);
    }
    if (plan.bounds.key_ttl_ms == 0 || plan.bounds.key_ttl_ms > cep::time::kMaxDurationMs) {
      return usage("--key-ttl " + options.key_ttl + ": expected a positive duration up to " +
                   std::to_string(cep::time::kMaxDurationDays) + "d");
    }
  }
  if (options.evicted_output && !plan.bounds.any()) {
    return usage("--evicted-output needs --max-runs-per-key, --max-state-bytes or --key-ttl "
                 "(without a bound nothing is evicted)");
  }
  if (plan.bounds.any()) {
    plan.evictions = std::make_shared<runtime::EvictionLog>(plan.bounds, &std::cerr);
  }
  for (const std::string &input : options.inputs) {
    plan.inputs.push_back(runtime::parseInputSpec(input));
  }
  if (plan.inputs.empty()) {
    plan.inputs.push_back({"-", ""});
  }
  if (std::count_if(plan.inputs.begin(), plan.inputs.end(),
                    [](const runtime::InputSpec &input) { return input.path == "-"; }) > 1) {
    return usage("standard input (`-`) can be read only once");
  }
  return resolveWorkers(options, plan);
}

int resolveWorkers(const RunOptions &options, RunPlan &plan) {
  // What needs the matching on one thread (runtime/engine/worker_pool.hpp): processing time
  // (timers on the wall clock), the trace's shadow interpreter, run snapshots (one matcher's
  // state per pattern) and the state bounds (one eviction log, --max-state-bytes over all keys).
  std::string one;
  if (plan.processing) {
    one = "--time processing";
  } else if (options.trace) {
    one = "--trace";
  } else if (options.snapshot_after || options.resume) {
    one = "--snapshot-after and --resume";
  } else if (plan.bounds.any()) {
    one = "--max-runs-per-key, --max-state-bytes and --key-ttl";
  }
  if (options.workers) {
    if (*options.workers > 1 && !one.empty()) {
      return usage("--workers " + std::to_string(*options.workers) + ": " + one +
                   " match on one thread; give --workers 1 or leave --workers out");
    }
    plan.workers = *options.workers;
    return resolveDecodeThreads(options, plan);
  }
  // Not the machine's cores (std::thread::hardware_concurrency()), as issue #15 asked: on 2
  // cores two workers run seq-10m at 0.63-0.96x the speed of one, at 1.6-2.5x its CPU (each
  // event's first touch on another core, and the reading thread's serial half of the work), and
  // decoding ahead on more threads (--decode-threads) costs more still (bench/RESULTS.md "#15
  // closed", "Decoding on the workers"), so one thread stays the default.
  plan.workers = 1;
  return resolveDecodeThreads(options, plan);
}

int resolveDecodeThreads(const RunOptions &options, RunPlan &plan) {
  if (options.decode_threads) {
    if (*options.decode_threads > 0 && plan.workers < 2) {
      return usage("--decode-threads " + std::to_string(*options.decode_threads) +
                   ": decoding ahead needs --workers 2 or more");
    }
    plan.decode_threads = *options.decode_threads;
    return kOk;
  }
  // Only on cores the workers leave free: on a machine with no more cores than workers the
  // decoding threads take CPU from the matching and hand every event across one more core
  // (bench/RESULTS.md "Decoding on the workers").
  std::uint32_t cores = std::max(1U, std::thread::hardware_concurrency());
  plan.decode_threads =
      plan.workers > 1 && cores > plan.workers ? std::min(plan.workers, cores - plan.workers) : 0;
  return kOk;
}

int checkRunInputs(const runtime::Schema &schema, RunPlan &plan) {
  for (const runtime::InputSpec &input : plan.inputs) {
    if (!input.type_name.empty() && schema.typeIndex(input.type_name) < 0) {
      return usage("--input " + input.path + ":" + input.type_name + ": unknown event type `" +
                   input.type_name + "` (declared: " + typeList(schema) + ")");
    }
    if (input.path.rfind("kafka://", 0) == 0) {
      return usage("--input " + input.path +
                   ": Kafka topics are read by `cep serve` (docs/kafka.md); `cep run` reads files");
    }
    if (input.path == "-") {
      // A pipe or terminal: write each match as it is found, not in 64 KiB blocks.
      struct stat info {};
      plan.streaming = ::fstat(STDIN_FILENO, &info) != 0 || !S_ISREG(info.st_mode);
    } else if (::access(input.path.c_str(), R_OK) != 0) {
      return failure("cannot open \"" + input.path + "\": " + std::strerror(errno));
    } else if (struct stat info{};
               ::stat(input.path.c_str(), &info) == 0 && !S_ISREG(info.st_mode)) {
      plan.streaming = true; // a FIFO or a device: matches as they are found, like stdin
    }
  }
  return kOk;
}

int executeRun(const runtime::Schema &schema, const std::vector<runtime::Matcher *> &matchers,
               const RunOptions &options, const RunPlan &plan, const std::string &extra_stats,
               const MakeWorkerSet &more) {
  std::string error;
  // Nothing is opened for writing (truncated) before every output is known to be a new file.
  std::vector<NamedPath> outputs = outputPaths(options);
  std::vector<NamedPath> reads = plan.rule_files;
  for (const runtime::InputSpec &input : plan.inputs) {
    reads.push_back({"--input", input.path});
  }
  if (std::string conflict = sameFileConflict(outputs, reads); !conflict.empty()) {
    return usage(conflict);
  }
  RunCutPlan cut; // --snapshot-after, --resume (run_resume.hpp)
  if (int code = prepareRunCut(options, outputs, reads, cut); code != kOk) {
    return code;
  }
  std::unique_ptr<runtime::OutputSink> out = runtime::OutputSink::open(options.output, error);
  if (!out) {
    return failure(error);
  }
  SideOutputs sides;
  if (!sides.open(options, plan, error)) {
    return failure(error);
  }
  SideOutput &late = sides.late, &dead = sides.dead, &evicted = sides.evicted;

  // SIGINT/SIGTERM from here on: stop reading, write out what is complete, exit 128+signal.
  if (!runtime::installStopSignals(error)) {
    return failure(error);
  }

  runtime::RunOptions run_options = runtimeOptions(options, plan, sides);
  run_options.strict = options.strict;
  run_options.flush_each_step = plan.streaming || plan.processing || options.follow;
  // --workers N: workers 1 .. N-1 get matchers of their own (worker 0 has `matchers`).
  for (std::uint32_t w = 1; w < plan.workers && more; ++w) {
    std::vector<runtime::Matcher *> set = more(error);
    if (set.empty() && !matchers.empty()) {
      return failure("--workers: " + error);
    }
    run_options.worker_sets.push_back(std::move(set));
  }
  run_options.decode_threads = plan.decode_threads;

  // --order sort beyond memory: sorted runs on disk, merged at the end. Not with a run cut
  // (--snapshot-after/--resume, for tests): its snapshot holds the buffer, so it stays in memory.
  std::unique_ptr<runtime::EventSpill> spill;
  if (plan.sort_memory != 0 && !options.snapshot_after && !options.resume) {
    try {
      spill = std::make_unique<runtime::EventSpill>(schema, plan.sort_dir, plan.sort_memory);
    } catch (const runtime::SpillError &e) {
      return failure(e.what());
    }
    run_options.spill = spill.get();
  }

  runtime::RunStats stats;
  runtime::RunResult result;
  try {
    result = runWithCut(cut, schema, matchers, plan.inputs, *out, run_options, &stats);
  } catch (const runtime::SpillError &e) {
    return failure(std::string("--order sort: ") + e.what());
  }
  if (spill && spill->runs() > 0) {
    std::cerr << "cep run: --order sort: the held events passed --sort-memory "
              << formatBytes(spill->budget()) << ", so " << spill->eventsWritten()
              << " events were sorted in " << spill->runs() << " runs on disk ("
              << formatBytes(spill->bytesWritten()) << " under " << plan.sort_dir
              << ") and merged\n";
  }
  std::uint64_t matches = out->records();
  out.reset(); // flushed and closed
  if (plan.evictions) {
    plan.evictions->finish();
  }
  std::uint64_t dead_letters = dead.sink ? dead.sink->records() : 0;
  std::uint64_t late_events = late.sink ? late.sink->records() : 0;
  std::string side_error;
  bool sides_ok = late.close(side_error) && dead.close(side_error) && evicted.close(side_error);
  if (options.stats) {
    std::cerr << formatRunStats(stats, !options.no_timing) << extra_stats;
  }
  if (stats.at_end_fired > 0) {
    bool one = stats.at_end_fired == 1;
    std::cerr << "cep run: " << stats.at_end_fired << (one ? " record was" : " records were")
              << " written only because the input ended ("
              << (one ? "a timeout, absence or held match before its time"
                      : "timeouts, absences or held matches before their time")
              << "), marked \"@at_end\":true; --at-end drop leaves such records out\n";
  }
  if (stats.at_end_dropped > 0) {
    std::cerr << "cep run: --at-end drop left out " << stats.at_end_dropped
              << (stats.at_end_dropped == 1 ? " record" : " records")
              << " that only the end of the input would have written\n";
  }
  if (result.status == runtime::RunStatus::Interrupted && sides_ok) {
    // docs/semantics.md §3: what is complete is written; nothing is finished or timed out.
    std::cerr << "cep run: " << result.message << ": stopped reading; written: " << matches
              << (matches == 1 ? " match" : " matches");
    if (options.dead_letter) {
      std::cerr << ", " << dead_letters << (dead_letters == 1 ? " dead letter" : " dead letters");
    }
    if (options.late_output) {
      std::cerr << ", " << late_events << (late_events == 1 ? " late event" : " late events");
    }
    std::cerr << "\n";
    return kInterrupted + runtime::stopSignal();
  }
  if (result.status != runtime::RunStatus::Ok) {
    return failure(result.message);
  }
  if (!sides_ok) {
    return failure(side_error);
  }
  return kOk;
}

} // namespace cep::cli
