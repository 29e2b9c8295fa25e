// The native matcher driver (runtime/native) against the reference interpreter (tag [native]).
//
// The LLVM code generator is not part of these tests, so generated code is stood in for by:
//   - hand-written step / prefilter / key functions for tiny patterns (the C ABI of
//     runtime/native/image.hpp, written the way the code generator must write them), and
//   - an adaptor that implements the same ABI for ANY lowered NFA by walking its edges and
//     evaluating guards and emit values with the interpreter's Evaluator, which lets every golden
//     match case (tests/golden/match) run on both engines: outputs, statistics and snapshots must
//     agree, and a snapshot taken by one engine must restore into the other.
#include "compiler/interp/record.hpp"
#include "compiler/lower/lower_pattern.hpp"
#include "compiler/passes/pass_manager.hpp"
#include "interp_fixture_test.hpp"
#include "reference_guard_test.hpp"
#include "runtime/io/json_writer.hpp"
#include "runtime/native/key_table.hpp"
#include "runtime/native/native_matcher.hpp"
#include "runtime/native/native_record.hpp"

#include <array>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <utility>

using namespace interp_test;
namespace ci = cep::compiler::interp;
namespace rn = cep::runtime::native;
using runtime::Event;

namespace {

// --- the NFA adaptor: "generated code" for any lowered NFA ------------------------------------

struct Adaptor {
  const typed::Program *program = nullptr;
  const typed::Pattern *pattern = nullptr;
  const nfa::Nfa *nfa = nullptr;
  std::unique_ptr<ci::Evaluator> eval;
  std::uint64_t steps_called = 0;
};
Adaptor *g_adaptor = nullptr; // the pattern the adaptor's functions stand for

// The ctx's bound events as an interpreter node chain (events grouped by step; within a step in
// match order, which is all guards and emit values look at).
ci::NodeRef chainOf(const void *ctx, std::size_t steps) {
  ci::NodeRef last;
  for (std::size_t s = 0; s < steps; ++s) {
    std::int64_t n = cep_rt_bound_count(ctx, static_cast<std::int32_t>(s));
    for (std::int64_t i = 0; i < n; ++i) {
      const Event *e = cep_rt_bound_at(ctx, static_cast<std::int32_t>(s), i);
      runtime::retain(e);
      runtime::EventRef ref(const_cast<Event *>(e));
      last = ci::NodeRef::bind(ref, static_cast<std::int32_t>(s), last, nullptr);
    }
  }
  return last;
}

using reference_test::counterAfter;

bool passes(const nfa::Guard *g, const Event &e, std::uint32_t counter,
            const ci::BoundEvents &bound) {
  return reference_test::passes(g, e, counter, bound, *g_adaptor->eval);
}

std::int32_t finalAfterProceed(nfa::StateId state, std::uint32_t counter, const Event &e,
                               const ci::BoundEvents &bound) {
  const nfa::Nfa &n = *g_adaptor->nfa;
  std::vector<std::pair<nfa::StateId, std::uint32_t>> stack{{state, counter}};
  while (!stack.empty()) {
    auto [s, c] = stack.back();
    stack.pop_back();
    for (const auto &edge : n.states[static_cast<std::size_t>(s)].edges) {
      if (edge.kind != nfa::EdgeKind::Proceed || !passes(edge.guard.get(), e, c, bound)) {
        continue;
      }
      if (n.states[static_cast<std::size_t>(edge.target)].kind == nfa::StateKind::Final) {
        return edge.target;
      }
      stack.emplace_back(edge.target, counterAfter(edge, c));
    }
  }
  return -1;
}

constexpr std::uint32_t kAdaptorMaxBranches = 256;

std::uint32_t adaptorStep(const Event *e, const void *ctx, std::uint32_t state,
                          std::uint32_t counter, CepBranch *out, std::uint8_t *discard) {
  const nfa::Nfa &n = *g_adaptor->nfa;
  ++g_adaptor->steps_called;
  ci::NodeRef last = chainOf(ctx, g_adaptor->pattern->steps.size());
  ci::BoundEvents bound(last.get(), g_adaptor->pattern->steps.size());
  std::uint32_t count = 0;
  std::vector<std::pair<nfa::StateId, std::uint32_t>> stack{
      {static_cast<nfa::StateId>(state), counter}};
  while (!stack.empty()) {
    auto [s, c] = stack.back();
    stack.pop_back();
    for (const auto &edge : n.states[static_cast<std::size_t>(s)].edges) {
      if (!passes(edge.guard.get(), *e, c, bound)) {
        continue;
      }
      if (edge.kind == nfa::EdgeKind::Proceed) {
        if (n.states[static_cast<std::size_t>(edge.target)].kind == nfa::StateKind::Stop) {
          *discard = 1;
        } else {
          stack.emplace_back(edge.target, counterAfter(edge, c));
        }
        continue;
      }
      REQUIRE(count < kAdaptorMaxBranches);
      CepBranch b{};
      b.take = edge.kind == nfa::EdgeKind::Take ? 1 : 0;
      b.source = s;
      b.target = edge.target;
      b.counter = counterAfter(edge, c);
      b.final_state = b.take ? finalAfterProceed(edge.target, b.counter, *e, bound) : -1;
      out[count++] = b;
    }
  }
  return count;
}

std::uint8_t adaptorPrefilter(const Event *) {
  return 1;
}

std::string keyText(const Event *e) {
  const typed::Pattern &p = *g_adaptor->pattern;
  std::string key;
  runtime::JsonWriter w(key);
  for (std::int32_t f : p.key_index.at(e->type)) {
    ci::writeValue(w, ci::readField(*g_adaptor->program, *e, f));
  }
  return key;
}

std::uint64_t adaptorKeyHash(const Event *e) {
  if (g_adaptor->pattern->key_fields.empty()) {
    return 0;
  }
  return std::hash<std::string>()(keyText(e));
}

std::uint8_t adaptorKeyEq(const Event *a, const Event *b) {
  if (g_adaptor->pattern->key_fields.empty()) {
    return 1;
  }
  return keyText(a) == keyText(b) ? 1 : 0;
}

template <bool Timeout, std::size_t I>
void adaptorValue(const Event *candidate, const void *ctx, CepValue *out) {
  const typed::Pattern &p = *g_adaptor->pattern;
  const typed::Emit &emit = Timeout ? *p.timeout_emit : p.emit;
  ci::NodeRef last = chainOf(ctx, p.steps.size());
  ci::BoundEvents bound(last.get(), p.steps.size());
  ci::Value v = g_adaptor->eval->evaluate(*emit.fields.at(I).value, candidate, &bound);
  *out = CepValue{};
  out->null = v.null ? 1 : 0;
  out->b = v.b ? 1 : 0;
  out->i = v.i;
  out->f = v.f;
  if (!v.null && v.kind == lang::TypeKind::String) {
    char *s = cep_rt_alloc(ctx, v.s.size()); // the evaluator's strings die with `bound`
    std::memcpy(s, v.s.data(), v.s.size());
    out->s = s;
    out->n = v.s.size();
  }
}

constexpr std::size_t kMaxEmitFields = 16;

template <bool Timeout, std::size_t... I>
std::array<CepValueFn, kMaxEmitFields> valueFns(std::index_sequence<I...>) {
  return {&adaptorValue<Timeout, I>...};
}

rn::ValueKind valueKind(lang::TypeKind k) {
  switch (k) {
  case lang::TypeKind::Bool:
    return rn::ValueKind::Bool;
  case lang::TypeKind::Int:
    return rn::ValueKind::Int;
  case lang::TypeKind::Float:
    return rn::ValueKind::Float;
  case lang::TypeKind::String:
    return rn::ValueKind::String;
  case lang::TypeKind::Time:
    return rn::ValueKind::Time;
  case lang::TypeKind::Duration:
    return rn::ValueKind::Duration;
  default:
    return rn::ValueKind::Null;
  }
}

rn::EmitShape shapeOf(const typed::Program &program, const typed::Emit &emit) {
  rn::EmitShape shape;
  shape.stream = program.streams.at(static_cast<std::size_t>(emit.stream)).name;
  for (const auto &f : emit.fields) {
    shape.fields.push_back({f.name, valueKind(f.value->type.kind), "emit." + f.name});
  }
  return shape;
}

// The PatternImage the compiler would build for `n`.
std::shared_ptr<rn::PatternImage> imageOf(const typed::Program &program, std::int32_t index,
                                          const nfa::Nfa &n) {
  const typed::Pattern &p = program.patterns.at(static_cast<std::size_t>(index));
  auto img = std::make_shared<rn::PatternImage>();
  img->name = p.name;
  img->index = index;
  for (const auto &s : p.steps) {
    img->steps.push_back({s.name, s.negated});
    if (s.event_type >= 0) {
      img->event_types.push_back(static_cast<std::uint32_t>(s.event_type));
    }
  }
  std::sort(img->event_types.begin(), img->event_types.end());
  img->event_types.erase(std::unique(img->event_types.begin(), img->event_types.end()),
                         img->event_types.end());
  for (const auto &s : n.states) {
    rn::StateInfo info;
    info.name = s.name;
    info.kind = static_cast<rn::StateKind>(s.kind);
    info.step = s.step;
    info.within_ms = s.within_ms ? *s.within_ms : rn::kNoBound;
    info.completes_at_end = s.completes_at_end;
    img->states.push_back(std::move(info));
  }
  img->start = n.start;
  img->within_ms = n.within_ms ? *n.within_ms : rn::kNoBound;
  switch (n.skip) {
  case typed::SkipStrategy::None:
    img->skip = rn::Skip::None;
    break;
  case typed::SkipStrategy::PastLast:
    img->skip = rn::Skip::PastLast;
    break;
  case typed::SkipStrategy::ToNext:
    img->skip = rn::Skip::ToNext;
    break;
  case typed::SkipStrategy::ToFirst:
    img->skip = rn::Skip::ToFirst;
    break;
  case typed::SkipStrategy::ToLast:
    img->skip = rn::Skip::ToLast;
    break;
  }
  img->skip_step = n.skip_step;
  img->keyed = !p.key_fields.empty();
  img->key_fields = p.key_index;
  img->emit = shapeOf(program, p.emit);
  img->has_timeout_emit = p.timeout_emit.has_value();
  if (p.timeout_emit) {
    img->timeout_emit = shapeOf(program, *p.timeout_emit);
  }
  img->max_branches = kAdaptorMaxBranches;
  return img;
}

rn::PatternCode adaptorCode(const typed::Pattern &p) {
  static const auto emit_fns = valueFns<false>(std::make_index_sequence<kMaxEmitFields>());
  static const auto timeout_fns = valueFns<true>(std::make_index_sequence<kMaxEmitFields>());
  rn::PatternCode code;
  code.step = &adaptorStep;
  code.prefilter = &adaptorPrefilter;
  code.key_hash = &adaptorKeyHash;
  code.key_eq = &adaptorKeyEq;
  REQUIRE(p.emit.fields.size() <= kMaxEmitFields);
  code.emit.assign(emit_fns.begin(), emit_fns.begin() + p.emit.fields.size());
  if (p.timeout_emit) {
    REQUIRE(p.timeout_emit->fields.size() <= kMaxEmitFields);
    code.timeout_emit.assign(timeout_fns.begin(),
                             timeout_fns.begin() + p.timeout_emit->fields.size());
  }
  return code;
}

// Both engines on one pattern of a compiled program.
struct Pair {
  Adaptor adaptor;
  nfa::Nfa nfa;
  std::shared_ptr<const runtime::Schema> schema;
  std::shared_ptr<rn::PatternImage> image;
  std::unique_ptr<runtime::Matcher> interp;
  std::unique_ptr<runtime::Matcher> native;

