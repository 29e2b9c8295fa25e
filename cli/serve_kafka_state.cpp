// `cep serve --state` with Kafka (serve_kafka.hpp; docs/kafka.md, "Exactly once"): the
// transactional producer, the decision on a pending checkpoint at start, the partitions'
// positions in checkpoints, and one transaction per checkpoint.
#include "cli/exit_codes.hpp"
#include "cli/serve_kafka.hpp"
#include "runtime/kafka/kafka_producer.hpp"
#include "runtime/kafka/kafka_source.hpp"
#include "runtime/state/store/checkpoint_store.hpp"
#include "support/fnv1a.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <random>
#include <stdexcept>
#include <unistd.h>

namespace cep::cli {

namespace {

std::string hostName() {
  char name[256] = {0};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') {
    return "localhost";
  }
  return name;
}

std::string absolutePath(const std::string &path) {
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(path, ec);
  return ec ? path : absolute.lexically_normal().string();
}

std::string topicOf(const std::string &url) {
  runtime::kafka::KafkaUrl parsed;
  std::string error;
  runtime::kafka::parseKafkaUrl(url, runtime::kafka::KafkaUrl::Output, parsed, error);
  return parsed.topic;
}

// The checkpoint's section of what each repartition partition had heard of the input's
// partitions (serve_kafka_watermarks.hpp, encodeHeard).
constexpr std::string_view kHeardSection = "repartition-watermarks";

} // namespace

bool ServeKafka::beginNext(std::string &error) {
  std::string label = label_base_ + "-" + std::to_string(++transactions_);
  return producer_->begin(label, error);
}

