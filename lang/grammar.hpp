// The PEGTL grammar of a `.cep` module (spec §1, §3 and §8; test declarations: the proposed
// §10, docs/spec-proposal-tests.md). Rules only: turning a parse into the AST is lang/parse.cpp's
// job, and the error messages of the `must<>` points live in lang/grammar_errors.hpp.
//
// Conventions:
//  - `ws` (whitespace, line breaks and comments) is matched *before* a token, never after it, so
//    when a `must<>` fails the input is at the offending token and the error points there.
//  - Rules whose name ends in `_close`, `_open`, `_colon` ... are single tokens that exist as
//    their own struct only so that a `must<>` on them can carry its own error message.
//  - Tags derived from `failure` are never matched: they name an error for `raise<>`.
//
// Line breaks: fields of an `event` block and entries of lists and `emit` blocks are separated
// by a `,` or by at least one line break (a trailing `,` is allowed). Everywhere else line breaks
// are ordinary whitespace. In particular an expression continues onto the next line when that
// line starts with a binary operator (`and`, `or`, `+`, `-`, `==`, `in`, `.field`, ...):
//
//     emit X { total: a.amount
//                     + b.amount        // still `total`
//              count: count(s) }        // a new field: `count` is not an operator
//
// A call's `(` must be on the same line as the function name, so a list entry on the next line
// that starts with `(` is a new entry, not a call.
#pragma once

#include <tao/pegtl.hpp>

