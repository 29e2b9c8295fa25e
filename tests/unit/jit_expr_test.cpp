// JIT-compiled expressions (compiler/codegen + compiler/jit) against the reference evaluator
// (compiler/interp/eval.cpp): every operator, built-in and aggregate, as emit values of native
// pattern code, over random events with nulls, NaN, infinities, int64 extremes and unicode
// strings, at O0 and O2. (Conditions run inside step functions: pattern_codegen_test.cpp.)
#include "compiler/interp/eval.hpp"
#include "compiler/interp/record.hpp"
#include "compiler/jit/jit.hpp"
#include "compiler/lower/lower_pattern.hpp"
#include "compiler/passes/pass_manager.hpp"
#include "interp_fixture_test.hpp"
#include "native_ctx_test.hpp"

#include <algorithm>
#include <random>

using namespace interp_test;
using cep::compiler::interp::BoundEvents;
using cep::compiler::interp::Evaluator;
using cep::compiler::interp::NodeCounter;
using cep::compiler::interp::NodeRef;
namespace jit = cep::compiler::jit;

namespace {

const char *kProgram = R"(
event E {
    i: int, j: int, n: int?, f: float, g: float?, s: string, u: string?, b: bool, nb: bool?,
    t: time, d: duration, nd: duration?
}
pattern p skip none {
    a: E -> l: E* -> c: E
}
emit Out {
    add_int: a.i + c.i, sub_int: a.i - c.i, mul_int: a.i * c.i, div_int: a.i / c.j,
    mod_int: a.i % c.j, div_n: a.i / c.n, mod_n: c.n % a.j,
    mixed: a.i + a.f, float_div: a.f / c.f, float_div_int: a.f / a.j, null_arith: a.n + 1,
    neg_int: -c.i, neg_float: -a.f, neg_n: -a.n,
    concat: a.s + "-" + c.s, concat_opt: a.s + c.u, concat_null: a.u + "x",
    lt: a.i < c.i, le: a.i <= c.n, gt: a.f > c.f, ge: a.g >= c.g, eq_f: a.f == c.f,
    ne_f: a.f != c.f, str_lt: a.s < c.s, str_eq: a.s == c.s, str_ne: a.u != c.u,
    eq_null: a.n == a.n, ne_null: a.n != 1, int_float_lt: c.i < a.f, bool_eq: a.b == c.b,
    bool_ne: a.b != c.b, nan_lt: sqrt(a.f) < 1.0, nan_ne: sqrt(a.f) != sqrt(a.f),
    nan_eq: ln(a.f) == ln(a.f), nan_ge: sqrt(c.f) >= 0.0,
    and3: a.nb and c.nb, or3: a.nb or c.nb, and_f: a.nb and false, or_t: a.nb or true,
    not3: not a.nb, mix_logic: (a.i > 0 or c.nb) and not (c.b or a.nb),
    is_null: a.n is null, is_not_null: c.u is not null, is_null_arith: a.n + c.n is null,
    time_sub: c.t - a.t, time_add: a.t + c.d, time_minus: c.t - 1d, time_lt: a.t < c.t,
    dur_mul: a.d * c.j, dur_half: c.d * a.f, dur_div_f: a.d / c.f, dur_div: a.d / c.j,
    dur_div_dur: a.d / c.d, dur_div_nd: a.d / c.nd, dur_add: a.d + c.nd, dur_neg: -a.d,
    in_s: a.s in ["ab", "héllo", ""], in_u: a.u in ["ab"], not_in_u: a.u not in ["ab"],
    not_in_i: c.i not in [1, 2, -1], in_f: a.f in [1.0, 2.5, -0.0], in_d: a.d in [1s, 2ms],
    if_i: if(a.b, a.i, c.i), if_nb: if(a.nb, a.s, c.s), if_null_branch: if(c.b, 1, a.n),
    if_f: if(a.f > c.f, a.g, c.f), coalesce_int: coalesce(a.n, c.n, 0),
    coalesce_str: coalesce(a.u, c.u, a.s), coalesce_all_null: coalesce(a.n, c.n),
    count_l: count(l), count_n: count(l.n), sum_i: sum(l.i), sum_f: sum(l.f), sum_d: sum(l.d),
    sum_n: sum(l.n), avg_i: avg(l.i), avg_g: avg(l.g), min_f: min(l.f), max_f: max(l.g),
    min_s: min(l.s), max_s: max(l.u), min_n: min(l.n), max_d: max(l.d), min_t: min(l.t),
    first_i: first(l).i, last_s: last(l).s, last_n: last(l).n, first_u: first(l).u,
    sum_expr: sum(l.i * 2 + a.i), avg_expr: avg(l.g + a.g),
    count_expr: count(if(l.b, l.n, l.i)), sum_div: sum(l.i / a.j), max_cat: max(l.s + a.s),
    min_ratio: min(l.f / c.f), nested: sum(l.i) + count(l) * max(l.n),
    abs_int: abs(c.i), abs_float: abs(a.f), abs_dur: abs(c.d - a.d), abs_n: abs(a.n),
    min3: min(a.i, c.i, 5), max_str: max(a.s, c.s), min_f2: min(a.f, c.f), max_n: max(a.i, a.n),
    min_t2: min(a.t, c.t),
    round_f: round(a.f), floor_f: floor(c.f), ceil_f: ceil(a.f), sqrt_f: sqrt(a.f),
    ln_f: ln(c.f), exp_f: exp(a.f), pow_f: pow(a.f, c.f), round_i: round(a.i),
    len_s: len(c.s), len_u: len(a.u), lower_s: lower(c.s), upper_u: upper(a.u + "aé"),
    contains_s: contains(a.s, c.s), starts_s: starts_with(c.s, a.s), ends_s: ends_with(c.s, "o"),
    substr_s: substr(c.s, a.j, c.j), substr_u: substr(a.u, 1, 2), substr_n: substr(a.s, a.n, 1),
    hour_t: hour(a.t), minute_t: minute(c.t), dow_t: day_of_week(c.t),
    seconds_d: seconds(a.d), minutes_d: minutes(c.d), hours_d: hours(a.nd),
    haversine: haversine_km(a.f, c.f, a.g, c.g),
}

pattern q skip none {
    x: E(n > 1 or u is not null) -> y: E(count(y) == 0 or i > last(y).i)+
        -> z: E(nb and s < x.s and contains(lower(s), "a") and sum(y.f) > f)
}
emit Q { k: x.i, m: max(y.s), s: z.s + x.s }
)";

