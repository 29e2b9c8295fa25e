// The type checker's shared state. Internal to the checker (lang/check*.cpp): nothing outside
// these files includes this header; the public entry point is lang/check.hpp.
//
// The passes, in the order the driver (check.cpp) runs them:
//   check_decls.cpp   event types, per-file scopes of consts and defs, def and const checking,
//                     unused-declaration warnings
//   check_names.cpp   names in each scope, step references, field access
//   check_expr.cpp    expressions: literals, operators, lists, `in`, `is null`
//   check_calls.cpp   calls: built-ins, aggregates over loops, `if`, `coalesce`, def inlining
//   const_fold.cpp    evaluating operators over literals (consts, `within`, folded conditions)
//   check_pattern.cpp patterns: steps, quantifiers, modifiers, negation, keys, skip, `within`
//   check_emit.cpp    `emit` records and the program-wide output streams
//   check_aggregate.cpp aggregate declarations (spec §8): window, lateness, ttl, the one step,
//                     `having`, the distinct aggregate calls
#pragma once

#include "lang/ast.hpp"
#include "lang/diagnostics.hpp"
#include "lang/source.hpp"
#include "lang/typed.hpp"
#include "lang/types.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace cep::lang {

// The step of a def parameter while the def's own body is checked on its own, before any call
// binds it to a real step (that check only reports errors; its expression is discarded).
constexpr std::int32_t kUncheckedDefParam = -2;

// The most expression nodes one def call may expand to (a list counts one node per element).
// Defs are inlined at every call, so a def that calls another several times multiplies its size
// at every level of nesting; past this the call is an error (docs/limits.md).
constexpr std::size_t kMaxDefExpansion = 100000;

// The most steps a pattern may have. Each step becomes NFA states with native functions of their
// own, and LLVM takes ~15 ms a step at -O2 (bench/RESULTS.md): past this a pattern is refused
// rather than compiled for minutes, by every engine alike (docs/limits.md).
constexpr std::size_t kMaxPatternSteps = 1000;

// The most nodes one expression (a step's condition or `until`, an emit value) may have once
// its defs are inlined. Each becomes one native function, and LLVM's time grows faster than its
// size (~1 ms a node at 1,000, ~9 ms at 7,700 at -O2: bench/RESULTS.md); docs/limits.md.
constexpr std::size_t kMaxExpressionNodes = 5000;

// What the names in an expression can mean.
enum class ScopeKind {
  Const,     // a const's value, a `within`: other consts only
  Def,       // a def's body: its parameters, then consts
  Condition, // a step's condition or `until`: the candidate's fields, then steps, then consts
  Emit,      // an `emit` field: steps, then consts
};

// A step of the pattern being checked, as expressions see it.
struct StepInfo {
  std::string name; // empty for an unnamed negated step
  SourceRange name_range;
  std::int32_t event = -1; // -1: unknown event type (already reported)
  bool looping = false;
  bool optional = false;
  bool negated = false;
};

// A def parameter in scope while a def body is checked.
struct ParamBinding {
  std::string name;
  Type type;                        // a scalar type, or Event (type.event) for event parameters
  const typed::Expr *arg = nullptr; // inlining a scalar parameter: the argument to substitute
  std::int32_t step = kUncheckedDefParam; // event parameter: the step it stands for (or kCandidate)
};

struct Scope {
  ScopeKind kind = ScopeKind::Const;
  std::size_t module = 0;                            // whose consts and defs are visible
  const std::vector<StepInfo> *steps = nullptr;      // Condition, Emit
  std::int32_t current = -1;                         // Condition: the step being tested
  bool timeout = false;                              // Emit: `on timeout emit`
  const std::vector<ParamBinding> *params = nullptr; // Def
  std::string def_name;                              // Def: for messages
  const char *clause = nullptr; // Const: the duration clause being checked (`within`, `window`,
                                // `lateness`, `ttl`), not a const
  bool aggregate_decl = false;  // Condition, Emit: of an aggregate declaration (spec §8)
};

// An example field of an event type for messages: the first whose type satisfies `pred`.
std::string exampleField(const typed::EventType &et, bool (*pred)(const Type &));
// What can be done with field `f` (of type `t`) of looping step `s`: the note of `s.f` errors.
// `distinct`: in an aggregate declaration, where `count_distinct` exists too.
std::string loopHint(const std::string &s, const std::string &f, const Type &t,
                     bool distinct = false);

enum class CheckState { Unchecked, InProgress, Done };

struct DeclRef {
  enum class Kind { Const, Def };
  Kind kind = Kind::Const;
  std::size_t index = 0; // into Checker::consts_ / defs_
};

