// `cep run x.cepo`: run rules compiled ahead of time (compiler/artifact/cepo.hpp) without the
// source or the front end. Loading is compiler/artifact/load.hpp's: the schema and the patterns
// come from the artifact; the code is its object code when it was built for this host's triple,
// CPU and CPU features, else its bitcode compiled again by the JIT (said on stderr with
// --stats). Then the run is exactly `cep run rules.cep`'s (run_shared.hpp). With --trace KEY,
// the artifact's rule sources (its optional sources section) are checked again for the shadow
// interpreter beside each native matcher (cli/artifact_sources.hpp, cli/run_trace.hpp).
#include "cli/artifact_sources.hpp"
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/run_shared.hpp"
#include "cli/run_trace.hpp"
#include "compiler/artifact/cepo.hpp"
#include "compiler/artifact/load.hpp"
#include "compiler/artifact/signing.hpp"

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

namespace cep::cli {

namespace {

std::string describe(const compiler::artifact::Target &t) {
  return t.triple + ", CPU " + t.cpu + ", " + std::to_string(t.features.size()) + " features";
}

std::string ms(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.2f", v);
  return buffer;
}

// The load's phases (compiler/artifact/load.hpp LoadedArtifact::Timings).
std::string loadTimes(const compiler::artifact::LoadedArtifact::Timings &t) {
  return "artifact load " + ms(t.read_ms + t.setup_ms + t.link_ms) + " ms (read and check " +
         ms(t.read_ms) + ", JIT set-up " + ms(t.setup_ms) + ", link " + ms(t.link_ms) + ")\n";
}

} // namespace

int runArtifact(const RunOptions &options, RunPlan &plan, compiler::interp::TraceSink *collect) {
  const std::string &path = options.rules.front();
  if (options.engine_options_given) {
    return runUsage("\"" + path +
                    "\": --engine, --opt-level and --disable-pass were fixed when the artifact "
                    "was compiled (cep compile)");
  }
  if (!options.import_paths.empty()) {
    return runUsage("\"" + path +
                    "\": --import-path applies to .cep files; the artifact holds the imported "
                    "rules already");
  }
  std::vector<compiler::artifact::PublicKey> trusted;
  try {
    for (const std::string &key : options.trust) {
      trusted.push_back(compiler::artifact::readPublicKeyFile(key));
    }
  } catch (const compiler::artifact::ArtifactError &e) {
    return runUsage(std::string("--trust: ") + e.what());
  }
  compiler::artifact::LoadOptions load_options;
  load_options.trusted = std::move(trusted);
  // CEP_FORCE_BITCODE=1 takes the other-CPU path on this host (the golden tests run both).
  const char *force_bitcode = std::getenv("CEP_FORCE_BITCODE");
  load_options.force_bitcode = force_bitcode != nullptr && std::string(force_bitcode) == "1";
  compiler::artifact::LoadedArtifact loaded;
  try {
    loaded = compiler::artifact::loadArtifactFile(path, std::move(load_options));
  } catch (const compiler::artifact::LoadError &e) {
    if (e.user()) {
      std::cerr << "cep " << (plan.execute ? "backtest" : "run") << ": " << e.what() << '\n';
      return kRuleErrors;
    }
    return runFailure(e.what());
  }
  if (!loaded.object_code && options.stats) {
    std::cerr << "cep run: " << path << " was built for " << describe(loaded.header.target)
              << "; this host is " << describe(loaded.host) << ": compiling its bitcode again\n";
  }
  plan.rule_files.push_back({"artifact", path});
  if (int code = checkRunInputs(*loaded.schema, plan); code != kOk) {
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
  std::string stats = "artifact " + path + ": " + std::to_string(matchers.size()) + " patterns, " +
                      (loaded.object_code ? "object code loaded" : "bitcode compiled again") +
                      " (O" + std::to_string(loaded.header.opt_level) + ")\n" +
                      loadTimes(loaded.timings);
  if (plan.execute) {
    return plan.execute(*loaded.schema, matchers);
  }
  // --workers N: matchers of the loaded code for each other worker.
  std::vector<std::vector<std::unique_ptr<runtime::Matcher>>> worker_sets;
  MakeWorkerSet more = [&](std::string &) {
    worker_sets.push_back(loaded.makeMatchers(matcherOptions(options, plan)));
    std::vector<runtime::Matcher *> pointers;
    for (const auto &matcher : worker_sets.back()) {
      pointers.push_back(matcher.get());
    }
    return pointers;
  };
  int code = executeRun(*loaded.schema, matchers, options, plan, stats, more);
  return options.trace ? trace.finish(code)
                       : code; // --trace runs one worker (cmd_run refuses both)
}

} // namespace cep::cli
