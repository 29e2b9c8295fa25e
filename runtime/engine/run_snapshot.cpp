// snapshotRun / restoreRun (format in run_snapshot.hpp).
#include "runtime/engine/run_snapshot.hpp"

#include "runtime/snapshot_codec.hpp"
#include "runtime/time/time_format.hpp"
#include "support/fnv1a.hpp"
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

constexpr std::size_t kHeaderBytes = sizeof kRunSnapshotMagic + 4 + 8; // magic, version, size
constexpr std::size_t kChecksumBytes = 8;

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

std::string describeBytes(std::uint64_t bytes) {
  return bytes == 0 ? std::string("none") : std::to_string(bytes);
}

// Version 2's options that change results besides the time options: the event-time range, the
// record size limit and the state bounds must be this run's.
void checkResultOptions(SnapshotReader &r, const RunOptions &options, std::uint32_t version) {
  std::int64_t time_min = r.i64();
  std::int64_t time_max = r.i64();
  std::uint64_t max_record_bytes = r.u64();
  std::uint64_t max_runs_per_key = r.u64();
  std::uint64_t max_state_bytes = r.u64();
  // Version 4 records --key-ttl; earlier versions were taken without it.
  std::int64_t key_ttl_ms = version >= 4 ? r.i64() : 0;
  if (time_min != options.time_min || time_max != options.time_max) {
    fail("it was taken with --event-time-range " + formatRfc3339(time_min) + ".." +
         formatRfc3339(time_max) + ", this run uses " + formatRfc3339(options.time_min) + ".." +
         formatRfc3339(options.time_max));
  }
  if (max_record_bytes != options.max_record_bytes) {
    fail("it was taken with --max-record-bytes " + describeBytes(max_record_bytes) +
         ", this run uses " + describeBytes(options.max_record_bytes));
  }
  if (max_runs_per_key != options.state_bounds.max_runs_per_key) {
    fail("it was taken with --max-runs-per-key " + describeBytes(max_runs_per_key) +
         ", this run uses " + describeBytes(options.state_bounds.max_runs_per_key));
  }
  if (max_state_bytes != options.state_bounds.max_state_bytes) {
    fail("it was taken with --max-state-bytes " + describeBytes(max_state_bytes) +
         ", this run uses " + describeBytes(options.state_bounds.max_state_bytes));
  }
  if (key_ttl_ms != options.state_bounds.key_ttl_ms) {
    auto describe = [](std::int64_t ms) { return ms == 0 ? "none" : formatDurationMs(ms); };
    fail("it was taken with --key-ttl " + describe(key_ttl_ms) + ", this run uses " +
         describe(options.state_bounds.key_ttl_ms));
  }
}

// Version 3's positions section (run_snapshot.hpp).
void writeIoPositions(SnapshotWriter &w, const RunIoPositions &io) {
  w.u32(static_cast<std::uint32_t>(io.inputs.size()));
  for (const InputPosition &p : io.inputs) {
    writeInputPosition(w, p);
  }
  w.u32(static_cast<std::uint32_t>(io.outputs.size()));
  for (const OutputPosition &p : io.outputs) {
    w.str(p.name);
    w.u64(p.length);
  }
}

RunIoPositions readIoPositions(SnapshotReader &r) {
  RunIoPositions io;
  io.inputs.resize(r.count(r.u32(), kInputPositionBytes));
  for (InputPosition &p : io.inputs) {
    p = readInputPosition(r);
  }
  io.outputs.resize(r.count(r.u32(), 4 + 8));
  for (OutputPosition &p : io.outputs) {
    p.name = std::string(r.str());
    p.length = r.u64();
  }
  return io;
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
  static void write(const RunLoop &loop, std::string &out, const RunIoPositions &io,
                    bool with_patterns);
  static std::unique_ptr<RunLoop> read(std::string_view in, const Schema &schema,
                                       std::vector<Matcher *> matchers,
                                       std::vector<std::string> input_names,
                                       std::vector<std::int32_t> bound_types, OutputSink &out,
                                       const RunOptions &options, RunIoPositions *io);
};

