// A readable dump of the checked program (`cep explain --emit=typed`): event types, output
// streams, patterns with their normalised steps and aggregates with their accumulators. Expressions
// are printed as the checker left them: `$.f` is a field of the event being tested, `float(x)` an
// int->float cast, consts are folded to literals and defs inlined; emit fields show their types.
#pragma once

#include "lang/typed.hpp"

#include <cstdint>
#include <iosfwd>
#include <string>

namespace cep::lang {

void printTyped(std::ostream &out, const typed::Program &program);

// One typed expression as source-like text, with as few parentheses as precedence allows. The
// one printer of typed expressions: the typed dump and the NFA printer (guards) both use it.
struct ExprTextOptions {
  std::int32_t candidate_event = -1; // event type of the candidate (fields of kCandidate)
  bool mark_candidate = false;       // write candidate fields as `$.f` rather than `f`
  bool show_casts = false;           // write int->float widening as `float(x)`
  bool show_calls = false;           // mark an aggregate's accumulator reads: `count(p)#0`
};
// Source precedence, low to high (spec §3.5). `min_prec` is the caller's context: the text is
// parenthesised when it binds looser.
enum ExprPrec : int {
  kPrecOr = 1,
  kPrecAnd = 2,
  kPrecNot = 3,
  kPrecCompare = 4,
  kPrecAdd = 5,
  kPrecMul = 6,
  kPrecUnary = 7,
  kPrecAtom = 8,
};
std::string exprText(const typed::Program &program, const typed::Pattern *pattern,
                     const typed::Expr &e, const ExprTextOptions &options, int min_prec = 0);
// The same for an expression of an aggregate declaration (its one step is step 0), and one of
// its accumulators as the call it computes: `sum(p.amount)`, `last(p).card`.
std::string aggregateExprText(const typed::Program &program, const typed::Aggregate &aggregate,
                              const typed::Expr &e, const ExprTextOptions &options,
                              int min_prec = 0);
std::string aggregateCallText(const typed::Program &program, const typed::Aggregate &aggregate,
                              const typed::AggregateCall &call, const ExprTextOptions &options);
std::string valueText(const typed::Value &v); // a constant as source: 1.0, "s", 10m, [1, 2]
std::string durationText(std::int64_t ms);    // the largest exact unit: 10m, 250ms

} // namespace cep::lang
