// `cep explain`: print one stage of the pipeline (--emit=ast|typed|nfa|nfa-opt|llvm|agg).
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/terminal.hpp"
#include "compiler/driver/pipeline.hpp"
#include "compiler/jit/jit.hpp"
#include "compiler/nfa/printer.hpp"
#include "lang/ast_printer.hpp"
#include "lang/typed_printer.hpp"

#include <iostream>
#include <string>
#include <vector>

namespace cep::cli {

namespace {

std::string joined(const std::vector<std::string> &names) {
  std::string s;
  for (const auto &n : names) {
    s += (s.empty() ? "" : ", ") + n;
  }
  return s;
}

// --emit=nfa|nfa-opt: each pattern's automaton, lowered and verified, then optimised.
// --emit=llvm: the optimised LLVM IR of each pattern's native functions (step, prefilter, key,
// emit values).
int explainNfa(const ExplainOptions &options) {
  if (options.emit == "llvm" && options.format != "text") {
    std::cerr << "cep explain: --format dot applies to --emit=nfa and nfa-opt\n";
    return kUsage;
  }
  if (std::string error; !compiler::driver::checkPassNames(options.disabled_passes, error)) {
    std::cerr << "cep explain: " << error << '\n';
    return kUsage;
  }
  compiler::driver::Pipeline pipeline({options.import_paths, options.disabled_passes});
  bool checked = pipeline.check(options.files);
  pipeline.diagnostics().render(std::cerr, useColor(options.color));
  if (!checked) {
    return kRuleErrors;
  }
  const lang::typed::Program &program = pipeline.program();
  std::vector<int> selected;
  std::vector<std::string> names;
  for (std::size_t i = 0; i < program.patterns.size(); ++i) {
    names.push_back(program.patterns[i].name);
    if (!options.pattern || *options.pattern == program.patterns[i].name) {
      selected.push_back(static_cast<int>(i));
    }
  }
  if (options.pattern && selected.empty()) {
    std::cerr << "cep explain: no pattern `" << *options.pattern << "`"
              << (names.empty() ? std::string(" (the files declare no pattern)")
                                : " (patterns: " + joined(names) + ")")
              << '\n';
    return kUsage;
  }
  std::vector<compiler::nfa::Nfa> nfas = pipeline.lower(selected, options.emit != "nfa");
  if (options.emit == "llvm") {
    for (std::size_t i = 0; i < nfas.size(); ++i) {
      std::string ir, error;
      if (!compiler::jit::patternIr(program, nfas[i], options.opt_level, ir, error)) {
        std::cerr << "cep explain: " << error << '\n';
        return kRuntimeFailure;
      }
      std::cout << (i > 0 ? "\n" : "") << "; pattern " << nfas[i].pattern << '\n' << ir;
    }
    return kOk;
  }
  if (options.format == "dot") {
    std::vector<const compiler::nfa::Nfa *> all;
    for (const auto &n : nfas) {
      all.push_back(&n);
    }
    compiler::nfa::printDot(std::cout, all);
    return kOk;
  }
  for (std::size_t i = 0; i < nfas.size(); ++i) {
    if (i > 0) {
      std::cout << '\n';
    }
    compiler::nfa::printText(std::cout, nfas[i]);
  }
  return kOk;
}

// --emit=agg: each aggregate's plan (compiler/aggregate/plan.hpp).
int explainAggregates(const ExplainOptions &options) {
  if (options.format != "text" || !options.disabled_passes.empty()) {
    std::cerr << "cep explain: --format dot and --disable-pass apply to --emit=nfa, nfa-opt and "
                 "llvm\n";
    return kUsage;
  }
  compiler::driver::Pipeline pipeline({options.import_paths, {}});
  bool checked = pipeline.check(options.files);
  bool plannable = !checked || pipeline.requireRunnable(compiler::driver::Engine::Interp);
  pipeline.diagnostics().render(std::cerr, useColor(options.color));
  if (!checked) {
    return kRuleErrors;
  }
  if (!plannable) {
    return kUsage;
  }
  const lang::typed::Program &program = pipeline.program();
  std::vector<std::string> names;
  bool first = true;
  for (const compiler::aggregate::AggregatePlan &plan : pipeline.aggregatePlans()) {
    names.push_back(plan.name);
    if (options.pattern && *options.pattern != plan.name) {
      continue;
    }
    std::cout << (first ? "" : "\n") << compiler::aggregate::printPlan(program, plan);
    first = false;
  }
  if (options.pattern && first) {
    std::cerr << "cep explain: no aggregate `" << *options.pattern << "`"
              << (names.empty() ? std::string(" (the files declare no aggregate)")
                                : " (aggregates: " + joined(names) + ")")
              << '\n';
    return kUsage;
  }
  return kOk;
}

} // namespace

int runExplain(const ExplainOptions &options) {
  if (options.why) {
    return runExplainWhy(options);
  }
  if (options.format == "json" || !options.inputs.empty() || options.key) {
    std::cerr << "cep explain: --format json, -i and --key go with --why\n";
    return kUsage;
  }
  if (options.files.size() == 1 && options.files.front().size() > 5 &&
      options.files.front().ends_with(".cepo")) {
    return runExplainArtifact(options);
  }
  if (options.emit == "nfa" || options.emit == "nfa-opt" || options.emit == "llvm") {
    return explainNfa(options);
  }
  if (options.emit == "agg") {
    return explainAggregates(options);
  }
  if (options.emit != "ast" && options.emit != "typed") {
    std::cerr << "cep explain: --emit=" << options.emit
              << " is not available in this build yet (see docs/ROADMAP.md)\n";
    return kUsage;
  }
  if (options.pattern || options.format != "text" || !options.disabled_passes.empty()) {
    std::cerr << "cep explain: --pattern, --format and --disable-pass apply to "
                 "--emit=nfa, nfa-opt and llvm\n";
    return kUsage;
  }
  compiler::driver::Pipeline pipeline({options.import_paths, {}});
  bool color = useColor(options.color);

  if (options.emit == "ast") {
    bool parsed = pipeline.parse(options.files);
    pipeline.diagnostics().render(std::cerr, color);
    if (!parsed) {
      return kRuleErrors;
    }
    const std::vector<lang::ast::Module> &modules = pipeline.modules();
    for (const auto &module : modules) {
      if (modules.size() > 1) {
        std::cout << "# " << pipeline.sources().file(module.file).path() << '\n';
      }
      lang::printAstTree(std::cout, module, pipeline.sources(), options.positions);
    }
    return kOk;
  }

  bool checked = pipeline.check(options.files);
  pipeline.diagnostics().render(std::cerr, color);
  if (!checked) {
    return kRuleErrors;
  }
  lang::printTyped(std::cout, pipeline.program());
  return kOk;
}

} // namespace cep::cli
