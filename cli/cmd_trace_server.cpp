// `cep trace --server HOST:PORT --key K [--pattern P] [--format text|json] [--for D]`: the
// admin endpoint's key trace (docs/debugging.md "On cep serve") from the command line. Starts
// it (POST /trace), writes the lines to stdout as they come (GET /trace every 200 ms, or at
// once when a signal comes), and at --for or SIGINT/SIGTERM reads the last lines and stops it
// (DELETE /trace, its summary on stderr).
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "runtime/io/stop_signals.hpp"
#include "runtime/time/time_format.hpp"
#include "service/admin_client.hpp"

#include <chrono>
#include <iostream>
#include <poll.h>

namespace cep::cli {

namespace {

bool clientFor(const TraceServerOptions &options, service::AdminClientOptions &out) {
  std::string error;
  std::optional<service::Endpoint> ep = service::parseEndpoint(options.admin.server, error);
  if (!ep || ep->port == 0) {
    std::cerr << "cep trace: --server: "
              << (ep ? "give the port the server listens on (not 0)" : error) << '\n';
    return false;
  }
  out.server = *ep;
  if (options.admin.token_file) {
    try {
      out.token = service::readTokenFile(*options.admin.token_file);
    } catch (const service::TokenFileError &e) {
      std::cerr << "cep trace: --token-file: " << e.what() << '\n';
      return false;
    }
  }
  return true;
}

} // namespace

int runTraceServer(const TraceServerOptions &options) {
  std::int64_t for_ms = -1;
  if (options.for_d) {
    std::string error;
    if (!runtime::parseDuration(*options.for_d, for_ms, &error) || for_ms < 0) {
      std::cerr << "cep trace: --for " << *options.for_d << ": " << error << '\n';
      return kUsage;
    }
  }
  service::AdminClientOptions client;
  if (!clientFor(options, client)) {
    return kUsage;
  }
  std::string error;
  if (!runtime::installStopSignals(error)) {
    std::cerr << "cep trace: " << error << '\n';
    return kRuntimeFailure;
  }
  std::string key = "key=" + service::encodeQueryValue(options.key);
  std::string start = "/trace?" + key + "&format=" + options.format;
  if (options.pattern) {
    start += "&pattern=" + service::encodeQueryValue(*options.pattern);
  }
  service::AdminReply started = service::adminRequest(client, "POST", start);
  if (!started.ok()) {
    std::cerr << "cep trace: " << started.reason() << '\n';
    return kRuntimeFailure;
  }
  std::cerr << "cep trace: " << started.body << (started.body.ends_with('\n') ? "" : "\n");
  auto read = [&]() {
    service::AdminReply lines = service::adminRequest(client, "GET", "/trace?" + key);
    if (!lines.ok()) {
      std::cerr << "cep trace: " << lines.reason() << '\n';
      return false;
    }
    std::cout << lines.body << std::flush;
    return true;
  };
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(for_ms);
  for (;;) {
    if (!read()) {
      return kRuntimeFailure; // stopped by someone else, or the server went
    }
    if (runtime::stopSignal() != 0) {
      break;
    }
    int wait_ms = 200;
    if (for_ms >= 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      deadline - std::chrono::steady_clock::now())
                      .count();
      if (left <= 0) {
        break;
      }
      wait_ms = static_cast<int>(std::min<std::int64_t>(left, wait_ms));
    }
    // Wakes at once on SIGINT/SIGTERM (the stop signals' fd), else after wait_ms.
    struct pollfd fd = {runtime::stopWakeFd(), POLLIN, 0};
    ::poll(&fd, 1, wait_ms);
  }
  bool last = read();
  service::AdminReply stopped = service::adminRequest(client, "DELETE", "/trace?" + key);
  if (!stopped.ok()) {
    std::cerr << "cep trace: " << stopped.reason() << '\n';
    return kRuntimeFailure;
  }
  std::cerr << "cep trace: " << stopped.body << (stopped.body.ends_with('\n') ? "" : "\n");
  return last ? kOk : kRuntimeFailure;
}

} // namespace cep::cli
