// The native matcher: executes a compiled pattern (runtime/native/image.hpp) over a keyed event
// stream with exactly the semantics of the reference interpreter (compiler/interp/nfa_matcher.hpp,
// docs/semantics.md), which it must agree with byte for byte. The transition logic of every
// state is the pattern's generated step function; keys are hashed and compared by generated
// code; emit values are generated functions. This file drives runs, keys, timers, held matches
// and snapshots over a compact layout.
//
// LLVM-free and lang-free: a matcher can be built from a .cepo artifact without the front end.
#pragma once

#include "runtime/matcher.hpp"
#include "runtime/native/image.hpp"
#include "runtime/schema.hpp"

#include <memory>

namespace cep::runtime::native {

std::unique_ptr<Matcher> makeNativeMatcher(std::shared_ptr<const Schema> schema,
                                           std::shared_ptr<const PatternImage> image,
                                           PatternCode code, MatcherOptions options);

} // namespace cep::runtime::native