struct ConstInfo {
  const ast::Const *decl = nullptr;
  std::size_t module = 0;
  CheckState state = CheckState::Unchecked;
  Type type = Type::error(); // error: the const could not be evaluated (already reported)
  typed::Value value;
  bool used = false;
  bool duplicate = false;
};

struct DefParam {
  std::string name;
  Type type; // scalar, or Event; error when the written type was wrong
  SourceRange range;
};

struct DefInfo {
  const ast::Def *decl = nullptr;
  std::size_t module = 0;
  CheckState state = CheckState::Unchecked;
  std::vector<DefParam> params;
  Type result = Type::error(); // error: the def is broken (already reported); calls are silent
  bool used = false;
  bool duplicate = false; // a second declaration of its name (reported; never in scope)
};

// Collects what an aggregate's argument ranges over while it is checked.
struct AggregateState {
  std::int32_t loop = -1; // the looping step whose events are aggregated
  std::string loop_name;
  std::string single_name; // a single step's field was used: for the "use `a.f`" hint
  std::string single_field;
  bool reported = false; // an error about the argument was already reported
};

// Resolving a name that may denote a step (or an event parameter).
struct StepRef {
  enum class Kind { NotAStep, Error, Event, Loop };
  Kind kind = Kind::NotAStep;
  std::int32_t step = typed::kCandidate; // Event: the step (kCandidate: the event being tested)
  std::int32_t event = -1;
  bool nullable = false;
  bool own = false; // Loop: the loop whose condition is being checked
  std::string name;
};

// A deep copy (inlining substitutes an argument at every use of its parameter).
typed::ExprPtr cloneExpr(const typed::Expr &e);
// The nodes of `e` as kMaxDefExpansion counts them: one per node and one per list element.
std::size_t expansionSize(const typed::Expr &e);

// The expansion of one outermost def call while it is inlined (check_calls.cpp).
struct Expansion {
  std::vector<std::size_t> chain; // the defs being inlined, outermost first; empty: none
  std::size_t nodes = 0;          // expression nodes built for the outermost call so far
  bool exceeded = false;          // nodes passed kMaxDefExpansion: everything left is skipped
  std::vector<std::size_t> over;  // the chain when it passed the limit
};

class Checker {
public:
  Checker(const std::vector<ast::Module> &modules,
          const std::vector<std::vector<std::size_t>> &resolved_imports,
          const SourceManager &sources, DiagnosticEngine &diags);

  std::optional<typed::Program> run();

private:
  // --- diagnostics and names (check.cpp) -------------------------------------------------------
  class Report {
  public:
    explicit Report(Diagnostic *d) : d_(d) {}
    Report &note(std::string message, std::optional<SourceRange> range = std::nullopt);

  private:
    Diagnostic *d_; // null while inlining a def (errors were reported on the def itself)
  };
  Report error(SourceRange range, std::string message);
  Report warning(SourceRange range, std::string message);
  std::string fileName(std::size_t module) const;
  std::string sourceText(SourceRange range) const;
  std::string typeText(const Type &t) const; // `int`, `string?`, `Payment`, `list<int>`
  std::string eventName(std::int32_t event) const;

  // --- declarations (check_decls.cpp) ----------------------------------------------------------
  void computeVisibility();
  void collectEventTypes();
  Type resolveScalarType(const ast::TypeRef &ref, const char *what);
  void buildScopes();
  void checkDefs();
  void ensureDef(std::size_t index, SourceRange use);
  // "`a` -> `b` -> `a`": the declarations of `kind` on decl_stack_ from `index` to the top,
  // closed by `index` again (for cycle errors).
  std::string cyclePath(DeclRef::Kind kind, std::size_t index) const;
  void checkConsts();
  void ensureConst(std::size_t index, SourceRange use);
  void warnUnused();
  // Internal invariants of the finished program (CEP_ASSERT): nothing after this stage re-checks.
  void verify() const;
  const DeclRef *lookupDecl(std::size_t module, const std::string &name) const;
  // Resolves an event type name as seen from `module`; reports unknown or not imported names.
  std::int32_t lookupEvent(std::size_t module, const ast::Ident &name);
  std::vector<std::string> constNamesIn(std::size_t module) const;
  std::vector<std::string> defNamesIn(std::size_t module) const;
  // Adds a note when `name` is a const/def/event declared in a file `module` does not import.
  void noteNotImported(Report &report, std::size_t module, const std::string &name);

