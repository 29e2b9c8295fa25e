// Moving the partial matches of one version of a pattern into a matcher of another version of
// the same-named pattern (cep serve's `keep` hot swap; the rules are docs/semantics.md "Moving
// partial matches to a new version"). The check is done here, once, against a PatternShape that
// each engine gives of itself, so both engines refuse for the same reasons with the same texts;
// each engine then maps the (checked) state into its own indices (Matcher::migrateFrom).
//
//   MatcherState old;
//   v1.exportState(old);
//   MigrationReport r = v2.migrateFrom(old);
//   if (!r.ok()) { for (auto &why : r.reasons) std::cerr << why << '\n'; } // v2 unchanged
//
// What must hold (every violation is one reason; all are listed, in the order below):
//   - the state is of the same pattern name;
//   - every live run's NFA state name exists in the new NFA;
//   - every step name a bound event is bound to exists in the new pattern, and takes events of
//     the bound event's type;
//   - every bound event's type exists in the new schema; each field the old event carries that
//     the new type declares has the same kind; a field the new type adds must be nullable (the
//     moved events hold null there); a field the new type dropped is dropped;
//   - the key: partitioned or not as before, and for every event type both versions partition,
//     the same key fields (names and kinds, in order); and every key's text, recomputed from its
//     events under the new version, is the one it had.
#pragma once

#include "runtime/state/matcher_state.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace cep::runtime {

struct MigrationReport {
  std::vector<std::string> reasons; // empty: the move is (or was) done
  std::uint64_t runs_moved = 0, keys_moved = 0, held_moved = 0;
  bool ok() const { return reasons.empty(); }
};

// A matcher of the new version, by name.
struct PatternShape {
  std::string pattern;
  std::shared_ptr<const Schema> schema;
  std::vector<std::string> steps;
  std::vector<std::int32_t> step_types; // per step: its event type (index into schema)
  std::vector<std::string> states;
  StateKeyDef key;
};

// Every reason `from` cannot move into a matcher of shape `to` (the key-text check is left to
// the engine, which alone computes keys).
std::vector<std::string> migrationReasons(const MatcherState &from, const PatternShape &to);

// The events of `from` as events of `to` (parallel to from.events), fields matched by name:
// the same block when its type is laid out identically at the same index, else a copy (fields
// the new type adds are null). Only for a state migrationReasons accepted.
std::vector<EventRef> convertEvents(const MatcherState &from, const Schema &to);

} // namespace cep::runtime
