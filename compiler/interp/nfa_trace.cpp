// The interpreter's trace (trace.hpp): what a traced key's runs did with an event, and why.
// nfa_matcher.cpp records, while it computes a run's next runs, the states it looked at, the
// negated steps it tested and the runs it made (RunTrace); this file turns that into actions.
#include "compiler/interp/nfa_matcher.hpp"
#include "compiler/interp/record.hpp"
#include "runtime/io/json_writer.hpp"
#include "runtime/time/time_format.hpp"

#include <algorithm>
#include <functional>

namespace cep::compiler::interp {

using nfa::EdgeKind;
using nfa::StateKind;

TraceSink::~TraceSink() = default;

const char *traceKindName(TraceKind k) {
  switch (k) {
  case TraceKind::Event:
    return "event";
  case TraceKind::Late:
    return "late";
  case TraceKind::Start:
    return "start";
  case TraceKind::NoStart:
    return "no-start";
  case TraceKind::Take:
    return "take";
  case TraceKind::Ignore:
    return "ignore";
  case TraceKind::Die:
    return "die";
  case TraceKind::Complete:
    return "complete";
  case TraceKind::Match:
    return "match";
  case TraceKind::Timeout:
    return "timeout";
  case TraceKind::Discard:
    return "discard";
  case TraceKind::Evict:
    return "evict";
  case TraceKind::End:
    return "end";
  }
  return "?";
}

void InterpMatcher::setTrace(TraceTarget target) {
  trace_ = std::move(target);
  tracing_ = trace_.sink != nullptr;
}

bool InterpMatcher::onLateEvent(const runtime::EventRef &event,
                                std::vector<runtime::MatchOutput> &out) {
  (void)out;
  const runtime::Event &e = *event;
  if (!tracing_ || e.type >= uses_type_.size() || !uses_type_[e.type]) {
    return false; // patterns take no late event (docs/semantics.md §3)
  }
  std::string key = keyOf(e);
  if (traced(key)) {
    traceEvent(key, e, TraceKind::Late);
  }
  return false;
}

TraceAction InterpMatcher::traceAction(TraceKind kind, const std::string &key_json) const {
  TraceAction a;
  a.kind = kind;
  a.pattern = pattern_.name;
  a.key = key_json;
  return a;
}

TraceRun InterpMatcher::traceRun(const Run &run) const {
  TraceRun r;
  r.start_seq = run.start_seq + 1; // arrival numbers count from 1 (docs/debugging.md)
  r.start_time = run.start_time;
  r.state = nfa_.states[static_cast<std::size_t>(run.state)].name;
  for (const Node *n = run.bound.get(); n != nullptr; n = n->prev) {
    r.events.push_back(n->event->seq + 1);
  }
  std::reverse(r.events.begin(), r.events.end());
  return r;
}

void InterpMatcher::traceEvent(const std::string &key_json, const runtime::Event &e,
                               TraceKind kind) {
  TraceAction a = traceAction(kind, key_json);
  a.time = e.time;
  a.seq = e.seq + 1;
  const auto &type = program_.event_types.at(e.type);
  a.event_type = type.name;
  runtime::JsonWriter w(a.fields);
  w.beginObject();
  for (std::size_t f = 0; f < type.fields.size(); ++f) {
    w.key(type.fields[f].name);
    writeValue(w, readField(program_, e, static_cast<std::int32_t>(f)));
  }
  w.endObject();
  if (kind == TraceKind::Late) {
    a.reason = "late";
    a.detail = "at or before the watermark (time was " + runtime::formatRfc3339(currentTime()) +
               "): set aside as late, never matched";
  }
  trace_.sink->action(a);
}

void InterpMatcher::noteEdge(RunTrace &rt, const nfa::Edge &edge) const {
  if (edge.kind == EdgeKind::Ignore) {
    rt.ignore_edge = true;
  }
  if (nfa_.states[static_cast<std::size_t>(edge.target)].kind == StateKind::Stop) {
    std::int32_t step = stopStep(edge.target);
    if (step >= 0 &&
        std::find(rt.negations.begin(), rt.negations.end(), step) == rt.negations.end()) {
      rt.negations.push_back(step);
    }
  }
}

std::int32_t InterpMatcher::stopStep(nfa::StateId stop) const {
  // `$stop:<step>` (compiler/nfa/ir.hpp), possibly with a copy's suffix.
  std::string_view name = nfa_.states[static_cast<std::size_t>(stop)].name;
  constexpr std::string_view prefix = "$stop:";
  if (name.substr(0, prefix.size()) != prefix) {
    return -1;
  }
  name.remove_prefix(prefix.size());
  for (std::size_t i = 0; i < pattern_.steps.size(); ++i) {
    const std::string &step = pattern_.steps[i].name;
    if (name.substr(0, step.size()) == step &&
        (name.size() == step.size() || name[step.size()] == '\'' || name[step.size()] == ':')) {
      return static_cast<std::int32_t>(i);
    }
  }
  return -1;
}

std::string InterpMatcher::conditionLabel(const lang::typed::Expr &expr) const {
  if (trace_.sources == nullptr || !expr.range.valid() ||
      expr.range.file >= trace_.sources->size()) {
    return {};
  }
  std::string text(trace_.sources->slice(expr.range));
  // One line: runs of white space become one space.
  std::string out;
  bool space = false;
  for (char c : text) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      space = !out.empty();
      continue;
    }
    if (space) {
      out += ' ';
      space = false;
    }
    out += c;
  }
  return out;
}

