// Watermarks and idleness through the repartition topic (serve_kafka_watermarks.hpp).
#include "cli/serve_kafka_watermarks.hpp"

#include "runtime/io/line_reader.hpp"
#include "runtime/metrics/registry.hpp"
#include "runtime/snapshot_codec.hpp"

#include <algorithm>
#include <charconv>
#include <iostream>
#include <limits>

namespace cep::cli {

namespace {

constexpr std::int64_t kNone = InputWatermarks::kNone;
constexpr std::string_view kHead = "{\"@watermark\":";
constexpr std::string_view kIdleTrue = "{\"@idle\":true";
constexpr std::string_view kIdleFalse = "{\"@idle\":false";
constexpr std::string_view kMiddle = ",\"@partition\":";

// `at` is just after a record's head: ,"@partition":P} to its end.
bool parseTail(const char *at, const char *end, std::int32_t &partition) {
  if (std::string_view(at, end - at).substr(0, kMiddle.size()) != kMiddle) {
    return false;
  }
  auto [after, e] = std::from_chars(at + kMiddle.size(), end, partition);
  return e == std::errc() && after + 1 == end && *after == '}';
}

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
  return e1 == std::errc() && parseTail(after_time, end, partition);
}

std::string partitionIdle(bool idle, std::int32_t partition) {
  std::string text(idle ? kIdleTrue : kIdleFalse);
  text += kMiddle;
  text += std::to_string(partition);
  text += '}';
  return text;
}

bool parsePartitionIdle(std::string_view text, bool &idle, std::int32_t &partition) {
  const char *end = text.data() + text.size();
  if (text.starts_with(kIdleTrue)) {
    idle = true;
    return parseTail(text.data() + kIdleTrue.size(), end, partition);
  }
  if (text.starts_with(kIdleFalse)) {
    idle = false;
    return parseTail(text.data() + kIdleFalse.size(), end, partition);
  }
  return false;
}

void InputWatermarks::reset(std::uint32_t inputs) {
  heard.assign(inputs, kNone);
  idle.assign(inputs, 0);
  handed = kNone;
}

std::uint32_t InputWatermarks::idleCount() const {
  return static_cast<std::uint32_t>(std::count(idle.begin(), idle.end(), 1));
}

std::int64_t InputWatermarks::low() const {
  std::int64_t low = std::numeric_limits<std::int64_t>::max();
  std::int64_t high = kNone;
  bool any = false;
  for (std::size_t p = 0; p < heard.size(); ++p) {
    high = std::max(high, heard[p]);
    if (idle[p] == 0) {
      any = true;
      low = std::min(low, heard[p]);
    }
  }
  // Every input partition idle: none will hold the others back any more, so the highest heard
  // (as Flink's StatusWatermarkValve flushes the largest watermark of its channels when all
  // are idle).
  return any ? low : high;
}

InputWatermarks::Take InputWatermarks::take(std::string_view text, std::int32_t &from,
                                            bool &idle_changed) {
  idle_changed = false;
  std::int64_t time = kNone;
  bool idle_now = false;
  const bool watermark = parsePartitionWatermark(text, time, from);
  if (!watermark && !parsePartitionIdle(text, idle_now, from)) {
    return Take::NotOne;
  }
  if (from < 0 || static_cast<std::size_t>(from) >= heard.size()) {
    return Take::Outside;
  }
  const auto p = static_cast<std::size_t>(from);
  if (watermark) {
    // The new owner of an input partition may say an older one: never back.
    heard[p] = std::max(heard[p], time);
  }
  const std::uint8_t was = idle[p];
  idle[p] = idle_now ? 1 : 0; // a watermark record says the partition speaks again
  idle_changed = was != idle[p];
  const std::int64_t now = low();
  if (now == kNone || now <= handed) {
    return Take::Taken; // an input partition not heard of yet, all idle, or no rise
  }
  handed = now;
  return Take::Rose;
}

void InputWatermarks::restore(const std::vector<std::int64_t> &heard_at,
                              const std::vector<std::uint8_t> &idle_at) {
  for (std::size_t p = 0; p < heard.size() && p < heard_at.size(); ++p) {
    heard[p] = std::max(heard[p], heard_at[p]);
    idle[p] = p < idle_at.size() && idle_at[p] != 0 ? 1 : 0;
  }
}

std::string encodeHeard(const std::map<std::uint32_t, HeardState> &by_partition) {
  std::string out;
  runtime::SnapshotWriter w(out);
  w.u32(static_cast<std::uint32_t>(by_partition.size()));
  for (const auto &[partition, state] : by_partition) {
    w.u32(partition);
    w.u32(static_cast<std::uint32_t>(state.heard.size()));
    for (std::size_t p = 0; p < state.heard.size(); ++p) {
      w.i64(state.heard[p]);
      w.u8(p < state.idle.size() ? state.idle[p] : 0);
    }
  }
  return out;
}

std::map<std::uint32_t, HeardState> decodeHeard(std::string_view in) {
  runtime::SnapshotReader r(in, "repartition-watermarks section");
  std::map<std::uint32_t, HeardState> out;
  const std::uint64_t entries = r.count(r.u32(), 8);
  for (std::uint64_t i = 0; i < entries; ++i) {
    const std::uint32_t partition = r.u32();
    HeardState &state = out[partition];
    const std::uint64_t inputs = r.count(r.u32(), 9);
    for (std::uint64_t p = 0; p < inputs; ++p) {
      state.heard.push_back(r.i64());
      state.idle.push_back(r.flag("idle") ? 1 : 0);
    }
  }
  if (!r.atEnd()) {
    r.fail("trailing bytes");
  }
  return out;
}

RepartitionedSource::RepartitionedSource(std::unique_ptr<runtime::kafka::KafkaSource> inner,
                                         std::uint32_t input_partitions,
                                         runtime::metrics::Registry *registry)
    : inner_(std::move(inner)), inputs_(input_partitions),
      heard_(inner_->splits(), InputWatermarks(input_partitions)),
      was_assigned_(inner_->splits(), false), idle_gauges_(inner_->splits(), nullptr) {
  if (registry != nullptr) {
    for (std::uint32_t p = 0; p < inner_->splits(); ++p) {
      idle_gauges_[p] = &registry->gauge(
          "cep_kafka_repartition_idle_inputs",
          "--repartition: input partitions its first stage said idle (--idle-timeout), left "
          "out of this repartition partition's watermark until their next watermark.",
          {{"topic", inner_->topic()}, {"partition", std::to_string(p)}});
    }
  }
}

HeardState RepartitionedSource::heard(std::uint32_t split) const {
  if (split >= heard_.size()) {
    return {};
  }
  return HeardState{heard_[split].heard, heard_[split].idle};
}

void RepartitionedSource::restore(std::uint32_t split, const HeardState &state) {
  if (split >= heard_.size()) {
    return;
  }
  heard_[split].restore(state.heard, state.idle);
  if (idle_gauges_[split] != nullptr) {
    idle_gauges_[split]->set(heard_[split].idleCount());
  }
}

void RepartitionedSource::forgetUnassigned() {
  // A repartition partition given up: what was heard through it is its next owner's to hear
  // again (or to restore from its record); taken again, it starts afresh or from its record.
  if (inner_->countsVersion() == seen_version_) {
    return;
  }
  seen_version_ = inner_->countsVersion();
  for (std::uint32_t p = 0; p < heard_.size(); ++p) {
    const bool now = inner_->assigned(p);
    if (was_assigned_[p] && !now) {
      heard_[p].reset(inputs_);
      if (idle_gauges_[p] != nullptr) {
        idle_gauges_[p]->set(0);
      }
    }
    was_assigned_[p] = now;
  }
}

runtime::ReadStatus RepartitionedSource::next(std::uint32_t &split, runtime::Line &line) {
  for (;;) {
    runtime::ReadStatus status = inner_->next(split, line);
    forgetUnassigned();
    if (status != runtime::ReadStatus::Line || line.oversized != 0 || split >= heard_.size()) {
      return status;
    }
    InputWatermarks &mine = heard_[split];
    std::int32_t from = 0;
    bool idle_changed = false;
    const InputWatermarks::Take take = mine.take(line.text, from, idle_changed);
    if (take == InputWatermarks::Take::NotOne) {
      return status;
    }
    if (take == InputWatermarks::Take::Outside) {
      if (!logged_outside_) {
        logged_outside_ = true;
        std::cerr << "cep serve: kafka: " << inner_->splitName(split) << "@" << line.offset
                  << ": a record of input partition " << from << ", the input topic has " << inputs_
                  << " (grown since?): not counted (logged once)\n";
      }
      continue;
    }
    if (idle_changed) {
      const bool idle = mine.idle[static_cast<std::size_t>(from)] != 0;
      std::cerr << "cep serve: kafka: " << inner_->splitName(split) << ": input partition " << from
                << (idle ? " idle (its first stage says: silent for --idle-timeout): left out "
                           "of this partition's watermark until its next watermark record\n"
                         : " speaks again: back in this partition's watermark\n");
      if (idle_gauges_[split] != nullptr) {
        idle_gauges_[split]->set(mine.idleCount());
      }
    }
    if (take != InputWatermarks::Take::Rose) {
      continue;
    }
    buffer_.assign(kHead);
    buffer_ += std::to_string(mine.handed);
    buffer_ += '}';
    const std::size_t size = buffer_.size();
    buffer_.append(runtime::kLinePadding, '\0');
    line.text = std::string_view(buffer_.data(), size);
    line.capacity = buffer_.size();
    return status;
  }
}

} // namespace cep::cli