  // --- expressions (check_expr.cpp, check_names.cpp)
  // ------------------------------------------------------------
  typed::ExprPtr checkExpr(const ast::Expr &e, const Scope &scope);
  // checkExpr, then requires a scalar value (not a step, a loop, a list or `null`).
  typed::ExprPtr checkValue(const ast::Expr &e, const Scope &scope);
  // checkValue, then requires `bool`; `what` names the place for the message ("a condition").
  typed::ExprPtr checkBool(const ast::Expr &e, const Scope &scope, const std::string &what);
  // Reports (and turns into an error node) a step, loop, list or `null` where a value is needed.
  void requireValue(typed::ExprPtr &x, const ast::Expr &e, bool allow_null);
  // Reports (and turns into an error node) an expression over kMaxExpressionNodes; `what` names
  // it for the message ("this condition").
  void requireSize(typed::ExprPtr &x, const ast::Expr &e, const std::string &what);
  typed::ExprPtr checkName(const ast::Expr &e, const Scope &scope);
  typed::ExprPtr checkMember(const ast::Expr &e, const Scope &scope);
  typed::ExprPtr fieldOf(const StepRef &ref, const ast::Expr &e, const ast::Ident &field,
                         typed::Op op);
  typed::ExprPtr checkUnary(const ast::Expr &e, const Scope &scope);
  typed::ExprPtr checkBinary(const ast::Expr &e, const Scope &scope);
  typed::ExprPtr checkLogic(const ast::Expr &e, const Scope &scope);
  typed::ExprPtr checkComparison(const ast::Expr &e, const Scope &scope);
  typed::ExprPtr checkArithmetic(const ast::Expr &e, const Scope &scope);
  typed::ExprPtr checkIsNull(const ast::Expr &e, const Scope &scope);
  typed::ExprPtr checkIn(const ast::Expr &e, const Scope &scope);
  typed::ExprPtr checkList(const ast::Expr &e, const Scope &scope);
  StepRef lookupStep(const std::string &name, SourceRange range, const Scope &scope);
  typed::ExprPtr constRef(std::size_t index, SourceRange range);
  // The common type of two values for `if`, `coalesce`, min/max, lists (int widens to float);
  // nullopt when they do not fit together.
  std::optional<Type> unify(const Type &a, const Type &b) const;
  // Wraps `x` in a Cast to float when it is an int and `to` is float.
  typed::ExprPtr widen(typed::ExprPtr x, TypeKind to);
  SourceRange nodeRange(SourceRange r) const { return inline_range_ ? *inline_range_ : r; }
  typed::ExprPtr errorNode(SourceRange r) const;
  typed::ExprPtr literal(typed::Value v, Type t, SourceRange r) const;
  typed::ExprPtr node(typed::Op op, Type t, SourceRange r) const;

  // --- calls (check_calls.cpp) -----------------------------------------------------------------
  typed::ExprPtr checkCall(const ast::Expr &e, const Scope &scope);
  typed::ExprPtr checkAggregate(const ast::Expr &e, const Scope &scope, typed::Op op);
  typed::ExprPtr checkFirstLast(const ast::Expr &member, const Scope &scope);
  typed::ExprPtr checkIf(const ast::Expr &e, const Scope &scope);
  typed::ExprPtr checkCoalesce(const ast::Expr &e, const Scope &scope);
  typed::ExprPtr checkBuiltin(const ast::Expr &e, const Scope &scope);
  typed::ExprPtr inlineDef(std::size_t index, const ast::Expr &e, const Scope &scope);
  typed::ExprPtr checkDefBody(std::size_t index, const std::vector<ParamBinding> &params);
  bool arityOk(const ast::Expr &e, std::size_t min, std::size_t max, const std::string &signature);
  // Counts `nodes` against the expansion of the def call being inlined (always true outside
  // one); false once it is over kMaxDefExpansion, and then the caller builds nothing more.
  bool spend(std::size_t nodes);
  // The error of an outermost def call whose expansion went over kMaxDefExpansion (once a def).
  void reportTooLarge(std::size_t index, const ast::Expr &call);
  std::vector<std::string> functionNames(std::size_t module) const;

  // --- folding (const_fold.cpp) ----------------------------------------------------------------
  // Replaces `x` by a literal when it is an operator over literals; reports overflow and
  // division by zero.
  void fold(typed::ExprPtr &x);
  // False, with an error at `range`, when the duration `ms` is longer (either sign) than
  // time::kMaxDurationMs: no rule may hold one, so no deadline can get near the int64 limits.
  bool durationInRange(SourceRange range, std::int64_t ms);