  Pair(const Compiled &c, std::int32_t index, bool with_events) {
    nfa = cep::compiler::lowerPattern(c.prog(), index);
    cep::compiler::passes::PassManager::standard().run(nfa);
    adaptor.program = &c.prog();
    adaptor.pattern = &c.pattern(static_cast<std::size_t>(index));
    adaptor.nfa = &nfa;
    adaptor.eval = std::make_unique<ci::Evaluator>(c.prog());
    g_adaptor = &adaptor;
    schema = std::make_shared<const runtime::Schema>(c.schema);
    image = imageOf(c.prog(), index, nfa);
    runtime::MatcherOptions options;
    options.with_events = with_events;
    interp = ci::makeInterpMatcher(c.prog(), index, nfa.clone(), options);
    native = makeNative(options);
  }
  std::unique_ptr<runtime::Matcher> makeNative(runtime::MatcherOptions options) const {
    return rn::makeNativeMatcher(schema, image, adaptorCode(*adaptor.pattern), options);
  }
};

void checkSameStats(const runtime::Matcher &a, const runtime::Matcher &b) {
  runtime::MatcherStats x = a.stats(), y = b.stats();
  CHECK(x.events == y.events);
  CHECK(x.matches == y.matches);
  CHECK(x.timeouts == y.timeouts);
  CHECK(x.live_runs == y.live_runs);
  CHECK(x.peak_runs == y.peak_runs);
  CHECK(x.live_keys == y.live_keys);
  CHECK(x.peak_keys == y.peak_keys);
  CHECK(x.bound_events == y.bound_events);
  CHECK(x.peak_bound_events == y.peak_bound_events);
}

// The offset of peak_state_bytes in a snapshot of pattern `name`: an estimate each engine makes
// of its own layout, the only field where equal states may differ.
std::size_t peakBytesOffset(const std::string &name) {
  return 8 + 4 + 4 + name.size() + 8 + 6 * 8;
}

std::string withoutPeakBytes(std::string snap, const std::string &name) {
  std::size_t at = peakBytesOffset(name);
  REQUIRE(snap.size() >= at + 8);
  std::memset(snap.data() + at, 0, 8);
  return snap;
}

std::string readFile(const std::filesystem::path &p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The events of a golden case's events.jsonl, decoded (rejected lines and watermarks left
// out), numbered in arrival order and sorted by (time, arrival).
std::vector<runtime::EventRef> loadEvents(const runtime::Schema &schema, const std::string &text) {
  runtime::JsonlDecoder decoder(schema, runtime::DecoderOptions{true});
  std::vector<runtime::EventRef> events;
  std::istringstream lines(text);
  std::string line;
  std::uint64_t seq = 0, number = 0;
  while (std::getline(lines, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) {
      continue;
    }
    runtime::RecordContext ctx;
    ctx.seq = seq;
    ctx.line = number;
    runtime::DecodeResult r = decoder.decodeCopy(line, ctx);
    if (r.status == runtime::DecodeStatus::Event) {
      events.push_back(std::move(r.event));
      ++seq;
    }
  }
  std::stable_sort(events.begin(), events.end(),
                   [](const auto &a, const auto &b) { return a->time < b->time; });
  return events;
}

// Feeds `events` [from, to) to a matcher the way the run loop does; appends sorted outputs.
struct Feed {
  std::int64_t time = INT64_MIN;
  std::vector<std::string> lines;
  std::vector<runtime::MatchOutput> step;

  void flush() {
    std::stable_sort(step.begin(), step.end(), runtime::MatchOutput::before);
    for (const auto &o : step) {
      lines.push_back(o.json);
    }
    step.clear();
  }
  void run(runtime::Matcher &m, const std::vector<runtime::EventRef> &events, std::size_t from,
           std::size_t to) {
    for (std::size_t i = from; i < to; ++i) {
      const runtime::EventRef &e = events[i];
      if (e->time > time) {
        m.advanceTime(e->time, step);
        time = e->time;
        flush();
      }
      m.onEvent(e, step);
      flush();
    }
  }
  void finish(runtime::Matcher &m) {
    m.finish(step);
    flush();
  }
};

} // namespace

TEST_CASE("native matcher: every golden match case agrees with the interpreter", "[native]") {
  namespace fs = std::filesystem;
  fs::path root = fs::path(CEP_SOURCE_DIR) / "tests/golden/match";
  std::vector<fs::path> cases;
  for (const auto &entry : fs::directory_iterator(root)) {
    if (fs::exists(entry.path() / "rules.cep") && fs::exists(entry.path() / "events.jsonl")) {
      cases.push_back(entry.path());
    }
  }
  std::sort(cases.begin(), cases.end());
  REQUIRE(cases.size() > 100);
  std::size_t patterns = 0, outputs = 0;
  for (const fs::path &dir : cases) {
    auto c = compile(readFile(dir / "rules.cep"));
    auto events = loadEvents(c->schema, readFile(dir / "events.jsonl"));
    for (std::size_t p = 0; p < c->prog().patterns.size(); ++p) {
      for (bool with_events : {false, true}) {
        INFO(dir.filename().string()
             << " pattern " << c->pattern(p).name << (with_events ? " with events" : ""));
        Pair pair(*c, static_cast<std::int32_t>(p), with_events);
        const std::string &name = c->pattern(p).name;
        // Whole run on both engines.
        Feed a, b;
        std::vector<runtime::EventRef> mine;
        for (const auto &e : events) {
          const auto &types = pair.interp->eventTypes();
          if (std::binary_search(types.begin(), types.end(), e->type)) {
            mine.push_back(e);
          }
        }
        REQUIRE(pair.native->eventTypes() == pair.interp->eventTypes());
        std::size_t half = mine.size() / 2;
        a.run(*pair.interp, mine, 0, half);
        b.run(*pair.native, mine, 0, half);
        CHECK(b.lines == a.lines);
        checkSameStats(*pair.interp, *pair.native);
        // Equal states, equal snapshots; each restores into the other engine.
        std::string si, sn;
        pair.interp->snapshot(si);
        pair.native->snapshot(sn);
        CHECK(withoutPeakBytes(sn, name) == withoutPeakBytes(si, name));
        auto native2 = pair.makeNative(runtime::MatcherOptions{with_events, {}, nullptr, {}});
        native2->restore(si);
        std::string sn2;
        native2->snapshot(sn2);
        CHECK(withoutPeakBytes(sn2, name) == withoutPeakBytes(si, name));
        auto interp2 =
            ci::makeInterpMatcher(c->prog(), static_cast<std::int32_t>(p), pair.nfa.clone(),
                                  runtime::MatcherOptions{with_events, {}, nullptr, {}});
        interp2->restore(sn);
        std::string si2;
        interp2->snapshot(si2);
        CHECK(withoutPeakBytes(si2, name) == withoutPeakBytes(si, name));
        // Continue: the original interpreter, the original native matcher and the native matcher
        // restored from the interpreter's snapshot all write the same records.
        Feed b2 = b;
        b2.lines.clear();
        Feed a_rest = a;
        a_rest.lines.clear();
        Feed b_rest = b;
        b_rest.lines.clear();
        a_rest.run(*pair.interp, mine, half, mine.size());
        a_rest.finish(*pair.interp);
        b_rest.run(*pair.native, mine, half, mine.size());
        b_rest.finish(*pair.native);
        b2.run(*native2, mine, half, mine.size());
        b2.finish(*native2);
        CHECK(b_rest.lines == a_rest.lines);
        CHECK(b2.lines == a_rest.lines);
        checkSameStats(*pair.interp, *pair.native);
        CHECK(pair.native->stats().bound_events == 0);
        CHECK(pair.native->stats().live_keys == 0);
        CHECK(native2->stats().bound_events == 0);
        ++patterns;
        outputs += a.lines.size() + a_rest.lines.size();
      }
    }
  }
  WARN("patterns compared: " << patterns << ", records: " << outputs);
  CHECK(patterns > 100);
  CHECK(outputs > 100);
}

// --- a tiny pattern with hand-written "generated" functions -----------------------------------

namespace {

const char *kAbProgram = R"(event E { k: string, id: int, name: string, v: int, t: time }
pattern p partition by k within 10s {
    a: E(name == "a") -> b: E(name == "b")
}
emit Out { a: a.id, b: b.id, k: a.k }
on timeout emit Late { a: a.id, v: a.v }
)";

// Field indices of E.
constexpr int kK = 0, kId = 1, kName = 2, kV = 3;

std::string_view str(const Event *e, int field) {
  return e->slots()[field].s->view();
}

// States: 0 "a" (step 0), 1 "b" (step 1), 2 "$final".
std::uint32_t abStep(const Event *e, const void *, std::uint32_t state, std::uint32_t,
                     CepBranch *out, std::uint8_t *) {
  std::string_view name = str(e, kName);
  if (state == 0) {
    if (name != "a") {
      return 0;
    }
    out[0] = CepBranch{1, {}, 0, 1, 0, -1};
    return 1;
  }
  if (name == "b") {
    out[0] = CepBranch{1, {}, 1, 2, 0, -1};
  } else {
    out[0] = CepBranch{0, {}, 1, 1, 0, -1};
  }
  return 1;
}

std::uint8_t abPrefilter(const Event *e) {
  std::string_view name = str(e, kName);
  return name == "a" || name == "b" ? 1 : 0;
}

std::uint64_t abHash(const Event *e) {
  std::uint64_t h = 1469598103934665603ULL;
  for (char ch : str(e, kK)) {
    h = (h ^ static_cast<unsigned char>(ch)) * 1099511628211ULL;
  }
  return h;
}

// A poor hash: keys collide in the table (probing, equality, backward-shift deletion).
std::uint64_t abPoorHash(const Event *e) {
  return abHash(e) & 3;
}

std::uint8_t abEq(const Event *a, const Event *b) {
  return str(a, kK) == str(b, kK) ? 1 : 0;
}

void intOf(const void *ctx, std::int32_t step, int field, CepValue *out) {
  *out = CepValue{};
  if (cep_rt_bound_count(ctx, step) == 0) {
    out->null = 1;
    return;
  }
  out->i = cep_rt_bound_at(ctx, step, 0)->slots()[field].i;
}
void emitA(const Event *, const void *ctx, CepValue *out) {
  intOf(ctx, 0, kId, out);
}
void emitB(const Event *, const void *ctx, CepValue *out) {
  intOf(ctx, 1, kId, out);
}
void emitV(const Event *, const void *ctx, CepValue *out) {
  intOf(ctx, 0, kV, out);
}
void emitK(const Event *, const void *ctx, CepValue *out) {
  *out = CepValue{};
  std::string_view k = str(cep_rt_bound_at(ctx, 0, 0), kK);
  char *s = cep_rt_alloc(ctx, k.size() + 1); // through the arena, as generated code may
  std::memcpy(s, k.data(), k.size());
  s[k.size()] = '!';
  out->s = s;
  out->n = k.size(); // the '!' is not part of the value
}

struct AbFixture {
  std::unique_ptr<Compiled> c = compile(kAbProgram);
  std::shared_ptr<const runtime::Schema> schema = std::make_shared<runtime::Schema>(c->schema);
  std::shared_ptr<rn::PatternImage> image = std::make_shared<rn::PatternImage>();

