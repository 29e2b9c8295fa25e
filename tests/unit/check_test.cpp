// The checker's output contract (lang/typed.hpp): normalised quantifiers, explicit casts, folded
// consts, inlined defs, aggregates as Op nodes, nullability. Error messages are covered by the
// golden cases in tests/golden/check/.
#include "check_fixture_test.hpp"
#include "lang/check.hpp"
#include "lang/parse.hpp"
#include "lang/typed_printer.hpp"

#include <catch2/catch.hpp>
#include <memory>
#include <sstream>

using namespace cep::lang;
using cep::lang::test::check;
using cep::lang::test::Checked;
using typed::Op;

namespace {

const typed::Pattern &onlyPattern(const Checked &c) {
  INFO(c.rendered());
  REQUIRE(c.program.has_value());
  REQUIRE(c.program->patterns.size() == 1);
  return c.program->patterns[0];
}

const char *kPayment = R"(
event Payment {
    card:     string
    amount:   float
    items:    int
    merchant: string?
    ts:       time
}
)";

} // namespace

TEST_CASE("quantifiers are normalised to min, max and optional", "[check]") {
  auto c = check(std::string(kPayment) + R"(
pattern p {
    a: Payment
    -> b: Payment?
    -> c: Payment*
    -> d: Payment+
    -> e: Payment{3}
    -> f: Payment{0,4}
    -> g: Payment{0,}
    -> h: Payment{2,} optional
    -> i: Payment{1}
}
emit Out { card: a.card }
)");
  const auto &steps = onlyPattern(*c).steps;
  REQUIRE(steps.size() == 9);
  auto expect = [&](std::size_t i, std::uint32_t min, std::uint32_t max, bool optional) {
    INFO("step " << steps[i].name);
    CHECK(steps[i].min == min);
    CHECK(steps[i].max == max);
    CHECK(steps[i].optional == optional);
  };
  const auto inf = typed::kUnbounded;
  expect(0, 1, 1, false);
  expect(1, 1, 1, true);
  expect(2, 1, inf, true);
  expect(3, 1, inf, false);
  expect(4, 3, 3, false);
  expect(5, 1, 4, true);
  expect(6, 1, inf, true);
  expect(7, 2, inf, true);
  expect(8, 1, 1, false);
  CHECK_FALSE(steps[8].looping());
  CHECK(steps[4].looping());
}

TEST_CASE("int widens to float through an explicit cast", "[check]") {
  auto c = check(std::string(kPayment) + R"(
pattern p { a: Payment(amount > 100 and items * 2.5 > amount) }
emit Out { card: a.card }
)");
  const auto &cond = *onlyPattern(*c).steps[0].condition;
  REQUIRE(cond.op == Op::And);
  const auto &gt = *cond.args[0];
  REQUIRE(gt.op == Op::Gt);
  CHECK(gt.args[0]->op == Op::Field);
  CHECK(gt.args[0]->step == typed::kCandidate);
  // A literal is converted in place: the cast was folded.
  REQUIRE(gt.args[1]->op == Op::Literal);
  CHECK(gt.args[1]->type.kind == TypeKind::Float);
  CHECK(gt.args[1]->value.f == 100.0);
  const auto &mul = *cond.args[1]->args[0];
  REQUIRE(mul.op == Op::Mul);
  CHECK(mul.type.kind == TypeKind::Float);
  REQUIRE(mul.args[0]->op == Op::Cast);
  CHECK(mul.args[0]->args[0]->type.kind == TypeKind::Int);
}

TEST_CASE("consts are folded into literals", "[check]") {
  auto c = check(std::string(kPayment) + R"(
const BASE = 60
const LIMIT = BASE * 2 + 1
const WINDOW = 5m * 2
const RISKY = ["NG", "KP"]
const LIMITS = [1, 2.5]
pattern p within WINDOW { a: Payment(items > LIMIT and merchant in RISKY and amount in LIMITS) }
emit Out { card: a.card }
)");
  const auto &p = onlyPattern(*c);
  REQUIRE(p.within_ms.has_value());
  CHECK(*p.within_ms == 600000);
  const auto &cond = *p.steps[0].condition;
  const auto &gt = *cond.args[0]->args[0];
  REQUIRE(gt.args[1]->op == Op::Literal);
  CHECK(gt.args[1]->value.i == 121);
  const auto &in = *cond.args[0]->args[1];
  REQUIRE(in.op == Op::In);
  REQUIRE(in.value.list.size() == 2);
  CHECK(in.value.list[1].s == "KP");
  CHECK(in.type.nullable); // merchant is nullable
  const auto &in2 = *cond.args[1];
  REQUIRE(in2.value.list.size() == 2);
  CHECK(in2.value.list[0].kind == TypeKind::Float); // int elements widened with the float one
  CHECK(in2.value.list[0].f == 1.0);
}