  // --- patterns (check_pattern.cpp) ------------------------------------------------------------
  void checkPatterns();
  std::optional<typed::Pattern> checkPattern(std::size_t module, const ast::Pattern &p);
  void normaliseQuantifier(const ast::Step &s, typed::Step &out);
  void checkModifiers(const ast::Step &s, const StepInfo &info, typed::Step &out);
  void checkNegation(const ast::Pattern &p, std::size_t i, const std::vector<StepInfo> &steps,
                     bool pattern_within);
  void checkPartition(const ast::Pattern &p, const std::vector<StepInfo> &steps,
                      typed::Pattern &out);
  // `partition by` of a pattern or an aggregate (`what`): the key's fields, types and index per
  // event type; `step_types` are the steps' event type names as written.
  void checkKey(const std::optional<std::vector<ast::Ident>> &partition_by,
                const std::vector<const ast::Ident *> &step_types,
                const std::vector<StepInfo> &steps, const char *what,
                std::vector<std::string> &key_fields, std::vector<Type> &key_types,
                std::vector<std::vector<std::int32_t>> &key_index);
  void checkSkip(const ast::Pattern &p, const std::vector<StepInfo> &steps, typed::Pattern &out);
  // A `within` value: a positive constant duration (warning over a day); nullopt on error.
  std::optional<std::int64_t> checkWithin(const ast::Expr &e, std::size_t module);
  // Warns when the pattern's partial matches can wait for ever (check_bounds.cpp).
  void warnUnboundedState(const ast::Pattern &p, const typed::Pattern &out);
  // Rules that check clean but cannot work as meant (check_sense.cpp): a condition that is
  // never true, an enormous count, a trailing loop that stops at its minimum; the same
  // condition check for an aggregate; event types with and without a time field used together.
  void warnCannotWork(const ast::Pattern &p, const typed::Pattern &out);
  void warnAggregateCannotWork(const ast::Aggregate &a, const typed::Aggregate &out);
  void warnMixedTime();
  // Why `condition` (of step `self`) can never be true, if that is visible from constants.
  std::optional<std::string> neverTrue(const typed::Expr &condition, std::int32_t self);

  // --- aggregate declarations (check_aggregate.cpp) ---------------------------------------------
  std::optional<typed::Aggregate> checkAggregateDecl(std::size_t module, const ast::Aggregate &a);
  void checkWindow(const ast::Window &w, std::size_t module, typed::Aggregate &out);
  // A constant duration for `clause` (`window`, `lateness`, `ttl`), > 0 (>= 0 when `zero_ok`);
  // nullopt on error (reported).
  std::optional<std::int64_t> checkDuration(const ast::Expr &e, std::size_t module,
                                            const char *clause, bool zero_ok);
  // The error of an aggregate function in an aggregate's step condition.
  void reportAggregateInStep(SourceRange range, const std::string &function, const Scope &scope);
  // Numbers the distinct aggregate calls of `having` and `emit` into out.calls.
  void collectCalls(typed::Expr &e, typed::Aggregate &out);

  // --- emit (check_emit.cpp) -------------------------------------------------------------------
  typed::Emit checkEmit(const ast::Emit &emit, std::size_t module,
                        const std::vector<StepInfo> &steps, bool timeout,
                        bool aggregate_decl = false);
  void registerStream(const ast::Emit &emit, typed::Emit &out);

  // --- state -----------------------------------------------------------------------------------
  const std::vector<ast::Module> &modules_;
  const std::vector<std::vector<std::size_t>> &imports_;
  const SourceManager &sources_;
  DiagnosticEngine &diags_;

  std::vector<std::vector<bool>> visible_; // visible_[m][n]: module n's names are seen from m

  typed::Program program_;
  std::vector<std::size_t> event_module_;                     // module of each event type
  std::unordered_map<std::string, std::int32_t> event_index_; // first declaration wins
  // (name, module) of each event type a module declares again (an error reported once): uses
  // of the name in that module resolve to nothing, silently, rather than to the first
  // declaration, whose fields are not the ones that module means.
  std::set<std::pair<std::string, std::size_t>> redeclared_events_;

  std::vector<ConstInfo> consts_;
  std::vector<DefInfo> defs_;
  std::vector<std::unordered_map<std::string, DeclRef>> scopes_;    // per module: consts and defs
  std::unordered_map<std::string, std::vector<DeclRef>> all_decls_; // for "not imported" notes

  std::vector<DeclRef> decl_stack_; // consts and defs being checked (for cycle messages)

  struct StreamInfo {
    SourceRange range; // the first emit's stream name
    std::vector<SourceRange> field_ranges;
  };
  std::vector<StreamInfo> stream_info_;
  std::unordered_map<std::string, std::int32_t> stream_index_;
  std::unordered_map<std::string, SourceRange> pattern_names_;

  AggregateState *aggregate_ = nullptr;     // inside an aggregate's argument
  bool in_aggregate_decl_ = false;          // checking an aggregate declaration (spec §8)
  std::optional<SourceRange> inline_range_; // inlining a def: the call's range
  int quiet_ = 0;                           // > 0 while inlining: errors are not reported
  Expansion expansion_;                     // inlining a def call: its size so far
  std::set<std::size_t> too_large_;         // defs whose call was reported over the limit
  std::size_t quiet_errors_ = 0;
};

} // namespace cep::lang
