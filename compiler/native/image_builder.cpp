#include "compiler/native/image_builder.hpp"

#include "support/internal_error.hpp"

#include <algorithm>

namespace cep::compiler::native {

namespace rn = runtime::native;

std::string imageSymbol(std::int32_t pattern_index, const std::string &what) {
  return "cep.p" + std::to_string(pattern_index) + "." + what;
}

rn::ValueKind valueKindOf(lang::TypeKind kind) {
  switch (kind) {
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
  case lang::TypeKind::Null:
    return rn::ValueKind::Null;
  default:
    CEP_ASSERT(false, "an emitted value of a non-scalar type");
  }
  return rn::ValueKind::Null;
}

namespace {

rn::StateKind stateKindOf(nfa::StateKind k) {
  switch (k) {
  case nfa::StateKind::Normal:
    return rn::StateKind::Normal;
  case nfa::StateKind::Final:
    return rn::StateKind::Final;
  case nfa::StateKind::Stop:
    return rn::StateKind::Stop;
  case nfa::StateKind::Pending:
    return rn::StateKind::Pending;
  }
  return rn::StateKind::Normal;
}

rn::Skip skipOf(lang::typed::SkipStrategy s) {
  switch (s) {
  case lang::typed::SkipStrategy::None:
    return rn::Skip::None;
  case lang::typed::SkipStrategy::PastLast:
    return rn::Skip::PastLast;
  case lang::typed::SkipStrategy::ToNext:
    return rn::Skip::ToNext;
  case lang::typed::SkipStrategy::ToFirst:
    return rn::Skip::ToFirst;
  case lang::typed::SkipStrategy::ToLast:
    return rn::Skip::ToLast;
  }
  return rn::Skip::PastLast;
}

// Branch counts per state, memoised; `on_path` detects PROCEED cycles.
std::uint64_t countFrom(const nfa::Nfa &nfa, nfa::StateId s, std::vector<std::int64_t> &memo,
                        std::vector<bool> &on_path) {
  auto i = static_cast<std::size_t>(s);
  if (memo[i] >= 0) {
    return static_cast<std::uint64_t>(memo[i]);
  }
  CEP_ASSERT(!on_path[i], "PROCEED cycle through " + nfa.states[i].name + " in " + nfa.pattern);
  on_path[i] = true;
  std::uint64_t n = 0;
  for (const auto &edge : nfa.states[i].edges) {
    CEP_ASSERT(edge.target >= 0 && static_cast<std::size_t>(edge.target) < nfa.states.size(),
               "edge to an unknown state in " + nfa.states[i].name);
    if (edge.kind != nfa::EdgeKind::Proceed) {
      ++n;
    } else if (nfa.states[static_cast<std::size_t>(edge.target)].kind != nfa::StateKind::Stop) {
      n += countFrom(nfa, edge.target, memo, on_path);
    }
    n = std::min<std::uint64_t>(n, UINT32_MAX);
  }
  on_path[i] = false;
  memo[i] = static_cast<std::int64_t>(n);
  return n;
}

rn::EmitShape shapeOf(const lang::typed::Program &program, const lang::typed::Emit &emit,
                      std::int32_t pattern_index, const char *prefix) {
  rn::EmitShape shape;
  shape.stream = program.streams.at(static_cast<std::size_t>(emit.stream)).name;
  for (std::size_t k = 0; k < emit.fields.size(); ++k) {
    rn::OutputField f;
    f.name = emit.fields[k].name;
    f.kind = valueKindOf(emit.fields[k].value->type.kind);
    f.symbol = imageSymbol(pattern_index, std::string(prefix) + "." + std::to_string(k));
    shape.fields.push_back(std::move(f));
  }
  return shape;
}

} // namespace

std::uint32_t maxBranchesFrom(const nfa::Nfa &nfa, nfa::StateId state) {
  std::vector<std::int64_t> memo(nfa.states.size(), -1);
  std::vector<bool> on_path(nfa.states.size(), false);
  return static_cast<std::uint32_t>(countFrom(nfa, state, memo, on_path));
}

rn::PatternImage buildImage(const lang::typed::Program &program, const nfa::Nfa &nfa) {
  CEP_ASSERT(nfa.pattern_index >= 0 &&
                 static_cast<std::size_t>(nfa.pattern_index) < program.patterns.size(),
             "NFA of an unknown pattern");
  const lang::typed::Pattern &pattern =
      program.patterns[static_cast<std::size_t>(nfa.pattern_index)];
  rn::PatternImage image;
  image.name = pattern.name;
  image.index = nfa.pattern_index;

  // The pattern's stream: the types its steps mention, ascending (as the interpreter).
  std::vector<bool> uses(program.event_types.size(), false);
  for (const auto &step : pattern.steps) {
    if (step.event_type >= 0) {
      uses.at(static_cast<std::size_t>(step.event_type)) = true;
    }
  }
  for (std::size_t t = 0; t < uses.size(); ++t) {
    if (uses[t]) {
      image.event_types.push_back(static_cast<std::uint32_t>(t));
    }
  }
  for (const auto &step : pattern.steps) {
    image.steps.push_back({step.name, step.negated, step.event_type});
  }

  std::vector<std::int64_t> memo(nfa.states.size(), -1);
  std::vector<bool> on_path(nfa.states.size(), false);
  std::uint64_t max_branches = 1;
  for (std::size_t s = 0; s < nfa.states.size(); ++s) {
    const nfa::State &state = nfa.states[s];
    rn::StateInfo info;
    info.name = state.name;
    info.kind = stateKindOf(state.kind);
    info.step = state.step;
    info.within_ms = state.within_ms ? *state.within_ms : rn::kNoBound;
    info.completes_at_end = state.completes_at_end || state.kind == nfa::StateKind::Pending;
    image.states.push_back(std::move(info));
    max_branches =
        std::max(max_branches, countFrom(nfa, static_cast<nfa::StateId>(s), memo, on_path));
  }
  image.max_branches = static_cast<std::uint32_t>(max_branches);
  CEP_ASSERT(nfa.start >= 0 && static_cast<std::size_t>(nfa.start) < nfa.states.size(),
             "NFA without a start state");
  image.start = nfa.start;
  image.within_ms = nfa.within_ms ? *nfa.within_ms : rn::kNoBound;
  image.skip = skipOf(nfa.skip);
  image.skip_step = nfa.skip_step;

  image.keyed = !pattern.key_fields.empty();
  if (image.keyed) {
    image.key_fields = pattern.key_index;
  }
  image.key_fields.resize(program.event_types.size());
  for (std::size_t t = 0; t < uses.size(); ++t) {
    if (!uses[t]) {
      image.key_fields[t].clear();
    }
  }

  image.emit = shapeOf(program, pattern.emit, nfa.pattern_index, "emit");
  image.has_timeout_emit = pattern.timeout_emit.has_value();
  if (pattern.timeout_emit) {
    image.timeout_emit = shapeOf(program, *pattern.timeout_emit, nfa.pattern_index, "timeout");
  }
  image.step_symbol = imageSymbol(nfa.pattern_index, "step");
  image.prefilter_symbol = imageSymbol(nfa.pattern_index, "prefilter");
  image.key_hash_symbol = imageSymbol(nfa.pattern_index, "key_hash");
  image.key_eq_symbol = imageSymbol(nfa.pattern_index, "key_eq");
  return image;
}

} // namespace cep::compiler::native
