#include "runtime/engine/run_loop.hpp"

#include "runtime/io/stop_signals.hpp"
#include "support/internal_error.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace cep::runtime {

namespace {

std::int64_t systemClockMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

RejectOptions rejectOptions(const RunOptions &options) {
  RejectOptions rejects;
  rejects.report = options.report;
  rejects.dead_letter = options.dead_letter;
  rejects.late_output = options.late_output;
  rejects.strict = options.strict;
  return rejects;
}

DecoderOptions decoderOptions(const RunOptions &options) {
  DecoderOptions decoder;
  decoder.keep_raw = options.keep_raw;
  decoder.time_min = options.time_min;
  decoder.time_max = options.time_max;
  return decoder;
}

bool someTypeWithoutTimeField(const Schema &schema) {
  return std::any_of(schema.types.begin(), schema.types.end(),
                     [](const EventSchema &type) { return type.time_field < 0; });
}

} // namespace

RunLoop::RunLoop(const Schema &schema, std::vector<Matcher *> matchers,
                 std::vector<std::string> input_names, std::vector<std::int32_t> bound_types,
                 OutputSink &out, const RunOptions &options)
    : schema_(&schema), matchers_(std::move(matchers)), by_type_(schema.types.size()),
      input_names_(std::move(input_names)), bound_types_(std::move(bound_types)), out_(out),
      options_(options),
      needs_clock_(options.time == TimeMode::Processing || someTypeWithoutTimeField(schema)),
      records_(input_names_.size()), rejects_(input_names_, records_, rejectOptions(options)),
      decoder_(schema, decoderOptions(options)),
      watermarks_(input_names_.size(), options.max_delay_ms, options.watermark),
      last_lines_(input_names_.size(), 0) {
  CEP_ASSERT(bound_types_.size() == input_names_.size(), "one bound type per input");
  for (Matcher *matcher : matchers_) {
    for (std::uint32_t type : matcher->eventTypes()) {
      CEP_ASSERT(type < by_type_.size(), "a pattern uses an event type outside the schema");
      by_type_[type].push_back(matcher); // declaration order within each type
    }
  }
}

RunLoop::~RunLoop() = default;

std::int64_t RunLoop::now() {
  std::int64_t t = options_.clock ? options_.clock() : systemClockMs();
  last_now_ = std::max(last_now_, t);
  return last_now_;
}

bool RunLoop::onRecord(std::uint32_t input, const Line &line) {
  CEP_ASSERT(!finished_ && input < input_names_.size(), "record after the end");
  if (status_ != RunStatus::Ok) {
    return false;
  }
  RecordCounts &counts = records_.inputs[input];
  ++counts.read;
  last_lines_[input] = line.number;
  next_input_ = static_cast<std::uint32_t>((input + 1) % input_names_.size());
  RecordContext context;
  context.input = input;
  context.line = line.number;
  context.seq = next_seq_++;
  context.ingestion_time = needs_clock_ ? now() : 0;
  context.bound_type = bound_types_[input];
  if (line.oversized > 0) {
    std::string reason = "record of " + std::to_string(line.oversized) +
                         " bytes is longer than --max-record-bytes " +
                         std::to_string(options_.max_record_bytes) + " (at byte offset " +
                         std::to_string(line.offset) + "; skipped to the next line)";
    return reject(input, line, reason);
  }
  DecodeResult result = decoder_.decode(line, context);

  switch (result.status) {
  case DecodeStatus::Rejected:
    return reject(input, line, result.reason);

  case DecodeStatus::Watermark:
    ++counts.watermarks;
    if (options_.time == TimeMode::Processing) {
      return true; // the wall clock is the watermark
    }
    watermarks_.onWatermark(input, result.watermark);
    return release();

  case DecodeStatus::Event:
    break;
  }

  EventRef &event = result.event;
  if (options_.time == TimeMode::Processing) {
    ++counts.accepted;
    event->time = context.ingestion_time;
    std::int64_t t = event->time;
    if (t > time_ && !advanceTo(t)) {
      return false;
    }
    dispatch(event);
    events_since_advance_ = true;
    return writeStep() && advanceTo(t); // the watermark is the arrival time
  }

  std::int64_t t = event->time;
  if (watermarks_.isLate(t)) {
    rejects_.late(input, line.number, line.text);
    return sideOutputsOk();
  }
  ++counts.accepted;
  if (!by_type_[event->type].empty()) { // no pattern reads it: nothing to keep it for
    PushResult pushed = buffer_.push(std::move(event));
    CEP_ASSERT(pushed == PushResult::Buffered, "the buffer's watermark is ahead of the inputs'");
  }
  watermarks_.onEvent(input, t);
  return release();
}

bool RunLoop::reject(std::uint32_t input, const Line &line, std::string_view reason) {
  rejects_.reject(input, line.number, reason, line.text, line.oversized);
  if (!sideOutputsOk()) {
    return false;
  }
  if (rejects_.failed()) {
    status_ = RunStatus::Rejected;
    message_ = input_names_[input] + ":" + std::to_string(line.number) +
               ": rejected record, stopping (--strict)";
    return false;
  }
  return true;
}