const char *kStrings[] = {"", "a", "ab", "b", "héllo", "日本語", "Ab", "aé", "😀x", "zz", "AB"};
const char *kInts[] = {
    "0",    "1",  "-1",      "2", "7", "9223372036854775807", "-9223372036854775808",
    "1000", "-3", "86400000"};
const char *kFloats[] = {"0.0",    "-0.0", "1.0",    "2.5",    "-0.5", "1e308",
                         "-1e308", "4.0",  "1e-310", "100.25", "3"};

class Gen {
public:
  explicit Gen(std::uint32_t seed) : rng_(seed) {}
  template <std::size_t N> const char *pick(const char *(&from)[N]) { return from[rng_() % N]; }
  bool chance(int percent) { return static_cast<int>(rng_() % 100) < percent; }
  std::string str() { return std::string("\"") + pick(kStrings) + "\""; }
  std::string event() {
    std::string j = R"({"@type":"E")";
    auto add = [&](const char *name, const std::string &v, bool nullable) {
      if (nullable && chance(30)) {
        if (chance(50)) {
          j += std::string(",\"") + name + "\":null";
        }
        return;
      }
      j += std::string(",\"") + name + "\":" + v;
    };
    add("i", pick(kInts), false);
    add("j", pick(kInts), false);
    add("n", pick(kInts), true);
    add("f", pick(kFloats), false);
    add("g", pick(kFloats), true);
    add("s", str(), false);
    add("u", str(), true);
    add("b", chance(50) ? "true" : "false", false);
    add("nb", chance(50) ? "true" : "false", true);
    const char *times[] = {"0", "1000", "345600000", "1700000000000", "-7200000", "86399999"};
    add("t", pick(times), false);
    add("d", pick(kInts), false);
    add("nd", pick(kInts), true);
    return j + "}";
  }

private:
  std::mt19937 rng_;
};

