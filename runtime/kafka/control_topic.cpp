#include "runtime/kafka/control_topic.hpp"

#include "runtime/kafka/kafka_client.hpp"

#include <atomic>
#include <mutex>

namespace cep::runtime::kafka {

namespace {

// The partition count of `topic`, which also says the brokers answer. -1 with `error`.
int partitionCount(rd_kafka_t *rk, const KafkaUrl &url, int timeout_ms, std::string &error) {
  rd_kafka_topic_t *topic = rd_kafka_topic_new(rk, url.topic.c_str(), nullptr);
  const rd_kafka_metadata_t *metadata = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, topic, &metadata, timeout_ms);
  rd_kafka_topic_destroy(topic);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    error = url.text + ": no answer from the brokers " + url.bootstrap() + " within " +
            std::to_string(timeout_ms) + " ms (" + rd_kafka_err2str(err) + ")";
    return -1;
  }
  int count = 0;
  rd_kafka_resp_err_t topic_err = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    if (url.topic == metadata->topics[i].topic) {
      topic_err = metadata->topics[i].err;
      count = metadata->topics[i].partition_cnt;
    }
  }
  rd_kafka_metadata_destroy(metadata);
  if (topic_err != RD_KAFKA_RESP_ERR_NO_ERROR || count <= 0) {
    error = url.text + ": topic \"" + url.topic + "\" is not on the brokers " + url.bootstrap() +
            " (" + rd_kafka_err2str(topic_err) + ")";
    return -1;
  }
  return count;
}

void controlErrorCallback(rd_kafka_t *, int err, const char *reason, void *opaque) {
  auto *logged = static_cast<std::atomic<std::uint64_t> *>(opaque);
  std::uint64_t n = ++*logged;
  if (n <= 10 || n % 1000 == 0) {
    logLine(std::string("rules topic: ") + reason + " (" +
            rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)) + ")");
  }
}

} // namespace

bool parseControlTopicUrl(std::string_view text, KafkaUrl &url, std::string &error) {
  if (isKafkaUrl(text) && text.find('?') != std::string_view::npos) {
    error = std::string(text) + ": a control topic takes no parameter: every server reads it " +
            "whole, without a consumer group (settings go in --kafka-config)";
    return false;
  }
  return parseKafkaUrl(text, KafkaUrl::Output, url, error);
}

struct ControlTopicReader::Impl {
  ControlTopicOptions options;
  rd_kafka_t *rk = nullptr;
  int partitions = 0;
  std::atomic<std::uint64_t> errors_logged{0};

  ~Impl() {
    if (rk != nullptr) {
      rd_kafka_consumer_close(rk);
      rd_kafka_destroy(rk);
    }
  }
};

ControlTopicReader::ControlTopicReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ControlTopicReader::~ControlTopicReader() = default;

std::unique_ptr<ControlTopicReader> ControlTopicReader::open(const ControlTopicOptions &options,
                                                             const std::vector<std::int64_t> &start,
                                                             std::string &error) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  const KafkaUrl &url = options.url;
  // No group: partitions are assigned by hand and no offset is committed (a group.id is still
  // needed by librdkafka's consumer; nothing joins or commits under it).
  Settings defaults = {{"enable.partition.eof", "false"}, {"client.id", "cep-serve-rules"}};
  Settings fixed = {{"bootstrap.servers", url.bootstrap()},
                    {"group.id", "cep-rules-unused"},
                    {"enable.auto.commit", "false"},
                    {"enable.auto.offset.store", "false"},
                    {"auto.offset.reset", "earliest"}};
  rd_kafka_conf_t *conf = makeConf(defaults, options.config, fixed, error);
  if (conf == nullptr) {
    return nullptr;
  }
  rd_kafka_conf_set_opaque(conf, &impl->errors_logged);
  rd_kafka_conf_set_error_cb(conf, controlErrorCallback);
  impl->rk = newConsumer(conf, url.text, error);
  if (impl->rk == nullptr) {
    return nullptr;
  }
  rd_kafka_poll_set_consumer(impl->rk);
  impl->partitions = partitionCount(impl->rk, url, options.metadata_timeout_ms, error);
  if (impl->partitions < 0) {
    return nullptr;
  }
  rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(impl->partitions);
  for (int p = 0; p < impl->partitions; ++p) {
    std::int64_t from = static_cast<std::size_t>(p) < start.size() ? start[p] : -1;
    rd_kafka_topic_partition_list_add(list, url.topic.c_str(), p)->offset =
        from >= 0 ? from : RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_resp_err_t err = rd_kafka_assign(impl->rk, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    error = url.text + ": cannot assign its partitions: " + rd_kafka_err2str(err);
    return nullptr;
  }
  return std::unique_ptr<ControlTopicReader>(new ControlTopicReader(std::move(impl)));
}

std::uint32_t ControlTopicReader::partitions() const {
  return static_cast<std::uint32_t>(impl_->partitions);
}

