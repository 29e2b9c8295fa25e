// The interface between the admin HTTP endpoint (admin_server.hpp) and the serve runtime that
// owns the patterns. The serve runtime implements Control; the AdminServer calls it from its HTTP
// threads and turns what it returns into responses.
//
// Threading contract (every method): called from any of the admin server's HTTP threads, several
// at the same time, never from the event loop thread. An implementation is thread-safe; it
// typically posts a request to the event loop's queue and waits for the answer (which is why a
// call may block: the server has enough threads for that, and a client waits). It throws only
// Unavailable (503: stopping, or the loop did not answer in time); any other escaping exception
// becomes a 500 `{"error":"internal error: ..."}` and a log line. It must
// not call back into the AdminServer (no stop() from inside a call).
//
// Example (a test double; the real one is the serve runtime's):
//   class OnePattern final : public cep::service::Control {
//     std::vector<PatternInfo> patterns() override { return {{.name = "p", .version = "1a2b"}}; }
//     ControlResult deploy(std::string_view bytes, DeployMode) override {
//       return {200, R"({"deployed":["p"],"version":"1a2b"})"};
//     }
//     ControlResult undeploy(std::string_view name, UndeployMode) override {
//       return name == "p" ? ControlResult{200, R"({"undeployed":"p"})"}
//                          : ControlResult{404, R"({"error":"no pattern `q` is loaded"})"};
//     }
//     void metrics(std::string &out) override { registry_.writePrometheus(out); }
//     bool healthy(std::string &why) override { return true; }
//     ControlResult savepoint(std::string &) override { return {503, R"({"error":"no"})"}; }
//   };
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace cep::service {

// One loaded pattern version, as `GET /patterns` shows it (one JSON object each, fields in this
// order, `loaded_at` as an RFC 3339 UTC time). While a `drain` deploy or undeploy runs, a name can
// appear twice: the draining old version and the active new one.
struct PatternInfo {
  std::string name;
  std::string version;           // the artifact's hash prefix, as in each output's "@version"
  std::string artifact_hash;     // the whole artifact hash (hex)
  std::int64_t loaded_at = 0;    // epoch ms when this version took effect
  std::string state = "active";  // "active" | "draining"
  std::uint64_t live_runs = 0;   // partial matches in flight
  std::uint64_t keys = 0;        // partition keys with at least one run
  std::uint64_t matches = 0;     // matches written by this version
  std::uint64_t timeouts = 0;    // timeout records written by this version
  std::uint64_t state_bytes = 0; // accounted state (docs/semantics.md §9)
  // An aggregate (spec §8): "matches" counts its records, "keys" its keys with window state;
  // GET /patterns adds "kind":"aggregate" and "open_windows" (a pattern's entry has neither).
  bool aggregate = false;
  std::uint64_t open_windows = 0;
};

// How a deploy treats the in-flight runs of the loaded patterns it replaces (`?mode=`).
enum class DeployMode {
  Keep,  // move them into the new version state by state; refuse an incompatible artifact
  Drain, // the old version finishes its runs, the new one takes every new start
  Fresh, // drop them (counted), the new version starts empty
};
// How an undeploy treats the pattern's runs (`?mode=`).
enum class UndeployMode {
  Drain, // no new starts; unload when the last run completes or times out
  Drop,  // unload now; the runs are dropped (counted)
};

// What a deploy or undeploy did: the HTTP status and a JSON body, sent as they are. Statuses:
// 200 done; 400 an artifact that is not one (corrupt, truncated, another format or ABI); 404 an
// undeploy of a name that is not loaded; 409 refused because of what is loaded (e.g. another
// schema for a loaded event type, a deploy already running); 422 a `keep` deploy refused as
// incompatible, with every reason; 503 the runtime is stopping. An error body is
// `{"error":"<one line>"}`, optionally with more members (e.g. `"reasons":[...]`).
struct ControlResult {
  int status = 200;
  std::string json;
};

// An error body: {"error":MESSAGE} and, when given, "reasons":[...].
std::string errorJson(std::string_view message, const std::vector<std::string> &reasons = {});

// Thrown by a Control call that cannot be answered now (the runtime is stopping, or its event
// loop did not take the request in time): the endpoint answers 503 with the message. The one
// exception a Control may throw; any other is a bug (500).
class Unavailable : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

class Control {
public:
  virtual ~Control();

  // Every loaded pattern version, in a stable order (by name, then active before draining).
  virtual std::vector<PatternInfo> patterns() = 0;
  // `artifact_bytes` is the whole .cepo, as posted (at most the server's body limit). The deploy
  // takes effect between two events, for every pattern of the artifact together; the call returns
  // once it has (or has been refused, changing nothing).
  virtual ControlResult deploy(std::string_view artifact_bytes, DeployMode mode) = 0;
  virtual ControlResult undeploy(std::string_view pattern, UndeployMode mode) = 0;
  // `GET /state?pattern=P&key=K` (`cep state --server`): the live partial matches as the JSON of
  // service/state_listing.hpp, taken on the event loop between two events. `pattern` empty:
  // every served version; `key` (as the user writes it, state_listing.hpp keyCandidates)
  // nullopt: every key, the listing truncated (with a note) beyond kDefaultMaxListedRuns runs.
  // 200 the listing; 404 `{"error":...}` when no version of `pattern` is served or the key has
  // no partial or held match.
  virtual ControlResult state(std::string_view pattern, const std::optional<std::string> &key) = 0;
  // Appends the Prometheus text exposition (format 0.0.4) of every metric, e.g. by
  // runtime::metrics::Registry::writePrometheus.
  virtual void metrics(std::string &prometheus_text) = 0;
  // False with a one-line reason (`why`) when the runtime cannot make progress (event loop stuck,
  // an output that cannot be written): `GET /healthz` answers 503.
  virtual bool healthy(std::string &why) = 0;
  // A savepoint of everything served (service/savepoint.hpp), taken between two events: on 200
  // `bytes` receives the file's bytes and the result's JSON says what it holds; otherwise
  // `bytes` is untouched and the result is an error (500 when it could not be made).
  virtual ControlResult savepoint(std::string &bytes) = 0;
  // Tracing one key (docs/debugging.md "On cep serve"): `POST /trace?key=K[&pattern=P]
  // [&format=text|json]` starts it (200 `{"tracing":K,"patterns":[...]}`; 404 no such pattern
  // served; 409 already traced, or too many keys; 422 the artifact carries no rule sources or
  // they do not check), `GET /trace?key=K` takes the lines written since the last read (200:
  // `lines` receives them, the result's json is empty; 404 not traced), `DELETE /trace?key=K`
  // stops it (200 with what it saw). `key` as the user writes it (state_listing.hpp
  // keyCandidates). The default: 501, this server does not trace.
  virtual ControlResult traceStart(const std::string &key, const std::string &pattern,
                                   const std::string &format);
  virtual ControlResult traceRead(const std::string &key, std::string &lines);
  virtual ControlResult traceStop(const std::string &key);
};

// "keep" | "drain" | "fresh" and back; false for another word.
bool parseDeployMode(std::string_view word, DeployMode &mode);
bool parseUndeployMode(std::string_view word, UndeployMode &mode);
const char *deployModeName(DeployMode mode);
const char *undeployModeName(UndeployMode mode);

} // namespace cep::service
