// A readable dump of the checked program (`cep explain --emit=typed`): event types, output
// streams and patterns with their normalised steps. Expressions are printed as the checker left
// them: `$.f` is a field of the event being tested, `float(x)` an int->float cast, consts are
// folded to literals and defs inlined; emit fields show their types.
#pragma once

#include "lang/typed.hpp"

#include <iosfwd>

namespace cep::lang {

void printTyped(std::ostream &out, const typed::Program &program);

} // namespace cep::lang
