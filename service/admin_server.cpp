// The one TU of cep_service's server side that includes httplib.h.
#include "service/admin_server.hpp"

#include "runtime/io/json_writer.hpp"
#include "service/endpoint.hpp"
#include "support/internal_error.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <exception>
#include <httplib.h>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>
#include <unistd.h>

namespace cep::service {

namespace {

using runtime::JsonWriter;

// Client-controlled text (a decoded path, a JSON body) as part of one log line: control
// characters replaced by '?', at most 300 bytes.
std::string logText(std::string_view text) {
  std::string out(text.substr(0, 300));
  for (char &c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      c = '?';
    }
  }
  if (text.size() > 300) {
    out += "...";
  }
  return out;
}

struct Route {
  const char *path;
  const char *method; // GET or POST
};
constexpr Route kRoutes[] = {{"/patterns", "GET"},  {"/state", "GET"},      {"/deploy", "POST"},
                             {"/undeploy", "POST"}, {"/savepoint", "POST"}, {"/metrics", "GET"},
                             {"/healthz", "GET"},   {"/trace", "POST"},     {"/trace", "GET"},
                             {"/trace", "DELETE"}};

void writePatterns(std::string &out, const std::vector<PatternInfo> &patterns) {
  JsonWriter w(out);
  w.beginArray();
  for (const PatternInfo &p : patterns) {
    w.beginObject();
    w.key("name");
    w.writeString(p.name);
    w.key("version");
    w.writeString(p.version);
    w.key("artifact_hash");
    w.writeString(p.artifact_hash);
    w.key("loaded_at");
    w.writeTime(p.loaded_at);
    w.key("state");
    w.writeString(p.state);
    w.key("live_runs");
    w.writeInt(static_cast<std::int64_t>(p.live_runs));
    w.key("keys");
    w.writeInt(static_cast<std::int64_t>(p.keys));
    w.key("matches");
    w.writeInt(static_cast<std::int64_t>(p.matches));
    w.key("timeouts");
    w.writeInt(static_cast<std::int64_t>(p.timeouts));
    w.key("state_bytes");
    w.writeInt(static_cast<std::int64_t>(p.state_bytes));
    if (p.aggregate) {
      w.key("kind");
      w.writeString("aggregate");
      w.key("open_windows");
      w.writeInt(static_cast<std::int64_t>(p.open_windows));
    }
    w.endObject();
  }
  w.endArray();
}

} // namespace

struct AdminServer::Impl {
  Impl(Control &c, AdminServerOptions o) : control(c), options(std::move(o)) {
    if (!options.log) {
      options.log = [](std::string_view line) {
        std::string text = "cep serve: admin: ";
        text += line;
        text += '\n';
        std::fwrite(text.data(), 1, text.size(), stderr);
      };
    }
  }

  Control &control;
  AdminServerOptions options;
  httplib::Server server;
  std::thread thread;
  std::mutex stop_mutex;
  Endpoint bound;
  bool started = false;
  bool stopped = false;

  std::string peer(const httplib::Request &req) const {
    if (req.remote_addr.empty()) {
      return "?";
    }
    return formatEndpoint({req.remote_addr, req.remote_port < 0 ? 0 : req.remote_port});
  }

  void refuse(const httplib::Request &req, httplib::Response &res, int status,
              std::string_view reason) {
    res.status = status;
    res.set_content(errorJson(reason), "application/json");
    logRefusal(req, status, reason);
  }

  void logRefusal(const httplib::Request &req, int status, std::string_view reason) {
    std::string line = "refused ";
    line += req.method.empty() ? std::string("(no method)") : logText(req.method);
    line += ' ';
    line += req.path.empty() ? std::string("(no path)") : logText(req.path);
    line += " from " + peer(req) + ": " + std::to_string(status) + " ";
    line += logText(reason);
    options.log(line);
  }

