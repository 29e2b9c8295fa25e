// service/: the admin HTTP endpoint, started for real on 127.0.0.1:0 over a test Control
// (FakeControl below, a fixture: it only records calls), driven by real HTTP requests through
// service::adminRequest and, for what a well-behaved client never sends, raw sockets.
#include "runtime/metrics/registry.hpp"
#include "service/admin_client.hpp"
#include "service/admin_server.hpp"
#include "service/endpoint.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <netinet/in.h>
#include <stdexcept>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace cep::service;

namespace {

// Test fixture: a Control that answers from fixed data and counts what it was asked.
class FakeControl final : public Control {
public:
  FakeControl() {
    deploys_ = &registry_.counter("cep_deploys_total", "Deploys.");
    events_ = &registry_.counter("cep_events_total", "Events.");
  }

  std::vector<PatternInfo> patterns() override {
    std::lock_guard lock(mutex_);
    return patterns_;
  }
  ControlResult deploy(std::string_view bytes, DeployMode mode) override {
    {
      std::lock_guard lock(mutex_);
      last_deploy_size = bytes.size();
      last_mode = mode;
    }
    if (bytes == "corrupt") {
      return {400, R"j({"error":"not a .cepo artifact (bad magic)"})j"};
    }
    if (bytes == "incompatible") {
      return {422,
              R"j({"error":"incompatible: step `big` is gone","reasons":["step `big` is gone"]})j"};
    }
    if (bytes == "throw") {
      throw std::runtime_error("fixture failure");
    }
    if (bytes == "stopping") {
      throw cep::service::Unavailable("the server is stopping");
    }
    deploys_->add();
    return {200, R"j({"deployed":["p"],"version":"00ff"})j"};
  }
  ControlResult undeploy(std::string_view pattern, UndeployMode mode) override {
    std::lock_guard lock(mutex_);
    last_undeploy = std::string(pattern);
    last_undeploy_mode = mode;
    if (pattern == "card_testing") {
      return {200, R"j({"undeployed":"card_testing"})j"};
    }
    return {404, "{\"error\":\"no pattern `" + std::string(pattern) + "` is loaded\"}"};
  }
  ControlResult state(std::string_view pattern, const std::optional<std::string> &key) override {
    std::lock_guard lock(mutex_);
    last_state_pattern = std::string(pattern);
    last_state_key = key;
    if (!pattern.empty() && pattern != "card_testing") {
      return {404, "{\"error\":\"no pattern `" + std::string(pattern) + "` is served\"}"};
    }
    return {200, R"j({"source":"server","patterns":[]})j"};
  }
  void metrics(std::string &out) override { registry_.writePrometheus(out); }
  bool healthy(std::string &why) override {
    if (stuck) {
      why = "the event loop has not answered for 10 s";
      return false;
    }
    return true;
  }
  ControlResult savepoint(std::string &bytes) override {
    if (stuck) {
      return {500, R"j({"error":"the outputs could not be written"})j"};
    }
    bytes = std::string("CEPSAVEP\0\x01binary", 16);
    return {200, R"j({"bytes":16})j"};
  }

  void setPatterns(std::vector<PatternInfo> patterns) {
    std::lock_guard lock(mutex_);
    patterns_ = std::move(patterns);
  }
  std::uint64_t deploys() const { return deploys_->value(); }
  cep::runtime::metrics::Counter &events() { return *events_; }

  std::atomic<bool> stuck{false};
  std::size_t last_deploy_size = 0;
  DeployMode last_mode = DeployMode::Keep;
  std::string last_undeploy;
  UndeployMode last_undeploy_mode = UndeployMode::Drain;
  std::string last_state_pattern;
  std::optional<std::string> last_state_key;

private:
  std::mutex mutex_;
  std::vector<PatternInfo> patterns_;
  cep::runtime::metrics::Registry registry_;
  cep::runtime::metrics::Counter *deploys_;
  cep::runtime::metrics::Counter *events_;
};

struct Log {
  std::mutex mutex;
  std::vector<std::string> lines;
  std::function<void(std::string_view)> sink() {
    return [this](std::string_view line) {
      std::lock_guard lock(mutex);
      lines.emplace_back(line);
    };
  }
  std::vector<std::string> refused() {
    std::lock_guard lock(mutex);
    std::vector<std::string> out;
    for (const auto &l : lines) {
      if (l.starts_with("refused ")) {
        out.push_back(l);
      }
    }
    return out;
  }
};

// A running server on 127.0.0.1:0 with the fixture behind it.
struct Running {
  explicit Running(std::optional<std::string> token = std::nullopt,
                   std::size_t max_body = std::size_t{64} << 20) {
    AdminServerOptions options;
    options.address = "127.0.0.1:0";
    options.token = std::move(token);
    options.max_body_bytes = max_body;
    options.log = log.sink();
    server = std::make_unique<AdminServer>(control, options);
    std::string error;
    REQUIRE(server->start(error));
    REQUIRE(server->port() > 0);
    client.server = Endpoint{"127.0.0.1", server->port()};
    client.read_timeout_seconds = 10;
  }
  AdminReply get(const std::string &target) { return adminRequest(client, "GET", target); }
  AdminReply post(const std::string &target, std::string_view body = {}) {
    return adminRequest(client, "POST", target, body);
  }

