// Expression evaluation in the reference interpreter (compiler/interp/eval.hpp): every operator,
// the null rules of spec §2, aggregates and the built-in functions (stdlib/native.hpp).
#include "compiler/interp/eval.hpp"
#include "compiler/interp/record.hpp"
#include "interp_fixture_test.hpp"
#include "stdlib/native.hpp"

#include <cmath>

using namespace interp_test;
using cep::compiler::interp::BoundEvents;
using cep::compiler::interp::Evaluator;
using cep::compiler::interp::NodeCounter;
using cep::compiler::interp::NodeRef;
using cep::compiler::interp::Value;

namespace {

const char *kProgram = R"(
event E {
    i: int, j: int, n: int?, f: float, g: float?, s: string, u: string?, b: bool, nb: bool?,
    t: time, d: duration, nd: duration?
}
pattern p skip none {
    a: E -> l: E{2,} -> c: E
}
emit Out {
    add_int: a.i + c.i, sub_int: a.i - c.i, mul_int: a.i * c.i,
    div_int: a.i / c.j, div_trunc: c.i / c.j, mod_int: a.i % c.j, mod_neg: c.i % c.j,
    div_zero: a.i / a.j, mod_zero: a.i % a.j,
    mixed: a.i + a.f, float_div: a.f / 2, float_div_zero: a.f / a.j, null_arith: a.n + 1,
    neg_int: -c.i, neg_float: -a.f,
    concat: a.s + "-" + c.s, concat_opt: a.s + c.u, concat_null: a.u + "x",
    lt: a.i < c.i, str_lt: a.s < c.s, eq_null: a.n == a.n, ne_null: a.n != 1,
    int_float_lt: c.i < a.f, bool_eq: a.b == c.b,
    and_false: a.nb and false, and_true: a.nb and true, or_true: a.nb or true,
    or_false: a.nb or false, not_null: not a.nb, not_false: not c.b,
    is_null: a.n is null, is_not_null: c.n is not null, is_null_of_null_arith: a.n + 1 is null,
    time_sub: c.t - a.t, time_add: a.t + 5s, time_minus: c.t - 1d,
    dur_mul: a.d * 2, dur_mul_int_first: 3 * c.d, dur_half: c.d * 0.5, dur_neg_half: c.d * -0.5,
    dur_div: a.d / 2, dur_div_zero: a.d / a.j, dur_div_dur: a.d / c.d, dur_div_zero_dur: a.d / c.nd,
    dur_div_float: a.d / 0.7, dur_add: a.d + c.d, dur_null: a.nd + 1s,
    in_list: a.s in ["ab", "cd"], in_null: a.u in ["ab"], not_in_null: a.u not in ["ab"],
    not_in: c.i not in [1, 2], in_float: a.f in [1.0, 2.5],
    if_true: if(a.b, a.i, c.i), if_null_cond: if(a.nb, 1, 2), if_null_branch: if(c.b, 1, a.n),
    coalesce_int: coalesce(a.n, c.n, 0), coalesce_str: coalesce(a.u, a.s),
    coalesce_all_null: coalesce(a.n, a.n),
    count_l: count(l), count_n: count(l.n), sum_i: sum(l.i), sum_f: sum(l.f), sum_d: sum(l.d),
    sum_n: sum(l.n), avg_i: avg(l.i), avg_g: avg(l.g), min_f: min(l.f), max_s: max(l.s),
    min_n: min(l.n), max_d: max(l.d), first_i: first(l).i, last_s: last(l).s, last_n: last(l).n,
    sum_expr: sum(l.i * 2 + a.i), avg_nothing_non_null: avg(l.g + a.g),
    abs_int: abs(c.i), abs_float: abs(-a.f), abs_dur: abs(c.d - a.d),
    min3: min(a.i, c.i, 5), max_str: max(a.s, c.s), min_mixed: min(a.f, c.i), min_null: min(a.i, a.n),
    round_up: round(a.f), round_neg: round(-a.f), round_int: round(a.i), floor_f: floor(-a.f),
    ceil_f: ceil(a.f), sqrt_f: sqrt(a.f * a.f), sqrt_neg: sqrt(c.i), ln_f: ln(a.f),
    exp_0: exp(a.j), pow_f: pow(a.f, 2),
    len_u: len(c.s), lower_s: lower(c.u + "AbÉ"), upper_s: upper(c.s),
    contains_s: contains(c.s, "éll"), starts_empty: starts_with(a.s, ""),
    ends_long: ends_with(a.s, "xab"), ends_s: ends_with(c.s, "lo"),
    substr_mid: substr(c.s, 1, 3), substr_neg_start: substr(c.s, -2, 2),
    substr_long: substr(c.s, 3, 100), substr_past: substr(c.s, 9, 2),
    substr_neg_len: substr(c.s, 1, -1), substr_null: substr(a.u, 0, 1),
    hour_0: hour(a.t), hour_13: hour(c.t + 13h), minute_7: minute(c.t + 7m + 59s),
    dow_thu: day_of_week(a.t), dow_mon: day_of_week(c.t), dow_sun: day_of_week(c.t - 1ms),
    hour_before_1970: hour(a.t - 2h), dow_before_1970: day_of_week(a.t - 2d),
    seconds_d: seconds(a.d), minutes_d: minutes(a.d), hours_d: hours(a.d * 2400),
    haversine: haversine_km(51.5074, -0.1278, 48.8566, 2.3522),
    haversine_zero: haversine_km(a.f, a.f, a.f, a.f),
}

pattern q skip none {
    x: E(n > 1) -> y: E(count(y) == 0 or i > last(y).i)+ -> z: E(nb)
}
emit Q { k: x.i }
)";