TEST_CASE("a single step's own name is the candidate, unnamed negations get $not names",
          "[check]") {
  auto c = check(std::string(kPayment) + R"(
pattern p within 5m { a: Payment() -> b: Payment(b.amount > a.amount) -> not Payment() }
emit Out { card: a.card }
)");
  const auto &p = onlyPattern(*c);
  REQUIRE(p.steps.size() == 3);
  CHECK(p.steps[2].name == "$not3");
  CHECK(p.steps[2].negated);
  const auto &gt = *p.steps[1].condition;
  CHECK(gt.args[0]->step == typed::kCandidate);
  CHECK(gt.args[1]->step == 0);
  CHECK(gt.args[1]->field == 1);
}

TEST_CASE("defs are inlined: event parameters become the steps passed in", "[check]") {
  auto c = check(R"(
event Login {
    user: string
    lat:  float
    lon:  float
    ts:   time
}
def km(a: Login, b: Login) = haversine_km(a.lat, a.lon, b.lat, b.lon)
def fast(a: Login, b: Login, limit: float) = km(a, b) / hours(b.ts - a.ts) > limit
pattern travel { a: Login() -> b: Login(fast(a, b, 900)) }
emit Travel { user: a.user, km: km(a, b) }
)");
  const auto &p = onlyPattern(*c);
  const auto &gt = *p.steps[1].condition;
  REQUIRE(gt.op == Op::Gt);
  REQUIRE(gt.args[1]->op == Op::Literal); // the int argument was widened for the float parameter
  CHECK(gt.args[1]->value.f == 900.0);
  const auto &div = *gt.args[0];
  REQUIRE(div.op == Op::Div);
  const auto &call = *div.args[0];
  REQUIRE(call.op == Op::Call);
  REQUIRE(call.args.size() == 4);
  CHECK(call.args[0]->step == 0);                 // a.lat: step a
  CHECK(call.args[2]->step == typed::kCandidate); // b.lat: b's own condition, the candidate
  // The inlined nodes point at the call.
  const auto &text = c->sources.file(c->modules[0].file).text();
  CHECK(text.substr(gt.range.begin, gt.range.end - gt.range.begin) == "fast(a, b, 900)");
  const auto &emit_call = *p.emit.fields[1].value;
  CHECK(emit_call.args[2]->step == 1); // in emit, b is the bound step
}

TEST_CASE("aggregates are Op nodes over the loop", "[check]") {
  auto c = check(std::string(kPayment) + R"(
pattern p {
    s: Payment(amount > coalesce(max(s.amount), 0.0))+
    -> b: Payment(amount > sum(s.amount) and items >= count(s))
}
emit Out { total: sum(s.amount * s.items), n: count(s.merchant), top: first(s).card,
           mean: avg(s.items) }
)");
  const auto &p = onlyPattern(*c);
  const auto &own = *p.steps[0].condition->args[1]->args[0];
  REQUIRE(own.op == Op::Max);
  CHECK(own.step == 0);
  CHECK(own.type.nullable);
  const auto &sum = *p.steps[1].condition->args[0]->args[1];
  REQUIRE(sum.op == Op::Sum);
  CHECK(sum.step == 0);
  CHECK_FALSE(sum.type.nullable);
  CHECK(sum.args[0]->op == Op::Field);
  CHECK(sum.args[0]->step == 0);
  const auto &count = *p.steps[1].condition->args[1]->args[1];
  CHECK(count.op == Op::Count);
  CHECK(count.type.kind == TypeKind::Int);
  const auto &fields = p.emit.fields;
  CHECK(fields[0].value->op == Op::Sum);
  CHECK(fields[0].value->type.kind == TypeKind::Float);
  CHECK(fields[1].value->op == Op::CountOf);
  CHECK(fields[2].value->op == Op::First);
  CHECK(fields[2].value->type == Type::of(TypeKind::String, true));
  CHECK(fields[3].value->op == Op::Avg);
  CHECK(fields[3].value->args[0]->op == Op::Cast);
}