  FakeControl control;
  Log log;
  std::unique_ptr<AdminServer> server;
  AdminClientOptions client;
};

// Sends `request` as is on a fresh connection and returns the response (read until it is whole
// or the server closes, bounded by a 10 s receive timeout); with `wait` false, closes right after
// sending. (No half-close: httplib takes a peer that shut down its side for gone and does not
// answer.)
std::string rawExchange(int port, std::string_view request, bool wait = true) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0);
  std::size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      break;
    }
    sent += static_cast<std::size_t>(n);
  }
  std::string response;
  if (!wait) {
    ::close(fd);
    return response;
  }
  char buf[4096];
  for (int i = 0; i < 10000; ++i) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      break;
    }
    response.append(buf, static_cast<std::size_t>(n));
    // Done once the headers and Content-Length bytes of body are in (the server may keep the
    // connection open for another request).
    std::size_t end = response.find("\r\n\r\n");
    std::size_t length_at = response.find("Content-Length: ");
    if (end != std::string::npos && length_at != std::string::npos && length_at < end &&
        response.size() >= end + 4 + std::stoul(response.substr(length_at + 16))) {
      break;
    }
  }
  ::close(fd);
  return response;
}

int statusOf(const std::string &response) {
  if (response.size() < 12 || !response.starts_with("HTTP/1.1 ")) {
    return 0;
  }
  return std::stoi(response.substr(9, 3));
}

std::string bodyOf(const std::string &response) {
  std::size_t at = response.find("\r\n\r\n");
  return at == std::string::npos ? std::string() : response.substr(at + 4);
}

std::string tempPath(const char *name) {
  return "/tmp/cep_admin_test_" + std::to_string(::getpid()) + "_" + name;
}

void writeFile(const std::string &path, std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

} // namespace

TEST_CASE("admin: GET /patterns, the JSON array of PatternInfo", "[service]") {
  Running s;
  AdminReply empty = s.get("/patterns");
  CHECK(empty.status == 200);
  CHECK(empty.body == "[]\n");

  PatternInfo p;
  p.name = "card_testing";
  p.version = "3f2a9c1d";
  p.artifact_hash = "3f2a9c1d00112233";
  p.loaded_at = 1767607200000; // 2026-01-05T10:00:00Z
  p.live_runs = 12;
  p.keys = 7;
  p.matches = 3;
  p.timeouts = 1;
  p.state_bytes = 4096;
  PatternInfo q = p;
  q.name = "card_testing";
  q.version = "0badf00d";
  q.state = "draining";
  s.control.setPatterns({p, q});
  AdminReply r = s.get("/patterns");
  CHECK(r.status == 200);
  CHECK(r.body ==
        "[{\"name\":\"card_testing\",\"version\":\"3f2a9c1d\",\"artifact_hash\":"
        "\"3f2a9c1d00112233\",\"loaded_at\":\"2026-01-05T10:00:00.000Z\",\"state\":\"active\","
        "\"live_runs\":12,\"keys\":7,\"matches\":3,\"timeouts\":1,\"state_bytes\":4096},"
        "{\"name\":\"card_testing\",\"version\":\"0badf00d\",\"artifact_hash\":"
        "\"3f2a9c1d00112233\",\"loaded_at\":\"2026-01-05T10:00:00.000Z\",\"state\":\"draining\","
        "\"live_runs\":12,\"keys\":7,\"matches\":3,\"timeouts\":1,\"state_bytes\":4096}]\n");

  // The client reads it back and prints the table of `cep status`.
  std::vector<PatternInfo> rows;
  std::string error;
  REQUIRE(parsePatterns(r.body, rows, error));
  REQUIRE(rows.size() == 2);
  CHECK(rows[1].state == "draining");
  CHECK(rows[0].loaded_at == p.loaded_at);
  CHECK(rows[0].state_bytes == 4096);
  CHECK(formatPatternTable(rows) ==
        "PATTERN       VERSION   STATE     LOADED                    LIVE RUNS  KEYS  MATCHES  "
        "TIMEOUTS  STATE BYTES\n"
        "card_testing  3f2a9c1d  active    2026-01-05T10:00:00.000Z         12     7        3  "
        "       1         4096\n"
        "card_testing  0badf00d  draining  2026-01-05T10:00:00.000Z         12     7        3  "
        "       1         4096\n");
  CHECK(formatPatternTable({}) == "no patterns loaded\n");
  CHECK_FALSE(parsePatterns("{\"error\":\"x\"}", rows, error));
  CHECK_FALSE(parsePatterns("[{\"name\":1}]", rows, error));
  CHECK(error == "the server's /patterns answer: entry 1 lacks a field or has one of the wrong "
                 "type");
}

