// `cep compile RULES... -o OUT.cepo`: check the rules, lower and optimise every pattern, generate
// and optimise the program's native code once, and write a .cepo artifact
// (compiler/artifact/cepo.hpp) that `cep run` loads without the source. Exit codes: 0 ok,
// 1 rule errors, 2 usage, 3 the code could not be generated or the file written.
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/output_paths.hpp"
#include "cli/terminal.hpp"
#include "cli/version.hpp"
#include "compiler/artifact/aot.hpp"
#include "compiler/artifact/cepo.hpp"
#include "compiler/artifact/signing.hpp"
#include "compiler/lower/lower_pattern.hpp"
#include "compiler/passes/pass_manager.hpp"
#include "compiler/schema_from_program.hpp"
#include "lang/frontend.hpp"

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

namespace cep::cli {

namespace {

int usage(const std::string &message) {
  std::cerr << "cep compile: " << message << '\n';
  return kUsage;
}

// `path` relative to `base` (both made absolute), '/'-separated: the artifact never records
// where the rules were on the machine that compiled them.
std::string relativeName(const std::string &path, const std::filesystem::path &base) {
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(path, ec).lexically_normal();
  std::filesystem::path relative = absolute.lexically_relative(base);
  return (relative.empty() ? std::filesystem::path(path).filename() : relative).generic_string();
}

} // namespace

int runCompile(const CompileOptions &options) {
  const std::string suffix = ".cepo";
  if (options.output.size() <= suffix.size() ||
      options.output.compare(options.output.size() - suffix.size(), suffix.size(), suffix) != 0) {
    return usage("the output must be a .cepo file (`cep run` recognises artifacts by it), not \"" +
                 options.output + "\"");
  }
  compiler::passes::PassManager passes = compiler::passes::PassManager::standard();
  if (std::string error; !passes.disableAll(options.disabled_passes, error)) {
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

  lang::SourceManager sources;
  lang::DiagnosticEngine diags(sources);
  lang::Frontend frontend =
      lang::loadProgram(options.files, sources, diags, {options.import_paths});
  diags.render(std::cerr, useColor(options.color));
  if (diags.hasErrors()) {
    return kRuleErrors;
  }
  const lang::typed::Program &program = *frontend.program;
  for (const lang::typed::EventType &type : program.event_types) {
    if (type.fields.size() > runtime::kMaxFields) {
      std::cerr << "cep compile: event type `" << type.name << "` has " << type.fields.size()
                << " fields; at most " << runtime::kMaxFields << " are supported\n";
      return kRuleErrors;
    }
  }

  // The artifact must not replace a rule file (or one of its imports).
  std::vector<NamedPath> rule_files;
  for (const lang::ast::Module &module : frontend.modules) {
    rule_files.push_back({"rule file", sources.file(module.file).path()});
  }
  if (std::string conflict = sameFileConflict({{"--output", options.output}}, rule_files);
      !conflict.empty()) {
    return usage(conflict);
  }

  compiler::artifact::Artifact artifact;
  compiler::artifact::Header &header = artifact.header;
  header.cep_version = CEP_VERSION;
  std::error_code ec;
  std::filesystem::path base =
      std::filesystem::absolute(options.files.front(), ec).lexically_normal().parent_path();
  std::vector<compiler::artifact::NamedSource> named;
  for (const lang::ast::Module &module : frontend.modules) {
    const lang::SourceFile &file = sources.file(module.file);
    named.push_back({relativeName(file.path(), base), file.text()});
    header.sources.push_back(named.back().name);
  }
  header.source_hash = compiler::artifact::sourceHash(named);
  header.disabled_passes = options.disabled_passes;
  std::sort(header.disabled_passes.begin(), header.disabled_passes.end());
  header.disabled_passes.erase(
      std::unique(header.disabled_passes.begin(), header.disabled_passes.end()),
      header.disabled_passes.end());
  artifact.schema = compiler::schemaFromProgram(program);

  std::vector<compiler::nfa::Nfa> nfas;
  for (std::size_t i = 0; i < program.patterns.size(); ++i) {
    nfas.push_back(compiler::lowerPattern(program, static_cast<std::int32_t>(i)));
    passes.run(nfas.back());
  }
  std::string error;
  if (!compiler::artifact::compileProgram(program, nfas, options.opt_level, artifact, error)) {
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
