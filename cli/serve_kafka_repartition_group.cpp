// `cep serve --repartition --scale-out` (serve_kafka.hpp; docs/kafka.md "Repartition with
// scale-out"): the first stages of the group's members share the input topic's partitions in a
// second consumer group, `<group>-repartition` (cooperative-sticky), as Kafka Streams' two
// sub-topologies each have their tasks; the matching stages share `<group>-repartition`'s
// partitions in the group `<group>` as any --scale-out input.
//
//   revocation  a checkpoint commits what was republished of the input partitions, their
//               offsets (group `<group>-repartition`) and their records in one transaction
//   assignment  the partitions' latest records are read from the changelog topic
//               `<group>-state` and each resumes at its record's offset (without one: the
//               group's committed offset, else the URL's start)
//   each checkpoint's transaction: a record per input partition held whose position moved
//               (writeFirstStageRecords): `<topic>/<partition>` of the input topic, group
//               `<group>-repartition`, its next offset, no keys
//
// Why records and not only the group's committed offsets: they are written in the same
// transaction as the republished messages, read by whoever takes the partition from the same
// topic as the matching stage's state, and the mock cluster stores no offsets sent in a
// transaction (tests/kafka/README.md). A real broker has both; a record wins.
//
// Both hooks run on the loop thread, inside the first stage's read (librdkafka's rebalance
// callback), between two records.
#include "cli/serve_kafka.hpp"
#include "runtime/kafka/kafka_producer.hpp"
#include "runtime/kafka/kafka_source.hpp"
#include "service/changelog_record.hpp"

#include <iostream>

namespace cep::cli {

void ServeKafka::onFirstStageRevoking(const std::vector<std::int32_t> &partitions, bool lost) {
  if (served_ == nullptr || loop_ == nullptr || repartition_source_ == nullptr) {
    return; // before the loop: nothing was republished of them
  }
  // --workers N: the checkpoint below is taken with every worker stopped (docs/serve.md
  // "Workers"). A failed output stops the loop.
  if (!loop_->syncWorkers()) {
    return;
  }
  const std::string list = partitionNames(repartition_from_.topic, partitions);
  std::string committed;
  if (lost) {
    committed = " (lost to another member: what this process republished of them since its "
                "last committed transaction is aborted with it)";
  } else if (failure_.empty()) {
    std::string error;
    if (served_->checkpoint(*loop_, error, /*wait=*/true) &&
        served_->transactionFailure() == service::TransactionStep::Committed) {
      committed = " (what was republished of them and their positions committed)";
    } else {
      committed = " (the checkpoint before giving them up failed: " + error +
                  "; their next owner republishes from their last committed records)";
    }
  }
  for (std::int32_t p : partitions) {
    first_written_.erase(p);
  }
  kafkaLog("group " + repartition_from_.group + ": the first stage gave up " + list + committed);
}

std::map<std::int32_t, std::int64_t>
ServeKafka::onFirstStageAssigned(const std::vector<std::int32_t> &partitions) {
  std::map<std::int32_t, std::int64_t> start;
  if (!failure_.empty() || repartition_source_ == nullptr) {
    return start;
  }
  const std::string &topic = repartition_from_.topic;
  const std::string changelog = service::changelogTopic(inputs_.front().url.group);
  std::map<std::string, std::string> latest;
  std::string error;
  if (!readLatest(latest, error)) {
    fail("--repartition: cannot read where " + partitionNames(topic, partitions) +
         " resume from the changelog topic " + changelog + ": " + error);
    return start;
  }
  std::vector<std::int32_t> none;
  for (std::int32_t p : partitions) {
    auto it = latest.find(service::changelogKey(topic, static_cast<std::uint32_t>(p)));
    if (it == latest.end() || it->second.empty()) {
      none.push_back(p);
      continue;
    }
    try {
      service::ChangelogRecord rec = service::decodeChangelogRecord(it->second);
      if (rec.group != repartition_from_.group || rec.topic != topic ||
          rec.partition != static_cast<std::uint32_t>(p)) {
        throw std::runtime_error("it is the record of " + rec.topic + "[" +
                                 std::to_string(rec.partition) + "] of group " + rec.group);
      }
      if (rec.partitions != repartition_source_->splits()) {
        throw std::runtime_error("it is of " + std::to_string(rec.partitions) +
                                 " partitions, the topic has " +
                                 std::to_string(repartition_source_->splits()) +
                                 " (made again or grown): delete " + changelog + " to start empty");
      }
      if (rec.next_offset >= 0) {
        start[p] = rec.next_offset;
        first_written_[p] = rec.next_offset;
      }
      kafkaLog("group " + repartition_from_.group + ": the first stage took over " + topic + "[" +
               std::to_string(p) + "]: republishes from offset " +
               (rec.next_offset >= 0 ? std::to_string(rec.next_offset)
                                     : std::string("the group's committed one")) +
               " (changelog record of transaction " + rec.transaction + " of " +
               rec.transactional_id + ")");
    } catch (const std::exception &e) {
      fail("--repartition: the changelog record of " + topic + "[" + std::to_string(p) + "] in " +
           changelog + ": " + e.what());
      return start;
    }
  }
  if (!none.empty()) {
    kafkaLog("group " + repartition_from_.group + ": the first stage took over " +
             partitionNames(topic, none) + ": no record in the changelog topic " + changelog +
             " (never republished from): they start at the group's committed offsets, else at " +
             repartition_from_.start);
  }
  return start;
}

bool ServeKafka::writeFirstStageRecords(const service::ServeMeta &meta, std::string &error) {
  if (repartition_source_ == nullptr || !failure_.empty()) {
    return true;
  }
  const runtime::kafka::KafkaSource &source = *repartition_source_;
  const std::string topic = service::changelogTopic(inputs_.front().url.group);
  for (const auto &[partition, offset] : source.positions()) {
    if (!source.assigned(static_cast<std::uint32_t>(partition))) {
      continue;
    }
    if (auto at = first_written_.find(partition);
        at != first_written_.end() && at->second == offset) {
      continue; // nothing republished from it since
    }
    service::ChangelogRecord rec = recordHead(source, partition, meta);
    rec.next_offset = offset;
    rec.read_to = offset;
    std::string value;
    service::encodeChangelogRecord(rec, value);
    if (!producer_->produce(topic, service::changelogKey(rec.topic, rec.partition), value, error)) {
      error = "--repartition: the first stage's record of " + rec.topic + "[" +
              std::to_string(partition) + "]: " + error;
      return false;
    }
    first_written_[partition] = offset;
    if (changelog_bytes_ != nullptr) {
      changelog_bytes_->add(value.size());
      changelog_records_->add();
    }
  }
  return true;
}

} // namespace cep::cli