TEST_CASE("admin: POST /deploy passes the body and the mode, refusals keep their status",
          "[service]") {
  Running s;
  AdminReply ok = s.post("/deploy", "CEPO....bytes");
  CHECK(ok.status == 200);
  CHECK(ok.body == "{\"deployed\":[\"p\"],\"version\":\"00ff\"}\n");
  CHECK(s.control.last_deploy_size == 13);
  CHECK(s.control.last_mode == DeployMode::Keep); // the default

  CHECK(s.post("/deploy?mode=drain", "x").status == 200);
  CHECK(s.control.last_mode == DeployMode::Drain);
  CHECK(s.post("/deploy?mode=fresh", "x").status == 200);
  CHECK(s.control.last_mode == DeployMode::Fresh);
  CHECK(s.control.deploys() == 3);

  AdminReply corrupt = s.post("/deploy", "corrupt");
  CHECK(corrupt.status == 400);
  CHECK(corrupt.reason() == "HTTP 400: not a .cepo artifact (bad magic)");
  AdminReply incompatible = s.post("/deploy", "incompatible");
  CHECK(incompatible.status == 422);
  CHECK(incompatible.body.find("\"reasons\":[\"step `big` is gone\"]") != std::string::npos);
  CHECK(incompatible.reason() == "HTTP 422: incompatible: step `big` is gone");

  AdminReply thrown = s.post("/deploy", "throw");
  CHECK(thrown.status == 500);
  CHECK(thrown.reason() == "HTTP 500: internal error: fixture failure");
  AdminReply stopping = s.post("/deploy", "stopping"); // Control::Unavailable
  CHECK(stopping.status == 503);
  CHECK(stopping.reason() == "HTTP 503: the server is stopping");

  AdminReply bad_mode = s.post("/deploy?mode=hot", "x");
  CHECK(bad_mode.status == 400);
  CHECK(bad_mode.reason() == "HTTP 400: bad mode `hot` (keep, drain or fresh)");
  CHECK(s.post("/deploy?mode=keep&mode=drain", "x").reason() ==
        "HTTP 400: query parameter `mode` given more than once");
  CHECK(s.post("/deploy?force=1", "x").reason() ==
        "HTTP 400: unknown query parameter `force` (/deploy takes: mode)");
  CHECK(s.post("/deploy", "").reason() ==
        "HTTP 400: empty body: post the bytes of a .cepo artifact");
  CHECK(s.control.deploys() == 3); // nothing refused reached a deploy

  // One log line per refusal, with the status and the reason.
  std::vector<std::string> refused = s.log.refused();
  REQUIRE(refused.size() == 8);
  CHECK(refused[0].starts_with("refused POST /deploy from 127.0.0.1:"));
  CHECK(refused[0].ends_with(": 400 {\"error\":\"not a .cepo artifact (bad magic)\"}"));
  CHECK(refused[5].ends_with(": 400 query parameter `mode` given more than once"));
}

