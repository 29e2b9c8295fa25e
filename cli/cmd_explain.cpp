// `cep explain`: print one stage of the pipeline (--emit=ast|typed|nfa|nfa-opt|llvm).
#include <iostream>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/terminal.hpp"
#include "lang/ast_printer.hpp"
#include "lang/frontend.hpp"
#include "lang/typed_printer.hpp"

namespace cep::cli {

int runExplain(const ExplainOptions &options) {
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
  lang::SourceManager sources;
  lang::DiagnosticEngine diags(sources);
  bool color = useColor(options.color);

  if (options.emit == "ast") {
    auto modules = lang::parseFiles(options.files, sources, diags);
    diags.render(std::cerr, color);
    if (diags.hasErrors()) {
      return kRuleErrors;
    }
    for (const auto &module : modules) {
      if (modules.size() > 1) {
        std::cout << "# " << sources.file(module.file).path() << '\n';
      }
      lang::printAstTree(std::cout, module, sources, options.positions);
    }
    return kOk;
  }

  lang::Frontend frontend = lang::loadProgram(options.files, sources, diags);
  diags.render(std::cerr, color);
  if (diags.hasErrors()) {
    return kRuleErrors;
  }
  lang::printTyped(std::cout, *frontend.program);
  return kOk;
}

} // namespace cep::cli
