// `cep serve --state DIR`: inputs, outputs and what checkpoints record of them (serve_state.hpp).
#include "cli/serve_state.hpp"

#include "runtime/kafka/kafka_url.hpp"
#include "runtime/time/time_format.hpp"

#include <stdexcept>
#include <sys/stat.h>

namespace cep::cli {

namespace {

const char *const kMatches = "matches";
const char *const kDead = "dead letters";
const char *const kLate = "late events";
const char *const kEvicted = "evicted runs";

bool openSideAt(SideOutput &side, const service::ServeMeta &meta, const char *role,
                const std::optional<std::string> &path, std::string &error) {
  if (!path) {
    return true;
  }
  std::optional<std::uint64_t> length;
  try {
    length = checkpointedLength(meta, role, *path);
  } catch (const std::runtime_error &e) {
    error = e.what();
    return false;
  }
  if (!length) {
    return side.open(path, error);
  }
  side.sink = runtime::OutputSink::openAt(*path, *length, error);
  if (!side.sink) {
    return false;
  }
  side.stream = std::make_unique<runtime::SinkStream>(*side.sink);
  return true;
}

void mark(service::ServeMeta &meta, const char *role, const std::string &path,
          runtime::OutputSink &sink) {
  sink.flush(); // a failure is the sink's error: the run stops on it (synced by syncOutputs)
  meta.outputs.push_back({role, path, sink.bytesWritten()});
}

} // namespace

bool parseCheckpointEvery(const std::string &text, std::int64_t &ms, std::string &error) {
  if (text == "0") {
    ms = 0;
    return true;
  }
  if (!runtime::parseDuration(text, ms, &error)) {
    return false;
  }
  if (ms <= 0) {
    error = "expected 0 or a positive duration such as 100ms or 1s";
    return false;
  }
  return true;
}

std::string durableIoProblem(const RunOptions &run, const RunPlan &plan) {
  if (run.output == "-") {
    return "--state needs -o FILE: the output is cut back to its checkpointed length when the "
           "server restarts, which standard output cannot be";
  }
  for (const runtime::InputSpec &input : plan.inputs) {
    struct stat st {};
    if (input.path == "-") {
      return "--state needs inputs that can be read again from a position (regular files): "
             "standard input cannot";
    }
    if (::stat(input.path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
      return "--state needs inputs that can be read again from a position (regular files): \"" +
             input.path + "\" is " + (S_ISFIFO(st.st_mode) ? "a named pipe" : "not a regular file");
    }
  }
  return "";
}

std::optional<std::uint64_t> checkpointedLength(const service::ServeMeta &meta,
                                                const std::string &role, const std::string &path) {
  for (const service::OutputMark &output : meta.outputs) {
    if (output.role != role) {
      continue;
    }
    if (output.path != path) {
      throw std::runtime_error("the checkpoint's " + role + " went to \"" + output.path +
                               "\", this server writes them to \"" + path +
                               "\": give the same path (or start with another --state folder)");
    }
    return output.length;
  }
  return std::nullopt;
}

void checkOutputPaths(const service::ServeMeta &meta, const RunOptions &run) {
  if (!runtime::kafka::isKafkaUrl(run.output)) { // Kafka outputs: ServeKafka::resumeFrom
    checkpointedLength(meta, kMatches, run.output);
  }
  const std::pair<const char *, const std::optional<std::string> *> sides[] = {
      {kLate, &run.late_output}, {kDead, &run.dead_letter}, {kEvicted, &run.evicted_output}};
  for (const auto &[role, path] : sides) {
    if (*path && !runtime::kafka::isKafkaUrl(**path)) {
      checkpointedLength(meta, role, **path);
    }
  }
}

std::unique_ptr<runtime::OutputSink> openMainOutputAt(const service::ServeMeta &meta,
                                                      const std::string &path, std::string &error) {
  std::optional<std::uint64_t> length;
  try {
    length = checkpointedLength(meta, kMatches, path);
  } catch (const std::runtime_error &e) {
    error = e.what();
    return nullptr;
  }
  return length ? runtime::OutputSink::openAt(path, *length, error)
                : runtime::OutputSink::open(path, error);
}

bool openSideOutputsAt(SideOutputs &sides, const service::ServeMeta &meta, const RunOptions &run,
                       const RunPlan &plan, std::string &error) {
  if (!openSideAt(sides.late, meta, kLate, run.late_output, error) ||
      !openSideAt(sides.dead, meta, kDead, run.dead_letter, error) ||
      !openSideAt(sides.evicted, meta, kEvicted, run.evicted_output, error)) {
    return false;
  }
  if (plan.evictions) {
    plan.evictions->setRecords(sides.evicted.get());
  }
  return true;
}

std::vector<std::optional<runtime::InputPosition>>
checkpointedPositions(const service::ServeMeta &meta, const std::vector<runtime::InputSpec> &specs,
                      const std::string &source, const std::string &instead) {
  if (meta.inputs.size() != specs.size()) {
    throw std::runtime_error("the " + source + " was taken with " +
                             std::to_string(meta.inputs.size()) + " inputs, this server has " +
                             std::to_string(specs.size()) + ": give the same -i inputs (or " +
                             instead + ")");
  }
  std::vector<std::optional<runtime::InputPosition>> at;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    if (meta.inputs[i].name != specs[i].path) {
      throw std::runtime_error("input " + std::to_string(i + 1) + " of the " + source + " is \"" +
                               meta.inputs[i].name + "\", this server's is \"" + specs[i].path +
                               "\": give the same -i inputs in the same order (or " + instead +
                               ")");
    }
    at.push_back(meta.inputs[i].position);
  }
  return at;
}

void portableInputIdentities(std::vector<std::optional<runtime::InputPosition>> &at,
                             const std::vector<runtime::InputSpec> &specs) {
  for (std::size_t i = 0; i < at.size() && i < specs.size(); ++i) {
    struct stat st {};
    if (at[i] && at[i]->identity.seekable && ::stat(specs[i].path.c_str(), &st) == 0) {
      at[i]->identity.device = static_cast<std::uint64_t>(st.st_dev);
      at[i]->identity.inode = static_cast<std::uint64_t>(st.st_ino);
    }
  }
}

void describeInputs(service::ServeMeta &meta, const runtime::Inputs &inputs) {
  std::vector<std::string> names = inputs.names();
  for (std::uint32_t i = 0; i < inputs.size(); ++i) {
    if (inputs.source(i) != nullptr) {
      continue; // a Kafka partition: in the checkpoint's Kafka part (ServeKafka::describe)
    }
    service::InputMark &input = meta.inputs.emplace_back();
    input.name = names[i];
    input.position = inputs.position(i);
  }
}

void describeIo(service::ServeMeta &meta, const runtime::Inputs &inputs, runtime::OutputSink &out,
                const std::string &out_path, SideOutputs &sides, const RunOptions &run) {
  describeInputs(meta, inputs);
  // Kafka outputs have no length: their records since the checkpoint are in its transaction.
  if (!runtime::kafka::isKafkaUrl(out_path)) {
    mark(meta, kMatches, out_path, out);
  }
  if (sides.late.sink && !runtime::kafka::isKafkaUrl(*run.late_output)) {
    mark(meta, kLate, *run.late_output, *sides.late.sink);
  }
  if (sides.dead.sink && !runtime::kafka::isKafkaUrl(*run.dead_letter)) {
    mark(meta, kDead, *run.dead_letter, *sides.dead.sink);
  }
  if (sides.evicted.sink) {
    mark(meta, kEvicted, *run.evicted_output, *sides.evicted.sink);
  }
}

bool syncOutputs(runtime::OutputSink &out, SideOutputs &sides, std::string &error) {
  for (runtime::OutputSink *sink :
       {&out, sides.late.sink.get(), sides.dead.sink.get(), sides.evicted.sink.get()}) {
    if (sink != nullptr && !sink->syncWritten(error)) {
      return false;
    }
  }
  return true;
}

} // namespace cep::cli