void RunSnapshotAccess::write(const RunLoop &loop, std::string &out, const RunIoPositions &io,
                              bool with_patterns) {
  if (loop.status_ != RunStatus::Ok) {
    throw std::runtime_error("cannot snapshot a run that has failed: " + loop.message_);
  }
  if (loop.stopped_) {
    throw std::runtime_error("cannot snapshot a run that has stopped");
  }
  CEP_ASSERT(loop.driver_.step_outputs_.empty(), "a snapshot in the middle of a step");
  CEP_ASSERT(io.inputs.empty() || io.inputs.size() == loop.ingest_.input_names_.size(),
             "one byte position per input, or none");
  for (std::size_t i = 0; i < io.inputs.size(); ++i) {
    CEP_ASSERT(io.inputs[i].line == loop.ingest_.last_lines_[i],
               "an input's byte position is after the last record the loop was handed");
  }
  const Schema &schema = *loop.ingest_.schema_;
  const RunOptions &options = loop.ingest_.options_;
  std::size_t begin = out.size();
  SnapshotWriter w(out);
  w.bytes(kRunSnapshotMagic, sizeof kRunSnapshotMagic);
  w.u32(kRunSnapshotVersion);
  w.u64(0); // the size, set at the end

  w.u8(options.time == TimeMode::Processing ? 1 : 0);
  w.u8(options.watermark == WatermarkMode::Explicit ? 1 : 0);
  w.i64(options.max_delay_ms);
  w.u8(options.keep_raw ? 1 : 0);
  w.i64(options.time_min);
  w.i64(options.time_max);
  w.u64(options.max_record_bytes);
  w.u64(options.state_bounds.max_runs_per_key);
  w.u64(options.state_bounds.max_state_bytes);
  w.i64(options.state_bounds.key_ttl_ms);

  w.u32(static_cast<std::uint32_t>(loop.ingest_.input_names_.size()));
  for (std::uint32_t i = 0; i < loop.ingest_.input_names_.size(); ++i) {
    w.str(loop.ingest_.input_names_[i]);
    w.str(boundTypeName(schema, loop.ingest_.bound_types_[i]));
    w.i64(loop.ingest_.watermarks_.of(i));
    w.u8(loop.ingest_.watermarks_.finished(i) ? 1 : 0);
    const RecordCounts &c = loop.ingest_.records_.inputs[i];
    for (std::uint64_t v : {c.read, c.accepted, c.rejected, c.late, c.watermarks}) {
      w.u64(v);
    }
    w.u64(loop.ingest_.last_lines_[i]);
  }
  w.u32(loop.ingest_.next_input_);
  w.u64(loop.ingest_.next_seq_);
  w.i64(loop.ingest_.last_now_);
  w.i64(loop.driver_.time_);
  w.u8(loop.driver_.events_since_advance_ ? 1 : 0);

  std::vector<EventRef> buffered = loop.driver_.buffer_.events();
  w.u64(buffered.size());
  for (const EventRef &event : buffered) {
    writeEvent(w, schema, *event);
  }

  w.u32(with_patterns ? static_cast<std::uint32_t>(loop.operators_.size()) : 0);
  std::string state;
  for (const OperatorSet::Entry &op : loop.operators_.entries()) {
    if (!with_patterns) {
      break;
    }
    w.str(op.matcher->patternName());
    state.clear();
    op.matcher->snapshot(state);
    w.blob(state);
  }
  writeIoPositions(w, io);
  w.i64(loop.driver_.unread_until_); // since version 5

  std::uint64_t size = out.size() - begin + kChecksumBytes;
  for (std::size_t i = 0; i < 8; ++i) {
    out[begin + sizeof kRunSnapshotMagic + 4 + i] = static_cast<char>(size >> (8 * i));
  }
  w.u64(runSnapshotChecksum(std::string_view(out).substr(begin)));
}

