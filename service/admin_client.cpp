// The one TU of cep_service's client side that includes httplib.h.
#include "service/admin_client.hpp"

#include "runtime/time/time_format.hpp"

#include <algorithm>
#include <cstdio>
#include <httplib.h>
#include <simdjson.h>

namespace cep::service {

namespace {

std::string firstLine(std::string_view text) {
  std::size_t end = text.find('\n');
  std::string line(text.substr(0, end == std::string_view::npos ? text.size() : end));
  if (line.size() > 300) {
    line.resize(300);
    line += "...";
  }
  return line;
}

std::string transportReason(httplib::Error error, const Endpoint &server) {
  const std::string where = formatEndpoint(server);
  switch (error) {
  case httplib::Error::Connection:
    return "cannot connect to " + where + " (is `cep serve --admin " + where + "` running?)";
  case httplib::Error::ConnectionTimeout:
    return "no answer from " + where + " while connecting (timed out)";
  case httplib::Error::Read:
    return "the connection to " + where + " broke or timed out before the answer";
  case httplib::Error::Write:
    return "the connection to " + where + " broke while sending the request";
  case httplib::Error::BindIPAddress:
    return "cannot resolve or bind for " + where;
  default:
    return "request to " + where + " failed: " + httplib::to_string(error);
  }
}

} // namespace

std::string AdminReply::reason() const {
  if (status == 0) {
    return transport_error.empty() ? std::string("no answer") : transport_error;
  }
  std::string text = "HTTP " + std::to_string(status);
  if (std::optional<std::string> message = errorMessageOf(body)) {
    return text + ": " + *message;
  }
  std::string line = firstLine(body);
  return line.empty() ? text : text + ": " + line;
}

AdminReply adminRequest(const AdminClientOptions &options, std::string_view method,
                        std::string_view target, std::string_view body) {
  AdminReply reply;
  httplib::Client client(options.server.host, options.server.port);
  client.set_connection_timeout(options.connect_timeout_seconds, 0);
  client.set_read_timeout(options.read_timeout_seconds, 0);
  client.set_write_timeout(options.read_timeout_seconds, 0);
  client.set_keep_alive(false);
  httplib::Headers headers;
  if (options.token) {
    headers.emplace("Authorization", "Bearer " + *options.token);
  }
  const std::string path(target);
  httplib::Result result = [&] {
    if (method == "POST") {
      return client.Post(path, headers, body.data(), body.size(), "application/octet-stream");
    }
    return client.Get(path, headers);
  }();
  if (!result) {
    reply.transport_error = transportReason(result.error(), options.server);
    return reply;
  }
  reply.status = result->status;
  reply.body = result->body;
  return reply;
}

std::string encodeQueryValue(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : value) {
    auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::optional<std::string> errorMessageOf(std::string_view json) {
  simdjson::padded_string padded(json);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(padded).get(doc) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  std::string_view message;
  if (doc["error"].get(message) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  return std::string(message);
}

bool parsePatterns(std::string_view json, std::vector<PatternInfo> &out, std::string &error) {
  simdjson::padded_string padded(json);
  simdjson::dom::parser parser;
  simdjson::dom::array rows;
  if (parser.parse(padded).get(rows) != simdjson::SUCCESS) {
    error = "the server's /patterns answer is not a JSON array";
    return false;
  }
  std::size_t index = 0;
  for (simdjson::dom::element row : rows) {
    ++index;
    PatternInfo p;
    std::string_view text;
    std::string_view loaded_at;
    bool ok = row["name"].get(text) == simdjson::SUCCESS && (p.name = text, true) &&
              row["version"].get(text) == simdjson::SUCCESS && (p.version = text, true) &&
              row["artifact_hash"].get(text) == simdjson::SUCCESS &&
              (p.artifact_hash = text, true) && row["state"].get(text) == simdjson::SUCCESS &&
              (p.state = text, true) && row["loaded_at"].get(loaded_at) == simdjson::SUCCESS &&
              runtime::parseRfc3339(loaded_at, p.loaded_at) &&
              row["live_runs"].get(p.live_runs) == simdjson::SUCCESS &&
              row["keys"].get(p.keys) == simdjson::SUCCESS &&
              row["matches"].get(p.matches) == simdjson::SUCCESS &&
              row["timeouts"].get(p.timeouts) == simdjson::SUCCESS &&
              row["state_bytes"].get(p.state_bytes) == simdjson::SUCCESS;
    if (!ok) {
      error = "the server's /patterns answer: entry " + std::to_string(index) +
              " lacks a field or has one of the wrong type";
      return false;
    }
    out.push_back(std::move(p));
  }
  return true;
}

std::string formatPatternTable(const std::vector<PatternInfo> &patterns) {
  if (patterns.empty()) {
    return "no patterns loaded\n";
  }
  std::vector<std::vector<std::string>> cells;
  cells.push_back({"PATTERN", "VERSION", "STATE", "LOADED", "LIVE RUNS", "KEYS", "MATCHES",
                   "TIMEOUTS", "STATE BYTES"});
  for (const PatternInfo &p : patterns) {
    cells.push_back({p.name, p.version, p.state, runtime::formatRfc3339(p.loaded_at),
                     std::to_string(p.live_runs), std::to_string(p.keys), std::to_string(p.matches),
                     std::to_string(p.timeouts), std::to_string(p.state_bytes)});
  }
  const std::size_t columns = cells[0].size();
  std::vector<std::size_t> width(columns, 0);
  for (const auto &row : cells) {
    for (std::size_t c = 0; c < columns; ++c) {
      width[c] = std::max(width[c], row[c].size());
    }
  }
  std::string out;
  for (const auto &row : cells) {
    std::string line;
    for (std::size_t c = 0; c < columns; ++c) {
      const bool numeric = c >= 4; // counts align right, words left
      std::string pad(width[c] - row[c].size(), ' ');
      if (c > 0) {
        line += "  ";
      }
      line += numeric ? pad + row[c] : row[c] + (c + 1 < columns ? pad : "");
    }
    while (!line.empty() && line.back() == ' ') {
      line.pop_back();
    }
    out += line;
    out += '\n';
  }
  return out;
}

} // namespace cep::service
