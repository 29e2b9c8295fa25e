// Savepoints of `cep serve` (docs/state.md "Savepoints"; the file: savepoint.hpp): one taken on
// the loop thread between two released events, and a server started from one.
#include "runtime/engine/run_loop.hpp"
#include "runtime/io/json_writer.hpp"
#include "runtime/native/native_aggregate.hpp"
#include "runtime/state/key_record.hpp"
#include "runtime/state/matcher_state.hpp"
#include "runtime/time/time_format.hpp"
#include "service/savepoint.hpp"
#include "service/serve_runtime.hpp"
#include "service/serve_served.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <stdexcept>

namespace cep::service {

ControlResult ServeRuntime::takeSavepoint(runtime::RunLoop &loop, std::string &bytes) {
  auto started = std::chrono::steady_clock::now();
  auto refuse = [&](int status, const char *outcome, const std::string &why) {
    metrics_.savepoints(outcome).add();
    options_.log("savepoint " + std::string(outcome) + ": " + why);
    return ControlResult{status, errorJson(why)};
  };
  if (!options_.describe_inputs) {
    return refuse(500, "failed", "the server does not know its inputs' positions");
  }
  Savepoint sp;
  options_.describe_inputs(sp.meta);
  for (const InputMark &input : sp.meta.inputs) {
    if (!input.position.identity.seekable) {
      return refuse(409, "refused",
                    "input " + input.name +
                        " is a stream (stdin, a pipe or a FIFO): a server started from a "
                        "savepoint could not resume it at its position; serve regular files "
                        "(--follow) to take savepoints");
    }
  }
  // The outputs hold everything before the cut (a server started from the savepoint writes
  // what comes after it).
  if (!loop.flush()) {
    return refuse(500, "failed", "the outputs could not be written: " + loop.message());
  }
  std::vector<InputMark> inputs = std::move(sp.meta.inputs);
  describeServer(loop, sp.meta);
  sp.meta.inputs = std::move(inputs);
  std::vector<const Served *> order;
  for (const auto &served : served_) {
    order.push_back(served.get());
  }
  std::sort(order.begin(), order.end(),
            [](const Served *a, const Served *b) { return a->id < b->id; });
  std::uint64_t keys = 0, runs = 0;
  for (const Served *served : order) {
    // The whole state (exportState is const: the changes --state has not checkpointed yet stay
    // for its next checkpoint).
    ServedState &s = sp.meta.served.emplace_back(servedState(*served));
    if (served->aggregate) {
      // Window state: the aggregate's own key records (runtime/native/native_aggregate.hpp).
      runtime::MatcherChanges whole;
      runtime::native::exportAggregateRecords(*served->matcher, whole);
      s.matcher_header = std::move(whole.header);
      std::vector<std::string> &records = sp.records.emplace_back();
      for (auto &[key, record] : whole.put) {
        records.push_back(std::move(record));
      }
      keys += records.size();
    } else {
      runtime::MatcherState state;
      served->matcher->exportState(state);
      runtime::encodeMatcherHeader(runtime::headerOf(state), s.matcher_header);
      sp.records.push_back(runtime::encodeKeyRecords(state));
      keys += state.keys.size();
      runs += state.runCount();
    }
    bool stored = std::any_of(sp.artifacts.begin(), sp.artifacts.end(),
                              [&](const SavedArtifact &a) { return a.hash == served->hash; });
    if (!stored) {
      sp.artifacts.push_back({served->hash, *served->artifact_bytes});
    }
  }
  std::sort(sp.artifacts.begin(), sp.artifacts.end(),
            [](const SavedArtifact &a, const SavedArtifact &b) { return a.hash < b.hash; });
  encodeSavepoint(sp, bytes);

  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  metrics_.savepoints("done").add();
  metrics_.savepointDuration().observe(seconds);
  metrics_.lastSavepointBytes().set(static_cast<double>(bytes.size()));
  std::string summary = "{\"format_version\":";
  runtime::appendJsonInt(summary, kSavepointVersion);
  summary += ",\"bytes\":";
  runtime::appendJsonInt(summary, static_cast<std::int64_t>(bytes.size()));
  summary += ",\"patterns\":";
  runtime::appendJsonInt(summary, static_cast<std::int64_t>(order.size()));
  summary += ",\"keys\":";
  runtime::appendJsonInt(summary, static_cast<std::int64_t>(keys));
  summary += ",\"partial_matches\":";
  runtime::appendJsonInt(summary, static_cast<std::int64_t>(runs));
  summary += ",\"pause_seconds\":";
  runtime::appendJsonFloat(summary, seconds);
  summary += '}';
  options_.log("savepoint taken: " + std::to_string(bytes.size()) + " bytes, " +
               std::to_string(order.size()) + " pattern versions, " + std::to_string(keys) +
               " keys, " + std::to_string(runs) + " partial matches; the event loop paused " +
               std::to_string(seconds * 1e6) + " us");
  return {200, summary};
}

void ServeRuntime::restoreFromSavepoint(
    const Savepoint &savepoint, ServeMeta &meta, std::string &report,
    const std::vector<std::pair<std::string, std::string>> &instead) {
  meta = savepoint.meta;
  std::size_t index = 0;
  std::vector<std::string> hosted; // "pattern (NAME)": states another artifact took
  std::string restored = restoreServed(
      meta,
      [&](const ServedState &s) -> std::shared_ptr<Loaded> {
        const SavedArtifact *saved = savepoint.artifact(s.artifact_hash);
        if (saved == nullptr) { // decodeSavepoint checked it
          throw std::runtime_error("the artifact " + s.artifact_hash + " is missing");
        }
        try {
          std::shared_ptr<Loaded> artifact = load(
              saved->bytes, "the savepoint's " + s.version + " of pattern `" + s.pattern + "`");
          if (artifact->artifact.hash != s.artifact_hash) {
            throw std::runtime_error("the artifact saved as " + s.artifact_hash + " hashes to " +
                                     artifact->artifact.hash);
          }
          return artifact;
        } catch (const compiler::artifact::LoadError &e) {
          if (!e.user()) {
            throw;
          }
          // Compiled code of another build: the rules given at start that declare the pattern
          // take its state (by name), else the start is refused with what to do.
          for (const auto &[name, bytes] : instead) {
            std::shared_ptr<Loaded> artifact = load(bytes, name);
            const std::vector<std::string> &names = artifact->names;
            if (std::find(names.begin(), names.end(), s.pattern) != names.end()) {
              hosted.push_back(s.pattern + " (" + name + ")");
              options_.log("the savepoint's artifact " + s.version + " cannot be loaded (" +
                           e.what() + "): its state goes into " + name);
              return artifact;
            }
          }
          throw std::runtime_error(std::string(e.what()) +
                                   "; this build cannot load the savepoint's compiled code of "
                                   "pattern `" +
                                   s.pattern +
                                   "`: give rules or an artifact that declare it (compiled by "
                                   "this build) to take its state");
        }
      },
      [&](const ServedState &) { return savepoint.records.at(index++); },
      /*persisted=*/false);
  report =
      "restored the savepoint taken " + runtime::formatRfc3339(meta.taken_at) + ": " + restored;
  for (std::size_t i = 0; i < hosted.size(); ++i) {
    report += (i == 0 ? "; state moved into the artifacts given (this build cannot load the "
                        "saved ones): "
                      : ", ") +
              hosted[i];
  }
}

} // namespace cep::service
