// `cep serve --repartition` (serve_kafka.hpp; docs/kafka.md "Repartition"): the Kafka input is
// keyed otherwise than the patterns, so a first stage republishes each of its messages, value
// unchanged, to `<group>-repartition`, keyed by the key its event has in the partitioned
// patterns (the key's string form, as match records are keyed by "@key":
// runtime/kafka/key_partition.hpp), and matching reads that topic instead (as Kafka Streams
// does). The first stage runs on the loop thread, inside the reads of the input topic's source:
// every message is republished by its skip_message hook and none is handed out to the loop.
//
// What is republished: an event with its patterns' key (one key: patterns that key one event
// differently are refused, they would need one repartition topic each); an event no
// partitioned pattern reads, or a message that does not decode (the matching stage makes it a
// dead letter), without a key. A watermark record of an input partition is not forwarded as
// it is (the repartition topic's partitions mix every input partition): when the partition's
// watermark rises it goes to every repartition partition saying which input partition it is
// of, and the matching stage takes the minimum over every input partition
// (serve_kafka_watermarks.hpp). The message timestamp is kept (the event time of a type
// without a time field). With --scale-out the first stages of the members share the input's
// partitions through the group `<group>-repartition` (serve_kafka_repartition_group.cpp).
//
// Without --state, the input's offsets are committed by the consumer's auto commit under the
// group `<group>-repartition`, so a kill may republish a message again (at least once, as the
// output without --state). With --state (a kafka:// output: transactional), the republished
// messages go into the checkpoint's producer transaction, the first stage's offsets are sent to
// that transaction (group `<group>-repartition`) and its positions are in the checkpoint
// (describe, resumeFrom in serve_kafka_state.cpp): a restart republishes from where the last
// committed checkpoint's first stage stopped, nothing lost, nothing twice (read_committed).
#include "cli/exit_codes.hpp"
#include "cli/serve_kafka.hpp"
#include "cli/serve_kafka_watermarks.hpp"
#include "runtime/kafka/changelog_topic.hpp"
#include "runtime/kafka/kafka_producer.hpp"
#include "runtime/kafka/kafka_source.hpp"
#include "runtime/kafka/key_partition.hpp"

#include <functional>
#include <iostream>
#include <limits>