  AbFixture() {
    image->name = "p";
    image->event_types = {static_cast<std::uint32_t>(c->typeIndex("E"))};
    image->steps = {{"a", false}, {"b", false}};
    image->states.resize(3);
    image->states[0].name = "a";
    image->states[0].step = 0;
    image->states[1].name = "b";
    image->states[1].step = 1;
    image->states[2].name = "$final";
    image->states[2].kind = rn::StateKind::Final;
    image->start = 0;
    image->within_ms = 10000;
    image->keyed = true;
    image->key_fields = c->pattern().key_index;
    image->emit.stream = "Out";
    image->emit.fields = {{"a", rn::ValueKind::Int, "a"},
                          {"b", rn::ValueKind::Int, "b"},
                          {"k", rn::ValueKind::String, "k"}};
    image->has_timeout_emit = true;
    image->timeout_emit.stream = "Late";
    image->timeout_emit.fields = {{"a", rn::ValueKind::Int, "a"}, {"v", rn::ValueKind::Int, "v"}};
  }
  std::unique_ptr<runtime::Matcher> native(bool with_events = false,
                                           CepKeyHashFn hash = &abHash) const {
    rn::PatternCode code;
    code.step = &abStep;
    code.prefilter = &abPrefilter;
    code.key_hash = hash;
    code.key_eq = &abEq;
    code.emit = {&emitA, &emitB, &emitK};
    code.timeout_emit = {&emitA, &emitV};
    return rn::makeNativeMatcher(schema, image, code,
                                 runtime::MatcherOptions{with_events, {}, nullptr, {}});
  }
  // The same NFA for the interpreter.
  std::unique_ptr<runtime::Matcher> interp(bool with_events = false) const {
    NfaBuilder b(*c);
    nfa::StateId a = b.state("a", 0);
    nfa::StateId s = b.state("b", 1);
    nfa::StateId f = b.state("$final", -1, nfa::StateKind::Final);
    auto sat = [&](const char *step) {
      return gAnd(gType(c->typeIndex("E")), gCond(c->condition(step), c->stepIndex(step)));
    };
    b.edge(a, nfa::EdgeKind::Take, s, sat("a"));
    b.edge(s, nfa::EdgeKind::Take, f, sat("b"));
    b.edge(s, nfa::EdgeKind::Ignore, s, gNot(sat("b")));
    return matcher(*c, b.done(a), with_events);
  }
};

std::string abEvent(const std::string &k, int id, const std::string &name, int v, std::int64_t t) {
  return R"({"k":")" + k + R"(","id":)" + std::to_string(id) + R"(,"name":")" + name + R"(","v":)" +
         std::to_string(v) + R"(,"t":)" + std::to_string(t) + "}";
}

} // namespace

