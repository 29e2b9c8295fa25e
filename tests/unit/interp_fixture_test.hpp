// Shared helpers of the reference interpreter's tests (tag [interp]): compile a .cep text, make
// events from JSON lines, build NFAs by hand, and drive a matcher the way `cep run` does.
#pragma once

#include "compiler/interp/nfa_matcher.hpp"
#include "compiler/nfa/ir.hpp"
#include "lang/check.hpp"
#include "lang/parse.hpp"
#include "runtime/io/jsonl_decoder.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace interp_test {

namespace lang = cep::lang;
namespace runtime = cep::runtime;
namespace nfa = cep::compiler::nfa;
namespace typed = cep::lang::typed;

struct Compiled {
  lang::SourceManager sources;
  lang::DiagnosticEngine diags{sources};
  std::vector<lang::ast::Module> modules;
  std::optional<typed::Program> program;
  runtime::Schema schema;

  const typed::Program &prog() const { return *program; }
  const typed::Pattern &pattern(std::size_t i = 0) const { return program->patterns.at(i); }
  std::int32_t typeIndex(const std::string &name) const { return program->eventTypeIndex(name); }
  std::int32_t stepIndex(const std::string &name, std::size_t pattern_index = 0) const {
    const auto &steps = program->patterns.at(pattern_index).steps;
    for (std::size_t i = 0; i < steps.size(); ++i) {
      if (steps[i].name == name) {
        return static_cast<std::int32_t>(i);
      }
    }
    FAIL("no step " << name);
    return -1;
  }
  const typed::Expr *condition(const std::string &step, std::size_t pattern_index = 0) const {
    return program->patterns.at(pattern_index)
        .steps.at(stepIndex(step, pattern_index))
        .condition.get();
  }
};

// The runtime's Schema of a checked program (type indices agree).
inline runtime::Schema schemaOf(const typed::Program &program) {
  runtime::Schema schema;
  for (const auto &t : program.event_types) {
    runtime::EventSchema es;
    es.name = t.name;
    es.time_field = t.time_field;
    for (const auto &f : t.fields) {
      runtime::FieldSchema fs;
      fs.name = f.name;
      fs.nullable = f.type.nullable;
      switch (f.type.kind) {
      case lang::TypeKind::Bool:
        fs.kind = runtime::FieldKind::Bool;
        break;
      case lang::TypeKind::Int:
        fs.kind = runtime::FieldKind::Int;
        break;
      case lang::TypeKind::Float:
        fs.kind = runtime::FieldKind::Float;
        break;
      case lang::TypeKind::String:
        fs.kind = runtime::FieldKind::String;
        break;
      case lang::TypeKind::Time:
        fs.kind = runtime::FieldKind::Time;
        break;
      default:
        fs.kind = runtime::FieldKind::Duration;
        break;
      }
      es.fields.push_back(fs);
    }
    schema.types.push_back(std::move(es));
  }
  return schema;
}

inline std::unique_ptr<Compiled> compile(const std::string &text) {
  auto c = std::make_unique<Compiled>();
  lang::FileId id = c->sources.add("test.cep", text);
  c->modules.push_back(lang::parseModule(c->sources.file(id), c->diags));
  if (c->diags.errorCount() == 0) {
    c->program = lang::checkProgram(c->modules, {{}}, c->sources, c->diags);
  }
  std::ostringstream rendered;
  c->diags.render(rendered, false);
  INFO(rendered.str());
  REQUIRE(c->diags.errorCount() == 0);
  REQUIRE(c->program.has_value());
  c->schema = schemaOf(*c->program);
  return c;
}

// Events from JSON lines, numbered in arrival order (seq 0, 1, ...), raw records kept.
class EventMaker {
public:
  explicit EventMaker(const runtime::Schema &schema)
      : decoder_(schema, runtime::DecoderOptions{true}) {}
  runtime::EventRef make(const std::string &json) {
    runtime::RecordContext ctx;
    ctx.seq = seq_++;
    ctx.line = seq_;
    runtime::DecodeResult r = decoder_.decodeCopy(json, ctx);
    INFO(json << ": " << r.reason);
    REQUIRE(r.status == runtime::DecodeStatus::Event);
    return std::move(r.event);
  }

private:
  runtime::JsonlDecoder decoder_;
  std::uint64_t seq_ = 0;
};

