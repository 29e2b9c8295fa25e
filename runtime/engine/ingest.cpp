#include "runtime/engine/ingest.hpp"

#include "support/internal_error.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>

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
  if (options.watermark == WatermarkMode::Auto) {
    rejects.max_delay_ms = options.max_delay_ms;
  }
  return rejects;
}

DecoderOptions decoderOptions(const RunOptions &options) {
  DecoderOptions decoder;
  decoder.keep_raw = options.keep_raw;
  decoder.time_min = options.time_min;
  decoder.time_max = options.time_max;
  return decoder;
}

bool needsClock(const Schema &schema, const RunOptions &options) {
  return options.time == TimeMode::Processing ||
         std::any_of(schema.types.begin(), schema.types.end(),
                     [](const EventSchema &type) { return type.time_field < 0; });
}

// Empty when `b` describes the same event type as `a`, else what differs.
std::string typeDifference(const EventSchema &a, const EventSchema &b) {
  if (a.name != b.name) {
    return "type " + a.name + " became " + b.name;
  }
  if (a.fields.size() != b.fields.size()) {
    return "type " + a.name + " has " + std::to_string(a.fields.size()) + " fields, the new " +
           "schema gives it " + std::to_string(b.fields.size());
  }
  for (std::size_t i = 0; i < a.fields.size(); ++i) {
    const FieldSchema &f = a.fields[i];
    const FieldSchema &g = b.fields[i];
    if (f.name != g.name || f.kind != g.kind || f.nullable != g.nullable) {
      return "field " + std::to_string(i + 1) + " of type " + a.name + " is " + f.name + ": " +
             fieldKindName(f.kind) + (f.nullable ? "?" : "") + ", the new schema has " + g.name +
             ": " + fieldKindName(g.kind) + (g.nullable ? "?" : "");
    }
  }
  if (a.time_field != b.time_field) {
    return "type " + a.name + " changes its time field";
  }
  return {};
}

} // namespace

Ingest::Ingest(const Schema &schema, std::vector<std::string> input_names,
               std::vector<std::int32_t> bound_types, const RunOptions &options)
    : schema_(&schema), input_names_(std::move(input_names)), bound_types_(std::move(bound_types)),
      options_(options), needs_clock_(needsClock(schema, options)), records_(input_names_.size()),
      rejects_(input_names_, records_, rejectOptions(options)),
      decoder_(std::make_unique<JsonlDecoder>(schema, decoderOptions(options))),
      watermarks_(input_names_.size(), options.max_delay_ms, options.watermark),
      last_lines_(input_names_.size(), 0) {
  CEP_ASSERT(bound_types_.size() == input_names_.size(), "one bound type per input");
}

Ingest::~Ingest() = default;

std::int64_t Ingest::now() {
  std::int64_t t = options_.clock ? options_.clock() : systemClockMs();
  last_now_ = std::max(last_now_, t);
  return last_now_;
}

RecordContext Ingest::begin(std::uint32_t input, const Line &line) {
  CEP_ASSERT(input < input_names_.size(), "a record of an unknown input");
  CEP_ASSERT(status_ == RunStatus::Ok, "a record after the run stopped");
  ++records_.inputs[input].read;
  last_lines_[input] = line.number;
  next_input_ = input + 1 == input_names_.size() ? 0 : input + 1; // no division per record
  RecordContext context;
  context.input = input;
  context.line = line.number;
  context.seq = next_seq_++;
  // A message's timestamp is the event time of a type without a time field (event time only).
  context.ingestion_time =
      !needs_clock_ ? 0
      : line.source_time != kNoSourceTime && options_.time != TimeMode::Processing
          ? line.source_time
          : now();
  context.bound_type = bound_types_[input];
  return context;
}

IngestStatus Ingest::rejectOversized(std::uint32_t input, const Line &line) {
  std::string reason =
      "record of " + std::to_string(line.oversized) + " bytes is longer than --max-record-bytes " +
      std::to_string(options_.max_record_bytes) +
      (rejects_.hasOrigin(input)
           ? std::string(" (a message: its first bytes are kept)")
           : " (at byte offset " + std::to_string(line.offset) + "; skipped to the next line)");
  return reject(input, line, reason);
}

IngestStatus Ingest::onRecord(std::uint32_t input, const Line &line, EventRef &event) {
  RecordContext context = begin(input, line);
  if (line.oversized > 0) {
    return rejectOversized(input, line);
  }
  DecodeResult result = decoder_->decode(line, context);
  return decoded(input, line, context, result, event);
}

std::unique_ptr<JsonlDecoder> Ingest::makeDecoder() const {
  return std::make_unique<JsonlDecoder>(*schema_, decoderOptions(options_));
}

