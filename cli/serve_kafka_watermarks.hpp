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
// owner speaks. A repartition partition given to this process starts with nothing heard (the
// records before where it resumes are not read again).
#pragma once

#include "runtime/io/record_source.hpp"
#include "runtime/kafka/kafka_source.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace cep::cli {

// The record above; parsed back by parsePartitionWatermark (false: not one, e.g. an event or a
// plain {"@watermark": T} record, which is handed on as it is).
std::string partitionWatermark(std::int64_t time, std::int32_t partition);
bool parsePartitionWatermark(std::string_view text, std::int64_t &time, std::int32_t &partition);

// The matching stage's source: the repartition topic's KafkaSource, whose partition watermark
// records are combined as above (none of them reaches the decoder).
class RepartitionedSource final : public runtime::RecordSource {
public:
  // `input_partitions`: the input topic's partition count (the first stage's metadata).
  RepartitionedSource(std::unique_ptr<runtime::kafka::KafkaSource> inner,
                      std::uint32_t input_partitions);
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

private:
  std::unique_ptr<runtime::kafka::KafkaSource> inner_;
  std::uint32_t inputs_;
  std::vector<std::vector<std::int64_t>> heard_; // [repartition partition][input partition]
  std::vector<std::int64_t> handed_;             // per repartition partition
  std::vector<bool> was_assigned_;
  std::uint64_t seen_version_ = ~std::uint64_t{0};
  bool logged_outside_ = false;
  std::string buffer_; // the combined record handed out
  void forgetUnassigned();
};

} // namespace cep::cli