std::string json(const cep::compiler::interp::Value &v) {
  std::string out;
  cep::runtime::JsonWriter w(out);
  cep::compiler::interp::writeValue(w, v);
  return out;
}

struct Loaded {
  std::vector<nfa::Nfa> nfas;
  jit::LoadedProgram code;
};

Loaded load(jit::Jit &engine, const typed::Program &program) {
  Loaded out;
  auto passes = cep::compiler::passes::PassManager::standard();
  for (std::size_t i = 0; i < program.patterns.size(); ++i) {
    out.nfas.push_back(cep::compiler::lowerPattern(program, static_cast<std::int32_t>(i)));
    passes.run(out.nfas.back());
  }
  jit::ModuleStats stats;
  std::string error;
  auto code = engine.compileProgram(program, out.nfas, stats, error);
  INFO(error);
  REQUIRE(code.has_value());
  out.code = std::move(*code);
  return out;
}

// A generated value as the interpreter's Value of `kind`.
cep::compiler::interp::Value fromNative(const CepValue &v, cep::lang::TypeKind kind) {
  using cep::compiler::interp::Value;
  using cep::lang::TypeKind;
  if (v.null) {
    return Value::nullOf(kind);
  }
  switch (kind) {
  case TypeKind::Bool:
    return Value::ofBool(v.b != 0);
  case TypeKind::Float:
    return Value::ofFloat(v.f);
  case TypeKind::String:
    return Value::ofString(std::string_view(v.s, v.n));
  default:
    return Value::ofInt(kind, v.i);
  }
}

} // namespace

TEST_CASE("jit expressions agree with the evaluator on random events", "[jit]") {
  auto c = compile(kProgram);
  EventMaker events(c->schema);
  for (int opt_level : {0, 2}) {
    std::string error;
    auto engine = jit::Jit::create(opt_level, error);
    INFO(error);
    REQUIRE(engine != nullptr);
    Loaded loaded = load(*engine, c->prog());
    const auto &fields = c->pattern(0).emit.fields;
    REQUIRE(loaded.code.code.at(0).emit.size() == fields.size());
    Evaluator evaluator(c->prog());
    Gen gen(1234u + static_cast<std::uint32_t>(opt_level));
    std::size_t checked = 0;
    for (int round = 0; round < 300; ++round) {
      NodeCounter counter;
      NodeRef bound = NodeRef::bind(events.make(gen.event()), 0, NodeRef(), &counter);
      int loop = round % 5; // 0: the optional loop bound nothing
      for (int k = 0; k < loop; ++k) {
        bound = NodeRef::bind(events.make(gen.event()), 1, bound, &counter);
      }
      bound = NodeRef::bind(events.make(gen.event()), 2, bound, &counter);
      BoundEvents b(bound.get(), 3);
      native_test::NativeCtx ctx(bound.get(), 3);
      for (std::size_t k = 0; k < fields.size(); ++k) {
        const auto &f = fields[k];
        std::string want = json(evaluator.evaluate(*f.value, nullptr, &b));
        CepValue out{};
        loaded.code.code[0].emit[k](nullptr, ctx.get(), &out);
        std::string got = json(fromNative(out, f.value->type.kind));
        INFO("O" << opt_level << " round " << round << " field " << f.name);
        REQUIRE(got == want);
        ++checked;
      }
    }
    CHECK(checked == 300 * fields.size());
  }
}

TEST_CASE("jit: explain IR and unloading modules", "[jit]") {
  auto c = compile(kProgram);
  auto nfa = cep::compiler::lowerPattern(c->prog(), 1);
  std::string ir, error;
  REQUIRE(jit::patternIr(c->prog(), nfa, 2, ir, error));
  // The native pattern functions (compiler/codegen/pattern_codegen.hpp): guards are inlined.
  CHECK(ir.find("@cep.p1.step(") != std::string::npos);
  CHECK(ir.find("@cep.p1.prefilter(") != std::string::npos);
  CHECK(ir.find("@cep.p1.key_hash(") != std::string::npos);
  CHECK(ir.find("@cep.p1.key_eq(") != std::string::npos);
  CHECK(ir.find("@cep.p1.emit.0(") != std::string::npos);
  CHECK(ir.find("cep_stdlib_contains") != std::string::npos);
  auto engine = jit::Jit::create(1, error);
  REQUIRE(engine != nullptr);
  std::vector<nfa::Nfa> nfas;
  nfas.push_back(std::move(nfa));
  for (int i = 0; i < 3; ++i) { // load and unload the same program's module repeatedly
    jit::ModuleStats stats;
    auto loaded = engine->compileProgram(c->prog(), nfas, stats, error);
    REQUIRE(loaded.has_value());
    CHECK(stats.patterns == 1);
    CHECK(stats.emit_values == 3);
    CHECK(stats.compile_ms > 0);
    REQUIRE(loaded->code.size() == 1);
    CHECK(loaded->code[0].step != nullptr);
  }
}

