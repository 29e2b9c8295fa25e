#include "runtime/kafka/kafka_config.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace cep::runtime::kafka {

namespace {

std::string_view trim(std::string_view text) {
  const char *spaces = " \t\r\f\v";
  std::size_t begin = text.find_first_not_of(spaces);
  if (begin == std::string_view::npos) {
    return {};
  }
  std::size_t end = text.find_last_not_of(spaces);
  return text.substr(begin, end + 1 - begin);
}

} // namespace

bool parseKafkaConfig(std::string_view text, const std::string &path, KafkaConfig &config,
                      std::string &error) {
  config = KafkaConfig{};
  config.path = path;
  std::size_t number = 0;
  for (std::size_t begin = 0; begin < text.size();) {
    std::size_t end = text.find('\n', begin);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    std::string_view line = trim(text.substr(begin, end - begin));
    begin = end + 1;
    ++number;
    if (line.empty() || line.front() == '#' || line.front() == '!') {
      continue;
    }
    std::size_t equals = line.find('=');
    std::string where = path + ":" + std::to_string(number) + ": ";
    if (equals == std::string_view::npos) {
      error = where + "expected key=value, got \"" + std::string(line) + "\"";
      return false;
    }
    std::string_view key = trim(line.substr(0, equals));
    if (key.empty()) {
      error = where + "a property needs a name before '='";
      return false;
    }
    config.properties.push_back(
        {std::string(key), std::string(trim(line.substr(equals + 1))), number});
  }
  return true;
}

bool readKafkaConfig(const std::string &path, KafkaConfig &config, std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot open \"" + path + "\": " + std::strerror(errno);
    return false;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parseKafkaConfig(text.str(), path, config, error);
}

} // namespace cep::runtime::kafka
