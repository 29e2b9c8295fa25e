// Structural verification of a decoded artifact (compiler/artifact/verify.hpp). LLVM-free.
#include "compiler/artifact/verify.hpp"

#include "runtime/native/image_codec.hpp"

#include <set>
#include <string_view>

namespace cep::compiler::artifact {

namespace {

using runtime::native::AggregateImage;
using runtime::native::EmitShape;
using runtime::native::kNoBound;
using runtime::native::PatternImage;
using runtime::native::Skip;
using runtime::native::StateKind;

class Verifier {
public:
  explicit Verifier(const std::string &name) : name_(name) {}

  [[noreturn]] void fail(const std::string &where, const std::string &why) const {
    throw ArtifactError(name_ + ": corrupt: " + where + ": " + why);
  }

  // A .cep identifier: [A-Za-z_][A-Za-z0-9_]*.
  void identifier(std::string_view s, const std::string &where, const char *what) const {
    bounded(s, where, what);
    bool ok = !s.empty() && !isDigit(s.front());
    for (char c : s) {
      ok = ok && (isAlpha(c) || isDigit(c) || c == '_');
    }
    if (!ok) {
      fail(where, std::string(what) + " `" + printable(s) + "` is not a valid name");
    }
  }

  // A non-empty run of printable ASCII without spaces (state names, symbols, CPU features).
  void token(std::string_view s, const std::string &where, const char *what) const {
    bounded(s, where, what);
    bool ok = !s.empty();
    for (char c : s) {
      ok = ok && c > ' ' && c < 0x7f;
    }
    if (!ok) {
      fail(where, std::string(what) + " `" + printable(s) + "` is not a valid name");
    }
  }

  // Text shown to the user (cep version, source names): printable ASCII or UTF-8, no controls.
  void text(std::string_view s, const std::string &where, const char *what) const {
    bounded(s, where, what);
    for (char c : s) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
        fail(where, std::string(what) + " holds a control character");
      }
    }
  }

  void limit(std::size_t n, std::size_t max, const std::string &where, const char *what) const {
    if (n > max) {
      fail(where, std::to_string(n) + " " + what + " (at most " + std::to_string(max) + ")");
    }
  }

private:
  static bool isDigit(char c) { return c >= '0' && c <= '9'; }
  static bool isAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

  void bounded(std::string_view s, const std::string &where, const char *what) const {
    if (s.size() > kMaxNameBytes) {
      fail(where, std::string(what) + " of " + std::to_string(s.size()) + " bytes (at most " +
                      std::to_string(kMaxNameBytes) + ")");
    }
  }

  static std::string printable(std::string_view s) {
    std::string out;
    for (char c : s.substr(0, 64)) {
      out += (c >= ' ' && c < 0x7f) ? c : '?';
    }
    return out;
  }

  const std::string &name_;
};

void verifyHeader(const Verifier &v, const Header &h) {
  const std::string where = "header";
  v.text(h.cep_version, where, "cep version");
  if (h.cep_version.empty()) {
    v.fail(where, "no cep version");
  }
  v.limit(h.sources.size(), kMaxPatterns, where, "source files");
  for (const std::string &s : h.sources) {
    v.text(s, where, "source name");
  }
  v.token(h.target.triple, where, "target triple");
  v.token(h.target.cpu, where, "CPU name");
  for (std::size_t i = 0; i < h.target.features.size(); ++i) {
    const std::string &f = h.target.features[i];
    v.token(f, where, "CPU feature");
    if (f.front() != '+' && f.front() != '-') {
      v.fail(where, "CPU feature `" + f + "` is neither +feature nor -feature");
    }
    if (i > 0 && !(h.target.features[i - 1] < f)) {
      v.fail(where, "CPU features not sorted");
    }
  }
  for (std::size_t i = 0; i < h.disabled_passes.size(); ++i) {
    v.token(h.disabled_passes[i], where, "disabled pass");
    if (i > 0 && !(h.disabled_passes[i - 1] < h.disabled_passes[i])) {
      v.fail(where, "disabled passes not sorted");
    }
  }
}

