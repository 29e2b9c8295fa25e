// `cep run x.cepo`: run rules compiled ahead of time (compiler/artifact/cepo.hpp) without the
// source or the front end. The schema and the patterns come from the artifact; the code is its
// object code when it was built for this host's triple, CPU and CPU features, else its bitcode
// compiled again by the JIT (said on stderr with --stats). Then the run is exactly `cep run
// rules.cep`'s (run_shared.hpp).
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/run_shared.hpp"
#include "compiler/artifact/aot.hpp"
#include "compiler/artifact/cepo.hpp"
#include "compiler/artifact/signing.hpp"
#include "compiler/jit/jit.hpp"
#include "compiler/jit/verify_code.hpp"
#include "runtime/native/native_matcher.hpp"

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

} // namespace

int runArtifact(const RunOptions &options, RunPlan &plan) {
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
  compiler::artifact::Artifact artifact;
  try {
    artifact =
        compiler::artifact::readArtifactFile(path, options.trust.empty() ? nullptr : &trusted);
  } catch (const compiler::artifact::ArtifactError &e) {
    std::cerr << "cep run: " << e.what() << '\n';
    return kRuleErrors;
  }
  plan.rule_files.push_back({"artifact", path});
  if (int code = checkRunInputs(artifact.schema, plan); code != kOk) {
    return code;
  }
  std::string error;
  compiler::artifact::Target host;
  if (!compiler::artifact::hostTarget(host, error)) {
    return runFailure(error);
  }
  // CEP_FORCE_BITCODE=1 takes the other-CPU path on this host (the golden tests run both).
  const char *force_bitcode = std::getenv("CEP_FORCE_BITCODE");
  bool native = host == artifact.header.target &&
                (force_bitcode == nullptr || std::string(force_bitcode) != "1");
  std::string stats;
  if (!native && options.stats) {
    std::cerr << "cep run: " << path << " was built for " << describe(artifact.header.target)
              << "; this host is " << describe(host) << ": compiling its bitcode again\n";
  }
  auto jit = compiler::jit::Jit::create(artifact.header.opt_level, error);
  if (!jit) {
    return runFailure(error);
  }
  // Refused like a damaged artifact (exit 1): code that does not match its images.
  if (!(native ? compiler::jit::verifyObjectCode(artifact.object, artifact.schema,
                                                 artifact.patterns, error)
               : compiler::jit::verifyBitcode(artifact.bitcode, artifact.schema, artifact.patterns,
                                              error))) {
    std::cerr << "cep run: " << path << ": corrupt: " << error << '\n';
    return kRuleErrors;
  }
  std::size_t patterns = artifact.patterns.size();
  auto loaded = native ? jit->loadObject(artifact.object, artifact.schema,
                                         std::move(artifact.patterns), error)
                       : jit->loadBitcode(artifact.bitcode, artifact.schema,
                                          std::move(artifact.patterns), error);
  if (!loaded || loaded->code.size() != patterns || loaded->images.size() != patterns) {
    return runFailure(path + ": " + error);
  }
  auto schema = std::make_shared<const runtime::Schema>(std::move(artifact.schema));
  runtime::MatcherOptions matcher_options = matcherOptions(options, plan);
  std::vector<std::unique_ptr<runtime::Matcher>> owned;
  std::vector<runtime::Matcher *> matchers;
  for (std::size_t i = 0; i < patterns; ++i) {
    owned.push_back(runtime::native::makeNativeMatcher(
        schema, loaded->images[i], std::move(loaded->code[i]), matcher_options));
    matchers.push_back(owned.back().get());
  }
  stats = "artifact " + path + ": " + std::to_string(matchers.size()) + " patterns, " +
          (native ? "object code loaded" : "bitcode compiled again") + " (O" +
          std::to_string(artifact.header.opt_level) + ")\n";
  return executeRun(*schema, matchers, options, plan, stats);
}

} // namespace cep::cli
