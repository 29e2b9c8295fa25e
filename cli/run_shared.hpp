// What `cep run rules.cep` (cmd_run.cpp) and `cep run x.cepo` (cmd_run_artifact.cpp) share: the
// command-line checks, the input checks against the schema, and the run itself.
#pragma once

#include "cli/commands.hpp"
#include "cli/output_paths.hpp"
#include "runtime/engine/output_sink.hpp"
#include "runtime/engine/run_options.hpp"
#include "runtime/io/inputs.hpp"
#include "runtime/matcher.hpp"
#include "runtime/schema.hpp"
#include "runtime/state_bounds.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace cep::compiler::interp {
class TraceSink;
} // namespace cep::compiler::interp

namespace cep::compiler::artifact {
struct LoadedArtifact;
} // namespace cep::compiler::artifact

namespace cep::cli {

struct RunPlan {
  std::vector<runtime::InputSpec> inputs;
  std::int64_t max_delay_ms = 0;
  std::int64_t time_min = 0; // --event-time-range, [time_min, time_max)
  std::int64_t time_max = 0;
  bool processing = false;
  bool streaming = false; // an input is a pipe, FIFO or terminal: write each match when found
  std::vector<NamedPath> rule_files; // every .cep loaded (imports too), or the .cepo: never outputs
  // --max-runs-per-key / --max-state-bytes, and where evictions are reported (set when a bound
  // is; its --evicted-output stream is attached by executeRun).
  runtime::StateBounds bounds;
  std::shared_ptr<runtime::EvictionLog> evictions;
  // --order sort: the held events' memory budget before runs spill to disk (0: not sorting).
  std::uint64_t sort_memory = 0;
  std::string sort_dir;
  // Set: the rules' matchers (loaded from .cep files or a .cepo) go here instead of executeRun
  // (`cep backtest`, cmd_backtest.cpp); it returns the exit code.
  std::function<int(const runtime::Schema &, const std::vector<runtime::Matcher *> &)> execute;
  // --workers, resolved by checkRunOptions (resolveWorkers): the matcher threads; 1: the
  // matching runs on the reading thread.
  std::uint32_t workers = 1;
  // --decode-threads, resolved with --workers: 0 decodes on the reading thread.
  std::uint32_t decode_threads = 0;
};

// Another worker's matchers for `cep run --workers N` (runtime/engine/worker_pool.hpp): the
// same operators as the run's, with their own state; owned by the function's captures. Empty
// with `error` set when they cannot be made.
using MakeWorkerSet = std::function<std::vector<runtime::Matcher *>(std::string &error)>;

// A side output (--late-output, --dead-letter): a file, created or truncated, written through an
// OutputSink like the main output (whole records, flushed with it, failures stop the run).
struct SideOutput {
  std::unique_ptr<runtime::OutputSink> sink;
  std::unique_ptr<runtime::SinkStream> stream;

  bool open(const std::optional<std::string> &where, std::string &error) {
    if (!where) {
      return true;
    }
    sink = runtime::OutputSink::open(*where, error);
    if (!sink) {
      return false;
    }
    stream = std::make_unique<runtime::SinkStream>(*sink);
    return true;
  }
  std::ostream *get() { return stream.get(); }
  // Flushes and closes; false with `error` set when a write failed.
  bool close(std::string &error) {
    if (!sink) {
      return true;
    }
    bool ok = sink->flush();
    if (!ok) {
      error = sink->error();
    }
    stream.reset();
    sink.reset();
    return ok;
  }
};

// --late-output, --dead-letter and --evicted-output together; the evicted stream is attached to
// the plan's eviction log.
struct SideOutputs {
  SideOutput late, dead, evicted;
  bool open(const RunOptions &options, const RunPlan &plan, std::string &error);
};

// Every output a run writes, named by its flag (for sameFileConflict).
std::vector<NamedPath> outputPaths(const RunOptions &options);

// The runtime's options for `options` and `plan`, with the side outputs of `sides` (`cep run`
// and `cep serve` then set what differs: --strict, when to flush).
runtime::RunOptions runtimeOptions(const RunOptions &options, const RunPlan &plan,
                                   SideOutputs &sides);

// The matcher options of a run: --with-events and the state bounds.
runtime::MatcherOptions matcherOptions(const RunOptions &options, const RunPlan &plan);

// `cep run: <message>`, exit 2 / exit 3 (`cep serve: ` once setRunCommandName("serve")).
int runUsage(const std::string &message);
void setRunCommandName(const std::string &name);
int runFailure(const std::string &message);

// A byte size: digits, then optionally K, M or G (powers of 1024).
bool parseByteSize(const std::string &text, std::uint64_t &bytes);

// The options that do not depend on the rules; kOk, or the exit code after printing why.
// checkRunOptions (cmd_run.cpp) checks the --disable-pass names against the compiler's passes,
// then checkRunCommandLine (run_execute.cpp) all the rest: the lean `cep` (main_lean.cpp), which
// has no compiler, calls the latter alone and hands a command with --disable-pass over.
int checkRunOptions(const RunOptions &options, RunPlan &plan);
int checkRunCommandLine(const RunOptions &options, RunPlan &plan);
// plan.workers from --workers (default 1); exit 2 when --workers N > 1 is given
// with an option that needs one matcher thread. Part of checkRunOptions.
int resolveWorkers(const RunOptions &options, RunPlan &plan);
// plan.decode_threads from --decode-threads (with plan.workers resolved): exit 2 when it is
// given above 0 with one worker; unset, the cores beyond the workers (at most as many).
int resolveDecodeThreads(const RunOptions &options, RunPlan &plan);
// Inputs that cannot work with `schema` (unknown :Type, unreadable file), before any output
// file is truncated; kOk, or the exit code after printing why.
int checkRunInputs(const runtime::Schema &schema, RunPlan &plan);
// Refuses (exit 2) an output that is the same file as an input, a rule file or another output,
// then opens the outputs, runs `matchers` over the inputs and prints --stats (then `extra_stats`).
// With plan.workers > 1, `more` makes the other workers' matchers.
int executeRun(const runtime::Schema &schema, const std::vector<runtime::Matcher *> &matchers,
               const RunOptions &options, const RunPlan &plan, const std::string &extra_stats,
               const MakeWorkerSet &more = {});

// `cep run x.cepo`'s load (run_artifact.cpp), after checkRunOptions: refuses the options an
// artifact does not take, reads --trust's keys, loads the file (CEP_FORCE_BITCODE=1: its bitcode)
// into `loaded`, checks the inputs against its schema. kOk, or the exit code after printing why;
// a LoadError of kind NeedsJit (only from the lean loader) is rethrown.
int loadRunArtifact(const RunOptions &options, RunPlan &plan,
                    compiler::artifact::LoadedArtifact &loaded);
// Then executeRun over `matchers` (made by loaded.makeMatchers) with the load's --stats lines.
int executeArtifactRun(const compiler::artifact::LoadedArtifact &loaded,
                       const std::vector<runtime::Matcher *> &matchers, const RunOptions &options,
                       const RunPlan &plan);

// `cep run x.cepo` (cmd_run_artifact.cpp), after checkRunOptions: the two above, with --trace.
int runArtifact(const RunOptions &options, RunPlan &plan,
                compiler::interp::TraceSink *collect = nullptr);

// After checkRunOptions: loads the rules (.cep files, or runArtifact for one .cepo), checks the
// inputs against their schema and runs them (executeRun, or plan.execute when set).
int runPlanned(const RunOptions &options, RunPlan &plan);

} // namespace cep::cli
