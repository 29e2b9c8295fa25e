// Ingestion: what happens to one record before the driver sees it (docs/semantics.md §3-§5).
// Each record of an input gets the next arrival number and is decoded by schema; what does not
// decode (or is longer than --max-record-bytes, or outside --event-time-range) is a dead letter,
// an event at or before the combined watermark is late (late output), and an accepted event
// raises its input's watermark. `@watermark` lines move the watermark (event time only).
// Ingest keeps the per-input record counts, the per-input watermarks and read positions, and
// owns the decoder; it neither buffers nor matches (engine/driver does).
//
//   Ingest ingest(schema, {"a.jsonl"}, {-1}, options);
//   EventRef event;
//   switch (ingest.onRecord(0, line, event)) {
//   case IngestStatus::Event:     driver.push(std::move(event)); [[fallthrough]];
//   case IngestStatus::Watermark: driver.release(ingest.watermark()); break;
//   case IngestStatus::Skipped:   break;                  // dead letter, late, or nothing to do
//   case IngestStatus::Stop:      return ingest.message(); // --strict, or a side output failed
//   }
//
// The schema may grow between two records (`cep serve` loading an artifact with a new event
// type): extendSchema(larger) keeps every type's index and definition and appends the new ones.
#pragma once

#include "runtime/engine/run_options.hpp"
#include "runtime/event.hpp"
#include "runtime/io/jsonl_decoder.hpp"
#include "runtime/io/line_reader.hpp"
#include "runtime/io/rejects.hpp"
#include "runtime/io/statistics.hpp"
#include "runtime/schema.hpp"
#include "runtime/time/watermarks.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace cep::runtime {

enum class IngestStatus : std::uint8_t {
  Event,     // an accepted event (its time set; its input's watermark raised)
  Watermark, // an `@watermark` line moved its input's watermark (event time)
  Skipped,   // a dead letter, a late event, or a `@watermark` line under processing time
  Stop,      // the run must stop: --strict rejected the record, or a side output failed
};

class Ingest {
public:
  // `schema` must outlive the Ingest (or be replaced by extendSchema). `input_names` and
  // `bound_types` (-1: none) are indexed by input.
  Ingest(const Schema &schema, std::vector<std::string> input_names,
         std::vector<std::int32_t> bound_types, const RunOptions &options);
  ~Ingest();
  Ingest(const Ingest &) = delete;
  Ingest &operator=(const Ingest &) = delete;

  // One record of `input` as LineReader hands it out (padded). With Event, `event` holds it.
  IngestStatus onRecord(std::uint32_t input, const Line &line, EventRef &event);
  // Decoding ahead on other threads (engine/decode_ahead.hpp): possible when decoding needs
  // nothing but a record's text and context (no type without a time field: their time is the
  // clock's); each thread decodes with a decoder of its own (makeDecoder), with the context
  // onRecord would give: input, line, the arrival number nextSeq() will have then, the bound
  // type. onDecoded is then onRecord with the decoding done (`result`; Rejected and not decoded
  // when the line is oversized), the record's seq checked.
  bool canDecodeAhead() const { return !needs_clock_; }
  std::unique_ptr<JsonlDecoder> makeDecoder() const;
  const std::vector<std::int32_t> &boundTypes() const { return bound_types_; }
  IngestStatus onDecoded(std::uint32_t input, const Line &line, std::uint64_t seq,
                         DecodeResult &result, EventRef &event);
  // Event time: a late event is first offered to `handler` (the driver's operators: an
  // aggregate with `lateness` may count it, spec §8.3); only when it returns false does the
  // record go to the late output. A handler that returns true counts the event as accepted.
  // Unset (the default): every late event goes to the late output.
  //   ingest.setLateHandler([&](const EventRef &e) { bool taken; driver.onLate(e, taken);
  //                                                    return taken; });
  void setLateHandler(std::function<bool(const EventRef &)> handler) {
    late_handler_ = std::move(handler);
  }
  // Whether `input` counts in the combined watermark (Watermarks::setCounted; a Kafka
  // partition not assigned, or idle). False when the combined watermark did not move.
  bool setCounted(std::uint32_t input, bool counted);
  // Raises `input`'s watermark to `watermark` (never back), as an `@watermark` line would,
  // without a record: a Kafka partition that comes back from a catch-up of its own
  // (docs/kafka.md "A partition taken over behind the member") or starts one at its restored
  // watermark.
  void raiseWatermark(std::uint32_t input, std::int64_t watermark) {
    watermarks_.onWatermark(input, watermark);
  }
  // Adds `counts` to `input`'s record counts: what a catch-up's own run loop read of it
  // (records it never saw: its counts in stats() and /metrics).
  void addCounts(std::uint32_t input, const RecordCounts &counts) {
    records_.inputs[input] += counts;
  }
  // `input`'s records are the messages of a topic partition: its dead letters say so
  // (Rejects::setOrigin).
  void setOrigin(std::uint32_t input, PartitionOrigin origin) {
    rejects_.setOrigin(input, std::move(origin));
  }
  // `input` has ended: its watermark becomes +infinity.
  void onInputEnd(std::uint32_t input);
  // Every input has ended (end of a `cep run`).
  void finishAll();

