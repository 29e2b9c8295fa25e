// A group's compacted changelog topic made when missing (changelog_topic.hpp).
#include "runtime/kafka/changelog_topic.hpp"

#include "runtime/kafka/kafka_client.hpp"
#include "runtime/kafka/kafka_producer.hpp"

#include <memory>

namespace cep::runtime::kafka {

namespace {

// The partition count of `topic` (0: not in the metadata), -1 on a metadata error.
int partitionsOf(rd_kafka_t *rk, const std::string &topic, int timeout_ms, std::string &error) {
  rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  const rd_kafka_metadata_t *md = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms);
  rd_kafka_topic_destroy(rkt);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    error = "cannot read the metadata of " + topic + ": " + rd_kafka_err2str(err);
    return -1;
  }
  int count = 0;
  for (int i = 0; i < md->topic_cnt; ++i) {
    if (topic == md->topics[i].topic && md->topics[i].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      count = md->topics[i].partition_cnt;
    }
  }
  rd_kafka_metadata_destroy(md);
  return count;
}

} // namespace

bool topicExists(KafkaProducer &producer, const std::string &topic, bool &exists,
                 std::string &error, int timeout_ms) {
  const rd_kafka_metadata_t *md = nullptr;
  rd_kafka_resp_err_t err =
      rd_kafka_metadata(producerHandle(producer), 1, nullptr, &md, timeout_ms);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    error = std::string("cannot read the brokers' topics: ") + rd_kafka_err2str(err);
    return false;
  }
  exists = false;
  for (int i = 0; i < md->topic_cnt; ++i) {
    if (topic == md->topics[i].topic && md->topics[i].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      exists = true;
    }
  }
  rd_kafka_metadata_destroy(md);
  return true;
}

namespace {

// ensureChangelogTopic (compact) and ensureTopic.
bool makeTopic(KafkaProducer &producer, const std::string &topic, const std::string &like_topic,
               int wanted, bool compact, int &made, std::string &note, std::string &error,
               int timeout_ms) {
  note.clear();
  rd_kafka_t *rk = producerHandle(producer);
  int partitions = partitionsOf(rk, like_topic, timeout_ms, error);
  if (partitions < 0) {
    return false;
  }
  if (partitions == 0) {
    error = "the input topic " + like_topic + " does not exist";
    return false;
  }
  if (wanted > 0) {
    partitions = wanted;
  }
  made = partitions;
  char errstr[512] = {0};
  rd_kafka_NewTopic_t *nt =
      rd_kafka_NewTopic_new(topic.c_str(), partitions, -1, errstr, sizeof errstr);
  if (nt == nullptr) {
    error = std::string("cannot describe the topic ") + topic + ": " + errstr;
    return false;
  }
  if (compact) {
    rd_kafka_NewTopic_set_config(nt, "cleanup.policy", "compact");
  }
  rd_kafka_queue_t *queue = rd_kafka_queue_new(rk);
  rd_kafka_AdminOptions_t *options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_request_timeout(options, timeout_ms, errstr, sizeof errstr);
  rd_kafka_CreateTopics(rk, &nt, 1, options, queue);
  rd_kafka_event_t *ev = rd_kafka_queue_poll(queue, timeout_ms + 1000);
  bool ok = false;
  if (ev == nullptr) {
    error = "the brokers did not answer the creation of " + topic + " in " +
            std::to_string(timeout_ms) + " ms";
  } else if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    error = "cannot create " + topic + ": " + rd_kafka_event_error_string(ev);
  } else {
    size_t n = 0;
    const rd_kafka_topic_result_t **results =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    rd_kafka_resp_err_t err =
        n > 0 ? rd_kafka_topic_result_error(results[0]) : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC;
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      note = "created " + topic + " (" + std::to_string(partitions) + " partitions" +
             (compact ? ", cleanup.policy=compact)" : ")");
      ok = true;
    } else if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      std::string ignored;
      made = partitionsOf(rk, topic, timeout_ms, ignored);
      ok = made > 0;
      if (!ok) {
        error = topic + " exists but its partitions cannot be read";
      }
    } else {
      const char *why = n > 0 ? rd_kafka_topic_result_error_string(results[0]) : nullptr;
      error = "cannot create " + topic + ": " + (why != nullptr ? why : rd_kafka_err2str(err));
    }
  }
  if (ev != nullptr) {
    rd_kafka_event_destroy(ev);
  }
  rd_kafka_AdminOptions_destroy(options);
  rd_kafka_queue_destroy(queue);
  rd_kafka_NewTopic_destroy(nt);
  if (!ok) {
    // Brokers without CreateTopics (librdkafka's mock cluster has no controller) may still make
    // the topic when asked for its metadata (auto.create.topics.enable): taken, not compacted,
    // and said so.
    std::string why = error, ignored;
    if (int has = partitionsOf(rk, topic, timeout_ms, ignored); has > 0) {
      made = has;
      note = why + "; " + topic +
             (compact ? " exists (made by the brokers' auto.create.topics.enable, NOT "
                        "compacted: set cleanup.policy=compact on it)"
                      : " exists (" + std::to_string(has) + " partitions)");
      error.clear();
      return true;
    }
    if (!compact) {
      error += ": create the topic " + topic + " with " + std::to_string(partitions) +
               " partitions (kafka-topics.sh --create --topic " + topic + " --partitions " +
               std::to_string(partitions) + ")";
    }
  }
  return ok;
}

} // namespace

bool ensureChangelogTopic(KafkaProducer &producer, const std::string &topic,
                          const std::string &like_topic, std::string &note, std::string &error,
                          int timeout_ms) {
  int made = 0;
  return makeTopic(producer, topic, like_topic, 0, true, made, note, error, timeout_ms);
}

bool ensureTopic(KafkaProducer &producer, const std::string &topic, const std::string &like_topic,
                 int partitions, int &made, std::string &note, std::string &error, int timeout_ms) {
  // An existing topic is taken as it is, without a CreateTopics request (which brokers without
  // a controller, as the mock cluster, answer only when it times out).
  bool exists = false;
  if (!topicExists(producer, topic, exists, error, timeout_ms)) {
    return false;
  }
  if (exists) {
    note.clear();
    made = partitionsOf(producerHandle(producer), topic, timeout_ms, error);
    return made > 0;
  }
  return makeTopic(producer, topic, like_topic, partitions, false, made, note, error, timeout_ms);
}

} // namespace cep::runtime::kafka
