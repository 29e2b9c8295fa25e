// Snapshots of an InterpMatcher (Matcher::snapshot / restore / exportState / migrateFrom) are
// the matcher-state model both engines share: runtime/state/matcher_state.hpp holds the CEPISNAP
// format and its one codec; runtime/state/migration.hpp moving a state into another version.
// These names remain for the interpreter's callers.
#pragma once

#include "runtime/state/matcher_state.hpp"

#include <cstdint>

namespace cep::compiler::interp {

inline constexpr const char (&kSnapshotMagic)[8] = runtime::kMatcherStateMagic;
inline constexpr std::uint32_t kSnapshotVersion = runtime::kMatcherStateVersion;
inline constexpr std::uint32_t kSnapshotOldestVersion = runtime::kMatcherStateOldestVersion;

} // namespace cep::compiler::interp
