// The native pattern functions (compiler/codegen/pattern_codegen.hpp, compiler/jit compileProgram)
// against a reference decision graph computed here by walking the NFA exactly as the interpreter's
// nextRuns / finalAfterProceed do (guards' conditions evaluated by interp's Evaluator): every
// golden match case, every pattern, state, counter 0..3 and event, with an empty run and with a
// run that has earlier events bound. Also: prefilter soundness, key hash / equality against the
// interpreter's key text, object and bitcode loading, and that every valid program lowers.
#include "compiler/artifact/aot.hpp"
#include "compiler/interp/bindings.hpp"
#include "compiler/interp/eval.hpp"
#include "compiler/interp/record.hpp"
#include "compiler/jit/jit.hpp"
#include "compiler/lower/lower_pattern.hpp"
#include "compiler/native/image_builder.hpp"
#include "compiler/passes/pass_manager.hpp"
#include "compiler/schema_from_program.hpp"
#include "interp_fixture_test.hpp"
#include "lang/diagnostics.hpp"
#include "lang/frontend.hpp"
#include "lang/source.hpp"
#include "native_ctx_test.hpp"
#include "reference_guard_test.hpp"
#include "runtime/io/json_writer.hpp"
#include "runtime/io/jsonl_decoder.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <deque>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>

namespace {

namespace fs = std::filesystem;
namespace lang = cep::lang;
namespace runtime = cep::runtime;
namespace nfa = cep::compiler::nfa;
namespace interp = cep::compiler::interp;
namespace jit = cep::compiler::jit;
namespace rn = cep::runtime::native;

struct Loaded {
  lang::SourceManager sources;
  lang::DiagnosticEngine diags{sources};
  lang::Frontend frontend;
  std::vector<nfa::Nfa> nfas;

