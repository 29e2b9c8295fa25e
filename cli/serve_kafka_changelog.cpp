// The changelog topic `<group>-state` of `cep serve --state` with Kafka (serve_kafka.hpp;
// docs/kafka.md "The changelog topic"): every checkpoint's transaction also carries one record
// per input partition whose keys or position moved (service/changelog_record.hpp), and a start
// with an empty --state folder restores the partitions from the topic.
#include "cli/exit_codes.hpp"
#include "cli/serve_kafka.hpp"
#include "runtime/kafka/changelog_topic.hpp"
#include "runtime/kafka/control_topic.hpp"
#include "runtime/kafka/kafka_producer.hpp"
#include "runtime/kafka/kafka_source.hpp"
#include "runtime/kafka/key_partition.hpp"
#include "runtime/native/native_aggregate.hpp"
#include "service/changelog_record.hpp"

#include <algorithm>
#include <chrono>
#include <iostream>
#include <set>

namespace cep::cli {

namespace {

// Patterns' keys follow librdkafka's default partitioner (kcat, librdkafka-based producers);
// runtime/kafka/key_partition.hpp.
constexpr runtime::kafka::Partitioner kPartitioner = runtime::kafka::Partitioner::Consistent;

} // namespace

service::ChangelogRecord ServeKafka::recordHead(const runtime::kafka::KafkaSource &source,
                                                std::int32_t partition,
                                                const service::ServeMeta &meta) const {
  service::ChangelogRecord rec;
  rec.topic = source.topic();
  rec.partition = static_cast<std::uint32_t>(partition);
  rec.partitions = source.splits();
  rec.group = source.group();
  rec.cluster = source.clusterId();
  rec.transaction = producer_->label();
  rec.transactional_id = producer_->transactionalId();
  rec.taken_at = meta.taken_at;
  return rec;
}

std::int32_t ServeKafka::partitionOfKey(std::string_view key_json) const {
  const auto partitions = static_cast<std::int32_t>(sources_.front()->splits());
  return runtime::kafka::keyPartitionOf(key_json, partitions, kPartitioner);
}

ServeKafka::~ServeKafka() {
  if (creator_.joinable()) {
    creator_.join();
  }
}

int ServeKafka::readChangelog(runtime::metrics::Registry &registry,
                              const service::ServeMeta *restored) {
  registry_ = &registry;
  changelog_bytes_ = &registry.counter("cep_kafka_changelog_bytes_total",
                                       "Bytes written to the changelog topic (<group>-state).");
  changelog_records_ = &registry.counter("cep_kafka_changelog_records_total",
                                         "Records written to the changelog topic, one per input "
                                         "partition whose state or position moved.");
  const Input &in = inputs_.front();
  const std::string topic = service::changelogTopic(in.url.group);
  std::string error;
  bool exists = false;
  if (!runtime::kafka::topicExists(*producer_, topic, exists, error)) {
    std::cerr << "cep serve: kafka: changelog topic " << topic << ": " << error << '\n';
    return kRuntimeFailure;
  }
  if (!exists) {
    // Made beside the start (the brokers may take a while, the mock cluster never answers);
    // nothing to restore from meanwhile. The first checkpoint writes to it.
    kafkaLog("changelog topic " + topic + " does not exist: creating it (compacted); no state of " +
             in.url.topic + " to restore");
    creator_ = std::thread([producer = producer_, topic, like = in.url.topic] {
      std::string note, why;
      if (runtime::kafka::ensureChangelogTopic(*producer, topic, like, note, why, 5000)) {
        if (!note.empty()) {
          kafkaLog(note);
        }
      } else {
        kafkaLog("changelog topic: " + why);
      }
    });
    return kOk;
  }
  if (scale_out_) {
    // Each partition's state is read when the group gives it to this process (onAssigned).
    kafkaLog("--scale-out: the state of each partition of " + in.url.topic +
             " is read from the changelog topic " + topic + " when the group assigns it");
    return kOk;
  }
  std::map<std::string, std::string> latest; // message key -> value
  if (!readLatest(latest, error)) {
    std::cerr << "cep serve: kafka: changelog topic " << topic << ": " << error << '\n';
    return kRuntimeFailure;
  }
  const std::string prefix = in.url.topic + "/";
  for (auto &[key, value] : latest) {
    if (std::string hash = service::artifactOfChangelogKey(key); !hash.empty()) {
      if (!value.empty()) {
        changelog_artifacts_[hash] = std::move(value); // a draining version's (format 5)
      }
      continue;
    }
    if (key.compare(0, prefix.size(), prefix) == 0 && !value.empty()) {
      restored_records_.emplace_back(-1, std::move(value));
    }
  }
  for (auto &[partition, value] : restored_records_) {
    try {
      service::ChangelogRecord rec = service::decodeChangelogRecord(value);
      if (rec.group != in.url.group || rec.topic != in.url.topic) {
        throw std::runtime_error("it is of topic " + rec.topic + " and group " + rec.group);
      }
      partition = static_cast<std::int32_t>(rec.partition);
      if (rec.next_offset >= 0 && restored == nullptr) { // else the folder's (resumeFrom)
        resume_[rec.topic][partition] = rec.next_offset;
      }
    } catch (const std::exception &e) {
      std::cerr << "cep serve: kafka: changelog topic " << topic << ": " << e.what() << '\n';
      return kRuntimeFailure;
    }
  }
  if (restored != nullptr) {
    // The folder's checkpoint is the fast path unless another server (another
    // transactional.id: another host, or a folder moved) wrote a partition's state after it.
    const std::string own = restored->kafka ? restored->kafka->transactional_id : "";
    std::string newer;
    for (const auto &[partition, value] : restored_records_) {
      service::ChangelogRecord rec = service::decodeChangelogRecord(value);
      if (rec.transactional_id != own && rec.taken_at > restored->taken_at) {
        newer += (newer.empty() ? "" : ", ") + rec.topic + "[" + std::to_string(rec.partition) +
                 "] (transaction " + rec.transaction + " of " + rec.transactional_id + ")";
      }
    }
    restored_records_.clear();
    if (!newer.empty()) {
      std::cerr << "cep serve: kafka: the --state folder is stale: the changelog topic " << topic
                << " holds newer state of " << newer
                << " than its checkpoint: start with an empty --state folder to restore from "
                   "the changelog topic (or delete the topic to go on from the folder)\n";
      return kUsage;
    }
    kafkaLog("restoring from the --state folder: no newer state of " + in.url.topic +
             " in the changelog topic " + topic);
    return kOk;
  }
  if (restored_records_.empty()) {
    kafkaLog("changelog topic " + topic + " holds no state of " + in.url.topic +
             ": starting empty");
  }
  return kOk;
}

bool ServeKafka::readLatest(std::map<std::string, std::string> &latest, std::string &error) {
  const Input &in = inputs_.front();
  const std::string topic = service::changelogTopic(in.url.group);
  runtime::kafka::ControlTopicOptions options;
  options.url = in.url;
  options.url.topic = topic;
  options.url.group.clear();
  options.config = has_config_ ? &config_ : nullptr;
  auto reader = runtime::kafka::ControlTopicReader::open(options, {}, error);
  std::vector<std::int64_t> low, high;
  if (!reader || !reader->offsets(low, high, error)) {
    return false;
  }
  // Every partition read to its end as it is now (bounded: 30 s).
  std::vector<std::int64_t> next = low;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  auto done = [&] {
    for (std::size_t p = 0; p < high.size(); ++p) {
      if (next[p] < high[p]) {
        return false;
      }
    }
    return true;
  };
  runtime::kafka::ControlMessage message;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) {
      error = "not read to its end in 30 s";
      return false;
    }
    runtime::kafka::ControlPoll got = reader->poll(200, message, error);
    if (got == runtime::kafka::ControlPoll::Error) {
      return false;
    }
    if (got == runtime::kafka::ControlPoll::Message) {
      next[static_cast<std::size_t>(message.partition)] = message.offset + 1;
      latest[message.key] = std::move(message.value); // compaction's view: the last one wins
    }
  }
  return true;
}