  // Replaces the schema by `larger`, which must begin with the current types unchanged (same
  // names, fields, kinds, time field); its further types become decodable from the next record.
  // Throws std::invalid_argument naming the first difference otherwise. `larger` must outlive
  // the Ingest.
  void extendSchema(const Schema &larger);

  // The epoch ms now (RunOptions::clock or the system clock), never going backwards.
  std::int64_t now();

  const Schema &schema() const { return *schema_; }
  std::int64_t watermark() const { return watermarks_.combined(); }
  const Watermarks &watermarks() const { return watermarks_; }
  const Statistics &records() const { return records_; }
  const std::vector<std::string> &inputNames() const { return input_names_; }
  ReadPosition position() const;
  // The arrival seq the next record gets; raised (never lowered) past the seqs of state brought
  // in from another process (runtime/state/partition_state.hpp), so later events sort after it.
  std::uint64_t nextSeq() const { return next_seq_; }
  void raiseNextSeq(std::uint64_t seq) { next_seq_ = seq > next_seq_ ? seq : next_seq_; }

  // Why onRecord returned Stop: Rejected (--strict) or OutputError (a side output).
  RunStatus status() const { return status_; }
  const std::string &message() const { return message_; }

  // End of the run: the rejection summaries (once).
  void finishReports();
  // Flushes the side outputs; false (status() OutputError) when one of them failed.
  bool flushSideOutputs();

private:
  friend struct RunSnapshotAccess; // run_snapshot.cpp reads and sets the state below

  IngestStatus reject(std::uint32_t input, const Line &line, std::string_view reason);
  // onRecord before decoding: counts, positions, the record's context. Reject: oversized.
  RecordContext begin(std::uint32_t input, const Line &line);
  IngestStatus rejectOversized(std::uint32_t input, const Line &line);
  // onRecord after decoding.
  IngestStatus decoded(std::uint32_t input, const Line &line, const RecordContext &context,
                       DecodeResult &result, EventRef &event);
  // After a dead letter or late event: flush the side outputs when streaming; false (status_
  // set) once one of them failed.
  bool sideOutputsOk();

  const Schema *schema_;
  std::vector<std::string> input_names_;
  std::vector<std::int32_t> bound_types_;
  RunOptions options_;
  bool needs_clock_; // some type has no time field, or processing time

  Statistics records_;
  Rejects rejects_;
  std::unique_ptr<JsonlDecoder> decoder_;
  Watermarks watermarks_;

  std::uint64_t next_seq_ = 0;
  std::vector<std::uint64_t> last_lines_; // per input: line of the last record
  std::uint32_t next_input_ = 0;          // ReadPosition::next_input
  std::int64_t last_now_ = kNoWatermark;
  RunStatus status_ = RunStatus::Ok;
  std::string message_;
  std::function<bool(const EventRef &)> late_handler_;
};

} // namespace cep::runtime
