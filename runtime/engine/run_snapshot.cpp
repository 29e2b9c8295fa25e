// snapshotRun / restoreRun (format in run_snapshot.hpp).
#include "runtime/engine/run_snapshot.hpp"

#include "support/internal_error.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <stdexcept>
#include <unordered_map>

namespace cep::runtime {

namespace {

[[noreturn]] void fail(const std::string &why) {
  throw std::runtime_error("bad run snapshot: " + why);
}

class Writer {
public:
  explicit Writer(std::string &out) : out_(out) {}
  void bytes(const void *p, std::size_t n) { out_.append(static_cast<const char *>(p), n); }
  void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u32(std::uint32_t v) {
    for (int i = 0; i < 4; ++i) {
      u8(static_cast<std::uint8_t>(v >> (8 * i)));
    }
  }
  void u64(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) {
      u8(static_cast<std::uint8_t>(v >> (8 * i)));
    }
  }
  void i64(std::int64_t v) { u64(static_cast<std::uint64_t>(v)); }
  void f64(double v) {
    std::uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    u64(bits);
  }
  void str(std::string_view s) {
    CEP_ASSERT(s.size() <= UINT32_MAX, "a string of 4 GiB or more in a snapshot");
    u32(static_cast<std::uint32_t>(s.size()));
    bytes(s.data(), s.size());
  }
  void blob(std::string_view s) {
    u64(s.size());
    bytes(s.data(), s.size());
  }

private:
  std::string &out_;
};

// Reads what Writer wrote; anything short or malformed fails with the reason.
class Reader {
public:
  explicit Reader(std::string_view in) : in_(in) {}
  std::string_view bytes(std::size_t n) {
    if (n > in_.size() - pos_) {
      fail("truncated");
    }
    std::string_view v = in_.substr(pos_, n);
    pos_ += n;
    return v;
  }
  std::uint8_t u8() { return static_cast<std::uint8_t>(bytes(1)[0]); }
  std::uint32_t u32() {
    std::string_view b = bytes(4);
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      v |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(b[i])) << (8 * i);
    }
    return v;
  }
  std::uint64_t u64() {
    std::string_view b = bytes(8);
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) {
      v |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(b[i])) << (8 * i);
    }
    return v;
  }
  std::int64_t i64() { return static_cast<std::int64_t>(u64()); }
  double f64() {
    std::uint64_t bits = u64();
    double v;
    std::memcpy(&v, &bits, sizeof v);
    return v;
  }
  bool flag(const char *what) {
    std::uint8_t v = u8();
    if (v > 1) {
      fail(std::string(what) + " is " + std::to_string(v) + ", not 0 or 1");
    }
    return v == 1;
  }
  std::string_view str() { return bytes(u32()); }
  std::string_view blob() {
    std::uint64_t n = u64();
    if (n > in_.size() - pos_) {
      fail("truncated");
    }
    return bytes(static_cast<std::size_t>(n));
  }
  // A count of items each at least `min_item_bytes` long: rejects counts the input cannot hold.
  std::uint64_t count(std::uint64_t n, std::size_t min_item_bytes) const {
    if (n > (in_.size() - pos_) / min_item_bytes) {
      fail("count out of range");
    }
    return n;
  }
  void skip(std::size_t n) { bytes(n); }
  bool atEnd() const { return pos_ == in_.size(); }

private:
  std::string_view in_;
  std::size_t pos_ = 0;
};

constexpr std::size_t kHeaderBytes = sizeof kRunSnapshotMagic + 4 + 8; // magic, version, size
constexpr std::size_t kChecksumBytes = 8;
// Each buffered event takes at least its type name's length, time, seq, input, line, field
// count and raw record length.
constexpr std::size_t kMinEventBytes = 4 + 8 + 8 + 4 + 4 + 4 + 4;

const char *timeModeName(TimeMode mode) {
  return mode == TimeMode::Processing ? "processing time" : "event time";
}

const char *watermarkModeName(WatermarkMode mode) {
  return mode == WatermarkMode::Explicit ? "explicit" : "auto";
}

std::string quoted(const std::string &text) {
  return "\"" + text + "\"";
}

std::string boundTypeName(const Schema &schema, std::int32_t type) {
  return type < 0 ? std::string() : schema.types.at(static_cast<std::size_t>(type)).name;
}

std::string describeBound(const std::string &type_name) {
  return type_name.empty() ? "no type" : "type `" + type_name + "`";
}

