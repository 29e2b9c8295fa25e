// The `cep state` listing (state_listing.hpp): built from the named state model, written and read
// as JSON, rendered as text.
#include "service/state_listing.hpp"

#include "runtime/aggregate/aggregator.hpp"
#include "runtime/aggregate/snapshot_format.hpp"
#include "runtime/io/json_writer.hpp"
#include "runtime/time/time_format.hpp"
#include "support/time_arith.hpp"

#include <algorithm>
#include <map>
#include <simdjson.h>

namespace cep::service {

namespace {

// One JSON value in its minified form (simdjson's serialisation), so that a listing read back
// from JSON holds the same texts as the one it was written from. nullopt: not one JSON value.
std::optional<std::string> minified(std::string_view json) {
  simdjson::padded_string padded(json);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(padded).get(doc) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  return simdjson::to_string(doc);
}

// The event as JSON: its record when kept, else rebuilt from its fields.
std::string eventJson(const runtime::Schema &schema, const runtime::Event &e) {
  if (e.raw_size > 0) {
    if (auto m = minified(e.rawRecord())) {
      return *m;
    }
  }
  std::string out;
  runtime::JsonWriter w(out);
  w.beginObject();
  if (e.type >= schema.types.size()) {
    w.key("@type");
    w.writeNull();
    w.endObject();
    return out;
  }
  const runtime::EventSchema &type = schema.types[e.type];
  w.key("@type");
  w.writeString(type.name);
  const runtime::Slot *slots = e.slots();
  for (std::uint32_t f = 0; f < type.fields.size() && f < e.field_count; ++f) {
    w.key(type.fields[f].name);
    if (e.isNull(f)) {
      w.writeNull();
      continue;
    }
    const runtime::Slot &s = slots[f];
    switch (type.fields[f].kind) {
    case runtime::FieldKind::Bool:
      w.writeBool(s.b);
      break;
    case runtime::FieldKind::Int:
    case runtime::FieldKind::Duration:
      w.writeInt(s.i);
      break;
    case runtime::FieldKind::Float:
      w.writeFloat(s.f);
      break;
    case runtime::FieldKind::String:
      w.writeString(s.s->view());
      break;
    case runtime::FieldKind::Time:
      w.writeTime(s.i);
      break;
    }
  }
  w.endObject();
  return minified(out).value_or(out);
}

ListedMatch listMatch(const runtime::MatcherState &state, std::int64_t last,
                      std::vector<std::string> &event_json) {
  ListedMatch m;
  std::vector<std::int64_t> chain;
  for (std::int64_t n = last; n >= 0 && static_cast<std::size_t>(n) < state.nodes.size();
       n = state.nodes[static_cast<std::size_t>(n)].prev) {
    chain.push_back(n);
  }
  std::reverse(chain.begin(), chain.end());
  for (std::int64_t n : chain) {
    const runtime::StateNode &node = state.nodes[static_cast<std::size_t>(n)];
    std::string &json = event_json[node.event];
    if (json.empty()) {
      json = eventJson(*state.schema, *state.events[node.event]);
    }
    auto it = std::find_if(m.events.begin(), m.events.end(),
                           [&](const auto &e) { return e.first == node.step; });
    if (it == m.events.end()) {
      m.events.emplace_back(node.step, std::vector<std::string>{});
      it = std::prev(m.events.end());
    }
    it->second.push_back(json);
  }
  if (!chain.empty()) {
    m.step = state.nodes[static_cast<std::size_t>(chain.back())].step;
  }
  return m;
}

void writeTimeOrNull(runtime::JsonWriter &w, const std::optional<std::int64_t> &t) {
  t ? w.writeTime(*t) : w.writeNull();
}

void writeEvents(runtime::JsonWriter &w, const ListedMatch &m) {
  w.key("events");
  w.beginObject();
  for (const auto &[step, events] : m.events) {
    w.key(step);
    w.beginArray();
    for (const std::string &e : events) {
      w.writeRaw(e);
    }
    w.endArray();
  }
  w.endObject();
}

// ---- reading back (simdjson DOM) ----

using simdjson::dom::element;
using simdjson::dom::object;

struct Reader {
  std::string error;