bool RunLoop::onInputEnd(std::uint32_t input) {
  if (status_ != RunStatus::Ok) {
    return false;
  }
  next_input_ = static_cast<std::uint32_t>((input + 1) % input_names_.size());
  watermarks_.finish(input);
  return options_.time == TimeMode::Processing || release();
}

bool RunLoop::release() {
  std::int64_t watermark = watermarks_.combined();
  if (watermark == kNoWatermark) {
    return true;
  }
  buffer_.advanceTo(watermark);
  EventRef event;
  while (buffer_.pop(event)) {
    std::int64_t t = event->time;
    if (t > time_ && !advanceTo(t)) { // before the events of time t
      return false;
    }
    dispatch(event);
    events_since_advance_ = true;
    if (!writeStep()) {
      return false;
    }
  }
  if (watermark == kEndWatermark) {
    return true; // +infinity is finish()'s
  }
  // After the batch, time advances to the watermark (docs/semantics.md §3).
  if (watermark > time_ || events_since_advance_) {
    return advanceTo(watermark);
  }
  return true;
}

bool RunLoop::advanceTo(std::int64_t time) {
  for (Matcher *matcher : matchers_) {
    matcher->advanceTime(time, step_outputs_);
  }
  time_ = time;
  events_since_advance_ = false;
  return writeStep();
}

bool RunLoop::sideOutputsOk() {
  for (OutputSink *side : options_.side_outputs) {
    if (options_.flush_each_step) {
      side->flush();
    }
    if (side->failed()) {
      status_ = RunStatus::OutputError;
      message_ = side->error();
      return false;
    }
  }
  return true;
}

void RunLoop::dispatch(const EventRef &event) {
  for (Matcher *matcher : by_type_[event->type]) {
    matcher->onEvent(event, step_outputs_);
  }
}

bool RunLoop::writeOutputs() {
  if (!step_outputs_.empty()) {
    std::stable_sort(step_outputs_.begin(), step_outputs_.end(), MatchOutput::before);
    for (const MatchOutput &output : step_outputs_) {
      out_.writeLine(output.json);
    }
    step_outputs_.clear();
    if (options_.flush_each_step) {
      out_.flush();
    }
  }
  if (out_.failed()) {
    status_ = RunStatus::OutputError;
    message_ = out_.error();
    return false;
  }
  return true;
}

bool RunLoop::finish() {
  if (finished_) {
    return status_ == RunStatus::Ok;
  }
  finished_ = true;
  if (status_ == RunStatus::Ok) {
    for (std::uint32_t input = 0; input < watermarks_.size(); ++input) {
      watermarks_.finish(input); // normally done already, one input at a time
    }
    buffer_.finish();
    if (options_.time == TimeMode::Processing || release()) {
      for (Matcher *matcher : matchers_) {
        matcher->finish(step_outputs_);
      }
      time_ = kEndOfTime;
      writeStep();
    }
  }
  stop();
  return status_ == RunStatus::Ok;
}

void RunLoop::stop() {
  stopped_ = true;
  rejects_.finish();
  if (!out_.flush() && status_ == RunStatus::Ok) {
    status_ = RunStatus::OutputError;
    message_ = out_.error();
  }
  for (OutputSink *side : options_.side_outputs) {
    if (!side->flush() && status_ == RunStatus::Ok) {
      status_ = RunStatus::OutputError;
      message_ = side->error();
    }
  }
}

RunStats RunLoop::stats() const {
  RunStats stats;
  stats.input_names = input_names_;
  stats.records = records_;
  for (const Matcher *matcher : matchers_) {
    stats.patterns.push_back({std::string(matcher->patternName()), matcher->stats()});
  }
  return stats;
}

ReadPosition RunLoop::position() const {
  ReadPosition position;
  for (std::uint32_t input = 0; input < input_names_.size(); ++input) {
    position.inputs.push_back(
        {records_.inputs[input].read, last_lines_[input], watermarks_.finished(input)});
  }
  position.next_input = next_input_;
  return position;
}