TEST_CASE("native matcher: hand-written a -> b keyed, within, timeout emit", "[native]") {
  AbFixture fx;
  for (bool with_events : {false, true}) {
    INFO("with events: " << with_events);
    auto native = fx.native(with_events);
    auto interp = fx.interp(with_events);
    EventMaker en(fx.c->schema), ei(fx.c->schema);
    Driver dn(*native, en), di(*interp, ei);
    auto both = [&](const std::string &json) {
      dn.event(json);
      di.event(json);
    };
    both(abEvent("x", 1, "a", 10, 1000));
    both(abEvent("y", 2, "a", 20, 2000));
    both(abEvent("x", 3, "c", 30, 2500)); // prefiltered out
    CHECK(native->stats().events == 3);
    CHECK(native->stats().live_keys == 2);
    CHECK(native->stats().live_runs == 2);
    CHECK(native->stats().bound_events == 2);
    both(abEvent("x", 4, "b", 40, 3000)); // x matches; its key goes
    CHECK(native->stats().live_keys == 1);
    CHECK(native->stats().live_runs == 1);
    CHECK(native->stats().bound_events == 1);
    REQUIRE(dn.lines.size() == 1);
    if (!with_events) {
      CHECK(dn.lines[0] ==
            R"({"@stream":"Out","@pattern":"p","@key":"x","@start":"1970-01-01T00:00:01.000Z",)"
            R"("@end":"1970-01-01T00:00:03.000Z","a":1,"b":4,"k":"x"})");
    }
    both(abEvent("x", 5, "a", 50, 4000));
    both(abEvent("y", 6, "a", 60, 11000)); // a second y run
    // Snapshot in the middle: both engines write the same bytes but for peak_state_bytes.
    std::string sn, si;
    native->snapshot(sn);
    interp->snapshot(si);
    CHECK(withoutPeakBytes(sn, "p") == withoutPeakBytes(si, "p"));
    auto restored = fx.native(with_events);
    restored->restore(si);
    EventMaker er(fx.c->schema);
    for (int i = 0; i < 6; ++i) {
      er.make(abEvent("z", 0, "c", 0, 0)); // same arrival numbers as the others
    }
    Driver dr(*restored, er);
    both(abEvent("y", 7, "b", 70, 12000)); // y's first run timed out at 12000 first
    dr.event(abEvent("y", 7, "b", 70, 12000));
    dn.finish();
    di.finish();
    dr.finish();
    CHECK(dn.lines == di.lines);
    CHECK(dr.lines == std::vector<std::string>(di.lines.begin() + 1, di.lines.end()));
    REQUIRE(di.lines.size() == 4);
    if (!with_events) {
      CHECK(di.lines[1] ==
            R"({"@stream":"Late","@pattern":"p","@key":"y","@start":"1970-01-01T00:00:02.000Z",)"
            R"("@end":"1970-01-01T00:00:12.000Z","@timeout":true,"a":2,"v":20})");
    }
    checkSameStats(*interp, *native);
    CHECK(native->stats().timeouts == 2);
    CHECK(native->stats().matches == 2);
    CHECK(native->stats().bound_events == 0);
    CHECK(native->stats().live_keys == 0);
    CHECK(native->stats().peak_keys == 2);
    CHECK(native->stats().state_bytes < 4096);
    CHECK(restored->stats().bound_events == 0);
    CHECK(restored->stats().matches == 2);
  }
}

