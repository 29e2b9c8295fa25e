#include "runtime/kafka/kafka_producer.hpp"

#include "runtime/kafka/kafka_client.hpp"
#include "runtime/kafka/kafka_source.hpp"
#include "runtime/metrics/registry.hpp"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace cep::runtime::kafka {

namespace {

constexpr std::string_view kMetadataPrefix = "cep-txn:";

std::string errorText(rd_kafka_error_t *e) {
  std::string text = rd_kafka_error_string(e);
  text += " (";
  text += rd_kafka_error_name(e);
  text += ")";
  return text;
}

} // namespace

std::string transactionMetadata(const std::string &label) {
  return std::string(kMetadataPrefix) + label;
}

std::string labelOfMetadata(const std::string &metadata) {
  if (metadata.compare(0, kMetadataPrefix.size(), kMetadataPrefix) != 0) {
    return "";
  }
  return metadata.substr(kMetadataPrefix.size());
}

struct KafkaProducer::Impl {
  KafkaProducerOptions options;
  rd_kafka_t *rk = nullptr;
  std::string transactional_id;
  std::string label;  // the open transaction's
  std::thread poller; // serves delivery reports while the loop goes on
  std::atomic<bool> stopping{false};
  std::atomic<std::uint64_t> errors_logged{0};
  metrics::Counter *committed = nullptr;
  metrics::Counter *aborted = nullptr;

  ~Impl() {
    stopping.store(true);
    if (poller.joinable()) {
      poller.join();
    }
    if (rk != nullptr) {
      rd_kafka_destroy(rk);
    }
  }

  void onError(int err, const char *reason) {
    std::uint64_t n = errors_logged.fetch_add(1) + 1;
    if (n <= 20 || n % 1000 == 0) {
      logLine(std::string("producer: ") + reason + " (" +
              rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)) + ")");
    }
  }
};

namespace {

void producerErrorCallback(rd_kafka_t *, int err, const char *reason, void *opaque) {
  static_cast<KafkaProducer::Impl *>(opaque)->onError(err, reason);
}

void deliveryCallback(rd_kafka_t *, const rd_kafka_message_t *message, void *) {
  if (message->_private != nullptr) {
    static_cast<DeliveryTarget *>(message->_private)->onDelivery(message);
  }
}

} // namespace

rd_kafka_t *producerHandle(KafkaProducer &producer) {
  return producer.impl().rk;
}

KafkaProducer::KafkaProducer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

KafkaProducer::~KafkaProducer() {
  flush();
}

std::shared_ptr<KafkaProducer> KafkaProducer::open(const KafkaProducerOptions &options,
                                                   std::string &error) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  // Idempotence: retries after a broker failure neither duplicate nor reorder messages.
  Settings defaults = {{"enable.idempotence", "true"},
                       {"linger.ms", "5"},
                       {"queue.buffering.max.kbytes", "65536"},
                       {"client.id", "cep-serve"}};
  if (!options.transactional_id.empty()) {
    defaults.emplace_back("transactional.id", options.transactional_id);
  }
  Settings fixed = {{"bootstrap.servers", options.bootstrap}};
  rd_kafka_conf_t *conf = makeConf(defaults, options.config, fixed, error);
  if (conf == nullptr) {
    return nullptr;
  }
  char value[512] = {0};
  std::size_t size = sizeof value;
  if (rd_kafka_conf_get(conf, "transactional.id", value, &size) == RD_KAFKA_CONF_OK) {
    impl->transactional_id = value;
  }
  if (options.transactional_id.empty() && !impl->transactional_id.empty()) {
    rd_kafka_conf_destroy(conf);
    error = "transactional.id is set by --kafka-config, but transactions need --state "
            "(docs/kafka.md, \"Exactly once\")";
    return nullptr;
  }
  rd_kafka_conf_set_opaque(conf, impl.get());
  rd_kafka_conf_set_dr_msg_cb(conf, deliveryCallback);
  rd_kafka_conf_set_error_cb(conf, producerErrorCallback);
  setLogCallback(conf);
  char errstr[512] = {0};
  impl->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (impl->rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    error = "kafka://" + options.bootstrap + ": cannot make a producer: " + errstr;
    return nullptr;
  }
  if (options.registry != nullptr && !impl->transactional_id.empty()) {
    const char *help = "Kafka producer transactions (one per checkpoint), by outcome.";
    impl->committed = &options.registry->counter("cep_kafka_transactions_total", help,
                                                 {{"outcome", "committed"}});
    impl->aborted =
        &options.registry->counter("cep_kafka_transactions_total", help, {{"outcome", "aborted"}});
  }
  Impl *raw = impl.get();
  impl->poller = std::thread([raw] {
    while (!raw->stopping.load()) {
      rd_kafka_poll(raw->rk, 100);
    }
  });
  return std::shared_ptr<KafkaProducer>(new KafkaProducer(std::move(impl)));
}

bool KafkaProducer::transactional() const {
  return !impl_->transactional_id.empty();
}

const std::string &KafkaProducer::transactionalId() const {
  return impl_->transactional_id;
}

bool KafkaProducer::initTransactions(std::string &error) {
  Impl &impl = *impl_;
  if (rd_kafka_error_t *e =
          rd_kafka_init_transactions(impl.rk, impl.options.transaction_timeout_ms)) {
    error = "transactional.id " + impl.transactional_id +
            ": cannot initialise transactions: " + errorText(e);
    rd_kafka_error_destroy(e);
    return false;
  }
  return true;
}

