// Checks the `test` declarations of a checked program (proposed spec §10,
// docs/spec-proposal-tests.md) and turns them into what `cep test` runs. Only `cep check` and
// `cep test` call it: `cep run`, `cep compile` and `cep serve` parse test declarations and
// ignore them, so a test never reaches an engine or an artifact.
//
// What is checked, each error with a caret and a fix:
//  - the rules under test (`for a, b`) exist; without `for` they are the rules the test's file
//    declares, or, in a file that declares none (tests apart, importing the rules), every rule;
//  - the options (`--max-delay D`, `--with-events`, `--at-end fire|drop`, `--order sort`);
//  - one `input`: a file (relative to the test's file, readable) or inline records, each valid
//    JSON of a declared event type with its fields of their types;
//  - one `expect` (records or `none`) and at most one `expect late`: valid JSON; an expected
//    record's fields belong to the output record of a rule under test, with values of the
//    field's type (null always fits: timeouts and aggregates write nulls); its `@` members are
//    the output's (`@stream @pattern @key @start @end @timeout @at_end @revision @events
//    @events_omitted`); an expected late record is an input record that may leave out fields
//    (and `@type`).
//
//   lang::Frontend front = lang::loadProgram(files, sources, diags);
//   if (front.program) {
//     std::vector<lang::CheckedTest> tests = lang::checkTests(front.modules, *front.program,
//                                                              sources, diags);
//     // diags: the tests' errors; `tests`: those without errors, in file and source order
//   }
#pragma once

#include "lang/ast.hpp"
#include "lang/diagnostics.hpp"
#include "lang/json_value.hpp"
#include "lang/source.hpp"
#include "lang/typed.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cep::lang {

// The options of a test: those of `cep run` that change what a run writes.
struct TestOptions {
  std::int64_t max_delay_ms = 0; // --max-delay D
  bool with_events = false;      // --with-events: records carry "@events"
  bool at_end_drop = false;      // --at-end drop (default fire)
  bool order_sort = false;       // --order sort
};

// One record of an `input` or `expect` block, parsed.
struct TestRecord {
  json::Value value;
  std::string text;  // as written
  SourceRange range; // in the .cep file
  // Expected output records: the names of the members compared as instants (`@start`, `@end`
  // and the output's `time` fields): RFC 3339 text or epoch ms on either side.
  std::vector<std::string> time_members;
  // Expected output records: the stream it belongs to ("@stream", or the one the rules under
  // test write); `cep test` pairs it only with written records of that stream.
  std::string stream;
};

struct CheckedTest {
  std::string name;
  std::string file;               // the .cep file that declares it, as the SourceManager names it
  SourceRange range;              // the test's name
  std::vector<std::string> rules; // the patterns and aggregates under test, by name
  TestOptions options;
  // The input: a JSON Lines file (input_path, resolved against the test's folder) or records.
  std::string input_path;
  std::vector<TestRecord> input;
  std::vector<TestRecord> expected; // empty: `expect none`
  bool compare_late = false;        // an `expect late` clause was given
  std::vector<TestRecord> expected_late;
};

// Checks every test declaration of `modules` (only those of the file `only` when given: `cep
// test` runs a file's own tests, not its imports') against `program`; errors go to `diags`.
// Returns the tests that have none, in module (load) order, then source order.
std::vector<CheckedTest> checkTests(const std::vector<ast::Module> &modules,
                                    const typed::Program &program, const SourceManager &sources,
                                    DiagnosticEngine &diags,
                                    std::optional<FileId> only = std::nullopt);

} // namespace cep::lang