void verifySchema(const Verifier &v, const runtime::Schema &schema) {
  v.limit(schema.types.size(), kMaxEventTypes, "schema", "event types");
  for (const runtime::EventSchema &type : schema.types) {
    v.identifier(type.name, "schema", "event type name");
    const std::string where = "schema: event type `" + type.name + "`";
    for (const runtime::FieldSchema &f : type.fields) {
      v.identifier(f.name, where, "field name");
    }
  }
}

void verifyShape(const Verifier &v, const EmitShape &shape, const std::string &where,
                 std::set<std::string> &symbols) {
  v.identifier(shape.stream, where, "stream name");
  v.limit(shape.fields.size(), kMaxEmitFields, where, "fields");
  std::set<std::string, std::less<>> names;
  for (const auto &f : shape.fields) {
    v.identifier(f.name, where, "field name");
    if (!names.insert(f.name).second) {
      v.fail(where, "field `" + f.name + "` twice");
    }
    v.token(f.symbol, where + " field `" + f.name + "`", "symbol");
    if (!symbols.insert(f.symbol).second) {
      v.fail(where + " field `" + f.name + "`", "symbol `" + f.symbol + "` used twice");
    }
  }
}

void verifyImage(const Verifier &v, const PatternImage &p, const runtime::Schema &schema,
                 std::set<std::string> &symbols) {
  const std::string where = "patterns: pattern `" + p.name + "`";
  v.identifier(p.name, "patterns", "pattern name");
  if (p.event_types.empty()) {
    v.fail(where, "no event types");
  }
  v.limit(p.steps.size(), kMaxSteps, where, "steps");
  v.limit(p.states.size(), kMaxStates, where, "states");
  std::set<std::string, std::less<>> names;
  for (const auto &s : p.steps) {
    v.token(s.name, where, "step name");
    if (!names.insert(s.name).second) {
      v.fail(where, "step `" + s.name + "` twice");
    }
  }
  names.clear();
  // As compiler/nfa/verifier.cpp requires of every NFA. A pattern may have no Final or Pending
  // state left at all (the passes drop what can never match): that is valid, it never matches.
  int finals = 0;
  for (std::size_t i = 0; i < p.states.size(); ++i) {
    const auto &s = p.states[i];
    v.token(s.name, where, "state name");
    if (!names.insert(s.name).second) {
      v.fail(where, "state `" + s.name + "` twice");
    }
    const std::string state = where + ": state " + std::to_string(i) + " `" + s.name + "`";
    if (s.kind == StateKind::Final && ++finals > 1) {
      v.fail(state, "a second final state");
    }
    if (s.within_ms == 0 || s.within_ms > kMaxWithinMs) {
      v.fail(state, "within " + std::to_string(s.within_ms) + " ms out of range");
    }
    if (s.kind == StateKind::Normal && s.step < 0) {
      v.fail(state, "a normal state without a step");
    }
    if (s.kind != StateKind::Normal && s.step >= 0) {
      v.fail(state, std::string(runtime::native::stateKindName(s.kind)) + " state with a step");
    }
    if (s.completes_at_end && s.kind != StateKind::Pending &&
        (s.kind != StateKind::Normal || !p.steps[static_cast<std::size_t>(s.step)].negated)) {
      v.fail(state, "completes at end, but is neither pending nor waiting on a negated step");
    }
  }
  const auto &start = p.states[static_cast<std::size_t>(p.start)];
  if (start.kind != StateKind::Normal) {
    v.fail(where, "start state " + std::to_string(p.start) + " `" + start.name +
                      "` is not a normal state");
  }
  if (p.within_ms > kMaxWithinMs) {
    v.fail(where, "within " + std::to_string(p.within_ms) + " ms out of range");
  }
  bool needs_skip_step = p.skip == Skip::ToFirst || p.skip == Skip::ToLast;
  if (needs_skip_step != (p.skip_step >= 0)) {
    v.fail(where, std::string("skip ") + runtime::native::skipName(p.skip) +
                      (needs_skip_step ? " without" : " with") + " a skip step");
  }
  if (p.keyed) {
    for (std::uint32_t t : p.event_types) {
      if (t >= p.key_fields.size() || p.key_fields[t].empty()) {
        v.fail(where, "keyed, but no key fields for event type `" + schema.types[t].name + "`");
      }
    }
  } else {
    for (const auto &fields : p.key_fields) {
      if (!fields.empty()) {
        v.fail(where, "key fields without `partition by`");
      }
    }
  }
  if (p.max_branches > kMaxBranches) {
    v.fail(where, "max branches " + std::to_string(p.max_branches) + " (at most " +
                      std::to_string(kMaxBranches) + ")");
  }
  for (const std::string *symbol :
       {&p.step_symbol, &p.prefilter_symbol, &p.key_hash_symbol, &p.key_eq_symbol}) {
    v.token(*symbol, where, "symbol");
    if (!symbols.insert(*symbol).second) {
      v.fail(where, "symbol `" + *symbol + "` used twice");
    }
  }
  verifyShape(v, p.emit, where + ": emit", symbols);
  if (p.has_timeout_emit) {
    verifyShape(v, p.timeout_emit, where + ": timeout emit", symbols);
  } else if (!p.timeout_emit.fields.empty() || !p.timeout_emit.stream.empty()) {
    v.fail(where, "a timeout emit shape without a timeout emit");
  }
}

} // namespace

