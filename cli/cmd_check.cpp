// `cep check`: parse and check rule files and their test declarations; print every diagnostic.
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/terminal.hpp"
#include "lang/check_tests.hpp"
#include "lang/frontend.hpp"

#include <iostream>

namespace cep::cli {

int runCheck(const CheckOptions &options) {
  lang::SourceManager sources;
  lang::DiagnosticEngine diags(sources);
  lang::Frontend frontend =
      lang::loadProgram(options.files, sources, diags, {options.import_paths, {}});
  if (frontend.program) {
    // Test declarations (docs/language.md §17): checked here and by `cep test` only.
    lang::checkTests(frontend.modules, *frontend.program, sources, diags);
  }
  if (options.werror) {
    diags.promoteWarnings();
  }
  if (options.format == "json") {
    diags.renderJson(std::cout);
  } else {
    diags.render(std::cerr, useColor(options.color));
    // A total once there is more than one diagnostic to count (one speaks for itself).
    std::size_t errors = diags.errorCount(), warnings = diags.warningCount();
    if (errors + warnings >= 2) {
      std::cerr << "cep check: " << errors << (errors == 1 ? " error, " : " errors, ") << warnings
                << (warnings == 1 ? " warning\n" : " warnings\n");
    }
  }
  if (diags.hasErrors()) {
    return kRuleErrors;
  }
  if (options.verbose && options.format == "text") {
    const auto &program = *frontend.program;
    std::cout << "ok: " << frontend.modules.size() << " file(s), " << program.event_types.size()
              << " event type(s), " << program.patterns.size() << " pattern(s), "
              << program.aggregates.size() << " aggregate(s), " << diags.warningCount()
              << " warning(s)\n";
  }
  return kOk;
}

} // namespace cep::cli
