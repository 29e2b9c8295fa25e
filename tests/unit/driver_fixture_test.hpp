// Shared by driver_pipeline_test.cpp and artifact_load_test.cpp: rule files and event files in a
// fresh temporary folder, events decoded through the runtime's reader, and matchers run over
// them the way the run loop would (advanceTime before a new time, onEvent, finish).
#pragma once

#include "runtime/io/jsonl_decoder.hpp"
#include "runtime/io/line_reader.hpp"
#include "runtime/matcher.hpp"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <unistd.h>
#include <vector>

namespace cep::test {

// A folder under the system temp directory, removed with everything in it when destroyed.
class TempDir {
public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("cep_driver_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;
  // Writes `text` to `name` in the folder; returns its path.
  std::string write(const std::string &name, const std::string &text) const {
    std::string file = (path_ / name).string();
    std::ofstream(file, std::ios::binary) << text;
    return file;
  }

private:
  std::filesystem::path path_;
};

// Two amounts a user raises: `threshold` is the first step's bar (a different bar is a
// different program, so a different artifact).
inline std::string raiseRules(const std::string &threshold = "100.0") {
  return "event Tx { user: string, amount: float, time: time }\n"
         "pattern raise partition by user within 1h {\n"
         "    a: Tx(amount > " +
         threshold +
         ") -> b: Tx(amount > a.amount)\n"
         "}\n"
         "emit Raise { user: a.user, first: a.amount, second: b.amount }\n";
}

// `users` users with two Tx each (150 then 250), one second apart: one match a user under
// raiseRules("100.0").
inline std::string raiseEvents(int users) {
  std::string out;
  for (int round = 0; round < 2; ++round) {
    for (int u = 0; u < users; ++u) {
      out += "{\"user\":\"u" + std::to_string(u) + "\",\"amount\":" + (round == 0 ? "150" : "250") +
             ".0,\"time\":" + std::to_string((round * users + u) * 1000) + "}\n";
    }
  }
  return out;
}

// Every event of the JSONL file at `path`, decoded against `schema` (in arrival order, which
// is time order in raiseEvents).
inline std::vector<runtime::EventRef> decodeEvents(const std::string &path,
                                                   const runtime::Schema &schema) {
  runtime::LineReader reader(path);
  runtime::JsonlDecoder decoder(schema);
  std::vector<runtime::EventRef> events;
  runtime::Line line;
  std::uint64_t seq = 0;
  while (reader.next(line) == runtime::ReadStatus::Line) {
    runtime::RecordContext context;
    context.line = line.number;
    context.seq = seq++;
    context.bound_type = 0; // the records name no @type: all are the first type
    runtime::DecodeResult result = decoder.decode(line, context);
    if (result.status == runtime::DecodeStatus::Event) {
      events.push_back(std::move(result.event));
    }
  }
  return events;
}

// The records `matchers` write over `events`, sorted as the run loop writes them.
inline std::vector<std::string>
runMatchers(const std::vector<std::unique_ptr<runtime::Matcher>> &matchers,
            const std::vector<runtime::EventRef> &events) {
  std::vector<runtime::MatchOutput> outputs;
  std::int64_t time = INT64_MIN;
  for (const runtime::EventRef &event : events) {
    if (event->time != time) {
      time = event->time;
      for (const auto &matcher : matchers) {
        matcher->advanceTime(time, outputs);
      }
    }
    for (const auto &matcher : matchers) {
      const std::vector<std::uint32_t> &types = matcher->eventTypes();
      if (std::find(types.begin(), types.end(), event->type) != types.end()) {
        matcher->onEvent(event, outputs);
      }
    }
  }
  for (const auto &matcher : matchers) {
    matcher->finish(outputs);
  }
  std::stable_sort(outputs.begin(), outputs.end(), runtime::MatchOutput::before);
  std::vector<std::string> records;
  for (const auto &output : outputs) {
    records.push_back(output.json);
  }
  return records;
}

} // namespace cep::test