TEST_CASE("optional steps and timeout records make references nullable", "[check]") {
  auto c = check(std::string(kPayment) + R"(
pattern p within 1h { a: Payment() -> b: Payment()? -> c: Payment() -> d: Payment()+ }
emit Out { a: a.amount, b: b.amount, c: c.amount }
on timeout emit Late { a: a.amount, n: count(d) }
)");
  const auto &p = onlyPattern(*c);
  CHECK_FALSE(p.emit.fields[0].value->type.nullable);
  CHECK(p.emit.fields[1].value->type.nullable);
  CHECK_FALSE(p.emit.fields[2].value->type.nullable);
  REQUIRE(p.timeout_emit.has_value());
  CHECK(p.timeout_emit->fields[0].value->type.nullable);
  CHECK_FALSE(p.timeout_emit->fields[1].value->type.nullable);
  const auto &streams = c->program->streams;
  REQUIRE(streams.size() == 2);
  CHECK(streams[1].name == "Late");
  CHECK(p.timeout_emit->stream == 1);
}

TEST_CASE("a stream shared by two patterns is nullable where either emit is", "[check]") {
  auto c = check(std::string(kPayment) + R"(
pattern one { a: Payment() }
emit Alerts { card: a.card, shop: a.card }
pattern two { a: Payment() }
emit Alerts { card: a.card, shop: a.merchant }
)");
  REQUIRE(c->program.has_value());
  REQUIRE(c->program->streams.size() == 1);
  const auto &s = c->program->streams[0];
  CHECK(s.field_names == std::vector<std::string>{"card", "shop"});
  CHECK_FALSE(s.field_types[0].nullable);
  CHECK(s.field_types[1].nullable);
  CHECK(c->program->patterns[1].emit.stream == 0);
}

TEST_CASE("partition keys are resolved per event type", "[check]") {
  auto c = check(R"(
event A { x: int, key: string }
event B { key: string, y: int }
event C { z: int }
pattern p partition by key within 1m { a: A() -> b: B() -> not A() }
emit Out { k: a.key }
)");
  const auto &p = onlyPattern(*c);
  CHECK(p.key_fields == std::vector<std::string>{"key"});
  REQUIRE(p.key_types.size() == 1);
  CHECK(p.key_types[0] == Type::of(TypeKind::String));
  REQUIRE(p.key_index.size() == 3);
  CHECK(p.key_index[0] == std::vector<std::int32_t>{1});
  CHECK(p.key_index[1] == std::vector<std::int32_t>{0});
  CHECK(p.key_index[2].empty());
}

TEST_CASE("event types, skip and within are carried over", "[check]") {
  auto c = check(std::string(kPayment) + R"(
pattern p within 10m skip to last b { a: Payment() , b: Payment()+ consecutive greedy ->> c: Payment() within 30s }
emit Out { card: a.card }
)");
  const auto &prog = *c->program;
  REQUIRE(prog.event_types.size() == 1);
  CHECK(prog.event_types[0].time_field == 4);
  const auto &p = prog.patterns[0];
  CHECK(p.skip == typed::SkipStrategy::ToLast);
  CHECK(p.skip_step == 1);
  CHECK(p.steps[1].contiguity == ast::Contiguity::Strict);
  CHECK(p.steps[1].consecutive);
  CHECK(p.steps[1].greedy);
  CHECK(p.steps[2].contiguity == ast::Contiguity::NonDeterministic);
  REQUIRE(p.steps[2].within_ms.has_value());
  CHECK(*p.steps[2].within_ms == 30000);
}

TEST_CASE("names are visible through imports, transitively", "[check]") {
  auto c = check({R"(
import "f1.cep"
pattern p { a: Payment(amount > LIMIT * RATE) }
emit Out { card: a.card }
)",
                  R"(
import "f2.cep"
const LIMIT = 10.0
)",
                  std::string(kPayment) + "const RATE = 2\n"},
                 {{1}, {2}, {}});
  INFO(c->rendered());
  REQUIRE(c->program.has_value());
  const auto &gt = *c->program->patterns[0].steps[0].condition;
  REQUIRE(gt.args[1]->op == Op::Literal);
  CHECK(gt.args[1]->value.f == 20.0);
}

TEST_CASE("errors: every one is reported, no program is returned", "[check]") {
  auto c = check(std::string(kPayment) + R"(
const A = B
const B = A
pattern p { small: Payment(amout < 1.0){3,} -> big: Payment(country != small.card) }
emit Out { card: big.card }
)");
  CHECK_FALSE(c->program.has_value());
  std::string text = c->rendered();
  INFO(text);
  CHECK(c->diags.errorCount() == 4);
  CHECK(text.find("error: const `A` depends on itself (`A` -> `B` -> `A`)") != std::string::npos);
  CHECK(text.find("error: unknown field `amout` on event type `Payment`\n") != std::string::npos);
  CHECK(text.find("note: did you mean `amount`?") != std::string::npos);
  CHECK(text.find("unknown field `country`") != std::string::npos);
  CHECK(text.find("`small` is a looping step") != std::string::npos);
}