  // Every query parameter is one of `allowed`, none given twice; else a 400.
  bool checkParams(const httplib::Request &req, httplib::Response &res,
                   std::initializer_list<std::string_view> allowed) {
    for (auto it = req.params.begin(); it != req.params.end(); ++it) {
      bool known = false;
      for (std::string_view a : allowed) {
        known = known || it->first == a;
      }
      if (!known) {
        std::string list;
        for (std::string_view a : allowed) {
          list += list.empty() ? "" : ", ";
          list += a;
        }
        refuse(req, res, 400,
               "unknown query parameter `" + it->first + "` (" + req.path +
                   (list.empty() ? std::string(" takes none)") : " takes: " + list + ")"));
        return false;
      }
      if (req.params.count(it->first) > 1) {
        refuse(req, res, 400, "query parameter `" + it->first + "` given more than once");
        return false;
      }
    }
    return true;
  }

  bool authorized(const httplib::Request &req, httplib::Response &res) {
    if (!options.token) {
      return true;
    }
    auto deny = [&](std::string_view reason) {
      res.set_header("WWW-Authenticate", "Bearer realm=\"cep\"");
      refuse(req, res, 401, reason);
      return false;
    };
    if (!req.has_header("Authorization")) {
      return deny("missing `Authorization: Bearer <token>` header");
    }
    std::string value = req.get_header_value("Authorization");
    constexpr std::string_view kScheme = "bearer ";
    bool bearer = value.size() > kScheme.size();
    for (std::size_t i = 0; bearer && i < kScheme.size(); ++i) {
      bearer = std::tolower(static_cast<unsigned char>(value[i])) == kScheme[i];
    }
    if (!bearer) {
      return deny("the Authorization header is not `Bearer <token>`");
    }
    std::string_view given = std::string_view(value).substr(kScheme.size());
    while (!given.empty() && given.front() == ' ') {
      given.remove_prefix(1);
    }
    if (!constantTimeEqual(given, *options.token)) {
      return deny("wrong token");
    }
    return true;
  }

  void handle(const httplib::Request &req, httplib::Response &res) {
    if (!authorized(req, res)) {
      return;
    }
    const Route *route = nullptr;
    std::string method = req.method == "HEAD" ? "GET" : req.method;
    std::string allow; // the path's methods
    for (const Route &r : kRoutes) {
      if (req.path == r.path) {
        allow += (allow.empty() ? "" : ", ") + std::string(r.method);
        if (route == nullptr || method == r.method) {
          route = &r;
        }
      }
    }
    if (route == nullptr) {
      refuse(req, res, 404,
             "unknown path `" + req.path +
                 "` (routes: GET /patterns, GET /state, POST /deploy, POST /undeploy, POST "
                 "/savepoint, GET "
                 "/metrics, GET /healthz, POST|GET|DELETE /trace)");
      return;
    }
    if (method != route->method) {
      res.set_header("Allow", allow);
      refuse(req, res, 405, std::string(route->path) + " takes " + allow + ", not " + req.method);
      return;
    }
    try {
      std::string_view path = route->path;
      if (path == "/patterns") {
        patterns(req, res);
      } else if (path == "/state") {
        state(req, res);
      } else if (path == "/deploy") {
        deploy(req, res);
      } else if (path == "/undeploy") {
        undeploy(req, res);
      } else if (path == "/savepoint") {
        savepoint(req, res);
      } else if (path == "/metrics") {
        metrics(req, res);
      } else if (path == "/trace") {
        trace(req, res, method);
      } else {
        healthz(req, res);
      }
    } catch (const Unavailable &e) {
      refuse(req, res, 503, e.what());
    } catch (const std::exception &e) {
      refuse(req, res, 500, std::string("internal error: ") + e.what());
    } catch (...) {
      refuse(req, res, 500, "internal error: unknown exception");
    }
  }

  void patterns(const httplib::Request &req, httplib::Response &res) {
    if (!checkParams(req, res, {})) {
      return;
    }
    std::string body;
    writePatterns(body, control.patterns());
    body += '\n';
    res.status = 200;
    res.set_content(body, "application/json");
  }

