// Input partitions' keyed state brought into the served matchers (ServeRuntime::
// restorePartitions, docs/kafka.md "The changelog topic").
#include "runtime/engine/run_loop.hpp"
#include "runtime/state/partition_state.hpp"
#include "service/serve_runtime.hpp"
#include "service/serve_served.hpp"

#include <stdexcept>

namespace cep::service {

void ServeRuntime::exportWholeNext() {
  for (const auto &served : served_) {
    served->persisted_as.reset(); // serve_durable.cpp: written whole, under its id
  }
}

std::vector<std::string> ServeRuntime::restorePartitions(
    runtime::RunLoop &loop, const std::map<std::string, std::vector<std::string_view>> &records) {
  std::vector<std::string> lines;
  std::uint64_t next_seq = loop.ingest().nextSeq();
  for (const auto &served : served_) {
    auto it = records.find(served->name);
    if (it == records.end() || it->second.empty() || served->draining) {
      continue;
    }
    runtime::Matcher &m = *served->matcher;
    if (m.stats().events != 0 || m.stats().live_keys != 0) {
      throw std::runtime_error("pattern " + served->name + " " + served->version +
                               " has seen events: partitions restore into fresh matchers only");
    }
    runtime::MatcherState empty;
    m.exportState(empty);
    runtime::MatcherState merged;
    try {
      merged = runtime::withKeys(empty, it->second, next_seq);
    } catch (const std::exception &e) {
      throw std::runtime_error("pattern " + served->name + " " + served->version + ": " + e.what());
    }
    m.restoreState(merged);
    lines.push_back(served->name + " " + served->version + ": " +
                    std::to_string(merged.keys.size()) + " keys, " +
                    std::to_string(merged.runCount()) + " partial matches");
  }
  for (const auto &[name, list] : records) {
    bool served_here = false;
    for (const auto &served : served_) {
      served_here = served_here || (served->name == name && !served->draining);
    }
    if (!served_here && !list.empty()) {
      lines.push_back(name + ": not served here: its " + std::to_string(list.size()) +
                      " keys are not restored");
    }
  }
  loop.ingest().raiseNextSeq(next_seq);
  return lines;
}

} // namespace cep::service
