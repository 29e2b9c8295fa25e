// The contract between the LLVM backend (compiler/codegen, compiler/jit) and the native matcher
// (runtime/native/native_matcher.hpp): what a compiled pattern is once it has left the compiler.
//
//   PatternImage  plain data: the pattern's states, steps, key, skip strategy, output shape and
//                 the symbol names of its compiled functions. Built by the compiler from the
//                 checked program and the optimised NFA, written into .cepo artifacts and read
//                 back from them, so a matcher never needs lang/ or the front end.
//   PatternCode   the addresses of those functions once a JIT has loaded the module, and a
//                 handle that keeps the module loaded.
//
// The generated functions have a C ABI (below). Events are runtime/event.hpp blocks; `ctx` is
// what the native matcher passes for "the run being looked at" and generated code reaches it
// only through the cep_rt_* helpers (implemented in runtime/native, offered to the JIT as
// absolute symbols).
//
// LLVM-free and lang-free.
#pragma once

#include "runtime/event.hpp"
#include "runtime/schema.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

extern "C" {

// One TAKE or IGNORE edge a run follows on an event: the decision graph of Flink's
// computeNextStates for one run, PROCEED edges already followed (docs/semantics.md §2).
struct CepBranch {
  std::uint8_t take;        // 1: TAKE (bind the event to `source`'s step), 0: IGNORE
  std::uint8_t reserved[3]; // zero
  std::int32_t source;      // the state whose edge this is
  std::int32_t target;      // the state the new run is in
  std::uint32_t counter;    // the new run's loop counter (after counts / resets_counter)
  std::int32_t final_state; // TAKE only: the $final state reached from `target` through PROCEED
                            // edges whose guards pass on the same event (Flink's
                            // findFinalStateAfterProceed, guards read the run's bound events
                            // before this TAKE); -1 when none (and always for IGNORE)
};

// A value written by a generated emit-value function. Strings are (s, n) byte ranges valid until
// the next call with the same context (event bytes, literals or the context's arena).
struct CepValue {
  std::uint8_t null;
  std::uint8_t b;
  std::int64_t i;
  double f;
  const char *s;
  std::uint64_t n;
};

// The decision graph of a run in `state` with loop counter `counter` on event `e`: writes the
// branches, in the reference interpreter's order (compiler/interp/nfa_matcher.cpp nextRuns: the
// state's own TAKE/IGNORE edges in edge order, then the targets of its passing PROCEED edges,
// last edge first, recursively), to `out` (room for PatternImage::max_branches) and returns how
// many. Sets *discard to 1 when a PROCEED edge whose guard passes leads to a Stop state, else
// leaves it unchanged. `ctx` gives the run's bound events (a fresh run: none).
typedef std::uint32_t (*CepStepFn)(const cep::runtime::Event *e, const void *ctx,
                                   std::uint32_t state, std::uint32_t counter, CepBranch *out,
                                   std::uint8_t *discard);
// 0 when `e` can change no run of the pattern in any state and start none (every TAKE and
// PROCEED guard is false on it, and every state's IGNORE self-loop holds); 2 when runs may
// change but the fresh run in the start state takes nothing (the start-state filter: the start
// state's step need not be called); 1 otherwise. May answer 1 when unsure (conditions reading
// bound events or the loop counter count as unsure). Code compiled before the start-state filter
// answers only 0 or 1, which stays correct.
typedef std::uint8_t (*CepPrefilterFn)(const cep::runtime::Event *e);
// The partition key: a hash of the key field values of `e` (by its type's key fields), and
// equality of two events' keys (null equals null; floats compare by bit pattern, as their JSON
// text does; strings by bytes). A pattern without `partition by` has one key: hash 0, always
// equal.
typedef std::uint64_t (*CepKeyHashFn)(const cep::runtime::Event *e);
typedef std::uint8_t (*CepKeyEqFn)(const cep::runtime::Event *a, const cep::runtime::Event *b);
// An emit field's value for the match or timed-out run behind `ctx` (there is no candidate).
typedef void (*CepValueFn)(const cep::runtime::Event *candidate, const void *ctx, CepValue *out);

// Helpers generated code calls (implemented by the native matcher).
// Bound events of `step` in the run or match behind `ctx` (0 when nothing is bound).
std::int64_t cep_rt_bound_count(const void *ctx, std::int32_t step);
// The `index`-th (0-based, match order) event bound to `step`; index < cep_rt_bound_count.
const cep::runtime::Event *cep_rt_bound_at(const void *ctx, std::int32_t step, std::int64_t index);
// `size` bytes in the context's arena (valid until the context is reused).
char *cep_rt_alloc(const void *ctx, std::uint64_t size);
// Bytewise three-way comparison of two strings: -1, 0 or 1.
std::int32_t cep_rt_strcmp(const char *a, std::uint64_t an, const char *b, std::uint64_t bn);

} // extern "C"