// Every level's pipeline (compiler/jit/optimize.hpp; level 2 is cep's own) folds the guards and
// the per-state functions (visit, fap) of a sequence into the step function and drops them: what
// the step function's speed rests on.
TEST_CASE("jit: every level inlines the guards and state functions into the step function",
          "[jit]") {
  auto c = compile(R"(
event Ev { type: string, key: int }
pattern seq partition by key within 10m skip none {
    a: Ev(type == "A") -> b: Ev(type == "B") -> c: Ev(type == "C")
}
emit Out { key: a.key }
)");
  auto nfa = cep::compiler::lowerPattern(c->prog(), 0);
  for (int level = 1; level <= 3; ++level) {
    INFO("level " << level);
    std::string ir, error;
    REQUIRE(jit::patternIr(c->prog(), nfa, level, ir, error));
    CHECK(ir.find("@cep.p0.step(ptr nocapture readonly %e") != std::string::npos);
    CHECK(ir.find("@cep.p0.guard.") == std::string::npos);
    CHECK(ir.find("@cep.p0.visit.") == std::string::npos);
    CHECK(ir.find("@cep.p0.fap.") == std::string::npos);
  }
  std::string ir, error;
  REQUIRE(jit::patternIr(c->prog(), nfa, 0, ir, error)); // level 0 keeps them: the check can fail
  CHECK(ir.find("@cep.p0.guard.") != std::string::npos);
  CHECK(ir.find("@cep.p0.visit.") != std::string::npos);
}

// At level 2 a pattern's emit values are compiled plainly (optnone after the optimiser:
// compiler/codegen/module_builder.cpp), the step, prefilter and key functions fully; level 3
// compiles everything fully.
TEST_CASE("jit: at level 2 the emit values are compiled plainly and the step function fully",
          "[jit]") {
  auto c = compile(R"(
event Ev { type: string, key: int }
pattern seq partition by key within 10m skip none {
    a: Ev(type == "A") -> b: Ev(type == "B")
}
emit Out { key: a.key, n: 1 }
)");
  auto nfa = cep::compiler::lowerPattern(c->prog(), 0);
  // The attributes of the function `name` (the text of its `attributes #N = { ... }` line).
  auto attributesOf = [](const std::string &ir, const std::string &name) {
    std::size_t def = ir.find(" @" + name + "(");
    REQUIRE(def != std::string::npos);
    std::size_t end = ir.find('\n', def);
    std::size_t hash = ir.rfind('#', end);
    REQUIRE((hash != std::string::npos && hash > def));
    std::string group = ir.substr(hash, ir.find(' ', hash) - hash);
    std::size_t line = ir.find("attributes " + group + " = {");
    REQUIRE(line != std::string::npos);
    return ir.substr(line, ir.find('\n', line) - line);
  };
  std::string ir, error;
  REQUIRE(jit::patternIr(c->prog(), nfa, 2, ir, error));
  for (const char *emit : {"cep.p0.emit.0", "cep.p0.emit.1"}) {
    INFO(emit);
    CHECK(attributesOf(ir, emit).find("optnone") != std::string::npos);
  }
  for (const char *hot : {"cep.p0.step", "cep.p0.prefilter", "cep.p0.key_hash", "cep.p0.key_eq"}) {
    INFO(hot);
    CHECK(attributesOf(ir, hot).find("optnone") == std::string::npos);
  }
  ir.clear();
  REQUIRE(jit::patternIr(c->prog(), nfa, 3, ir, error));
  CHECK(ir.find("optnone") == std::string::npos);
}