const char *kA =
    R"({"@type":"E","i":7,"j":0,"n":null,"f":2.5,"s":"ab","b":true,"t":1000,"d":1500})";
const char *kL1 =
    R"({"@type":"E","i":1,"j":0,"n":10,"f":1.5,"g":2.0,"s":"b","b":true,"t":2000,"d":100})";
const char *kL2 = R"({"@type":"E","i":2,"j":0,"f":-0.5,"s":"a","b":true,"t":3000,"d":200})";
const char *kL3 =
    R"({"@type":"E","i":4,"j":0,"n":3,"f":4.0,"g":1.0,"s":"c","b":true,"t":4000,"d":300})";
const char *kC =
    R"({"@type":"E","i":-3,"j":2,"n":5,"f":0.1,"g":1.5,"s":"héllo","u":"X","b":false,"nb":true,"t":345600000,"d":3,"nd":0})";

struct Fixture {
  std::unique_ptr<Compiled> c = compile(kProgram);
  EventMaker events{c->schema};
  NodeCounter counter;
  Evaluator evaluator{c->prog()};
  NodeRef full;    // a, l (3 events), c
  NodeRef no_loop; // a, c (what a timeout record or an optional loop sees)

  Fixture() {
    auto a = events.make(kA);
    NodeRef n = NodeRef::bind(a, 0, NodeRef(), &counter);
    no_loop = NodeRef::bind(events.make(kC), 2, n, &counter);
    for (const char *l : {kL1, kL2, kL3}) {
      n = NodeRef::bind(events.make(l), 1, n, &counter);
    }
    full = NodeRef::bind(events.make(kC), 2, n, &counter);
  }

  // The JSON of emit field `name` over `bound`.
  std::string field(const std::string &name, const NodeRef &bound) {
    BoundEvents b(bound.get(), c->pattern().steps.size());
    for (const auto &f : c->pattern().emit.fields) {
      if (f.name == name) {
        std::string out;
        cep::runtime::JsonWriter w(out);
        cep::compiler::interp::writeValue(w, evaluator.evaluate(*f.value, nullptr, &b));
        return out;
      }
    }
    FAIL("no emit field " << name);
    return "";
  }
  std::string field(const std::string &name) { return field(name, full); }
};

} // namespace

TEST_CASE("interp eval: arithmetic, division by zero, overflow", "[interp]") {
  Fixture fx;
  CHECK(fx.field("add_int") == "4");
  CHECK(fx.field("sub_int") == "10");
  CHECK(fx.field("mul_int") == "-21");
  CHECK(fx.field("div_int") == "3");
  CHECK(fx.field("div_trunc") == "-1"); // truncates toward zero
  CHECK(fx.field("mod_int") == "1");
  CHECK(fx.field("mod_neg") == "-1"); // the sign of the dividend
  CHECK(fx.field("div_zero") == "null");
  CHECK(fx.field("mod_zero") == "null");
  CHECK(fx.field("mixed") == "9.5");
  CHECK(fx.field("float_div") == "1.25");
  CHECK(fx.field("float_div_zero") == "null"); // +inf is written as null
  CHECK(fx.field("null_arith") == "null");
  CHECK(fx.field("neg_int") == "3");
  CHECK(fx.field("neg_float") == "-2.5");
}