TEST_CASE("warnings do not stop the program", "[check]") {
  auto c = check(std::string(kPayment) + R"(
const UNUSED = 1
def unused_too(x: int) = x
pattern p within 2d skip to first a { a: Payment()+ -> b: Payment() }
emit Out { card: b.card }
)");
  REQUIRE(c->program.has_value());
  CHECK(c->diags.warningCount() == 4);
}

TEST_CASE("the checker works on a hand-built syntax tree", "[check]") {
  SourceManager sources;
  DiagnosticEngine diags(sources);
  FileId file = sources.add("hand.cep", std::string(64, ' '));
  auto range = [&](std::uint32_t b) { return SourceRange{file, b, b + 1}; };
  auto ident = [&](std::string name, std::uint32_t b) {
    return ast::Ident{std::move(name), range(b)};
  };

  ast::Module m;
  m.file = file;
  ast::EventDecl ev;
  ev.name = ident("Tick", 1);
  ev.fields.push_back(
      {ident("price", 2), ast::TypeRef{ident("float", 3), {}, false, range(3)}, range(2)});
  m.events.push_back(std::move(ev));

  ast::Pattern p;
  p.name = ident("up", 4);
  ast::Step s;
  s.name = ident("t", 5);
  s.type = ident("Tick", 6);
  auto cond = std::make_unique<ast::Expr>();
  cond->kind = ast::ExprKind::Binary;
  cond->binary_op = ast::BinaryOp::Gt;
  cond->range = range(7);
  auto name = std::make_unique<ast::Expr>();
  name->kind = ast::ExprKind::Name;
  name->text = "price";
  name->range = range(8);
  auto lit = std::make_unique<ast::Expr>();
  lit->kind = ast::ExprKind::IntLit;
  lit->int_value = 3;
  lit->range = range(9);
  cond->children.push_back(std::move(name));
  cond->children.push_back(std::move(lit));
  s.condition = std::move(cond);
  p.steps.push_back(std::move(s));
  p.emit.stream = ident("Up", 10);
  ast::EmitField f;
  f.name = ident("price", 11);
  f.value = std::make_unique<ast::Expr>();
  f.value->kind = ast::ExprKind::Member;
  f.value->name = ident("price", 12);
  f.value->range = range(12);
  auto obj = std::make_unique<ast::Expr>();
  obj->kind = ast::ExprKind::Name;
  obj->text = "t";
  obj->range = range(13);
  f.value->children.push_back(std::move(obj));
  p.emit.fields.push_back(std::move(f));
  m.patterns.push_back(std::move(p));

  std::vector<ast::Module> modules;
  modules.push_back(std::move(m));
  auto program = checkProgram(modules, {{}}, sources, diags);
  REQUIRE(diags.errorCount() == 0);
  REQUIRE(program.has_value());
  CHECK(program->event_types[0].time_field == -1);
  const auto &gt = *program->patterns[0].steps[0].condition;
  CHECK(gt.args[1]->type.kind == TypeKind::Float);
  CHECK(program->streams[0].field_types[0] == Type::of(TypeKind::Float));

  std::ostringstream dump;
  printTyped(dump, *program);
  CHECK(dump.str().find("where $.price > 3.0") != std::string::npos);
}

TEST_CASE("a null literal in `if` or `coalesce` takes the type of the other values", "[check]") {
  auto c = check(std::string(kPayment) + R"(
pattern p { a: Payment() }
emit Out { x: if(a.amount > 1.0, null, 2), y: coalesce(a.merchant, null, "none") }
)");
  const auto &p = onlyPattern(*c);
  const auto &x = *p.emit.fields[0].value;
  REQUIRE(x.op == Op::If);
  CHECK(x.type == Type::of(TypeKind::Int, true));
  CHECK(x.args[1]->type == Type::of(TypeKind::Int, true));
  CHECK(x.args[1]->value.is_null);
  const auto &y = *p.emit.fields[1].value;
  CHECK(y.type == Type::of(TypeKind::String)); // the last argument is never null
  CHECK(y.args[1]->type == Type::of(TypeKind::String, true));
}
