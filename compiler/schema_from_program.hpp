// The runtime's view of a checked program: its event types as a runtime::Schema (names, field
// kinds, nullability, the time field), in the program's order so type indices agree, and the
// event types each pattern's stream is made of (docs/semantics.md §1).
#pragma once

#include "lang/typed.hpp"
#include "runtime/schema.hpp"

#include <cstdint>
#include <vector>

namespace cep::compiler {

// Every event type has at most runtime::kMaxFields fields (the checker refuses more).
runtime::Schema schemaFromProgram(const lang::typed::Program &program);

// The event types (schema indices, ascending, each once) that pattern `pattern` mentions:
// every step's, negated steps included.
std::vector<std::uint32_t> patternEventTypes(const lang::typed::Program &program,
                                             std::size_t pattern);

} // namespace cep::compiler
