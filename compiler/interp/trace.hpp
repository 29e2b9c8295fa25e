// Why a match did or did not fire (`cep run --trace KEY`, `cep explain --why`, docs/debugging.md):
// what the reference interpreter's runs of one key did with each event and each time advance,
// as TraceActions handed to a TraceSink. The interpreter is the one source of truth: under
// `--engine jit` a shadow interpreter for the traced key runs beside the native matcher
// (runtime/engine/shadow_matcher.hpp). Tracing costs one pointer test per event when it is off.
#pragma once

#include "lang/source.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace cep::compiler::interp {

enum class TraceKind : std::uint8_t {
  Event,    // an event of the key reached the pattern (type, fields)
  Late,     // an event of the key was late (at or before the watermark): set aside, not matched
  Start,    // the start state took the event: a new run (to: its state)
  NoStart,  // no run started on the event (checks: why the first step did not take it)
  Take,     // a run bound the event to `step` and moved to `to`
  Ignore,   // a run skipped the event and waits in `to` (checks: why it did not take it)
  Die,      // a run ended on the event (reason: strict, negation, within, condition)
  Complete, // a run reached the final state (the match is written now or when released)
  Match,    // a match was written (record)
  Timeout,  // a run's `within` passed at `time` (record: its timeout record, if the rule has one)
  Discard,  // a run or held match dropped by the skip strategy after a match (reason: skip)
  Evict,    // a run evicted by a state bound (reason: max-runs-per-key, max-state-bytes, ttl)
  End,      // end of input: a run that can no longer complete is dropped
};
const char *traceKindName(TraceKind k); // "event", "late", "start", ...

// A run as it was before the action: where it started, its NFA state, the events it bound.
struct TraceRun {
  std::uint64_t start_seq = 0;
  std::int64_t start_time = 0;
  std::string state;
  std::vector<std::uint64_t> events; // arrival numbers, in match order
};

// One value a condition read: its source text (or step.field) and its JSON value.
struct TraceValue {
  std::string label;
  std::string json;
};

// Why a step did (not) take an event: its event type differs, or its condition held or not
// with the values it read; `negated` for a negated step (holding means the negation was hit).
struct TraceCheck {
  std::string step;
  bool type_matches = true;
  std::string event_type; // the step's event type
  bool held = false;      // the condition (type matching) held; no condition: true
  bool negated = false;
  std::string condition; // its source text; empty: the step has none
  std::vector<TraceValue> values;
};

struct TraceAction {
  TraceKind kind = TraceKind::Event;
  std::string pattern;
  std::string key;          // "@key" JSON text
  std::int64_t time = 0;    // the event's time, or the deadline / time that fired
  bool time_driven = false; // a time advance (a deadline, the watermark, end of input)
  std::uint64_t seq = 0;    // the event's arrival number (0 when time-driven)
  std::string event_type;   // Event, Late
  std::string fields;       // Event, Late: the event's fields as a JSON object
  bool has_run = false;     // `run` is set (every kind but Event, Late, NoStart, Match)
  TraceRun run;             // the run before the action
  std::string step;         // Take: the step that bound the event
  std::string to;           // Start, Take, Ignore: the state the new run waits in
  std::string reason;       // Die, Timeout, Discard, Evict: a word (docs/debugging.md)
  std::string detail;       // a sentence for people
  std::vector<TraceCheck> checks;
  std::string record; // Match, Timeout: the output record (one JSON line)
};

class TraceSink {
public:
  virtual ~TraceSink();
  virtual void action(const TraceAction &a) = 0;
};

// What to trace: the keys (their "@key" JSON texts, service/state_listing.hpp keyCandidates),
// where to, and the source text of conditions (optional).
struct TraceTarget {
  TraceSink *sink = nullptr;
  std::vector<std::string> keys;
  const lang::SourceManager *sources = nullptr;
  // A shadow (runtime/engine/shadow_matcher.hpp): every other key's events are ignored at once.
  bool only_traced = false;

  bool traces(const std::string &key_json) const {
    for (const std::string &k : keys) {
      if (k == key_json) {
        return true;
      }
    }
    return false;
  }
};

} // namespace cep::compiler::interp