  const lang::typed::Program &program() const { return *frontend.program; }
};

std::unique_ptr<Loaded> load(const fs::path &file) {
  auto l = std::make_unique<Loaded>();
  l->frontend = lang::loadProgram({file.string()}, l->sources, l->diags);
  INFO(file.string());
  REQUIRE(l->frontend.program.has_value());
  auto passes = cep::compiler::passes::PassManager::standard();
  for (std::size_t i = 0; i < l->program().patterns.size(); ++i) {
    l->nfas.push_back(cep::compiler::lowerPattern(l->program(), static_cast<int>(i)));
    passes.run(l->nfas.back());
  }
  return l;
}

std::vector<fs::path> matchCases() {
  std::vector<fs::path> out;
  for (const auto &d : fs::directory_iterator(fs::path(CEP_SOURCE_DIR) / "tests/golden/match")) {
    if (fs::exists(d.path() / "rules.cep")) {
      out.push_back(d.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<runtime::EventRef> decodeEvents(const lang::typed::Program &program,
                                            const fs::path &file) {
  runtime::Schema schema = cep::compiler::schemaFromProgram(program);
  runtime::JsonlDecoder decoder(schema, runtime::DecoderOptions{false});
  std::ifstream in(file);
  std::string line;
  std::vector<runtime::EventRef> out;
  std::uint64_t seq = 0;
  while (std::getline(in, line)) {
    runtime::RecordContext ctx;
    ctx.seq = seq++;
    ctx.line = seq;
    runtime::DecodeResult r = decoder.decodeCopy(line, ctx);
    if (r.status == runtime::DecodeStatus::Event) {
      out.push_back(std::move(r.event));
    }
  }
  return out;
}

// --- the reference decision graph (interp's nextRuns, finalAfterProceed) ---------------------

struct Branch {
  bool take;
  std::int32_t source, target;
  std::uint32_t counter;
  std::int32_t final_state;
  bool operator==(const Branch &o) const {
    return take == o.take && source == o.source && target == o.target && counter == o.counter &&
           final_state == o.final_state;
  }
};

std::ostream &operator<<(std::ostream &os, const Branch &b) {
  return os << (b.take ? "take " : "ignore ") << b.source << "->" << b.target << " c" << b.counter
            << " f" << b.final_state;
}

struct Graph {
  std::vector<Branch> branches;
  bool discard = false;
};

class Reference {
public:
  Reference(const lang::typed::Program &program, const nfa::Nfa &n)
      : nfa_(n), evaluator_(program) {}

  Graph graph(nfa::StateId state, std::uint32_t counter, const runtime::Event &e,
              const interp::BoundEvents &bound) {
    Graph g;
    std::vector<std::pair<nfa::StateId, std::uint32_t>> stack{{state, counter}};
    while (!stack.empty()) {
      auto [s, c] = stack.back();
      stack.pop_back();
      for (const auto &edge : nfa_.states[static_cast<std::size_t>(s)].edges) {
        if (!passes(edge.guard.get(), e, c, bound)) {
          continue;
        }
        if (edge.kind == nfa::EdgeKind::Proceed) {
          if (nfa_.states[static_cast<std::size_t>(edge.target)].kind == nfa::StateKind::Stop) {
            g.discard = true;
          } else {
            stack.emplace_back(edge.target, after(edge, c));
          }
        } else {
          bool take = edge.kind == nfa::EdgeKind::Take;
          std::uint32_t c2 = after(edge, c);
          g.branches.push_back(
              {take, s, edge.target, c2, take ? finalAfter(edge.target, c2, e, bound) : -1});
        }
      }
    }
    return g;
  }

private:
  static std::uint32_t after(const nfa::Edge &edge, std::uint32_t c) {
    return reference_test::counterAfter(edge, c);
  }

  nfa::StateId finalAfter(nfa::StateId state, std::uint32_t counter, const runtime::Event &e,
                          const interp::BoundEvents &bound) {
    std::vector<std::pair<nfa::StateId, std::uint32_t>> stack{{state, counter}};
    while (!stack.empty()) {
      auto [s, c] = stack.back();
      stack.pop_back();
      for (const auto &edge : nfa_.states[static_cast<std::size_t>(s)].edges) {
        if (edge.kind != nfa::EdgeKind::Proceed || !passes(edge.guard.get(), e, c, bound)) {
          continue;
        }
        if (nfa_.states[static_cast<std::size_t>(edge.target)].kind == nfa::StateKind::Final) {
          return edge.target;
        }
        stack.emplace_back(edge.target, after(edge, c));
      }
    }
    return -1;
  }

  bool passes(const nfa::Guard *g, const runtime::Event &e, std::uint32_t c,
              const interp::BoundEvents &bound) {
    return reference_test::passes(g, e, c, bound, evaluator_);
  }

  const nfa::Nfa &nfa_;
  interp::Evaluator evaluator_;
};

// The interpreter's key text of `e` (InterpMatcher::keyOf).
std::string keyText(const lang::typed::Program &program, const lang::typed::Pattern &pattern,
                    const runtime::Event &e) {
  if (pattern.key_fields.empty()) {
    return "null";
  }
  std::string key;
  runtime::JsonWriter w(key);
  const auto &fields = pattern.key_index.at(e.type);
  if (fields.size() > 1) {
    w.beginArray();
  }
  for (std::int32_t f : fields) {
    interp::writeValue(w, interp::readField(program, e, f));
  }
  if (fields.size() > 1) {
    w.endArray();
  }
  return key;
}

// A run with earlier events bound: for each non-negated step, the latest earlier events of
// its type (two for a looping step), in step order.
interp::NodeRef boundBefore(const lang::typed::Pattern &pattern,
                            const std::vector<runtime::EventRef> &events, std::size_t before,
                            interp::NodeCounter &counter) {
  interp::NodeRef chain;
  for (std::size_t s = 0; s < pattern.steps.size(); ++s) {
    const auto &step = pattern.steps[s];
    if (step.negated) {
      continue;
    }
    std::size_t want = step.looping() ? 2 : 1;
    std::vector<const runtime::EventRef *> picked;
    for (std::size_t i = before; i-- > 0 && picked.size() < want;) {
      if (events[i]->type == static_cast<std::uint32_t>(step.event_type)) {
        picked.push_back(&events[i]);
      }
    }
    std::reverse(picked.begin(), picked.end());
    for (const auto *e : picked) {
      chain = interp::NodeRef::bind(*e, static_cast<std::int32_t>(s), chain, &counter);
    }
  }
  return chain;
}

std::uint64_t prefiltered_ = 0;    // events the prefilter let through as unchanged
std::uint64_t start_filtered_ = 0; // events the prefilter said start no run (answer 2)

std::string nameOf(const nfa::Nfa &n, nfa::StateId s) {
  return n.states.at(static_cast<std::size_t>(s)).name;
}

// Every check of one program's patterns over `events`. Returns the number of step calls.
std::uint64_t checkProgram(jit::Jit &j, const Loaded &l,
                           const std::vector<runtime::EventRef> &events,
                           const jit::LoadedProgram &loaded) {
  const auto &program = l.program();
  std::uint64_t calls = 0;
  for (std::size_t p = 0; p < l.nfas.size(); ++p) {
    const nfa::Nfa &n = l.nfas[p];
    const rn::PatternImage &image = *loaded.images.at(p);
    const rn::PatternCode &code = loaded.code.at(p);
    const auto &pattern = program.patterns.at(static_cast<std::size_t>(n.pattern_index));
    INFO("pattern " << n.pattern);
    REQUIRE(image.states.size() == n.states.size());
    Reference ref(program, n);
    std::vector<CepBranch> out(image.max_branches + 1);
    std::vector<const runtime::Event *> stream;
    for (std::size_t i = 0; i < events.size(); ++i) {
      const runtime::Event &e = *events[i];
      if (!std::binary_search(image.event_types.begin(), image.event_types.end(), e.type)) {
        continue;
      }
      stream.push_back(&e);
      interp::NodeCounter nodes;
      interp::NodeRef chain = boundBefore(pattern, events, i, nodes);
      for (int with_bound = 0; with_bound < 2; ++with_bound) {
        interp::BoundEvents bound(with_bound ? chain.get() : nullptr, pattern.steps.size());
        native_test::NativeCtx ctx(with_bound ? chain.get() : nullptr, pattern.steps.size());
        for (std::size_t s = 0; s < n.states.size(); ++s) {
          for (std::uint32_t c = 0; c < 4; ++c) {
            INFO("event line " << e.line << ", state " << nameOf(n, static_cast<nfa::StateId>(s))
                               << ", counter " << c << ", bound " << with_bound);
            Graph want = ref.graph(static_cast<nfa::StateId>(s), c, e, bound);
            std::uint8_t discard = 0;
            std::fill(out.begin(), out.end(), CepBranch{9, {7, 7, 7}, 9, 9, 9, 9});
            std::uint32_t count =
                code.step(&e, ctx.get(), static_cast<std::uint32_t>(s), c, out.data(), &discard);
            ++calls;
            REQUIRE(count <= image.max_branches);
            std::vector<Branch> got;
            for (std::uint32_t k = 0; k < count; ++k) {
              const CepBranch &b = out[k];
              CHECK((b.reserved[0] | b.reserved[1] | b.reserved[2]) == 0);
              got.push_back({b.take != 0, b.source, b.target, b.counter, b.final_state});
            }
            CHECK(out[count].take == 9); // nothing written past the count
            REQUIRE(got == want.branches);
            REQUIRE((discard != 0) == want.discard);
          }
        }
      }
      // Start-state filter soundness: 2 only when the fresh run in the start state takes
      // nothing, whatever its counter and bound events.
      std::uint8_t filter = code.prefilter(&e);
      REQUIRE(filter <= 2);
      if (filter == 2) {
        ++start_filtered_;
        for (int with_bound = 0; with_bound < 2; ++with_bound) {
          interp::BoundEvents bound(with_bound ? chain.get() : nullptr, pattern.steps.size());
          for (std::uint32_t c = 0; c < 4; ++c) {
            INFO("start-filtered event line " << e.line << ", counter " << c);
            Graph g = ref.graph(n.start, c, e, bound);
            for (const Branch &b : g.branches) {
              REQUIRE_FALSE(b.take);
            }
          }
        }
      }
      // Prefilter soundness: 0 only when every run stays as it is (and the fresh run in the
      // start state takes nothing).
      if (filter == 0) {
        ++prefiltered_;
        for (int with_bound = 0; with_bound < 2; ++with_bound) {
          interp::BoundEvents bound(with_bound ? chain.get() : nullptr, pattern.steps.size());
          for (std::size_t s = 0; s < n.states.size(); ++s) {
            auto kind = n.states[s].kind;
            if (kind == nfa::StateKind::Final || kind == nfa::StateKind::Stop) {
              continue;
            }
            for (std::uint32_t c = 0; c < 4; ++c) {
              INFO("prefiltered event line " << e.line << ", state "
                                             << nameOf(n, static_cast<nfa::StateId>(s))
                                             << ", counter " << c);
              Graph g = ref.graph(static_cast<nfa::StateId>(s), c, e, bound);
              REQUIRE_FALSE(g.discard);
              if (static_cast<nfa::StateId>(s) == n.start) {
                for (const Branch &b : g.branches) {
                  REQUIRE_FALSE(b.take);
                }
              } else {
                auto self = static_cast<std::int32_t>(s);
                REQUIRE(g.branches == std::vector<Branch>{{false, self, self, c, -1}});
              }
            }
          }
        }
      }
    }
    // Keys: equal text <=> key_eq, and equal keys hash equally.
    for (std::size_t a = 0; a < stream.size() && a < 40; ++a) {
      for (std::size_t b = 0; b < stream.size() && b < 40; ++b) {
        bool same = keyText(program, pattern, *stream[a]) == keyText(program, pattern, *stream[b]);
        INFO("key of line " << stream[a]->line << " vs line " << stream[b]->line);
        REQUIRE((code.key_eq(stream[a], stream[b]) != 0) == same);
        if (same) {
          REQUIRE(code.key_hash(stream[a]) == code.key_hash(stream[b]));
        }
      }
    }
  }
  return calls;
}

std::optional<jit::LoadedProgram> compileAll(jit::Jit &j, const Loaded &l) {
  jit::ModuleStats stats;
  std::string error;
  auto loaded = j.compileProgram(l.program(), l.nfas, stats, error);
  INFO(error);
  REQUIRE(loaded.has_value());
  REQUIRE(loaded->images.size() == l.nfas.size());
  return loaded;
}

std::unique_ptr<jit::Jit> makeJit(int level) {
  std::string error;
  auto j = jit::Jit::create(level, error);
  INFO(error);
  REQUIRE(j != nullptr);
  return j;
}

} // namespace

TEST_CASE("native step, prefilter and key functions agree with the interpreter on every golden "
          "match case",
          "[codegen]") {
  auto j = makeJit(1);
  std::uint64_t calls = 0;
  std::size_t cases = 0;
  prefiltered_ = 0;
  start_filtered_ = 0;
  for (const fs::path &dir : matchCases()) {
    INFO("case " << dir.filename().string());
    auto l = load(dir / "rules.cep");
    auto events = decodeEvents(l->program(), dir / "events.jsonl");
    auto loaded = compileAll(*j, *l);
    calls += checkProgram(*j, *l, events, *loaded);
    ++cases;
  }
  CHECK(cases > 100);
  CHECK(calls > 10000);
  CHECK(prefiltered_ > 0);    // the prefilter does skip something
  CHECK(start_filtered_ > 0); // and so does the start-state filter
}

TEST_CASE("every valid program of the checker goldens lowers to native code", "[codegen]") {
  auto j = makeJit(0);
  std::size_t programs = 0;
  for (const auto &d : fs::directory_iterator(fs::path(CEP_SOURCE_DIR) / "tests/golden/check")) {
    std::string name = d.path().filename().string();
    if (name.rfind("valid_", 0) != 0 || d.path().extension() != ".cep") {
      continue;
    }
    INFO(name);
    auto l = load(d.path());
    auto loaded = compileAll(*j, *l);
    for (std::size_t p = 0; p < l->nfas.size(); ++p) {
      const auto &code = loaded->code[p];
      CHECK(code.step != nullptr);
      CHECK(code.prefilter != nullptr);
      CHECK(code.emit.size() == loaded->images[p]->emit.fields.size());
    }
    ++programs;
  }
  CHECK(programs > 30);
}

namespace {

const char *kRandomProgram = R"(
event E { id: string, name: string, v: int, f: float?, ts: time }
pattern p partition by name, v {
    a: E(v > 2) -> b: E(v < a.v)+ -> c: E(contains(name, "x") or sum(b.v) > 5 or f > 1.5)
}
emit Out { n: count(b), s: a.name + c.name }
)";

// A random NFA over pattern 0 of `program` (edges of every kind, overlapping guards, counters,
// PROCEED edges only forward so there is no PROCEED cycle).
nfa::Nfa randomNfa(const lang::typed::Program &program, std::mt19937 &rng) {
  const auto &pattern = program.patterns.at(0);
  nfa::Nfa n;
  n.pattern = pattern.name;
  n.pattern_index = 0;
  n.program = &program;
  std::size_t normal = 2 + rng() % 6;
  for (std::size_t s = 0; s < normal; ++s) {
    nfa::State st;
    st.name = "s" + std::to_string(s);
    st.step = static_cast<std::int32_t>(rng() % pattern.steps.size());
    st.loop = rng() % 2 == 0;
    n.states.push_back(std::move(st));
  }
  auto final_id = static_cast<nfa::StateId>(n.states.size());
  n.states.push_back({"$final", nfa::StateKind::Final, -1, {}, std::nullopt, false, false});
  auto stop_id = static_cast<nfa::StateId>(n.states.size());
  n.states.push_back({"$stop:x", nfa::StateKind::Stop, -1, {}, std::nullopt, false, false});
  using K = nfa::Guard::Kind;
  std::function<nfa::GuardPtr(int)> guard = [&](int depth) -> nfa::GuardPtr {
    switch (rng() % (depth > 0 ? 9 : 6)) {
    case 0:
      return nullptr;
    case 1:
    case 2: {
      auto step = static_cast<std::int32_t>(rng() % pattern.steps.size());
      std::vector<nfa::GuardPtr> args;
      args.push_back(nfa::Guard::typeIs(0));
      args.push_back(
          nfa::Guard::cond(pattern.steps[static_cast<std::size_t>(step)].condition.get(), step));
      return nfa::Guard::all(std::move(args));
    }
    case 3:
      return nfa::Guard::countBelow(rng() % 4);
    case 4:
      return nfa::Guard::countAtLeast(rng() % 4);
    case 5:
      return nfa::Guard::make(rng() % 2 ? K::True : K::False);
    case 6: {
      nfa::GuardPtr inner = guard(depth - 1);
      if (!inner) {
        inner = nfa::Guard::make(K::True);
      }
      return nfa::Guard::negate(std::move(inner));
    }
    default: {
      auto g = nfa::Guard::make(rng() % 2 ? K::And : K::Or);
      std::size_t count = 1 + rng() % 3;
      for (std::size_t i = 0; i < count; ++i) {
        auto a = guard(depth - 1);
        g->args.push_back(a ? std::move(a) : nfa::Guard::make(K::True));
      }
      return g;
    }
    }
  };
  for (std::size_t s = 0; s < normal; ++s) {
    std::size_t edges = rng() % 5;
    for (std::size_t k = 0; k < edges; ++k) {
      nfa::Edge e;
      int kind = static_cast<int>(rng() % 3);
      e.kind = kind == 0 ? nfa::EdgeKind::Take
                         : (kind == 1 ? nfa::EdgeKind::Ignore : nfa::EdgeKind::Proceed);
      if (e.kind == nfa::EdgeKind::Proceed) {
        // forward only: a later normal state, $final or $stop
        std::size_t later = normal - s - 1 + 2;
        std::size_t pick = rng() % later;
        e.target = pick < normal - s - 1 ? static_cast<nfa::StateId>(s + 1 + pick)
                                         : (pick == normal - s - 1 ? final_id : stop_id);
      } else {
        e.target = static_cast<nfa::StateId>(rng() % (normal + 1)); // a normal state or $final
        if (rng() % 3 == 0) {
          e.target = static_cast<nfa::StateId>(s); // self-loops are common
        }
      }
      e.guard = guard(2);
      e.counts = e.kind == nfa::EdgeKind::Take && rng() % 2 == 0;
      e.resets_counter = rng() % 4 == 0;
      n.states[s].edges.push_back(std::move(e));
    }
  }
  n.start = 0;
  return n;
}

} // namespace

TEST_CASE("native step functions of random NFAs agree with the reference walk", "[codegen]") {
  auto c = interp_test::compile(kRandomProgram);
  const auto &program = c->prog();
  std::vector<std::string> names = {"ax", "b", "xx", "", "c"};
  std::mt19937 rng(20261105);
  std::vector<runtime::EventRef> events;
  {
    runtime::JsonlDecoder decoder(c->schema, runtime::DecoderOptions{false});
    for (std::uint64_t i = 0; i < 24; ++i) {
      std::string json =
          R"({"@type":"E","id":"e)" + std::to_string(i) + R"(","name":")" +
          names[rng() % names.size()] + R"(","v":)" + std::to_string(rng() % 7) +
          (rng() % 3 == 0 ? std::string() : R"(,"f":)" + std::to_string(rng() % 4) + ".5") +
          R"(,"ts":)" + std::to_string(1000 * i) + "}";
      runtime::RecordContext ctx;
      ctx.seq = i;
      ctx.line = i + 1;
      runtime::DecodeResult r = decoder.decodeCopy(json, ctx);
      INFO(json << ": " << r.reason);
      REQUIRE(r.status == runtime::DecodeStatus::Event);
      events.push_back(std::move(r.event));
    }
  }
  auto j = makeJit(1);
  std::uint64_t calls = 0;
  std::uint64_t multi_proceed = 0;
  for (int round = 0; round < 150; ++round) {
    std::vector<nfa::Nfa> nfas;
    nfas.push_back(randomNfa(program, rng));
    for (const auto &st : nfas[0].states) {
      int proceeds = 0;
      for (const auto &e : st.edges) {
        proceeds += e.kind == nfa::EdgeKind::Proceed;
      }
      multi_proceed += proceeds >= 2;
    }
    INFO("round " << round);
    jit::ModuleStats stats;
    std::string error;
    auto loaded = j->compileProgram(program, nfas, stats, error);
    INFO(error);
    REQUIRE(loaded.has_value());
    const rn::PatternImage &image = *loaded->images[0];
    const rn::PatternCode &code = loaded->code[0];
    Reference ref(program, nfas[0]);
    std::vector<CepBranch> out(image.max_branches + 1);
    for (std::size_t i = 0; i < events.size(); ++i) {
      const runtime::Event &e = *events[i];
      interp::NodeCounter nodes;
      interp::NodeRef chain = boundBefore(program.patterns[0], events, i, nodes);
      for (int with_bound = 0; with_bound < 2; ++with_bound) {
        interp::BoundEvents bound(with_bound ? chain.get() : nullptr, 3);
        native_test::NativeCtx ctx(with_bound ? chain.get() : nullptr, 3);
        for (std::size_t s = 0; s < nfas[0].states.size(); ++s) {
          for (std::uint32_t cnt = 0; cnt < 4; ++cnt) {
            Graph want = ref.graph(static_cast<nfa::StateId>(s), cnt, e, bound);
            std::uint8_t discard = 0;
            std::uint32_t count =
                code.step(&e, ctx.get(), static_cast<std::uint32_t>(s), cnt, out.data(), &discard);
            ++calls;
            REQUIRE(count <= image.max_branches);
            std::vector<Branch> got;
            for (std::uint32_t k = 0; k < count; ++k) {
              got.push_back({out[k].take != 0, out[k].source, out[k].target, out[k].counter,
                             out[k].final_state});
            }
            INFO("state " << s << " counter " << cnt << " event " << i << " bound " << with_bound);
            REQUIRE(got == want.branches);
            REQUIRE((discard != 0) == want.discard);
            if (code.prefilter(&e) == 0) {
              auto kind = nfas[0].states[s].kind;
              if (kind != nfa::StateKind::Final && kind != nfa::StateKind::Stop) {
                REQUIRE_FALSE(want.discard);
                if (s == 0) {
                  for (const Branch &b : want.branches) {
                    REQUIRE_FALSE(b.take);
                  }
                } else {
                  auto self = static_cast<std::int32_t>(s);
                  REQUIRE(want.branches == std::vector<Branch>{{false, self, self, cnt, -1}});
                }
              }
            }
          }
        }
      }
    }
    // Keys: (name, v) of both events.
    for (const auto &a : events) {
      for (const auto &b : events) {
        bool same =
            keyText(program, program.patterns[0], *a) == keyText(program, program.patterns[0], *b);
        REQUIRE((code.key_eq(a.get(), b.get()) != 0) == same);
        if (same) {
          REQUIRE(code.key_hash(a.get()) == code.key_hash(b.get()));
        }
      }
    }
  }
  CHECK(calls > 10000);
  CHECK(multi_proceed > 50);
}

TEST_CASE("native functions load from object files and bitcode made ahead of time", "[codegen]") {
  fs::path dir = fs::path(CEP_SOURCE_DIR) / "tests/golden/match/any_branching";
  auto l = load(dir / "rules.cep");
  auto events = decodeEvents(l->program(), dir / "events.jsonl");
  auto j = makeJit(2);
  cep::compiler::artifact::Artifact artifact;
  std::string compile_error;
  REQUIRE(
      cep::compiler::artifact::compileProgram(l->program(), l->nfas, 2, artifact, compile_error));
  artifact.schema = cep::compiler::schemaFromProgram(l->program());
  for (bool object : {true, false}) {
    INFO((object ? "object" : "bitcode"));
    const std::string &bytes = object ? artifact.object : artifact.bitcode;
    REQUIRE(!bytes.empty());
    std::string error;
    auto loaded = object ? j->loadObject(bytes, artifact.schema, artifact.patterns, error)
                         : j->loadBitcode(bytes, artifact.schema, artifact.patterns, error);
    INFO(error);
    REQUIRE(loaded.has_value());
    CHECK(checkProgram(*j, *l, events, *loaded) > 100);
  }
  std::string error;
  CHECK_FALSE(j->loadObject("not an object", artifact.schema, {}, error).has_value());
  CHECK(!error.empty());
}