TEST_CASE("native matcher: restore errors", "[native]") {
  AbFixture fx;
  auto native = fx.native();
  CHECK_THROWS_WITH(native->restore("nonsense"), Catch::Contains("interpreter snapshot"));
  auto other = fx.native();
  EventMaker events(fx.c->schema);
  Driver d(*other, events);
  d.event(abEvent("x", 1, "a", 10, 1000));
  std::string snap;
  other->snapshot(snap);
  auto fresh = fx.native();
  fresh->restore(snap);
  CHECK_THROWS_WITH(fresh->restore(snap), Catch::Contains("fresh matcher"));
  std::string trailing = snap + "x";
  CHECK_THROWS_WITH(fx.native()->restore(trailing), Catch::Contains("trailing bytes"));
  // Another pattern's snapshot.
  std::string renamed = snap;
  renamed[16] = 'q'; // the pattern name "p" (after magic, version and its length)
  CHECK_THROWS_WITH(fx.native()->restore(renamed), Catch::Contains("not `p`"));
}

TEST_CASE("native matcher: many keys, colliding hashes, random stream", "[native]") {
  AbFixture fx;
  for (CepKeyHashFn hash : {&abHash, &abPoorHash}) {
    auto native = fx.native(false, hash);
    auto interp = fx.interp();
    EventMaker en(fx.c->schema), ei(fx.c->schema);
    Driver dn(*native, en), di(*interp, ei);
    std::mt19937 rng(7);
    std::int64_t t = 0;
    std::string snap_i, snap_n;
    for (int i = 0; i < 3000; ++i) {
      t += static_cast<std::int64_t>(rng() % 700);
      std::string k = std::to_string(rng() % 60);
      k.insert(0, 1, 'k');
      const char *names[] = {"a", "a", "b", "c"};
      std::string json = abEvent(k, i, names[rng() % 4], static_cast<int>(rng() % 100), t);
      dn.event(json);
      di.event(json);
      if (i == 1500) {
        native->snapshot(snap_n);
        interp->snapshot(snap_i);
        CHECK(withoutPeakBytes(snap_n, "p") == withoutPeakBytes(snap_i, "p"));
        checkSameStats(*interp, *native);
        CHECK(native->stats().live_keys > 10);
      }
    }
    dn.finish();
    di.finish();
    CHECK(dn.lines.size() > 500);
    CHECK(dn.lines == di.lines);
    checkSameStats(*interp, *native);
    CHECK(native->stats().bound_events == 0);
    CHECK(native->stats().live_keys == 0);
    CHECK(native->stats().live_runs == 0);
  }
}