  void state(const httplib::Request &req, httplib::Response &res) {
    if (!checkParams(req, res, {"pattern", "key"})) {
      return;
    }
    for (const char *name : {"pattern", "key"}) {
      if (req.has_param(name) && req.get_param_value(name).empty()) {
        refuse(req, res, 400,
               std::string("empty query parameter `") + name + "` (leave it out to list all)");
        return;
      }
    }
    std::optional<std::string> key;
    if (req.has_param("key")) {
      key = req.get_param_value("key");
    }
    sendResult(req, res, control.state(req.get_param_value("pattern"), key));
  }

  // POST /trace?key=K[&pattern=P][&format=text|json], GET /trace?key=K, DELETE /trace?key=K.
  void trace(const httplib::Request &req, httplib::Response &res, const std::string &method) {
    bool checked = method == "POST" ? checkParams(req, res, {"key", "pattern", "format"})
                                    : checkParams(req, res, {"key"});
    if (!checked) {
      return;
    }
    if (req.get_param_value("key").empty()) {
      refuse(req, res, 400, "missing query parameter `key` (the key to trace, as in \"@key\")");
      return;
    }
    std::string key = req.get_param_value("key");
    if (method == "POST") {
      std::string format = req.has_param("format") ? req.get_param_value("format") : "text";
      if (format != "text" && format != "json") {
        refuse(req, res, 400, "bad format `" + format + "` (text or json)");
        return;
      }
      sendResult(req, res, control.traceStart(key, req.get_param_value("pattern"), format));
    } else if (method == "GET") {
      std::string lines;
      ControlResult result = control.traceRead(key, lines);
      if (result.status != 200) {
        sendResult(req, res, std::move(result));
        return;
      }
      res.status = 200;
      res.set_content(lines, "text/plain; charset=utf-8");
    } else {
      sendResult(req, res, control.traceStop(key));
    }
  }

  void sendResult(const httplib::Request &req, httplib::Response &res, ControlResult result) {
    if (result.status < 200 || result.status > 599) {
      refuse(req, res, 500,
             "internal error: the runtime answered with status " + std::to_string(result.status));
      return;
    }
    if (result.json.empty()) {
      result.json = result.status < 400 ? "{}" : errorJson("refused");
    }
    if (result.status >= 400) {
      logRefusal(req, result.status, result.json);
    }
    if (result.json.back() != '\n') {
      result.json += '\n';
    }
    res.status = result.status;
    res.set_content(result.json, "application/json");
  }

  void deploy(const httplib::Request &req, httplib::Response &res) {
    if (!checkParams(req, res, {"mode"})) {
      return;
    }
    DeployMode mode = DeployMode::Keep;
    if (req.has_param("mode") && !parseDeployMode(req.get_param_value("mode"), mode)) {
      refuse(req, res, 400,
             "bad mode `" + req.get_param_value("mode") + "` (keep, drain or fresh)");
      return;
    }
    if (req.body.empty()) {
      refuse(req, res, 400, "empty body: post the bytes of a .cepo artifact");
      return;
    }
    sendResult(req, res, control.deploy(req.body, mode));
  }

  void undeploy(const httplib::Request &req, httplib::Response &res) {
    if (!checkParams(req, res, {"pattern", "mode"})) {
      return;
    }
    if (!req.has_param("pattern") || req.get_param_value("pattern").empty()) {
      refuse(req, res, 400, "missing query parameter `pattern` (the name to undeploy)");
      return;
    }
    UndeployMode mode = UndeployMode::Drain;
    if (req.has_param("mode") && !parseUndeployMode(req.get_param_value("mode"), mode)) {
      refuse(req, res, 400, "bad mode `" + req.get_param_value("mode") + "` (drain or drop)");
      return;
    }
    sendResult(req, res, control.undeploy(req.get_param_value("pattern"), mode));
  }