TEST_CASE("admin: POST /undeploy", "[service]") {
  Running s;
  AdminReply ok = s.post("/undeploy?pattern=card_testing&mode=drop");
  CHECK(ok.status == 200);
  CHECK(ok.body == "{\"undeployed\":\"card_testing\"}\n");
  CHECK(s.control.last_undeploy_mode == UndeployMode::Drop);
  CHECK(s.post("/undeploy?pattern=card_testing").status == 200);
  CHECK(s.control.last_undeploy_mode == UndeployMode::Drain); // the default

  // A name with characters that need encoding arrives decoded.
  AdminReply missing = s.post("/undeploy?pattern=" + encodeQueryValue("a b&c=d"));
  CHECK(missing.status == 404);
  CHECK(missing.reason() == "HTTP 404: no pattern `a b&c=d` is loaded");
  CHECK(s.control.last_undeploy == "a b&c=d");

  CHECK(s.post("/undeploy").reason() ==
        "HTTP 400: missing query parameter `pattern` (the name to undeploy)");
  CHECK(s.post("/undeploy?pattern=").status == 400);
  CHECK(s.post("/undeploy?pattern=p&mode=keep").reason() ==
        "HTTP 400: bad mode `keep` (drain or drop)");
  CHECK(s.post("/undeploy?pattern=p&now=1").reason() ==
        "HTTP 400: unknown query parameter `now` (/undeploy takes: pattern, mode)");
}

TEST_CASE("admin: GET /state passes the pattern and the key, bad parameters are 400", "[service]") {
  Running s;
  AdminReply all = s.get("/state");
  CHECK(all.status == 200);
  CHECK(all.body == "{\"source\":\"server\",\"patterns\":[]}\n");
  CHECK(s.control.last_state_pattern.empty());
  CHECK_FALSE(s.control.last_state_key);

  // The key arrives decoded, as the user wrote it (a composite key as its JSON).
  AdminReply one = s.get("/state?pattern=card_testing&key=" + encodeQueryValue(R"(["c 1",3])"));
  CHECK(one.status == 200);
  CHECK(s.control.last_state_pattern == "card_testing");
  CHECK(s.control.last_state_key == std::optional<std::string>(R"(["c 1",3])"));

  CHECK(s.get("/state?pattern=nope").reason() == "HTTP 404: no pattern `nope` is served");
  CHECK(s.get("/state?pattern=").reason() ==
        "HTTP 400: empty query parameter `pattern` (leave it out to list all)");
  CHECK(s.get("/state?key=").reason() ==
        "HTTP 400: empty query parameter `key` (leave it out to list all)");
  CHECK(s.get("/state?limit=5").reason() ==
        "HTTP 400: unknown query parameter `limit` (/state takes: pattern, key)");
  CHECK(s.get("/state?key=a&key=b").reason() == "HTTP 400: query parameter `key` given more than "
                                                "once");
  CHECK(s.post("/state").status == 405);
}

TEST_CASE("admin: POST /savepoint streams the bytes back, an error keeps its status", "[service]") {
  Running s;
  AdminReply ok = s.post("/savepoint");
  CHECK(ok.status == 200);
  CHECK(ok.body == std::string("CEPSAVEP\0\x01binary", 16));
  std::string raw = rawExchange(s.server->port(), "POST /savepoint HTTP/1.1\r\nHost: x\r\n"
                                                  "Content-Length: 0\r\nConnection: close\r\n\r\n");
  CHECK(statusOf(raw) == 200);
  CHECK(raw.find("Content-Type: application/octet-stream\r\n") != std::string::npos);
  CHECK(bodyOf(raw) == std::string("CEPSAVEP\0\x01binary", 16));
  CHECK(s.get("/savepoint").reason() == "HTTP 405: /savepoint takes POST, not GET");
  CHECK(s.post("/savepoint?now=1").reason() ==
        "HTTP 400: unknown query parameter `now` (/savepoint takes none)");
  s.control.stuck = true;
  AdminReply failed = s.post("/savepoint");
  CHECK(failed.status == 500);
  CHECK(failed.reason() == "HTTP 500: the outputs could not be written");
}

