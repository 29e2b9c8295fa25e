// What happens to records that are not matched (spec §4, §5). A rejected record is counted,
// reported on the report stream (stderr) as `events.jsonl:17: rejected: <reason>` for the first
// `report_limit` of each input (then one summary line per input at finish()), and written to the
// dead-letter output as `{"input":"events.jsonl","line":17,"reason":"...","record":"<line>"}`:
// "record" holds the record's exact bytes as a JSON string when they are valid UTF-8, else the
// member is "record_base64" (RFC 4648 base64 of the bytes), so every dead letter can be
// replayed byte for byte. A record longer than --max-record-bytes is not kept whole: "record"
// (or "record_base64") holds its first bytes (at most kOversizedPrefix, cut back to a whole UTF-8
// character), followed by `"record_bytes":<its length>,"truncated":true`.
// An input that is a Kafka partition (setOrigin) is reported as `payments[2]@57: rejected: ...`
// and its dead letters carry `"topic":"payments","partition":2,"offset":57` in place of "line"
// (its records' line numbers are their message offsets).
// A late event is counted and its record written, as read, to the late-events output. In strict
// mode the first rejection makes failed() true; the caller stops.
#pragma once

#include "runtime/io/record_source.hpp"
#include "runtime/io/statistics.hpp"

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace cep::runtime {

struct RejectOptions {
  std::ostream *report = nullptr;      // stderr in the CLI; null: silent
  std::ostream *dead_letter = nullptr; // null: not written
  std::ostream *late_output = nullptr; // null: not written
  std::size_t report_limit = 10;       // rejections reported per input
  bool strict = false;
  // The --max-delay of bounded-delay watermarks, for the summary's hint of the delay that would
  // have kept every late event; -1: no hint (explicit `@watermark` lines).
  std::int64_t max_delay_ms = -1;
};

// The end-of-run line for `counts.late` events of `input` set aside as late and written nowhere
// (Rejects::finish), e.g. `events.jsonl: warning: 463 of 2049 events (22.6%) were late (at or
// before the watermark) and not matched; --max-delay 42m would have kept them all, ...`.
std::string lateSummary(std::string_view input, const RecordCounts &counts,
                        std::int64_t max_delay_ms, std::int64_t behind_ms);

class Rejects {
public:
  // `stats` must outlive this object; rejected and late counts are kept there.
  Rejects(std::vector<std::string> input_names, Statistics &stats, RejectOptions options);

  // `input`'s records are the messages of a topic partition (above); `line` is their offset.
  void setOrigin(std::uint32_t input, PartitionOrigin origin);
  bool hasOrigin(std::uint32_t input) const {
    return input < origins_.size() && origins_[input].has_value();
  }

  // `record_bytes` non-zero: `record` is only the start of a record of that many bytes.
  void reject(std::uint32_t input, std::uint64_t line, std::string_view reason,
              std::string_view record, std::uint64_t record_bytes = 0);
  // `behind_ms`: how far the event's time is at or before the watermark (watermark - time, >= 0).
  void late(std::uint32_t input, std::uint64_t line, std::string_view record,
            std::int64_t behind_ms = 0);
  // Summary lines for what the rate limit held back, and late events per input not written to
  // a late output: how many of the input's events, and (bounded delay) the --max-delay that would
  // have kept them all, a warning when they are 1% or more of the events. Once.
  void finish();

  bool strict() const { return options_.strict; }
  bool failed() const { return options_.strict && failed_; }
  const Statistics &statistics() const { return *stats_; }

private:
  std::vector<std::string> names_;
  std::vector<std::optional<PartitionOrigin>> origins_; // by input; empty: files only
  Statistics *stats_;
  RejectOptions options_;
  std::vector<std::int64_t> late_behind_; // by input: the most a late event was behind
  std::string buffer_;
  bool failed_ = false;
  bool finished_ = false;
};

} // namespace cep::runtime