namespace {

// An aggregate (runtime/native/aggregate_codec.hpp checked its indices, kinds and spec): its
// names, symbols, and an operator index no other aggregate has and below the operator count.
void verifyAggregate(const Verifier &v, const AggregateImage &a, std::size_t operators,
                     std::set<std::string> &symbols, std::set<std::int32_t> &operator_indices) {
  const std::string where = "aggregates: aggregate `" + a.name + "`";
  v.identifier(a.name, "aggregates", "aggregate name");
  v.token(a.step_name, where, "step name");
  verifyShape(v, a.emit, where + ": emit", symbols);
  std::vector<std::string> own = a.computed_symbols;
  for (const std::string *s : {&a.condition_symbol, &a.having_symbol}) {
    if (!s->empty()) {
      own.push_back(*s);
    }
  }
  for (const std::string &s : own) {
    v.token(s, where, "symbol");
    if (!symbols.insert(s).second) {
      v.fail(where, "symbol `" + s + "` used twice");
    }
  }
  if (a.operator_index < 0 || static_cast<std::size_t>(a.operator_index) >= operators ||
      !operator_indices.insert(a.operator_index).second) {
    v.fail(where, "operator index " + std::to_string(a.operator_index) + " out of range (" +
                      std::to_string(operators) + " operators) or twice");
  }
}

} // namespace

void verifyArtifact(const Artifact &a, const std::string &name) {
  Verifier v(name);
  verifyHeader(v, a.header);
  verifySchema(v, a.schema);
  v.limit(a.patterns.size(), kMaxPatterns, "patterns", "patterns");
  std::set<std::string> symbols;
  std::set<std::int32_t> indices;
  for (const PatternImage &p : a.patterns) {
    verifyImage(v, p, a.schema, symbols);
    if (!indices.insert(p.index).second) {
      v.fail("patterns: pattern `" + p.name + "`", "index " + std::to_string(p.index) + " twice");
    }
  }
  v.limit(a.aggregates.size(), kMaxPatterns, "aggregates", "aggregates");
  std::set<std::string> names;
  for (const PatternImage &p : a.patterns) {
    names.insert(p.name);
  }
  std::set<std::int32_t> operator_indices;
  for (const AggregateImage &g : a.aggregates) {
    verifyAggregate(v, g, a.patterns.size() + a.aggregates.size(), symbols, operator_indices);
    if (!names.insert(g.name).second) {
      v.fail("aggregates: aggregate `" + g.name + "`", "a pattern or aggregate of that name too");
    }
  }
}

} // namespace cep::compiler::artifact
