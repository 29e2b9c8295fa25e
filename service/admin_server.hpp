// The admin HTTP endpoint of `cep serve` (docs/serve.md, "Admin endpoint and metrics"), on
// cpp-httplib. JSON in and out; every route calls the Control it was given (control.hpp).
//
//   GET  /patterns                               200, a JSON array of PatternInfo objects
//   POST /deploy[?mode=keep|drain|fresh]         body: the .cepo bytes; Control::deploy's answer
//   POST /undeploy?pattern=P[&mode=drain|drop]   Control::undeploy's answer (mode default drain)
//   POST /savepoint                              200, application/octet-stream: the savepoint's
//                                                bytes (service/savepoint.hpp), or an error
//   GET  /metrics                                200, text/plain; version=0.0.4
//   GET  /healthz                                200 {"status":"ok"} or 503 {"status":"unhealthy",
//                                                "error":"<why>"}
//   POST /trace?key=K[&pattern=P][&format=text|json]  Control::traceStart's answer
//   GET  /trace?key=K                            200, text/plain: the trace lines written since
//                                                the last read (Control::traceRead), or an error
//   DELETE /trace?key=K                          Control::traceStop's answer
//
// Errors are `{"error":"<one line>"}`: 400 a malformed request (garbage request line, a query
// parameter the route does not take, given twice, or a bad value, a missing `pattern`, an empty
// deploy body), 401 a missing or wrong `Authorization: Bearer <token>` (with a token), 404 an
// unknown path, 405 a known path with another method (with `Allow:`), 413 a body over
// `max_body_bytes`, 500 an exception out of Control (a bug). Each refused request is one log line
// with the method, the path, the peer, the status and the reason (never the token or the body).
//
// Threading: start() binds and starts the HTTP threads (`threads` workers plus one listener);
// stop() may be called from any thread but a Control call, ends the listener, waits for the
// requests in progress to finish and joins every thread (a stalled client delays it by at most
// `io_timeout_seconds`, an idle keep-alive connection by at most 2 s); the destructor stops. The
// Control outlives the AdminServer.
//
// Example:
//   AdminServerOptions options;
//   options.address = "127.0.0.1:0";                    // ephemeral port
//   options.token = readTokenFile("admin.token");      // optional on loopback
//   AdminServer server(control, options);
//   std::string error;
//   if (!server.start(error)) { std::cerr << "cep serve: " << error << '\n'; return 2; }
//   std::cout << "admin on " << server.boundAddress() << '\n'; // 127.0.0.1:41234
//   ...
//   server.stop();
#pragma once

#include "service/control.hpp"

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace cep::service {

struct AdminServerOptions {
  std::string address = "127.0.0.1:7077"; // HOST:PORT, [IPV6]:PORT; port 0 = ephemeral
  // The bearer token every request must carry; nullopt: none (only allowed on a loopback host).
  std::optional<std::string> token;
  // Largest request body (a .cepo): 64 MiB by default; a larger one is refused with 413 before
  // it is read whole.
  std::size_t max_body_bytes = std::size_t{64} << 20;
  int threads = 4; // HTTP worker threads (each handles one connection at a time)
  // How long a connection may stall between bytes of a request or a response; also the bound of
  // how long stop() waits for a stalled client.
  int io_timeout_seconds = 10;
  // One line per refused request and per start/stop, without a newline; called from the HTTP
  // threads concurrently (it must be thread-safe). Default: one write to stderr per line,
  // prefixed `cep serve: admin: `.
  std::function<void(std::string_view)> log;
};

class AdminServer {
public:
  AdminServer(Control &control, AdminServerOptions options);
  ~AdminServer();
  AdminServer(const AdminServer &) = delete;
  AdminServer &operator=(const AdminServer &) = delete;

  // Binds the address and starts serving; false with a one-line reason (a bad address, a
  // non-loopback address without a token, the port in use) and nothing running. Once only.
  bool start(std::string &error);
  // The port bound (the real one for port 0), and HOST:PORT; valid after a successful start().
  int port() const;
  std::string boundAddress() const;
  // Idempotent; see the threading note above.
  void stop();

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// What start() refuses before it binds anything: a bad HOST:PORT, a non-loopback address
// without a token, no worker thread or no I/O timeout. False with start()'s one-line reason.
// `cep serve` calls it before it loads an artifact or opens a file, so a refused start changes
// nothing (an existing output file is not truncated):
//   if (!checkAdminOptions(options, error)) { std::cerr << "cep serve: " << error << '\n'; }
//   // error: "--admin 0.0.0.0:7077: refusing to serve the admin endpoint on a non-loopback ..."
bool checkAdminOptions(const AdminServerOptions &options, std::string &error);

// Writes `port` and a newline to `path` through a temporary file renamed over it, so a reader
// polling for the file never sees it half-written (`cep serve --admin-port-file F`, for tests and
// scripts). False with a reason.
bool writePortFile(const std::string &path, int port, std::string &error);

} // namespace cep::service
