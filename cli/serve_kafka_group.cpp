// `cep serve --scale-out` (serve_kafka.hpp; docs/kafka.md "Scale-out"): the members of one
// consumer group share the input topic's partitions (cooperative-sticky), and a partition's
// state moves with it through the changelog topic `<group>-state`.
//
//   revocation  a checkpoint commits the partitions' records (their keys and where they
//               resume) and their offsets in one transaction; then their keys leave the served
//               matchers and their events held for reordering are dropped (the next owner reads
//               them again from the record's offset)
//   assignment  the partitions' latest records are read from the changelog topic, their keys
//               merged into the served matchers, and each partition starts at its record's
//               offset (without a record: the group's committed offset, else the URL's start)
//
// Both run on the loop thread, inside the KafkaSource's read (librdkafka's rebalance callback),
// between two records.
#include "cli/exit_codes.hpp"
#include "cli/serve_kafka.hpp"
#include "runtime/engine/run_loop.hpp"
#include "runtime/io/stop_signals.hpp"
#include "runtime/kafka/kafka_producer.hpp"
#include "runtime/kafka/kafka_source.hpp"
#include "runtime/time/time_format.hpp"
#include "service/changelog_record.hpp"

#include <chrono>
#include <csignal>
#include <iostream>
#include <set>

namespace cep::cli {

namespace {

double secondsSince(std::chrono::steady_clock::time_point started) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
}

} // namespace

void ServeKafka::fail(const std::string &why) {
  if (failure_.empty()) {
    failure_ = why;
    kafkaLog(why + (failure_usage_
                        ? ": stopping (exit 2)"
                        : ": stopping (exit 3); no changelog record is written from here on"));
    runtime::requestStop(SIGTERM);
  }
}

void ServeKafka::onRevoking(const std::vector<std::int32_t> &partitions, bool lost) {
  if (served_ == nullptr || loop_ == nullptr || sources_.empty()) {
    return; // before the loop: nothing of them is here yet
  }
  // --workers N: every worker stopped at the step the loop has reached before the checkpoint
  // and the keys dropped (docs/serve.md "Workers"). A failed output stops the loop.
  if (!loop_->syncWorkers()) {
    return;
  }
  const runtime::kafka::KafkaSource &source = *sources_.front();
  const std::string group = source.group();
  const std::string list = partitionNames(source.topic(), partitions);
  std::string committed;
  if (lost) {
    // Another member has them already: what this process holds of them is stale, and writing
    // it would go over the new owner's records (KIP-447: a transaction of an old generation is
    // refused by the group coordinator anyway).
    kafkaLog("group " + group + ": " + list +
             " lost to another member (this process missed the group's session timeout): their "
             "state here is dropped, not written");
  } else if (failure_.empty()) {
    std::string error;
    if (served_->checkpoint(*loop_, error, /*wait=*/true) &&
        served_->transactionFailure() == service::TransactionStep::Committed) {
      committed = " (their state and offsets committed in the changelog topic " +
                  service::changelogTopic(group) + ")";
    } else {
      committed = " (the checkpoint before giving them up failed: " + error +
                  "; their next owner resumes from their last committed records)";
    }
  }
  std::set<std::int32_t> gone(partitions.begin(), partitions.end());
  for (std::int32_t p : partitions) {
    replay_.erase(p);     // its next owner reads it again, and skips
    held_ahead_.erase(p); // its record (the one restored) holds them still
    dropCatchUp(p);       // its record was written from its catch-up
  }
  std::uint64_t keys = 0;
  try {
    keys = served_->dropKeys(*loop_, [&](std::string_view key_json) {
      return gone.count(partitionOfKey(key_json)) != 0;
    });
  } catch (const std::exception &e) {
    fail("cannot drop the keys of " + list + ": " + e.what());
    return;
  }
  // Held events of those partitions: their input names are the partitions' names.
  std::set<std::string> inputs;
  for (std::int32_t p : partitions) {
    inputs.insert(source.splitName(static_cast<std::uint32_t>(p)));
  }
  const std::vector<std::string> &input_names = loop_->ingest().inputNames();
  std::size_t held = loop_->driver().dropBuffered([&](const runtime::Event &event) {
    return event.input < input_names.size() && inputs.count(input_names[event.input]) != 0;
  });
  for (auto &[id, op] : mirror_) {
    std::erase_if(op.records,
                  [&](const auto &entry) { return gone.count(entry.second.partition) != 0; });
  }
  for (std::int32_t p : partitions) {
    written_offsets_.erase(p);
    dirty_.erase(p);
  }
  kafkaLog("group " + group + ": gave up " + list + committed + ": " + std::to_string(keys) +
           " keys and " + std::to_string(held) + " events held for reordering dropped here");
}

