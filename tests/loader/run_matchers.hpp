// What the loader tests (loader_only_test.cpp, loader_lean_test.cpp) and the object linker's unit
// tests (tests/unit/object_linker_test.cpp) share: what matchers write for the records of one
// file, as `cep run` writes them, which each compares with a reference; a fixture's bytes.
//
//   auto owned = loaded.makeMatchers({});
//   CHECK(cep::test::runMatchers(*loaded.schema, owned, "events.jsonl", 2000) == expected);
#pragma once

#include "runtime/engine/output_sink.hpp"
#include "runtime/engine/run_loop.hpp"
#include "runtime/matcher.hpp"
#include "runtime/schema.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

namespace cep::test {

// Every record `owned` (matchers over `schema`) write for the records of the file `events`, with
// `max_delay_ms` of allowed out-of-orderness; fails the test when the run does.
inline std::string runMatchers(const runtime::Schema &schema,
                               const std::vector<std::unique_ptr<runtime::Matcher>> &owned,
                               const std::string &events, std::int64_t max_delay_ms = 0) {
  std::vector<runtime::Matcher *> matchers;
  for (const auto &m : owned) {
    matchers.push_back(m.get());
  }
  std::string output;
  runtime::OutputSink sink(output);
  runtime::RunOptions options;
  options.max_delay_ms = max_delay_ms;
  runtime::RunResult result = runtime::run(schema, matchers, {{events, ""}}, sink, options);
  INFO(result.message);
  REQUIRE(result.status == runtime::RunStatus::Ok);
  REQUIRE(sink.flush());
  return output;
}

// The bytes of the file at `path`; fails the test when it cannot be read (the .cepo fixtures are
// made by the ctest fixture loader.fixtures).
inline std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  INFO(path << " (made by the ctest fixture loader.fixtures: ctest -R loader)");
  REQUIRE(in.good());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

} // namespace cep::test
