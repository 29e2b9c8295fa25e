// The untyped syntax tree of one `.cep` file, exactly as written. Built in one place from the
// PEGTL parse (lang/parse.cpp); printed back as source by lang/ast_printer.cpp (round-trip:
// print, re-parse, compare). Names are not resolved here: that is lang/check.cpp's job, whose
// output is the typed module in lang/typed.hpp.
//
// Every node carries the SourceRange of the text it came from.
#pragma once

#include "lang/source.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cep::lang::ast {

// An identifier with its position.
struct Ident {
  std::string name;
  SourceRange range;
};

// ---------------------------------------------------------------------------------------------
// Expressions
// ---------------------------------------------------------------------------------------------

enum class ExprKind {
  IntLit,      // int_value                       42, 1_000_000
  FloatLit,    // float_value                     1.5, 2e-3
  StringLit,   // text (unescaped)                "a\"b"
  BoolLit,     // bool_value                      true
  NullLit,     //                                 null
  DurationLit, // int_value = milliseconds        250ms 10s 5m 2h 1d
  ListLit,     // children = elements             ["NG", "KP"]
  Name,        // text = identifier               amount, LARGE, small
  Member,      // children[0] = object, name = field          a.country, first(s).country
  Call,        // name = callee, children = arguments         count(s), speed_kmh(a, b)
  Unary,       // unary_op, children[0]                       -x, not x
  Binary,      // binary_op, children[0], children[1]         a + b, x and y
  IsNull,      // children[0]; negated = `is not null`        x is null
  In,          // children[0] = value, children[1] = list; negated = `not in`
};

enum class UnaryOp { Neg, Not };
enum class BinaryOp { Or, And, Eq, Ne, Lt, Le, Gt, Ge, Add, Sub, Mul, Div, Mod };

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  ExprKind kind = ExprKind::NullLit;
  SourceRange range; // the whole expression
  std::int64_t int_value = 0;
  double float_value = 0;
  bool bool_value = false;
  std::string text; // StringLit value, Name identifier
  Ident name;       // Member field, Call callee
  UnaryOp unary_op = UnaryOp::Neg;
  BinaryOp binary_op = BinaryOp::Add;
  bool negated = false; // IsNull: `is not null`; In: `not in`
  std::vector<ExprPtr> children;
};

// ---------------------------------------------------------------------------------------------
// Types as written: `int`, `string?`, `list<string>`, `Login` (an event type, in def params)
// ---------------------------------------------------------------------------------------------

struct TypeRef {
  Ident name;                // bool int float string time duration list, or an event type name
  std::vector<TypeRef> args; // list<T>: one argument
  bool nullable = false;     // trailing `?`
  SourceRange range;
};

// ---------------------------------------------------------------------------------------------
// Declarations
// ---------------------------------------------------------------------------------------------

struct Import {
  std::string path; // as written (unescaped), relative to the importing file
  SourceRange path_range;
  SourceRange range;
};

struct Const {
  Ident name;
  ExprPtr value;
  SourceRange range;
};

struct Param {
  Ident name;
  TypeRef type;
};

struct Def {
  Ident name;
  std::vector<Param> params;
  ExprPtr body;
  SourceRange range;
};

struct FieldDecl {
  Ident name;
  TypeRef type;
  SourceRange range;
};

struct EventDecl {
  Ident name;
  std::vector<FieldDecl> fields;
  SourceRange range;
};

// Pattern pieces.

enum class Contiguity {
  Strict,          // `,`   Flink next
  Relaxed,         // `->`  Flink followedBy
  NonDeterministic // `->>` Flink followedByAny
};

// The operator as written: `,` `->` `->>`.
inline const char *contiguityText(Contiguity c) {
  switch (c) {
  case Contiguity::Strict:
    return ",";
  case Contiguity::Relaxed:
    return "->";
  case Contiguity::NonDeterministic:
    return "->>";
  }
  return "->";
}

// A quantifier as written. The checker normalises it (e.g. `*` = `+ optional`).
struct Quantifier {
  enum class Kind {
    Optional, // ?
    Plus,     // +
    Star,     // *
    Exact,    // {n}       min = max = n
    AtLeast,  // {n,}      min = n
    Range     // {n,m}     min = n, max = m
  };
  Kind kind = Kind::Plus;
  std::int64_t min = 0;
  std::int64_t max = 0;
  SourceRange range;
};

struct Modifier {
  enum class Kind { Optional, Greedy, Consecutive, Combinations, Until };
  Kind kind = Kind::Optional;
  ExprPtr condition; // Until only
  SourceRange range;
};

struct Step {
  Contiguity contiguity = Contiguity::Relaxed; // how this step follows the previous one
  SourceRange contiguity_range;                // the operator's text; empty for the first step
  bool negated = false;
  SourceRange not_range;
  std::optional<Ident> name; // may be absent only on a negated step
  Ident type;                // the event type
  bool has_parens = false;   // `Type()` / `Type(cond)` as opposed to a bare `Type`
  ExprPtr condition;         // null when absent
  std::optional<Quantifier> quantifier;
  std::vector<Modifier> modifiers; // in source order
  ExprPtr within;                  // per-step time bound, null when absent
  SourceRange range;               // the whole step, from `not`/name to the end of its clauses
};

