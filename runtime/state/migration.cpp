// The compatibility check of a state move and the conversion of its events (migration.hpp).
#include "runtime/state/migration.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <map>
#include <set>

namespace cep::runtime {

namespace {

std::string plural(std::uint64_t n, const char *one, const char *many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string describeFields(const std::vector<std::pair<std::string, FieldKind>> &fields) {
  std::string s = "(";
  for (std::size_t i = 0; i < fields.size(); ++i) {
    s += (i ? ", " : "") + fields[i].first + ": " + fieldKindName(fields[i].second);
  }
  return s + ")";
}

// Bytes a string field takes in an event block (as runtime/io/jsonl_decoder.cpp lays it out).
std::size_t stringBytes(std::size_t length) {
  std::size_t bytes = offsetof(StringRef, data) + length;
  bytes = (bytes + alignof(StringRef) - 1) & ~(alignof(StringRef) - 1);
  return std::max(bytes, sizeof(StringRef));
}

bool sameType(const EventSchema &a, const EventSchema &b) {
  if (a.name != b.name || a.fields.size() != b.fields.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.fields.size(); ++i) {
    if (a.fields[i].name != b.fields[i].name || a.fields[i].kind != b.fields[i].kind) {
      return false;
    }
  }
  return true;
}

} // namespace

std::vector<std::string> migrationReasons(const MatcherState &from, const PatternShape &to) {
  std::vector<std::string> reasons;
  const std::string p = "pattern `" + to.pattern + "`: ";
  if (from.pattern != to.pattern) {
    reasons.push_back(p + "the state is of pattern `" + from.pattern + "`");
    return reasons;
  }
  const Schema &old_schema = *from.schema;
  const Schema &new_schema = *to.schema;

  // Runs by state name, in the order they are first met.
  std::vector<std::string> state_order;
  std::map<std::string, std::uint64_t> runs_in;
  for (const StateKey &k : from.keys) {
    for (const StateRun &r : k.runs) {
      if (runs_in[r.state]++ == 0) {
        state_order.push_back(r.state);
      }
    }
  }
  for (const std::string &s : state_order) {
    if (std::find(to.states.begin(), to.states.end(), s) == to.states.end()) {
      reasons.push_back(p + plural(runs_in[s], "partial match waits", "partial matches wait") +
                        " in state `" + s + "`, which the new version does not have");
    }
  }

  // Steps and the types of the events bound to them, in the order first met.
  std::vector<std::string> step_order;
  std::map<std::string, std::uint64_t> bound_to;
  std::vector<std::pair<std::string, std::uint32_t>> step_type_order;
  std::set<std::pair<std::string, std::uint32_t>> step_types_seen;
  std::vector<std::uint32_t> type_order;
  std::map<std::uint32_t, std::uint64_t> of_type;
  for (const StateNode &n : from.nodes) {
    std::uint32_t type = from.events.at(n.event)->type;
    if (bound_to[n.step]++ == 0) {
      step_order.push_back(n.step);
    }
    if (step_types_seen.emplace(n.step, type).second) {
      step_type_order.emplace_back(n.step, type);
    }
    if (of_type[type]++ == 0) {
      type_order.push_back(type);
    }
  }
  for (const std::string &s : step_order) {
    if (std::find(to.steps.begin(), to.steps.end(), s) == to.steps.end()) {
      reasons.push_back(
          p + "step `" + s + "` binds " +
          plural(bound_to[s], "event of a partial match", "events of partial matches") +
          ", and the new version has no step `" + s + "`");
    }
  }
  for (const auto &[step, type] : step_type_order) {
    auto it = std::find(to.steps.begin(), to.steps.end(), step);
    if (it == to.steps.end()) {
      continue;
    }
    std::int32_t new_type = to.step_types.at(static_cast<std::size_t>(it - to.steps.begin()));
    const std::string &old_name = old_schema.types.at(type).name;
    if (new_type < 0) {
      reasons.push_back(p + "the new version does not record the event type its step `" + step +
                        "` takes (an artifact of an older format: compile it again)");
      continue;
    }
    const std::string &new_name = new_schema.types.at(static_cast<std::size_t>(new_type)).name;
    if (old_name != new_name) {
      reasons.push_back(p + "step `" + step + "` binds `" + old_name +
                        "` events, and the new version's step `" + step + "` takes `" + new_name +
                        "` events");
    }
  }

  // The bound events' types and fields.
  for (std::uint32_t type : type_order) {
    const EventSchema &old_type = old_schema.types.at(type);
    std::int32_t found = new_schema.typeIndex(old_type.name);
    if (found < 0) {
      reasons.push_back(p + plural(of_type[type], "bound event is", "bound events are") +
                        " of type `" + old_type.name + "`, which the new version does not have");
      continue;
    }
    const EventSchema &new_type = new_schema.types[static_cast<std::size_t>(found)];
    for (const FieldSchema &f : old_type.fields) {
      std::int32_t nf = new_type.fieldIndex(f.name);
      if (nf >= 0 && new_type.fields[static_cast<std::size_t>(nf)].kind != f.kind) {
        reasons.push_back(p + "field `" + old_type.name + "." + f.name +
                          "` of the bound events is " + fieldKindName(f.kind) +
                          ", and the new version's is " +
                          fieldKindName(new_type.fields[static_cast<std::size_t>(nf)].kind));
      }
    }
    for (const FieldSchema &f : new_type.fields) {
      if (old_type.fieldIndex(f.name) < 0 && !f.nullable) {
        reasons.push_back(p + "the new version's event type `" + new_type.name +
                          "` adds the field `" + f.name +
                          "`, which is not nullable, and the bound events have no value for it");
      }
    }
  }

  // The key.
  if (from.key.known && to.key.known) {
    if (from.key.keyed != to.key.keyed) {
      reasons.push_back(p + (from.key.keyed ? "the key changed: it was partitioned, and the new "
                                              "version is not"
                                            : "the key changed: it was not partitioned, and the "
                                              "new version is"));
    } else {
      for (const auto &old_key : from.key.types) {
        for (const auto &new_key : to.key.types) {
          if (old_key.type == new_key.type && !(old_key == new_key)) {
            reasons.push_back(p + "the key changed: `" + old_key.type + "` events were keyed by " +
                              describeFields(old_key.fields) +
                              ", and the new version keys them by " +
                              describeFields(new_key.fields));
          }
        }
      }
    }
  }
  return reasons;
}

std::vector<EventRef> convertEvents(const MatcherState &from, const Schema &to) {
  const Schema &old_schema = *from.schema;
  // Per old type index: its new index, whether it is the same layout, and the new field of each
  // old field (-1: dropped).
  struct Map {
    bool done = false;
    std::uint32_t type = 0;
    bool same = false;
    std::vector<std::int32_t> field;
  };
  std::vector<Map> maps(old_schema.types.size());
  std::vector<EventRef> out;
  out.reserve(from.events.size());
  for (const EventRef &ref : from.events) {
    const Event &e = *ref;
    Map &m = maps.at(e.type);
    const EventSchema &old_type = old_schema.types[e.type];
    if (!m.done) {
      m.done = true;
      std::int32_t t = to.typeIndex(old_type.name);
      m.type = static_cast<std::uint32_t>(t);
      const EventSchema &new_type = to.types.at(static_cast<std::size_t>(t));
      m.same = m.type == e.type && sameType(old_type, new_type);
      for (const FieldSchema &f : old_type.fields) {
        m.field.push_back(new_type.fieldIndex(f.name));
      }
    }
    if (m.same) {
      out.push_back(ref);
      continue;
    }
    const EventSchema &new_type = to.types[m.type];
    std::size_t extra = e.raw_size;
    for (std::uint32_t i = 0; i < e.field_count; ++i) {
      if (m.field[i] >= 0 && !e.isNull(i) && old_type.fields[i].kind == FieldKind::String) {
        extra += stringBytes(e.slots()[i].s->size);
      }
    }
    EventRef copy(allocateEvent(m.type, static_cast<std::uint32_t>(new_type.fields.size()), extra));
    Event *c = copy.get();
    char *cursor = extraBegin(c);
    for (std::uint32_t i = 0; i < e.field_count; ++i) {
      std::int32_t nf = m.field[i];
      if (nf < 0 || e.isNull(i)) {
        continue;
      }
      if (old_type.fields[i].kind == FieldKind::String) {
        const StringRef *src = e.slots()[i].s;
        auto *s = reinterpret_cast<StringRef *>(cursor);
        s->size = src->size;
        std::memcpy(cursor + offsetof(StringRef, data), src->data, src->size);
        c->slots()[nf].s = s;
        cursor += stringBytes(src->size);
      } else {
        c->slots()[nf] = e.slots()[i];
      }
      c->nulls &= ~(std::uint64_t{1} << static_cast<std::uint32_t>(nf));
    }
    if (e.raw_size != 0) {
      std::memcpy(cursor, e.raw, e.raw_size);
      c->raw = cursor;
      c->raw_size = e.raw_size;
    }
    c->time = e.time;
    c->seq = e.seq;
    c->input = e.input;
    c->line = e.line;
    out.push_back(std::move(copy));
  }
  return out;
}

} // namespace cep::runtime