int ServeKafka::prepareState(runtime::store::CheckpointStore &store,
                             runtime::metrics::Registry &registry) {
  std::string error;
  if (transactional()) {
    runtime::kafka::KafkaUrl first;
    runtime::kafka::parseKafkaUrl(outputs_.front(), runtime::kafka::KafkaUrl::Output, first, error);
    runtime::kafka::KafkaProducerOptions options;
    options.bootstrap = first.bootstrap();
    options.config = has_config_ ? &config_ : nullptr;
    options.registry = &registry;
    std::string scope = inputs_.empty() ? first.topic : inputs_.front().url.group;
    options.transactional_id = "cep-" + scope + "-" + hostName();
    if (scale_out_) {
      // Several members of the group may run on one host: one id per state folder, stable
      // across restarts of it (its init_transactions fences a killed predecessor). Members of
      // older group generations are fenced by KIP-447 (docs/kafka.md "Scale-out").
      char hex[17];
      std::snprintf(hex, sizeof hex, "%016llx",
                    static_cast<unsigned long long>(fnv1a64(absolutePath(state_dir_))));
      options.transactional_id += "-" + std::string(hex, 8);
    }
    producer_ = runtime::kafka::KafkaProducer::open(options, error);
    if (!producer_) {
      std::cerr << "cep serve: --output " << outputs_.front() << ": " << error << '\n';
      return kUsage;
    }
    if (!producer_->initTransactions(error)) {
      std::cerr << "cep serve: --output " << outputs_.front() << ": " << error << '\n';
      return kRuntimeFailure;
    }
    kafkaLog(
        "transactional.id " + producer_->transactionalId() +
        ": transactions initialised (an earlier producer of this id is fenced; the transaction "
        "it left open is aborted by the broker)");
    // The start time alone is not unique: two members of a group starting in the same
    // millisecond would label their transactions alike, and a restart would take the other's
    // committed offsets for its own. Six random digits after it (still one number: labels
    // stay BASE-SEQ) make that out of the question.
    char nonce[7];
    std::snprintf(nonce, sizeof nonce, "%06u",
                  static_cast<unsigned>(std::random_device{}() % 1000000U));
    label_base_ = std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count()) +
                  nonce;
    if (!beginNext(error)) {
      std::cerr << "cep serve: --output " << outputs_.front() << ": " << error << '\n';
      return kRuntimeFailure;
    }
  }

  // The latest checkpoint: if it is pending, did its transaction commit?
  auto reader = store.read(error);
  if (!reader) {
    if (!error.empty()) {
      std::cerr << "cep serve: --state: " << error << '\n';
      return kRuntimeFailure;
    }
    return kOk;
  }
  service::ServeMeta meta;
  try {
    meta = service::decodeServeMeta(reader->meta);
  } catch (const std::exception &e) {
    return kOk; // restoreAtStart reports it
  }
  if (!meta.kafka || meta.kafka->state != service::KafkaTxnState::Pending) {
    return kOk;
  }
  const service::KafkaMeta &k = *meta.kafka;
  std::string head = "checkpoint " + std::to_string(reader->id) + " was written before its " +
                     "transaction " + k.transaction + " committed";
  // The group's committed offsets carry the label of the last transaction that committed
  // (read after init_transactions: the broker has settled the transaction left open).
  std::string seen;
  bool committed = false;
  bool any_offsets = false;
  for (const service::KafkaTopicMark &mark : k.inputs) {
    if (mark.next_offsets.empty()) {
      continue;
    }
    any_offsets = true;
    const runtime::kafka::KafkaUrl *url = nullptr;
    for (const Input &candidate : inputs_) {
      if (candidate.url.topic == mark.topic && candidate.url.group == mark.group) {
        url = &candidate.url;
      }
    }
    if (repartition() && repartition_from_.topic == mark.topic &&
        repartition_from_.group == mark.group) {
      url = &repartition_from_; // --repartition's first stage: its offsets are in the same
                                // transaction
    }
    if (url == nullptr) {
      continue; // not this server's input: resumeFrom refuses the start
    }
    std::vector<runtime::kafka::CommittedOffset> offsets;
    if (!runtime::kafka::readCommittedOffsets(*url, has_config_ ? &config_ : nullptr,
                                              mark.partitions, offsets, error)) {
      std::cerr << "cep serve: " << head << ", and whether it did cannot be known: " << error
                << '\n';
      return kRuntimeFailure;
    }
    for (const runtime::kafka::CommittedOffset &o : offsets) {
      std::string label = runtime::kafka::labelOfMetadata(o.metadata);
      if (label == k.transaction) {
        committed = true;
      } else if (!label.empty() && seen.find(label) == std::string::npos) {
        seen += (seen.empty() ? "" : ", ") + label;
      }
    }
  }
  if (committed) {
    kafkaLog(head + "; the group's committed offsets carry it: it committed, resuming from it");
    return kOk;
  }
  std::string why = "its transaction " + k.transaction + " did not commit: the group's committed " +
                    "offsets carry " +
                    (seen.empty() ? std::string("no cep transaction (librdkafka's mock cluster "
                                                "stores no offsets sent in a transaction)")
                                  : "transaction " + seen);
  if (!store.discardLatest(why, error)) {
    if (!any_offsets) {
      // The first checkpoint of the folder, taken before anything was read: nothing to redo.
      kafkaLog(head + "; it is the first, taken before anything was read: resuming from it");
      return kOk;
    }
    std::cerr << "cep serve: --state: " << head << ", " << why << ", and " << error << '\n';
    return kRuntimeFailure;
  }
  kafkaLog(head + "; " + why +
           ": it is discarded for the checkpoint before it (its records are "
           "those of an aborted transaction)");
  return kOk;
}