std::string describeWatermark(std::int64_t watermark) {
  if (watermark == kNoWatermark) {
    return "-infinity";
  }
  if (watermark == kEndWatermark) {
    return "+infinity";
  }
  return std::to_string(watermark);
}

// Bytes a string field takes in an event block (runtime/event.hpp layout, as the decoder lays
// it out).
std::size_t stringBytes(std::size_t length) {
  std::size_t bytes = offsetof(StringRef, data) + length;
  bytes = (bytes + alignof(StringRef) - 1) & ~(alignof(StringRef) - 1);
  return std::max(bytes, sizeof(StringRef));
}

void writeEvent(Writer &w, const Schema &schema, const Event &e) {
  const EventSchema &type = schema.types.at(e.type);
  CEP_ASSERT(e.field_count == type.fields.size(), "an event with the wrong number of fields");
  w.str(type.name);
  w.i64(e.time);
  w.u64(e.seq);
  w.u32(e.input);
  w.u32(e.line);
  w.u32(e.field_count);
  for (std::uint32_t i = 0; i < e.field_count; ++i) {
    const FieldSchema &field = type.fields[i];
    w.str(field.name);
    w.u8(static_cast<std::uint8_t>(field.kind));
    bool null = e.isNull(i);
    w.u8(null ? 1 : 0);
    if (null) {
      continue;
    }
    const Slot &slot = e.slots()[i];
    switch (field.kind) {
    case FieldKind::Bool:
      w.u8(slot.b ? 1 : 0);
      break;
    case FieldKind::Float:
      w.f64(slot.f);
      break;
    case FieldKind::String:
      w.str(slot.s->view());
      break;
    case FieldKind::Int:
    case FieldKind::Time:
    case FieldKind::Duration:
      w.i64(slot.i);
      break;
    }
  }
  w.str(e.rawRecord());
}