// String == and != are generated inline (lengths, then wide loads against literals of up to 16
// bytes, cep_rt_strcmp otherwise): against the evaluator for literals of every length 0..20,
// unicode ones, and values that differ from them in one byte anywhere, are one byte longer or
// shorter, or are null.
TEST_CASE("jit: inline string equality agrees with the evaluator", "[jit]") {
  const std::string alphabet = "abcdefghijklmnopqrstu";
  std::vector<std::string> literals;
  for (std::size_t n = 0; n <= 20; ++n) {
    literals.push_back(alphabet.substr(0, n));
  }
  for (const char *u : {"é", "è", "日本語", "😀x", "aé", "héllo wörld ünï", "ünï😀😀😀😀x"}) {
    literals.emplace_back(u);
  }
  std::string program = "event E { s: string, u: string? }\npattern p skip none { a: E -> c: E }\n"
                        "emit Out { vv: a.s == c.s, vn: a.u != c.s";
  for (std::size_t i = 0; i < literals.size(); ++i) {
    std::string lit = "\"" + literals[i] + "\"";
    std::string k = std::to_string(i);
    program += ", eq" + k + ": a.s == " + lit + ", ne" + k + ": " + lit + " != a.s, un" + k +
               ": a.u == " + lit + ", in" + k + ": a.s in [" + lit + ", \"zz\"]";
  }
  program += " }\n";
  // Values: each literal, and each ASCII-only variant of it (one byte changed at the start, the
  // middle or the end; one byte more; one byte less).
  std::vector<std::string> values;
  for (const std::string &lit : literals) {
    values.push_back(lit);
    values.push_back(lit + "x");
    if (!lit.empty() && static_cast<unsigned char>(lit.back()) < 0x80) {
      values.push_back(lit.substr(0, lit.size() - 1)); // (a cut character is no valid text)
    }
    if (!lit.empty()) {
      for (std::size_t at : {std::size_t{0}, lit.size() / 2, lit.size() - 1}) {
        if (static_cast<unsigned char>(lit[at]) < 0x80) {
          std::string v = lit;
          v[at] = v[at] == 'Z' ? 'Y' : 'Z';
          values.push_back(v);
        }
      }
    }
  }
  auto c = compile(program);
  EventMaker events(c->schema);
  for (int opt_level : {0, 2}) {
    std::string error;
    auto engine = jit::Jit::create(opt_level, error);
    INFO(error);
    REQUIRE(engine != nullptr);
    Loaded loaded = load(*engine, c->prog());
    const auto &fields = c->pattern(0).emit.fields;
    REQUIRE(loaded.code.code.at(0).emit.size() == fields.size());
    Evaluator evaluator(c->prog());
    std::size_t checked = 0, equal = 0;
    for (std::size_t i = 0; i < values.size(); ++i) {
      const std::string &s = values[i];
      const std::string &other = values[(i * 7 + 3) % values.size()];
      std::string u = "null";
      if (i % 3 != 0) {
        u.assign(1, '"');
        u.append(i % 3 == 1 ? s : other);
        u.push_back('"');
      }
      NodeCounter counter;
      NodeRef bound = NodeRef::bind(
          events.make(R"({"@type":"E","s":")" + s + R"(","u":)" + u + "}"), 0, NodeRef(), &counter);
      bound = NodeRef::bind(events.make(R"({"@type":"E","s":")" + (i % 2 ? s : other) + "\"}"), 1,
                            bound, &counter);
      BoundEvents b(bound.get(), 2);
      native_test::NativeCtx ctx(bound.get(), 2);
      for (std::size_t k = 0; k < fields.size(); ++k) {
        const auto &f = fields[k];
        std::string want = json(evaluator.evaluate(*f.value, nullptr, &b));
        CepValue out{};
        loaded.code.code[0].emit[k](nullptr, ctx.get(), &out);
        std::string got = json(fromNative(out, f.value->type.kind));
        INFO("O" << opt_level << " value \"" << s << "\" field " << f.name);
        REQUIRE(got == want);
        ++checked;
        equal += want == "true" ? 1 : 0;
      }
    }
    CHECK(checked == values.size() * fields.size());
    CHECK(equal > values.size()); // both outcomes occur
  }
}
