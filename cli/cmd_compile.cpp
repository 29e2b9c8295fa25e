// `cep compile RULES... -o OUT.cepo`: check the rules, lower and optimise every pattern, generate
// and optimise the program's native code once, and write a .cepo artifact
// (compiler/artifact/cepo.hpp) that `cep run` loads without the source. Exit codes: 0 ok,
// 1 rule errors, 2 usage, 3 the code could not be generated or the file written.
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/output_paths.hpp"
#include "cli/terminal.hpp"
#include "cli/version.hpp"
#include "compiler/artifact/cepo.hpp"
#include "compiler/artifact/signing.hpp"
#include "compiler/driver/pipeline.hpp"

#include <iostream>
#include <string>
#include <vector>

namespace cep::cli {

namespace {

int usage(const std::string &message) {
  std::cerr << "cep compile: " << message << '\n';
  return kUsage;
}

} // namespace

int runCompile(const CompileOptions &options) {
  const std::string suffix = ".cepo";
  if (options.output.size() <= suffix.size() ||
      options.output.compare(options.output.size() - suffix.size(), suffix.size(), suffix) != 0) {
    return usage("the output must be a .cepo file (`cep run` recognises artifacts by it), not \"" +
                 options.output + "\"");
  }
  if (std::string error; !compiler::driver::checkPassNames(options.disabled_passes, error)) {
    return usage(error);
  }

  // The key first: a bad --sign fails before any work.
  compiler::artifact::SecretKey secret_key;
  if (options.sign_key) {
    try {
      secret_key = compiler::artifact::readSecretKeyFile(*options.sign_key);
    } catch (const compiler::artifact::ArtifactError &e) {
      return usage(std::string("--sign: ") + e.what());
    }
  }

  compiler::driver::Pipeline pipeline({options.import_paths, options.disabled_passes});
  bool checked = pipeline.check(options.files);
  bool compilable = !checked || pipeline.requireRunnable(compiler::driver::Engine::Jit);
  pipeline.diagnostics().render(std::cerr, useColor(options.color));
  if (!checked) {
    return kRuleErrors;
  }
  if (!compilable) {
    return kUsage; // an aggregate that cannot be planned (a row wider than the null mask)
  }

  // The artifact must not replace a rule file (or one of its imports).
  std::vector<NamedPath> rule_files;
  for (const std::string &file : pipeline.ruleFiles()) {
    rule_files.push_back({"rule file", file});
  }
  if (std::string conflict = sameFileConflict({{"--output", options.output}}, rule_files);
      !conflict.empty()) {
    return usage(conflict);
  }

  compiler::artifact::Artifact artifact;
  std::string error;
  if (!pipeline.compileArtifact({options.opt_level, CEP_VERSION, !options.no_sources}, artifact,
                                error)) {
    std::cerr << "cep compile: " << error << '\n';
    return kRuntimeFailure;
  }
  std::string bytes = compiler::artifact::encodeArtifact(artifact);
  if (options.sign_key) {
    bytes = compiler::artifact::signArtifact(std::move(bytes), secret_key);
  }
  if (!compiler::artifact::writeArtifactFile(options.output, bytes, error)) {
    std::cerr << "cep compile: " << error << '\n';
    return kRuntimeFailure;
  }
  return kOk;
}

} // namespace cep::cli
