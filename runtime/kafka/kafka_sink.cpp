#include "runtime/kafka/kafka_sink.hpp"

#include "runtime/io/stop_signals.hpp"
#include "runtime/kafka/kafka_client.hpp"
#include "runtime/kafka/kafka_producer.hpp"
#include "runtime/metrics/registry.hpp"

#include <atomic>
#include <chrono>
#include <simdjson.h>
#include <thread>

namespace cep::runtime::kafka {

struct KafkaSink::Impl final : DeliveryTarget {
  KafkaSinkOptions options;
  std::shared_ptr<KafkaProducer> producer;
  rd_kafka_t *rk = nullptr; // the producer's
  rd_kafka_topic_t *topic = nullptr;
  bool closed = false;
  std::atomic<std::uint64_t> delivered{0};
  std::atomic<std::uint64_t> failed{0};
  metrics::Counter *produced_total = nullptr;
  metrics::Counter *errors_total = nullptr;
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded;
  std::string key;
  std::string stream;

  ~Impl() {
    if (topic != nullptr) {
      rd_kafka_topic_destroy(topic);
    }
  }

  void onDelivery(const rd_kafka_message_t *message) override {
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      delivered.fetch_add(1, std::memory_order_relaxed);
      if (produced_total != nullptr) {
        produced_total->add();
      }
      return;
    }
    std::uint64_t n = failed.fetch_add(1, std::memory_order_relaxed) + 1;
    if (errors_total != nullptr) {
      errors_total->add();
    }
    if (producer->transactional()) {
      if (n <= 3) { // the transaction is aborted at the next checkpoint, and written again
        logLine("delivery to " + options.url.text + " failed: " + rd_kafka_err2str(message->err) +
                ": its transaction will be aborted and its records written again");
      }
    } else if (n <= 10 || n % 1000 == 0) {
      logLine("delivery to " + options.url.text + " failed: " + rd_kafka_err2str(message->err) +
              " (" + std::to_string(n) + (n == 1 ? " message" : " messages") + " lost so far)");
    }
  }

  // The key and @stream of a match record; false when it has neither (not a match record).
  void keyOf(std::string_view record, bool &has_key, bool &has_stream) {
    has_key = false;
    has_stream = false;
    if (record.size() < 2 || record.front() != '{') {
      return;
    }
    padded = simdjson::padded_string(record);
    simdjson::ondemand::document doc;
    if (parser.iterate(padded).get(doc) != simdjson::SUCCESS) {
      return;
    }
    simdjson::ondemand::object object;
    if (doc.get_object().get(object) != simdjson::SUCCESS) {
      return;
    }
    for (auto field : object) {
      std::string_view name;
      if (field.unescaped_key().get(name) != simdjson::SUCCESS) {
        return;
      }
      simdjson::ondemand::value value;
      if (field.value().get(value) != simdjson::SUCCESS) {
        return;
      }
      if (name == "@stream") {
        std::string_view text;
        if (value.get_string().get(text) == simdjson::SUCCESS) {
          stream.assign(text);
          has_stream = true;
        }
      } else if (name == "@key") {
        simdjson::ondemand::json_type type;
        if (value.type().get(type) != simdjson::SUCCESS) {
          return;
        }
        if (type == simdjson::ondemand::json_type::string) {
          std::string_view text;
          if (value.get_string().get(text) == simdjson::SUCCESS) {
            key.assign(text);
            has_key = true;
          }
        } else if (type != simdjson::ondemand::json_type::null) {
          // A composite key is an array (its whole text); a number or a boolean one token.
          std::string_view raw;
          simdjson::ondemand::array array;
          bool got = type == simdjson::ondemand::json_type::array
                         ? value.get_array().get(array) == simdjson::SUCCESS &&
                               array.raw_json().get(raw) == simdjson::SUCCESS
                         : (raw = value.raw_json_token(), true);
          if (got) {
            while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n')) {
              raw.remove_suffix(1);
            }
            key.assign(raw);
            has_key = true;
          }
        }
        return; // @stream, @pattern, @key come first (spec §5)
      }
    }
  }
};

