// Shared by the checker's unit tests: parse texts as files and check them, keeping the
// diagnostics (rendered without colour) and the typed program.
#pragma once

#include "lang/check.hpp"
#include "lang/parse.hpp"

#include <catch2/catch.hpp>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace cep::lang::test {

struct Checked {
  SourceManager sources;
  DiagnosticEngine diags{sources};
  std::vector<ast::Module> modules;
  std::optional<typed::Program> program;

  std::string rendered() const {
    std::ostringstream out;
    diags.render(out, false);
    return out.str();
  }
};

// Parses each text as one file f<i>.cep (file i imports the files listed in imports[i]) and
// checks them; the texts must parse.
inline std::unique_ptr<Checked> check(const std::vector<std::string> &texts,
                                      std::vector<std::vector<std::size_t>> imports = {}) {
  auto c = std::make_unique<Checked>();
  for (std::size_t i = 0; i < texts.size(); ++i) {
    FileId id = c->sources.add("f" + std::to_string(i) + ".cep", texts[i]);
    c->modules.push_back(parseModule(c->sources.file(id), c->diags));
  }
  REQUIRE(c->diags.errorCount() == 0);
  imports.resize(texts.size());
  c->program = checkProgram(c->modules, imports, c->sources, c->diags);
  return c;
}

inline std::unique_ptr<Checked> check(const std::string &text) {
  return check(std::vector{text});
}

} // namespace cep::lang::test
