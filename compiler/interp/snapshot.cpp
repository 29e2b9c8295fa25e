// InterpMatcher::snapshot / restore (format in snapshot.hpp).
#include "compiler/interp/snapshot.hpp"

#include "compiler/interp/nfa_matcher.hpp"
#include "runtime/schema.hpp"
#include "support/internal_error.hpp"

#include <algorithm>
#include <cstddef>
#include <unordered_map>

namespace cep::compiler::interp {

using lang::TypeKind;

namespace {

std::uint8_t kindCode(TypeKind k) {
  switch (k) {
  case TypeKind::Bool:
    return static_cast<std::uint8_t>(runtime::FieldKind::Bool);
  case TypeKind::Int:
    return static_cast<std::uint8_t>(runtime::FieldKind::Int);
  case TypeKind::Float:
    return static_cast<std::uint8_t>(runtime::FieldKind::Float);
  case TypeKind::String:
    return static_cast<std::uint8_t>(runtime::FieldKind::String);
  case TypeKind::Time:
    return static_cast<std::uint8_t>(runtime::FieldKind::Time);
  case TypeKind::Duration:
    return static_cast<std::uint8_t>(runtime::FieldKind::Duration);
  default:
    CEP_ASSERT(false, "event field of a non-scalar type");
  }
  return 0;
}

// Bytes a string field takes in an event block (runtime/event.hpp layout).
std::size_t stringBytes(std::size_t length) {
  std::size_t bytes = offsetof(runtime::StringRef, data) + length;
  bytes = (bytes + alignof(runtime::StringRef) - 1) & ~(alignof(runtime::StringRef) - 1);
  return std::max(bytes, sizeof(runtime::StringRef));
}

void writeEvent(SnapshotWriter &w, const lang::typed::Program &program, const runtime::Event &e) {
  const auto &type = program.event_types.at(e.type);
  w.str(type.name);
  w.i64(e.time);
  w.u64(e.seq);
  w.u32(e.input);
  w.u32(e.line);
  w.u32(e.field_count);
  for (std::uint32_t i = 0; i < e.field_count; ++i) {
    TypeKind k = type.fields.at(i).type.kind;
    w.str(type.fields[i].name);
    w.u8(kindCode(k));
    bool null = e.isNull(i);
    w.u8(null ? 1 : 0);
    if (null) {
      continue;
    }
    const runtime::Slot &slot = e.slots()[i];
    switch (k) {
    case TypeKind::Bool:
      w.u8(slot.b ? 1 : 0);
      break;
    case TypeKind::Float:
      w.f64(slot.f);
      break;
    case TypeKind::String:
      w.str(slot.s->view());
      break;
    default:
      w.i64(slot.i);
      break;
    }
  }
  w.str(e.rawRecord());
}

runtime::EventRef readEvent(SnapshotReader &r, const lang::typed::Program &program) {
  std::string_view type_name = r.str();
  std::int32_t type_index = program.eventTypeIndex(std::string(type_name));
  if (type_index < 0) {
    SnapshotReader::fail("unknown event type `" + std::string(type_name) + "`");
  }
  const auto &type = program.event_types[static_cast<std::size_t>(type_index)];
  std::int64_t time = r.i64();
  std::uint64_t seq = r.u64();
  std::uint32_t input = r.u32();
  std::uint32_t line = r.u32();
  std::uint32_t count = r.u32();
  struct FieldValue {
    std::int32_t index;
    bool null;
    runtime::Slot slot;
    std::string_view text;
  };
  std::vector<FieldValue> values;
  std::size_t extra = 0;
  for (std::uint32_t i = 0; i < count; ++i) {
    std::string name(r.str());
    std::uint8_t kind = r.u8();
    bool null = r.u8() != 0;
    std::int32_t index = type.fieldIndex(name);
    if (index < 0) {
      SnapshotReader::fail("event type `" + type.name + "` has no field `" + name + "`");
    }
    TypeKind k = type.fields[static_cast<std::size_t>(index)].type.kind;
    if (kindCode(k) != kind) {
      SnapshotReader::fail("field `" + type.name + "." + name + "` changed its type");
    }
    FieldValue v{index, null, {}, {}};
    if (!null) {
      switch (k) {
      case TypeKind::Bool:
        v.slot.b = r.u8() != 0;
        break;
      case TypeKind::Float:
        v.slot.f = r.f64();
        break;
      case TypeKind::String:
        v.text = r.str();
        extra += stringBytes(v.text.size());
        break;
      default:
        v.slot.i = r.i64();
        break;
      }
    }
    values.push_back(v);
  }
  std::string_view raw = r.str();
  extra += raw.size();
  runtime::EventRef ref(runtime::allocateEvent(static_cast<std::uint32_t>(type_index),
                                               static_cast<std::uint32_t>(type.fields.size()),
                                               extra));
  runtime::Event *e = ref.get();
  char *cursor = runtime::extraBegin(e);
  for (const FieldValue &v : values) {
    if (v.null) {
      continue;
    }
    if (type.fields[static_cast<std::size_t>(v.index)].type.kind == TypeKind::String) {
      auto *s = reinterpret_cast<runtime::StringRef *>(cursor);
      s->size = static_cast<std::uint32_t>(v.text.size());
      std::memcpy(cursor + offsetof(runtime::StringRef, data), v.text.data(), v.text.size());
      e->slots()[v.index].s = s;
      cursor += stringBytes(v.text.size());
    } else {
      e->slots()[v.index] = v.slot;
    }
    e->nulls &= ~(std::uint64_t{1} << v.index);
  }
  if (!raw.empty()) {
    std::memcpy(cursor, raw.data(), raw.size());
    e->raw = cursor;
    e->raw_size = static_cast<std::uint32_t>(raw.size());
  }
  e->time = time;
  e->seq = seq;
  e->input = input;
  e->line = line;
  return ref;
}

} // namespace

void InterpMatcher::snapshot(std::string &out) const {
  SnapshotWriter w(out);
  w.bytes(kSnapshotMagic, sizeof kSnapshotMagic);
  w.u32(kSnapshotVersion);
  w.str(pattern_.name);
  w.i64(time_);
  for (std::uint64_t v : {stats_.events, stats_.matches, stats_.timeouts, stats_.peak_runs,
                          stats_.peak_keys, stats_.peak_bound_events, stats_.peak_state_bytes}) {
    w.u64(v);
  }

  // Keys in a stable order, and every node and event they reach, each once.
  std::vector<const KeyState *> keys;
  for (const auto &[k, ks] : keys_) {
    keys.push_back(ks.get());
  }
  std::sort(keys.begin(), keys.end(),
            [](const KeyState *a, const KeyState *b) { return a->key_json < b->key_json; });
  std::unordered_map<const Node *, std::int64_t> node_ids;
  std::vector<const Node *> nodes;
  std::unordered_map<const runtime::Event *, std::uint64_t> event_ids;
  std::vector<const runtime::Event *> events;
  auto collect = [&](const Node *last) {
    std::vector<const Node *> chain;
    for (const Node *n = last; n != nullptr && !node_ids.count(n); n = n->prev) {
      chain.push_back(n);
    }
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      node_ids[*it] = static_cast<std::int64_t>(nodes.size());
      nodes.push_back(*it);
      const runtime::Event *e = (*it)->event.get();
      if (!event_ids.count(e)) {
        event_ids[e] = events.size();
        events.push_back(e);
      }
    }
  };
  for (const KeyState *ks : keys) {
    for (const Run &r : ks->runs) {
      collect(r.bound.get());
    }
    for (const HeldMatch &m : ks->held) {
      collect(m.bound.get());
    }
  }
  auto nodeId = [&](const NodeRef &n) -> std::int64_t { return n ? node_ids.at(n.get()) : -1; };

