#include "runtime/kafka/kafka_url.hpp"

#include <charconv>

namespace cep::runtime::kafka {

namespace {

constexpr std::string_view kScheme = "kafka://";

bool hostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == '_';
}

// Kafka's legal topic characters: ASCII letters, digits, '.', '_' and '-', at most 249.
bool topicChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

// One "HOST:PORT" (HOST a name, an IPv4 address or a bracketed IPv6 address); "" or the reason.
std::string checkBroker(std::string_view broker) {
  if (broker.empty()) {
    return "an empty broker address (expected HOST:PORT)";
  }
  std::size_t colon = broker.rfind(':');
  if (colon == std::string_view::npos) {
    return "broker \"" + std::string(broker) + "\" has no port (expected HOST:PORT)";
  }
  std::string_view host = broker.substr(0, colon);
  std::string_view port = broker.substr(colon + 1);
  if (host.empty()) {
    return "broker \"" + std::string(broker) + "\" has no host (expected HOST:PORT)";
  }
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') {
      return "broker \"" + std::string(broker) + "\": an IPv6 address is written [ADDRESS]";
    }
  } else {
    for (char c : host) {
      if (!hostChar(c)) {
        return "broker \"" + std::string(broker) + "\": '" + std::string(1, c) +
               "' cannot be in a host name";
      }
    }
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value == 0 ||
      value > 65535) {
    return "broker \"" + std::string(broker) + "\": the port must be a number from 1 to 65535";
  }
  return {};
}

} // namespace

std::string KafkaUrl::bootstrap() const {
  std::string joined;
  for (const std::string &broker : brokers) {
    if (!joined.empty()) {
      joined += ',';
    }
    joined += broker;
  }
  return joined;
}

bool isKafkaUrl(std::string_view text) {
  return text.substr(0, kScheme.size()) == kScheme;
}

bool parseKafkaUrl(std::string_view text, KafkaUrl::Role role, KafkaUrl &url, std::string &error) {
  url = KafkaUrl{};
  url.text = std::string(text);
  auto fail = [&](const std::string &why) {
    error = std::string(text) + ": " + why;
    return false;
  };
  if (!isKafkaUrl(text)) {
    return fail("a Kafka URL starts with kafka://");
  }
  std::string_view rest = text.substr(kScheme.size());
  std::size_t slash = rest.find('/');
  if (slash == std::string_view::npos) {
    return fail("no topic (expected kafka://HOST:PORT/TOPIC)");
  }
  std::string_view authority = rest.substr(0, slash);
  if (authority.empty()) {
    return fail("no broker (expected kafka://HOST:PORT/TOPIC)");
  }
  for (std::size_t begin = 0;;) {
    std::size_t comma = authority.find(',', begin);
    std::string_view broker = authority.substr(begin, comma - begin);
    if (std::string why = checkBroker(broker); !why.empty()) {
      return fail(why);
    }
    url.brokers.emplace_back(broker);
    if (comma == std::string_view::npos) {
      break;
    }
    begin = comma + 1;
  }
  rest = rest.substr(slash + 1);
  std::size_t question = rest.find('?');
  std::string_view topic = rest.substr(0, question);
  if (topic.empty()) {
    return fail("no topic (expected kafka://HOST:PORT/TOPIC)");
  }
  if (topic.size() > 249) {
    return fail("a topic name has at most 249 characters");
  }
  if (topic == "." || topic == "..") {
    return fail("\"" + std::string(topic) + "\" cannot be a topic name");
  }
  for (char c : topic) {
    if (!topicChar(c)) {
      return fail("'" + std::string(1, c) +
                  "' cannot be in a topic name (letters, digits, '.', '_' and '-')");
    }
  }
  url.topic = std::string(topic);
  bool has_group = false;
  if (question != std::string_view::npos) {
    std::string_view query = rest.substr(question + 1);
    for (std::size_t begin = 0; begin <= query.size();) {
      std::size_t amp = query.find('&', begin);
      std::string_view pair = query.substr(begin, amp - begin);
      std::size_t equals = pair.find('=');
      std::string_view key = pair.substr(0, equals);
      std::string_view value =
          equals == std::string_view::npos ? std::string_view() : pair.substr(equals + 1);
      if (pair.empty() || equals == std::string_view::npos) {
        return fail("parameter \"" + std::string(pair) + "\" is not NAME=VALUE");
      }
      if (role == KafkaUrl::Output) {
        return fail("an output takes no parameter (\"" + std::string(key) +
                    "\"): producer settings go in --kafka-config");
      }
      if (key == "group") {
        if (value.empty()) {
          return fail("group= needs a consumer group name");
        }
        url.group = std::string(value);
        has_group = true;
      } else if (key == "start") {
        if (value != "earliest" && value != "latest") {
          return fail("start=" + std::string(value) + ": expected earliest or latest");
        }
        url.start = std::string(value);
      } else {
        return fail("unknown parameter \"" + std::string(key) + "\" (known: group, start)");
      }
      if (amp == std::string_view::npos) {
        break;
      }
      begin = amp + 1;
    }
  }
  if (role == KafkaUrl::Input && !has_group) {
    return fail("an input needs its consumer group: add ?group=NAME");
  }
  return true;
}

} // namespace cep::runtime::kafka