enum class SkipKind { None, ToNext, PastLast, ToFirst, ToLast };

struct Skip {
  SkipKind kind = SkipKind::PastLast;
  std::optional<Ident> step; // ToFirst / ToLast
  SourceRange range;
};

struct EmitField {
  Ident name;
  ExprPtr value;
  SourceRange range;
};

struct Emit {
  Ident stream;
  std::vector<EmitField> fields;
  SourceRange range;
};

struct Pattern {
  Ident name;
  // Header clauses, any order, each at most once (the parser reports repeats).
  std::optional<std::vector<Ident>> partition_by;
  SourceRange partition_range;
  ExprPtr within; // null when absent
  SourceRange within_range;
  std::optional<Skip> skip;
  std::vector<Step> steps;
  Emit emit;
  std::optional<Emit> timeout_emit; // `on timeout emit`
  SourceRange range;
};

// Aggregates (spec §8).

enum class WindowKind { Tumbling, Hopping, Cumulate, Session, Rolling, None };

// The keyword after `window`.
inline const char *windowKindText(WindowKind k) {
  switch (k) {
  case WindowKind::Tumbling:
    return "tumbling";
  case WindowKind::Hopping:
    return "hopping";
  case WindowKind::Cumulate:
    return "cumulate";
  case WindowKind::Session:
    return "session";
  case WindowKind::Rolling:
    return "rolling";
  case WindowKind::None:
    return "none";
  }
  return "none";
}

// `window tumbling S`, `window hopping S every H`, `window cumulate S step H`,
// `window session gap S`, `window rolling S`, `window none`.
struct Window {
  WindowKind kind = WindowKind::None;
  ExprPtr size;  // S (the gap of a session); null for `none`
  ExprPtr slide; // H of hopping and cumulate; null otherwise
  SourceRange range;
};

// `aggregate NAME [partition by k] window W [lateness L] [ttl D] { s: Type(cond) }
//  [having expr] emit Stream { ... }`. The parser reports what an aggregate cannot have
// (`within`, `skip`, a second step, negation, quantifiers, modifiers, `on timeout emit`) and
// leaves it out, so `step` is the one step as written.
struct Aggregate {
  Ident name;
  std::optional<std::vector<Ident>> partition_by;
  SourceRange partition_range;
  std::optional<Window> window; // absent only after a reported error
  ExprPtr lateness;             // null when absent
  SourceRange lateness_range;
  ExprPtr ttl; // null when absent
  SourceRange ttl_range;
  Step step;
  ExprPtr having; // null when absent
  Emit emit;
  SourceRange range;
};

// Tests (proposed spec §10, docs/spec-proposal-tests.md): "given these events, expect these
// records". Only `cep check` and `cep test` read them (lang/check_tests.hpp); nothing else
// compiles or runs them, and they never reach an artifact.
//
//   test probes_then_big for card_testing {
//       options --max-delay 2s --with-events
//       input { {"@type":"Payment","card":"c1","amount":0.5,"country":"FR","ts":0} ... }
//       expect { {"@stream":"CardTesting","card":"c1","probes":3} }
//       expect late none
//   }

// One JSON object of an `input { ... }` or `expect { ... }` block, as written (checked as JSON
// by lang/check_tests.cpp).
struct JsonRecord {
  std::string text;
  SourceRange range;
};

// `{ record ... }`, `none`, or (input only) `"file.jsonl"`.
struct TestRecords {
  std::vector<JsonRecord> records;
  std::optional<std::string> file; // `input "cases/x.jsonl"`: relative to the test's .cep file
  bool none = false;               // `expect none`
  SourceRange range;               // the block, `none` or the file name
};

// `--max-delay 2s`: the name with its dashes; the value ("" when it takes none).
struct TestOption {
  std::string name;
  std::string value;
  SourceRange range;       // the name
  SourceRange value_range; // empty when no value
};

struct Test {
  Ident name;
  std::vector<Ident> rules; // `for a, b`; empty: every rule of the test's file
  std::vector<TestOption> options;
  std::vector<TestRecords> inputs;       // every `input` clause (one is required)
  std::vector<TestRecords> expects;      // every `expect` clause (one is required)
  std::vector<TestRecords> expects_late; // every `expect late` clause (at most one)
  SourceRange range;
};

// One file. Declarations are kept per kind; `order` remembers the source order for printing.
struct Module {
  FileId file = 0;
  std::vector<Import> imports;
  std::vector<Const> consts;
  std::vector<Def> defs;
  std::vector<EventDecl> events;
  std::vector<Pattern> patterns;
  std::vector<Aggregate> aggregates;
  std::vector<Test> tests;

  enum class DeclKind { Import, Const, Def, Event, Pattern, Aggregate, Test };
  struct DeclRef {
    DeclKind kind;
    std::size_t index;
  };
  std::vector<DeclRef> order;

  // Declarations that did not parse (lang/parse.cpp recovers at the next one): the names of the
  // events, consts and defs among them, so that checking the rest withholds the "unknown name"
  // errors that only follow from them; whether an import was among them (then nothing is
  // checked: what it would have brought in is unknown); how many syntax errors there were.
  std::vector<std::string> unparsed;
  bool unparsed_import = false;
  std::size_t syntax_errors = 0;
};

} // namespace cep::lang::ast
