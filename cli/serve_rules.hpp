// `cep serve --rules-topic kafka://HOST:PORT/TOPIC` on the command line (docs/kafka.md "Rules
// topic"; the work is service/rules_topic.hpp's): the URL and --kafka-config checked before
// anything is opened (exit 2), the topic opened after a restore (from the checkpoint's "rules"
// section), read up to its end once the loop is made, its position put into every checkpoint
// and savepoint.
//
//   ServeRules rules;
//   if (int code = rules.take(options); code != kOk) return code;          // before anything
//   if (!rules.open(served, registry, restored ? &*restored : nullptr, error)) ...  // exit 3
//   ...                                                                  // loop, startLoop
//   if (!rules.start(loop, run_options.dead_letter, error)) ...           // before serveInputs
//   rules.describe(meta);                                                 // in describe_io
//   rules.stop();                                                         // after the loop
#pragma once

#include "cli/commands.hpp"
#include "runtime/kafka/kafka_config.hpp"
#include "service/rules_topic.hpp"
#include "service/serve_checkpoint.hpp"

#include <memory>
#include <ostream>
#include <string>

namespace cep::cli {

class ServeRules {
public:
  // Checks --rules-topic and --kafka-config. kOk, or the exit code after printing why.
  int take(const ServeOptions &options);
  bool any() const { return given_; }
  // Connects (from the position in `restored`'s "rules" section, if any). False with `error`.
  bool open(service::ServeRuntime &runtime, runtime::metrics::Registry &registry,
            const service::ServeMeta *restored, std::string &error);
  // Reads what the topic holds now and starts its thread; dead letters go to `dead_letter`.
  bool start(runtime::RunLoop &loop, std::ostream *dead_letter, std::string &error);
  // The loop thread: the "rules" section of a checkpoint or savepoint.
  void describe(service::ServeMeta &meta) const;
  void stop();
  // The topic once opened (null before, or without --rules-topic).
  const service::RulesTopic *topic() const { return topic_.get(); }

private:
  bool given_ = false;
  service::RulesTopicOptions options_;
  runtime::kafka::KafkaConfig config_;
  std::unique_ptr<service::RulesTopic> topic_;
};

} // namespace cep::cli
