// `cep serve --state DIR` (docs/state.md): what the command adds around the serve runtime's
// checkpoints: the inputs and outputs a durable server can have, the outputs continued at
// their checkpointed lengths, the inputs at their positions, and what a checkpoint records of
// them.
#pragma once

#include "cli/commands.hpp"
#include "cli/run_shared.hpp"
#include "runtime/engine/output_sink.hpp"
#include "runtime/io/inputs.hpp"
#include "service/serve_checkpoint.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cep::cli {

// --checkpoint-every: "0" or a duration (100ms, 1s). False with `error`.
bool parseCheckpointEvery(const std::string &text, std::int64_t &ms, std::string &error);

// Inputs a checkpoint can resume (regular files) and a main output it can cut back (a file,
// not stdout); "" when they are, else the one-line reason.
std::string durableIoProblem(const RunOptions &run, const RunPlan &plan);

// The checkpoint's output length for `role` written to `path`; nullopt when it had none (the
// output is new: created). Throws std::runtime_error when it wrote `role` to another path.
std::optional<std::uint64_t> checkpointedLength(const service::ServeMeta &meta,
                                                const std::string &role, const std::string &path);

// Throws std::runtime_error when an output the checkpoint recorded goes to another path now.
void checkOutputPaths(const service::ServeMeta &meta, const RunOptions &run);

// The outputs of a restored server: each continued at its checkpointed length (or created).
// Null / false with `error` when one cannot be (shorter than its length, another path).
std::unique_ptr<runtime::OutputSink> openMainOutputAt(const service::ServeMeta &meta,
                                                      const std::string &path, std::string &error);
bool openSideOutputsAt(SideOutputs &sides, const service::ServeMeta &meta, const RunOptions &run,
                       const RunPlan &plan, std::string &error);

// The checkpoint's position of each input (by name, in --input order; nullopt for one it did
// not have). Throws std::runtime_error when the inputs are not the checkpoint's. `source` names
// where `meta` comes from in the reasons ("checkpoint", "savepoint") and `instead` what else the
// user can do ("start with another --state folder").
std::vector<std::optional<runtime::InputPosition>>
checkpointedPositions(const service::ServeMeta &meta, const std::vector<runtime::InputSpec> &specs,
                      const std::string &source = "checkpoint",
                      const std::string &instead = "start with another --state folder");

// A savepoint is portable: its inputs are recognised by their bytes (the fingerprints before
// each position, file_identity.hpp), not by the device and inode they had where it was taken
// (a copy elsewhere is the same input). Sets those of each seekable position to the file's at
// its spec's path now, so that only the bytes are compared.
void portableInputIdentities(std::vector<std::optional<runtime::InputPosition>> &at,
                             const std::vector<runtime::InputSpec> &specs);

// Fills a savepoint's input positions (ServeRuntimeOptions::describe_inputs).
void describeInputs(service::ServeMeta &meta, const runtime::Inputs &inputs);

// Fills a checkpoint's inputs and outputs (on the loop thread): every output flushed, its
// length recorded.
void describeIo(service::ServeMeta &meta, const runtime::Inputs &inputs, runtime::OutputSink &out,
                const std::string &out_path, SideOutputs &sides, const RunOptions &run);

// fdatasync of every output (on the checkpoint thread, before the commit: the lengths a
// checkpoint records are on disk before it is). False with `error` when one failed.
bool syncOutputs(runtime::OutputSink &out, SideOutputs &sides, std::string &error);

} // namespace cep::cli