bool KafkaProducer::begin(const std::string &label, std::string &error) {
  Impl &impl = *impl_;
  if (rd_kafka_error_t *e = rd_kafka_begin_transaction(impl.rk)) {
    error = "cannot begin a transaction: " + errorText(e);
    rd_kafka_error_destroy(e);
    return false;
  }
  impl.label = label;
  return true;
}

const std::string &KafkaProducer::label() const {
  return impl_->label;
}

bool KafkaProducer::produce(const std::string &topic, std::string_view key, std::string_view value,
                            std::string &error, std::int32_t partition, std::int64_t timestamp) {
  Impl &impl = *impl_;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(impl.options.flush_timeout_ms);
  for (;;) {
    rd_kafka_headers_t *headers = rd_kafka_headers_new(1);
    if (!impl.label.empty()) {
      rd_kafka_header_add(headers, "cep-txn", -1, impl.label.data(),
                          static_cast<ssize_t>(impl.label.size()));
    }
    rd_kafka_resp_err_t err = rd_kafka_producev(
        impl.rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_VALUE(const_cast<char *>(value.data()), value.size()),
        RD_KAFKA_V_KEY(key.empty() ? nullptr : key.data(), key.size()),
        RD_KAFKA_V_PARTITION(partition < 0 ? RD_KAFKA_PARTITION_UA : partition),
        RD_KAFKA_V_TIMESTAMP(timestamp), RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      return true; // the headers belong to the message now
    }
    rd_kafka_headers_destroy(headers);
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || std::chrono::steady_clock::now() >= deadline) {
      error = "cannot produce to " + topic + ": " + rd_kafka_err2str(err);
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5)); // the poller thread frees room
  }
}

TxnOutcome KafkaProducer::commit(const std::vector<const KafkaSource *> &sources,
                                 std::string &error) {
  Impl &impl = *impl_;
  const int timeout = impl.options.transaction_timeout_ms;
  std::string metadata = transactionMetadata(impl.label);
  rd_kafka_error_t *e = nullptr;
  for (const KafkaSource *source : sources) {
    std::vector<std::pair<std::int32_t, std::int64_t>> positions = source->positions();
    if (positions.empty()) {
      continue;
    }
    rd_kafka_topic_partition_list_t *list =
        rd_kafka_topic_partition_list_new(static_cast<int>(positions.size()));
    for (const auto &[partition, offset] : positions) {
      rd_kafka_topic_partition_t *p =
          rd_kafka_topic_partition_list_add(list, source->topic().c_str(), partition);
      p->offset = offset;
      p->metadata = std::malloc(metadata.size());
      std::memcpy(p->metadata, metadata.data(), metadata.size());
      p->metadata_size = metadata.size();
    }
    rd_kafka_consumer_group_metadata_t *group =
        rd_kafka_consumer_group_metadata(consumerHandle(*source));
    e = rd_kafka_send_offsets_to_transaction(impl.rk, list, group, timeout);
    rd_kafka_consumer_group_metadata_destroy(group);
    rd_kafka_topic_partition_list_destroy(list);
    if (e != nullptr) {
      error = "transaction " + impl.label + ": sending the offsets of " + source->topic() +
              " failed: " + errorText(e);
      break;
    }
  }
  // A retriable failure (a timeout, a coordinator moving) is tried again, a few times.
  for (int attempt = 0; e == nullptr && attempt < 3; ++attempt) {
    e = rd_kafka_commit_transaction(impl.rk, timeout);
    if (e == nullptr) {
      impl.label.clear();
      if (impl.committed != nullptr) {
        impl.committed->add();
      }
      return TxnOutcome::Committed;
    }
    error = "transaction " + impl.label + ": the commit failed: " + errorText(e);
    if (!rd_kafka_error_is_retriable(e) || attempt == 2) {
      break;
    }
    logLine(error + ": trying again");
    rd_kafka_error_destroy(e);
    e = nullptr;
  }
  bool fatal = rd_kafka_error_is_fatal(e) != 0;
  rd_kafka_error_destroy(e);
  if (fatal) {
    return TxnOutcome::Fatal;
  }
  // Abortable, or retriable and still failing (a coordinator that does not answer): abort, and
  // the caller goes back to its last committed checkpoint, which is always safe.
  std::string why;
  if (!abort(why)) {
    error += "; " + why;
    return TxnOutcome::Fatal;
  }
  return TxnOutcome::Aborted;
}

bool KafkaProducer::abort(std::string &error) {
  Impl &impl = *impl_;
  if (rd_kafka_error_t *e =
          rd_kafka_abort_transaction(impl.rk, impl.options.transaction_timeout_ms)) {
    error = "transaction " + impl.label + ": the abort failed: " + errorText(e);
    rd_kafka_error_destroy(e);
    return false;
  }
  if (impl.aborted != nullptr) {
    impl.aborted->add();
  }
  impl.label.clear();
  return true;
}

void KafkaProducer::flush() {
  Impl &impl = *impl_;
  rd_kafka_flush(impl.rk, impl.options.flush_timeout_ms);
  int left = rd_kafka_outq_len(impl.rk);
  if (left > 0) {
    logLine(std::to_string(left) + " messages to kafka://" + impl.options.bootstrap +
            " not delivered within " + std::to_string(impl.options.flush_timeout_ms) +
            " ms of the stop: lost");
  }
}

} // namespace cep::runtime::kafka
