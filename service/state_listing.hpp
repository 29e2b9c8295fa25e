// What `cep state` shows (docs/state.md "Looking inside"): the live partial matches of served
// pattern versions, per key, with the state and step each run reached, the events it bound, its
// start and its deadline, and the held matches. One model (StateListing) made from the named
// state model (runtime/state/matcher_state.hpp) by listVersion, whether the state comes from a
// checkpoint folder (cli/cmd_state.cpp) or from a running server's matchers (`GET /state`,
// service/serve_runtime.cpp); one JSON shape (stateListingJson, read back by parseStateListing)
// and one text rendering (formatStateListing), so both sources print the same.
//
// JSON (one object; members in this order; times RFC 3339 UTC with milliseconds):
//   {"source":"checkpoint"|"server", "checkpoint":N|null, "taken_at":TIME|null,
//    ["fallback":"<why the latest checkpoint was skipped>",]
//    "patterns":[{"pattern":NAME, "version":HASH12, "state":"active"|"draining",
//                 "time":TIME|null (the matcher's event time), "keys_total":K, "runs_total":R,
//                 "keys":[{"key":<"@key" as in match records>,
//                          "runs":[{"state":NFA state, "step":last bound step|null,
//                                   "counter":N, "start":TIME, "deadline":TIME|null,
//                                   "events":{step:[event,...],...}}],
//                          "held":[{"start":TIME, "events":{...}}]}]}],
//    "keys_listed":K, "runs_listed":R, "held_listed":H, "runs_total":R,
//    "truncated":false|true[, "note":"<why and how to see the rest>"]}
//   `events` lists the bound steps in the order they were first bound; each event is the record
//   as read when the server kept it (--with-events, --max-state-bytes, --evicted-output), else
//   rebuilt from its fields: {"@type":T, field:value, ...} (times as RFC 3339).
//   An aggregate's version (spec §8) lists its open windows instead of runs: it has
//   "aggregate":WINDOW KIND after "state", "time" is its watermark, "windows_total" instead of
//   "runs_total", and each key {"key":..., "windows":[{"start":TIME, "end":TIME,
//   "revision":N, "event_count":N, "values":{"count(p)":V, "sum(amount)":V, ...}}]} (accumulators
//   named by function and field; time windows: the window's bounds; sessions: first event and
//   last event + gap; rolling and none: earliest and latest event). A key restored from a
//   partition taken over ahead, its mark live, has "fired_up_to":TIME after "key" (its windows
//   that fired up to there are not listed). The top level then also has "windows_listed":W
//   after "held_listed".
//   `deadline`: the earliest of the pattern's `within` after the start and the waiting state's
//   own bound after the last bound event; null when neither bounds it.
#pragma once

#include "runtime/native/image.hpp"
#include "runtime/state/matcher_state.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cep::service {

struct ListedMatch {
  std::string state;               // runs: the NFA state it waits in
  std::optional<std::string> step; // runs: the step of the last bound event
  std::uint32_t counter = 0;       // runs: the loop counter
  std::int64_t start = 0;          // epoch ms
  std::optional<std::int64_t> deadline;
  // Step name -> the events bound to it (JSON text, minified), steps in first-bound order.
  std::vector<std::pair<std::string, std::vector<std::string>>> events;
};

// An aggregate's open window as a record written now would carry it.
struct ListedWindow {
  std::int64_t start = 0, end = 0; // epoch ms
  std::uint32_t revision = 0;      // records the window had (0: none yet)
  std::uint64_t events = 0;
  std::vector<std::pair<std::string, std::string>> values; // accumulator -> JSON value
};

struct ListedKey {
  std::string key_json; // as "@key" is written
  std::vector<ListedMatch> runs;
  std::vector<ListedMatch> held;
  std::vector<ListedWindow> windows; // aggregates
  // An aggregate's key restored from a partition taken over ahead, its mark live: the watermark
  // its windows fired up to where they were written (runtime/aggregate/aggregator.hpp
  // firedMarks; those windows are not listed).
  std::optional<std::int64_t> fired_up_to;
};

struct ListedVersion {
  std::string pattern, version;
  bool draining = false;
  std::optional<std::int64_t> time;
  std::uint64_t keys_total = 0, runs_total = 0;
  std::string window; // an aggregate's window kind ("": a pattern)
  std::uint64_t windows_total = 0;
  std::vector<ListedKey> keys;
};

struct StateListing {
  bool from_server = false;
  std::optional<std::uint64_t> checkpoint;
  std::optional<std::int64_t> taken_at;
  std::string fallback;
  std::vector<ListedVersion> patterns;
  std::uint64_t keys_listed = 0, runs_listed = 0, held_listed = 0, runs_total = 0;
  std::uint64_t windows_listed = 0;
  bool truncated = false;
  std::string note;
};

// What to list: a pattern name (empty: every one), the key (nullopt: every key), and the most
// runs to list without a key (0: no bound); beyond it the listing stops at a key boundary with
// `truncated` and a note.
struct StateFilter {
  std::string pattern;
  std::optional<std::vector<std::string>> keys; // the key's JSON texts to accept (keyCandidates)
  std::uint64_t max_runs = 10000;
};

inline constexpr std::uint64_t kDefaultMaxListedRuns = 10000;

// The "@key" JSON texts a key given on the command line can stand for: the text itself when it
// is JSON (a number, `true`, a quoted string, an array for a composite key; minified), and the
// text as a JSON string (`card-42` -> "card-42"). So `--key card-42`, `--key '"card-42"'`,
// `--key 42` (an int key, or the string "42") and `--key '["card-42",3]'` all work.
std::vector<std::string> keyCandidates(std::string_view user_text);

// Adds one pattern version's state to `listing` (its keys that pass `filter`, within the bound).
// `image` (may be null) gives the deadlines. Counts are updated.
void listVersion(StateListing &listing, const runtime::MatcherState &state,
                 const runtime::native::PatternImage *image, std::string_view version,
                 bool draining, const StateFilter &filter);

// Adds one aggregate version's open windows from its key records (the CEPASNAP header and one
// record per key, runtime/native/native_aggregate.hpp): read with the spec the header names
// (no artifact needed). Windows count toward filter.max_runs. Throws std::runtime_error on
// damaged records.
void listAggregate(StateListing &listing, std::string_view header,
                   const std::vector<std::string_view> &records, std::string_view version,
                   bool draining, const StateFilter &filter);

std::string stateListingJson(const StateListing &listing); // with a final '\n'
// Reads stateListingJson's output; false with a reason when it is not that shape.
bool parseStateListing(std::string_view json, StateListing &out, std::string &error);
// The readable form: a header line, per pattern version a line, per key its runs and held
// matches with their events indented, and a count line at the end.
std::string formatStateListing(const StateListing &listing);

} // namespace cep::service
