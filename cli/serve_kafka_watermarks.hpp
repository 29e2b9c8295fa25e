// Watermarks through the repartition topic (`cep serve --repartition`; docs/kafka.md
// "Repartition", "Watermarks"). Every partition of `<group>-repartition` mixes every partition
// of the input topic, and with --scale-out several members republish into it, each for the
// input partitions its first stage holds. So a watermark record of input partition P is
// republished to every repartition partition saying whose it is,
//
//   {"@watermark":1767618000000,"@partition":2}
//
// and the matching stage keeps, per repartition partition, the latest watermark heard of each
// input partition: the partition's watermark is their minimum over every partition of the input
// topic (the count from its metadata, not the members heard from), handed to the loop as a
// plain {"@watermark": T} record when it rises. An input partition not heard of yet holds it
// back; one whose first stage moved to another member keeps its last watermark until the new
// owner speaks.
//
// Idleness (--idle-timeout D): when the first stage finds input partition P silent for D (the
// rule of a plain input: caught up and no message for D of wall time), it says so to every
// repartition partition,
//
//   {"@idle":true,"@partition":2}
//
// and the matching stage leaves P out of the minimum until P's next watermark record, which
// the first stage sends when P has a message again (P's last watermark, or
// {"@idle":false,"@partition":2} when it has none yet). When every input partition is idle,
// the highest watermark heard stands for them all (as Flink's StatusWatermarkValve does when
// all its channels are idle): nothing holds the rest back any more.
//
// What a repartition partition has heard (InputWatermarks) is in its changelog record and in
// the checkpoint (encode/decode below), so a partition taken over or read again after a
// restart resumes with it instead of waiting for every input partition to speak again.
#pragma once

#include "runtime/io/record_source.hpp"
#include "runtime/kafka/kafka_source.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace cep::runtime::metrics {
class Registry;
class Gauge;
} // namespace cep::runtime::metrics

namespace cep::cli {

// The records above; parsed back by parsePartitionWatermark / parsePartitionIdle (false: not
// one, e.g. an event or a plain {"@watermark": T} record, which is handed on as it is).
std::string partitionWatermark(std::int64_t time, std::int32_t partition);
bool parsePartitionWatermark(std::string_view text, std::int64_t &time, std::int32_t &partition);
std::string partitionIdle(bool idle, std::int32_t partition);
bool parsePartitionIdle(std::string_view text, bool &idle, std::int32_t &partition);

// What one repartition partition (or a catch-up of one) has heard of the input partitions.
struct InputWatermarks {
  static constexpr std::int64_t kNone = INT64_MIN;
  std::vector<std::int64_t> heard; // per input partition; kNone: not heard
  std::vector<std::uint8_t> idle;  // per input partition; 1: left out of the minimum
  std::int64_t handed = kNone;     // the minimum last handed to the loop

  explicit InputWatermarks(std::uint32_t inputs = 0) { reset(inputs); }
  void reset(std::uint32_t inputs);
  bool empty() const { return heard.empty(); }
  std::uint32_t idleCount() const;

  enum class Take {
    NotOne,  // not a record of the first stage: hand it on
    Outside, // of an input partition the topic does not have (grown since the start?)
    Taken,   // taken; the minimum did not rise
    Rose,    // taken; the minimum rose: hand {"@watermark": handed} to the loop
  };
  // `from`: the input partition the record is of; `idle_changed` when its idleness changed.
  Take take(std::string_view text, std::int32_t &from, bool &idle_changed);
  // The minimum over the input partitions not idle (kNone: one of them not heard yet); when
  // every one is idle, the highest heard (kNone: none heard).
  std::int64_t low() const;
  // Restored from a changelog record or a checkpoint: heard and idleness taken over (each
  // heard watermark never goes back); `handed` left for the next record to hand.
  void restore(const std::vector<std::int64_t> &heard_at, const std::vector<std::uint8_t> &idle_at);
};

// Per repartition partition, what it had heard (a checkpoint's section "repartition-watermarks":
// u32 count, per entry u32 partition, u32 inputs, per input i64 heard, u8 idle).
struct HeardState {
  std::vector<std::int64_t> heard;
  std::vector<std::uint8_t> idle;
};
std::string encodeHeard(const std::map<std::uint32_t, HeardState> &by_partition);
// Throws std::runtime_error("bad repartition-watermarks section: ...") on anything else.
std::map<std::uint32_t, HeardState> decodeHeard(std::string_view in);

// The matching stage's source: the repartition topic's KafkaSource, whose partition watermark
// and idleness records are combined as above (none of them reaches the decoder).
class RepartitionedSource final : public runtime::RecordSource {
public:
  // `input_partitions`: the input topic's partition count (the first stage's metadata).
  // `registry`: cep_kafka_repartition_idle_inputs{partition} (null: none).
  RepartitionedSource(std::unique_ptr<runtime::kafka::KafkaSource> inner,
                      std::uint32_t input_partitions, runtime::metrics::Registry *registry);
  std::uint32_t splits() const override { return inner_->splits(); }
  std::string splitName(std::uint32_t split) const override { return inner_->splitName(split); }
  std::optional<runtime::PartitionOrigin> origin(std::uint32_t split) const override {
    return inner_->origin(split);
  }
  runtime::ReadStatus next(std::uint32_t &split, runtime::Line &line) override;
  int fd() const override { return inner_->fd(); }
  int wakeWithinMs() const override { return inner_->wakeWithinMs(); }
  bool counts(std::uint32_t split) const override { return inner_->counts(split); }
  std::uint64_t countsVersion() const override { return inner_->countsVersion(); }
  const std::string &error() const override { return inner_->error(); }

  // What repartition partition `split` has heard (for its changelog record and the checkpoint).
  HeardState heard(std::uint32_t split) const;
  // A restore (changelog record, checkpoint): partition `split` resumes with `state`; the next
  // record of the first stage read through it hands their minimum (the messages from where it
  // resumes to where its writer had read are read again and raise it as they did).
  void restore(std::uint32_t split, const HeardState &state);

private:
  std::unique_ptr<runtime::kafka::KafkaSource> inner_;
  std::uint32_t inputs_;
  std::vector<InputWatermarks> heard_; // per repartition partition
  std::vector<bool> was_assigned_;
  std::uint64_t seen_version_ = ~std::uint64_t{0};
  bool logged_outside_ = false;
  std::string buffer_; // the combined record handed out
  std::vector<runtime::metrics::Gauge *> idle_gauges_;
  void forgetUnassigned();
};

} // namespace cep::cli
