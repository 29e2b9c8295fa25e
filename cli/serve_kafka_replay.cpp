// Messages read again after a partition's state came from the changelog (serve_kafka.hpp;
// docs/kafka.md "Scale-out"): a record resumes its partition at the first event its writer
// still held for reordering, so the messages after it that the writer had released already
// (an event time at or before the writer's watermark at the cut, an offset before where it
// had read to) come again. Their effect is in the keys' state restored: they are skipped here,
// before the loop sees them (KafkaSourceOptions::skip_message), counted in
// cep_kafka_replayed_skipped_total{topic} and logged once per partition when its replay ends
// (when it skipped any). The partition's watermark resumes at the record's, and with
// --repartition what it had heard of the input's partitions (resumeWatermarks).
#include "cli/serve_kafka.hpp"
#include "runtime/engine/run_loop.hpp"
#include "runtime/kafka/kafka_source.hpp"
#include "runtime/time/time_format.hpp"

#include <algorithm>
#include <iostream>
#include <limits>

namespace cep::cli {

runtime::JsonlDecoder &ServeKafka::messageDecoder() {
  const runtime::Schema &schema = served_->schema();
  if (key_schema_ != &schema) { // a deploy may have grown the schema
    key_decoder_ = std::make_unique<runtime::JsonlDecoder>(schema);
    key_schema_ = &schema;
  }
  return *key_decoder_;
}

void ServeKafka::replayFrom(const service::ChangelogRecord &rec) {
  const auto p = static_cast<std::int32_t>(rec.partition);
  resumeWatermarks(rec);
  if (rec.read_to < 0 || rec.watermark == std::numeric_limits<std::int64_t>::min() ||
      rec.next_offset < 0 || rec.next_offset >= rec.read_to) {
    replay_.erase(p); // nothing is read again (or a version 1 record: not known)
    return;
  }
  replay_[p] = Replay{rec.read_to, rec.watermark, 0};
}

void ServeKafka::resumeWatermarks(const service::ChangelogRecord &rec) {
  const auto p = static_cast<std::int32_t>(rec.partition);
  const bool catching_up = catch_up_.count(p) != 0;
  // The record's watermark: its writer judged what came after the cut by it, so the partition
  // starts there (not from none: a message behind it would be matched here, not late). A
  // partition catching up has its own (serve_kafka_catchup.cpp).
  if (!catching_up && loop_ != nullptr && loop_->timeMode() == runtime::TimeMode::Event &&
      rec.watermark != runtime::kNoWatermark && !sources_.empty()) {
    const std::vector<std::string> &names = loop_->ingest().inputNames();
    const std::string name = sources_.front()->splitName(rec.partition);
    if (auto at = std::find(names.begin(), names.end(), name); at != names.end()) {
      loop_->ingest().raiseWatermark(static_cast<std::uint32_t>(at - names.begin()), rec.watermark);
    }
  }
  // --repartition: what the partition had heard of the input's partitions (a record of
  // version 4 on; an older one starts with nothing heard).
  if (rec.input_watermarks.empty() || repartition_source_ == nullptr) {
    return;
  }
  if (rec.input_watermarks.size() != repartition_source_->splits()) {
    kafkaLog("partition " + rec.topic + "[" + std::to_string(rec.partition) +
             "]: its changelog record heard " + std::to_string(rec.input_watermarks.size()) +
             " input partitions, " + repartition_from_.topic + " has " +
             std::to_string(repartition_source_->splits()) +
             " (grown since?): its watermark waits for every input partition to speak again");
    return;
  }
  HeardState state{rec.input_watermarks, rec.input_idle};
  if (catching_up) {
    catch_up_[p]->heard.restore(state.heard, state.idle);
  } else if (repartitioned_ != nullptr) {
    repartitioned_->restore(rec.partition, state);
  }
}

bool ServeKafka::skipReplayed(std::int32_t partition, std::int64_t offset,
                              const runtime::Line &line) {
  auto it = replay_.find(partition);
  if (it == replay_.end() || served_ == nullptr || sources_.empty()) {
    return false;
  }
  Replay &replay = it->second;
  if (offset >= replay.read_to) { // past what the writer had read: new messages from here on
    const std::string &topic = sources_.front()->topic();
    if (replay.skipped > 0) {
      std::cerr << "cep serve: kafka: " << topic << "[" << partition << "]: " << replay.skipped
                << " messages read again before offset " << replay.read_to
                << " skipped: their previous owner had matched them (event time at or before "
                << runtime::formatRfc3339(replay.watermark) << ")\n";
    }
    replay_.erase(it);
    return false;
  }
  runtime::RecordContext context;
  context.line = static_cast<std::uint64_t>(offset) + 1;
  context.bound_type = inputs_.front().type_name.empty()
                           ? -1
                           : served_->schema().typeIndex(inputs_.front().type_name);
  // A type without a time field takes the message's timestamp; without one (wall clock at
  // ingestion) the time is unknown here: such a message is not skipped.
  context.ingestion_time = line.source_time != runtime::kNoSourceTime
                               ? line.source_time
                               : std::numeric_limits<std::int64_t>::max();
  runtime::DecodeResult decoded = messageDecoder().decodeCopy(line.text, context);
  if (decoded.status != runtime::DecodeStatus::Event || decoded.event->time > replay.watermark) {
    return false; // a watermark line, a dead letter, or an event the writer still held
  }
  ++replay.skipped;
  if (replay_skipped_ == nullptr && registry_ != nullptr) {
    replay_skipped_ = &registry_->counter(
        "cep_kafka_replayed_skipped_total",
        "Messages a partition restored from the changelog read again that its previous owner "
        "had matched already (skipped).",
        {{"topic", sources_.front()->topic()}});
  }
  if (replay_skipped_ != nullptr) {
    replay_skipped_->add();
  }
  return true;
}

} // namespace cep::cli
