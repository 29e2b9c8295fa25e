#include "service/serve_runtime.hpp"

#include "runtime/engine/run_loop.hpp"
#include "runtime/io/json_writer.hpp"
#include "runtime/native/native_aggregate.hpp"
#include "runtime/state/matcher_state.hpp"
#include "runtime/state/migration.hpp"
#include "runtime/time/time_format.hpp"
#include "service/schema_merge.hpp"
#include "service/serve_served.hpp"
#include "service/state_listing.hpp"
#include "support/internal_error.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <ctime>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <sys/eventfd.h>
#include <unistd.h>

namespace cep::service {

namespace {

std::int64_t systemClockMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::uint64_t threadCpuNanoseconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000u +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

// The "error" text of an errorJson body.
std::string errorMessage(const std::string &json) {
  std::size_t at = json.find("\"error\":\"");
  if (at == std::string::npos) {
    return json;
  }
  at += 9;
  std::size_t end = json.find('"', at);
  return json.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

void member(std::string &out, const char *name, std::uint64_t value) {
  out += ",\"";
  out += name;
  out += "\":";
  runtime::appendJsonInt(out, static_cast<std::int64_t>(value));
}

// An aggregate drain's switch time (runtime/native/native_aggregate.hpp "Drain"), RFC 3339;
// none before the operator had a watermark (every window is the new version's then).
void switchTime(std::string &out, std::int64_t at) {
  if (at != INT64_MIN + 1) {
    out += ",\"switch_time\":";
    runtime::appendJsonString(out, runtime::formatRfc3339(at));
  }
}

void member(std::string &out, const char *name, std::string_view value) {
  out += ",\"";
  out += name;
  out += "\":";
  runtime::appendJsonString(out, value);
}

// Whether every pattern of an artifact (`names`, `hash`) is served already by that artifact: a
// restart with it changes nothing (startLoop does not deploy it again).
bool servedAlready(const std::vector<std::string> &names,
                   const std::function<const std::string *(const std::string &)> &hash_of,
                   const std::string &hash) {
  bool all = !names.empty();
  for (const std::string &name : names) {
    const std::string *served = hash_of(name);
    all = all && served != nullptr && *served == hash;
  }
  return all;
}

} // namespace

struct ServeRuntime::Command {
  enum class Kind {
    Deploy,
    Undeploy,
    Patterns,
    State,
    Refresh,
    Savepoint,
    Task,
    Call
  } kind = Kind::Refresh;
  std::function<void(runtime::RunLoop &)> task;          // Task: run on the loop, nobody waits
  std::function<ControlResult(runtime::RunLoop &)> call; // Call: run on the loop, its answer
  std::shared_ptr<Loaded> loaded;
  DeployMode deploy_mode = DeployMode::Keep;
  UndeployMode undeploy_mode = UndeployMode::Drain;
  std::string name;
  std::optional<std::string> key; // State: the key as the user wrote it
  // The answer, set once by the loop (or by shutdown()).
  std::mutex mutex;
  std::condition_variable done;
  bool answered = false;
  ControlResult result;
  std::vector<PatternInfo> patterns;
  std::string bytes; // a savepoint's

  void answer(ControlResult r, std::vector<PatternInfo> p = {}) {
    std::lock_guard<std::mutex> lock(mutex);
    result = std::move(r);
    patterns = std::move(p);
    answered = true;
    done.notify_all();
  }
};

ServeRuntime::ServeRuntime(ServeRuntimeOptions options, runtime::metrics::Registry &registry)
    : options_(std::move(options)), metrics_(registry), registry_(registry),
      schema_(std::make_shared<const runtime::Schema>()) {
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) {
    throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
  }
  if (!options_.log) {
    options_.log = [](std::string_view line) { std::cerr << "cep serve: " << line << '\n'; };
  }
  schemas_.push_back(schema_);
  ticker_ = std::thread([this] {
    using Clock = std::chrono::steady_clock;
    const bool checkpoints = options_.store != nullptr && options_.checkpoint_every.count() > 0;
    const auto tick = checkpoints
                          ? std::min(options_.checkpoint_every, std::chrono::milliseconds(200))
                          : std::chrono::milliseconds(200);
    Clock::time_point next_checkpoint = Clock::now() + options_.checkpoint_every;
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopped_) {
      ticker_wait_.wait_for(lock, tick);
      bool wake = !stopped_ && draining_.load(std::memory_order_relaxed) != 0;
      if (!stopped_ && checkpoints && Clock::now() >= next_checkpoint) {
        next_checkpoint = Clock::now() + options_.checkpoint_every;
        checkpoint_due_.store(true, std::memory_order_relaxed);
        wake = true;
      }
      if (wake) {
        std::uint64_t one = 1;
        (void)!::write(wake_fd_, &one, sizeof one);
      }
    }
  });
}

ServeRuntime::~ServeRuntime() {
  shutdown();
  if (ticker_.joinable()) {
    ticker_.join();
  }
  if (std::string error; !awaitCheckpoint(error)) { // the store outlives the runtime
    options_.log("checkpoint failed: " + error);
  }
  // Traces first (their shadows wrap served matchers), then the matchers before the artifacts'
  // code (Served holds both; the matcher is declared after).
  traces_.clear();
  shadowed_.clear();
  served_.clear();
  if (wake_fd_ >= 0) {
    ::close(wake_fd_);
  }
}

std::int64_t ServeRuntime::now() const {
  return options_.clock ? options_.clock() : systemClockMs();
}

// ---------------------------------------------------------------------------------------------
// HTTP threads