TEST_CASE("native matcher: a pattern without partition needs no key functions", "[native]") {
  auto c = compile(R"(event E { k: string, id: int, name: string, v: int, t: time }
pattern p skip none {
    a: E(name == "a") -> b: E(name == "b")
}
emit Out { a: a.id }
)");
  Pair pair(*c, 0, false);
  rn::PatternCode code = adaptorCode(c->pattern());
  code.key_hash = nullptr;
  code.key_eq = nullptr;
  auto native = rn::makeNativeMatcher(pair.schema, pair.image, code, runtime::MatcherOptions{});
  EventMaker en(c->schema), ei(c->schema);
  Driver dn(*native, en), di(*pair.interp, ei);
  for (const auto &json : {abEvent("x", 1, "a", 0, 1000), abEvent("y", 2, "a", 0, 2000),
                           abEvent("z", 3, "b", 0, 3000)}) {
    dn.event(json);
    di.event(json);
  }
  dn.finish();
  di.finish();
  CHECK(dn.lines.size() == 2);
  CHECK(dn.lines == di.lines);
  CHECK(dn.lines.at(0).find(R"("@key":null)") != std::string::npos);
}

TEST_CASE("native key table: random inserts and erases with wrapping probe runs", "[native]") {
  rn::KeyTable table;
  std::map<std::uint32_t, std::uint64_t> live; // slot -> hash
  std::mt19937 rng(11);
  std::uint32_t next_slot = 0;
  for (int i = 0; i < 20000; ++i) {
    bool insert = live.size() < 5 || (live.size() < 400 && rng() % 2 == 0);
    if (insert) {
      // Few distinct hashes, many at the top of a 16-, 32-, ... entry table (runs wrap).
      std::uint64_t h = rng() % 3 == 0 ? (rng() % 4) : (~std::uint64_t{0} - rng() % 5);
      table.insert(h, next_slot);
      live[next_slot++] = h;
    } else {
      auto it = live.begin();
      std::advance(it, static_cast<long>(rng() % live.size()));
      table.erase(it->second, it->first);
      live.erase(it);
    }
    REQUIRE(table.size() == live.size());
    if (i % 97 == 0) {
      for (const auto &[slot, h] : live) {
        std::uint32_t s = slot;
        REQUIRE(table.find(h, [&](std::uint32_t x) { return x == s; }) == slot);
      }
      REQUIRE(table.find(12345, [](std::uint32_t) { return true; }) == rn::KeyTable::kNone);
    }
  }
}

