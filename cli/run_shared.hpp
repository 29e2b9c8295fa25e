// What `cep run rules.cep` (cmd_run.cpp) and `cep run x.cepo` (cmd_run_artifact.cpp) share: the
// command-line checks, the input checks against the schema, and the run itself.
#pragma once

#include "cli/commands.hpp"
#include "cli/output_paths.hpp"
#include "runtime/io/inputs.hpp"
#include "runtime/matcher.hpp"
#include "runtime/schema.hpp"
#include "runtime/state_bounds.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

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
};

// The matcher options of a run: --with-events and the state bounds.
runtime::MatcherOptions matcherOptions(const RunOptions &options, const RunPlan &plan);

// `cep run: <message>`, exit 2 / exit 3.
int runUsage(const std::string &message);
int runFailure(const std::string &message);

// The options that do not depend on the rules; kOk, or the exit code after printing why.
int checkRunOptions(const RunOptions &options, RunPlan &plan);
// Inputs that cannot work with `schema` (unknown :Type, unreadable file), before any output
// file is truncated; kOk, or the exit code after printing why.
int checkRunInputs(const runtime::Schema &schema, RunPlan &plan);
// Refuses (exit 2) an output that is the same file as an input, a rule file or another output,
// then opens the outputs, runs `matchers` over the inputs and prints --stats (then `extra_stats`).
int executeRun(const runtime::Schema &schema, const std::vector<runtime::Matcher *> &matchers,
               const RunOptions &options, const RunPlan &plan, const std::string &extra_stats);

// `cep run x.cepo` (cmd_run_artifact.cpp), after checkRunOptions.
int runArtifact(const RunOptions &options, RunPlan &plan);

} // namespace cep::cli