  // The file's bytes, made on the event loop (Control::savepoint), streamed back in chunks: the
  // HTTP thread holds them until the client has read them; the loop goes on meanwhile.
  void savepoint(const httplib::Request &req, httplib::Response &res) {
    if (!checkParams(req, res, {})) {
      return;
    }
    auto bytes = std::make_shared<std::string>();
    ControlResult result = control.savepoint(*bytes);
    if (result.status != 200) {
      sendResult(req, res, std::move(result));
      return;
    }
    res.status = 200;
    res.set_content_provider(
        bytes->size(), "application/octet-stream",
        [bytes](std::size_t offset, std::size_t length, httplib::DataSink &sink) {
          constexpr std::size_t kChunk = std::size_t{1} << 20;
          return sink.write(bytes->data() + offset, std::min(length, kChunk));
        });
  }

  void metrics(const httplib::Request &req, httplib::Response &res) {
    if (!checkParams(req, res, {})) {
      return;
    }
    std::string text;
    control.metrics(text);
    res.status = 200;
    res.set_content(text, "text/plain; version=0.0.4; charset=utf-8");
  }

  void healthz(const httplib::Request &req, httplib::Response &res) {
    if (!checkParams(req, res, {})) {
      return;
    }
    std::string why;
    bool ok = control.healthy(why);
    std::string body;
    JsonWriter w(body);
    w.beginObject();
    w.key("status");
    w.writeString(ok ? "ok" : "unhealthy");
    if (!ok) {
      w.key("error");
      w.writeString(why.empty() ? "unhealthy" : why);
      logRefusal(req, 503, why);
    }
    w.endObject();
    body += '\n';
    res.status = ok ? 200 : 503;
    res.set_content(body, "application/json");
  }

  // Errors httplib answers itself (no handler ran): give them a JSON body and a log line.
  void httplibError(const httplib::Request &req, httplib::Response &res) {
    std::string reason;
    switch (res.status) {
    case 400:
      reason = "malformed HTTP request";
      break;
    case 413:
      reason = "request body larger than " + std::to_string(options.max_body_bytes) +
               " bytes (the server's limit)";
      break;
    case 414:
      reason = "request target too long";
      break;
    case 404:
      reason = "unknown path";
      break;
    default:
      reason = "HTTP error " + std::to_string(res.status);
      break;
    }
    refuse(req, res, res.status, reason);
  }
};

AdminServer::AdminServer(Control &control, AdminServerOptions options)
    : impl_(std::make_unique<Impl>(control, std::move(options))) {}

AdminServer::~AdminServer() {
  stop();
}

bool checkAdminOptions(const AdminServerOptions &options, std::string &error) {
  std::optional<Endpoint> ep = parseEndpoint(options.address, error);
  if (!ep) {
    error = "--admin: " + error;
    return false;
  }
  if (!options.token && !isLoopbackHost(ep->host)) {
    error = "--admin " + options.address +
            ": refusing to serve the admin endpoint on a non-loopback address without a token "
            "(give --admin-token-file F, or bind to 127.0.0.1)";
    return false;
  }
  if (options.threads < 1 || options.io_timeout_seconds < 1) {
    error = "the admin server needs at least one thread and an I/O timeout of at least 1 s";
    return false;
  }
  return true;
}