TEST_CASE("admin: GET /metrics and GET /healthz", "[service]") {
  Running s;
  s.control.events().add(41);
  AdminReply m = s.get("/metrics");
  CHECK(m.status == 200);
  CHECK(m.body == "# HELP cep_deploys_total Deploys.\n"
                  "# TYPE cep_deploys_total counter\n"
                  "cep_deploys_total 0\n"
                  "# HELP cep_events_total Events.\n"
                  "# TYPE cep_events_total counter\n"
                  "cep_events_total 41\n");
  std::string raw = rawExchange(s.server->port(), "GET /metrics HTTP/1.1\r\nHost: x\r\n"
                                                  "Connection: close\r\n\r\n");
  CHECK(statusOf(raw) == 200);
  CHECK(raw.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n") !=
        std::string::npos);
  CHECK(s.get("/metrics?name=x").status == 400);

  AdminReply h = s.get("/healthz");
  CHECK(h.status == 200);
  CHECK(h.body == "{\"status\":\"ok\"}\n");
  s.control.stuck = true;
  AdminReply sick = s.get("/healthz");
  CHECK(sick.status == 503);
  CHECK(sick.body ==
        "{\"status\":\"unhealthy\",\"error\":\"the event loop has not answered for 10 s\"}\n");
  CHECK(sick.reason() == "HTTP 503: the event loop has not answered for 10 s");
}

TEST_CASE("admin: the trace routes, on a Control that does not trace", "[service]") {
  Running s;
  AdminReply start = s.post("/trace?key=c1");
  CHECK(start.status == 501);
  CHECK(start.reason() == "HTTP 501: this server does not trace keys");
  CHECK(s.get("/trace?key=c1").status == 501);
  CHECK(adminRequest(s.client, "DELETE", "/trace?key=c1").status == 501);
  AdminReply no_key = s.get("/trace");
  CHECK(no_key.status == 400);
  AdminReply bad_format = s.post("/trace?key=c1&format=yaml");
  CHECK(bad_format.reason() == "HTTP 400: bad format `yaml` (text or json)");
  // (405 with `Allow: POST, GET, DELETE` for another method: e2e.serve.trace, over http.client.)
}