  w.u64(events.size());
  for (const runtime::Event *e : events) {
    writeEvent(w, program_, *e);
  }
  w.u64(nodes.size());
  for (const Node *n : nodes) {
    w.u64(event_ids.at(n->event.get()));
    w.str(pattern_.steps.at(static_cast<std::size_t>(n->step)).name);
    w.i64(n->prev ? node_ids.at(n->prev) : -1);
  }
  w.u64(keys.size());
  for (const KeyState *ks : keys) {
    w.str(ks->key_json);
    w.u64(ks->runs.size());
    for (const Run &r : ks->runs) {
      w.str(nfa_.states.at(static_cast<std::size_t>(r.state)).name);
      w.u32(r.counter);
      w.i64(nodeId(r.bound));
      w.i64(r.start_time);
      w.u64(r.start_seq);
      w.i64(r.prev_time);
    }
    w.u64(ks->held.size());
    for (const HeldMatch &m : ks->held) {
      w.i64(nodeId(m.bound));
      w.i64(m.start_time);
      w.u64(m.start_seq);
    }
  }
}

void InterpMatcher::restore(std::string_view in) {
  if (!keys_.empty() || stats_.events != 0) {
    throw std::runtime_error("restore needs a fresh matcher (pattern " + pattern_.name + ")");
  }
  SnapshotReader r(in);
  if (r.bytes(sizeof kSnapshotMagic) != std::string_view(kSnapshotMagic, sizeof kSnapshotMagic)) {
    SnapshotReader::fail("not an interpreter snapshot");
  }
  std::uint32_t version = r.u32();
  if (version != kSnapshotVersion) {
    SnapshotReader::fail("format version " + std::to_string(version) + " (this build reads " +
                         std::to_string(kSnapshotVersion) + ")");
  }
  std::string_view name = r.str();
  if (name != pattern_.name) {
    SnapshotReader::fail("it is of pattern `" + std::string(name) + "`, not `" + pattern_.name +
                         "`");
  }
  std::int64_t time = r.i64();
  runtime::MatcherStats stats;
  for (std::uint64_t *v : {&stats.events, &stats.matches, &stats.timeouts, &stats.peak_runs,
                           &stats.peak_keys, &stats.peak_bound_events, &stats.peak_state_bytes}) {
    *v = r.u64();
  }

  std::vector<runtime::EventRef> events(r.count(4 + 8 + 8 + 4 + 4 + 4 + 4));
  for (auto &e : events) {
    e = readEvent(r, program_);
  }
  std::vector<NodeRef> nodes(r.count(8 + 4 + 8));
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    std::uint64_t event = r.u64();
    std::string step_name(r.str());
    std::int64_t prev = r.i64();
    if (event >= events.size()) {
      SnapshotReader::fail("node refers to a missing event");
    }
    std::int32_t step = -1;
    for (std::size_t s = 0; s < pattern_.steps.size(); ++s) {
      if (pattern_.steps[s].name == step_name) {
        step = static_cast<std::int32_t>(s);
      }
    }
    if (step < 0) {
      SnapshotReader::fail("pattern `" + pattern_.name + "` has no step `" + step_name + "`");
    }
    if (prev < -1 || prev >= static_cast<std::int64_t>(i)) {
      SnapshotReader::fail("node refers to a later node");
    }
    nodes[i] = NodeRef::bind(events[event], step,
                             prev < 0 ? NodeRef() : nodes[static_cast<std::size_t>(prev)], &nodes_);
  }
  auto nodeAt = [&](std::int64_t id) {
    if (id < -1 || id >= static_cast<std::int64_t>(nodes.size())) {
      SnapshotReader::fail("reference to a missing node");
    }
    return id < 0 ? NodeRef() : nodes[static_cast<std::size_t>(id)];
  };
  std::vector<std::unique_ptr<KeyState>> keys(r.count(4 + 8 + 8));
  for (auto &ks : keys) {
    ks = std::make_unique<KeyState>();
    ks->key_json = std::string(r.str());
    std::uint64_t runs = r.count(4 + 4 + 8 + 8 + 8 + 8);
    for (std::uint64_t i = 0; i < runs; ++i) {
      Run run;
      std::string state_name(r.str());
      run.state = -1;
      for (std::size_t s = 0; s < nfa_.states.size(); ++s) {
        if (nfa_.states[s].name == state_name) {
          run.state = static_cast<nfa::StateId>(s);
        }
      }
      if (run.state < 0) {
        SnapshotReader::fail("the NFA of `" + pattern_.name + "` has no state `" + state_name +
                             "`");
      }
      run.counter = r.u32();
      run.bound = nodeAt(r.i64());
      run.start_time = r.i64();
      run.start_seq = r.u64();
      run.prev_time = r.i64();
      run.deadline = deadlineOf(run);
      ks->runs.push_back(std::move(run));
    }
    std::uint64_t held = r.count(8 + 8 + 8);
    for (std::uint64_t i = 0; i < held; ++i) {
      HeldMatch m;
      m.bound = nodeAt(r.i64());
      if (!m.bound) {
        SnapshotReader::fail("a held match without events");
      }
      m.start_time = r.i64();
      m.start_seq = r.u64();
      for (const Node *n = m.bound.get(); n != nullptr; n = n->prev) {
        m.seqs.push_back(n->event->seq);
      }
      std::reverse(m.seqs.begin(), m.seqs.end());
      ks->held.push_back(std::move(m));
    }
  }
  if (!r.atEnd()) {
    SnapshotReader::fail("trailing bytes");
  }
  for (std::size_t i = 1; i < keys.size(); ++i) {
    if (keys[i - 1]->key_json >= keys[i]->key_json) {
      SnapshotReader::fail("keys out of order");
    }
  }

  // Commit.
  time_ = time;
  stats_ = stats;
  for (auto &ks : keys) {
    KeyState &slot = keyState(ks->key_json);
    std::vector<Run> runs = std::move(ks->runs);
    setRuns(slot, std::move(runs));
    held_ += ks->held.size();
    slot.held = std::move(ks->held);
    reschedule(slot);
  }
  updatePeaks();
}

} // namespace cep::compiler::interp
