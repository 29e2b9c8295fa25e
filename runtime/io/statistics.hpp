// Record counts per input and in total. Every non-blank line read is exactly one of: accepted
// (decoded and buffered for matching), rejected, late, or a watermark instruction.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cep::runtime {

struct RecordCounts {
  std::uint64_t read = 0;       // non-blank lines
  std::uint64_t accepted = 0;   // events handed on (not late)
  std::uint64_t rejected = 0;   // not JSON, wrong shape or type (spec §5)
  std::uint64_t late = 0;       // events at or before the watermark (spec §4)
  std::uint64_t watermarks = 0; // `{"@watermark": ...}` lines

  RecordCounts &operator+=(const RecordCounts &other);
  bool operator==(const RecordCounts &other) const = default;
};

struct Statistics {
  std::vector<RecordCounts> inputs; // indexed like the inputs

  explicit Statistics(std::size_t input_count = 0) : inputs(input_count) {}
  RecordCounts total() const;
};

// `events.jsonl: 1000 read, 990 accepted, 7 rejected, 3 late, 0 watermarks` per input, then a
// `total:` line when there is more than one input.
std::string formatStatistics(const Statistics &stats, const std::vector<std::string> &names);

} // namespace cep::runtime