RunResult run(const Schema &schema, const std::vector<Matcher *> &matchers,
              const std::vector<InputSpec> &specs, OutputSink &out, const RunOptions &options,
              RunStats *stats) {
  auto started = std::chrono::steady_clock::now();
  Inputs inputs;
  std::string error;
  if (!inputs.open(specs, schema, error, options.read_size, options.max_record_bytes)) {
    return {RunStatus::InputError, error};
  }
  std::vector<std::int32_t> bound_types;
  for (std::uint32_t i = 0; i < inputs.size(); ++i) {
    bound_types.push_back(inputs.boundType(i));
  }
  RunLoop loop(schema, matchers, inputs.names(), std::move(bound_types), out, options);

  RunResult result;
  InputRecord record;
  bool reading = true;
  while (reading) {
    if (int signal = stopSignal(); signal != 0) {
      result = {RunStatus::Interrupted, "interrupted by " + signalName(signal)};
      break;
    }
    switch (inputs.next(record)) {
    case InputStatus::Record:
      reading = loop.onRecord(record.input, record.line);
      break;
    case InputStatus::Finished:
      reading = loop.onInputEnd(record.input);
      break;
    case InputStatus::Error:
      result = {RunStatus::InputError, inputs.error(record.input)};
      reading = false;
      break;
    case InputStatus::End:
      loop.finish();
      reading = false;
      break;
    case InputStatus::Interrupted:
      result = {RunStatus::Interrupted, "interrupted by " + signalName(stopSignal())};
      reading = false;
      break;
    }
  }
  loop.stop(); // rejection summaries, flush (a no-op after finish())
  // An output that failed while stopping outranks the stop signal: the exit code must say so.
  if ((result.status == RunStatus::Ok || result.status == RunStatus::Interrupted) &&
      loop.status() != RunStatus::Ok) {
    result = {loop.status(), loop.message()};
  }
  if (stats != nullptr) {
    *stats = loop.stats();
    stats->wall_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  }
  return result;
}

namespace {

// Columns separated by two spaces; the first left-aligned, the others right-aligned.
void appendTable(std::string &out, const std::vector<std::vector<std::string>> &rows) {
  std::vector<std::size_t> widths;
  for (const auto &row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (std::size_t c = 0; c < row.size(); ++c) {
      widths[c] = std::max(widths[c], row[c].size());
    }
  }
  for (const auto &row : rows) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      if (c > 0) {
        line += "  ";
        line.append(widths[c] - row[c].size(), ' ');
        line += row[c];
      } else {
        line += row[c];
        line.append(widths[c] - row[c].size(), ' ');
      }
    }
    while (!line.empty() && line.back() == ' ') {
      line.pop_back();
    }
    out += line;
    out += '\n';
  }
}

std::vector<std::string> countsRow(const std::string &name, const RecordCounts &c) {
  return {name,
          std::to_string(c.read),
          std::to_string(c.accepted),
          std::to_string(c.rejected),
          std::to_string(c.late),
          std::to_string(c.watermarks)};
}

std::vector<std::string> patternRow(const std::string &name, const MatcherStats &s,
                                    bool evictions) {
  std::vector<std::string> row{name,
                               std::to_string(s.events),
                               std::to_string(s.matches),
                               std::to_string(s.timeouts),
                               std::to_string(s.peak_runs),
                               std::to_string(s.peak_keys),
                               std::to_string(s.peak_bound_events),
                               std::to_string(s.peak_state_bytes)};
  if (evictions) {
    row.push_back(std::to_string(s.evicted));
  }
  return row;
}

} // namespace

std::string formatRunStats(const RunStats &stats, bool timing) {
  std::string out;
  std::vector<std::vector<std::string>> inputs{
      {"input", "read", "accepted", "rejected", "late", "watermarks"}};
  for (std::size_t i = 0; i < stats.records.inputs.size(); ++i) {
    inputs.push_back(countsRow(i < stats.input_names.size() ? stats.input_names[i]
                                                            : "input " + std::to_string(i),
                               stats.records.inputs[i]));
  }
  if (stats.records.inputs.size() != 1) {
    inputs.push_back(countsRow("total", stats.records.total()));
  }
  appendTable(out, inputs);

  out += '\n';
  std::vector<std::vector<std::string>> patterns{{"pattern", "events", "matches", "timeouts",
                                                  "peak runs", "peak keys", "peak bound",
                                                  "peak bytes"}};
  // The evicted column appears once a state bound (--max-runs-per-key, --max-state-bytes)
  // evicted anything.
  bool evictions = std::any_of(stats.patterns.begin(), stats.patterns.end(),
                               [](const PatternStats &p) { return p.stats.evicted != 0; });
  if (evictions) {
    patterns[0].push_back("evicted");
  }
  MatcherStats sum;
  for (const PatternStats &pattern : stats.patterns) {
    patterns.push_back(patternRow(pattern.name, pattern.stats, evictions));
    sum.evicted += pattern.stats.evicted;
    sum.events += pattern.stats.events;
    sum.matches += pattern.stats.matches;
    sum.timeouts += pattern.stats.timeouts;
    sum.peak_runs += pattern.stats.peak_runs;
    sum.peak_keys += pattern.stats.peak_keys;
    sum.peak_bound_events += pattern.stats.peak_bound_events;
    sum.peak_state_bytes += pattern.stats.peak_state_bytes;
  }
  // The total of the peaks is their sum: an upper bound of the peak of the whole.
  patterns.push_back(patternRow("total", sum, evictions));
  appendTable(out, patterns);

  if (timing) {
    std::uint64_t read = stats.records.total().read;
    double seconds = stats.wall_seconds;
    char line[128];
    std::snprintf(line, sizeof line, "\nwall time %.3f s, %.0f events/s\n", seconds,
                  seconds > 0 ? static_cast<double>(read) / seconds : 0.0);
    out += line;
  }
  return out;
}

} // namespace cep::runtime