TEST_CASE("admin: unknown paths, wrong methods, malformed requests", "[service]") {
  Running s;
  AdminReply unknown = s.get("/pattern");
  CHECK(unknown.status == 404);
  CHECK(unknown.reason() == "HTTP 404: unknown path `/pattern` (routes: GET /patterns, GET "
                            "/state, POST /deploy, POST /undeploy, POST /savepoint, GET "
                            "/metrics, GET /healthz, POST|GET|DELETE /trace)");

  AdminReply get_deploy = s.get("/deploy");
  CHECK(get_deploy.status == 405);
  CHECK(get_deploy.reason() == "HTTP 405: /deploy takes POST, not GET");
  CHECK(s.post("/patterns").status == 405);

  std::string put =
      rawExchange(s.server->port(), "PUT /deploy HTTP/1.1\r\nHost: x\r\n"
                                    "Content-Length: 1\r\nConnection: close\r\n\r\nx");
  CHECK(statusOf(put) == 405);
  CHECK(put.find("Allow: POST\r\n") != std::string::npos);
  CHECK(bodyOf(put) == "{\"error\":\"/deploy takes POST, not PUT\"}");
  std::string del = rawExchange(
      s.server->port(), "DELETE /patterns HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  CHECK(statusOf(del) == 405);

  // What httplib refuses before any route: still JSON, still one log line.
  std::string garbage = rawExchange(s.server->port(), "HELLO\r\n\r\n");
  CHECK(statusOf(garbage) == 400);
  CHECK(bodyOf(garbage) == "{\"error\":\"malformed HTTP request\"}");
  std::string bad_method =
      rawExchange(s.server->port(), "BREW /deploy HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(statusOf(bad_method) == 400);
  // A TLS hello (no line end): the connection is dropped by the read timeout, others are served.
  rawExchange(s.server->port(), std::string("\x16\x03\x01\x00\xa5\x01", 6), false);
  std::string long_target = rawExchange(s.server->port(), "GET /" + std::string(20000, 'a') +
                                                              " HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK((long_target.empty() || statusOf(long_target) == 414 || statusOf(long_target) == 400));

  // A half-sent request that then closes does not hang or crash the server.
  rawExchange(s.server->port(), "POST /deploy HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc", false);
  CHECK(s.get("/healthz").status == 200);

  // A path with encoded control characters is logged on one line.
  CHECK(s.get("/a%0Ab%1B").status == 404);
  std::vector<std::string> refused = s.log.refused();
  REQUIRE(!refused.empty());
  // Not necessarily the last line: the TLS hello above is refused when its read times out,
  // which under load can come after this request.
  CHECK(std::any_of(refused.begin(), refused.end(), [](const std::string &l) {
    return l.starts_with("refused GET /a?b? from 127.0.0.1:");
  }));
  CHECK(refused.size() >= 8);
  bool logged_garbage = false;
  for (const auto &l : refused) {
    logged_garbage = logged_garbage || l.ends_with(": 400 malformed HTTP request");
  }
  CHECK(logged_garbage);
}

TEST_CASE("admin: the bearer token", "[service]") {
  const std::string token = "s3cr3t-t0ken";
  Running s(token);
  AdminReply missing = s.get("/patterns");
  CHECK(missing.status == 401);
  CHECK(missing.reason() == "HTTP 401: missing `Authorization: Bearer <token>` header");

  s.client.token = "wrong";
  CHECK(s.get("/patterns").reason() == "HTTP 401: wrong token");
  CHECK(s.get("/state?key=card-42").reason() == "HTTP 401: wrong token");
  CHECK(s.control.last_state_key == std::nullopt); // never asked
  s.client.token = token + "x";
  CHECK(s.get("/healthz").status == 401);
  s.client.token = token.substr(0, 5);
  CHECK(s.post("/deploy", "x").status == 401);
  CHECK(s.control.deploys() == 0);
  // Unknown paths are 401 too: nothing is told to a client without the token.
  s.client.token.reset();
  CHECK(s.get("/nothing").status == 401);

  std::string basic =
      rawExchange(s.server->port(), "GET /patterns HTTP/1.1\r\nHost: x\r\nAuthorization: Basic "
                                    "czNjcjN0LXQwa2Vu\r\nConnection: close\r\n\r\n");
  CHECK(statusOf(basic) == 401);
  CHECK(basic.find("WWW-Authenticate: Bearer realm=\"cep\"\r\n") != std::string::npos);
  CHECK(bodyOf(basic) == "{\"error\":\"the Authorization header is not `Bearer <token>`\"}");

  s.client.token = token;
  CHECK(s.get("/patterns").status == 200);
  CHECK(s.get("/state?key=card-42").status == 200);
  CHECK(s.control.last_state_key == std::optional<std::string>("card-42"));
  CHECK(s.post("/deploy", "x").status == 200);
  std::string lower =
      rawExchange(s.server->port(), "GET /healthz HTTP/1.1\r\nHost: x\r\nAuthorization: bearer " +
                                        token + "\r\nConnection: close\r\n\r\n");
  CHECK(statusOf(lower) == 200);
  CHECK(lower.find("WWW-Authenticate") == std::string::npos); // only on a 401

  for (const auto &line : s.log.lines) {
    CHECK(line.find(token) == std::string::npos); // never logged, not even its prefix
    CHECK(line.find("s3cr3") == std::string::npos);
  }
  CHECK(s.log.refused().size() == 7); // with GET /state's 401
}

TEST_CASE("admin: bodies over the limit are refused with 413", "[service]") {
  constexpr std::size_t kLimit = 1 << 20;
  Running s(std::nullopt, kLimit);
  std::string at_limit(kLimit, 'c');
  CHECK(s.post("/deploy", at_limit).status == 200);
  CHECK(s.control.last_deploy_size == kLimit);
  std::string over(kLimit + 1, 'c');
  AdminReply big = s.post("/deploy", over);
  CHECK(big.status == 413);
  CHECK(big.reason() == "HTTP 413: request body larger than 1048576 bytes (the server's limit)");
  // 16 MiB, sixteen times the limit: refused the same way, and the server keeps serving.
  std::string huge(16 * kLimit, 'h');
  CHECK(s.post("/deploy", huge).status == 413);
  CHECK(s.control.deploys() == 1);
  CHECK(s.get("/healthz").status == 200);
  // A Content-Length far over the limit with no body behind it: httplib skips what comes (until
  // its read timeout) and answers 413; meanwhile the other workers serve.
  rawExchange(s.server->port(),
              "POST /deploy HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999999\r\n\r\nabc", false);
  CHECK(s.get("/healthz").status == 200);
}

TEST_CASE("admin: a form-encoded deploy is told which content type to send", "[service]") {
  Running s;
  std::string body(20000, 'f'); // over httplib's 8 KiB form limit, which would say 413
  std::string reply =
      rawExchange(s.server->port(), "POST /deploy HTTP/1.1\r\nHost: x\r\nContent-Type: "
                                    "application/x-www-form-urlencoded\r\nContent-Length: " +
                                        std::to_string(body.size()) + "\r\n\r\n" + body);
  CHECK(reply.rfind("HTTP/1.1 415", 0) == 0);
  CHECK(reply.find("application/octet-stream") != std::string::npos);
  CHECK(s.control.deploys() == 0);
  CHECK(s.get("/healthz").status == 200);
}

TEST_CASE("admin: a storm of deploys and /metrics reads while the event loop counts", "[service]") {
  Running s;
  std::atomic<bool> done{false};
  std::thread loop([&] { // the event loop: updates without locks while HTTP threads read
    for (int i = 0; i < 5000000 && !done.load(); ++i) {
      s.control.events().add();
    }
  });
  constexpr int kClients = 6;
  constexpr int kRounds = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; i < kRounds; ++i) {
        AdminReply d = s.post(c % 2 == 0 ? "/deploy?mode=keep" : "/deploy?mode=drain",
                              std::string(1000 + i, 'x'));
        AdminReply m = s.get("/metrics");
        AdminReply p = s.get("/patterns");
        if (d.status != 200 || m.status != 200 || p.status != 200 ||
            m.body.find("cep_events_total ") == std::string::npos) {
          failures.fetch_add(1);
        }
      }
    });
  }
  for (auto &t : clients) {
    t.join();
  }
  done = true;
  loop.join();
  CHECK(failures.load() == 0);
  CHECK(s.control.deploys() == kClients * kRounds);
  CHECK(s.log.refused().empty());
}