TEST_CASE("interp eval: integer overflow wraps", "[interp]") {
  auto c = compile(R"(
event E { i: int, j: int, t: time }
pattern p { a: E }
emit Out { add: a.i + a.j, mul: a.i * a.i, neg: -a.j, div: a.j / -1, mod: a.j % -1, abs_min: abs(a.j) }
)");
  EventMaker events(c->schema);
  NodeCounter counter;
  Evaluator ev(c->prog());
  NodeRef n =
      NodeRef::bind(events.make(R"({"i":9223372036854775807,"j":-9223372036854775808,"t":0})"), 0,
                    NodeRef(), &counter);
  BoundEvents b(n.get(), 1);
  auto value = [&](std::size_t i) {
    std::string out;
    cep::runtime::JsonWriter w(out);
    cep::compiler::interp::writeValue(w,
                                      ev.evaluate(*c->pattern().emit.fields[i].value, nullptr, &b));
    return out;
  };
  CHECK(value(0) == "-1");
  CHECK(value(1) == "1");
  CHECK(value(2) == "-9223372036854775808");
  CHECK(value(3) == "-9223372036854775808");
  CHECK(value(4) == "0");
  CHECK(value(5) == "-9223372036854775808");
}

TEST_CASE("interp eval: strings, comparisons and three-valued logic", "[interp]") {
  Fixture fx;
  CHECK(fx.field("concat") == "\"ab-héllo\"");
  CHECK(fx.field("concat_opt") == "\"abX\"");
  CHECK(fx.field("concat_null") == "null");
  CHECK(fx.field("lt") == "false");
  CHECK(fx.field("str_lt") == "true");
  CHECK(fx.field("eq_null") == "false"); // a comparison with null is false ...
  CHECK(fx.field("ne_null") == "false"); // ... `!=` too
  CHECK(fx.field("int_float_lt") == "true");
  CHECK(fx.field("bool_eq") == "false");
  CHECK(fx.field("and_false") == "false");
  CHECK(fx.field("and_true") == "null");
  CHECK(fx.field("or_true") == "true");
  CHECK(fx.field("or_false") == "null");
  CHECK(fx.field("not_null") == "null");
  CHECK(fx.field("not_false") == "true");
  CHECK(fx.field("is_null") == "true");
  CHECK(fx.field("is_not_null") == "true");
  CHECK(fx.field("is_null_of_null_arith") == "true");
  CHECK(fx.field("in_list") == "true");
  CHECK(fx.field("in_null") == "false");
  CHECK(fx.field("not_in_null") == "false");
  CHECK(fx.field("not_in") == "true");
  CHECK(fx.field("in_float") == "true");
  CHECK(fx.field("if_true") == "7");
  CHECK(fx.field("if_null_cond") == "2");
  CHECK(fx.field("if_null_branch") == "null");
  CHECK(fx.field("coalesce_int") == "5");
  CHECK(fx.field("coalesce_str") == "\"ab\"");
  CHECK(fx.field("coalesce_all_null") == "null");
}

TEST_CASE("interp eval: time and duration arithmetic", "[interp]") {
  Fixture fx;
  CHECK(fx.field("time_sub") == "345599000");
  CHECK(fx.field("time_add") == "\"1970-01-01T00:00:06.000Z\"");
  CHECK(fx.field("time_minus") == "\"1970-01-04T00:00:00.000Z\"");
  CHECK(fx.field("dur_mul") == "3000");
  CHECK(fx.field("dur_mul_int_first") == "9");
  CHECK(fx.field("dur_half") == "2"); // 1.5 ms rounds half away from zero
  CHECK(fx.field("dur_neg_half") == "-2");
  CHECK(fx.field("dur_div") == "750");
  CHECK(fx.field("dur_div_zero") == "null");
  CHECK(fx.field("dur_div_dur") == "500.0");
  CHECK(fx.field("dur_div_zero_dur") == "null");
  CHECK(fx.field("dur_div_float") == "2143"); // 2142.857...
  CHECK(fx.field("dur_add") == "1503");
  CHECK(fx.field("dur_null") == "null");
}