TraceCheck InterpMatcher::traceCheck(std::int32_t step_index, const Run &run,
                                     const runtime::Event &e) {
  using lang::typed::Expr;
  using lang::typed::Op;
  const lang::typed::Step &step = pattern_.steps.at(static_cast<std::size_t>(step_index));
  TraceCheck c;
  c.step = step.name;
  c.negated = step.negated;
  c.event_type = program_.event_types.at(static_cast<std::size_t>(step.event_type)).name;
  c.type_matches = e.type == static_cast<std::uint32_t>(step.event_type);
  if (!c.type_matches) {
    return c;
  }
  if (!step.condition) {
    c.held = true;
    return c;
  }
  c.condition = conditionLabel(*step.condition);
  BoundEvents bound(run.bound.get(), pattern_.steps.size());
  c.held = evaluator_.test(*step.condition, &e, &bound);
  // The values the condition read: its fields and the aggregates over bound steps.
  std::function<void(const Expr &)> walk = [&](const Expr &x) {
    switch (x.op) {
    case Op::Field:
    case Op::First:
    case Op::Last:
    case Op::Count:
    case Op::CountOf:
    case Op::Sum:
    case Op::Avg:
    case Op::Min:
    case Op::Max: {
      std::string label = conditionLabel(x);
      if (label.empty() && x.op == Op::Field) {
        std::int32_t type = step.event_type;
        if (x.step != lang::typed::kCandidate) {
          label = pattern_.steps.at(static_cast<std::size_t>(x.step)).name + ".";
          type = pattern_.steps.at(static_cast<std::size_t>(x.step)).event_type;
        }
        label += program_.event_types.at(static_cast<std::size_t>(type))
                     .fields.at(static_cast<std::size_t>(x.field))
                     .name;
      }
      if (label.empty()) {
        label = "value";
      }
      for (const TraceValue &v : c.values) {
        if (v.label == label) {
          return;
        }
      }
      TraceValue v;
      v.label = label;
      runtime::JsonWriter w(v.json);
      writeValue(w, evaluator_.evaluate(x, &e, &bound));
      c.values.push_back(std::move(v));
      return;
    }
    default:
      for (const auto &arg : x.args) {
        walk(*arg);
      }
    }
  };
  walk(*step.condition);
  return c;
}

std::vector<TraceCheck> InterpMatcher::traceChecks(const RunTrace &rt, const Run &run,
                                                   const runtime::Event &e) {
  std::vector<std::int32_t> steps;
  for (nfa::StateId s : rt.visited) {
    std::int32_t step = nfa_.states[static_cast<std::size_t>(s)].step;
    if (step >= 0 && std::find(steps.begin(), steps.end(), step) == steps.end()) {
      steps.push_back(step);
    }
  }
  for (std::int32_t step : rt.negations) {
    if (std::find(steps.begin(), steps.end(), step) == steps.end()) {
      steps.push_back(step);
    }
  }
  std::vector<TraceCheck> checks;
  for (std::int32_t step : steps) {
    checks.push_back(traceCheck(step, run, e));
  }
  return checks;
}