bool AdminServer::start(std::string &error) {
  Impl &s = *impl_;
  if (s.started) {
    error = "the admin server was started already";
    return false;
  }
  if (!checkAdminOptions(s.options, error)) {
    return false;
  }
  std::optional<Endpoint> ep = parseEndpoint(s.options.address, error);
  CEP_ASSERT(ep.has_value(), "an admin address checked by checkAdminOptions does not parse");

  httplib::Server &server = s.server;
  const auto handler = [&s](const httplib::Request &req, httplib::Response &res) {
    s.handle(req, res);
  };
  // Every method goes to one handler that routes, so a known path with another method is a
  // 405 and not httplib's 404.
  server.Get(".*", handler);
  server.Post(".*", handler);
  server.Put(".*", handler);
  server.Patch(".*", handler);
  server.Delete(".*", handler);
  server.Options(".*", handler);
  // httplib parses a form-encoded body itself and refuses one over 8 KiB with a misleading 413
  // before any handler runs (curl --data-binary and urllib send that type by default): tell the
  // client what to send instead, before the body is read.
  server.set_pre_routing_handler(httplib::Server::HandlerWithResponse(
      [&s](const httplib::Request &req, httplib::Response &res) {
        const std::string type = req.get_header_value("Content-Type");
        if (req.method == "POST" && (type.rfind("application/x-www-form-urlencoded", 0) == 0 ||
                                     type.rfind("multipart/form-data", 0) == 0)) {
          res.set_header("Connection", "close"); // the body is not read
          s.refuse(req, res, 415,
                   "send the body as the artifact's bytes with `Content-Type: "
                   "application/octet-stream` (curl: -H 'Content-Type: application/octet-stream' "
                   "--data-binary @rules.cepo), not as " +
                       type.substr(0, type.find(';')));
          return httplib::Server::HandlerResponse::Handled;
        }
        return httplib::Server::HandlerResponse::Unhandled;
      }));
  server.set_error_handler(httplib::Server::HandlerWithResponse(
      [&s](const httplib::Request &req, httplib::Response &res) {
        if (!res.body.empty()) {
          return httplib::Server::HandlerResponse::Unhandled; // ours, already logged
        }
        s.httplibError(req, res);
        return httplib::Server::HandlerResponse::Handled;
      }));
  // httplib's default also sets SO_REUSEPORT, which would let a second server share the port
  // (and take half the requests): only SO_REUSEADDR, so a taken port is an error.
  server.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  server.set_payload_max_length(s.options.max_body_bytes);
  server.set_keep_alive_timeout(2);
  server.set_read_timeout(s.options.io_timeout_seconds, 0);
  server.set_write_timeout(s.options.io_timeout_seconds, 0);
  const int threads = s.options.threads;
  server.new_task_queue = [threads] {
    return new httplib::ThreadPool(static_cast<std::size_t>(threads));
  };

  int port = ep->port;
  if (port == 0) {
    port = server.bind_to_any_port(ep->host);
    if (port < 0) {
      port = 0;
    }
  } else if (!server.bind_to_port(ep->host, port)) {
    port = 0;
  }
  if (port == 0) {
    error = "--admin " + s.options.address +
            ": cannot listen there (the port is in use, or the host is not an address of this "
            "machine)";
    return false;
  }
  s.bound = Endpoint{ep->host, port};
  s.started = true;
  s.thread = std::thread([&server] { server.listen_after_bind(); });
  // stop() only works once the listener runs: wait for it (bounded; it is immediate).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!server.is_running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!server.is_running()) {
    error = "--admin " + s.options.address + ": the listener did not start";
    s.server.stop();
    s.thread.join();
    s.stopped = true;
    return false;
  }
  s.options.log("listening on " + formatEndpoint(s.bound) +
                (s.options.token ? " (bearer token required)" : " (no token)"));
  return true;
}

int AdminServer::port() const {
  return impl_->bound.port;
}

std::string AdminServer::boundAddress() const {
  return formatEndpoint(impl_->bound);
}

void AdminServer::stop() {
  Impl &s = *impl_;
  std::lock_guard lock(s.stop_mutex);
  if (!s.started || s.stopped) {
    return;
  }
  s.stopped = true;
  s.server.stop();
  if (s.thread.joinable()) {
    s.thread.join(); // listen_after_bind returns once its worker pool has shut down
  }
  s.options.log("stopped");
}

bool writePortFile(const std::string &path, int port, std::string &error) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  std::FILE *f = std::fopen(tmp.c_str(), "w");
  if (f == nullptr) {
    error = "cannot write \"" + tmp + "\"";
    return false;
  }
  std::string text = std::to_string(port) + "\n";
  bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  ok = (std::fclose(f) == 0) && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    error = "cannot write \"" + path + "\"";
    return false;
  }
  return true;
}

} // namespace cep::service