std::unique_ptr<RunLoop>
RunSnapshotAccess::read(std::string_view in, const Schema &schema, std::vector<Matcher *> matchers,
                        std::vector<std::string> input_names, std::vector<std::int32_t> bound_types,
                        OutputSink &out, const RunOptions &options, RunIoPositions *io) {
  CEP_ASSERT(bound_types.size() == input_names.size(), "one bound type per input");

  // The envelope: magic, version, size, checksum.
  SnapshotReader header(in, "run snapshot");
  if (header.bytes(sizeof kRunSnapshotMagic) !=
      std::string_view(kRunSnapshotMagic, sizeof kRunSnapshotMagic)) {
    fail("not a run snapshot");
  }
  std::uint32_t version = header.u32();
  if (version < kRunSnapshotOldestVersion || version > kRunSnapshotVersion) {
    fail("format version " + std::to_string(version) + " (this build reads " +
         std::to_string(kRunSnapshotOldestVersion) + " to " + std::to_string(kRunSnapshotVersion) +
         ")");
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
  SnapshotReader trailer(in.substr(body.size()), "run snapshot");
  if (trailer.u64() != runSnapshotChecksum(body)) {
    fail("checksum mismatch (corrupted)");
  }

  SnapshotReader r(body, "run snapshot");
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
    fail(keep_raw ? "it keeps raw records (--with-events, --max-state-bytes or --evicted-output), "
                    "this run does not"
                  : "it keeps no raw records, this run does (--with-events, --max-state-bytes or "
                    "--evicted-output)");
  }
  if (version >= 2) {
    checkResultOptions(r, options, version);
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
  std::vector<EventRef> buffered(r.count(kMinSnapshotEventBytes));
  if (!buffered.empty() && time == TimeMode::Processing) {
    fail("buffered events in a processing-time run");
  }
  for (std::size_t i = 0; i < buffered.size(); ++i) {
    buffered[i] = readEvent(r, schema, "buffered");
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
  RunIoPositions positions;
  if (version >= 3) {
    positions = readIoPositions(r);
    if (!positions.inputs.empty() && positions.inputs.size() != input_count) {
      fail("it has byte positions for " + std::to_string(positions.inputs.size()) + " of its " +
           std::to_string(input_count) + " inputs");
    }
    for (std::size_t i = 0; i < positions.inputs.size(); ++i) {
      if (positions.inputs[i].line != inputs[i].last_line) {
        fail("the byte position of input " + quoted(input_names[i]) + " is after line " +
             std::to_string(positions.inputs[i].line) + ", its last record was on line " +
             std::to_string(inputs[i].last_line));
      }
    }
  }
  // Version 5 records the latest time of an event dropped for its type (Driver::finish);
  // earlier versions did not keep it: none.
  std::int64_t unread_until = version >= 5 ? r.i64() : kNoWatermark;
  if (!r.atEnd()) {
    fail(version >= 5   ? "bytes after the latest unread event's time"
         : version >= 3 ? "bytes after the output positions"
                        : "bytes after the last pattern");
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
    loop->ingest_.records_.inputs[i] = inputs[i].counts;
    loop->ingest_.last_lines_[i] = inputs[i].last_line;
    loop->ingest_.watermarks_.restore(i, inputs[i].watermark, inputs[i].finished);
  }
  CEP_ASSERT(input_count == 0 || loop->ingest_.watermarks_.combined() == combined,
             "the combined watermark is the minimum");
  loop->ingest_.next_input_ = next_input;
  loop->ingest_.next_seq_ = next_seq;
  loop->ingest_.last_now_ = last_now;
  loop->driver_.time_ = matcher_time;
  loop->driver_.events_since_advance_ = events_since_advance;
  loop->driver_.unread_until_ = unread_until;
  for (EventRef &event : buffered) {
    PushResult pushed = loop->driver_.buffer_.push(std::move(event));
    CEP_ASSERT(pushed == PushResult::Buffered, "a fresh buffer has no watermark");
  }
  if (time == TimeMode::Event) {
    loop->driver_.buffer_.advanceTo(loop->ingest_.watermarks_.combined()); // as release() left it
  }
  for (const OperatorSet::Entry &op : loop->operators_.entries()) {
    std::string name(op.matcher->patternName());
    try {
      op.matcher->restore(states.at(name));
    } catch (const std::runtime_error &error) {
      fail("pattern `" + name + "`: " + error.what());
    }
  }
  if (io != nullptr) {
    *io = std::move(positions);
  }
  return loop;
}

void writeInputPosition(SnapshotWriter &w, const InputPosition &p) {
  w.u64(p.offset);
  w.u64(p.line);
  w.u8(p.identity.seekable ? 1 : 0);
  w.u64(p.identity.device);
  w.u64(p.identity.inode);
  w.u64(p.identity.head_hash);
  w.u64(p.identity.tail_hash);
}

InputPosition readInputPosition(SnapshotReader &r) {
  InputPosition p;
  p.offset = r.u64();
  p.line = r.u64();
  p.identity.seekable = r.flag("a seekable flag");
  p.identity.device = r.u64();
  p.identity.inode = r.u64();
  p.identity.head_hash = r.u64();
  p.identity.tail_hash = r.u64();
  return p;
}

void snapshotRun(const RunLoop &loop, std::string &out, const RunIoPositions &io,
                 bool with_patterns) {
  RunSnapshotAccess::write(loop, out, io, with_patterns);
}

std::unique_ptr<RunLoop> restoreRun(std::string_view snapshot, const Schema &schema,
                                    std::vector<Matcher *> matchers,
                                    std::vector<std::string> input_names,
                                    std::vector<std::int32_t> bound_types, OutputSink &out,
                                    const RunOptions &options, RunIoPositions *io) {
  return RunSnapshotAccess::read(snapshot, schema, std::move(matchers), std::move(input_names),
                                 std::move(bound_types), out, options, io);
}

std::uint64_t runSnapshotChecksum(std::string_view bytes) {
  return fnv1a64(bytes);
}

} // namespace cep::runtime