namespace cep::cli {

namespace {

int usage(const std::string &why) {
  std::cerr << "cep serve: " << why << '\n';
  return kUsage;
}

// The input topic's source as the first stage: its messages are all republished (none is
// handed out), so its partitions never count in the matching stage's watermark. When one of
// them goes idle (--idle-timeout), `on_idle` says so through the repartition topic.
class RepartitionSource final : public runtime::RecordSource {
public:
  RepartitionSource(std::unique_ptr<runtime::kafka::KafkaSource> inner,
                    std::function<void(const runtime::kafka::KafkaSource &)> on_idle)
      : inner_(std::move(inner)), on_idle_(std::move(on_idle)) {}
  std::uint32_t splits() const override { return inner_->splits(); }
  std::string splitName(std::uint32_t split) const override { return inner_->splitName(split); }
  std::optional<runtime::PartitionOrigin> origin(std::uint32_t split) const override {
    return inner_->origin(split);
  }
  runtime::ReadStatus next(std::uint32_t &split, runtime::Line &line) override {
    runtime::ReadStatus status = inner_->next(split, line);
    if (inner_->countsVersion() != seen_version_) { // assigned, revoked, idle or back
      seen_version_ = inner_->countsVersion();
      on_idle_(*inner_);
    }
    return status;
  }
  int fd() const override { return inner_->fd(); }
  int wakeWithinMs() const override { return inner_->wakeWithinMs(); }
  bool counts(std::uint32_t) const override { return false; }
  std::uint64_t countsVersion() const override { return 0; }
  const std::string &error() const override { return inner_->error(); }

private:
  std::unique_ptr<runtime::kafka::KafkaSource> inner_;
  std::function<void(const runtime::kafka::KafkaSource &)> on_idle_;
  std::uint64_t seen_version_ = 0;
};

} // namespace

int ServeKafka::takeRepartition(const ServeOptions &options) {
  if (inputs_.size() != 1) {
    return usage("--repartition needs exactly one kafka:// input (the topic to republish)");
  }
  if (state_ && outputs_.empty()) {
    return usage("--repartition with --state needs a kafka:// output: the republished messages "
                 "go into its transactions (docs/kafka.md \"Repartition\")");
  }
  Input &input = inputs_.front();
  repartition_from_ = input.url;
  repartition_from_.group = input.url.group + "-repartition"; // the first stage's offsets
  repartition_topic_ = input.url.group + "-repartition";
  repartition_partitions_ = options.repartition_partitions;
  input.url.topic = repartition_topic_;
  input.url.start = "earliest"; // everything the first stage republished
  input.url.text =
      "kafka://" + input.url.bootstrap() + "/" + repartition_topic_ + "?group=" + input.url.group;
  return kOk;
}

bool ServeKafka::openRepartition(runtime::Inputs &inputs, runtime::metrics::Registry &registry,
                                 std::string &error) {
  runtime::kafka::KafkaProducerOptions producer;
  producer.bootstrap = repartition_from_.bootstrap();
  producer.config = has_config_ ? &config_ : nullptr;
  producer.registry = &registry;
  // With --state: the checkpoint's transactional producer, so the republished messages commit
  // or abort with the matching stage's output and both stages' offsets.
  republisher_ = transactional() ? producer_ : runtime::kafka::KafkaProducer::open(producer, error);
  if (!republisher_) {
    error = "--repartition: " + error;
    return false;
  }
  std::string note;
  int made = 0;
  if (!runtime::kafka::ensureTopic(*republisher_, repartition_topic_, repartition_from_.topic,
                                   repartition_partitions_, made, note, error)) {
    error = "--repartition: " + error;
    return false;
  }
  repartition_partitions_ = made;
  std::cerr << "cep serve: kafka: --repartition: " << repartition_from_.topic
            << " is republished to " << repartition_topic_ << " (" << made
            << " partitions, keyed by the patterns' key; its offsets in group "
            << repartition_from_.group << ")" << (note.empty() ? "" : ": ") << note << '\n';
  registry_ = &registry;
  republished_ = &registry.counter(
      "cep_kafka_republished_total",
      "Messages of the input topic republished to the repartition topic (--repartition).",
      {{"from", repartition_from_.topic}, {"to", repartition_topic_}});
  republished_watermarks_ =
      &registry.counter("cep_kafka_republished_watermarks_total",
                        "An input partition's watermark sent to every partition of the "
                        "repartition topic (once per rise; the matching stage takes the minimum "
                        "over the input's partitions).",
                        {{"to", repartition_topic_}});
  republished_idle_ =
      &registry.counter("cep_kafka_republished_idle_total",
                        "--repartition --idle-timeout: an input partition found idle, said to "
                        "every partition of the repartition topic (the matching stage leaves it "
                        "out of the minimum until its next watermark).",
                        {{"to", repartition_topic_}});
  runtime::kafka::KafkaSourceOptions options;
  options.url = repartition_from_;
  options.config = has_config_ ? &config_ : nullptr;
  options.registry = &registry;
  // The rule of a plain input: a partition caught up and silent for the timeout is idle, said
  // to every repartition partition (sayIdle).
  options.idle_timeout_ms = idle_timeout_ms_;
  // One process: every partition, no group join. --scale-out: the first stages of the members
  // share the input's partitions through the group `<group>-repartition` (cooperative-sticky),
  // each resuming a partition it is given where the changelog record of its previous owner
  // says (serve_kafka_repartition_group.cpp).
  options.assign_all = !scale_out_;
  if (scale_out_) {
    options.cooperative = true;
    options.hooks.revoking = [this](const std::vector<std::int32_t> &partitions, bool lost) {
      onFirstStageRevoking(partitions, lost);
    };
    options.hooks.assigned = [this](const std::vector<std::int32_t> &partitions) {
      return onFirstStageAssigned(partitions);
    };
  }
  options.max_record_bytes = 0; // republished whole; the matching stage applies the limit
  options.commit_offsets = !transactional(); // else in each checkpoint's transaction
  if (auto at = resume_.find(repartition_from_.topic); at != resume_.end()) {
    options.resume_at = at->second; // the first stage's positions in the checkpoint
  }
  options.skip_message = [this](std::int32_t partition, std::int64_t offset,
                                const runtime::Line &line) {
    return republish(partition, offset, line);
  };
  std::unique_ptr<runtime::kafka::KafkaSource> source =
      runtime::kafka::KafkaSource::open(options, error);
  if (!source) {
    error = "--repartition: " + error;
    return false;
  }
  input_watermarks_.assign(source->splits(), std::numeric_limits<std::int64_t>::min());
  idle_said_.assign(source->splits(), kCounted);
  first_stage_held_.assign(source->splits(), 0);
  repartition_source_ = source.get();
  inputs.addSource(
      std::make_unique<RepartitionSource>(
          std::move(source), [this](const runtime::kafka::KafkaSource &s) { sayIdle(s); }),
      -1);
  return true;
}

bool ServeKafka::sendToEveryPartition(const std::string &value) {
  std::string error;
  for (int p = 0; p < repartition_partitions_; ++p) {
    if (!republisher_->produce(repartition_topic_, "", value, error, p)) {
      fail("--repartition: " + error);
      return false;
    }
  }
  return true;
}

void ServeKafka::sayIdle(const runtime::kafka::KafkaSource &source) {
  for (std::uint32_t p = 0; p < idle_said_.size(); ++p) {
    if (!source.assigned(p)) {
      idle_said_[p] = kCounted; // given up: its next owner speaks for it
      first_stage_held_[p] = 0;
      continue;
    }
    if (first_stage_held_[p] == 0) {
      // Newly held (the start, or taken over): the matching stage may have it as idle (said
      // by its previous owner, or restored from a record), so its first message says it
      // speaks (only with --idle-timeout: without it nothing is ever said idle).
      first_stage_held_[p] = 1;
      idle_said_[p] = idle_timeout_ms_ > 0 ? kUnknown : kCounted;
    }
    if (idle_said_[p] == kSaidIdle || !source.idle(p) || !failure_.empty()) {
      continue;
    }
    if (!sendToEveryPartition(partitionIdle(true, static_cast<std::int32_t>(p)))) {
      return;
    }
    idle_said_[p] = kSaidIdle;
    republished_idle_->add();
    kafkaLog("--repartition: " + source.splitName(p) + " idle (silent for " +
             std::to_string(idle_timeout_ms_) + " ms): said to every partition of " +
             repartition_topic_ +
             ", whose watermarks go on without it until it has a message "
             "again");
  }
}

bool ServeKafka::republish(std::int32_t partition, std::int64_t offset, const runtime::Line &line) {
  if (!failure_.empty()) {
    return true; // stopping: nothing more is republished
  }
  if (auto &said = idle_said_[static_cast<std::size_t>(partition)]; said != kCounted) {
    // Back from idle (or maybe idle: kUnknown): its last watermark again (or that it is not
    // idle, without one), before its message, so that the matching stage counts it again.
    const bool was_idle = said == kSaidIdle;
    said = kCounted;
    const std::int64_t last = input_watermarks_[static_cast<std::size_t>(partition)];
    if (!sendToEveryPartition(last == std::numeric_limits<std::int64_t>::min()
                                  ? partitionIdle(false, partition)
                                  : partitionWatermark(last, partition))) {
      return true;
    }
    if (was_idle) {
      kafkaLog("--repartition: " + repartition_from_.topic + "[" + std::to_string(partition) +
               "] has messages again: back in the watermarks of " + repartition_topic_);
    }
  }
  const std::int64_t timestamp = line.source_time == runtime::kNoSourceTime ? 0 : line.source_time;
  std::string key;
  std::string error;
  if (served_ != nullptr) {
    const runtime::Schema &schema = served_->schema();
    runtime::RecordContext context;
    context.line = static_cast<std::uint64_t>(offset) + 1;
    context.ingestion_time = timestamp;
    context.bound_type =
        inputs_.front().type_name.empty() ? -1 : schema.typeIndex(inputs_.front().type_name);
    runtime::DecodeResult decoded = messageDecoder().decodeCopy(line.text, context);
    if (decoded.status == runtime::DecodeStatus::Watermark) {
      // Said for this input partition alone: the matching stage takes the minimum over every
      // input partition (RepartitionedSource), whichever member republished each.
      auto &mine = input_watermarks_[static_cast<std::size_t>(partition)];
      if (decoded.watermark <= mine) {
        return true; // did not rise
      }
      mine = decoded.watermark;
      if (sendToEveryPartition(partitionWatermark(decoded.watermark, partition))) {
        republished_watermarks_->add();
      }
      return true;
    }
    if (decoded.status == runtime::DecodeStatus::Event) {
      key_scratch_.clear();
      served_->patternKeys(*decoded.event, key_scratch_);
      const std::pair<std::string, std::string> *first = nullptr;
      for (const auto &pk : key_scratch_) {
        if (first == nullptr) {
          first = &pk;
        } else if (pk.second != first->second) {
          failure_usage_ = true;
          fail("--repartition: " + repartition_from_.topic + "[" + std::to_string(partition) +
               "]@" + std::to_string(offset) + ": pattern " + first->first + " keys this event " +
               first->second.substr(0, 64) + " and pattern " + pk.first + " keys it " +
               pk.second.substr(0, 64) +
               ": one repartition topic holds one key per event; serve patterns keyed "
               "differently from separate `cep serve --repartition` processes of different "
               "groups (docs/kafka.md \"Repartition\")");
          return true;
        }
      }
      if (first != nullptr) {
        key = runtime::kafka::messageKeyOf(first->second).value_or("");
      }
    }
  }
  // An event no partitioned pattern reads, a null key, or a message the matching stage makes a
  // dead letter: without a key.
  if (!republisher_->produce(repartition_topic_, key, line.text, error, -1, timestamp)) {
    fail("--repartition: " + error);
    return true;
  }
  republished_->add();
  return true;
}

} // namespace cep::cli