std::map<std::int32_t, std::int64_t>
ServeKafka::onAssigned(const std::vector<std::int32_t> &partitions) {
  std::map<std::int32_t, std::int64_t> start;
  if (served_ == nullptr || loop_ == nullptr || sources_.empty() || !failure_.empty()) {
    return start;
  }
  // --workers N: the partitions' keys go into the served matchers with every worker stopped.
  if (!loop_->syncWorkers()) {
    return start;
  }
  const runtime::kafka::KafkaSource &source = *sources_.front();
  const std::string topic = service::changelogTopic(source.group());
  const auto started = std::chrono::steady_clock::now();
  std::map<std::string, std::string> latest;
  std::string error;
  if (!readLatest(latest, error)) {
    fail("cannot read the state of " + partitionNames(source.topic(), partitions) +
         " from the changelog topic " + topic + ": " + error);
    return start;
  }
  for (auto &[key, value] : latest) {
    if (std::string hash = service::artifactOfChangelogKey(key); !hash.empty() && !value.empty()) {
      changelog_artifacts_[hash] = value; // a draining version's (format 5)
    }
  }
  const double read_seconds = secondsSince(started);
  std::vector<service::ChangelogRecord> records;
  std::vector<std::size_t> sizes;
  std::vector<std::int32_t> empty;
  for (std::int32_t p : partitions) {
    auto it = latest.find(service::changelogKey(source.topic(), static_cast<std::uint32_t>(p)));
    if (it == latest.end() || it->second.empty()) {
      empty.push_back(p);
      continue;
    }
    try {
      service::ChangelogRecord rec = service::decodeChangelogRecord(it->second);
      if (rec.group != source.group() || rec.topic != source.topic() ||
          rec.partition != static_cast<std::uint32_t>(p)) {
        throw std::runtime_error("it is the record of " + rec.topic + "[" +
                                 std::to_string(rec.partition) + "] of group " + rec.group);
      }
      if (rec.partitions != source.splits()) {
        throw std::runtime_error("it is of " + std::to_string(rec.partitions) +
                                 " partitions, the topic has " + std::to_string(source.splits()) +
                                 " (made again or grown): delete " + topic + " to start empty");
      }
      records.push_back(std::move(rec));
      sizes.push_back(it->second.size());
    } catch (const std::exception &e) {
      fail("the changelog record of " + source.topic() + "[" + std::to_string(p) + "] in " + topic +
           ": " + e.what());
      return start;
    }
  }
  std::vector<service::ChangelogRecord> merged_now; // the rest catch up on their own (below)
  const std::int64_t reference = catchUpReference(records);
  for (const service::ChangelogRecord &rec : records) {
    if (!behind(rec.watermark, reference)) {
      merged_now.push_back(rec);
    }
  }
  applyRulesBefore(records, partitions); // serve_kafka_rule_history.cpp
  holdAhead(merged_now);      // entries of versions a pending deploy brings wait for it (same file)
  holdAheadDrain(merged_now); // entries a pending drain marks draining (serve_kafka_hold_drain.cpp)
  const std::map<std::string, service::PatternRecords> by_pattern =
      service::recordsByPattern(merged_now);
  std::vector<std::string> lines;
  try {
    lines = served_->restorePartitions(*loop_, by_pattern, changelogArtifact());
  } catch (const std::exception &e) {
    fail("cannot restore the state of " + partitionNames(source.topic(), partitions) + ": " +
         e.what());
    return start;
  }
  served_->exportWholeNext(); // the mirror of the changelog gets the keys taken over
  // Partitions behind this member's event time catch up on their own before they merge; those
  // without a record too (their events from the group's offset on).
  std::set<std::int32_t> late_here;
  try {
    for (const service::ChangelogRecord &rec : records) {
      if (behind(rec.watermark, reference) &&
          !startCatchUp(static_cast<std::int32_t>(rec.partition), rec.watermark, &rec.patterns,
                        reference)) {
        // No catch-up set (an aggregate served): merged here after all, judged by this
        // member's watermark.
        const std::vector<service::ChangelogRecord> own = {rec};
        for (std::string &line : served_->restorePartitions(*loop_, service::recordsByPattern(own),
                                                            changelogArtifact())) {
          lines.push_back(std::move(line));
        }
        late_here.insert(static_cast<std::int32_t>(rec.partition));
      }
    }
    for (std::int32_t p : empty) {
      if (behind(runtime::kNoWatermark, reference) &&
          !startCatchUp(p, runtime::kNoWatermark, nullptr, reference)) {
        late_here.insert(p);
      }
    }
  } catch (const std::exception &e) {
    fail("cannot restore the state of " + partitionNames(source.topic(), partitions) + ": " +
         e.what());
    return start;
  }
  const double seconds = secondsSince(started);
  for (std::size_t i = 0; i < records.size(); ++i) {
    const service::ChangelogRecord &rec = records[i];
    const auto p = static_cast<std::int32_t>(rec.partition);
    if (rec.next_offset >= 0) {
      start[p] = rec.next_offset;
    }
    replayFrom(rec);
    if (registry_ != nullptr) {
      runtime::metrics::Labels labels = {{"topic", rec.topic},
                                         {"partition", std::to_string(rec.partition)}};
      registry_
          ->gauge("cep_kafka_partition_restore_bytes",
                  "Bytes of a partition's changelog record restored (at start, or when "
                  "--scale-out assigns it).",
                  labels)
          .set(static_cast<double>(sizes[i]));
      registry_
          ->gauge("cep_kafka_partition_restore_keys",
                  "Keys (of every pattern) of a partition restored from the changelog (at "
                  "start, or when --scale-out assigns it).",
                  labels)
          .set(static_cast<double>(rec.keyRecords()));
      registry_
          ->gauge("cep_kafka_partition_restore_seconds",
                  "--scale-out: how long the last assignment of a partition took to read the "
                  "changelog topic and merge the records it brought into the matchers.",
                  labels)
          .set(seconds);
    }
    kafkaLog("group " + rec.group + ": took over " + rec.topic + "[" + std::to_string(p) +
             "]: state from the changelog topic " + topic + " (transaction " + rec.transaction +
             " of " + rec.transactional_id + ", " + std::to_string(rec.keyRecords()) + " keys, " +
             std::to_string(sizes[i]) + " bytes), resumes at offset " +
             (rec.next_offset >= 0 ? std::to_string(rec.next_offset)
                                   : std::string("the group's committed one")));
  }
  if (!empty.empty()) {
    kafkaLog("group " + source.group() + ": took over " + partitionNames(source.topic(), empty) +
             ": no state in the changelog topic " + topic +
             " (never checkpointed): they start at the group's committed offsets, else at " +
             inputs_.front().url.start);
  }
  for (const std::string &line : lines) {
    kafkaLog("restored from the changelog: " + line);
  }
  if (const std::int64_t watermark = loop_->ingest().watermark();
      watermark != runtime::kNoWatermark && !late_here.empty()) {
    // No catch-up for them: this process's event time judges them (docs/kafka.md "A
    // partition taken over behind the member").
    kafkaLog("group " + source.group() + ": events of " +
             partitionNames(source.topic(),
                            std::vector<std::int32_t>(late_here.begin(), late_here.end())) +
             " at or before this process's watermark " + runtime::formatRfc3339(watermark) +
             " are late (late output)");
  }
  kafkaLog("group " + source.group() + ": " + std::to_string(records.size()) + " of " +
           std::to_string(partitions.size()) + " partitions restored in " +
           std::to_string(static_cast<long long>(seconds * 1000)) + " ms (the changelog read in " +
           std::to_string(static_cast<long long>(read_seconds * 1000)) + " ms)");
  return start;
}

} // namespace cep::cli
