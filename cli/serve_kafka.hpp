// Kafka inputs and outputs of `cep serve` (docs/kafka.md): the `kafka://` arguments of -i, -o,
// --dead-letter and --late-output taken out of the file plan, checked before anything is opened
// (URLs, --kafka-config, --idle-timeout; exit 2 with the reason), then opened: each input topic
// as a RecordSource appended to the Inputs (one input per partition), each output topic as an
// OutputSink whose records are messages (runtime/kafka/).
//
//   ServeKafka kafka;
//   if (int code = kafka.take(options, plan, run_copy); code != kOk) return code; // before files
//   ...
//   if (!kafka.openInputs(inputs, schema, registry, max_record_bytes, error)) ...  // after open()
//   auto out = kafka.isOutput(run.output) ? kafka.openOutput(run.output, registry, error) : ...;
#pragma once

#include "cli/commands.hpp"
#include "cli/run_shared.hpp"
#include "runtime/engine/output_sink.hpp"
#include "runtime/io/inputs.hpp"
#include "runtime/kafka/kafka_config.hpp"
#include "runtime/kafka/kafka_url.hpp"
#include "runtime/metrics/registry.hpp"
#include "runtime/schema.hpp"

#include <memory>
#include <string>
#include <vector>

namespace cep::cli {

class ServeKafka {
public:
  // Moves the kafka:// inputs out of `plan.inputs` and clears the kafka:// side outputs of
  // `files` (a copy of the run options the side outputs are opened from), checking every URL,
  // --kafka-config (read and checked by librdkafka) and --idle-timeout. kOk, or the exit code
  // after printing why. Refuses Kafka with --state or --from-savepoint (not yet: docs/kafka.md).
  int take(const ServeOptions &options, RunPlan &plan, RunOptions &files);

  bool any() const { return !inputs_.empty() || !outputs_.empty(); }
  bool hasInputs() const { return !inputs_.empty(); }
  bool isOutput(const std::string &where) const { return runtime::kafka::isKafkaUrl(where); }

  // Appends a source per input topic to `inputs` (after Inputs::open of the files). False with
  // `error` when a topic cannot be read (brokers down, no such topic).
  bool openInputs(runtime::Inputs &inputs, const runtime::Schema &schema,
                  runtime::metrics::Registry &registry, std::size_t max_record_bytes,
                  std::string &error);
  // An output topic as a sink of records. Null with `error` when it cannot be written.
  std::unique_ptr<runtime::OutputSink>
  openOutput(const std::string &where, runtime::metrics::Registry &registry, std::string &error);
  // Opens the Kafka side outputs taken out by take() into `sides`.
  bool openSideOutputs(SideOutputs &sides, const RunOptions &run,
                       runtime::metrics::Registry &registry, std::string &error);

private:
  struct Input {
    runtime::kafka::KafkaUrl url;
    std::string type_name; // bound with URL:Type; empty: none
  };
  std::vector<Input> inputs_;
  std::vector<std::string> outputs_; // every kafka:// output given
  runtime::kafka::KafkaConfig config_;
  bool has_config_ = false;
  std::int64_t idle_timeout_ms_ = 0;
};

} // namespace cep::cli