TEST_CASE("interp eval: aggregates over a loop", "[interp]") {
  Fixture fx;
  CHECK(fx.field("count_l") == "3");
  CHECK(fx.field("count_n") == "2"); // non-null values
  CHECK(fx.field("sum_i") == "7");
  CHECK(fx.field("sum_f") == "5.0");
  CHECK(fx.field("sum_d") == "600");
  CHECK(fx.field("sum_n") == "13");
  CHECK(fx.field("avg_i") == "2.3333333333333335");
  CHECK(fx.field("avg_g") == "1.5");
  CHECK(fx.field("min_f") == "-0.5");
  CHECK(fx.field("max_s") == "\"c\"");
  CHECK(fx.field("min_n") == "3");
  CHECK(fx.field("max_d") == "300");
  CHECK(fx.field("first_i") == "1");
  CHECK(fx.field("last_s") == "\"c\"");
  CHECK(fx.field("last_n") == "3");
  CHECK(fx.field("sum_expr") == "35");               // (1+2+4)*2 + 3*7
  CHECK(fx.field("avg_nothing_non_null") == "null"); // a.g is null: every value is null
}

TEST_CASE("interp eval: aggregates over a loop that bound nothing", "[interp]") {
  Fixture fx;
  CHECK(fx.field("count_l", fx.no_loop) == "0");
  CHECK(fx.field("count_n", fx.no_loop) == "0");
  CHECK(fx.field("sum_i", fx.no_loop) == "0");
  CHECK(fx.field("sum_f", fx.no_loop) == "0.0");
  CHECK(fx.field("sum_d", fx.no_loop) == "0");
  CHECK(fx.field("avg_i", fx.no_loop) == "null");
  CHECK(fx.field("min_f", fx.no_loop) == "null");
  CHECK(fx.field("max_s", fx.no_loop) == "null");
  CHECK(fx.field("first_i", fx.no_loop) == "null");
  CHECK(fx.field("last_s", fx.no_loop) == "null");
  CHECK(fx.field("add_int", fx.no_loop) == "4");
}

TEST_CASE("interp eval: built-in functions", "[interp]") {
  Fixture fx;
  CHECK(fx.field("abs_int") == "3");
  CHECK(fx.field("abs_float") == "2.5");
  CHECK(fx.field("abs_dur") == "1497");
  CHECK(fx.field("min3") == "-3");
  CHECK(fx.field("max_str") == "\"héllo\"");
  CHECK(fx.field("min_mixed") == "-3.0");
  CHECK(fx.field("min_null") == "null");
  CHECK(fx.field("round_up") == "3.0");
  CHECK(fx.field("round_neg") == "-3.0");
  CHECK(fx.field("round_int") == "7.0");
  CHECK(fx.field("floor_f") == "-3.0");
  CHECK(fx.field("ceil_f") == "3.0");
  CHECK(fx.field("sqrt_f") == "2.5");
  CHECK(fx.field("sqrt_neg") == "null"); // NaN is written as null
  CHECK(fx.field("ln_f") == "0.9162907318741551");
  CHECK(fx.field("exp_0") == "1.0");
  CHECK(fx.field("pow_f") == "6.25");
  CHECK(fx.field("len_u") == "5");
  CHECK(fx.field("lower_s") == "\"xabÉ\""); // ASCII letters only
  CHECK(fx.field("upper_s") == "\"HéLLO\"");
  CHECK(fx.field("contains_s") == "true");
  CHECK(fx.field("starts_empty") == "true");
  CHECK(fx.field("ends_long") == "false");
  CHECK(fx.field("ends_s") == "true");
  CHECK(fx.field("substr_mid") == "\"éll\"");
  CHECK(fx.field("substr_neg_start") == "\"hé\"");
  CHECK(fx.field("substr_long") == "\"lo\"");
  CHECK(fx.field("substr_past") == "\"\"");
  CHECK(fx.field("substr_neg_len") == "\"\"");
  CHECK(fx.field("substr_null") == "null");
  CHECK(fx.field("hour_0") == "0");
  CHECK(fx.field("hour_13") == "13");
  CHECK(fx.field("minute_7") == "7");
  CHECK(fx.field("dow_thu") == "4");
  CHECK(fx.field("dow_mon") == "1");
  CHECK(fx.field("dow_sun") == "7");
  CHECK(fx.field("hour_before_1970") == "22");
  CHECK(fx.field("dow_before_1970") == "2");
  CHECK(fx.field("seconds_d") == "1.5");
  CHECK(fx.field("minutes_d") == "0.025");
  CHECK(fx.field("hours_d") == "1.0");
  CHECK(fx.field("haversine_zero") == "0.0");
  CHECK(std::stod(fx.field("haversine")) == Approx(343.556).epsilon(1e-4));
}