  bool fail(std::string why) {
    if (error.empty()) {
      error = std::move(why);
    }
    return false;
  }
  bool str(const object &o, const char *name, std::string &out) {
    std::string_view v;
    if (o[name].get(v) != simdjson::SUCCESS) {
      return fail(std::string("`") + name + "` is not a string");
    }
    out.assign(v);
    return true;
  }
  bool u64(const object &o, const char *name, std::uint64_t &out) {
    if (o[name].get(out) != simdjson::SUCCESS) {
      return fail(std::string("`") + name + "` is not a count");
    }
    return true;
  }
  bool time(const object &o, const char *name, std::optional<std::int64_t> &out, bool nullable) {
    element e;
    if (o[name].get(e) != simdjson::SUCCESS) {
      return fail(std::string("`") + name + "` is missing");
    }
    if (e.is_null() && nullable) {
      out.reset();
      return true;
    }
    std::string_view text;
    std::int64_t ms = 0;
    if (e.get(text) != simdjson::SUCCESS || !runtime::parseRfc3339(text, ms)) {
      return fail(std::string("`") + name + "` is not an RFC 3339 time");
    }
    out = ms;
    return true;
  }
  bool match(const object &o, ListedMatch &m, bool run) {
    std::optional<std::int64_t> start;
    if (!time(o, "start", start, false)) {
      return false;
    }
    m.start = *start;
    if (run) {
      std::uint64_t counter = 0;
      element step;
      if (!str(o, "state", m.state) || !u64(o, "counter", counter) ||
          !time(o, "deadline", m.deadline, true) || o["step"].get(step) != simdjson::SUCCESS) {
        return fail("a run lacks `state`, `step`, `counter` or `deadline`");
      }
      m.counter = static_cast<std::uint32_t>(counter);
      std::string_view s;
      if (step.get(s) == simdjson::SUCCESS) {
        m.step = std::string(s);
      }
    }
    object events;
    if (o["events"].get(events) != simdjson::SUCCESS) {
      return fail("`events` is not an object");
    }
    for (auto [step, list] : events) {
      simdjson::dom::array arr;
      if (list.get(arr) != simdjson::SUCCESS) {
        return fail("the events of a step are not an array");
      }
      auto &slot = m.events.emplace_back(std::string(step), std::vector<std::string>{});
      for (element e : arr) {
        slot.second.push_back(simdjson::to_string(e));
      }
    }
    return true;
  }
};

std::string plural(std::uint64_t n, const char *one, const char *many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string timeText(std::int64_t ms) {
  return runtime::formatRfc3339(ms);
}

void formatMatch(std::string &out, const ListedMatch &m, bool run, std::size_t index) {
  out += "    ";
  if (run) {
    out += "run " + std::to_string(index) + ": state " + m.state;
    if (m.step) {
      out += " (last step " + *m.step + ", counter " + std::to_string(m.counter) + ")";
    }
    out += ", started " + timeText(m.start);
    out += ", deadline " + (m.deadline ? timeText(*m.deadline) : std::string("none"));
  } else {
    out += "held match " + std::to_string(index) + ": started " + timeText(m.start);
  }
  out += '\n';
  for (const auto &[step, events] : m.events) {
    for (const std::string &e : events) {
      out += "      " + step + ": " + e + '\n';
    }
  }
}

} // namespace

std::vector<std::string> keyCandidates(std::string_view user_text) {
  std::vector<std::string> out;
  if (auto m = minified(user_text)) {
    out.push_back(*m);
  }
  std::string as_string;
  runtime::appendJsonString(as_string, user_text);
  if (auto m = minified(as_string)) {
    as_string = *m;
  }
  if (std::find(out.begin(), out.end(), as_string) == out.end()) {
    out.push_back(as_string);
  }
  return out;
}

void listVersion(StateListing &listing, const runtime::MatcherState &state,
                 const runtime::native::PatternImage *image, std::string_view version,
                 bool draining, const StateFilter &filter) {
  ListedVersion &v = listing.patterns.emplace_back();
  v.pattern = state.pattern;
  v.version = std::string(version);
  v.draining = draining;
  if (state.time != INT64_MIN) {
    v.time = state.time;
  }
  std::map<std::string_view, std::int64_t> state_within;
  if (image != nullptr) {
    for (const auto &s : image->states) {
      state_within.emplace(s.name, s.within_ms);
    }
  }
  std::vector<std::string> event_json(state.events.size());
  for (const runtime::StateKey &key : state.keys) {
    v.keys_total += 1;
    v.runs_total += key.runs.size();
    listing.runs_total += key.runs.size();
    if (filter.keys) {
      // The engines write "@key" minified, as keyCandidates does: compared as they are (a
      // parse per key would cost more than the export on a server with many keys).
      if (std::find(filter.keys->begin(), filter.keys->end(), key.key_json) == filter.keys->end()) {
        continue;
      }
    } else if (listing.truncated ||
               (filter.max_runs != 0 &&
                listing.runs_listed + listing.held_listed + key.runs.size() + key.held.size() >
                    filter.max_runs)) {
      listing.truncated = true;
      continue;
    }
    ListedKey &k = v.keys.emplace_back();
    k.key_json = minified(key.key_json).value_or(key.key_json);
    for (const runtime::StateRun &r : key.runs) {
      ListedMatch m = listMatch(state, r.last, event_json);
      m.state = r.state;
      m.counter = r.counter;
      m.start = r.start_time;
      if (image != nullptr && image->within_ms != runtime::native::kNoBound) {
        m.deadline = cep::time::deadlineAfter(r.start_time, image->within_ms);
      }
      auto w = state_within.find(r.state);
      if (w != state_within.end() && w->second != runtime::native::kNoBound) {
        std::int64_t d = cep::time::deadlineAfter(r.prev_time, w->second);
        m.deadline = m.deadline ? std::min(*m.deadline, d) : d;
      }
      k.runs.push_back(std::move(m));
    }
    for (const runtime::StateHeld &h : key.held) {
      ListedMatch m = listMatch(state, h.last, event_json);
      m.start = h.start_time;
      k.held.push_back(std::move(m));
    }
    listing.keys_listed += 1;
    listing.runs_listed += k.runs.size();
    listing.held_listed += k.held.size();
  }
  if (listing.truncated && listing.note.empty()) {
    listing.note = "the listing stops at " + std::to_string(filter.max_runs) +
                   " partial matches; give a key (--key) to see one key's";
  }
}

namespace {

std::string accumulatorLabel(const runtime::aggregate::AccumulatorSpec &a) {
  using runtime::aggregate::AggFn;
  if (a.fn == AggFn::Count) {
    return "count(p)";
  }
  std::string fn = a.fn == AggFn::CountField ? "count" : runtime::aggregate::aggFnName(a.fn);
  return fn + "(" + a.field_name + ")";
}

std::string valueJson(const runtime::aggregate::AggValue &v) {
  std::string out;
  runtime::JsonWriter w(out);
  if (v.null) {
    w.writeNull();
    return out;
  }
  switch (v.kind) {
  case runtime::FieldKind::Bool:
    w.writeBool(v.i != 0);
    break;
  case runtime::FieldKind::Float:
    w.writeFloat(v.f);
    break;
  case runtime::FieldKind::String:
    w.writeString(v.s);
    break;
  case runtime::FieldKind::Time:
    w.writeTime(v.i);
    break;
  default:
    w.writeInt(v.i);
  }
  return out;
}

} // namespace

void listAggregate(StateListing &listing, std::string_view header,
                   const std::vector<std::string_view> &records, std::string_view version,
                   bool draining, const StateFilter &filter) {
  runtime::aggregate::AggregateSpec spec = runtime::aggregate::specOfSnapshotHeader(header);
  runtime::aggregate::WindowAggregator agg(spec);
  agg.restoreParts(header, records);
  std::vector<runtime::aggregate::WindowResult> open;
  agg.openWindows(open);
  const std::vector<std::pair<std::string, std::int64_t>> marks = agg.firedMarks(); // key order
  ListedVersion &v = listing.patterns.emplace_back();
  v.pattern = spec.name;
  v.version = std::string(version);
  v.draining = draining;
  v.window = runtime::aggregate::windowKindName(spec.window);
  if (agg.watermark() != INT64_MIN) {
    v.time = agg.watermark();
  }
  std::vector<std::string> labels;
  for (const auto &a : spec.accumulators) {
    labels.push_back(accumulatorLabel(a));
  }
  v.keys_total = records.size();
  v.windows_total = open.size();
  for (std::size_t i = 0; i < open.size();) {
    std::size_t j = i;
    while (j < open.size() && open[j].key == open[i].key) {
      ++j;
    }
    std::string key_json = minified(open[i].key).value_or(open[i].key);
    std::uint64_t n = j - i;
    bool wanted = true;
    if (filter.keys) {
      wanted = std::find(filter.keys->begin(), filter.keys->end(), key_json) != filter.keys->end();
    } else if (listing.truncated ||
               (filter.max_runs != 0 &&
                listing.runs_listed + listing.held_listed + listing.windows_listed + n >
                    filter.max_runs)) {
      listing.truncated = true;
      wanted = false;
    }
    if (wanted) {
      ListedKey &k = v.keys.emplace_back();
      k.key_json = std::move(key_json);
      auto mark = std::lower_bound(marks.begin(), marks.end(),
                                   std::pair<std::string, std::int64_t>(open[i].key, INT64_MIN));
      if (mark != marks.end() && mark->first == open[i].key) {
        k.fired_up_to = mark->second;
      }
      for (std::size_t at = i; at < j; ++at) {
        const runtime::aggregate::WindowResult &r = open[at];
        ListedWindow &lw = k.windows.emplace_back();
        lw.start = r.start;
        lw.end = r.end;
        lw.revision = r.revision;
        lw.events = r.event_count;
        for (std::size_t a = 0; a < r.values.size() && a < labels.size(); ++a) {
          lw.values.emplace_back(labels[a], valueJson(r.values[a]));
        }
      }
      listing.keys_listed += 1;
      listing.windows_listed += n;
    }
    i = j;
  }
  if (listing.truncated && listing.note.empty()) {
    listing.note = "the listing stops at " + std::to_string(filter.max_runs) +
                   " partial matches and windows; give a key (--key) to see one key's";
  }
}

namespace {

// An aggregate's members after "state": its window kind, time, totals and open windows per key.
void writeWindowsJson(runtime::JsonWriter &w, const ListedVersion &v) {
  w.key("aggregate");
  w.writeString(v.window);
  w.key("time");
  writeTimeOrNull(w, v.time);
  w.key("keys_total");
  w.writeInt(static_cast<std::int64_t>(v.keys_total));
  w.key("windows_total");
  w.writeInt(static_cast<std::int64_t>(v.windows_total));
  w.key("keys");
  w.beginArray();
  for (const ListedKey &k : v.keys) {
    w.beginObject();
    w.key("key");
    w.writeRaw(k.key_json);
    if (k.fired_up_to) {
      w.key("fired_up_to");
      w.writeTime(*k.fired_up_to);
    }
    w.key("windows");
    w.beginArray();
    for (const ListedWindow &lw : k.windows) {
      w.beginObject();
      w.key("start");
      w.writeTime(lw.start);
      w.key("end");
      w.writeTime(lw.end);
      w.key("revision");
      w.writeInt(lw.revision);
      w.key("event_count");
      w.writeInt(static_cast<std::int64_t>(lw.events));
      w.key("values");
      w.beginObject();
      for (const auto &[name, value] : lw.values) {
        w.key(name);
        w.writeRaw(value);
      }
      w.endObject();
      w.endObject();
    }
    w.endArray();
    w.endObject();
  }
  w.endArray();
}

} // namespace

std::string stateListingJson(const StateListing &listing) {
  std::string out;
  runtime::JsonWriter w(out);
  w.beginObject();
  w.key("source");
  w.writeString(listing.from_server ? "server" : "checkpoint");
  w.key("checkpoint");
  listing.checkpoint ? w.writeInt(static_cast<std::int64_t>(*listing.checkpoint)) : w.writeNull();
  w.key("taken_at");
  writeTimeOrNull(w, listing.taken_at);
  if (!listing.fallback.empty()) {
    w.key("fallback");
    w.writeString(listing.fallback);
  }
  w.key("patterns");
  w.beginArray();
  for (const ListedVersion &v : listing.patterns) {
    w.beginObject();
    w.key("pattern");
    w.writeString(v.pattern);
    w.key("version");
    w.writeString(v.version);
    w.key("state");
    w.writeString(v.draining ? "draining" : "active");
    if (!v.window.empty()) {
      writeWindowsJson(w, v);
      w.endObject();
      continue;
    }
    w.key("time");
    writeTimeOrNull(w, v.time);
    w.key("keys_total");
    w.writeInt(static_cast<std::int64_t>(v.keys_total));
    w.key("runs_total");
    w.writeInt(static_cast<std::int64_t>(v.runs_total));
    w.key("keys");
    w.beginArray();
    for (const ListedKey &k : v.keys) {
      w.beginObject();
      w.key("key");
      w.writeRaw(k.key_json);
      w.key("runs");
      w.beginArray();
      for (const ListedMatch &m : k.runs) {
        w.beginObject();
        w.key("state");
        w.writeString(m.state);
        w.key("step");
        m.step ? w.writeString(*m.step) : w.writeNull();
        w.key("counter");
        w.writeInt(m.counter);
        w.key("start");
        w.writeTime(m.start);
        w.key("deadline");
        writeTimeOrNull(w, m.deadline);
        writeEvents(w, m);
        w.endObject();
      }
      w.endArray();
      w.key("held");
      w.beginArray();
      for (const ListedMatch &m : k.held) {
        w.beginObject();
        w.key("start");
        w.writeTime(m.start);
        writeEvents(w, m);
        w.endObject();
      }
      w.endArray();
      w.endObject();
    }
    w.endArray();
    w.endObject();
  }
  w.endArray();
  w.key("keys_listed");
  w.writeInt(static_cast<std::int64_t>(listing.keys_listed));
  w.key("runs_listed");
  w.writeInt(static_cast<std::int64_t>(listing.runs_listed));
  w.key("held_listed");
  w.writeInt(static_cast<std::int64_t>(listing.held_listed));
  if (listing.windows_listed > 0 ||
      std::any_of(listing.patterns.begin(), listing.patterns.end(),
                  [](const ListedVersion &v) { return !v.window.empty(); })) {
    w.key("windows_listed");
    w.writeInt(static_cast<std::int64_t>(listing.windows_listed));
  }
  w.key("runs_total");
  w.writeInt(static_cast<std::int64_t>(listing.runs_total));
  w.key("truncated");
  w.writeBool(listing.truncated);
  if (!listing.note.empty()) {
    w.key("note");
    w.writeString(listing.note);
  }
  w.endObject();
  w.endLine();
  return out;
}

bool parseStateListing(std::string_view json, StateListing &out, std::string &error) {
  simdjson::padded_string padded(json);
  simdjson::dom::parser parser;
  object doc;
  Reader r;
  auto bad = [&](const std::string &why) {
    error = "not a state listing: " + why;
    return false;
  };
  if (parser.parse(padded).get(doc) != simdjson::SUCCESS) {
    return bad("not a JSON object");
  }
  StateListing l;
  std::string source;
  if (!r.str(doc, "source", source)) {
    return bad(r.error);
  }
  l.from_server = source == "server";
  element cp;
  if (doc["checkpoint"].get(cp) == simdjson::SUCCESS && !cp.is_null()) {
    std::uint64_t id = 0;
    if (cp.get(id) != simdjson::SUCCESS) {
      return bad("`checkpoint` is not a number");
    }
    l.checkpoint = id;
  }
  if (!r.time(doc, "taken_at", l.taken_at, true)) {
    return bad(r.error);
  }
  std::string_view fallback;
  if (doc["fallback"].get(fallback) == simdjson::SUCCESS) {
    l.fallback = std::string(fallback);
  }
  simdjson::dom::array patterns;
  if (doc["patterns"].get(patterns) != simdjson::SUCCESS) {
    return bad("`patterns` is not an array");
  }
  for (element pe : patterns) {
    object p;
    if (pe.get(p) != simdjson::SUCCESS) {
      return bad("a pattern is not an object");
    }
    ListedVersion &v = l.patterns.emplace_back();
    std::string state;
    std::string_view window;
    if (p["aggregate"].get(window) == simdjson::SUCCESS) {
      v.window = std::string(window);
      simdjson::dom::array keys;
      if (!r.str(p, "pattern", v.pattern) || !r.str(p, "version", v.version) ||
          !r.str(p, "state", state) || !r.time(p, "time", v.time, true) ||
          !r.u64(p, "keys_total", v.keys_total) || !r.u64(p, "windows_total", v.windows_total)) {
        return bad(r.error);
      }
      v.draining = state == "draining";
      if (p["keys"].get(keys) != simdjson::SUCCESS) {
        return bad("`keys` is not an array");
      }
      for (element ke : keys) {
        object k;
        element key;
        simdjson::dom::array windows;
        if (ke.get(k) != simdjson::SUCCESS || k["key"].get(key) != simdjson::SUCCESS ||
            k["windows"].get(windows) != simdjson::SUCCESS) {
          return bad("an aggregate's key lacks `key` or `windows`");
        }
        ListedKey &lk = v.keys.emplace_back();
        lk.key_json = simdjson::to_string(key);
        if (k["fired_up_to"].error() == simdjson::SUCCESS &&
            !r.time(k, "fired_up_to", lk.fired_up_to, false)) {
          return bad(r.error);
        }
        for (element we : windows) {
          object wo;
          object values;
          ListedWindow lw;
          std::optional<std::int64_t> start, end;
          std::uint64_t revision = 0;
          if (we.get(wo) != simdjson::SUCCESS || !r.time(wo, "start", start, false) ||
              !r.time(wo, "end", end, false) || !r.u64(wo, "revision", revision) ||
              !r.u64(wo, "event_count", lw.events) ||
              wo["values"].get(values) != simdjson::SUCCESS) {
            return bad(r.error.empty() ? "a window lacks `values`" : r.error);
          }
          lw.start = *start;
          lw.end = *end;
          lw.revision = static_cast<std::uint32_t>(revision);
          for (auto field : values) {
            lw.values.emplace_back(std::string(field.key), simdjson::to_string(field.value));
          }
          lk.windows.push_back(std::move(lw));
        }
      }
      continue;
    }
    if (!r.str(p, "pattern", v.pattern) || !r.str(p, "version", v.version) ||
        !r.str(p, "state", state) || !r.time(p, "time", v.time, true) ||
        !r.u64(p, "keys_total", v.keys_total) || !r.u64(p, "runs_total", v.runs_total)) {
      return bad(r.error);
    }
    v.draining = state == "draining";
    simdjson::dom::array keys;
    if (p["keys"].get(keys) != simdjson::SUCCESS) {
      return bad("`keys` is not an array");
    }
    for (element ke : keys) {
      object k;
      element key;
      simdjson::dom::array runs, held;
      if (ke.get(k) != simdjson::SUCCESS || k["key"].get(key) != simdjson::SUCCESS ||
          k["runs"].get(runs) != simdjson::SUCCESS || k["held"].get(held) != simdjson::SUCCESS) {
        return bad("a key lacks `key`, `runs` or `held`");
      }
      ListedKey &lk = v.keys.emplace_back();
      lk.key_json = simdjson::to_string(key);
      for (auto [list, is_run] : {std::pair{runs, true}, std::pair{held, false}}) {
        for (element me : list) {
          object mo;
          ListedMatch m;
          if (me.get(mo) != simdjson::SUCCESS || !r.match(mo, m, is_run)) {
            return bad(r.error.empty() ? "a run is not an object" : r.error);
          }
          (is_run ? lk.runs : lk.held).push_back(std::move(m));
        }
      }
    }
  }
  if (!r.u64(doc, "keys_listed", l.keys_listed) || !r.u64(doc, "runs_listed", l.runs_listed) ||
      !r.u64(doc, "held_listed", l.held_listed) || !r.u64(doc, "runs_total", l.runs_total) ||
      (doc["windows_listed"].error() == simdjson::SUCCESS &&
       !r.u64(doc, "windows_listed", l.windows_listed)) ||
      doc["truncated"].get(l.truncated) != simdjson::SUCCESS) {
    return bad(r.error.empty() ? "`truncated` is not a boolean" : r.error);
  }
  std::string_view note;
  if (doc["note"].get(note) == simdjson::SUCCESS) {
    l.note = std::string(note);
  }
  out = std::move(l);
  return true;
}

std::string formatStateListing(const StateListing &listing) {
  std::string out;
  if (listing.from_server) {
    out += "live state of the server\n";
  } else {
    out += "checkpoint " + (listing.checkpoint ? std::to_string(*listing.checkpoint) : "?");
    if (listing.taken_at) {
      out += " (taken " + timeText(*listing.taken_at) + ")";
    }
    out += '\n';
  }
  if (!listing.fallback.empty()) {
    out += "note: " + listing.fallback + '\n'; // "checkpoint N is damaged (...): using ..."
  }
  if (listing.patterns.empty()) {
    out += "no pattern is served\n";
  }
  for (const ListedVersion &v : listing.patterns) {
    if (!v.window.empty()) {
      out += "aggregate " + v.pattern + " " + v.version + (v.draining ? " (draining)" : "") + " (" +
             v.window + "): " + plural(v.keys_total, "key", "keys") + ", " +
             plural(v.windows_total, "open window", "open windows");
      if (v.time) {
        out += ", watermark " + timeText(*v.time);
      }
      out += '\n';
      for (const ListedKey &k : v.keys) {
        out += "  key " + k.key_json +
               (k.fired_up_to ? " (fired up to " + timeText(*k.fired_up_to) + " where written)"
                              : std::string()) +
               '\n';
        for (const ListedWindow &lw : k.windows) {
          out += "    window [" + timeText(lw.start) + ", " + timeText(lw.end) +
                 "): " + plural(lw.events, "event", "events");
          if (lw.revision > 0) {
            out += ", " + plural(lw.revision, "record", "records") + " written";
          }
          for (const auto &[name, value] : lw.values) {
            out += ", " + name + " " + value;
          }
          out += '\n';
        }
      }
      continue;
    }
    out += "pattern " + v.pattern + " " + v.version + (v.draining ? " (draining)" : "") + ": " +
           plural(v.keys_total, "key", "keys") + ", " +
           plural(v.runs_total, "partial match", "partial matches");
    if (v.time) {
      out += ", time " + timeText(*v.time);
    }
    out += '\n';
    for (const ListedKey &k : v.keys) {
      out += "  key " + k.key_json + '\n';
      for (std::size_t i = 0; i < k.runs.size(); ++i) {
        formatMatch(out, k.runs[i], true, i + 1);
      }
      for (std::size_t i = 0; i < k.held.size(); ++i) {
        formatMatch(out, k.held[i], false, i + 1);
      }
    }
  }
  if (listing.truncated) {
    out += "note: " + listing.note + '\n';
  }
  out += plural(listing.keys_listed, "key", "keys") + " listed, " +
         std::to_string(listing.runs_listed) + " of " +
         plural(listing.runs_total, "partial match", "partial matches") + ", " +
         plural(listing.held_listed, "held match", "held matches");
  if (listing.windows_listed > 0 ||
      std::any_of(listing.patterns.begin(), listing.patterns.end(),
                  [](const ListedVersion &v) { return !v.window.empty(); })) {
    out += ", " + plural(listing.windows_listed, "open window", "open windows");
  }
  out += '\n';
  return out;
}

} // namespace cep::service
