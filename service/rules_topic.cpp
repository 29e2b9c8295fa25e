#include "service/rules_topic.hpp"

#include "runtime/engine/run_loop.hpp"
#include "runtime/io/json_writer.hpp"
#include "runtime/metrics/registry.hpp"
#include "runtime/snapshot_codec.hpp"
#include "runtime/time/time_format.hpp"
#include "service/serve_runtime.hpp"
#include "service/serve_served.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <stdexcept>
#include <thread>

namespace cep::service {

namespace {

// The text of a JSON string starting at `at` (just after its opening quote), unescaped enough
// for a log line (\" and \\; other escapes kept as they are).
std::string jsonStringAt(const std::string &json, std::size_t at) {
  std::string out;
  for (std::size_t i = at; i < json.size() && json[i] != '"'; ++i) {
    if (json[i] == '\\' && i + 1 < json.size() && (json[i + 1] == '"' || json[i + 1] == '\\')) {
      ++i;
    }
    out += json[i];
  }
  return out;
}

// What a refused ControlResult says: its "error" and its first reason, one line.
std::string refusal(const ControlResult &result) {
  std::string text = "HTTP " + std::to_string(result.status);
  std::size_t at = result.json.find("\"error\":\"");
  if (at != std::string::npos) {
    text = jsonStringAt(result.json, at + 9);
  }
  at = result.json.find("\"reasons\":[\"");
  if (at != std::string::npos) {
    text += ": " + jsonStringAt(result.json, at + 12);
  }
  return text;
}

std::string timeText(std::int64_t ms) {
  return runtime::formatRfc3339(ms);
}

} // namespace

struct RulesTopic::Incoming {
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::size_t value_bytes = 0;
  bool ok = false;
  std::string error; // !ok: why it is rejected
  RuleMessage rule;
  std::shared_ptr<ServeRuntime::Loaded> loaded; // deploy
  std::string version;                          // deploy: the artifact's version
  std::string what;                             // "deploy of 3f2a9c1d4e5f (fresh)"
};

struct RulesTopic::State {
  RulesTopicOptions options;
  std::unique_ptr<runtime::kafka::ControlTopicReader> reader;
  std::thread thread;
  std::atomic<bool> stopping{false};
  runtime::RunLoop *loop = nullptr;
  std::ostream *dead_letter = nullptr;
  // What the checkpoint restored: skipped when read again unless pending (reading thread).
  RulesPosition restored;
  std::vector<std::int64_t> start; // where each partition is read from
  // Loop thread.
  std::vector<std::int64_t> next;
  runtime::metrics::Counter *applied = nullptr;
  runtime::metrics::Counter *rejected = nullptr;
  runtime::metrics::Counter *late = nullptr;
  runtime::metrics::Gauge *pending = nullptr;
  std::vector<runtime::metrics::Gauge *> offsets;

