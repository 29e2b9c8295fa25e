// A source of records that are not lines of a file: a set of splits (Kafka's partitions of a
// topic, runtime/kafka/kafka_source.hpp) read through one client. Inputs::addSource makes each
// split an input of its own, so each split is its own watermark partition (Flink's
// per-partition watermarks), counted in the combined watermark only while counts() says so
// (assigned to this process and not idle longer than --idle-timeout).
//
// The loop thread alone calls a source. next() never blocks: Pending means nothing has arrived;
// the caller then waits with poll() on fd() (readable when a record may have come) and at most
// wakeWithinMs() (when counts() may change by itself, an idle timeout).
//
//   class MySource final : public RecordSource { ... };
//   Inputs inputs;
//   inputs.open(file_specs, schema, error);
//   inputs.addSource(std::make_unique<MySource>(...), /*bound_type=*/-1);
//   // inputs.size() == file_specs.size() + source.splits(); inputs.name(i) is splitName(i - n)
#pragma once

#include "runtime/io/line_reader.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace cep::runtime {

// Where the records of a split come from, for its dead letters (io/rejects.hpp): the topic and
// partition; a record's Line::number is the message's offset in it.
struct PartitionOrigin {
  std::string topic;
  std::int32_t partition = 0;
};

class RecordSource {
public:
  virtual ~RecordSource() = default;

  // How many splits; fixed once the source is open.
  virtual std::uint32_t splits() const = 0;
  // The input name of `split` (messages, metrics, dead letters).
  virtual std::string splitName(std::uint32_t split) const = 0;
  virtual std::optional<PartitionOrigin> origin(std::uint32_t split) const = 0;
  // The next record of any split: Line (with `split` set; the line stays valid until the next
  // call), Pending (nothing now), Error (error() says why; the source is finished) or
  // Interrupted. Never End: a source runs until it is stopped.
  virtual ReadStatus next(std::uint32_t &split, Line &line) = 0;
  // Readable when next() may have a record; -1: none (then wakeWithinMs bounds the wait).
  virtual int fd() const = 0;
  // The longest the caller may wait before calling next() or counts() again; -1: no limit.
  virtual int wakeWithinMs() const = 0;
  // Whether `split` counts in the combined watermark now.
  virtual bool counts(std::uint32_t split) const = 0;
  // Grows whenever counts() of some split changes (cheap to compare after each record).
  virtual std::uint64_t countsVersion() const = 0;
  virtual const std::string &error() const = 0;
};

} // namespace cep::runtime
