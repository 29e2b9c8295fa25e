// Watermarks through the repartition topic (serve_kafka_watermarks.hpp).
#include "cli/serve_kafka_watermarks.hpp"

#include "runtime/io/line_reader.hpp"

#include <algorithm>
#include <charconv>
#include <iostream>
#include <limits>

namespace cep::cli {

namespace {

constexpr std::int64_t kNone = std::numeric_limits<std::int64_t>::min();
constexpr std::string_view kHead = "{\"@watermark\":";
constexpr std::string_view kMiddle = ",\"@partition\":";

} // namespace

std::string partitionWatermark(std::int64_t time, std::int32_t partition) {
  std::string text(kHead);
  text += std::to_string(time);
  text += kMiddle;
  text += std::to_string(partition);
  text += '}';
  return text;
}

bool parsePartitionWatermark(std::string_view text, std::int64_t &time, std::int32_t &partition) {
  if (!text.starts_with(kHead)) {
    return false;
  }
  const char *at = text.data() + kHead.size();
  const char *end = text.data() + text.size();
  auto [after_time, e1] = std::from_chars(at, end, time);
  if (e1 != std::errc() ||
      std::string_view(after_time, end - after_time).substr(0, kMiddle.size()) != kMiddle) {
    return false;
  }
  auto [after_partition, e2] = std::from_chars(after_time + kMiddle.size(), end, partition);
  return e2 == std::errc() && after_partition + 1 == end && *after_partition == '}';
}

RepartitionedSource::RepartitionedSource(std::unique_ptr<runtime::kafka::KafkaSource> inner,
                                         std::uint32_t input_partitions)
    : inner_(std::move(inner)), inputs_(input_partitions),
      heard_(inner_->splits(), std::vector<std::int64_t>(input_partitions, kNone)),
      handed_(inner_->splits(), kNone), was_assigned_(inner_->splits(), false) {}

void RepartitionedSource::forgetUnassigned() {
  // A repartition partition given up: what was heard through it is its next owner's to hear
  // again (it resumes before those records or after them); taken again, it starts afresh.
  if (inner_->countsVersion() == seen_version_) {
    return;
  }
  seen_version_ = inner_->countsVersion();
  for (std::uint32_t p = 0; p < heard_.size(); ++p) {
    const bool now = inner_->assigned(p);
    if (was_assigned_[p] && !now) {
      std::fill(heard_[p].begin(), heard_[p].end(), kNone);
      handed_[p] = kNone;
    }
    was_assigned_[p] = now;
  }
}

runtime::ReadStatus RepartitionedSource::next(std::uint32_t &split, runtime::Line &line) {
  for (;;) {
    runtime::ReadStatus status = inner_->next(split, line);
    forgetUnassigned();
    std::int64_t time = 0;
    std::int32_t from = 0;
    if (status != runtime::ReadStatus::Line || line.oversized != 0 ||
        !parsePartitionWatermark(line.text, time, from)) {
      return status;
    }
    if (from < 0 || static_cast<std::uint32_t>(from) >= inputs_ || split >= heard_.size()) {
      if (!logged_outside_) {
        logged_outside_ = true;
        std::cerr << "cep serve: kafka: " << inner_->splitName(split) << "@" << line.offset
                  << ": a watermark of input partition " << from << ", the input topic has "
                  << inputs_ << " (grown since?): not counted (logged once)\n";
      }
      continue;
    }
    std::int64_t &mine = heard_[split][static_cast<std::size_t>(from)];
    mine = std::max(mine, time); // the new owner of an input partition may say an older one
    const std::int64_t low = *std::min_element(heard_[split].begin(), heard_[split].end());
    if (low == kNone || low <= handed_[split]) {
      continue; // an input partition not heard of yet, or the minimum did not rise
    }
    handed_[split] = low;
    buffer_.assign(kHead);
    buffer_ += std::to_string(low);
    buffer_ += '}';
    const std::size_t size = buffer_.size();
    buffer_.append(runtime::kLinePadding, '\0');
    line.text = std::string_view(buffer_.data(), size);
    line.capacity = buffer_.size();
    return status;
  }
}

} // namespace cep::cli