std::shared_ptr<ServeRuntime::Loaded> ServeRuntime::load(std::string_view bytes,
                                                         const std::string &name) {
  compiler::artifact::LoadOptions load_options;
  load_options.name = name;
  load_options.trusted = options_.trusted;
  load_options.jit = options_.jit;
  auto loaded = std::make_shared<Loaded>();
  loaded->name = name;
  loaded->artifact = compiler::artifact::loadArtifact(bytes, load_options);
  const compiler::artifact::LoadedArtifact &artifact = loaded->artifact;
  if (!artifact.aggregates.empty() && options_.store != nullptr && options_.matcher.with_events) {
    // The key records of window state do not hold the counted events (native_aggregate.hpp).
    throw compiler::artifact::LoadError(
        compiler::artifact::LoadError::Kind::User,
        name + ": aggregate `" + artifact.aggregates.front()->name +
            "`: cep serve --state --with-events does not checkpoint the events aggregates keep "
            "yet; leave out --with-events or --state");
  }
  loaded->bytes = std::make_shared<const std::string>(bytes);
  loaded->matchers = makeOperators(artifact);
  // Each operator's name and image, in the operator order of makeMatchers (the aggregates at
  // their operator indices, the patterns in the slots left, in declaration order).
  const std::size_t count = loaded->matchers.size();
  loaded->names.resize(count);
  loaded->images.resize(count);
  loaded->aggregates.resize(count);
  std::vector<bool> taken(count, false);
  for (const auto &image : artifact.aggregates) {
    auto at = static_cast<std::size_t>(image->operator_index);
    CEP_ASSERT(at < count && !taken[at], "aggregate operator index out of range or taken");
    taken[at] = true;
    loaded->names[at] = image->name;
    loaded->aggregates[at] = image;
  }
  std::size_t next = 0;
  for (std::size_t at = 0; at < count; ++at) {
    if (!taken[at]) {
      CEP_ASSERT(next < artifact.images.size(), "more operators than patterns and aggregates");
      loaded->names[at] = artifact.pattern_names[next];
      loaded->images[at] = artifact.images[next++];
    }
    CEP_ASSERT(loaded->matchers[at]->patternName() == loaded->names[at],
               "operator order differs from makeMatchers'");
  }
  return loaded;
}

ControlResult ServeRuntime::submit(std::shared_ptr<Command> command) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopped_) {
      return {503, errorJson("the server is stopping")};
    }
    queue_.push_back(command);
  }
  std::uint64_t one = 1;
  if (::write(wake_fd_, &one, sizeof one) != sizeof one && errno != EAGAIN) {
    return {500, errorJson(std::string("internal error: cannot wake the event loop: ") +
                           std::strerror(errno))};
  }
  std::unique_lock<std::mutex> lock(command->mutex);
  if (!command->done.wait_for(lock, options_.command_timeout, [&] { return command->answered; })) {
    // Still queued: take it back so it never runs after the client was told it did not.
    std::lock_guard<std::mutex> queue_lock(mutex_);
    auto it = std::find(queue_.begin(), queue_.end(), command);
    if (it != queue_.end()) {
      queue_.erase(it);
      return {503, errorJson("the event loop did not take the request within " +
                             std::to_string(options_.command_timeout.count()) +
                             " ms; nothing was changed")};
    }
    command->done.wait(lock, [&] { return command->answered; }); // running now: its answer
  }
  ControlResult result = command->result;
  // What a deploy did not move into the operator set (the artifact's own references to its code,
  // the matchers of a refused deploy: they hold no events) is let go here, off the event loop.
  command->loaded.reset();
  return result;
}

ControlResult ServeRuntime::deploy(std::string_view artifact_bytes, DeployMode mode) {
  auto command = std::make_shared<Command>();
  command->kind = Command::Kind::Deploy;
  command->deploy_mode = mode;
  try {
    command->loaded = load(artifact_bytes, "POST /deploy");
  } catch (const compiler::artifact::LoadError &e) {
    metrics_.deploys(deployModeName(mode), "refused").add();
    options_.log(std::string("deploy refused: ") + e.what());
    return {e.user() ? 400 : 500, errorJson(e.what())};
  }
  return submit(command);
}

void ServeRuntime::post(std::function<void(runtime::RunLoop &)> task) {
  auto command = std::make_shared<Command>();
  command->kind = Command::Kind::Task;
  command->task = std::move(task);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopped_) {
      return;
    }
    queue_.push_back(std::move(command));
  }
  std::uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof one);
}

void ServeRuntime::checkpointSoon() {
  if (options_.store == nullptr) {
    return;
  }
  checkpoint_due_.store(true, std::memory_order_relaxed);
  std::uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof one);
}

ControlResult ServeRuntime::undeploy(std::string_view pattern, UndeployMode mode) {
  auto command = std::make_shared<Command>();
  command->kind = Command::Kind::Undeploy;
  command->undeploy_mode = mode;
  command->name = std::string(pattern);
  return submit(command);
}

std::vector<PatternInfo> ServeRuntime::patterns() {
  auto command = std::make_shared<Command>();
  command->kind = Command::Kind::Patterns;
  ControlResult result = submit(command);
  if (result.status != 200) {
    throw Unavailable(result.status == 503 ? errorMessage(result.json)
                                           : "the event loop did not answer");
  }
  return command->patterns;
}

void ServeRuntime::metrics(std::string &prometheus_text) {
  auto command = std::make_shared<Command>();
  command->kind = Command::Kind::Refresh;
  submit(command); // a stopping server shows its last values
  registry_.writePrometheus(prometheus_text);
}

bool ServeRuntime::healthy(std::string &why) {
  auto command = std::make_shared<Command>();
  command->kind = Command::Kind::Refresh;
  ControlResult result = submit(command);
  if (result.status != 200) {
    why = "the event loop is not answering: " + result.json;
    return false;
  }
  return true;
}

