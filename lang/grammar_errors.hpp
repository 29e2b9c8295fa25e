// Syntax error messages for lang/grammar.hpp, and the PEGTL control that raises them.
//
// Every rule used under `must<>` (and every tag used with `raise<>`) has a message here, written
// for a rule author: what was expected at the offending token. A message is only used when its
// rule is required (`must<>`), never when the rule merely fails inside an alternative.
// `must_if<..., RequireMessage = true>` makes a missing message a compile error.
//
// A message may contain `{pattern}`: lang/parse.cpp replaces it with the name of the pattern
// being parsed (ParseState::pattern_name).
#pragma once

#include "lang/grammar.hpp"

#include <cstddef>
#include <string>

namespace cep::lang::grammar {

// State threaded through one declaration's parse.
struct ParseState {
  std::string pattern_name; // the pattern or aggregate being parsed, for `{pattern}` in messages
  std::size_t depth = 0;    // nesting of parentheses, lists, calls and prefix operators
};

// Deeper nesting than this is a syntax error rather than a stack overflow.
inline constexpr std::size_t kMaxNesting = 128;

template <typename Rule> inline constexpr const char *error_message = nullptr;

// clang-format off

inline constexpr const char *kExpectedExpression = "expected an expression";
inline constexpr const char *kExpectedStep = "expected a step like `name: Type(condition)`";
inline constexpr const char *kExpectedType =
    "expected a type such as `int`, `string?` or an event type name";

// Lexical
template <> inline constexpr auto error_message<unterminated_comment> = "unterminated block comment: `/*` without `*/`";
template <> inline constexpr auto error_message<unterminated_string> = "unterminated string: a string must end with `\"` on the line where it starts";

// Expressions
template <> inline constexpr auto error_message<expr> = kExpectedExpression;
template <> inline constexpr auto error_message<and_expr> = kExpectedExpression;
template <> inline constexpr auto error_message<not_expr> = kExpectedExpression;
template <> inline constexpr auto error_message<add_expr> = kExpectedExpression;
template <> inline constexpr auto error_message<mul_expr> = kExpectedExpression;
template <> inline constexpr auto error_message<unary_expr> = kExpectedExpression;
template <> inline constexpr auto error_message<paren_close> = "expected `)` to close the parenthesis";
template <> inline constexpr auto error_message<list_close> = "expected `]` to close the list (separate elements with `,` or a line break)";
template <> inline constexpr auto error_message<call_close> = "expected `,` or `)` after a function argument";
template <> inline constexpr auto error_message<member_name> = "expected a field name after `.`";
template <> inline constexpr auto error_message<is_tail> = "expected `null` or `not null` after `is`";
template <> inline constexpr auto error_message<null_after_is_not> = "expected `null` after `is not`";
template <> inline constexpr auto error_message<chained_comparison> = "comparisons cannot be chained: combine them with `and` (or use parentheses)";

// Types
template <> inline constexpr auto error_message<type> = kExpectedType;
template <> inline constexpr auto error_message<type_arg_close> = "expected `>` to close `list<...>`";

// Declarations
template <> inline constexpr auto error_message<declaration> = "expected a declaration: `import`, `const`, `def`, `event`, `pattern`, `aggregate` or `test`";
template <> inline constexpr auto error_message<module_end> = "expected a declaration: `import`, `const`, `def`, `event`, `pattern`, `aggregate` or `test`";
template <> inline constexpr auto error_message<import_path> = "expected a file name in quotes after `import`, as in `import \"common.cep\"`";
template <> inline constexpr auto error_message<const_name> = "expected a name after `const`";
template <> inline constexpr auto error_message<const_eq> = "expected `=` after the constant's name";
template <> inline constexpr auto error_message<def_name> = "expected a function name after `def`";
template <> inline constexpr auto error_message<def_open> = "expected `(` after the function's name";
template <> inline constexpr auto error_message<param> = "expected a parameter like `name: Type`";
template <> inline constexpr auto error_message<param_colon> = "expected `:` and a type after the parameter's name";
template <> inline constexpr auto error_message<params_close> = "expected `,` or `)` after a parameter";
template <> inline constexpr auto error_message<def_eq> = "expected `=` and the function's body after the parameters";
template <> inline constexpr auto error_message<event_name> = "expected an event type name after `event`";
template <> inline constexpr auto error_message<event_open> = "expected `{` after the event type name";
template <> inline constexpr auto error_message<event_close> = "expected `}` to close the event block (separate fields with `,` or a line break)";
template <> inline constexpr auto error_message<field_colon> = "expected `:` after the field name";

// Patterns
template <> inline constexpr auto error_message<pattern_name> = "expected a pattern name after `pattern`";
template <> inline constexpr auto error_message<kw_by> = "expected `by` after `partition`";
template <> inline constexpr auto error_message<partition_key> = "expected a field name to partition by";
template <> inline constexpr auto error_message<skip_strategy> = "expected `none`, `to next`, `past last`, `to first STEP` or `to last STEP` after `skip`";
template <> inline constexpr auto error_message<skip_to_target> = "expected `next`, `first STEP` or `last STEP` after `skip to`";
template <> inline constexpr auto error_message<skip_past_last> = "expected `last` after `skip past`";
template <> inline constexpr auto error_message<skip_step> = "expected a step name";
template <> inline constexpr auto error_message<body> = "expected `{` to start the body of the pattern (or a header clause: `partition by`, `within`, `skip`)";
template <> inline constexpr auto error_message<step> = kExpectedStep;
template <> inline constexpr auto error_message<step_core> = kExpectedStep;
template <> inline constexpr auto error_message<step_type> = "expected an event type name after `:`, as in `name: Type(condition)`";
template <> inline constexpr auto error_message<cond_close> = "expected `)` to close the condition";
template <> inline constexpr auto error_message<q_count> = "expected a number in the quantifier, as in `{3}`, `{2,}` or `{2,5}`";
template <> inline constexpr auto error_message<q_close> = "expected `}` to close the quantifier";
template <> inline constexpr auto error_message<until_open> = "expected `(` and a condition after `until`";
template <> inline constexpr auto error_message<until_close> = "expected `)` to close the `until` condition";
template <> inline constexpr auto error_message<missing_step_op> = "expected `,`, `->` or `->>` between steps";
template <> inline constexpr auto error_message<body_unclosed> = "expected `,`, `->` or `->>` and another step, or `}` to close the body of the pattern";
template <> inline constexpr auto error_message<emit_clause> = "expected `emit` after the body of pattern `{pattern}`";
template <> inline constexpr auto error_message<stream_name> = "expected an output stream name after `emit`";
template <> inline constexpr auto error_message<emit_open> = "expected `{` after the output stream name";
template <> inline constexpr auto error_message<emit_close> = "expected `}` to close the emit block (separate fields with `,` or a line break)";
template <> inline constexpr auto error_message<kw_timeout> = "expected `timeout` after `on` (as in `on timeout emit ...`)";
template <> inline constexpr auto error_message<timeout_emit_kw> = "expected `emit` after `on timeout`";

// Aggregates
template <> inline constexpr auto error_message<aggregate_name> = "expected an aggregate name after `aggregate`";
template <> inline constexpr auto error_message<window_kind> = "expected a window after `window`: `tumbling 1h`, `hopping 1h every 10m`, `cumulate 1d step 1h`, `session gap 30m`, `rolling 1h` or `none`";
template <> inline constexpr auto error_message<window_size> = "expected a duration such as `1h`";
template <> inline constexpr auto error_message<window_slide> = "expected a duration such as `10m`";
template <> inline constexpr auto error_message<window_every> = "expected `every` and the hop, as in `window hopping 1h every 10m`";
template <> inline constexpr auto error_message<window_step> = "expected `step` and the step, as in `window cumulate 1d step 1h`";
template <> inline constexpr auto error_message<window_gap> = "expected `gap` and a duration, as in `window session gap 30m`";
template <> inline constexpr auto error_message<aggregate_body> = "expected `{` to start the body of the aggregate (or a header clause: `partition by`, `window`, `lateness`, `ttl`)";
template <> inline constexpr auto error_message<aggregate_body_unclosed> = "expected `}` to close the body of the aggregate (an aggregate has exactly one step)";
template <> inline constexpr auto error_message<aggregate_emit> = "expected `having` or `emit` after the body of aggregate `{pattern}`";

// Tests (proposed spec §10)
template <> inline constexpr auto error_message<test_rule> = "expected a pattern or aggregate name after `for`";
template <> inline constexpr auto error_message<test_open> = "expected `{` to start the body of the test (or `for` and the rules under test)";
template <> inline constexpr auto error_message<test_close> = "expected `options`, `input`, `expect` or `}` in test `{pattern}`";
template <> inline constexpr auto error_message<test_option> = "expected an option after `options`: `--max-delay 2s`, `--with-events`, `--at-end fire|drop` or `--order sort`";
template <> inline constexpr auto error_message<option_value> = "expected the option's value on the same line, as in `--max-delay 2s` or `--at-end drop`";
template <> inline constexpr auto error_message<input_source> = "expected a file name (`input \"cases/probe.jsonl\"`) or `{` and JSON records after `input`";
template <> inline constexpr auto error_message<expect_body> = "expected `{` and the expected records, or `none`, after `expect`";
template <> inline constexpr auto error_message<records_close> = "expected a JSON object `{...}` or `}` to end the records";
template <> inline constexpr auto error_message<json_record_close> = "unclosed JSON record: `{` without its `}`";

// clang-format on

struct ErrorMessages {
  template <typename Rule> static constexpr const char *message = error_message<Rule>;
  // Messages are used by must<> only: a rule failing inside an alternative is not an error.
  template <typename Rule> static constexpr bool raise_on_failure = false;
};

// `must<R>` matches R without rewinding, so a failed R could leave the input in its middle
// (`emitt` fails after `emit`). Rules with a message are rewound, so that the error points at
// the start of what was expected.
template <typename Rule> struct base_control : pegtl::must_if<ErrorMessages>::control<Rule> {
  template <pegtl::apply_mode A, pegtl::rewind_mode M, template <typename...> class Action,
            template <typename...> class Control, typename ParseInput, typename... States>
  [[nodiscard]] static bool match(ParseInput &in, States &&...st) {
    constexpr bool rewind = M == pegtl::rewind_mode::dontcare && error_message<Rule> != nullptr;
    constexpr pegtl::rewind_mode mode = rewind ? pegtl::rewind_mode::required : M;
    return pegtl::normal<Rule>::template match<A, mode, Action, Control>(in, st...);
  }
};

template <typename Rule> struct control : base_control<Rule> {};

// The rules through which expressions nest count their depth (they are the ones the parse
// tree keeps, so their start/success/failure hooks are called).
template <typename Rule> struct nesting_control : base_control<Rule> {
  template <typename ParseInput, typename... States>
  static void start(const ParseInput &in, ParseState &state, States &&...) {
    if (++state.depth > kMaxNesting) {
      throw pegtl::parse_error("expression is nested too deeply", in);
    }
  }
  template <typename ParseInput, typename... States>
  static void success(const ParseInput &, ParseState &state, States &&...) {
    --state.depth;
  }
  template <typename ParseInput, typename... States>
  static void failure(const ParseInput &, ParseState &state, States &&...) {
    --state.depth;
  }
};

template <> struct control<paren_expr> : nesting_control<paren_expr> {};
template <> struct control<list_lit> : nesting_control<list_lit> {};
template <> struct control<call> : nesting_control<call> {};
template <> struct control<neg_expr> : nesting_control<neg_expr> {};
template <> struct control<not_prefix> : nesting_control<not_prefix> {};
template <> struct control<json_record> : nesting_control<json_record> {};

} // namespace cep::lang::grammar
