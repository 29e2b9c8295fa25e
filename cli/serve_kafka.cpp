#include "cli/serve_kafka.hpp"

#include "cli/exit_codes.hpp"
#include "cli/serve_kafka_watermarks.hpp"
#include "runtime/kafka/kafka_sink.hpp"
#include "runtime/kafka/kafka_source.hpp"
#include "runtime/time/time_format.hpp"

#include <iostream>

namespace cep::cli {

namespace {

int usage(const std::string &why) {
  std::cerr << "cep serve: " << why << '\n';
  return kUsage;
}

} // namespace

void kafkaLog(const std::string &line) {
  std::cerr << "cep serve: kafka: " << line << '\n';
}

std::string partitionNames(const std::string &topic, const std::vector<std::int32_t> &partitions) {
  std::string text;
  for (std::int32_t p : partitions) {
    text += (text.empty() ? "" : ", ") + topic + "[" + std::to_string(p) + "]";
  }
  return text;
}

int ServeKafka::take(const ServeOptions &options, RunPlan &plan, RunOptions &files) {
  using runtime::kafka::KafkaUrl;
  std::string error;
  std::vector<runtime::InputSpec> file_inputs;
  for (const runtime::InputSpec &spec : plan.inputs) {
    if (!runtime::kafka::isKafkaUrl(spec.path)) {
      file_inputs.push_back(spec);
      continue;
    }
    Input input;
    if (!runtime::kafka::parseKafkaUrl(spec.path, KafkaUrl::Input, input.url, error)) {
      return usage("--input " + error);
    }
    input.type_name = spec.type_name;
    inputs_.push_back(std::move(input));
  }
  const RunOptions &run = options.run;
  std::string first_bootstrap;
  auto output = [&](const char *flag, const char *role,
                    const std::optional<std::string> &where) -> int {
    if (!where || !runtime::kafka::isKafkaUrl(*where)) {
      return kOk;
    }
    KafkaUrl url;
    if (!runtime::kafka::parseKafkaUrl(*where, KafkaUrl::Output, url, error)) {
      return usage(std::string(flag) + " " + error);
    }
    outputs_.push_back(*where);
    output_roles_.emplace_back(role, *where);
    if (options.state_dir && url.bootstrap() != first_bootstrap) {
      if (first_bootstrap.empty()) {
        first_bootstrap = url.bootstrap();
      } else {
        return usage(std::string(flag) + " " + *where +
                     ": with --state the Kafka outputs are written in one transaction per "
                     "checkpoint, so they must be on the same brokers as " +
                     outputs_.front());
      }
    }
    return kOk;
  };
  if (int code = output("--output", "matches", run.output); code != kOk) {
    return code;
  }
  if (int code = output("--dead-letter", "dead letters", run.dead_letter); code != kOk) {
    return code;
  }
  if (int code = output("--late-output", "late events", run.late_output); code != kOk) {
    return code;
  }
  if (run.evicted_output && runtime::kafka::isKafkaUrl(*run.evicted_output)) {
    return usage("--evicted-output: a file only (Kafka outputs are -o, --dead-letter and "
                 "--late-output)");
  }
  if (options.idle_timeout == "0") {
    idle_timeout_ms_ = 0;
  } else if (!runtime::parseDuration(options.idle_timeout, idle_timeout_ms_) ||
             idle_timeout_ms_ < 0) {
    return usage("--idle-timeout " + options.idle_timeout +
                 ": expected a duration such as 5s or 500ms (0: never)");
  }
  if (!runtime::parseDuration(options.rule_history_retention, rule_history_retention_ms_) ||
      rule_history_retention_ms_ <= 0) {
    return usage("--rule-history-retention " + options.rule_history_retention +
                 ": expected a duration of event time such as 24h or 90m (more than 0)");
  }
  if (options.kafka_config) {
    if (!runtime::kafka::readKafkaConfig(*options.kafka_config, config_, error) ||
        !runtime::kafka::checkKafkaConfig(config_, error)) {
      return usage("--kafka-config: " + error);
    }
    has_config_ = true;
    for (const runtime::kafka::KafkaProperty &property : config_.properties) {
      if (property.key == "transactional.id" && !options.state_dir) {
        return usage("--kafka-config: " + config_.path + ":" + std::to_string(property.line) +
                     ": transactional.id: transactions come with --state (one per checkpoint, "
                     "docs/kafka.md \"Exactly once\"); without it the output is at least once");
      }
    }
  }
  if (!any()) {
    if (options.repartition || options.repartition_partitions != 0) {
      return usage("--repartition is for a kafka:// input; none is given");
    }
    if (options.kafka_config) {
      return usage("--kafka-config is for kafka:// inputs and outputs; none is given");
    }
    return kOk;
  }
  if (options.from_savepoint) {
    return usage("--from-savepoint with a kafka:// input or output: not yet (docs/kafka.md); "
                 "restart from a --state folder instead");
  }
  state_ = options.state_dir.has_value();
  if (options.scale_out) {
    // docs/kafka.md "Scale-out": the partitions' state moves through the changelog topic, which
    // needs the transactional output of --state and one input topic.
    if (!state_ || inputs_.size() != 1 || outputs_.empty() ||
        !runtime::kafka::isKafkaUrl(run.output)) {
      return usage("--scale-out needs --state DIR, exactly one kafka:// input and a kafka:// "
                   "--output: a partition's state moves between processes through the changelog "
                   "topic <group>-state, written in each checkpoint's transaction "
                   "(docs/kafka.md \"Scale-out\")");
    }
    scale_out_ = true;
    state_dir_ = *options.state_dir;
  }
  if (options.repartition_partitions != 0 && !options.repartition) {
    return usage("--repartition-partitions is for --repartition");
  }
  if (options.repartition) {
    if (int code = takeRepartition(options); code != kOk) {
      return code;
    }
  }
  plan.inputs = std::move(file_inputs);
  if (files.dead_letter && runtime::kafka::isKafkaUrl(*files.dead_letter)) {
    files.dead_letter.reset();
  }
  if (files.late_output && runtime::kafka::isKafkaUrl(*files.late_output)) {
    files.late_output.reset();
  }
  return kOk;
}

bool ServeKafka::openInputs(runtime::Inputs &inputs, const runtime::Schema &schema,
                            runtime::metrics::Registry &registry, std::size_t max_record_bytes,
                            std::string &error) {
  if (repartition() && !openRepartition(inputs, registry, error)) {
    return false;
  }
  for (const Input &input : inputs_) {
    std::int32_t bound = -1;
    if (!input.type_name.empty()) {
      bound = schema.typeIndex(input.type_name);
      if (bound < 0) {
        error = "--input " + input.url.text + ":" + input.type_name + ": unknown event type `" +
                input.type_name + "`";
        return false;
      }
    }
    runtime::kafka::KafkaSourceOptions options;
    options.url = input.url;
    options.config = has_config_ ? &config_ : nullptr;
    options.idle_timeout_ms = idle_timeout_ms_;
    options.max_record_bytes = max_record_bytes;
    options.registry = &registry;
    if (auto at = resume_.find(input.url.topic); at != resume_.end()) {
      options.resume_at = at->second;
    }
    options.commit_offsets = !transactional(); // else in each checkpoint's transaction
    // --state alone: one process per group, no join, no rebalance; --scale-out: the group's
    // members share the partitions, their state moving with them (serve_kafka_group.cpp).
    options.assign_all = state_ && !scale_out_;
    if (scale_out_) {
      options.cooperative = true;
      options.hooks.revoking = [this](const std::vector<std::int32_t> &partitions, bool lost) {
        onRevoking(partitions, lost);
      };
      options.hooks.assigned = [this](const std::vector<std::int32_t> &partitions) {
        return onAssigned(partitions);
      };
    }
    options.check_key_partition = changelog(); // keys' state goes by the default partitioner
    if (changelog()) {
      options.skip_message = [this](std::int32_t partition, std::int64_t offset,
                                    const runtime::Line &line) {
        // What its previous owner matched is skipped; a partition catching up gets the rest.
        // Both change the served matchers or write records: with --workers N, every worker
        // first stops at the step the loop has reached (the barrier, docs/serve.md "Workers").
        if ((!held_ahead_.empty() || catch_up_.count(partition) != 0) && loop_ != nullptr &&
            !loop_->syncWorkers()) {
          return false; // the output failed: the loop stops at its next record
        }
        if (!held_ahead_.empty()) {
          restoreHeldDrain(nullptr); // a drain applied or overdue (serve_kafka_hold_drain.cpp)
          restoreHeld(nullptr);      // a held deploy overdue (serve_kafka_rule_history.cpp)
        }
        return skipReplayed(partition, offset, line) || feedCatchUp(partition, line);
      };
      options.on_keyed_message = [this](std::int32_t partition, std::int64_t offset,
                                        std::string_view key, const runtime::Line &line) {
        checkMessageKey(partition, offset, key, line);
      };
    }
    std::unique_ptr<runtime::kafka::KafkaSource> source =
        runtime::kafka::KafkaSource::open(options, error);
    if (!source) {
      return false;
    }
    sources_.push_back(source.get());
    if (repartition()) { // the first stage's watermarks, combined (serve_kafka_watermarks.hpp)
      auto combined = std::make_unique<RepartitionedSource>(
          std::move(source), repartition_source_->splits(), &registry);
      repartitioned_ = combined.get();
      for (const auto &[partition, state] : folder_heard_) { // the checkpoint's (resumeFrom)
        repartitioned_->restore(partition, state);
      }
      folder_heard_.clear();
      inputs.addSource(std::move(combined), bound);
      continue;
    }
    inputs.addSource(std::move(source), bound);
  }
  return true;
}

std::unique_ptr<runtime::OutputSink> ServeKafka::openOutput(const std::string &where,
                                                            runtime::metrics::Registry &registry,
                                                            std::string &error) {
  runtime::kafka::KafkaSinkOptions options;
  if (!runtime::kafka::parseKafkaUrl(where, runtime::kafka::KafkaUrl::Output, options.url, error)) {
    return nullptr;
  }
  options.config = has_config_ ? &config_ : nullptr;
  options.registry = &registry;
  options.producer = producer_; // with --state: the transactional one, shared
  std::shared_ptr<runtime::kafka::KafkaSink> sink = runtime::kafka::KafkaSink::open(options, error);
  if (!sink) {
    return nullptr;
  }
  return runtime::OutputSink::toRecords(
      where, [sink](std::string_view record, std::string &why) { return sink->write(record, why); },
      [sink] { sink->close(); });
}

bool ServeKafka::openSideOutputs(SideOutputs &sides, const RunOptions &run,
                                 runtime::metrics::Registry &registry, std::string &error) {
  auto open = [&](SideOutput &side, const std::optional<std::string> &where) {
    if (!where || !runtime::kafka::isKafkaUrl(*where)) {
      return true;
    }
    side.sink = openOutput(*where, registry, error);
    if (!side.sink) {
      return false;
    }
    side.stream = std::make_unique<runtime::SinkStream>(*side.sink);
    return true;
  };
  return open(sides.dead, run.dead_letter) && open(sides.late, run.late_output);
}

} // namespace cep::cli
