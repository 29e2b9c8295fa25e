// The front-end run that the parse+check fuzzer and the regression replay share: parse one
// in-memory file, check it when it parsed, render the diagnostics. User errors are fine; an
// InternalError or any other exception escaping is a bug (the caller decides how to fail).
#pragma once

#include "lang/check.hpp"
#include "lang/parse.hpp"

#include <ostream>
#include <string>

namespace cep::fuzz {

inline void runFrontend(std::string text, std::ostream &sink) {
  lang::SourceManager sources;
  lang::DiagnosticEngine diags(sources);
  lang::FileId id = sources.add("fuzz.cep", std::move(text));
  std::vector<lang::ast::Module> modules;
  modules.push_back(lang::parseModule(sources.file(id), diags));
  modules.back().file = id;
  if (!diags.hasErrors()) {
    lang::checkProgram(modules, {{}}, sources, diags);
  }
  diags.render(sink, false);
  diags.renderJson(sink);
}

} // namespace cep::fuzz
