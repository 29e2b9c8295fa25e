// The changelog topic of a consumer group (`<group>-state`, docs/kafka.md "The changelog
// topic"): made when missing, compacted (`cleanup.policy=compact`: the topic keeps the latest
// record of every key, one key per input partition), with as many partitions as the input topic
// it follows. Uses the producer's connection (an admin request, CreateTopics).
//
//   std::string note, error;
//   if (!ensureChangelogTopic(*producer, "fraud-state", "payments", note, error)) ...
//   // note: "created fraud-state (4 partitions, cleanup.policy=compact)" or "" when it existed
#pragma once

#include <string>

namespace cep::runtime::kafka {

class KafkaProducer;

// Makes `topic` (compacted, the partition count of `like_topic`, the brokers' default
// replication) unless it exists. `note` says what was done (empty: it existed). False with
// `error` when the brokers do not answer within timeout_ms or refuse to make it, unless the
// topic then exists anyway (made by a metadata request on brokers that create topics so, as the
// mock cluster, which has no CreateTopics: `note` then says it is not compacted).
bool ensureChangelogTopic(KafkaProducer &producer, const std::string &topic,
                          const std::string &like_topic, std::string &note, std::string &error,
                          int timeout_ms = 10000);

// The same for a topic that is not compacted (`cep serve --repartition`'s `<group>-repartition`):
// `partitions` of them (0: as many as `like_topic`). `made` gets the partition count the topic
// has (an existing topic keeps its own). When it cannot be made, `error` says which topic to
// create with how many partitions.
bool ensureTopic(KafkaProducer &producer, const std::string &topic, const std::string &like_topic,
                 int partitions, int &made, std::string &note, std::string &error,
                 int timeout_ms = 10000);

// Whether `topic` exists, from a metadata request for every topic (which makes none, whatever
// the brokers' auto.create.topics.enable). False with `error` when the brokers do not answer.
bool topicExists(KafkaProducer &producer, const std::string &topic, bool &exists,
                 std::string &error, int timeout_ms = 10000);

} // namespace cep::runtime::kafka