void ServeKafka::resumeFrom(const service::ServeMeta &meta) {
  const std::string instead = " (or start with another --state folder)";
  if (!meta.kafka) {
    if (any()) {
      throw std::runtime_error("the checkpoint was taken by a server without Kafka inputs or "
                               "outputs; this one has them: give the checkpoint's -i and -o" +
                               instead);
    }
    return;
  }
  const service::KafkaMeta &k = *meta.kafka;
  auto names = [](const std::vector<std::string> &list) {
    std::string text;
    for (const std::string &name : list) {
      text += (text.empty() ? "" : ", ") + name;
    }
    return text.empty() ? std::string("none") : text;
  };
  std::vector<std::string> then, now;
  for (const service::KafkaTopicMark &mark : k.inputs) {
    then.push_back(mark.topic + " (group " + mark.group + ")");
  }
  for (const Input &input : inputs_) {
    now.push_back(input.url.topic + " (group " + input.url.group + ")");
  }
  if (repartition()) { // the first stage's input, after the matching stage's (describe)
    now.push_back(repartition_from_.topic + " (group " + repartition_from_.group + ")");
  }
  if (then != now) {
    throw std::runtime_error("the checkpoint read the Kafka topics " + names(then) +
                             ", this server reads " + names(now) +
                             ": give the same kafka:// inputs in the same order" + instead);
  }
  then.clear();
  now.clear();
  for (const service::KafkaOutputMark &mark : k.outputs) {
    then.push_back(mark.role + " to " + topicOf(mark.url));
  }
  for (const auto &[role, url] : output_roles_) {
    now.push_back(role + " to " + topicOf(url));
  }
  if (then != now) {
    throw std::runtime_error("the checkpoint wrote the Kafka topics " + names(then) +
                             ", this server writes " + names(now) +
                             ": give the same kafka:// outputs" + instead);
  }
  if (transactional() && !k.transactional_id.empty() &&
      k.transactional_id != producer_->transactionalId()) {
    kafkaLog(
        "the checkpoint's transactions had the transactional.id " + k.transactional_id +
        ", this server's is " + producer_->transactionalId() +
        ": a transaction the earlier server left open is not fenced (the broker aborts it after "
        "transaction.timeout.ms); set transactional.id in --kafka-config to keep one");
  }
  for (const service::KafkaTopicMark &mark : k.inputs) {
    auto &at = resume_[mark.topic];
    for (const auto &[partition, offset] : mark.next_offsets) {
      at[partition] = offset;
    }
  }
  restored_ = k;
  if (const std::string *heard = meta.section(kHeardSection); heard != nullptr && !scale_out_) {
    // With --scale-out the partitions' records say it when they are assigned.
    folder_heard_ = decodeHeard(*heard);
  }
  if (!k.transaction.empty()) {
    kafkaLog("resuming after transaction " + k.transaction +
             (k.state == service::KafkaTxnState::Pending
                  ? " (committed: its checkpoint was pending)"
                  : " (committed)"));
  }
}

bool ServeKafka::checkIdentity(std::string &error) const {
  if (!restored_) {
    return true;
  }
  // With --repartition the first stage's input comes after the matching stage's (describe).
  std::vector<const runtime::kafka::KafkaSource *> sources(sources_.begin(), sources_.end());
  if (repartition_source_ != nullptr) {
    sources.push_back(repartition_source_);
  }
  for (std::size_t i = 0; i < sources.size() && i < restored_->inputs.size(); ++i) {
    const service::KafkaTopicMark &mark = restored_->inputs[i];
    const runtime::kafka::KafkaSource &source = *sources[i];
    std::string head = "cannot resume the Kafka topic " + mark.topic + " (group " + mark.group +
                       ") from the checkpoint: ";
    if (!mark.cluster.empty() && source.clusterId().empty()) {
      // A check that passed on "unknown" would resume offsets on brokers that may be another
      // cluster; the source already waited for the id as long as for the topic's metadata.
      error = head + "it was read from the cluster " + mark.cluster +
              ", and these brokers did not tell their cluster id (so they cannot be shown to be "
              "the same cluster); retry when the brokers answer metadata requests fully, or "
              "start with another --state folder";
      return false;
    }
    if (!mark.cluster.empty() && mark.cluster != source.clusterId()) {
      error = head + "it was read from the cluster " + mark.cluster + ", these brokers are the " +
              "cluster " + source.clusterId() +
              " (another cluster: its offsets mean other records); start with another --state "
              "folder";
      return false;
    }
    if (mark.partitions != source.splits()) {
      error = head + "it had " + std::to_string(mark.partitions) + " partitions, it has " +
              std::to_string(source.splits()) +
              " now (the topic was made again or grown: the partitions' offsets and keys no "
              "longer match); start with another --state folder";
      return false;
    }
  }
  return true;
}

