// Two views of an AST:
//  - printAstTree: the tree, one node per line, indented, with `line:col` of each node
//    (`cep explain --emit=ast`); without positions it is the form the round-trip test compares.
//  - printSource: canonical `.cep` source for the module; parsing it again gives the same tree.
#pragma once

#include "lang/ast.hpp"
#include "lang/source.hpp"

#include <iosfwd>

namespace cep::lang {

void printAstTree(std::ostream &out, const ast::Module &module, const SourceManager &sources,
                  bool positions);
void printSource(std::ostream &out, const ast::Module &module);

} // namespace cep::lang