// Entries keep only the hash's low 32 bits: keys whose hashes differ only above them share a
// home and a tag, and are told apart by the caller's equality alone.
TEST_CASE("native key table: hashes equal in their low 32 bits", "[native]") {
  rn::KeyTable table;
  auto hashOf = [](std::uint32_t i) { return (std::uint64_t{i} << 32) | 7; };
  for (std::uint32_t i = 0; i < 40; ++i) {
    table.insert(hashOf(i), i);
  }
  for (std::uint32_t i = 0; i < 40; i += 2) {
    table.erase(hashOf(i), i);
  }
  REQUIRE(table.size() == 20);
  for (std::uint32_t i = 0; i < 40; ++i) {
    std::uint32_t want = i % 2 == 1 ? i : rn::KeyTable::kNone;
    REQUIRE(table.find(hashOf(i), [&](std::uint32_t slot) { return slot == i; }) == want);
  }
  REQUIRE(table.find(8, [](std::uint32_t) { return true; }) == rn::KeyTable::kNone);
}

// Records write times through a per-day date cache and a cache of the last two times: the bytes
// must be appendJsonTime's for any sequence (same day, day and year boundaries, repeats, times
// outside 1970..9999 and the int64 extremes).
TEST_CASE("native: TimeText writes appendJsonTime's bytes", "[native]") {
  std::vector<std::int64_t> times = {0,
                                     1,
                                     999,
                                     1000,
                                     86399999,
                                     86400000,
                                     -1,
                                     -86400000,
                                     1700000000000,
                                     1700000000000,
                                     1700000000001,
                                     1700000000000,
                                     951782400000, // 2000-02-29
                                     951868799999,
                                     253402300799999, // 9999-12-31T23:59:59.999Z
                                     253402300800000,
                                     INT64_MAX,
                                     INT64_MIN,
                                     -62135596800000};
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) {
    std::int64_t t;
    switch (i % 4) {
    case 0: // anywhere in 1900..2100
      t = static_cast<std::int64_t>(rng() % 6311390400000ULL) - 2208988800000LL;
      break;
    case 1: // near the previous one
      t = times.back() + static_cast<std::int64_t>(rng() % 200000) - 100000;
      break;
    case 2: // a repeat
      t = times[times.size() - 1 - rng() % 3];
      break;
    default:
      t = static_cast<std::int64_t>(rng());
      break;
    }
    times.push_back(t);
  }
  rn::TimeText text;
  std::string got, want;
  for (std::int64_t t : times) {
    got.clear();
    want.clear();
    text.append(got, t);
    runtime::appendJsonTime(want, t);
    INFO(t);
    REQUIRE(got == want);
  }
}

