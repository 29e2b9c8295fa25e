// The event schema of a running server and what a deployed artifact may bring to it.
//
// A server decodes every input record once, with one Schema, and the compiled code of every
// loaded pattern refers to event types by their index in that schema (the constants are baked
// into the native code). So an artifact fits a server when the event types they both declare
// agree exactly and at the same position:
//
//   server: [Tx, Login]          artifact: [Tx, Login, Payout]   -> fits; the server gains Payout
//   server: [Tx, Login, Payout]  artifact: [Tx]                  -> fits; nothing changes
//   server: [Tx]                 artifact: [Login, Tx]           -> refused: position 0 differs
//   server: [Tx(amount: float)]  artifact: [Tx(amount: int)]     -> refused: `amount` changed
//
// Rule files that are deployed into one server therefore import their event declarations from
// one shared module (docs/serve.md, "Event types"). Changing a loaded type (a field added, a
// kind changed) would need the events already decoded and buffered to be decoded again; that is
// refused with the reason.
#pragma once

#include "runtime/schema.hpp"

#include <string>
#include <vector>

namespace cep::service {

// Checks `artifact` against `server`. On success returns true and sets `merged` to the schema
// the server runs with from then on (`server` extended by the artifact's new types, or `server`
// itself). On failure returns false with every reason in `reasons`, one line each, and leaves
// `merged` alone.
bool mergeSchema(const runtime::Schema &server, const runtime::Schema &artifact,
                 runtime::Schema &merged, std::vector<std::string> &reasons);

// One line describing an event type: `Tx(card: string, amount: float?, ts: time @time)`.
std::string describeType(const runtime::EventSchema &type);

} // namespace cep::service