ControlResult ServeRuntime::savepoint(std::string &bytes) {
  auto command = std::make_shared<Command>();
  command->kind = Command::Kind::Savepoint;
  ControlResult result = submit(command);
  if (result.status == 200) {
    std::lock_guard<std::mutex> lock(command->mutex);
    bytes = std::move(command->bytes);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Main thread, before the loop

bool ServeRuntime::loadAtStart(std::string_view bytes, const std::string &name,
                               std::string &error) {
  std::shared_ptr<Loaded> loaded = load(bytes, name);
  runtime::Schema merged;
  std::vector<std::string> reasons;
  if (!mergeSchema(*schema_, *loaded->artifact.schema, merged, reasons)) {
    error = name + ": does not fit the event types of the artifacts before it: " + reasons[0];
    return false;
  }
  if (merged.types.size() != schema_->types.size()) {
    schema_ = std::make_shared<const runtime::Schema>(std::move(merged));
    schemas_.push_back(schema_);
  }
  at_start_.push_back(std::move(loaded));
  return true;
}

bool ServeRuntime::checkStartDeploys(std::vector<std::string> &reasons) {
  auto hash_of = [this](const std::string &name) -> const std::string * {
    const Served *served = active(name);
    return served == nullptr ? nullptr : &served->hash;
  };
  for (const std::shared_ptr<Loaded> &loaded : at_start_) {
    const compiler::artifact::LoadedArtifact &artifact = loaded->artifact;
    if (servedAlready(loaded->names, hash_of, artifact.hash)) {
      continue;
    }
    // The same checks as applyDeploy's keep (its event types were merged by loadAtStart).
    for (std::size_t i = 0; i < loaded->matchers.size(); ++i) {
      const Served *old = active(loaded->names[i]);
      if (old != nullptr && (old->aggregate || loaded->aggregates[i])) {
        reasons.push_back(loaded->name + ": aggregate `" + loaded->names[i] +
                          "`: moving open windows into a new version is not supported yet");
        continue;
      }
      if (old == nullptr || (!options_.no_adopt && loaded->matchers[i]->canAdopt(*old->matcher))) {
        continue;
      }
      runtime::MatcherState state;
      old->matcher->exportState(state);
      runtime::MigrationReport report = loaded->matchers[i]->checkMigration(state);
      for (const std::string &reason : report.reasons) {
        reasons.push_back(loaded->name + ": " + reason);
      }
    }
  }
  return reasons.empty();
}

void ServeRuntime::startLoop(runtime::RunLoop &loop) {
  loop.driver().keepUnreadTypes(true); // a pattern deployed later may read them
  const std::vector<std::string> &names = loop.ingest().inputNames();
  for (const std::string &name : names) {
    inputs_.push_back(metrics_.input(name));
  }
  inputs_seen_.assign(names.size(), {});
  if (restored_) {
    // The checkpoint's versions, under their operator ids (restoreAtStart gave them their state).
    loop.operators().reserveIds(restored_->next_operator_id);
    for (const auto &served : served_) {
      loop.operators().add(served->id, served->matcher.get());
      startSeries(*served);
    }
    restored_.reset();
  }
  for (const std::shared_ptr<Loaded> &loaded : at_start_) {
    // Restarting with the artifact the checkpoint already serves changes nothing.
    auto hash_of = [this](const std::string &name) -> const std::string * {
      const Served *served = active(name);
      return served == nullptr ? nullptr : &served->hash;
    };
    if (servedAlready(loaded->names, hash_of, loaded->artifact.hash)) {
      continue;
    }
    ControlResult result = applyDeploy(loop, *loaded, DeployMode::Keep);
    if (result.status != 200) {
      // Only over a restored state: artifacts alone were checked to fit together at start-up.
      throw std::runtime_error(loaded->name +
                               ": cannot be deployed over the restored state: " + result.json);
    }
  }
  at_start_.clear();
  loop_started_ = true;
  refresh(loop);
}

// ---------------------------------------------------------------------------------------------
// The loop thread

void ServeRuntime::onWake(runtime::RunLoop &loop) {
  std::uint64_t count = 0;
  while (::read(wake_fd_, &count, sizeof count) == sizeof count) {
  }
  for (;;) {
    std::shared_ptr<Command> command;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (queue_.empty()) {
        break;
      }
      command = queue_.front();
      queue_.pop_front();
    }
    run(loop, *command);
    // The versions it retired go after the answer: outside the measured pause, and on this
    // thread, which alone touches their events (refcounts are not atomic). Unloading their code
    // waits for a JIT load in progress on an HTTP thread (compiler/jit/load_host.hpp, "Threads").
    graveyard_.clear();
  }
  sweep(loop);
  checkTraces(loop);
  graveyard_.clear();
  if (pending_ &&
      pending_->outcome.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
    // The checkpoint in flight is committed (or failed): its outcome goes into the metrics now.
    if (std::string error; !awaitCheckpoint(error)) {
      options_.log("checkpoint failed: " + error);
    }
  }
  if (checkpoint_due_.load(std::memory_order_relaxed) && pending_) {
    // The previous checkpoint is still syncing or committing: this one waits for a later wake
    // (the ticker's next, within 200 ms) instead of holding the loop.
  } else if (checkpoint_due_.exchange(false, std::memory_order_relaxed)) {
    std::string error;
    if (!checkpoint(loop, error)) {
      // The store is unchanged: the next checkpoint writes what this one would have (no change
      // was consumed), and the state stays what the last complete checkpoint says on disk.
      options_.log("checkpoint failed: " + error);
    }
  }
}

void ServeRuntime::run(runtime::RunLoop &loop, Command &command) {
  switch (command.kind) {
  case Command::Kind::Deploy: {
    std::shared_ptr<TimedChange> timed = httpChange(loop); // docs/kafka.md: in the rule history
    ControlResult result = applyDeploy(loop, *command.loaded, command.deploy_mode, timed.get());
    recordHttpChange(std::move(timed), result);
    durable(loop, result);
    command.answer(std::move(result));
    return;
  }
  case Command::Kind::Undeploy: {
    std::shared_ptr<TimedChange> timed = httpChange(loop); // docs/kafka.md: in the rule history
    ControlResult result = applyUndeploy(loop, command.name, command.undeploy_mode, timed.get());
    recordHttpChange(std::move(timed), result);
    durable(loop, result);
    command.answer(std::move(result));
    return;
  }
  case Command::Kind::Patterns:
    sweep(loop);
    refresh(loop);
    command.answer({200, ""}, describe());
    return;
  case Command::Kind::State:
    sweep(loop);
    command.answer(listState(command.name, command.key));
    return;
  case Command::Kind::Refresh:
    sweep(loop);
    refresh(loop);
    command.answer({200, ""});
    return;
  case Command::Kind::Task:
    command.task(loop);
    command.answer({200, ""});
    return;
  case Command::Kind::Call:
    command.answer(command.call(loop));
    return;
  case Command::Kind::Savepoint: {
    std::string bytes;
    ControlResult result = takeSavepoint(loop, bytes);
    if (result.status == 200) {
      std::lock_guard<std::mutex> lock(command.mutex);
      command.bytes = std::move(bytes);
    }
    command.answer(std::move(result));
    return;
  }
  }
}

// `GET /state`: every served version's state in the named model, listed between two events.
ControlResult ServeRuntime::listState(const std::string &pattern,
                                      const std::optional<std::string> &key) const {
  StateListing listing;
  listing.from_server = true;
  StateFilter filter;
  filter.pattern = pattern;
  if (key) {
    filter.keys = keyCandidates(*key);
    filter.max_runs = 0;
  }
  std::vector<const Served *> order;
  std::string names;
  for (const auto &served : served_) {
    names += (names.empty() ? "`" : ", `") + served->name + "`";
    if (pattern.empty() || served->name == pattern) {
      order.push_back(served.get());
    }
  }
  if (!pattern.empty() && order.empty()) {
    return {404, errorJson("no pattern `" + pattern + "` is served (patterns: " +
                           (names.empty() ? std::string("none") : names) + ")")};
  }
  // As `GET /patterns` orders them: by name, the active version before a draining one.
  std::stable_sort(order.begin(), order.end(), [](const Served *a, const Served *b) {
    return a->name != b->name ? a->name < b->name : !a->draining && b->draining;
  });
  for (const Served *served : order) {
    if (served->aggregate) {
      // Its open windows, from its key records (runtime/native/native_aggregate.hpp).
      runtime::MatcherChanges whole;
      try {
        runtime::native::exportAggregateRecords(*served->matcher, whole);
        std::vector<std::string_view> views;
        for (const auto &[name, record] : whole.put) {
          views.emplace_back(record);
        }
        listAggregate(listing, whole.header, views, served->version, served->draining, filter);
      } catch (const std::runtime_error &e) {
        return {409, errorJson("aggregate `" + served->name + "`: " + e.what())};
      }
      continue;
    }
    runtime::MatcherState state;
    served->matcher->exportState(state);
    listVersion(listing, state, served->image.get(), served->version, served->draining, filter);
  }
  if (key && listing.keys_listed == 0) {
    return {404, errorJson("no partial match for key " + *key +
                           (pattern.empty() ? std::string() : " in pattern `" + pattern + "`") +
                           " and no open window (a key's state goes when its matches complete "
                           "or time out)")};
  }
  return {200, stateListingJson(listing)};
}

ControlResult ServeRuntime::callOnLoop(std::function<ControlResult(runtime::RunLoop &)> call) {
  auto command = std::make_shared<Command>();
  command->kind = Command::Kind::Call;
  command->call = std::move(call);
  return submit(command);
}

ControlResult ServeRuntime::state(std::string_view pattern, const std::optional<std::string> &key) {
  auto command = std::make_shared<Command>();
  command->kind = Command::Kind::State;
  command->name = std::string(pattern);
  command->key = key;
  return submit(command);
}

// With --state, a change is answered once a checkpoint holds it: a restart after the answer
// serves what was deployed. The answer says whether it is (`"durable"`).
void ServeRuntime::durable(runtime::RunLoop &loop, ControlResult &result) {
  if (options_.store == nullptr || result.status != 200 || result.json.empty() ||
      result.json.back() != '}') {
    return;
  }
  std::string error;
  bool ok = checkpoint(loop, error, /*wait=*/true);
  const bool restored = options_.http_changes_not_restored.empty();
  result.json.pop_back();
  result.json += ok && restored ? ",\"durable\":true}" : ",\"durable\":false}";
  if (!ok) {
    options_.log("the change is applied but not durable yet (checkpoint failed: " + error + ")");
  } else if (!restored) {
    options_.log("the change is applied but not durable: " + options_.http_changes_not_restored);
  }
}

ServeRuntime::Served *ServeRuntime::active(const std::string &name) {
  for (const auto &served : served_) {
    if (!served->draining && served->name == name) {
      return served.get();
    }
  }
  return nullptr;
}

ControlResult ServeRuntime::deployNow(runtime::RunLoop &loop, Loaded &loaded, DeployMode mode,
                                      std::int64_t at) {
  auto change = std::make_shared<TimedChange>();
  change->at = at;
  change->before = servedSet();
  ControlResult result = applyDeploy(loop, loaded, mode, change.get());
  if (result.status == 200 && on_timed_change_) {
    on_timed_change_(std::move(change));
  }
  return result;
}

ControlResult ServeRuntime::undeployNow(runtime::RunLoop &loop, const std::string &name,
                                        UndeployMode mode, std::int64_t at) {
  auto change = std::make_shared<TimedChange>();
  change->at = at;
  change->before = servedSet();
  ControlResult result = applyUndeploy(loop, name, mode, change.get());
  if (result.status == 200 && on_timed_change_) {
    on_timed_change_(std::move(change));
  }
  return result;
}

std::shared_ptr<ServeRuntime::TimedChange> ServeRuntime::httpChange(runtime::RunLoop &loop) const {
  const std::int64_t reached = loop.driver().time();
  if (!on_timed_change_ || loop.timeMode() != runtime::TimeMode::Event ||
      reached == runtime::kNoWatermark || reached >= runtime::kEndOfTime - 1) {
    return nullptr;
  }
  // Between two records: every event up to the driver's time went to the versions served now,
  // every later one goes to the versions after the change, as a change due at reached + 1 would
  // split them (runtime/engine/driver.hpp "Changes at an exact event time").
  auto change = std::make_shared<TimedChange>();
  change->http = true;
  change->at = reached + 1;
  change->before = servedSet();
  return change;
}

void ServeRuntime::recordHttpChange(std::shared_ptr<TimedChange> timed, ControlResult &result) {
  if (timed == nullptr || result.status != 200 || result.json.empty() ||
      result.json.back() != '}') {
    return;
  }
  result.json.pop_back();
  member(result.json, "switched_at", runtime::formatRfc3339(timed->at));
  result.json += '}';
  on_timed_change_(std::move(timed));
}

ControlResult ServeRuntime::applyDeploy(runtime::RunLoop &loop, Loaded &loaded, DeployMode mode,
                                        TimedChange *timed) {
  const char *mode_name = deployModeName(mode);
  auto started = std::chrono::steady_clock::now();
  const compiler::artifact::LoadedArtifact &artifact = loaded.artifact;
  if (std::string why =
          change_guard_ && (timed == nullptr || timed->http) ? change_guard_() : std::string();
      !why.empty()) {
    metrics_.deploys(mode_name, "refused").add();
    options_.log("deploy of " + artifact.version() + " refused: " + why);
    return {409, errorJson(why + "; nothing was changed")};
  }

  // 1. The event types.
  runtime::Schema merged;
  std::vector<std::string> reasons;
  if (!mergeSchema(*schema_, *artifact.schema, merged, reasons)) {
    metrics_.deploys(mode_name, "refused").add();
    options_.log("deploy of " + artifact.version() + " refused: " + reasons[0]);
    return {409,
            errorJson("the artifact's event types do not fit the server's; nothing was changed",
                      reasons)};
  }
  // 2. Keep: every replaced pattern's runs must move; check all before changing anything.
  // The common change (same steps and key) is taken over in place (Matcher::adoptFrom, no
  // copy); any other goes through the state model (exportState + migrateFrom).
  std::vector<runtime::MatcherState> states(loaded.matchers.size());
  std::vector<Served *> replaced(loaded.matchers.size(), nullptr);
  std::vector<bool> adopt(loaded.matchers.size(), false);
  for (std::size_t i = 0; i < loaded.matchers.size(); ++i) {
    replaced[i] = active(loaded.names[i]);
    if (replaced[i] == nullptr) {
      continue;
    }
    bool is_aggregate = loaded.aggregates[i] != nullptr;
    if (is_aggregate || replaced[i]->aggregate) {
      if (is_aggregate != (replaced[i]->aggregate != nullptr)) {
        reasons.push_back(
            "`" + loaded.names[i] + "` is " + (is_aggregate ? "an aggregate" : "a pattern") +
            " in the new version but " + (is_aggregate ? "a pattern" : "an aggregate") +
            " in the loaded one: undeploy it first");
      } else if (mode == DeployMode::Keep) {
        // The open windows move when the state is the same (docs/serve.md "Aggregates").
        std::vector<std::string> why = moveWindows(*replaced[i], loaded, i);
        reasons.insert(reasons.end(), why.begin(), why.end());
      } else if (mode == DeployMode::Drain) {
        std::string why = runtime::native::drainRefusal(*replaced[i]->aggregate);
        if (!why.empty()) {
          reasons.push_back("aggregate `" + loaded.names[i] + "`: " + why +
                            "; deploy with mode keep or fresh (its open windows are dropped, "
                            "counted)");
        }
      }
      continue;
    }
    if (mode != DeployMode::Keep) {
      continue;
    }
    if (!options_.no_adopt && loaded.matchers[i]->canAdopt(*replaced[i]->matcher)) {
      adopt[i] = true;
      continue;
    }
    replaced[i]->matcher->exportState(states[i]);
    runtime::MigrationReport report = loaded.matchers[i]->checkMigration(states[i]);
    for (const std::string &reason : report.reasons) {
      reasons.push_back(reason);
    }
  }
  // --repartition: one key per event type (key_shapes.hpp).
  if (std::vector<std::string> keys = keyConflictsWith({&loaded}); !keys.empty()) {
    metrics_.deploys(mode_name, "refused").add();
    options_.log("deploy of " + artifact.version() + " refused: " + keys[0]);
    return {422, errorJson("the artifact keys an event type otherwise than the patterns served (" +
                               options_.one_key_per_event + "); nothing was changed",
                           keys)};
  }
  if (!reasons.empty()) {
    metrics_.deploys(mode_name, "refused").add();
    options_.log("deploy of " + artifact.version() + " (" + mode_name + ") refused: " +
                 std::to_string(reasons.size()) + " reason(s), the first: " + reasons[0]);
    return {422,
            errorJson(mode == DeployMode::Keep
                          ? "the partial matches of the loaded version cannot move into the new "
                            "one (mode keep); nothing was changed"
                          : "the loaded version cannot be replaced in mode " +
                                std::string(mode_name) + "; nothing was changed",
                      reasons)};
  }

  // 3. The swap. The counters first, so what the old versions wrote is counted as theirs.
  refresh(loop);
  if (merged.types.size() != schema_->types.size()) {
    schema_ = std::make_shared<const runtime::Schema>(std::move(merged));
    schemas_.push_back(schema_);
    loop.ingest().extendSchema(*schema_);
    loop.operators().setTypeCount(schema_->types.size());
  }
  std::string body = "{\"version\":";
  runtime::appendJsonString(body, artifact.version());
  member(body, "artifact_hash", artifact.hash);
  member(body, "mode", mode_name);
  body += ",\"patterns\":[";
  std::int64_t loaded_at = now();
  std::string summary;
  if (timed != nullptr) {
    timed->deploy = true;
    timed->deploy_mode = mode;
    timed->loaded = loaded.shared_from_this();
    timed->schema = schema_;
    timed->what = std::string(timed->http ? "HTTP " : "") + "deploy of " + artifact.version() +
                  " (" + mode_name + ")";
  }
  for (std::size_t i = 0; i < loaded.matchers.size(); ++i) {
    auto served = std::make_unique<Served>();
    served->name = loaded.names[i];
    served->version = artifact.version();
    served->hash = artifact.hash;
    served->loaded_at = loaded_at;
    served->schema = artifact.schema;
    served->image = loaded.images[i];
    served->aggregate = loaded.aggregates[i];
    served->artifact_bytes = loaded.bytes;
    served->matcher = std::move(loaded.matchers[i]);
    served->loaded = loaded.shared_from_this();
    Served *old = replaced[i];
    std::string entry = "{\"pattern\":";
    runtime::appendJsonString(entry, served->name);
    if (old == nullptr) {
      served->id = loop.operators().nextId();
      loop.operators().add(served->id, served->matcher.get());
      member(entry, "action", "added");
    } else {
      member(entry, "action", "replaced");
      member(entry, "previous_version", old->version);
      served->id = old->id;
      switch (mode) {
      case DeployMode::Keep: {
        if (served->aggregate) {
          // moveWindows already gave it the old version's windows (step 2).
          member(entry, "windows_moved", served->matcher->stats().windows);
          member(entry, "keys_moved", served->matcher->stats().live_keys);
          loop.operators().replace(served->id, served->matcher.get());
          old->in_operators = false;
          break;
        }
        runtime::MigrationReport moved = adopt[i] ? served->matcher->adoptFrom(*old->matcher)
                                                  : served->matcher->migrateFrom(states[i]);
        CEP_ASSERT(moved.ok(), "a checked migration was refused");
        member(entry, "runs_moved", moved.runs_moved);
        member(entry, "keys_moved", moved.keys_moved);
        member(entry, "held_moved", moved.held_moved);
        entry += adopt[i] ? ",\"in_place\":true" : ",\"in_place\":false";
        loop.operators().replace(served->id, served->matcher.get());
        old->in_operators = false; // nothing left to write: its state moved
        break;
      }
      case DeployMode::Fresh: {
        if (old->aggregate) { // as moveWindows: the windows a draining version owns stay its own
          auto [from, before] = runtime::native::ownedWindows(*old->matcher);
          runtime::native::ownWindows(*served->matcher, from, before);
          if (from != INT64_MIN) { // and it knows the older versions' sessions and cells
            runtime::native::seedDrain(*served->matcher, *old->matcher, from);
          }
        }
        std::uint64_t dropped = old->matcher->dropState();
        metrics_.runsDropped(served->name, "fresh").add(dropped);
        member(entry, old->aggregate ? "windows_dropped" : "runs_dropped", dropped);
        loop.operators().replace(served->id, served->matcher.get());
        old->in_operators = false;
        break;
      }
      case DeployMode::Drain: {
        if (old->aggregate) {
          // The windows that started before the switch stay the old version's, the others are
          // the new one's (runtime/native/native_aggregate.hpp "Drain").
          const std::int64_t at = runtime::native::drainSwitchTime(*old->matcher);
          runtime::native::ownWindows(*served->matcher, at, INT64_MAX);
          runtime::native::seedDrain(*served->matcher, *old->matcher, at);
          switchTime(entry, at);
        }
        old->matcher->drain();
        old->draining = true;
        loop.operators().remove(old->id);
        old->id = loop.operators().nextId();
        loop.operators().add(old->id, old->matcher.get());
        loop.operators().add(served->id, served->matcher.get());
        if (old->aggregate) {
          member(entry, "draining_windows", old->matcher->stats().windows);
        } else {
          member(entry, "draining_runs", old->matcher->stats().live_runs);
        }
        break;
      }
      }
    }
    if (timed != nullptr) {
      timed->ops.push_back(TimedChange::Op{
          served->name, served->id, old != nullptr && mode == DeployMode::Drain ? old->id : 0});
    }
    runtime::MatcherStats stats = served->matcher->stats();
    served->matches_base = stats.matches;
    served->timeouts_base = stats.timeouts;
    startSeries(*served);
    entry += '}';
    body += (i > 0 ? "," : "") + entry;
    summary += (i > 0 ? ", " : "") + served->name + (old == nullptr ? " added" : " replaced");
    served_.push_back(std::move(served));
  }
  // Versions replaced (keep, fresh) are unloaded now.
  for (std::size_t i = served_.size(); i-- > 0;) {
    if (!served_[i]->in_operators) {
      retire(loop, i, nullptr);
    }
  }
  double pause = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  metrics_.deployPause(mode_name).observe(pause);
  metrics_.deploys(mode_name, "done").add();
  body += "],\"pause_seconds\":";
  runtime::appendJsonFloat(body, pause);
  body += '}';
  options_.log("deployed " + artifact.version() + " (" + mode_name + ", " + loaded.name +
               "): " + summary + "; the event loop paused " + std::to_string(pause * 1e6) + " us");
  sweep(loop);
  refresh(loop);
  return {200, body};
}

ControlResult ServeRuntime::applyUndeploy(runtime::RunLoop &loop, const std::string &name,
                                          UndeployMode mode, TimedChange *timed) {
  const char *mode_name = undeployModeName(mode);
  if (std::string why =
          change_guard_ && (timed == nullptr || timed->http) ? change_guard_() : std::string();
      !why.empty()) {
    metrics_.undeploys(mode_name, "refused").add();
    options_.log("undeploy of " + name + " refused: " + why);
    return {409, errorJson(why + "; nothing was changed")};
  }
  Served *served = active(name);
  if (served == nullptr) {
    metrics_.undeploys(mode_name, "refused").add();
    std::vector<std::string> names; // active ones: a draining version is not undeployed again
    for (const auto &s : served_) {
      if (!s->draining && std::find(names.begin(), names.end(), s->name) == names.end()) {
        names.push_back(s->name);
      }
    }
    std::string loaded;
    for (const std::string &n : names) {
      loaded += (loaded.empty() ? "" : ", ") + n;
    }
    return {404, errorJson("no pattern `" + name + "` is loaded" +
                           (loaded.empty() ? std::string(" (none is active)")
                                           : " (loaded: " + loaded + ")"))};
  }
  if (served->aggregate && mode != UndeployMode::Drop) {
    std::string why = runtime::native::drainRefusal(*served->aggregate);
    if (!why.empty()) {
      metrics_.undeploys(mode_name, "refused").add();
      return {409, errorJson("aggregate `" + name + "`: " + why +
                             "; undeploy it with mode drop (its open windows are dropped, "
                             "counted)")};
    }
  }
  refresh(loop);
  // A drop retires `served` (freed below): what is said about it is taken first.
  const std::string version = served->version;
  options_.log("undeploy " + name + " " + version + " (" + mode_name + ")");
  std::string body = "{\"pattern\":";
  runtime::appendJsonString(body, name);
  member(body, "version", version);
  member(body, "mode", mode_name);
  if (mode == UndeployMode::Drop) {
    std::uint64_t dropped = served->matcher->dropState();
    metrics_.runsDropped(name, "drop").add(dropped);
    member(body, served->aggregate ? "windows_dropped" : "runs_dropped", dropped);
    for (std::size_t i = 0; i < served_.size(); ++i) {
      if (served_[i].get() == served) {
        retire(loop, i, "dropped");
        break;
      }
    }
  } else {
    if (served->aggregate) {
      switchTime(body, runtime::native::drainSwitchTime(*served->matcher));
    }
    served->matcher->drain();
    served->draining = true;
    if (served->aggregate) {
      member(body, "draining_windows", served->matcher->stats().windows);
    } else {
      member(body, "draining_runs", served->matcher->stats().live_runs);
    }
  }
  body += '}';
  if (timed != nullptr) {
    timed->deploy = false;
    timed->undeploy_mode = mode;
    timed->pattern = name;
    timed->schema = schema_;
    timed->what =
        std::string(timed->http ? "HTTP " : "") + "undeploy of " + name + " (" + mode_name + ")";
  }
  metrics_.undeploys(mode_name, "done").add();
  sweep(loop);
  return {200, body};
}

void ServeRuntime::retire(runtime::RunLoop &loop, std::size_t index, const char *why) {
  Served &served = *served_[index];
  if (served.in_operators) {
    loop.operators().remove(served.id);
  }
  if (why != nullptr) {
    options_.log(std::string("unloaded ") + served.name + " " + served.version + " (" + why + ")");
  }
  // The same version deployed again shares its series with this one: they stay.
  bool shared = std::any_of(served_.begin(), served_.end(), [&](const auto &other) {
    return other.get() != &served && other->name == served.name && other->version == served.version;
  });
  if (!shared && served.aggregate) {
    metrics_.removeAggregate(served.name, served.version);
  } else if (!shared) {
    metrics_.removePattern(served.name, served.version);
  }
  graveyard_.push_back(std::move(served_[index]));
  served_.erase(served_.begin() + static_cast<std::ptrdiff_t>(index));
}

std::vector<std::string> ServeRuntime::moveWindows(const Served &old, Loaded &loaded,
                                                   std::size_t i) const {
  const runtime::native::AggregateImage &from = *old.aggregate;
  const runtime::native::AggregateImage &to = *loaded.aggregates[i];
  const std::string prefix = "aggregate `" + from.name + "`: ";
  std::vector<std::string> reasons;
  const runtime::EventSchema &old_type = old.schema->types[from.event_type];
  const runtime::EventSchema &new_type = loaded.artifact.schema->types[to.event_type];
  if (old_type.name != new_type.name) {
    reasons.push_back(prefix + "its step took `" + old_type.name + "` events and takes `" +
                      new_type.name + "` in the new version");
  }
  auto keyNames = [](const runtime::EventSchema &type, const std::vector<std::int32_t> &fields) {
    std::string out;
    for (std::int32_t f : fields) {
      out += (out.empty() ? "" : ", ") + type.fields[static_cast<std::size_t>(f)].name;
    }
    return "(" + out + ")";
  };
  if (keyNames(old_type, from.key_fields) != keyNames(new_type, to.key_fields)) {
    reasons.push_back(prefix + "the key changed: " + keyNames(old_type, from.key_fields) +
                      ", and the new version keys by " + keyNames(new_type, to.key_fields));
  }
  if (!reasons.empty()) {
    return reasons;
  }
  // The window state itself: the new version's operator restores the old one's snapshot, whose
  // header names the spec (window kind and sizes, lateness, ttl, accumulators by function,
  // field and kind) and refuses another with the reason.
  try {
    runtime::native::moveAggregateWindows(*loaded.matchers[i], *old.matcher);
    // A version that took over in a drain leaves the windows before its switch time to the
    // draining one: so does its successor.
    auto [from, before] = runtime::native::ownedWindows(*old.matcher);
    runtime::native::ownWindows(*loaded.matchers[i], from, before);
  } catch (const std::runtime_error &e) {
    reasons.push_back(prefix + "its open windows cannot move into the new version (" + e.what() +
                      "); deploy with mode fresh (they are dropped, counted)");
  }
  return reasons;
}

void ServeRuntime::startSeries(Served &served) {
  runtime::MatcherStats stats = served.matcher->stats();
  served.matches_seen = stats.matches;
  served.timeouts_seen = stats.timeouts;
  served.late_counted_seen = stats.late_counted;
  served.late_missed_seen = stats.late_missed;
  std::copy(std::begin(stats.evicted_by), std::end(stats.evicted_by), served.evicted_seen);
  if (served.aggregate) {
    served.aggregate_series.emplace(metrics_.aggregate(served.name, served.version));
  } else {
    served.series.emplace(metrics_.pattern(served.name, served.version));
  }
}

void ServeRuntime::sweep(runtime::RunLoop &loop) {
  std::uint32_t draining = 0;
  for (std::size_t i = served_.size(); i-- > 0;) {
    if (served_[i]->draining && served_[i]->matcher->drained()) {
      refresh(loop); // its last counts
      retire(loop, i, "drained");
    } else if (served_[i]->draining) {
      ++draining;
    }
  }
  draining_.store(draining, std::memory_order_relaxed);
}

void ServeRuntime::refresh(runtime::RunLoop &loop) {
  if (!loop_started_ && inputs_.empty()) {
    return;
  }
  runtime::RunStats stats = loop.stats();
  for (std::size_t i = 0; i < inputs_.size() && i < stats.records.inputs.size(); ++i) {
    const runtime::RecordCounts &c = stats.records.inputs[i];
    runtime::RecordCounts &seen = inputs_seen_[i];
    inputs_[i].read.add(c.read - seen.read);
    inputs_[i].accepted.add(c.accepted - seen.accepted);
    inputs_[i].rejected.add(c.rejected - seen.rejected);
    inputs_[i].late.add(c.late - seen.late);
    inputs_[i].watermarks.add(c.watermarks - seen.watermarks);
    seen = c;
    std::int64_t own = loop.ingest().watermarks().of(static_cast<std::uint32_t>(i));
    if (own != runtime::kNoWatermark && own != runtime::kEndWatermark) {
      inputs_[i].watermark.set(static_cast<double>(own) / 1000.0);
    }
  }
  for (const auto &served : served_) {
    runtime::MatcherStats s = served->matcher->stats();
    std::uint64_t written =
        (s.matches - served->matches_seen) + (s.timeouts - served->timeouts_seen);
    if (served->aggregate) {
      ServeMetrics::Aggregate &series = *served->aggregate_series;
      series.records.add(s.matches - served->matches_seen);
      series.late_counted.add(s.late_counted - served->late_counted_seen);
      series.late_missed.add(s.late_missed - served->late_missed_seen);
      series.windows.set(static_cast<double>(s.windows));
      series.keys.set(static_cast<double>(s.live_keys));
      series.state_bytes.set(static_cast<double>(s.state_bytes));
      metrics_.outputs.add(written);
      served->matches_seen = s.matches;
      served->late_counted_seen = s.late_counted;
      served->late_missed_seen = s.late_missed;
      continue;
    }
    served->series->matches.add(s.matches - served->matches_seen);
    served->series->timeouts.add(s.timeouts - served->timeouts_seen);
    metrics_.outputs.add(written);
    served->matches_seen = s.matches;
    served->timeouts_seen = s.timeouts;
    for (std::size_t r = 0; r < runtime::kEvictReasons; ++r) {
      served->series->evicted[r]->add(s.evicted_by[r] - served->evicted_seen[r]);
      served->evicted_seen[r] = s.evicted_by[r];
    }
    served->series->live_runs.set(static_cast<double>(s.live_runs));
    served->series->keys.set(static_cast<double>(s.live_keys));
    served->series->state_bytes.set(static_cast<double>(s.state_bytes));
  }
  std::int64_t watermark = loop.ingest().watermark();
  if (watermark != runtime::kNoWatermark && watermark != runtime::kEndWatermark) {
    metrics_.watermark_seconds.set(static_cast<double>(watermark) / 1000.0);
    metrics_.watermark_lag_seconds.set(static_cast<double>(now() - watermark) / 1000.0);
  }
  std::uint64_t accepted = stats.records.total().accepted;
  std::uint64_t released = accepted - std::min<std::uint64_t>(accepted, loop.bufferedEvents());
  metrics_.events_released.add(released - std::min(released, metrics_.events_released.value()));
  std::uint64_t busy = threadCpuNanoseconds();
  metrics_.busy_nanoseconds.add(busy - std::min(busy, metrics_.busy_nanoseconds.value()));
}

std::vector<PatternInfo> ServeRuntime::describe() const {
  std::vector<PatternInfo> out;
  for (const auto &served : served_) {
    runtime::MatcherStats s = served->matcher->stats();
    PatternInfo info;
    info.name = served->name;
    info.version = served->version;
    info.artifact_hash = served->hash;
    info.loaded_at = served->loaded_at;
    info.state = served->draining ? "draining" : "active";
    info.live_runs = s.live_runs;
    info.keys = s.live_keys;
    info.matches = s.matches - served->matches_base;
    info.timeouts = s.timeouts - served->timeouts_base;
    info.state_bytes = s.state_bytes;
    info.aggregate = served->aggregate != nullptr;
    info.open_windows = s.windows;
    out.push_back(std::move(info));
  }
  std::stable_sort(out.begin(), out.end(), [](const PatternInfo &a, const PatternInfo &b) {
    if (a.name != b.name) {
      return a.name < b.name;
    }
    return a.state == "active" && b.state != "active";
  });
  return out;
}

void ServeRuntime::shutdown() {
  std::deque<std::shared_ptr<Command>> pending;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopped_ = true;
    pending.swap(queue_);
  }
  ticker_wait_.notify_all();
  for (const auto &command : pending) {
    command->answer({503, errorJson("the server is stopping")});
  }
}

} // namespace cep::service
