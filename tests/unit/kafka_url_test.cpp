// The kafka:// URL of `cep serve` and the --kafka-config properties file (runtime/kafka/).
#include "runtime/kafka/kafka_config.hpp"
#include "runtime/kafka/kafka_producer.hpp"
#include "runtime/kafka/kafka_url.hpp"

#include <catch2/catch.hpp>

using namespace cep::runtime::kafka;

namespace {

std::string refused(const std::string &text, KafkaUrl::Role role = KafkaUrl::Input) {
  KafkaUrl url;
  std::string error;
  CHECK_FALSE(parseKafkaUrl(text, role, url, error));
  return error;
}

} // namespace

TEST_CASE("kafka url: brokers, topic, group and start", "[kafka]") {
  KafkaUrl url;
  std::string error;
  REQUIRE(parseKafkaUrl("kafka://127.0.0.1:9092,broker-2.example:19092/pay.ments_1-x?group=fraud",
                        KafkaUrl::Input, url, error));
  CHECK(url.brokers == std::vector<std::string>{"127.0.0.1:9092", "broker-2.example:19092"});
  CHECK(url.bootstrap() == "127.0.0.1:9092,broker-2.example:19092");
  CHECK(url.topic == "pay.ments_1-x");
  CHECK(url.group == "fraud");
  CHECK(url.start == "earliest");
  REQUIRE(parseKafkaUrl("kafka://[::1]:9092/t?start=latest&group=g", KafkaUrl::Input, url, error));
  CHECK(url.brokers == std::vector<std::string>{"[::1]:9092"});
  CHECK(url.start == "latest");
  REQUIRE(parseKafkaUrl("kafka://h:1/alerts", KafkaUrl::Output, url, error));
  CHECK(url.topic == "alerts");
  CHECK(isKafkaUrl("kafka://x"));
  CHECK_FALSE(isKafkaUrl("events.jsonl"));
}

TEST_CASE("kafka url: each mistake is named", "[kafka]") {
  CHECK(refused("kafka://h:9092/t") == "kafka://h:9092/t: an input needs its consumer group: add "
                                       "?group=NAME");
  CHECK(refused("kafka://h:9092") == "kafka://h:9092: no topic (expected kafka://HOST:PORT/TOPIC)");
  CHECK(refused("kafka:///t?group=g") ==
        "kafka:///t?group=g: no broker (expected kafka://HOST:PORT/TOPIC)");
  CHECK(refused("kafka://h/t?group=g") ==
        "kafka://h/t?group=g: broker \"h\" has no port (expected HOST:PORT)");
  CHECK(refused("kafka://h:0/t?group=g") ==
        "kafka://h:0/t?group=g: broker \"h:0\": the port must be a number from 1 to 65535");
  CHECK(refused("kafka://h:99999/t?group=g").find("from 1 to 65535") != std::string::npos);
  CHECK(refused("kafka://h:1,,h:2/t?group=g") ==
        "kafka://h:1,,h:2/t?group=g: an empty broker address (expected HOST:PORT)");
  CHECK(refused("kafka://h:1/a b?group=g") ==
        "kafka://h:1/a b?group=g: ' ' cannot be in a topic name (letters, digits, '.', '_' and "
        "'-')");
  CHECK(refused("kafka://h:1/t?group=g&grp=x") ==
        "kafka://h:1/t?group=g&grp=x: unknown parameter \"grp\" (known: group, start)");
  CHECK(refused("kafka://h:1/t?group=") == "kafka://h:1/t?group=: group= needs a consumer group "
                                           "name");
  CHECK(refused("kafka://h:1/t?group=g&start=middle") ==
        "kafka://h:1/t?group=g&start=middle: start=middle: expected earliest or latest");
  CHECK(refused("kafka://h:1/t?group") ==
        "kafka://h:1/t?group: parameter \"group\" is not NAME=VALUE");
  CHECK(refused("kafka://h:1/t?group=g", KafkaUrl::Output) ==
        "kafka://h:1/t?group=g: an output takes no parameter (\"group\"): producer settings go "
        "in --kafka-config");
  CHECK(refused("kafka://h:1/" + std::string(250, 'a') + "?group=g").find("at most 249") !=
        std::string::npos);
  CHECK(refused("http://h:1/t") == "http://h:1/t: a Kafka URL starts with kafka://");
}

TEST_CASE("kafka config: key=value lines, comments, the line of a mistake", "[kafka]") {
  KafkaConfig config;
  std::string error;
  REQUIRE(parseKafkaConfig("# TLS\n\n  security.protocol = ssl \r\n! another comment\n"
                           "ssl.ca.location=/etc/ca.pem\nsasl.password=a=b\n",
                           "client.properties", config, error));
  REQUIRE(config.properties.size() == 3);
  CHECK(config.properties[0].key == "security.protocol");
  CHECK(config.properties[0].value == "ssl");
  CHECK(config.properties[0].line == 3);
  CHECK(config.properties[2].value == "a=b"); // the first '=' splits
  CHECK(config.properties[2].line == 6);

  CHECK_FALSE(parseKafkaConfig("a=1\nsecurity.protocol\n", "c.properties", config, error));
  CHECK(error == "c.properties:2: expected key=value, got \"security.protocol\"");
  CHECK_FALSE(parseKafkaConfig(" = 1\n", "c.properties", config, error));
  CHECK(error == "c.properties:1: a property needs a name before '='");
}

TEST_CASE("kafka config: librdkafka names the property it refuses and its line", "[kafka]") {
  KafkaConfig config;
  std::string error;
  REQUIRE(parseKafkaConfig("linger.ms=5\n\nno.such.property=1\n", "c.properties", config, error));
  CHECK_FALSE(checkKafkaConfig(config, error));
  CHECK(error.rfind("c.properties:3: librdkafka refuses \"no.such.property=1\": ", 0) == 0);
  REQUIRE(parseKafkaConfig("linger.ms=five\n", "c.properties", config, error));
  CHECK_FALSE(checkKafkaConfig(config, error));
  CHECK(error.rfind("c.properties:1: librdkafka refuses \"linger.ms=five\": ", 0) == 0);
  REQUIRE(parseKafkaConfig("linger.ms=5\nacks=all\n", "c.properties", config, error));
  CHECK(checkKafkaConfig(config, error));
}

TEST_CASE("kafka: a transaction's label in the offsets' metadata, and back", "[kafka]") {
  using cep::runtime::kafka::labelOfMetadata;
  using cep::runtime::kafka::transactionMetadata;
  CHECK(transactionMetadata("1733301234567-7") == "cep-txn:1733301234567-7");
  CHECK(labelOfMetadata(transactionMetadata("1733301234567-7")) == "1733301234567-7");
  CHECK(labelOfMetadata("") == "");
  CHECK(labelOfMetadata("someone else's") == "");
}