TEST_CASE("native matcher: lazy time advance, both engines, same outputs and snapshots as eager",
          "[native]") {
  // Matcher::advanceTo calls nothing while the matcher has nothing due (engine/driver.hpp);
  // the recorded time must still be the matcher's time in every snapshot, and a deadline must
  // fire at the step that reaches it.
  AbFixture fx;
  for (bool native : {true, false}) {
    INFO("native: " << native);
    auto lazy = native ? fx.native() : fx.interp();
    auto eager = native ? fx.native() : fx.interp();
    EventMaker el(fx.c->schema), ee(fx.c->schema);
    std::vector<std::string> lazy_lines, eager_lines;
    std::vector<runtime::MatchOutput> lo, eo;
    auto keep = [](std::vector<runtime::MatchOutput> &out, std::vector<std::string> &lines) {
      std::stable_sort(out.begin(), out.end(), runtime::MatchOutput::before);
      for (const auto &o : out) {
        lines.push_back(o.json);
      }
      out.clear();
    };
    auto step = [&](std::int64_t t, bool watermark) {
      lazy->advanceTo(t, watermark, lo);
      if (watermark) {
        eager->advanceWatermark(t, eo);
      } else {
        eager->advanceTime(t, eo);
      }
      keep(lo, lazy_lines);
      keep(eo, eager_lines);
    };
    auto event = [&](const std::string &json) {
      lazy->onEvent(el.make(json), lo);
      eager->onEvent(ee.make(json), eo);
      keep(lo, lazy_lines);
      keep(eo, eager_lines);
    };
    auto sameSnapshots = [&] {
      std::string l, e;
      lazy->snapshot(l);
      eager->snapshot(e);
      CHECK(l == e);
      return l;
    };
    CHECK(lazy->dueTime() == INT64_MIN); // fresh: not known yet, every advance is due
    step(500, false);
    event(abEvent("x", 1, "a", 10, 1000)); // x's run: deadline 11000
    CHECK(lazy->dueTime() == 11000);
    step(1000, true);
    step(2000, false);
    event(abEvent("y", 2, "a", 20, 2000)); // y's: 12000
    step(2000, true);
    step(7000, true);  // nothing due: only recorded
    sameSnapshots();   // time 7000 in both
    step(11000, true); // x's timeout
    CHECK(eager_lines.size() == 1);
    CHECK(lazy_lines == eager_lines); // at this step, not later
    CHECK(lazy->dueTime() == 12000);
    step(11500, false);
    std::string at = sameSnapshots();
    // Restored from a snapshot taken with a recorded time, it writes the same bytes.
    auto restored = native ? fx.native() : fx.interp();
    restored->restore(at);
    std::string again;
    restored->snapshot(again);
    CHECK(again == at);
    CHECK(restored->dueTime() == 12000);
    lazy->finish(lo);
    eager->finish(eo);
    keep(lo, lazy_lines);
    keep(eo, eager_lines);
    CHECK(eager_lines.size() == 2);
    CHECK(lazy_lines == eager_lines);
  }
}