int ServeKafka::applyChangelog(service::ServeRuntime &served, runtime::RunLoop &loop) {
  loop_ = &loop;
  served_ = &served;
  {
    // No deploy while a partition catches up (serve_kafka_catchup.cpp): after a takeover with
    // --scale-out, or a start from the changelog whose partitions' records are behind the
    // others' (below).
    served.setChangeGuard([this] {
      return catch_up_.empty()
                 ? std::string()
                 : sources_.front()->splitName(
                       static_cast<std::uint32_t>(catch_up_.begin()->first)) +
                       " is catching up with this member's event time (docs/kafka.md \"A "
                       "partition taken over behind the member\"): deploys and undeploys are "
                       "refused until it has merged";
    });
    // The rules topic's changes are not refused: each catch-up applies them at its own
    // watermark (serve_kafka_catchup.cpp).
    served.setOnTimedChange(
        [this](std::shared_ptr<const service::ServeRuntime::TimedChange> change) {
          onTimedChange(change);
        });
  }
  // The partitions' records are made from every key of the served versions: the first
  // checkpoint hands them all over (after a restore from the folder, it would hand only what
  // changed).
  served.exportWholeNext();
  if (restored_records_.empty()) {
    return kOk;
  }
  const runtime::kafka::KafkaSource &source = *sources_.front();
  std::vector<service::ChangelogRecord> records;
  for (const auto &[partition, value] : restored_records_) {
    records.push_back(service::decodeChangelogRecord(value));
  }
  for (const service::ChangelogRecord &rec : records) {
    if (rec.partitions != source.splits()) {
      std::cerr << "cep serve: kafka: the changelog's state of " << rec.topic << " is of "
                << rec.partitions << " partitions, the topic has " << source.splits()
                << " (made again or grown): start without the changelog (delete "
                << service::changelogTopic(rec.group) << ")\n";
      return kRuntimeFailure;
    }
  }
  // Partitions whose record is behind the latest one's watermark (written by members of a
  // --scale-out group at different event times) catch up on their own, as a partition taken
  // over behind a member does (serve_kafka_catchup.cpp): restored together, the served
  // aggregates would take their windows up to the latest watermark as fired. The reference
  // counts only records with aggregates' windows (catchUpReference), so a start restoring
  // patterns alone merges every partition at once, its watermark the minimum as always.
  const std::int64_t reference = catchUpReference(records);
  std::vector<service::ChangelogRecord> merged_now;
  std::set<std::int32_t> recorded;
  for (const service::ChangelogRecord &rec : records) {
    recorded.insert(static_cast<std::int32_t>(rec.partition));
    if (!behind(rec.watermark, reference)) {
      merged_now.push_back(rec);
    }
  }
  // The rules topic is read already (cmd_serve.cpp), every change pending: those due up to the
  // records' watermark are applied before their keys go in, as their writers had applied them,
  // and a record ahead of the others holds its entries of a version a later change brings until
  // it is applied (serve_kafka_rule_history.cpp).
  std::vector<std::int32_t> partitions;
  for (const service::ChangelogRecord &rec : records) {
    partitions.push_back(static_cast<std::int32_t>(rec.partition));
  }
  applyRulesBefore(records, partitions);
  if (!failure_.empty()) {
    return kRuntimeFailure;
  }
  holdAhead(merged_now);
  holdAheadDrain(merged_now); // serve_kafka_hold_drain.cpp
  const std::map<std::string, service::PatternRecords> by_pattern =
      service::recordsByPattern(merged_now);
  const auto started = std::chrono::steady_clock::now();
  std::vector<std::string> lines;
  try {
    lines = served.restorePartitions(loop, by_pattern, changelogArtifact());
    for (const service::ChangelogRecord &rec : records) {
      if (behind(rec.watermark, reference) &&
          !startCatchUp(static_cast<std::int32_t>(rec.partition), rec.watermark, &rec.patterns,
                        reference)) {
        // No catch-up set (an aggregate without partition by): restored with the rest, judged
        // by the latest watermark.
        const std::vector<service::ChangelogRecord> own = {rec};
        for (std::string &line :
             served.restorePartitions(loop, service::recordsByPattern(own), changelogArtifact())) {
          lines.push_back(std::move(line));
        }
      }
    }
    // A partition without a record (its events from the group's offset on) too.
    for (std::uint32_t p = 0; p < source.splits(); ++p) {
      const auto partition = static_cast<std::int32_t>(p);
      if (recorded.count(partition) == 0 && behind(runtime::kNoWatermark, reference)) {
        startCatchUp(partition, runtime::kNoWatermark, nullptr, reference);
      }
    }
  } catch (const std::exception &e) {
    std::cerr << "cep serve: kafka: cannot restore the changelog's state: " << e.what() << '\n';
    return kRuntimeFailure;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (registry_ != nullptr) {
    registry_
        ->gauge("cep_kafka_changelog_restore_seconds",
                "How long the start took to restore the partitions' state read from the "
                "changelog topic into the matchers.")
        .set(seconds);
  }
  for (std::size_t i = 0; i < records.size(); ++i) {
    const service::ChangelogRecord &rec = records[i];
    replayFrom(rec); // what the partition reads again that its writer had matched is skipped
    if (registry_ != nullptr) {
      runtime::metrics::Labels labels = {{"topic", rec.topic},
                                         {"partition", std::to_string(rec.partition)}};
      registry_
          ->gauge("cep_kafka_partition_restore_bytes",
                  "Bytes of a partition's changelog record restored (at start, or when "
                  "--scale-out assigns it).",
                  labels)
          .set(static_cast<double>(restored_records_[i].second.size()));
      registry_
          ->gauge("cep_kafka_partition_restore_keys",
                  "Keys (of every pattern) of a partition restored from the changelog (at "
                  "start, or when --scale-out assigns it).",
                  labels)
          .set(static_cast<double>(rec.keyRecords()));
    }
    kafkaLog("partition " + rec.topic + "[" + std::to_string(rec.partition) +
             "]: state from the changelog topic " + service::changelogTopic(rec.group) +
             " (transaction " + rec.transaction + ", " + std::to_string(rec.keyRecords()) +
             " keys, " + std::to_string(restored_records_[i].second.size()) +
             " bytes), resumes at offset " + std::to_string(rec.next_offset));
  }
  for (const std::string &line : lines) {
    kafkaLog("restored from the changelog: " + line);
  }
  kafkaLog("restored " + std::to_string(records.size()) + " partitions from the changelog in " +
           std::to_string(static_cast<long long>(seconds * 1000)) + " ms");
  restored_records_.clear();
  return kOk;
}

service::ServeRuntime::ArtifactOf ServeKafka::changelogArtifact() const {
  return [this](const std::string &hash) -> std::optional<std::string> {
    auto it = changelog_artifacts_.find(hash);
    return it == changelog_artifacts_.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
}

bool ServeKafka::writeCatchUpArtifacts(const CatchUp &c, const std::string &topic,
                                       std::string &error) {
  // A version draining in a catch-up (served again there from the topic, or drained by a rule
  // change the member's own version has finished draining since): its records are marked
  // draining, so its artifact must be in the topic too (it is, unless nobody wrote it yet).
  for (const service::ServeRuntime::CatchUpOperator &op : c.ops) {
    if (!op.draining || artifacts_written_.count(op.hash) != 0 ||
        changelog_artifacts_.count(op.hash) != 0 || !op.loaded) {
      continue;
    }
    const std::shared_ptr<const std::string> &bytes =
        service::ServeRuntime::artifactBytes(*op.loaded);
    if (!bytes ||
        !producer_->produce(topic, service::changelogArtifactKey(op.hash), *bytes, error)) {
      if (!bytes) {
        continue;
      }
      return false;
    }
    artifacts_written_.insert(op.hash);
    kafkaLog("changelog: " + op.pattern + " " + op.version +
             " drains in a catch-up: its artifact is in " + topic + " (" +
             std::to_string(bytes->size()) + " bytes)");
    if (changelog_bytes_ != nullptr) {
      changelog_bytes_->add(bytes->size());
    }
  }
  return true;
}

void ServeKafka::onChanges(const std::vector<service::ServedChanges> &changes) {
  std::set<runtime::OperatorId> live;
  for (const service::ServedChanges &c : changes) {
    live.insert(c.id);
    MirrorOp &op = mirror_[c.id];
    op.pattern = c.pattern;
    op.version = c.version;
    op.hash = c.hash;
    const bool aggregate = runtime::native::isAggregateHeader(c.changes->header);
    if (op.draining != c.draining || op.own_from != c.own_from || op.own_before != c.own_before) {
      // A drain began (or its share moved): every record holding its keys says so.
      for (const auto &[key, record] : op.records) {
        dirty_.insert(record.partition);
      }
    }
    op.draining = c.draining; // a pattern's too: its runs restore into the draining version
    op.own_from = aggregate ? c.own_from : INT64_MIN;
    op.own_before = aggregate ? c.own_before : INT64_MAX;
    op.artifact = op.draining ? c.artifact : nullptr;
    if (c.whole || c.changes->full) {
      for (const auto &[key, record] : op.records) {
        dirty_.insert(record.partition);
      }
      op.records.clear();
    }
    for (const auto &[key, bytes] : c.changes->put) {
      MirrorOp::Record &record = op.records[key];
      if (record.bytes.empty()) {
        record.partition = partitionOfKey(key);
      }
      record.bytes = bytes;
      dirty_.insert(record.partition);
    }
    for (const std::string &key : c.changes->erased) {
      if (auto it = op.records.find(key); it != op.records.end()) {
        dirty_.insert(it->second.partition);
        op.records.erase(it);
      }
    }
    if (runtime::native::isAggregateHeader(c.changes->header) && c.changes->header != op.header) {
      op.header = c.changes->header;
      for (const auto &[key, record] : op.records) {
        dirty_.insert(record.partition);
      }
    }
  }
  for (auto it = mirror_.begin(); it != mirror_.end();) {
    if (live.count(it->first) == 0) {
      for (const auto &[key, record] : it->second.records) {
        dirty_.insert(record.partition);
      }
      it = mirror_.erase(it);
    } else {
      ++it;
    }
  }
}

bool ServeKafka::writeChangelog(const service::ServeMeta &meta, std::string &error, bool &fatal) {
  fatal = false;
  if (!failure_.empty()) {
    error = failure_; // a partition without its state: never written over (serve_kafka_group)
    fatal = true;
    return false;
  }
  const runtime::kafka::KafkaSource &source = *sources_.front();
  // Where each partition resumes: its next offset, or the first of its events still held for
  // reordering (they are not in the keys' state yet: the partition is read again from there).
  std::map<std::int32_t, std::int64_t> resume;
  for (const auto &[partition, offset] : source.positions()) {
    resume[partition] = offset;
  }
  // What the partition was read to, and the event time its events were released up to: a
  // restore skips what it reads again of those (serve_kafka_replay.cpp). The watermark, but
  // below every event still held (one the watermark has passed may not be released yet).
  const std::map<std::int32_t, std::int64_t> read_to = resume;
  std::int64_t released = runtime::kNoWatermark;
  if (loop_ != nullptr && loop_->timeMode() == runtime::TimeMode::Event) {
    released = loop_->ingest().watermark();
    for (const runtime::EventRef &e : loop_->driver().bufferedEvents()) {
      released = std::min(released, e->time - 1);
    }
  }
  if (loop_ != nullptr) {
    const std::vector<std::string> &names = loop_->ingest().inputNames();
    std::map<std::string, std::int32_t> partition_of;
    for (std::uint32_t p = 0; p < source.splits(); ++p) {
      partition_of[source.splitName(p)] = static_cast<std::int32_t>(p);
    }
    for (const runtime::EventRef &e : loop_->driver().bufferedEvents()) {
      auto it = e->input < names.size() ? partition_of.find(names[e->input]) : partition_of.end();
      if (it == partition_of.end()) {
        continue;
      }
      auto at = resume.find(it->second);
      // Event::line holds the message's offset (KafkaSource: Line::number), saturated at
      // UINT32_MAX: past that offset a held event's own offset is unknown, and the record
      // resumes after it (docs/kafka.md "Size": a limit of this slice).
      if (e->line == UINT32_MAX) {
        if (!warned_offsets_) {
          warned_offsets_ = true;
          kafkaLog("changelog: events held for reordering past offset 4294967295 are not in the "
                   "records (a restore from the changelog would not read them again)");
        }
        continue;
      }
      if (at != resume.end() && static_cast<std::int64_t>(e->line) < at->second) {
        at->second = static_cast<std::int64_t>(e->line);
      }
    }
  }
  const std::string topic = service::changelogTopic(source.group());
  // A draining version's artifact (a pattern's or an aggregate's), once per process (the topic
  // keeps it: compacted, one message per hash): whoever restores its keys without serving it
  // serves it again.
  for (const auto &[id, op] : mirror_) {
    if (op.draining && op.artifact && artifacts_written_.count(op.hash) == 0) {
      if (!producer_->produce(topic, service::changelogArtifactKey(op.hash), *op.artifact, error)) {
        return false;
      }
      artifacts_written_.insert(op.hash);
      const bool aggregate = runtime::native::isAggregateHeader(op.header);
      kafkaLog(std::string("changelog: ") + (aggregate ? "aggregate " : "pattern ") + op.pattern +
               " " + op.version + " drains: its artifact is in " + topic + " beside its " +
               (aggregate ? "open windows (" : "partial matches (") +
               std::to_string(op.artifact->size()) + " bytes)");
      if (changelog_bytes_ != nullptr) {
        changelog_bytes_->add(op.artifact->size());
      }
    }
  }
  for (const auto &[partition, c] : catch_up_) {
    dirty_.insert(partition); // its state is in its catch-up: written at every checkpoint
    if (!writeCatchUpArtifacts(*c, topic, error)) {
      return false;
    }
  }
  for (const auto &[partition, offset] : resume) {
    // A partition never written has no record yet, even when it resumes at offset 0 (every
    // event it read still held for reordering): the record must say so, or a new owner would
    // start from the group's committed offset, past the held events.
    auto written = written_offsets_.find(partition);
    if (dirty_.count(partition) == 0 && written != written_offsets_.end() &&
        written->second == offset) {
      continue;
    }
    dirty_.insert(partition);
  }
  for (std::int32_t partition : dirty_) {
    if (partition < 0) {
      continue; // keys without a message key stay with the process
    }
    if (held_ahead_.count(partition) != 0) {
      // Taken over ahead of this member, entries held for a pending deploy: none of its events
      // is released yet, so the record restored is its state still (restoreHeld marks it
      // dirty once they are in).
      continue;
    }
    if (scale_out_ && !source.assigned(static_cast<std::uint32_t>(partition))) {
      // Another member's partition (a key in a partition that is not its own: counted as a
      // mismatch): its record is that member's to write.
      continue;
    }
    service::ChangelogRecord rec = recordHead(source, partition, meta);
    auto at = resume.find(partition);
    rec.next_offset = at == resume.end() ? -1 : at->second;
    auto to = read_to.find(partition);
    rec.read_to = to == read_to.end() ? -1 : to->second;
    rec.watermark = released;
    if (auto c = catch_up_.find(partition); c != catch_up_.end() && !c->second->heard.empty()) {
      rec.input_watermarks = c->second->heard.heard; // what its catch-up had heard
      rec.input_idle = c->second->heard.idle;
    } else if (repartitioned_ != nullptr) { // what it had heard of the input's partitions
      HeardState heard = repartitioned_->heard(static_cast<std::uint32_t>(partition));
      rec.input_watermarks = std::move(heard.heard);
      rec.input_idle = std::move(heard.idle);
    }
    for (const auto &[id, op] : mirror_) {
      service::ChangelogPattern &p = rec.patterns.emplace_back();
      p.pattern = op.pattern;
      p.version = op.version;
      p.artifact_hash = op.hash;
      p.header = op.header;
      p.draining = op.draining; // its keys restore into the draining version (format 5)
      p.own_from = op.own_from;
      p.own_before = op.own_before;
      for (const auto &[key, record] : op.records) {
        if (record.partition == partition) {
          p.records.push_back(record.bytes);
        }
      }
    }
    catchUpRecord(partition, rec); // catching up: its catch-up's keys, offset and watermark
    std::string value;
    service::encodeChangelogRecord(rec, value);
    if (value.size() > service::kChangelogRecordMaxBytes) {
      error = "the changelog record of " + rec.topic + "[" + std::to_string(partition) + "] is " +
              std::to_string(value.size()) + " bytes, more than " +
              std::to_string(service::kChangelogRecordMaxBytes) +
              " (docs/kafka.md \"The changelog topic\": fewer keys per partition)";
      fatal = true;
      return false;
    }
    if (!producer_->produce(topic, service::changelogKey(rec.topic, rec.partition), value, error)) {
      return false;
    }
    written_offsets_[partition] = rec.next_offset;
    if (changelog_bytes_ != nullptr) {
      changelog_bytes_->add(value.size());
      changelog_records_->add();
    }
  }
  dirty_.clear();
  return true;
}

} // namespace cep::cli