TEST_CASE("interp eval: conditions, candidates and iterative aggregates", "[interp]") {
  Fixture fx;
  const auto &q = fx.c->pattern(1);
  const typed::Expr &x_cond = *q.steps[0].condition;
  const typed::Expr &y_cond = *q.steps[1].condition;
  const typed::Expr &z_cond = *q.steps[2].condition;
  auto a = fx.events.make(kA);
  auto c = fx.events.make(kC);
  auto l1 = fx.events.make(kL1);
  auto l2 = fx.events.make(kL2);
  auto l3 = fx.events.make(kL3);
  NodeCounter counter;

  // n > 1 with n null: a comparison with null is false (not null).
  CHECK_FALSE(fx.evaluator.test(x_cond, a.get(), nullptr));
  CHECK_FALSE(fx.evaluator.evaluate(x_cond, a.get(), nullptr).null);
  CHECK(fx.evaluator.test(x_cond, c.get(), nullptr));
  // A nullable bool condition that is null is false.
  CHECK(fx.evaluator.evaluate(z_cond, a.get(), nullptr).null);
  CHECK_FALSE(fx.evaluator.test(z_cond, a.get(), nullptr));
  CHECK(fx.evaluator.test(z_cond, c.get(), nullptr));

  // The loop's own condition sees the events it accepted so far.
  NodeRef x = NodeRef::bind(c, 0, NodeRef(), &counter);
  BoundEvents only_x(x.get(), 3);
  CHECK(fx.evaluator.test(y_cond, l2.get(), &only_x)); // count(y) == 0
  NodeRef y1 = NodeRef::bind(l1, 1, x, &counter);
  BoundEvents after_l1(y1.get(), 3);
  CHECK(fx.evaluator.test(y_cond, l2.get(), &after_l1)); // 2 > 1
  NodeRef y3 = NodeRef::bind(l3, 1, y1, &counter);
  BoundEvents after_l3(y3.get(), 3);
  CHECK_FALSE(fx.evaluator.test(y_cond, l2.get(), &after_l3)); // 2 > 4 is false
}

TEST_CASE("interp stdlib: native functions", "[interp]") {
  CHECK(cep_stdlib_round(0.5) == 1.0);
  CHECK(cep_stdlib_round(-0.5) == -1.0);
  CHECK(cep_stdlib_round(2.4999) == 2.0);
  CHECK(cep_stdlib_abs_int(-5) == 5);
  CHECK(cep_stdlib_abs_int(INT64_MIN) == INT64_MIN);
  CHECK(cep_stdlib_len("", 0) == 0);
  CHECK(cep_stdlib_len("\xF0\x9F\x98\x80x", 5) == 2); // an emoji and x
  std::uint64_t b = 0, n = 0;
  cep_stdlib_substr("\xF0\x9F\x98\x80xy", 6, 1, 1, &b, &n);
  CHECK((b == 4 && n == 1));
  cep_stdlib_substr("abc", 3, INT64_MAX, INT64_MAX, &b, &n);
  CHECK((b == 3 && n == 0));
  cep_stdlib_substr("abc", 3, 0, INT64_MAX, &b, &n);
  CHECK((b == 0 && n == 3));
  CHECK(cep_stdlib_contains("abc", 3, "", 0));
  CHECK_FALSE(cep_stdlib_starts_with("ab", 2, "abc", 3));
  CHECK(cep_stdlib_hour(-1) == 23);
  CHECK(cep_stdlib_minute(-1) == 59);
  CHECK(cep_stdlib_day_of_week(-1) == 3);              // 1969-12-31, a Wednesday
  CHECK(cep_stdlib_day_of_week(1767225600000LL) == 4); // 2026-01-01, a Thursday
  CHECK(cep_stdlib_hours(5400000) == 1.5);
  CHECK(cep_stdlib_haversine_km(0, 0, 0, 180) == Approx(20015.086796));
  CHECK(cep_stdlib_haversine_km(90, 0, -90, 0) == Approx(20015.086796));
}