TEST_CASE("admin: start-up refusals, stop from another thread", "[service]") {
  FakeControl control;
  Log log;
  auto start = [&](const std::string &address, std::optional<std::string> token) {
    AdminServerOptions options;
    options.address = address;
    options.token = std::move(token);
    options.log = log.sink();
    AdminServer server(control, options);
    std::string error;
    bool ok = server.start(error);
    server.stop();
    return ok ? std::string("started") : error;
  };
  CHECK(start("0.0.0.0:0", std::nullopt) ==
        "--admin 0.0.0.0:0: refusing to serve the admin endpoint on a non-loopback address "
        "without a token (give --admin-token-file F, or bind to 127.0.0.1)");
  CHECK(start("[::]:0", std::nullopt).find("non-loopback") != std::string::npos);
  CHECK(start("0.0.0.0:0", std::string("t")) == "started");
  CHECK(start("127.0.0.1", std::nullopt) ==
        "--admin: bad address `127.0.0.1`: expected HOST:PORT (e.g. 127.0.0.1:7077)");
  CHECK(start("127.0.0.1:70000", std::nullopt) ==
        "--admin: bad address `127.0.0.1:70000`: the port must be a number from 0 to 65535");
  // checkAdminOptions refuses the same, with the same words, without binding anything (what
  // `cep serve` calls before it loads or opens a file).
  auto check = [](const std::string &address, std::optional<std::string> token) {
    AdminServerOptions options;
    options.address = address;
    options.token = std::move(token);
    std::string error;
    return checkAdminOptions(options, error) ? std::string("ok") : error;
  };
  CHECK(check("0.0.0.0:0", std::nullopt) == start("0.0.0.0:0", std::nullopt));
  CHECK(check("127.0.0.1", std::nullopt) == start("127.0.0.1", std::nullopt));
  CHECK(check("0.0.0.0:7077", std::string("t")) == "ok");
  CHECK(check("127.0.0.1:7077", std::nullopt) == "ok");

  AdminServerOptions options;
  options.address = "127.0.0.1:0";
  options.log = log.sink();
  AdminServer first(control, options);
  std::string error;
  REQUIRE(first.start(error));
  options.address = "127.0.0.1:" + std::to_string(first.port());
  AdminServer second(control, options);
  CHECK_FALSE(second.start(error));
  CHECK(error == "--admin " + options.address +
                     ": cannot listen there (the port is in use, or the host is not an address "
                     "of this machine)");

  // stop() from another thread, while a client has a connection open: returns, and the port
  // answers no more.
  AdminClientOptions client;
  client.server = Endpoint{"127.0.0.1", first.port()};
  REQUIRE(adminRequest(client, "GET", "/healthz").status == 200);
  std::thread stopper([&] { first.stop(); });
  stopper.join();
  first.stop(); // idempotent
  AdminReply after = adminRequest(client, "GET", "/healthz");
  CHECK(after.status == 0);
  CHECK(after.reason() == "cannot connect to 127.0.0.1:" + std::to_string(first.port()) +
                              " (is `cep serve --admin 127.0.0.1:" + std::to_string(first.port()) +
                              "` running?)");
}