void ServeKafka::describe(service::ServeMeta &meta) const {
  if (repartitioned_ != nullptr) {
    std::map<std::uint32_t, HeardState> heard;
    for (std::uint32_t p = 0; p < repartitioned_->splits(); ++p) {
      if (sources_.front()->assigned(p)) {
        heard[p] = repartitioned_->heard(p);
      }
    }
    meta.sections.emplace_back(std::string(kHeardSection), encodeHeard(heard));
  }
  service::KafkaMeta &k = meta.kafka.emplace();
  for (const runtime::kafka::KafkaSource *source : sources_) {
    service::KafkaTopicMark &mark = k.inputs.emplace_back();
    mark.topic = source->topic();
    mark.group = source->group();
    mark.cluster = source->clusterId();
    mark.partitions = source->splits();
    mark.next_offsets = source->positions();
  }
  if (repartition_source_ != nullptr) { // --repartition's first stage: where it republished to
    service::KafkaTopicMark &mark = k.inputs.emplace_back();
    mark.topic = repartition_source_->topic();
    mark.group = repartition_source_->group();
    mark.cluster = repartition_source_->clusterId();
    mark.partitions = repartition_source_->splits();
    mark.next_offsets = repartition_source_->positions();
  }
  for (const auto &[role, url] : output_roles_) {
    k.outputs.push_back({role, url});
  }
  if (producer_) {
    k.transactional_id = producer_->transactionalId();
    k.transaction = producer_->label();
    k.state = service::KafkaTxnState::Pending;
  }
}

service::TransactionStep ServeKafka::commitTransaction(service::ServeMeta &meta,
                                                       std::string &error) {
  std::vector<const runtime::kafka::KafkaSource *> sources(sources_.begin(), sources_.end());
  if (repartition_source_ != nullptr) {
    sources.push_back(repartition_source_); // the first stage's offsets, group <group>-repartition
  }
  bool fatal = false;
  // Draining versions' artifacts written in this transaction count as written once it commits.
  const std::set<std::string> artifacts_before = artifacts_written_;
  if ((changelog() && !writeChangelog(meta, error, fatal)) ||
      (scale_out_ && repartition() && !writeFirstStageRecords(meta, error))) {
    // The transaction must not commit without its changelog records: aborted (and counted),
    // the server rewinds as for any abortable error.
    artifacts_written_ = artifacts_before;
    error = "transaction " + producer_->label() + ": the changelog: " + error;
    std::string why;
    if (!producer_->abort(why)) {
      error += "; " + why;
      return service::TransactionStep::Fatal;
    }
    return fatal ? service::TransactionStep::Fatal : service::TransactionStep::Rewind;
  }
  switch (producer_->commit(sources, error)) {
  case runtime::kafka::TxnOutcome::Committed:
    meta.kafka->state = service::KafkaTxnState::Committed;
    if (!beginNext(error)) {
      return service::TransactionStep::Fatal;
    }
    return service::TransactionStep::Committed;
  case runtime::kafka::TxnOutcome::Aborted:
    artifacts_written_ = artifacts_before;
    return service::TransactionStep::Rewind;
  case runtime::kafka::TxnOutcome::Fatal:
    break;
  }
  artifacts_written_ = artifacts_before;
  return service::TransactionStep::Fatal;
}

} // namespace cep::cli
