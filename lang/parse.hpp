// Parsing one `.cep` file into its AST (PEGTL grammar in lang/grammar.hpp).
#pragma once

#include "lang/ast.hpp"
#include "lang/diagnostics.hpp"
#include "lang/source.hpp"

namespace cep::lang {

// Parses `file`. Syntax errors are reported to `diags` (what was expected, where); the parser
// then recovers at the next top-level declaration (`import const def event pattern` at the start
// of a line), so later errors are reported too. Returns every declaration that parsed.
ast::Module parseModule(const SourceFile &file, DiagnosticEngine &diags);

} // namespace cep::lang