// Drives a matcher as the run loop does (docs/semantics.md §3): time advances to t before the
// events of time t; the outputs of each step are sorted with MatchOutput::before.
class Driver {
public:
  Driver(runtime::Matcher &m, EventMaker &events) : m_(&m), events_(&events) {}
  void event(const std::string &json) {
    runtime::EventRef e = events_->make(json);
    if (e->time > time_) {
      advance(e->time);
    }
    m_->onEvent(e, step_);
    flush();
  }
  void events(const std::vector<std::string> &jsons) {
    for (const auto &j : jsons) {
      event(j);
    }
  }
  void advance(std::int64_t t) {
    m_->advanceTime(t, step_);
    time_ = std::max(time_, t);
    flush();
  }
  void finish() {
    m_->finish(step_);
    flush();
  }
  // Continue with another matcher (after a snapshot/restore).
  void switchTo(runtime::Matcher &m) { m_ = &m; }
  std::vector<std::string> lines;

private:
  void flush() {
    std::stable_sort(step_.begin(), step_.end(), runtime::MatchOutput::before);
    for (const auto &o : step_) {
      lines.push_back(o.json);
    }
    step_.clear();
  }
  runtime::Matcher *m_;
  EventMaker *events_;
  std::vector<runtime::MatchOutput> step_;
  std::int64_t time_ = INT64_MIN;
};

// --- hand-built NFAs ---------------------------------------------------------------------------

inline nfa::GuardPtr gKind(nfa::Guard::Kind k) {
  auto g = std::make_unique<nfa::Guard>();
  g->kind = k;
  return g;
}
inline nfa::GuardPtr gType(std::int32_t type) {
  auto g = gKind(nfa::Guard::Kind::TypeIs);
  g->event_type = type;
  return g;
}
inline nfa::GuardPtr gCond(const typed::Expr *expr, std::int32_t step) {
  auto g = gKind(nfa::Guard::Kind::Cond);
  g->expr = expr;
  g->step = step;
  return g;
}
inline nfa::GuardPtr gNot(nfa::GuardPtr a) {
  auto g = gKind(nfa::Guard::Kind::Not);
  g->args.push_back(std::move(a));
  return g;
}
inline nfa::GuardPtr gAnd(nfa::GuardPtr a, nfa::GuardPtr b) {
  auto g = gKind(nfa::Guard::Kind::And);
  g->args.push_back(std::move(a));
  g->args.push_back(std::move(b));
  return g;
}
inline nfa::GuardPtr gBelow(std::uint32_t n) {
  auto g = gKind(nfa::Guard::Kind::CountBelow);
  g->count = n;
  return g;
}
inline nfa::GuardPtr gAtLeast(std::uint32_t n) {
  auto g = gKind(nfa::Guard::Kind::CountAtLeast);
  g->count = n;
  return g;
}

class NfaBuilder {
public:
  explicit NfaBuilder(const Compiled &c, std::size_t pattern_index = 0) {
    const auto &p = c.pattern(pattern_index);
    n_.pattern = p.name;
    n_.pattern_index = static_cast<std::int32_t>(pattern_index);
    n_.program = &c.prog();
    n_.within_ms = p.within_ms;
    n_.skip = p.skip;
    n_.skip_step = p.skip_step;
    n_.has_timeout_emit = p.timeout_emit.has_value();
  }
  nfa::StateId state(const std::string &name, std::int32_t step,
                     nfa::StateKind kind = nfa::StateKind::Normal) {
    nfa::State s;
    s.name = name;
    s.kind = kind;
    s.step = step;
    n_.states.push_back(std::move(s));
    return static_cast<nfa::StateId>(n_.states.size() - 1);
  }
  nfa::State &at(nfa::StateId id) { return n_.states.at(static_cast<std::size_t>(id)); }
  void edge(nfa::StateId from, nfa::EdgeKind kind, nfa::StateId to, nfa::GuardPtr guard,
            bool counts = false) {
    nfa::Edge e;
    e.kind = kind;
    e.target = to;
    e.guard = std::move(guard);
    e.counts = counts;
    e.resets_counter = at(from).step != at(to).step;
    at(from).edges.push_back(std::move(e));
  }
  nfa::Nfa done(nfa::StateId start) {
    n_.start = start;
    return std::move(n_);
  }

private:
  nfa::Nfa n_;
};

inline std::unique_ptr<cep::compiler::interp::InterpMatcher>
matcher(const Compiled &c, nfa::Nfa n, bool with_events = false, std::size_t pattern_index = 0) {
  runtime::MatcherOptions options;
  options.with_events = with_events;
  return std::make_unique<cep::compiler::interp::InterpMatcher>(
      c.prog(), static_cast<std::int32_t>(pattern_index), std::move(n), options);
}

} // namespace interp_test