namespace cep::runtime::native {

// Bumped whenever the generated functions' signatures, CepBranch/CepValue, the Event layout or
// the cep_rt_* helpers change, or what a module must define (2: each image's fingerprint global,
// image_codec.hpp imageFingerprint): a .cepo built for another ABI version is refused.
// A new cep_rt_* helper needs no bump: old artifacts do not call it, and an older build refuses
// an artifact that does when verifying it ("undefined symbol ... is not a cep host function").
constexpr std::uint32_t kAbiVersion = 2;

enum class StateKind : std::uint8_t { Normal, Final, Stop, Pending }; // as compiler/nfa/ir.hpp
enum class Skip : std::uint8_t { None, PastLast, ToNext, ToFirst, ToLast };
// The kind of an emitted value (Null: the literal `null`, always null).
enum class ValueKind : std::uint8_t { Null, Bool, Int, Float, String, Time, Duration };

constexpr std::int64_t kNoBound = -1; // within_ms: no bound

struct StateInfo {
  std::string name; // stable: snapshots refer to states by name
  StateKind kind = StateKind::Normal;
  std::int32_t step = -1;            // the step TAKE edges from here bind to; -1 for none
  std::int64_t within_ms = kNoBound; // per-step bound while a run waits here
  bool completes_at_end = false;     // a run waiting here completes at end of input (also Pending)
};

struct StepInfo {
  std::string name;
  bool negated = false; // binds nothing; left out of "@events"
  // The event type it takes (index into Schema::types): moving a state into a new version checks
  // that each bound event's type is its step's (runtime/state/migration.hpp).
  std::int32_t event_type = -1;
};

struct OutputField {
  std::string name;
  ValueKind kind = ValueKind::Null;
  std::string symbol; // its CepValueFn
};

struct EmitShape {
  std::string stream; // "@stream"
  std::vector<OutputField> fields;
};

struct PatternImage {
  std::string name;                       // "@pattern"
  std::int32_t index = 0;                 // declaration index in the program
  std::vector<std::uint32_t> event_types; // the types of the pattern's stream, ascending
  std::vector<StepInfo> steps;
  std::vector<StateInfo> states;
  std::int32_t start = 0;
  std::int64_t within_ms = kNoBound; // whole-match bound
  Skip skip = Skip::PastLast;
  std::int32_t skip_step = -1; // ToFirst / ToLast
  // Key fields by event type (index into Schema::types; empty for types outside the stream).
  // "@key" is the value of the single field, an array of them when there are several, or null
  // when the pattern has no `partition by` (keyed == false).
  bool keyed = false;
  std::vector<std::vector<std::int32_t>> key_fields;
  EmitShape emit;
  bool has_timeout_emit = false;
  EmitShape timeout_emit;
  std::uint32_t max_branches = 1; // CepStepFn never writes more
  // Symbols of the generated functions in the module.
  std::string step_symbol, prefilter_symbol, key_hash_symbol, key_eq_symbol;
};

// The loaded functions of one pattern. `module` keeps the code loaded (the JIT's resource
// tracker); the function pointers are valid while any copy of it lives.
struct PatternCode {
  CepStepFn step = nullptr;
  CepPrefilterFn prefilter = nullptr;
  CepKeyHashFn key_hash = nullptr;
  CepKeyEqFn key_eq = nullptr;
  std::vector<CepValueFn> emit;         // parallel to PatternImage::emit.fields
  std::vector<CepValueFn> timeout_emit; // parallel to PatternImage::timeout_emit.fields
  std::shared_ptr<void> module;
};

} // namespace cep::runtime::native
