// `cep run x.cepo` without the compiler (run_shared.hpp loadRunArtifact, executeArtifactRun):
// loading is compiler/artifact/load.hpp's: the schema and the patterns come from the artifact;
// the code is its object code when it was built for this host's triple, CPU and CPU features,
// else its bitcode compiled again by the JIT (said on stderr with --stats). Then the run is
// exactly `cep run rules.cep`'s (executeRun). The whole program adds --trace around it
// (cmd_run_artifact.cpp); the lean `cep` (main_lean.cpp) runs these two alone and hands the
// command to the whole program when the artifact needs the JIT (LoadError::Kind::NeedsJit).
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/run_shared.hpp"
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
         ms(t.read_ms) + ", host set-up " + ms(t.setup_ms) + ", link " + ms(t.link_ms) + ")\n";
}

} // namespace

int loadRunArtifact(const RunOptions &options, RunPlan &plan,
                    compiler::artifact::LoadedArtifact &loaded) {
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
  try {
    loaded = compiler::artifact::loadArtifactFile(path, std::move(load_options));
  } catch (const compiler::artifact::LoadError &e) {
    if (e.kind() == compiler::artifact::LoadError::Kind::NeedsJit) {
      throw; // the lean `cep`: the whole program runs it
    }
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
  return checkRunInputs(*loaded.schema, plan);
}

int executeArtifactRun(const compiler::artifact::LoadedArtifact &loaded,
                       const std::vector<runtime::Matcher *> &matchers, const RunOptions &options,
                       const RunPlan &plan) {
  std::string stats =
      "artifact " + options.rules.front() + ": " + std::to_string(matchers.size()) + " patterns, " +
      (loaded.object_code ? "object code loaded" : "bitcode compiled again") + " (O" +
      std::to_string(loaded.header.opt_level) + ")\n" + loadTimes(loaded.timings);
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
  return executeRun(*loaded.schema, matchers, options, plan, stats, more);
}

} // namespace cep::cli