void InterpMatcher::traceStep(const std::string &key_json, const Run &run, bool is_start,
                              const runtime::EventRef &event, const RunTrace &rt) {
  const runtime::Event &e = *event;
  auto base = [&](TraceKind kind) {
    TraceAction a = traceAction(kind, key_json);
    a.time = e.time;
    a.seq = e.seq + 1;
    if (!is_start) {
      a.has_run = true;
      a.run = traceRun(run);
    }
    return a;
  };
  auto stateName = [&](nfa::StateId s) { return nfa_.states[static_cast<std::size_t>(s)].name; };
  auto isFinal = [&](nfa::StateId s) {
    return nfa_.states[static_cast<std::size_t>(s)].kind == StateKind::Final;
  };
  auto stepName = [&](std::int32_t s) {
    return pattern_.steps.at(static_cast<std::size_t>(s)).name;
  };
  // A TAKE that also completed: the run with the event bound, in $final.
  auto complete = [&](const RunTrace::Made &m) {
    if (m.kind != EdgeKind::Take || (!isFinal(m.target) && m.landed < 0)) {
      return;
    }
    TraceAction a = base(TraceKind::Complete);
    a.has_run = true;
    if (is_start) {
      a.run.start_seq = e.seq + 1;
      a.run.start_time = e.time;
    }
    a.run.events.push_back(e.seq + 1);
    a.run.state = "$final";
    a.reason = "final";
    a.detail = "it reached the final state: a match";
    trace_.sink->action(a);
  };

  if (is_start) {
    bool started = false;
    for (const RunTrace::Made &m : rt.made) {
      if (m.kind != EdgeKind::Take) {
        continue;
      }
      started = true;
      TraceAction a = base(TraceKind::Start);
      a.step = stepName(m.step);
      a.to = stateName(m.target);
      a.checks.push_back(traceCheck(m.step, run, e));
      trace_.sink->action(a);
      complete(m);
    }
    if (!started) {
      std::vector<TraceCheck> checks = traceChecks(rt, run, e);
      // Only when a first step was of this event's type: the others say nothing new.
      bool typed = std::any_of(checks.begin(), checks.end(),
                               [](const TraceCheck &c) { return c.type_matches && !c.negated; });
      if (typed) {
        TraceAction a = base(TraceKind::NoStart);
        a.reason = "condition";
        a.detail = "no first step took the event";
        a.checks = std::move(checks);
        trace_.sink->action(a);
      }
    }
    return;
  }

  if (rt.stopped_by >= 0) {
    for (const RunTrace::Made &m : rt.made) {
      complete(m); // matches completed on this event still count
    }
    TraceAction a = base(TraceKind::Die);
    a.reason = "negation";
    const lang::typed::Step &negated = pattern_.steps.at(static_cast<std::size_t>(rt.stopped_by));
    a.detail = "the negated step `not " +
               (negated.name.starts_with("$")
                    ? program_.event_types.at(static_cast<std::size_t>(negated.event_type)).name
                    : negated.name) +
               "` matched";
    a.checks.push_back(traceCheck(rt.stopped_by, run, e));
    trace_.sink->action(a);
    return;
  }
  if (rt.made.empty()) {
    TraceAction a = base(TraceKind::Die);
    a.checks = traceChecks(rt, run, e);
    if (rt.within_blocked >= 0) {
      a.reason = "within";
      a.detail = "the `within` of step `" + stepName(rt.within_blocked) +
                 "` had passed since the run's last bound event";
    } else if (!rt.ignore_edge) {
      std::string expected;
      for (const TraceCheck &c : a.checks) {
        if (!c.negated) {
          expected += (expected.empty() ? "`" : " or `") + c.step + "`";
        }
      }
      a.reason = "strict";
      a.detail = "strict contiguity: the next event had to match " +
                 (expected.empty() ? std::string("the next step") : expected);
    } else {
      a.reason = "condition";
      a.detail = "no transition held (an `until` or the loop's end)";
    }
    trace_.sink->action(a);
    return;
  }
  std::vector<TraceCheck> checks; // for IGNOREs: why the event was not taken
  bool have_checks = false;
  for (const RunTrace::Made &m : rt.made) {
    if (m.kind == EdgeKind::Take) {
      TraceAction a = base(TraceKind::Take);
      a.step = stepName(m.step);
      a.to = stateName(m.target);
      a.checks.push_back(traceCheck(m.step, run, e));
      if (rt.made.size() > 1) {
        a.detail = "branched: " + std::to_string(rt.made.size()) + " runs";
      }
      trace_.sink->action(a);
      complete(m);
      continue;
    }
    if (!have_checks) {
      checks = traceChecks(rt, run, e);
      have_checks = true;
    }
    TraceAction a = base(TraceKind::Ignore);
    a.to = stateName(m.target);
    a.checks = checks;
    if (rt.made.size() > 1) {
      a.detail = "branched: " + std::to_string(rt.made.size()) + " runs";
    }
    trace_.sink->action(a);
  }
}

} // namespace cep::compiler::interp
