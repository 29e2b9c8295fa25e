// `cep run`: load the rules, build one matcher per pattern and run them over the inputs
// (runtime/engine/run_loop.hpp). Exit codes: 0 ok, 1 rule errors, 2 usage, 3 the run failed
// (an input unreadable, a record rejected under --strict, an output unwritable), 128+signal
// stopped by SIGINT (130) or SIGTERM (143).
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/run_resume.hpp"
#include "cli/run_shared.hpp"
#include "cli/run_stats.hpp"
#include "cli/run_trace.hpp"
#include "cli/terminal.hpp"
#include "compiler/driver/pipeline.hpp"
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
#include <cstring>
#include <fstream>
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

bool endsWith(const std::string &text, std::string_view suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// `--stats` with --engine jit: one line per module.
std::string formatJitStats(const std::vector<compiler::jit::ModuleStats> &modules, int opt_level,
                           bool timing) {
  std::string out;
  char buffer[200];
  for (const auto &m : modules) {
    out += "jit " + m.module + ": " + std::to_string(m.patterns) + " patterns, " +
           std::to_string(m.emit_values) + " emit values";
    if (timing) {
      std::snprintf(buffer, sizeof buffer,
                    ", compile %.2f ms at O%d (codegen %.2f, optimise %.2f, machine code + link "
                    "%.2f)",
                    m.compile_ms, opt_level, m.codegen_ms, m.optimize_ms,
                    m.compile_ms - m.codegen_ms - m.optimize_ms);
      out += buffer;
    }
    out += '\n';
  }
  return out;
}

} // namespace

int checkRunOptions(const RunOptions &options, RunPlan &plan) {
  // The command line first: nothing is read or written before it is known to be right.
  std::string error;
  if (!compiler::driver::checkPassNames(options.disabled_passes, error)) {
    return runUsage(error);
  }
  return checkRunCommandLine(options, plan);
}

namespace {

// A .cepo runs alone; --trust is for one. kOk, or exit 2 after saying why.
int checkArtifactUse(const RunOptions &options) {
  bool artifact = std::any_of(options.rules.begin(), options.rules.end(),
                              [](const std::string &rule) { return endsWith(rule, ".cepo"); });
  if (artifact && options.rules.size() > 1) {
    return runUsage(
        "a compiled artifact (.cepo) runs alone: give one .cepo file and no .cep files");
  }
  if (!artifact && !options.trust.empty()) {
    return runUsage(
        "--trust checks the signature of a compiled artifact (.cepo); rule files (.cep) "
        "are not signed");
  }
  return kOk;
}

// The checks every entry point makes before its plan runs.
int planRun(const RunOptions &options, RunPlan &plan) {
  if (int code = checkArtifactUse(options); code != kOk) {
    return code;
  }
  return checkRunOptions(options, plan);
}

int runRules(const RunOptions &options, RunPlan &plan, compiler::interp::TraceSink *collect);

} // namespace

int runRun(const RunOptions &options) {
  RunPlan plan;
  if (int code = planRun(options, plan); code != kOk) {
    return code;
  }
  return runRules(options, plan, nullptr);
}

int runTraced(const RunOptions &options, compiler::interp::TraceSink &sink) {
  RunPlan plan;
  if (int code = planRun(options, plan); code != kOk) {
    return code;
  }
  return runRules(options, plan, &sink);
}

int runPlanned(const RunOptions &options, RunPlan &plan) {
  return runRules(options, plan, nullptr);
}

namespace {

int runRules(const RunOptions &options, RunPlan &plan, compiler::interp::TraceSink *collect) {
  if (int code = checkArtifactUse(options); code != kOk) {
    return code;
  }
  if (std::string why = RunTrace::refuse(options); !why.empty()) {
    return runUsage(why);
  }
  bool artifact = endsWith(options.rules.front(), ".cepo");
  if (artifact) {
    return runArtifact(options, plan, collect);
  }
  // The rules.
  compiler::driver::Pipeline pipeline({options.import_paths, options.disabled_passes});
  bool checked = pipeline.check(options.rules);
  bool jit = options.engine == "jit";
  bool runnable = !checked || pipeline.requireRunnable(jit ? compiler::driver::Engine::Jit
                                                           : compiler::driver::Engine::Interp);
  pipeline.diagnostics().render(std::cerr, useColor(options.color));
  if (!checked) {
    return kRuleErrors;
  }
  if (!runnable) {
    return kUsage; // an aggregate that cannot be planned (a row wider than the null mask)
  }
  const runtime::Schema &schema = pipeline.schema();
  for (const std::string &file : pipeline.ruleFiles()) {
    plan.rule_files.push_back({"rule file", file});
  }

  // Inputs that cannot work, before any output file is truncated.
  if (int code = checkRunInputs(schema, plan); code != kOk) {
    return code;
  }

  // One operator per pattern and per aggregate, in declaration order: the reference interpreter
  // over the optimised NFAs and plans, or (jit) their native functions compiled into one module.
  compiler::driver::MatcherSet set;
  std::string error;
  if (!pipeline.makeMatchers(
          {jit ? compiler::driver::Engine::Jit : compiler::driver::Engine::Interp,
           options.opt_level},
          matcherOptions(options, plan), set, error)) {
    return runFailure(set.jit ? error : "--engine jit: " + error);
  }
  // --trace KEY: the interpreter's account of one key (cli/run_trace.hpp). Its file is opened
  // only once it is known not to be an input or another output.
  RunTrace trace;
  if (options.trace) {
    std::vector<NamedPath> reads = plan.rule_files;
    for (const runtime::InputSpec &input : plan.inputs) {
      reads.push_back({"--input", input.path});
    }
    if (std::string conflict = sameFileConflict(outputPaths(options), reads); !conflict.empty()) {
      return runUsage(conflict);
    }
    if (collect != nullptr) {
      trace.collect(options, *collect);
    } else if (!trace.open(options, error)) {
      return runFailure(error);
    }
    trace.attach(pipeline, set.matchers, jit, matcherOptions(options, plan));
  }
  std::vector<runtime::Matcher *> matchers;
  for (const auto &matcher : set.matchers) {
    matchers.push_back(matcher.get());
  }
  if (plan.execute) {
    return plan.execute(schema, matchers);
  }
  // --workers N: the same operators again for each other worker (compiled again under jit).
  std::vector<compiler::driver::MatcherSet> worker_sets;
  MakeWorkerSet more = [&](std::string &why) {
    std::vector<runtime::Matcher *> pointers;
    compiler::driver::MatcherSet another;
    if (!pipeline.makeMatchers(
            {jit ? compiler::driver::Engine::Jit : compiler::driver::Engine::Interp,
             options.opt_level},
            matcherOptions(options, plan), another, why)) {
      return pointers;
    }
    for (const auto &matcher : another.matchers) {
      pointers.push_back(matcher.get());
    }
    worker_sets.push_back(std::move(another));
    return pointers;
  };
  int code = executeRun(schema, matchers, options, plan,
                        jit ? formatJitStats(set.jit_stats, options.opt_level, !options.no_timing)
                            : std::string(),
                        more);
  return options.trace ? trace.finish(code) : code;
}

} // namespace

} // namespace cep::cli