bool ControlTopicReader::offsets(std::vector<std::int64_t> &first, std::vector<std::int64_t> &end,
                                 std::string &error) {
  first.assign(static_cast<std::size_t>(impl_->partitions), 0);
  end.assign(static_cast<std::size_t>(impl_->partitions), 0);
  for (int p = 0; p < impl_->partitions; ++p) {
    std::int64_t low = -1, high = -1;
    rd_kafka_resp_err_t err =
        rd_kafka_query_watermark_offsets(impl_->rk, impl_->options.url.topic.c_str(), p, &low,
                                         &high, impl_->options.metadata_timeout_ms);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      error = impl_->options.url.text + ": cannot read the end of partition " + std::to_string(p) +
              ": " + rd_kafka_err2str(err);
      return false;
    }
    first[static_cast<std::size_t>(p)] = low;
    end[static_cast<std::size_t>(p)] = high;
  }
  return true;
}

ControlPoll ControlTopicReader::poll(int timeout_ms, ControlMessage &message, std::string &error) {
  rd_kafka_message_t *m = rd_kafka_consumer_poll(impl_->rk, timeout_ms);
  if (m == nullptr) {
    return ControlPoll::Nothing;
  }
  ControlPoll result = ControlPoll::Message;
  if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF || m->err == RD_KAFKA_RESP_ERR__TRANSPORT ||
        m->err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
      result = ControlPoll::Nothing;
    } else {
      error = impl_->options.url.text + ": " + rd_kafka_message_errstr(m);
      result = ControlPoll::Error;
    }
    rd_kafka_message_destroy(m);
    return result;
  }
  message.partition = m->partition;
  message.offset = m->offset;
  message.value.assign(static_cast<const char *>(m->payload), m->payload != nullptr ? m->len : 0);
  message.key.assign(static_cast<const char *>(m->key), m->key != nullptr ? m->key_len : 0);
  message.headers.clear();
  rd_kafka_headers_t *headers = nullptr;
  if (rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR && headers != nullptr) {
    const char *name = nullptr;
    const void *value = nullptr;
    size_t size = 0;
    for (size_t i = 0;
         rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
         ++i) {
      message.headers.emplace_back(
          name, value != nullptr ? std::string(static_cast<const char *>(value), size) : "");
    }
  }
  rd_kafka_message_destroy(m);
  return result;
}

namespace {

struct Delivery {
  std::mutex mutex;
  bool done = false;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  ControlPosition at;
};

void deliveryCallback(rd_kafka_t *, const rd_kafka_message_t *m, void *opaque) {
  auto *delivery = static_cast<Delivery *>(opaque);
  std::lock_guard<std::mutex> lock(delivery->mutex);
  delivery->done = true;
  delivery->err = m->err;
  delivery->at = {m->partition, m->offset};
}

} // namespace

bool publishControlMessage(const ControlTopicOptions &options,
                           const std::vector<std::pair<std::string, std::string>> &headers,
                           const std::string &key, const std::string &value, ControlPosition &at,
                           std::string &error, int timeout_ms) {
  const KafkaUrl &url = options.url;
  Settings defaults = {{"enable.idempotence", "true"}, {"client.id", "cep-publish-rule"}};
  Settings fixed = {{"bootstrap.servers", url.bootstrap()}};
  rd_kafka_conf_t *conf = makeConf(defaults, options.config, fixed, error);
  if (conf == nullptr) {
    return false;
  }
  Delivery delivery;
  rd_kafka_conf_set_opaque(conf, &delivery);
  rd_kafka_conf_set_dr_msg_cb(conf, deliveryCallback);
  char errstr[512] = {0};
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    error = url.text + ": cannot make a producer: " + errstr;
    return false;
  }
  bool ok = partitionCount(rk, url, options.metadata_timeout_ms, error) > 0;
  if (ok) {
    rd_kafka_headers_t *hdrs = rd_kafka_headers_new(headers.size());
    for (const auto &[name, text] : headers) {
      rd_kafka_header_add(hdrs, name.data(), static_cast<ssize_t>(name.size()), text.data(),
                          static_cast<ssize_t>(text.size()));
    }
    rd_kafka_resp_err_t err = rd_kafka_producev(
        rk, RD_KAFKA_V_TOPIC(url.topic.c_str()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_VALUE(const_cast<char *>(value.data()), value.size()),
        RD_KAFKA_V_KEY(key.empty() ? nullptr : key.data(), key.size()), RD_KAFKA_V_HEADERS(hdrs),
        RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_headers_destroy(hdrs); // not taken on failure
      error = url.text + ": the message was refused: " + rd_kafka_err2str(err);
      ok = false;
    } else {
      rd_kafka_flush(rk, timeout_ms);
      std::lock_guard<std::mutex> lock(delivery.mutex);
      if (!delivery.done) {
        error = url.text + ": not delivered within " + std::to_string(timeout_ms) + " ms";
        ok = false;
      } else if (delivery.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        error = url.text + ": not delivered: " + rd_kafka_err2str(delivery.err);
        ok = false;
      } else {
        at = delivery.at;
      }
    }
  }
  rd_kafka_destroy(rk);
  return ok;
}

} // namespace cep::runtime::kafka