IngestStatus Ingest::onDecoded(std::uint32_t input, const Line &line, std::uint64_t seq,
                               DecodeResult &result, EventRef &event) {
  CEP_ASSERT(canDecodeAhead(), "a record decoded ahead where decoding needs the clock");
  RecordContext context = begin(input, line);
  CEP_ASSERT(context.seq == seq, "a record decoded ahead with another arrival number");
  if (line.oversized > 0) {
    return rejectOversized(input, line);
  }
  return decoded(input, line, context, result, event);
}

IngestStatus Ingest::decoded(std::uint32_t input, const Line &line, const RecordContext &context,
                             DecodeResult &result, EventRef &event) {
  RecordCounts &counts = records_.inputs[input];
  switch (result.status) {
  case DecodeStatus::Rejected:
    return reject(input, line, result.reason);

  case DecodeStatus::Watermark:
    ++counts.watermarks;
    if (options_.time == TimeMode::Processing) {
      return IngestStatus::Skipped; // the wall clock is the watermark
    }
    watermarks_.onWatermark(input, result.watermark);
    return IngestStatus::Watermark;

  case DecodeStatus::Event:
    break;
  }

  event = std::move(result.event);
  if (options_.time == TimeMode::Processing) {
    ++counts.accepted;
    event->time = context.ingestion_time;
    return IngestStatus::Event;
  }
  std::int64_t t = event->time;
  if (watermarks_.isLate(t)) {
    if (late_handler_ && late_handler_(event)) {
      ++counts.accepted; // an aggregate counted it (spec §8.3)
      event = EventRef();
      return IngestStatus::Skipped;
    }
    event = EventRef();
    rejects_.late(input, line.number, line.text, watermarks_.combined() - t);
    return sideOutputsOk() ? IngestStatus::Skipped : IngestStatus::Stop;
  }
  ++counts.accepted;
  watermarks_.onEvent(input, t);
  return IngestStatus::Event;
}

bool Ingest::setCounted(std::uint32_t input, bool counted) {
  std::int64_t before = watermarks_.combined();
  watermarks_.setCounted(input, counted);
  return watermarks_.combined() != before;
}

IngestStatus Ingest::reject(std::uint32_t input, const Line &line, std::string_view reason) {
  rejects_.reject(input, line.number, reason, line.text, line.oversized);
  if (!sideOutputsOk()) {
    return IngestStatus::Stop;
  }
  if (rejects_.failed()) {
    status_ = RunStatus::Rejected;
    message_ = input_names_[input] + ":" + std::to_string(line.number) +
               ": rejected record, stopping (--strict)";
    return IngestStatus::Stop;
  }
  return IngestStatus::Skipped;
}

bool Ingest::sideOutputsOk() {
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

void Ingest::onInputEnd(std::uint32_t input) {
  CEP_ASSERT(input < input_names_.size(), "the end of an unknown input");
  next_input_ = static_cast<std::uint32_t>((input + 1) % input_names_.size());
  watermarks_.finish(input);
}

void Ingest::finishAll() {
  for (std::uint32_t input = 0; input < watermarks_.size(); ++input) {
    watermarks_.finish(input); // normally done already, one input at a time
  }
}

void Ingest::extendSchema(const Schema &larger) {
  const Schema &old = *schema_;
  if (larger.types.size() < old.types.size()) {
    throw std::invalid_argument("the new schema has " + std::to_string(larger.types.size()) +
                                " event types, fewer than the " + std::to_string(old.types.size()) +
                                " in use");
  }
  for (std::size_t i = 0; i < old.types.size(); ++i) {
    if (std::string why = typeDifference(old.types[i], larger.types[i]); !why.empty()) {
      throw std::invalid_argument("the new schema changes a type in use: " + why);
    }
  }
  for (std::size_t i = old.types.size(); i < larger.types.size(); ++i) {
    if (old.typeIndex(larger.types[i].name) >= 0 ||
        larger.typeIndex(larger.types[i].name) != static_cast<std::int32_t>(i)) {
      throw std::invalid_argument("the new schema declares type " + larger.types[i].name +
                                  " twice");
    }
  }
  decoder_ = std::make_unique<JsonlDecoder>(larger, decoderOptions(options_));
  schema_ = &larger;
  needs_clock_ = needsClock(larger, options_);
}

void Ingest::finishReports() {
  rejects_.finish();
}

bool Ingest::flushSideOutputs() {
  for (OutputSink *side : options_.side_outputs) {
    if (!side->flush() && status_ == RunStatus::Ok) {
      status_ = RunStatus::OutputError;
      message_ = side->error();
    }
  }
  return status_ == RunStatus::Ok;
}

ReadPosition Ingest::position() const {
  ReadPosition position;
  for (std::uint32_t input = 0; input < input_names_.size(); ++input) {
    position.inputs.push_back(
        {records_.inputs[input].read, last_lines_[input], watermarks_.finished(input)});
  }
  position.next_input = next_input_;
  return position;
}

} // namespace cep::runtime