TEST_CASE("admin: stop() with a stalled client returns within the I/O timeout", "[service]") {
  FakeControl control;
  Log log;
  AdminServerOptions options;
  options.address = "127.0.0.1:0";
  options.io_timeout_seconds = 1;
  options.log = log.sink();
  AdminServer server(control, options);
  std::string error;
  REQUIRE(server.start(error));
  // A connection the server is serving (one request answered on it), then a request whose body
  // never comes.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(server.port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0);
  const std::string first = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  REQUIRE(::send(fd, first.data(), first.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(first.size()));
  std::string answer;
  char buf[1024];
  for (int i = 0; i < 100 && answer.find("{\"status\":\"ok\"}") == std::string::npos; ++i) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      break;
    }
    answer.append(buf, static_cast<std::size_t>(n));
  }
  REQUIRE(answer.starts_with("HTTP/1.1 200"));
  const std::string partial = "POST /deploy HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\nab";
  REQUIRE(::send(fd, partial.data(), partial.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(partial.size()));
  const auto t0 = std::chrono::steady_clock::now();
  server.stop();
  const auto waited = std::chrono::steady_clock::now() - t0;
  ::close(fd);
  CHECK(waited < std::chrono::seconds(4));
  CHECK(control.deploys() == 0);
  std::lock_guard lock(log.mutex);
  CHECK(log.lines.back() == "stopped");
}

TEST_CASE("admin: addresses, loopback, token files, the port file", "[service]") {
  std::string error;
  auto ep = parseEndpoint("127.0.0.1:7077", error);
  REQUIRE(ep);
  CHECK(ep->host == "127.0.0.1");
  CHECK(ep->port == 7077);
  auto v6 = parseEndpoint("[::1]:0", error);
  REQUIRE(v6);
  CHECK(v6->host == "::1");
  CHECK(formatEndpoint(*v6) == "[::1]:0");
  CHECK(parseEndpoint("localhost:80", error));
  CHECK_FALSE(parseEndpoint("::1:80", error));
  CHECK(error == "bad address `::1:80`: write an IPv6 address in brackets, [::1]:PORT");
  CHECK_FALSE(parseEndpoint(":80", error));
  CHECK_FALSE(parseEndpoint("host:", error));
  CHECK_FALSE(parseEndpoint("host:8x", error));
  CHECK_FALSE(parseEndpoint("[nothex]:80", error));
  CHECK_FALSE(parseEndpoint("a/b:80", error));

  CHECK(isLoopbackHost("127.0.0.1"));
  CHECK(isLoopbackHost("127.8.9.10"));
  CHECK(isLoopbackHost("::1"));
  CHECK(isLoopbackHost("localhost"));
  CHECK_FALSE(isLoopbackHost("0.0.0.0"));
  CHECK_FALSE(isLoopbackHost("::"));
  CHECK_FALSE(isLoopbackHost("10.0.0.1"));
  CHECK_FALSE(isLoopbackHost("example.org"));

  const std::string path = tempPath("token");
  writeFile(path, "  abc-123_XYZ \n");
  CHECK(readTokenFile(path) == "abc-123_XYZ");
  writeFile(path, "\n \t\n");
  CHECK_THROWS_WITH(readTokenFile(path),
                    "token file \"" + path + "\": empty (it must hold the token)");
  writeFile(path, "");
  CHECK_THROWS_AS(readTokenFile(path), TokenFileError);
  writeFile(path, "two words");
  CHECK_THROWS_WITH(readTokenFile(path), "token file \"" + path +
                                             "\": the token has a space or a character outside "
                                             "visible ASCII");
  writeFile(path, std::string(5000, 'a'));
  CHECK_THROWS_AS(readTokenFile(path), TokenFileError);
  std::remove(path.c_str());
  CHECK_THROWS_WITH(readTokenFile(path), "token file \"" + path + "\": No such file or directory");

  CHECK(constantTimeEqual("abc", "abc"));
  CHECK_FALSE(constantTimeEqual("abd", "abc"));
  CHECK_FALSE(constantTimeEqual("ab", "abc"));
  CHECK_FALSE(constantTimeEqual("abcd", "abc"));
  CHECK_FALSE(constantTimeEqual("", "abc"));

  const std::string port_file = tempPath("port");
  REQUIRE(writePortFile(port_file, 41234, error));
  std::ifstream in(port_file);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(content == "41234\n");
  std::remove(port_file.c_str());
  CHECK_FALSE(writePortFile("/nonexistent-dir/port", 1, error));
}