  bool skip(std::int32_t p, std::int64_t offset) const {
    return restored.skips(static_cast<std::size_t>(p), offset);
  }
};

RulesTopic::~RulesTopic() {
  stop();
}

std::unique_ptr<RulesTopic> RulesTopic::open(RulesTopicOptions options,
                                             const RulesPosition *restored, std::string &error) {
  std::unique_ptr<RulesTopic> rules(new RulesTopic());
  rules->state_ = std::make_unique<State>();
  State &s = *rules->state_;
  if (!options.log) {
    options.log = [](std::string_view line) { std::cerr << "cep serve: rules: " << line << '\n'; };
  }
  s.options = std::move(options);
  if (restored != nullptr) {
    s.restored = *restored;
    for (std::size_t p = 0; p < restored->next.size(); ++p) {
      s.start.push_back(restored->resumeAt(p));
    }
  }
  s.reader = runtime::kafka::ControlTopicReader::open(s.options.topic, s.start, error);
  if (!s.reader) {
    return nullptr;
  }
  std::uint32_t partitions = s.reader->partitions();
  if (restored != nullptr && restored->next.size() > partitions) {
    error = s.options.topic.url.text + ": the checkpoint read " +
            std::to_string(restored->next.size()) + " partitions of the rules topic; it has " +
            std::to_string(partitions) + " now";
    return nullptr;
  }
  s.start.resize(partitions, 0);
  // What the loop has taken: a restored partition's next offset (the messages read again below
  // it are pending ones; the skipped ones were taken before the checkpoint).
  s.next = s.start;
  if (restored != nullptr) {
    for (std::size_t p = 0; p < restored->next.size(); ++p) {
      s.next[p] = std::max(s.next[p], restored->next[p]);
    }
  }
  if (s.options.registry != nullptr) {
    runtime::metrics::Registry &r = *s.options.registry;
    const std::string &topic = s.options.topic.url.topic;
    const char *help = "Messages of the rules topic applied or rejected.";
    s.applied = &r.counter("cep_rules_messages_total", help, {{"result", "applied"}});
    s.rejected = &r.counter("cep_rules_messages_total", help, {{"result", "rejected"}});
    s.late = &r.counter("cep_rules_applied_late_total",
                        "Rule changes applied after their effective time (it had passed when "
                        "they were read): not at the exact point of the event stream.");
    s.pending = &r.gauge("cep_rules_pending",
                         "Rule changes read and waiting for the event time they take effect at.");
    for (std::uint32_t p = 0; p < partitions; ++p) {
      s.offsets.push_back(&r.gauge("cep_rules_topic_offset",
                                   "The next offset of a partition of the rules topic the event "
                                   "loop has not taken yet.",
                                   {{"topic", topic}, {"partition", std::to_string(p)}}));
    }
  }
  rules->updateGauges();
  return rules;
}

std::string RulesTopic::where(std::int32_t partition, std::int64_t offset) const {
  return state_->options.topic.url.topic + "[" + std::to_string(partition) + "]@" +
         std::to_string(offset);
}

bool RulesTopic::start(runtime::RunLoop &loop, std::ostream *dead_letter, std::string &error) {
  State &s = *state_;
  s.loop = &loop;
  s.dead_letter = dead_letter;
  loop.driver().setTimedChanges(this);
  // Everything in the topic now is scheduled before the first event.
  std::vector<std::int64_t> low, end;
  if (!s.reader->offsets(low, end, error)) {
    return false;
  }
  std::vector<std::int64_t> reached = s.start;
  for (std::size_t p = 0; p < reached.size(); ++p) {
    reached[p] = std::max(reached[p], low[p]);
  }
  auto caughtUp = [&] {
    for (std::size_t p = 0; p < reached.size(); ++p) {
      if (reached[p] < end[p]) {
        return false;
      }
    }
    return true;
  };
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(s.options.catch_up_timeout_ms);
  std::size_t read = 0;
  runtime::kafka::ControlMessage message;
  while (!caughtUp()) {
    if (std::chrono::steady_clock::now() > deadline) {
      error = s.options.topic.url.text + ": the messages already in the rules topic were not " +
              "read within " + std::to_string(s.options.catch_up_timeout_ms) + " ms";
      return false;
    }
    std::string why;
    runtime::kafka::ControlPoll polled = s.reader->poll(100, message, why);
    if (polled == runtime::kafka::ControlPoll::Error) {
      error = why;
      return false;
    }
    if (polled != runtime::kafka::ControlPoll::Message) {
      continue;
    }
    auto p = static_cast<std::size_t>(message.partition);
    if (p < reached.size()) {
      reached[p] = std::max(reached[p], message.offset + 1);
    }
    if (s.skip(message.partition, message.offset)) {
      continue;
    }
    ++read;
    onIncoming(prepare(message)); // the loop is not running yet: this thread stands for it
  }
  s.options.log("read " + std::to_string(read) + (read == 1 ? " message" : " messages") + " of " +
                s.options.topic.url.text + " at start; " + std::to_string(pending_.size()) +
                " pending");
  s.thread = std::thread([this] { readLoop(); });
  return true;
}

void RulesTopic::stop() {
  if (state_ && state_->thread.joinable()) {
    state_->stopping.store(true);
    state_->thread.join();
  }
}

void RulesTopic::readLoop() {
  State &s = *state_;
  runtime::kafka::ControlMessage message;
  std::uint64_t errors = 0;
  while (!s.stopping.load()) {
    std::string error;
    runtime::kafka::ControlPoll polled = s.reader->poll(100, message, error);
    if (polled == runtime::kafka::ControlPoll::Error) {
      if (++errors <= 10 || errors % 1000 == 0) {
        s.options.log("reading " + s.options.topic.url.text + ": " + error);
      }
      continue;
    }
    if (polled != runtime::kafka::ControlPoll::Message ||
        s.skip(message.partition, message.offset)) {
      continue;
    }
    std::shared_ptr<Incoming> incoming = prepare(message);
    s.options.runtime->post([this, incoming](runtime::RunLoop &) { onIncoming(incoming); });
  }
}

std::shared_ptr<RulesTopic::Incoming> RulesTopic::prepare(runtime::kafka::ControlMessage &message) {
  State &s = *state_;
  auto incoming = std::make_shared<Incoming>();
  incoming->partition = message.partition;
  incoming->offset = message.offset;
  incoming->value_bytes = message.value.size();
  if (!decodeRuleHeaders(message.headers, message.value.size(), incoming->rule, incoming->error)) {
    return incoming;
  }
  const RuleMessage &rule = incoming->rule;
  if (rule.op == RuleOp::Deploy) {
    try {
      incoming->loaded =
          s.options.runtime->loadArtifact(message.value, where(message.partition, message.offset));
    } catch (const compiler::artifact::LoadError &e) {
      incoming->error = e.what();
      return incoming;
    }
    incoming->version = incoming->loaded->artifact.version();
    std::string names;
    for (const std::string &name : incoming->loaded->names) {
      names += (names.empty() ? "" : ", ") + name;
    }
    incoming->what = "deploy of " + incoming->version + " (" + names + "; " +
                     deployModeName(rule.deploy_mode) + ")";
  } else {
    incoming->what =
        "undeploy of " + rule.pattern + " (" + undeployModeName(rule.undeploy_mode) + ")";
  }
  incoming->ok = true;
  return incoming;
}

void RulesTopic::onIncoming(const std::shared_ptr<Incoming> &incoming) {
  State &s = *state_;
  auto p = static_cast<std::size_t>(incoming->partition);
  if (p < s.next.size()) {
    s.next[p] = std::max(s.next[p], incoming->offset + 1);
  }
  if (!incoming->ok) {
    reject(*incoming, incoming->error, "read");
    updateGauges();
    return;
  }
  runtime::RunLoop &loop = *s.loop;
  std::int64_t reached = loop.driver().time();
  std::int64_t at = incoming->rule.effective_time;
  if (reached != runtime::kNoWatermark && at <= reached) {
    apply(*incoming, /*late=*/true);
    updateGauges();
    return;
  }
  auto before = [](const std::shared_ptr<Incoming> &a, const std::shared_ptr<Incoming> &b) {
    if (a->rule.effective_time != b->rule.effective_time) {
      return a->rule.effective_time < b->rule.effective_time;
    }
    return a->partition != b->partition ? a->partition < b->partition : a->offset < b->offset;
  };
  pending_.insert(std::upper_bound(pending_.begin(), pending_.end(), incoming, before), incoming);
  s.options.log(where(incoming->partition, incoming->offset) + ": " + incoming->what +
                " pending until event time " + timeText(at));
  updateGauges();
  // The watermark may have passed T - 1 already: released now, not at the next record.
  if (loop.timeMode() == runtime::TimeMode::Event) {
    (void)loop.driver().release(loop.ingest().watermark()); // an output failure stops the loop
  }
}

std::int64_t RulesTopic::nextChange() const {
  return pending_.empty() ? runtime::kEndOfTime : pending_.front()->rule.effective_time;
}

std::optional<std::int64_t> RulesTopic::pendingDeploy(const std::string &hash,
                                                      std::int64_t upto) const {
  for (const std::shared_ptr<Incoming> &incoming : pending_) {
    if (incoming->rule.effective_time > upto) {
      break; // sorted by time
    }
    if (incoming->ok && incoming->rule.op == RuleOp::Deploy && incoming->loaded &&
        incoming->loaded->artifact.hash == hash) {
      return incoming->rule.effective_time;
    }
  }
  return std::nullopt;
}

std::optional<std::int64_t> RulesTopic::pendingDrain(const std::string &name,
                                                     std::int64_t upto) const {
  for (const std::shared_ptr<Incoming> &incoming : pending_) {
    if (incoming->rule.effective_time > upto) {
      break; // sorted by time
    }
    if (!incoming->ok) {
      continue;
    }
    const RuleMessage &rule = incoming->rule;
    const bool drains =
        rule.op == RuleOp::Deploy
            ? rule.deploy_mode == DeployMode::Drain && incoming->loaded &&
                  std::find(incoming->loaded->names.begin(), incoming->loaded->names.end(), name) !=
                      incoming->loaded->names.end()
            : rule.undeploy_mode == UndeployMode::Drain && rule.pattern == name;
    if (drains) {
      return incoming->rule.effective_time;
    }
  }
  return std::nullopt;
}

void RulesTopic::applyNext(std::int64_t time) {
  (void)time;
  std::shared_ptr<Incoming> incoming = pending_.front();
  pending_.erase(pending_.begin());
  apply(*incoming, /*late=*/false);
  updateGauges();
}

void RulesTopic::apply(const Incoming &incoming, bool late) {
  State &s = *state_;
  runtime::RunLoop &loop = *s.loop;
  const RuleMessage &rule = incoming.rule;
  ControlResult result = rule.op == RuleOp::Deploy
                             ? s.options.runtime->deployNow(loop, *incoming.loaded,
                                                            rule.deploy_mode, rule.effective_time)
                             : s.options.runtime->undeployNow(
                                   loop, rule.pattern, rule.undeploy_mode, rule.effective_time);
  if (result.status != 200) {
    reject(incoming, refusal(result), "applied");
    return;
  }
  if (s.applied != nullptr) {
    s.applied->add();
  }
  std::string line = where(incoming.partition, incoming.offset) + ": " + incoming.what;
  if (late) {
    if (s.late != nullptr) {
      s.late->add();
    }
    line += " applied LATE: its effective time " + timeText(rule.effective_time) +
            " is behind the event time the server has reached (" + timeText(loop.driver().time()) +
            "); applied there, not at its exact point";
  } else {
    line += " applied at event time " + timeText(rule.effective_time);
  }
  s.options.log(line);
  s.options.runtime->checkpointSoon();
}

void RulesTopic::reject(const Incoming &incoming, const std::string &reason,
                        std::string_view when) {
  State &s = *state_;
  if (s.rejected != nullptr) {
    s.rejected->add();
  }
  std::string name = where(incoming.partition, incoming.offset);
  s.options.log(name + ": rejected" + (when == "applied" ? " when applied" : "") + ": " + reason);
  if (s.dead_letter != nullptr) {
    std::string line = "{\"input\":";
    runtime::appendJsonString(line, s.options.topic.url.topic + "[" +
                                        std::to_string(incoming.partition) + "]");
    line += ",\"topic\":";
    runtime::appendJsonString(line, s.options.topic.url.topic);
    line += ",\"partition\":";
    runtime::appendJsonInt(line, incoming.partition);
    line += ",\"offset\":";
    runtime::appendJsonInt(line, incoming.offset);
    line += ",\"reason\":";
    runtime::appendJsonString(line, "rules message: " + reason);
    line += ",\"record_bytes\":";
    runtime::appendJsonInt(line, static_cast<std::int64_t>(incoming.value_bytes));
    line += "}\n";
    s.dead_letter->write(line.data(), static_cast<std::streamsize>(line.size()));
  }
  s.options.runtime->checkpointSoon();
}

RulesPosition RulesTopic::position() const {
  RulesPosition position;
  position.next = state_->next;
  position.pending.resize(position.next.size());
  for (const auto &incoming : pending_) {
    auto p = static_cast<std::size_t>(incoming->partition);
    if (p < position.pending.size()) {
      position.pending[p].push_back(incoming->offset);
    }
  }
  for (auto &offsets : position.pending) {
    std::sort(offsets.begin(), offsets.end());
  }
  return position;
}

void RulesTopic::updateGauges() {
  State &s = *state_;
  if (s.pending != nullptr) {
    s.pending->set(static_cast<double>(pending_.size()));
  }
  for (std::size_t p = 0; p < s.offsets.size() && p < s.next.size(); ++p) {
    s.offsets[p]->set(static_cast<double>(s.next[p]));
  }
}

} // namespace cep::service
