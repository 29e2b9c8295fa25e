// `cep deploy`, `cep undeploy`, `cep status`, `cep savepoint`: clients of `cep serve`'s admin
// endpoint (service/admin_client.hpp does the HTTP). A bad command line exits 2; a server that is
// down, refuses or answers an error prints one line (the server's error text when it gave one) and
// exits 3.
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "runtime/io/file_write.hpp"
#include "service/admin_client.hpp"
#include "service/savepoint.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

namespace cep::cli {

namespace {

using service::AdminClientOptions;
using service::AdminReply;

// The endpoint and token of the command line; false (after printing why) on a usage error.
bool clientOptions(const char *command, const AdminClientCommon &common, AdminClientOptions &out) {
  std::string error;
  std::optional<service::Endpoint> ep = service::parseEndpoint(common.server, error);
  if (!ep) {
    std::cerr << "cep " << command << ": --server: " << error << '\n';
    return false;
  }
  if (ep->port == 0) {
    std::cerr << "cep " << command << ": --server " << common.server
              << ": give the port the server listens on (not 0)\n";
    return false;
  }
  out.server = *ep;
  if (common.token_file) {
    try {
      out.token = service::readTokenFile(*common.token_file);
    } catch (const service::TokenFileError &e) {
      std::cerr << "cep " << command << ": --token-file: " << e.what() << '\n';
      return false;
    }
  }
  return true;
}

// Prints the reply's body on success (exit 0), or one line with why (exit 3).
int finish(const char *command, const AdminReply &reply) {
  if (!reply.ok()) {
    std::cerr << "cep " << command << ": " << reply.reason() << '\n';
    for (const std::string &reason : reply.reasons()) {
      std::cerr << "  " << reason << '\n';
    }
    return kRuntimeFailure;
  }
  std::cout << reply.body;
  if (!reply.body.empty() && reply.body.back() != '\n') {
    std::cout << '\n';
  }
  return kOk;
}

// `rules topic: 3 applied (1 late), 1 rejected, 2 pending; next offset rules[0]=6` from the
// cep_rules_* series of a Prometheus text.
std::string rulesStatusLine(const std::string &text) {
  auto value = [&](const std::string &series) -> std::string {
    std::size_t at = text.find("\n" + series + " ");
    if (at == std::string::npos) {
      return "0";
    }
    at += series.size() + 2;
    std::size_t end = text.find('\n', at);
    return text.substr(at, end == std::string::npos ? std::string::npos : end - at);
  };
  std::string line = "rules topic: " + value("cep_rules_messages_total{result=\"applied\"}") +
                     " applied (" + value("cep_rules_applied_late_total") + " late), " +
                     value("cep_rules_messages_total{result=\"rejected\"}") + " rejected, " +
                     value("cep_rules_pending") + " pending; next offset";
  const std::string prefix = "\ncep_rules_topic_offset{";
  for (std::size_t at = text.find(prefix); at != std::string::npos;
       at = text.find(prefix, at + 1)) {
    std::size_t close = text.find("} ", at);
    std::size_t end = text.find('\n', at + 1);
    if (close == std::string::npos || close > end) {
      continue;
    }
    std::string labels = text.substr(at + prefix.size(), close - at - prefix.size());
    auto label = [&](const std::string &name) {
      std::size_t l = labels.find(name + "=\"");
      if (l == std::string::npos) {
        return std::string();
      }
      l += name.size() + 2;
      return labels.substr(l, labels.find('"', l) - l);
    };
    line += " " + label("topic") + "[" + label("partition") + "]=" +
            text.substr(close + 2, end == std::string::npos ? std::string::npos : end - close - 2);
  }
  return line;
}

// `changelog: 12 records (612480 bytes) written; 4 partitions restored at start (207440 bytes,
// 2329 keys) in 0.006 s` from the cep_kafka_changelog_* series (docs/kafka.md "The changelog
// topic").
std::string changelogStatusLine(const std::string &text) {
  auto sum = [&](const std::string &name) {
    double total = 0;
    for (std::size_t at = text.find("\n" + name); at != std::string::npos;
         at = text.find("\n" + name, at + 1)) {
      std::size_t space = text.find(' ', at + 1);
      std::size_t end = text.find('\n', at + 1);
      const char c = text[at + 1 + name.size()];
      if (space == std::string::npos || space > end || (c != ' ' && c != '{')) {
        continue;
      }
      total += std::strtod(text.c_str() + space + 1, nullptr);
    }
    return total;
  };
  auto count = [&](const std::string &name) {
    std::size_t n = 0;
    for (std::size_t at = text.find("\n" + name + "{"); at != std::string::npos;
         at = text.find("\n" + name + "{", at + 1)) {
      ++n;
    }
    return n;
  };
  auto integer = [](double v) { return std::to_string(static_cast<long long>(v)); };
  std::string line = "changelog: " + integer(sum("cep_kafka_changelog_records_total")) +
                     " records (" + integer(sum("cep_kafka_changelog_bytes_total")) +
                     " bytes) written";
  const std::size_t restored = count("cep_kafka_partition_restore_bytes");
  if (restored > 0) {
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.3f", sum("cep_kafka_changelog_restore_seconds"));
    line += "; " + std::to_string(restored) + " partitions restored at start (" +
            integer(sum("cep_kafka_partition_restore_bytes")) + " bytes, " +
            integer(sum("cep_kafka_partition_restore_keys")) + " keys) in " + seconds + " s";
  }
  return line;
}

} // namespace

int runDeploy(const DeployOptions &options) {
  AdminClientOptions client;
  if (!clientOptions("deploy", options.admin, client)) {
    return kUsage;
  }
  std::ifstream in(options.artifact, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (!in || bytes.str().empty()) {
    std::cerr << "cep deploy: cannot read \"" << options.artifact << "\""
              << (in ? " (it is empty)" : "") << '\n';
    return kUsage;
  }
  return finish("deploy",
                service::adminRequest(client, "POST", "/deploy?mode=" + options.mode, bytes.str()));
}

int runUndeploy(const UndeployOptions &options) {
  AdminClientOptions client;
  if (!clientOptions("undeploy", options.admin, client)) {
    return kUsage;
  }
  const std::string target =
      "/undeploy?pattern=" + service::encodeQueryValue(options.pattern) + "&mode=" + options.mode;
  return finish("undeploy", service::adminRequest(client, "POST", target));
}

int runStatus(const StatusOptions &options) {
  AdminClientOptions client;
  if (!clientOptions("status", options.admin, client)) {
    return kUsage;
  }
  AdminReply reply = service::adminRequest(client, "GET", "/patterns");
  if (!reply.ok()) {
    std::cerr << "cep status: " << reply.reason() << '\n';
    return kRuntimeFailure;
  }
  std::vector<service::PatternInfo> patterns;
  std::string error;
  if (!service::parsePatterns(reply.body, patterns, error)) {
    std::cerr << "cep status: " << error << '\n';
    return kRuntimeFailure;
  }
  std::cout << service::formatPatternTable(patterns);
  // A server with --rules-topic: one more line from its metrics (docs/kafka.md "Rules topic").
  AdminReply metrics = service::adminRequest(client, "GET", "/metrics");
  if (metrics.ok() && metrics.body.find("\ncep_rules_pending") != std::string::npos) {
    std::cout << rulesStatusLine(metrics.body) << '\n';
  }
  // A server writing a changelog topic (docs/kafka.md "The changelog topic"): one more line.
  if (metrics.ok() &&
      metrics.body.find("\ncep_kafka_changelog_records_total") != std::string::npos) {
    std::cout << changelogStatusLine(metrics.body) << '\n';
  }
  return kOk;
}

int runSavepoint(const SavepointOptions &options) {
  AdminClientOptions client;
  if (!clientOptions("savepoint", options.admin, client)) {
    return kUsage;
  }
  AdminReply reply = service::adminRequest(client, "POST", "/savepoint");
  if (!reply.ok()) {
    std::cerr << "cep savepoint: " << reply.reason() << '\n';
    return kRuntimeFailure;
  }
  // What came back is checked whole (magic, version, checksum, the meta record) before it
  // replaces anything: a connection cut short never leaves a file that looks like a savepoint.
  service::Savepoint savepoint;
  try {
    savepoint = service::decodeSavepoint(reply.body);
  } catch (const std::runtime_error &e) {
    std::cerr << "cep savepoint: the server answered " << reply.body.size()
              << " bytes that are not a savepoint: " << e.what() << '\n';
    return kRuntimeFailure;
  }
  std::string error;
  if (!runtime::writeFileAtomically(options.output, reply.body, error)) {
    std::cerr << "cep savepoint: " << error << '\n';
    return kRuntimeFailure;
  }
  std::uint64_t runs = 0;
  for (const std::vector<std::string> &records : savepoint.records) {
    runs += records.size();
  }
  std::cerr << "cep savepoint: wrote " << options.output << " (" << reply.body.size()
            << " bytes, format version " << service::kSavepointVersion << ": "
            << savepoint.meta.served.size() << " pattern versions, " << runs << " keys, "
            << savepoint.meta.inputs.size() << " input positions)\n";
  return kOk;
}

} // namespace cep::cli