KafkaSink::KafkaSink(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

KafkaSink::~KafkaSink() {
  close();
}

std::unique_ptr<KafkaSink> KafkaSink::open(const KafkaSinkOptions &options, std::string &error) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  const KafkaUrl &url = options.url;
  impl->producer = options.producer;
  if (!impl->producer) {
    KafkaProducerOptions producer;
    producer.bootstrap = url.bootstrap();
    producer.config = options.config;
    producer.flush_timeout_ms = options.flush_timeout_ms;
    impl->producer = KafkaProducer::open(producer, error);
    if (!impl->producer) {
      error = url.text + ": " + error;
      return nullptr;
    }
  }
  impl->rk = producerHandle(*impl->producer);
  impl->topic = rd_kafka_topic_new(impl->rk, url.topic.c_str(), nullptr);
  const rd_kafka_metadata_t *metadata = nullptr;
  rd_kafka_resp_err_t err =
      rd_kafka_metadata(impl->rk, 0, impl->topic, &metadata, options.metadata_timeout_ms);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    error = url.text + ": no answer from the brokers " + url.bootstrap() + " within " +
            std::to_string(options.metadata_timeout_ms) + " ms (" + rd_kafka_err2str(err) + ")";
    return nullptr;
  }
  rd_kafka_resp_err_t topic_err = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    if (url.topic == metadata->topics[i].topic) {
      topic_err = metadata->topics[i].err;
    }
  }
  rd_kafka_metadata_destroy(metadata);
  if (topic_err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    error = url.text + ": topic \"" + url.topic + "\" is not on the brokers " + url.bootstrap() +
            " (" + rd_kafka_err2str(topic_err) + ")";
    return nullptr;
  }
  if (options.registry != nullptr) {
    metrics::Labels labels = {{"topic", url.topic}};
    impl->produced_total = &options.registry->counter(
        "cep_kafka_messages_produced_total", "Messages delivered to a Kafka topic.", labels);
    impl->errors_total = &options.registry->counter(
        "cep_kafka_delivery_errors_total",
        "Messages to a Kafka topic that librdkafka gave up delivering.", labels);
  }
  logLine("producing to " + url.topic + " on " + url.bootstrap());
  return std::unique_ptr<KafkaSink>(new KafkaSink(std::move(impl)));
}

bool KafkaSink::write(std::string_view record, std::string &error) {
  Impl &impl = *impl_;
  bool has_key = false, has_stream = false;
  impl.keyOf(record, has_key, has_stream);
  rd_kafka_headers_t *headers = nullptr;
  std::chrono::steady_clock::time_point waiting_since{};
  bool waited = false;
  for (;;) {
    const std::string &label = impl.producer->label();
    if (has_stream || !label.empty()) {
      headers = rd_kafka_headers_new(2);
    }
    if (has_stream) {
      rd_kafka_header_add(headers, "@stream", -1, impl.stream.data(),
                          static_cast<ssize_t>(impl.stream.size()));
    }
    if (!label.empty()) { // the transaction the record belongs to (docs/kafka.md)
      rd_kafka_header_add(headers, "cep-txn", -1, label.data(), static_cast<ssize_t>(label.size()));
    }
    rd_kafka_resp_err_t err = rd_kafka_producev(
        impl.rk, RD_KAFKA_V_RKT(impl.topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_VALUE(const_cast<char *>(record.data()), record.size()),
        RD_KAFKA_V_KEY(has_key ? impl.key.data() : nullptr, has_key ? impl.key.size() : 0),
        RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_OPAQUE(static_cast<DeliveryTarget *>(&impl)),
        RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (waited) {
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - waiting_since)
                      .count();
        logLine("output " + impl.options.url.text + " takes messages again after " +
                std::to_string(ms) + " ms");
      }
      return true; // delivery reports: the poller thread
    }
    if (headers != nullptr) {
      rd_kafka_headers_destroy(headers); // not taken over on failure
      headers = nullptr;
    }
    if (err == RD_KAFKA_RESP_ERR__STATE && impl.producer->transactional()) {
      // The transaction failed (a delivery it needs was refused): it is aborted at the next
      // checkpoint, which rewinds the server to the last committed one (docs/kafka.md), so
      // the records of the transaction are written again then, not lost.
      return true;
    }
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      error = rd_kafka_err2str(err);
      return false;
    }
    // Backpressure: wait for room while the brokers take what is queued.
    if (!waited) {
      waited = true;
      waiting_since = std::chrono::steady_clock::now();
      logLine("output " + impl.options.url.text +
              " is full (the brokers do not keep up): input waits until it has room");
    }
    if (stopSignal() != 0) {
      error = "stopping while the producer's queue is full (" +
              std::to_string(rd_kafka_outq_len(impl.rk)) + " messages not yet delivered)";
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10)); // the poller makes room
  }
}

void KafkaSink::close() {
  Impl &impl = *impl_;
  if (impl.closed) {
    return;
  }
  impl.closed = true;
  impl.producer->flush(); // its delivery reports come to this sink: before it goes
}

std::uint64_t KafkaSink::produced() const {
  return impl_->delivered.load(std::memory_order_relaxed);
}

std::uint64_t KafkaSink::deliveryErrors() const {
  return impl_->failed.load(std::memory_order_relaxed);
}

const std::string &KafkaSink::name() const {
  return impl_->options.url.text;
}

} // namespace cep::runtime::kafka