EventRef readEvent(Reader &r, const Schema &schema) {
  std::string type_name(r.str());
  std::int32_t type_index = schema.typeIndex(type_name);
  if (type_index < 0) {
    fail("buffered event of unknown event type `" + type_name + "`");
  }
  const EventSchema &type = schema.types[static_cast<std::size_t>(type_index)];
  std::int64_t time = r.i64();
  std::uint64_t seq = r.u64();
  std::uint32_t input = r.u32();
  std::uint32_t line = r.u32();
  std::uint64_t count = r.count(r.u32(), 4 + 1 + 1);
  struct FieldValue {
    std::size_t index;
    bool null;
    Slot slot;
    std::string_view text;
  };
  std::vector<FieldValue> values;
  std::vector<bool> seen(type.fields.size(), false);
  std::size_t extra = 0;
  for (std::uint64_t i = 0; i < count; ++i) {
    std::string name(r.str());
    std::uint8_t kind = r.u8();
    bool null = r.flag("a null flag");
    std::int32_t found = type.fieldIndex(name);
    if (found < 0) {
      fail("event type `" + type.name + "` has no field `" + name + "`");
    }
    auto index = static_cast<std::size_t>(found);
    const FieldSchema &field = type.fields[index];
    if (seen[index]) {
      fail("field `" + type.name + "." + name + "` appears twice");
    }
    seen[index] = true;
    if (static_cast<std::uint8_t>(field.kind) != kind) {
      fail("field `" + type.name + "." + name + "` changed its type (now " +
           fieldKindName(field.kind) + ")");
    }
    FieldValue v{index, null, {}, {}};
    if (null && !field.nullable) {
      fail("field `" + type.name + "." + name + "` is null but not nullable");
    }
    if (!null) {
      switch (field.kind) {
      case FieldKind::Bool:
        v.slot.b = r.flag("a bool value");
        break;
      case FieldKind::Float:
        v.slot.f = r.f64();
        break;
      case FieldKind::String:
        v.text = r.str();
        extra += stringBytes(v.text.size());
        break;
      case FieldKind::Int:
      case FieldKind::Time:
      case FieldKind::Duration:
        v.slot.i = r.i64();
        break;
      }
    }
    values.push_back(v);
  }
  for (std::size_t i = 0; i < type.fields.size(); ++i) {
    if (!seen[i] && !type.fields[i].nullable) {
      fail("buffered `" + type.name + "` event without its field `" + type.fields[i].name + "`");
    }
  }
  std::string_view raw = r.str();
  extra += raw.size();

  EventRef ref(allocateEvent(static_cast<std::uint32_t>(type_index),
                             static_cast<std::uint32_t>(type.fields.size()), extra));
  Event *e = ref.get();
  char *cursor = extraBegin(e);
  for (const FieldValue &v : values) {
    if (v.null) {
      continue;
    }
    if (type.fields[v.index].kind == FieldKind::String) {
      auto *s = reinterpret_cast<StringRef *>(cursor);
      s->size = static_cast<std::uint32_t>(v.text.size());
      std::memcpy(cursor + offsetof(StringRef, data), v.text.data(), v.text.size());
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

// What a snapshot says about one input.
struct InputState {
  std::int64_t watermark = kNoWatermark;
  bool finished = false;
  RecordCounts counts;
  std::uint64_t last_line = 0;
};

} // namespace

// Reads and sets the RunLoop's private state (a friend of RunLoop).
struct RunSnapshotAccess {
  static void write(const RunLoop &loop, std::string &out);
  static std::unique_ptr<RunLoop> read(std::string_view in, const Schema &schema,
                                       std::vector<Matcher *> matchers,
                                       std::vector<std::string> input_names,
                                       std::vector<std::int32_t> bound_types, OutputSink &out,
                                       const RunOptions &options);
};

void RunSnapshotAccess::write(const RunLoop &loop, std::string &out) {
  if (loop.status_ != RunStatus::Ok) {
    throw std::runtime_error("cannot snapshot a run that has failed: " + loop.message_);
  }
  if (loop.stopped_) {
    throw std::runtime_error("cannot snapshot a run that has stopped");
  }
  CEP_ASSERT(loop.step_outputs_.empty(), "a snapshot in the middle of a step");
  const Schema &schema = *loop.schema_;
  const RunOptions &options = loop.options_;
  std::size_t begin = out.size();
  Writer w(out);
  w.bytes(kRunSnapshotMagic, sizeof kRunSnapshotMagic);
  w.u32(kRunSnapshotVersion);
  w.u64(0); // the size, set at the end

  w.u8(options.time == TimeMode::Processing ? 1 : 0);
  w.u8(options.watermark == WatermarkMode::Explicit ? 1 : 0);
  w.i64(options.max_delay_ms);
  w.u8(options.keep_raw ? 1 : 0);

  w.u32(static_cast<std::uint32_t>(loop.input_names_.size()));
  for (std::uint32_t i = 0; i < loop.input_names_.size(); ++i) {
    w.str(loop.input_names_[i]);
    w.str(boundTypeName(schema, loop.bound_types_[i]));
    w.i64(loop.watermarks_.of(i));
    w.u8(loop.watermarks_.finished(i) ? 1 : 0);
    const RecordCounts &c = loop.records_.inputs[i];
    for (std::uint64_t v : {c.read, c.accepted, c.rejected, c.late, c.watermarks}) {
      w.u64(v);
    }
    w.u64(loop.last_lines_[i]);
  }
  w.u32(loop.next_input_);
  w.u64(loop.next_seq_);
  w.i64(loop.last_now_);
  w.i64(loop.time_);
  w.u8(loop.events_since_advance_ ? 1 : 0);

  std::vector<EventRef> buffered = loop.buffer_.events();
  w.u64(buffered.size());
  for (const EventRef &event : buffered) {
    writeEvent(w, schema, *event);
  }

  w.u32(static_cast<std::uint32_t>(loop.matchers_.size()));
  std::string state;
  for (const Matcher *matcher : loop.matchers_) {
    w.str(matcher->patternName());
    state.clear();
    matcher->snapshot(state);
    w.blob(state);
  }

  std::uint64_t size = out.size() - begin + kChecksumBytes;
  for (std::size_t i = 0; i < 8; ++i) {
    out[begin + sizeof kRunSnapshotMagic + 4 + i] = static_cast<char>(size >> (8 * i));
  }
  w.u64(runSnapshotChecksum(std::string_view(out).substr(begin)));
}

std::unique_ptr<RunLoop> RunSnapshotAccess::read(std::string_view in, const Schema &schema,
                                                 std::vector<Matcher *> matchers,
                                                 std::vector<std::string> input_names,
                                                 std::vector<std::int32_t> bound_types,
                                                 OutputSink &out, const RunOptions &options) {
  CEP_ASSERT(bound_types.size() == input_names.size(), "one bound type per input");

  // The envelope: magic, version, size, checksum.
  Reader header(in);
  if (header.bytes(sizeof kRunSnapshotMagic) !=
      std::string_view(kRunSnapshotMagic, sizeof kRunSnapshotMagic)) {
    fail("not a run snapshot");
  }
  std::uint32_t version = header.u32();
  if (version != kRunSnapshotVersion) {
    fail("format version " + std::to_string(version) + " (this build reads " +
         std::to_string(kRunSnapshotVersion) + ")");
  }
  std::uint64_t size = header.u64();
  if (size < kHeaderBytes + kChecksumBytes) {
    fail("its size says " + std::to_string(size) + " bytes, less than a header");
  }
  if (in.size() < size) {
    fail("truncated (" + std::to_string(in.size()) + " of " + std::to_string(size) + " bytes)");
  }
  if (in.size() > size) {
    fail("trailing bytes after its end: " + std::to_string(in.size() - size));
  }
  std::string_view body = in.substr(0, in.size() - kChecksumBytes);
  Reader trailer(in.substr(body.size()));
  if (trailer.u64() != runSnapshotChecksum(body)) {
    fail("checksum mismatch (corrupted)");
  }

  Reader r(body);
  r.skip(kHeaderBytes);

  // Options.
  std::uint8_t time_mode = r.u8();
  std::uint8_t watermark_mode = r.u8();
  if (time_mode > 1 || watermark_mode > 1) {
    fail("unknown time or watermark mode");
  }
  TimeMode time = time_mode == 1 ? TimeMode::Processing : TimeMode::Event;
  WatermarkMode watermark = watermark_mode == 1 ? WatermarkMode::Explicit : WatermarkMode::Auto;
  std::int64_t max_delay_ms = r.i64();
  bool keep_raw = r.flag("the raw-records flag");
  if (time != options.time) {
    fail(std::string("it was taken with ") + timeModeName(time) + ", this run uses " +
         timeModeName(options.time));
  }
  if (watermark != options.watermark) {
    fail(std::string("it was taken with --watermark ") + watermarkModeName(watermark) +
         ", this run uses --watermark " + watermarkModeName(options.watermark));
  }
  if (max_delay_ms != options.max_delay_ms) {
    fail("it was taken with --max-delay " + std::to_string(max_delay_ms) +
         "ms, this run uses --max-delay " + std::to_string(options.max_delay_ms) + "ms");
  }
  if (keep_raw != options.keep_raw) {
    fail(keep_raw ? "it keeps raw records (--with-events), this run does not"
                  : "it keeps no raw records, this run does (--with-events)");
  }

  // Inputs.
  std::uint32_t input_count = r.u32();
  if (input_count != input_names.size()) {
    fail("it has " + std::to_string(input_count) + " inputs, this run has " +
         std::to_string(input_names.size()));
  }
  std::vector<InputState> inputs(input_count);
  std::int64_t combined = kEndWatermark; // the minimum over no inputs
  for (std::uint32_t i = 0; i < input_count; ++i) {
    std::string name(r.str());
    if (name != input_names[i]) {
      fail("input " + std::to_string(i + 1) + " is " + quoted(name) + " in it, " +
           quoted(input_names[i]) + " in this run");
    }
    std::string bound(r.str());
    std::string expected = boundTypeName(schema, bound_types[i]);
    if (bound != expected) {
      fail("input " + quoted(name) + " is bound to " + describeBound(bound) + " in it, to " +
           describeBound(expected) + " in this run");
    }
    InputState &input = inputs[i];
    input.watermark = r.i64();
    input.finished = r.flag("a finished flag");
    if (input.finished && input.watermark != kEndWatermark) {
      fail("input " + quoted(name) + " has ended but its watermark is " +
           describeWatermark(input.watermark));
    }
    RecordCounts &c = input.counts;
    for (std::uint64_t *v : {&c.read, &c.accepted, &c.rejected, &c.late, &c.watermarks}) {
      *v = r.u64();
    }
    // Every record read is exactly one of the others (runtime/io/statistics.hpp).
    if (c.accepted + c.rejected + c.late + c.watermarks != c.read) {
      fail("the record counts of input " + quoted(name) + " do not add up");
    }
    input.last_line = r.u64();
    combined = std::min(combined, input.watermark);
  }
  std::uint32_t next_input = r.u32();
  if (next_input >= std::max<std::uint32_t>(input_count, 1)) {
    fail("the next input is " + std::to_string(next_input) + " of " + std::to_string(input_count));
  }
  std::uint64_t next_seq = r.u64();
  std::int64_t last_now = r.i64();
  std::int64_t matcher_time = r.i64();
  bool events_since_advance = r.flag("the events-since-advance flag");

  // Buffered events.
  std::vector<EventRef> buffered(r.count(r.u64(), kMinEventBytes));
  if (!buffered.empty() && time == TimeMode::Processing) {
    fail("buffered events in a processing-time run");
  }
  for (std::size_t i = 0; i < buffered.size(); ++i) {
    buffered[i] = readEvent(r, schema);
    const Event &e = *buffered[i];
    if (e.input >= input_count) {
      fail("a buffered event of input " + std::to_string(e.input + 1) + " (there are " +
           std::to_string(input_count) + ")");
    }
    if (e.seq >= next_seq) {
      fail("a buffered event's arrival seq " + std::to_string(e.seq) +
           " is not below the next one, " + std::to_string(next_seq));
    }
    if (combined != kNoWatermark && e.time <= combined) {
      fail("a buffered event at time " + std::to_string(e.time) +
           " is at or before the watermark " + describeWatermark(combined));
    }
    if (i > 0) {
      const Event &p = *buffered[i - 1];
      if (p.time > e.time || (p.time == e.time && p.seq >= e.seq)) {
        fail("buffered events out of release order");
      }
    }
  }

  // Patterns, by name.
  std::uint32_t pattern_count = static_cast<std::uint32_t>(r.count(r.u32(), 4 + 8));
  std::unordered_map<std::string, std::string_view> states;
  std::vector<std::string> order;
  for (std::uint32_t i = 0; i < pattern_count; ++i) {
    std::string name(r.str());
    std::string_view state = r.blob();
    if (!states.emplace(name, state).second) {
      fail("pattern `" + name + "` appears twice");
    }
    order.push_back(std::move(name));
  }
  if (!r.atEnd()) {
    fail("bytes after the last pattern");
  }
  for (const std::string &name : order) {
    bool found = std::any_of(matchers.begin(), matchers.end(),
                             [&](const Matcher *m) { return m->patternName() == name; });
    if (!found) {
      fail("pattern `" + name + "` is not one of this run's patterns");
    }
  }
  for (const Matcher *matcher : matchers) {
    if (!states.count(std::string(matcher->patternName()))) {
      fail("this run's pattern `" + std::string(matcher->patternName()) + "` is not in it");
    }
  }

  // Build the loop and set its state.
  auto loop = std::make_unique<RunLoop>(schema, matchers, std::move(input_names),
                                        std::move(bound_types), out, options);
  for (std::uint32_t i = 0; i < input_count; ++i) {
    loop->records_.inputs[i] = inputs[i].counts;
    loop->last_lines_[i] = inputs[i].last_line;
    loop->watermarks_.restore(i, inputs[i].watermark, inputs[i].finished);
  }
  CEP_ASSERT(input_count == 0 || loop->watermarks_.combined() == combined,
             "the combined watermark is the minimum");
  loop->next_input_ = next_input;
  loop->next_seq_ = next_seq;
  loop->last_now_ = last_now;
  loop->time_ = matcher_time;
  loop->events_since_advance_ = events_since_advance;
  for (EventRef &event : buffered) {
    PushResult pushed = loop->buffer_.push(std::move(event));
    CEP_ASSERT(pushed == PushResult::Buffered, "a fresh buffer has no watermark");
  }
  if (time == TimeMode::Event) {
    loop->buffer_.advanceTo(loop->watermarks_.combined()); // as release() left it
  }
  for (Matcher *matcher : loop->matchers_) {
    std::string name(matcher->patternName());
    try {
      matcher->restore(states.at(name));
    } catch (const std::runtime_error &error) {
      fail("pattern `" + name + "`: " + error.what());
    }
  }
  return loop;
}

void snapshotRun(const RunLoop &loop, std::string &out) {
  RunSnapshotAccess::write(loop, out);
}

std::unique_ptr<RunLoop> restoreRun(std::string_view snapshot, const Schema &schema,
                                    std::vector<Matcher *> matchers,
                                    std::vector<std::string> input_names,
                                    std::vector<std::int32_t> bound_types, OutputSink &out,
                                    const RunOptions &options) {
  return RunSnapshotAccess::read(snapshot, schema, std::move(matchers), std::move(input_names),
                                 std::move(bound_types), out, options);
}

std::uint64_t runSnapshotChecksum(std::string_view bytes) {
  std::uint64_t hash = 14695981039346656037ULL; // FNV-1a 64 offset basis
  for (char c : bytes) {
    hash ^= static_cast<std::uint8_t>(c);
    hash *= 1099511628211ULL; // FNV prime
  }
  return hash;
}

} // namespace cep::runtime
