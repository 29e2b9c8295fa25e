// `cep run x.cepo` in the whole program: run_artifact.cpp's load and run, with --trace KEY: the
// artifact's rule sources (its optional sources section) checked again for the shadow
// interpreter beside each native matcher (cli/artifact_sources.hpp, cli/run_trace.hpp).
#include "cli/artifact_sources.hpp"
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/run_shared.hpp"
#include "cli/run_trace.hpp"
#include "compiler/artifact/load.hpp"

#include <memory>
#include <string>
#include <vector>

namespace cep::cli {

int runArtifact(const RunOptions &options, RunPlan &plan, compiler::interp::TraceSink *collect) {
  const std::string &path = options.rules.front();
  compiler::artifact::LoadedArtifact loaded;
  if (int code = loadRunArtifact(options, plan, loaded); code != kOk) {
    return code;
  }
  std::vector<std::unique_ptr<runtime::Matcher>> owned =
      loaded.makeMatchers(matcherOptions(options, plan));
  // --trace KEY: a shadow interpreter over the artifact's own rule sources.
  RunTrace trace;
  std::unique_ptr<compiler::driver::Pipeline> sources;
  if (options.trace) {
    std::string error;
    sources = checkArtifactSources(loaded.sources, loaded.header.disabled_passes, error);
    if (!sources) {
      if (error.back() == '\n') {
        error.pop_back();
      }
      return runUsage("--trace: " + path + ": " + error);
    }
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
    trace.attach(*sources, owned, true, matcherOptions(options, plan));
  }
  std::vector<runtime::Matcher *> matchers;
  for (const auto &matcher : owned) {
    matchers.push_back(matcher.get());
  }
  if (plan.execute) {
    return plan.execute(*loaded.schema, matchers);
  }
  int code = executeArtifactRun(loaded, matchers, options, plan);
  return options.trace ? trace.finish(code)
                       : code; // --trace runs one worker (cmd_run refuses both)
}

} // namespace cep::cli