namespace cep::lang::grammar {

namespace pegtl = tao::pegtl;

using pegtl::any;
using pegtl::at;
using pegtl::digit;
using pegtl::eof;
using pegtl::eolf;
using pegtl::failure;
using pegtl::identifier_other;
using pegtl::must;
using pegtl::not_at;
using pegtl::not_one;
using pegtl::one;
using pegtl::opt;
using pegtl::plus;
using pegtl::raise;
using pegtl::seq;
using pegtl::sor;
using pegtl::star;
using pegtl::string;
using pegtl::two;
using pegtl::until;
using pegtl::xdigit;
template <char... Cs> using keyword = pegtl::keyword<Cs...>;

// clang-format off

// ---------------------------------------------------------------------------------------------
// Whitespace and comments
// ---------------------------------------------------------------------------------------------

struct unterminated_comment : failure {};

struct line_comment : seq<two<'/'>, until<eolf>> {};
// An unterminated `/*` is an error at its start.
struct block_comment : sor<seq<string<'/', '*'>, until<string<'*', '/'>>>,
                           seq<at<string<'/', '*'>>, raise<unterminated_comment>>> {};
struct comment : sor<line_comment, block_comment> {};

// Any whitespace, line breaks and comments.
struct ws : star<sor<one<' ', '\t', '\r', '\n'>, comment>> {};
// Whitespace and comments that do not end the line; `blank`: spaces and tabs only.
struct hws : star<sor<one<' ', '\t', '\r'>, block_comment>> {};
struct blank : star<one<' ', '\t'>> {};
struct line_break : sor<one<'\n'>, line_comment> {};

// Between two entries of an event block, a list or an emit block: `,` or a line break.
struct entry_sep : sor<seq<ws, one<','>>, seq<hws, line_break>> {};
struct trailing_comma : opt<ws, one<','>> {};

// ---------------------------------------------------------------------------------------------
// Words
// ---------------------------------------------------------------------------------------------

// Reserved words: never identifiers.
struct kw_and : keyword<'a', 'n', 'd'> {};
struct kw_or : keyword<'o', 'r'> {};
struct kw_not : keyword<'n', 'o', 't'> {};
struct kw_in : keyword<'i', 'n'> {};
struct kw_is : keyword<'i', 's'> {};
struct kw_null : keyword<'n', 'u', 'l', 'l'> {};
struct kw_true : keyword<'t', 'r', 'u', 'e'> {};
struct kw_false : keyword<'f', 'a', 'l', 's', 'e'> {};
struct kw_import : keyword<'i', 'm', 'p', 'o', 'r', 't'> {};
struct kw_const : keyword<'c', 'o', 'n', 's', 't'> {};
struct kw_def : keyword<'d', 'e', 'f'> {};
struct kw_event : keyword<'e', 'v', 'e', 'n', 't'> {};
struct kw_pattern : keyword<'p', 'a', 't', 't', 'e', 'r', 'n'> {};
struct kw_emit : keyword<'e', 'm', 'i', 't'> {};
struct kw_within : keyword<'w', 'i', 't', 'h', 'i', 'n'> {};
struct kw_aggregate : keyword<'a', 'g', 'g', 'r', 'e', 'g', 'a', 't', 'e'> {}; // from v0.2

struct reserved_word : sor<kw_and, kw_or, kw_not, kw_in, kw_is, kw_null, kw_true, kw_false,
                           kw_import, kw_const, kw_def, kw_event, kw_pattern, kw_emit,
                           kw_within, kw_aggregate> {};

// Contextual words: keywords only where the grammar expects them.
struct kw_partition : keyword<'p', 'a', 'r', 't', 'i', 't', 'i', 'o', 'n'> {};
struct kw_by : keyword<'b', 'y'> {};
struct kw_skip : keyword<'s', 'k', 'i', 'p'> {};
struct kw_to : keyword<'t', 'o'> {};
struct kw_next : keyword<'n', 'e', 'x', 't'> {};
struct kw_past : keyword<'p', 'a', 's', 't'> {};
struct kw_none : keyword<'n', 'o', 'n', 'e'> {};
struct kw_first : keyword<'f', 'i', 'r', 's', 't'> {};
struct kw_last : keyword<'l', 'a', 's', 't'> {};
struct kw_on : keyword<'o', 'n'> {};
struct kw_timeout : keyword<'t', 'i', 'm', 'e', 'o', 'u', 't'> {};
struct kw_until : keyword<'u', 'n', 't', 'i', 'l'> {};
struct kw_optional : keyword<'o', 'p', 't', 'i', 'o', 'n', 'a', 'l'> {};
struct kw_greedy : keyword<'g', 'r', 'e', 'e', 'd', 'y'> {};
struct kw_consecutive : keyword<'c', 'o', 'n', 's', 'e', 'c', 'u', 't', 'i', 'v', 'e'> {};
struct kw_combinations : keyword<'c', 'o', 'm', 'b', 'i', 'n', 'a', 't', 'i', 'o', 'n', 's'> {};
struct kw_list : keyword<'l', 'i', 's', 't'> {};
// Aggregates (spec §8).
struct kw_window : keyword<'w', 'i', 'n', 'd', 'o', 'w'> {};
struct kw_tumbling : keyword<'t', 'u', 'm', 'b', 'l', 'i', 'n', 'g'> {};
struct kw_hopping : keyword<'h', 'o', 'p', 'p', 'i', 'n', 'g'> {};
struct kw_every : keyword<'e', 'v', 'e', 'r', 'y'> {};
struct kw_cumulate : keyword<'c', 'u', 'm', 'u', 'l', 'a', 't', 'e'> {};
struct kw_step : keyword<'s', 't', 'e', 'p'> {};
struct kw_session : keyword<'s', 'e', 's', 's', 'i', 'o', 'n'> {};
struct kw_gap : keyword<'g', 'a', 'p'> {};
struct kw_rolling : keyword<'r', 'o', 'l', 'l', 'i', 'n', 'g'> {};
struct kw_ttl : keyword<'t', 't', 'l'> {};
struct kw_lateness : keyword<'l', 'a', 't', 'e', 'n', 'e', 's', 's'> {};
struct kw_having : keyword<'h', 'a', 'v', 'i', 'n', 'g'> {};

struct identifier : seq<not_at<reserved_word>, pegtl::identifier> {};

// A reserved word where a name is declared (`const and = 1`, `{ in: x }`). Accepted so that the
// declaration still parses; lang/parse.cpp reports "`in` is a reserved word ...". Only taken
// when the token that must follow the name is there (`Follow`), so that e.g. a missing `}`
// before the next `event` is not mistaken for a field named `event`.
struct reserved_name : reserved_word {};
template <typename Follow>
struct name_before : sor<identifier, seq<reserved_name, at<ws, Follow>>> {};

// ---------------------------------------------------------------------------------------------
// Literals
// ---------------------------------------------------------------------------------------------

// A number is one token: digits (with `_` separators), an optional fraction and exponent, and
// any identifier characters glued to it (`250ms`, `5min`). lang/parse.cpp decides int / float /
// duration and reports misplaced `_`, unknown units, overflow.
struct number_fraction : seq<one<'.'>, digit, star<sor<digit, one<'_'>>>> {};
struct number_exponent : seq<one<'e', 'E'>, opt<one<'+', '-'>>, plus<digit>> {};
struct number_suffix : plus<identifier_other> {};
struct number : seq<digit, star<sor<digit, one<'_'>>>, opt<number_fraction>,
                    opt<number_exponent>, opt<number_suffix>> {};

// A string stays on one line. Escapes are checked when the string is converted, so that a bad
// escape is reported at the escape and the rest of the file still parses.
struct unterminated_string : failure {};
struct string_escape : seq<one<'\\'>, not_one<'\n', '\r'>> {};
struct string_char : sor<string_escape, not_one<'"', '\\', '\n', '\r'>> {};
struct string_lit : sor<seq<one<'"'>, star<string_char>, one<'"'>>,
                        seq<at<one<'"'>>, raise<unterminated_string>>> {};

struct true_lit : kw_true {};
struct false_lit : kw_false {};
struct null_lit : kw_null {};

// ---------------------------------------------------------------------------------------------
// Expressions, loosest first: or, and, not, comparison, + -, * / %, unary -, postfix
// ---------------------------------------------------------------------------------------------

struct expr;

struct paren_close : one<')'> {};
struct paren_expr : seq<one<'('>, ws, must<expr>, ws, must<paren_close>> {};

struct list_close : one<']'> {};
struct list_lit : seq<one<'['>, ws,
                      opt<expr, star<entry_sep, ws, expr>, trailing_comma>,
                      ws, must<list_close>> {};

struct call_close : one<')'> {};
struct call : seq<identifier, blank, one<'('>, ws,
                  opt<expr, star<ws, one<','>, ws, must<expr>>>,
                  ws, must<call_close>> {};

struct primary : sor<paren_expr, list_lit, string_lit, number, true_lit, false_lit, null_lit,
                     call, identifier> {};

// After `.` any word is taken as the field name; a reserved one is reported by lang/parse.cpp.
struct member_name : sor<identifier, reserved_name> {};
struct member : seq<one<'.'>, ws, must<member_name>> {};
struct postfix_expr : seq<primary, star<ws, member>> {};

// `-` but not the `->` / `->>` step operators.
struct minus : seq<one<'-'>, not_at<one<'>'>>> {};

struct unary_expr;
struct neg_expr : seq<minus, ws, must<unary_expr>> {};
struct unary_expr : sor<neg_expr, postfix_expr> {};

struct op_mul : one<'*'> {};
struct op_div : one<'/'> {};
struct op_mod : one<'%'> {};
struct mul_expr : seq<unary_expr, star<ws, sor<op_mul, op_div, op_mod>, ws, must<unary_expr>>> {};

struct op_add : one<'+'> {};
struct op_sub : minus {};
struct add_expr : seq<mul_expr, star<ws, sor<op_add, op_sub>, ws, must<mul_expr>>> {};

// Comparisons are non-associative: `a < b < c` is an error.
struct op_eq : string<'=', '='> {};
struct op_ne : string<'!', '='> {};
struct op_le : string<'<', '='> {};
struct op_lt : one<'<'> {};
struct op_ge : string<'>', '='> {};
struct op_gt : one<'>'> {};
struct cmp_op : sor<op_eq, op_ne, op_le, op_lt, op_ge, op_gt> {};
struct cmp_binary : seq<cmp_op, ws, must<add_expr>> {};
struct in_suffix : seq<kw_in, ws, must<add_expr>> {};
struct not_in_suffix : seq<kw_not, ws, kw_in, ws, must<add_expr>> {};
struct is_not : kw_not {};
struct null_after_is_not : kw_null {};
struct is_tail : sor<kw_null, seq<is_not, ws, must<null_after_is_not>>> {};
struct is_suffix : seq<kw_is, ws, must<is_tail>> {};
struct cmp_suffix : sor<cmp_binary, in_suffix, not_in_suffix, is_suffix> {};
struct cmp_suffix_start : sor<cmp_op, kw_in, kw_is, seq<kw_not, ws, kw_in>> {};
struct chained_comparison : failure {};
struct cmp_expr : seq<add_expr,
                      opt<ws, cmp_suffix,
                          opt<ws, at<cmp_suffix_start>, raise<chained_comparison>>>> {};

struct not_expr;
struct not_prefix : seq<kw_not, ws, must<not_expr>> {};
struct not_expr : sor<not_prefix, cmp_expr> {};

struct and_expr : seq<not_expr, star<ws, kw_and, ws, must<not_expr>>> {};
// The `or` level.
struct expr : seq<and_expr, star<ws, kw_or, ws, must<and_expr>>> {};

// ---------------------------------------------------------------------------------------------
// Types: `int`, `string?`, `list<string>`, `Login`
// ---------------------------------------------------------------------------------------------

struct type;
struct list_kw : kw_list {};
struct type_arg_close : one<'>'> {};
struct list_type : seq<list_kw, ws, one<'<'>, ws, must<type>, ws, must<type_arg_close>> {};
struct nullable_mark : one<'?'> {};
struct type : seq<sor<list_type, identifier>, opt<ws, nullable_mark>> {};

// ---------------------------------------------------------------------------------------------
// import, const, def, event
// ---------------------------------------------------------------------------------------------

struct import_path : seq<string_lit> {};
struct import_decl : seq<kw_import, ws, must<import_path>> {};

struct const_eq : one<'='> {};
struct const_name : name_before<const_eq> {};
struct const_decl : seq<kw_const, ws, must<const_name>, ws, must<const_eq>, ws, must<expr>> {};

struct def_open : one<'('> {};
struct def_name : name_before<def_open> {};
struct param_colon : one<':'> {};
struct param : seq<name_before<one<':'>>, ws, must<param_colon>, ws, must<type>> {};
struct params_close : one<')'> {};
struct def_eq : one<'='> {};
struct def_decl : seq<kw_def, ws, must<def_name>, ws, must<def_open>, ws,
                      opt<param, star<ws, one<','>, ws, must<param>>>,
                      ws, must<params_close>, ws, must<def_eq>, ws, must<expr>> {};

struct field_colon : one<':'> {};
struct field_name : name_before<one<':'>> {};
struct field_decl : seq<field_name, ws, must<field_colon>, ws, must<type>> {};
struct event_open : one<'{'> {};
struct event_close : one<'}'> {};
struct event_name : name_before<event_open> {};
struct event_decl : seq<kw_event, ws, must<event_name>, ws, must<event_open>, ws,
                        opt<field_decl, star<entry_sep, ws, field_decl>, trailing_comma>,
                        ws, must<event_close>> {};

// ---------------------------------------------------------------------------------------------
// pattern NAME <header clauses> { <steps> } emit S { ... } [on timeout emit T { ... }]
// ---------------------------------------------------------------------------------------------

// Header clauses, any order; lang/parse.cpp reports a clause given twice.
struct partition_key : identifier {};
struct partition_clause : seq<kw_partition, ws, must<kw_by>, ws, must<partition_key>,
                              star<ws, one<','>, ws, must<partition_key>>> {};
struct within_clause : seq<kw_within, ws, must<expr>> {};
struct skip_step : identifier {};
struct skip_none : kw_none {};
struct skip_to_next : kw_next {};
struct skip_to_first : seq<kw_first, ws, must<skip_step>> {};
struct skip_to_last : seq<kw_last, ws, must<skip_step>> {};
struct skip_to_target : sor<skip_to_next, skip_to_first, skip_to_last> {};
struct skip_past_last : kw_last {};
struct skip_strategy : sor<skip_none,
                           seq<kw_to, ws, must<skip_to_target>>,
                           seq<kw_past, ws, must<skip_past_last>>> {};
struct skip_clause : seq<kw_skip, ws, must<skip_strategy>> {};
struct header_clause : sor<partition_clause, within_clause, skip_clause> {};

// A step: [not] [name ':'] Type [ '(' [cond] ')' ] [quantifier] [modifier ...] [within expr]
struct step_not : kw_not {};
struct step_name : name_before<one<':'>> {};
struct step_type : identifier {};
struct cond_close : one<')'> {};
struct step_cond : seq<one<'('>, ws, opt<expr, ws>, must<cond_close>> {};

struct q_optional : one<'?'> {};
struct q_plus : one<'+'> {};
struct q_star : one<'*'> {};
struct q_count : plus<digit> {};
struct q_comma : one<','> {};
struct q_close : one<'}'> {};
struct q_braces : seq<one<'{'>, ws, must<q_count>, ws, opt<q_comma, ws, opt<q_count, ws>>,
                      must<q_close>> {};
struct quantifier : sor<q_optional, q_plus, q_star, q_braces> {};

struct mod_optional : kw_optional {};
struct mod_greedy : kw_greedy {};
struct mod_consecutive : kw_consecutive {};
struct mod_combinations : kw_combinations {};
struct until_open : one<'('> {};
struct until_close : one<')'> {};
struct mod_until : seq<kw_until, ws, must<until_open>, ws, must<expr>, ws, must<until_close>> {};
struct modifier : sor<mod_optional, mod_greedy, mod_consecutive, mod_combinations,
                      mod_until> {};

struct step_within : seq<kw_within, ws, must<expr>> {};

struct step_core : seq<sor<seq<step_name, ws, one<':'>, ws, must<step_type>>, step_type>,
                       opt<ws, step_cond>,
                       opt<ws, quantifier>,
                       star<ws, modifier>,
                       opt<ws, step_within>> {};
struct step : sor<seq<step_not, ws, must<step_core>>, step_core> {};

struct op_strict : one<','> {};
struct op_relaxed : string<'-', '>'> {};
struct op_nondeterministic : string<'-', '>', '>'> {};
struct step_op : sor<op_nondeterministic, op_relaxed, op_strict> {};

// What the body may hold after a step: another operator, or `}`. If the next thing looks like
// a step, the operator is what is missing.
struct missing_step_op : failure {};
struct body_unclosed : failure {};
struct looks_like_step : sor<seq<opt<kw_not, ws>, pegtl::identifier, ws, one<':'>>,
                             seq<kw_not, ws, pegtl::identifier>> {};
struct body_close : sor<one<'}'>,
                        seq<at<looks_like_step>, raise<missing_step_op>>,
                        raise<body_unclosed>> {};
struct body_open : one<'{'> {};
struct body : seq<body_open, ws, must<step>, star<ws, step_op, ws, must<step>>,
                  ws, body_close> {};

// emit Stream { name: expr, ... }
struct stream_name : seq<identifier> {};
struct emit_open : one<'{'> {};
struct emit_close : one<'}'> {};
struct emit_field : seq<field_name, ws, must<field_colon>, ws, must<expr>> {};
struct emit_rest : seq<must<stream_name>, ws, must<emit_open>, ws,
                       opt<emit_field, star<entry_sep, ws, emit_field>, trailing_comma>,
                       ws, must<emit_close>> {};
struct emit_clause : seq<kw_emit, ws, emit_rest> {};
struct timeout_emit_kw : kw_emit {};
struct timeout_clause : seq<kw_on, ws, must<kw_timeout>, ws, must<timeout_emit_kw>, ws,
                            emit_rest> {};

struct pattern_name : name_before<sor<body_open, kw_partition, kw_within, kw_skip>> {};
struct pattern_decl : seq<kw_pattern, ws, must<pattern_name>,
                          star<ws, header_clause>,
                          ws, must<body>,
                          ws, must<emit_clause>,
                          opt<ws, timeout_clause>> {};

// ---------------------------------------------------------------------------------------------
// aggregate NAME <header clauses> { <step> } [having expr] emit S { ... }      (spec §8)
// ---------------------------------------------------------------------------------------------

// window tumbling S | hopping S every H | cumulate S step H | session gap G | rolling S | none.
// Sizes are expressions (constant durations, checked by lang/check_aggregate.cpp).
struct window_size : seq<expr> {};
struct window_slide : seq<expr> {};
struct window_every : kw_every {};
struct window_step : kw_step {};
struct window_gap : kw_gap {};
struct window_tumbling : seq<kw_tumbling, ws, must<window_size>> {};
struct window_hopping : seq<kw_hopping, ws, must<window_size>, ws, must<window_every>, ws,
                            must<window_slide>> {};
struct window_cumulate : seq<kw_cumulate, ws, must<window_size>, ws, must<window_step>, ws,
                             must<window_slide>> {};
struct window_session : seq<kw_session, ws, must<window_gap>, ws, must<window_size>> {};
struct window_rolling : seq<kw_rolling, ws, must<window_size>> {};
struct window_none : kw_none {};
struct window_kind : sor<window_tumbling, window_hopping, window_cumulate, window_session,
                         window_rolling, window_none> {};
struct window_clause : seq<kw_window, ws, must<window_kind>> {};
struct lateness_clause : seq<kw_lateness, ws, must<expr>> {};
struct ttl_clause : seq<kw_ttl, ws, must<expr>> {};
// `within` and `skip` parse here so that lang/parse.cpp can say they do not apply.
struct aggregate_clause : sor<partition_clause, window_clause, lateness_clause, ttl_clause,
                              within_clause, skip_clause> {};

// The body takes the pattern's step syntax; lang/parse.cpp reports a second step, negation,
// quantifiers and modifiers.
struct aggregate_body_unclosed : failure {};
struct aggregate_body_close : sor<one<'}'>,
                                  seq<at<looks_like_step>, raise<missing_step_op>>,
                                  raise<aggregate_body_unclosed>> {};
struct aggregate_body : seq<body_open, ws, must<step>, star<ws, step_op, ws, must<step>>,
                            ws, aggregate_body_close> {};
struct having_clause : seq<kw_having, ws, must<expr>> {};
struct aggregate_emit : seq<kw_emit, ws, emit_rest> {};

struct aggregate_name : name_before<sor<body_open, kw_partition, kw_window, kw_lateness, kw_ttl,
                                        kw_within, kw_skip>> {};
struct aggregate_decl : seq<kw_aggregate, ws, must<aggregate_name>,
                            star<ws, aggregate_clause>,
                            ws, must<aggregate_body>,
                            opt<ws, having_clause>,
                            ws, must<aggregate_emit>,
                            opt<ws, timeout_clause>> {};

// ---------------------------------------------------------------------------------------------
// test NAME [for RULE, ...] { options ... | input ... | expect ... }     (proposed spec §10)
// ---------------------------------------------------------------------------------------------

// `test` is a contextual word: a declaration only when a name follows it.
struct kw_test : keyword<'t', 'e', 's', 't'> {};
struct kw_for : keyword<'f', 'o', 'r'> {};
struct kw_options : keyword<'o', 'p', 't', 'i', 'o', 'n', 's'> {};
struct kw_input : keyword<'i', 'n', 'p', 'u', 't'> {};
struct kw_expect : keyword<'e', 'x', 'p', 'e', 'c', 't'> {};
struct kw_late : keyword<'l', 'a', 't', 'e'> {};

// A JSON object as text: braces balanced outside strings. Its content is checked as JSON by
// lang/check_tests.cpp (`cep check`, `cep test`), which reports the error at its position.
struct json_string : seq<one<'"'>, star<sor<seq<one<'\\'>, not_one<'\n', '\r'>>,
                                            not_one<'"', '\\', '\n', '\r'>>>,
                         one<'"'>> {};
struct json_record_close : one<'}'> {};
struct json_record : seq<one<'{'>, star<sor<json_string, json_record, not_one<'{', '}', '"'>>>,
                         must<json_record_close>> {};
struct records_open : one<'{'> {};
struct records_close : one<'}'> {};
struct records_block : seq<records_open, ws, star<json_record, ws>, must<records_close>> {};

// `--max-delay 2s`, `--at-end drop`, `--order sort`, `--with-events`; an unknown `--name` (and
// a value after it on its line) is kept for lang/check_tests.cpp to report.
struct option_name : seq<two<'-'>, plus<sor<pegtl::alnum, one<'-', '_'>>>> {};
struct option_value : sor<number, identifier> {};
struct option_with_value : seq<sor<string<'-', '-', 'm', 'a', 'x', '-', 'd', 'e', 'l', 'a', 'y'>,
                                   string<'-', '-', 'a', 't', '-', 'e', 'n', 'd'>,
                                   string<'-', '-', 'o', 'r', 'd', 'e', 'r'>>,
                               not_at<sor<pegtl::alnum, one<'-', '_'>>>> {};
struct option_flag : seq<string<'-', '-', 'w', 'i', 't', 'h', '-', 'e', 'v', 'e', 'n', 't', 's'>,
                         not_at<sor<pegtl::alnum, one<'-', '_'>>>> {};
// An unknown option keeps a value that follows on its line (not a clause keyword), so that the
// checker reports the name, not the value.
struct option_unknown_value : seq<plus<one<' ', '\t'>>, not_at<sor<kw_input, kw_expect>>,
                                  option_value> {};
struct test_option : sor<seq<at<option_with_value>, option_name, blank, must<option_value>>,
                         seq<at<option_flag>, option_name>,
                         seq<option_name, opt<option_unknown_value>>> {};
struct options_clause : seq<kw_options, blank, must<test_option>, star<blank, test_option>> {};

struct input_file : seq<string_lit> {};
struct input_source : sor<input_file, records_block> {};
struct input_clause : seq<kw_input, ws, must<input_source>> {};

struct expect_late : kw_late {};
struct expect_none : kw_none {};
struct expect_body : sor<expect_none, records_block> {};
struct expect_clause : seq<kw_expect, ws, opt<expect_late, ws>, must<expect_body>> {};

struct test_clause : sor<options_clause, input_clause, expect_clause> {};
struct test_name : identifier {};
struct test_rule : identifier {};
struct test_for : seq<kw_for, ws, must<test_rule>, star<ws, one<','>, ws, must<test_rule>>> {};
struct test_open : one<'{'> {};
struct test_close : one<'}'> {};
struct test_decl : seq<kw_test, ws, test_name, opt<ws, test_for>, ws, must<test_open>, ws,
                       star<test_clause, ws>, must<test_close>> {};

// ---------------------------------------------------------------------------------------------
// Module
// ---------------------------------------------------------------------------------------------

struct declaration : sor<import_decl, const_decl, def_decl, event_decl, pattern_decl,
                         aggregate_decl, test_decl> {};
struct module_end : eof {};
// A whole file. lang/parse.cpp parses one `declaration` at a time instead, so that it can
// recover after an error; this rule is the grammar's single root for analyze().
struct module : seq<ws, star<declaration, ws>, must<module_end>> {};

// clang-format on

} // namespace cep::lang::grammar
