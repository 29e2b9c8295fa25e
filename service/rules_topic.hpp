// `cep serve --rules-topic kafka://HOST:PORT/TOPIC` (docs/kafka.md "Rules topic"): every
// instance reads the whole topic from the beginning, without a consumer group, and each message
// deploys or undeploys an artifact (service/rule_message.hpp) at the event time it carries, so
// that every instance switches at the same point of the event stream whatever order and time
// the messages arrive at.
//
// How a message goes:
//   1. read (a thread of its own; at start, everything in the topic up to its end offsets is
//      read before the first event): its headers decoded, its artifact loaded and verified as
//      `cep deploy`'s (--trust applies) and JIT-compiled, off the event loop;
//   2. handed to the loop thread (ServeRuntime::post) in topic order per partition: a bad one
//      is rejected (a log line, cep_rules_messages_total{result="rejected"}, a dead letter
//      with topic, partition, offset and reason); a good one is held as pending, ordered by
//      (effective time, partition, offset);
//   3. applied by the driver (runtime::TimedChanges) between two released events, once every
//      event with time < T is released: events with time < T went to the old rules, those with
//      time >= T go to the new ones. A change whose T is not after the time the loop has
//      reached (a message that came too late) is applied at once, logged as late and counted
//      (cep_rules_applied_late_total). A change refused when applied (a keep deploy whose runs
//      cannot move, an undeploy of a pattern not loaded, event types that do not fit) is
//      rejected as in 2.
//
// With --state, the checkpoint holds the topic's position (RulesPosition, the "rules" section
// of the meta record): per partition the next offset the loop has not seen and the offsets
// still pending. A restart reads again from the first pending offset, skipping what was applied
// or rejected before the checkpoint, so no message is applied twice or skipped.
//
//   RulesTopicOptions options;                        // url, config, the runtime, dead letters
//   auto rules = RulesTopic::open(options, restored_position, error);  // connects; null: why
//   ...                                               // the loop made, startLoop(loop) done
//   rules->start(loop, dead, error);                   // catches up, then reads on its thread
//   serveInputs(loop, inputs, hooks);
//   rules->stop();                                    // before the runtime shuts down
#pragma once

#include "runtime/engine/driver.hpp"
#include "runtime/kafka/control_topic.hpp"
#include "service/rule_message.hpp"
#include "service/rules_position.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace cep::runtime {
class RunLoop;
namespace metrics {
class Registry;
}
} // namespace cep::runtime

namespace cep::service {

class ServeRuntime;

struct RulesTopicOptions {
  runtime::kafka::ControlTopicOptions topic;
  ServeRuntime *runtime = nullptr;
  runtime::metrics::Registry *registry = nullptr;
  // One line each (stderr by default, `cep serve: rules: `).
  std::function<void(std::string_view)> log;
  // How long start() waits for the messages that are in the topic at start.
  int catch_up_timeout_ms = 30000;
};

class RulesTopic final : public runtime::TimedChanges {
public:
  // Connects and assigns every partition (from `restored`'s first pending or next offsets; null:
  // the beginning). Null with `error` when the topic cannot be read.
  static std::unique_ptr<RulesTopic> open(RulesTopicOptions options, const RulesPosition *restored,
                                          std::string &error);
  ~RulesTopic() override;
  RulesTopic(const RulesTopic &) = delete;
  RulesTopic &operator=(const RulesTopic &) = delete;

  // Main thread, after ServeRuntime::startLoop, before the loop runs: reads the topic up to its
  // end offsets (every message there is scheduled before the first event), installs itself as
  // the loop's timed changes, and starts reading the rest on a thread of its own. Rejected
  // messages are written to `dead_letter` (the server's dead-letter output, written on the loop
  // thread; null: none). False with `error` when the topic's end cannot be read or the catch-up
  // times out.
  bool start(runtime::RunLoop &loop, std::ostream *dead_letter, std::string &error);
  // Stops the reading thread (joins it). Call after the loop has ended, before the loop and the
  // runtime go; the loop must not be driven after this object is destroyed (it is the driver's
  // TimedChanges).
  void stop();

  // Loop thread: the position to checkpoint.
  RulesPosition position() const;
  std::size_t pendingCount() const { return pending_.size(); }
  // Loop thread: the effective time of the first pending deploy of the artifact `hash` due at
  // or before `upto` (nullopt: none). A partition's record written ahead of this server holds
  // keys of versions it deploys only then (cli/serve_kafka_rule_history.cpp holdAhead).
  std::optional<std::int64_t> pendingDeploy(const std::string &hash, std::int64_t upto) const;
  // Loop thread: the effective time of the first pending change due at or before `upto` that
  // drains the active version of `name` (a deploy in `drain` mode of an artifact declaring it, an
  // undeploy of it in `drain` mode; nullopt: none). A record written ahead of this server marks
  // that version's keys draining while this server still serves it as the active one
  // (cli/serve_kafka_hold_drain.cpp).
  std::optional<std::int64_t> pendingDrain(const std::string &name, std::int64_t upto) const;

  // runtime::TimedChanges, on the loop thread.
  std::int64_t nextChange() const override;
  void applyNext(std::int64_t time) override;

  struct Incoming; // a message read, its artifact loaded (or why not)

private:
  RulesTopic() = default;
  void readLoop();
  std::shared_ptr<Incoming> prepare(runtime::kafka::ControlMessage &message);
  void onIncoming(const std::shared_ptr<Incoming> &incoming); // loop thread
  void apply(const Incoming &incoming, bool late);            // loop thread
  void reject(const Incoming &incoming, const std::string &reason, std::string_view when);
  void updateGauges();
  std::string where(std::int32_t partition, std::int64_t offset) const; // "rules[0]@7"

  struct State;
  std::unique_ptr<State> state_;
  std::vector<std::shared_ptr<Incoming>> pending_; // sorted: (time, partition, offset)
};

} // namespace cep::service
