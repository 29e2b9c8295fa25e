// `cep test`: the records a test expects against the ones its run wrote (docs/language.md §17).
//
// Only the members an expected record lists are compared, recursively inside objects
// (`"@events"`, a composite `"@key"`); arrays must have the same length. Numbers compare by
// value (`900` equals `900.0`), the record's time members (TestRecord::time_members: `@start`,
// `@end` and the output's `time` fields) as instants (RFC 3339 text or epoch ms on either side).
// Order does not matter: each expected record takes the first actual record it equals that no
// earlier one took. What is left is the diff:
//  - an expected record with no equal is paired with the left-over actual record of its stream
//    (TestRecord::stream) that agrees on the most members, and their differing members are listed
//    with both values; with none left, it is missing;
//  - an actual record left over is unexpected.
//
//   std::vector<std::string> lines = {R"({"@stream":"CardTesting","card":"c1","probes":3})"};
//   cli::RecordDiff diff = cli::compareRecords(test.expected, lines, "record", where);
//   if (!diff.equal) for (auto &l : diff.lines) std::cout << "    " << l << '\n';
//   //  record 1 (t.cep:18:9) differs from the record written 1st:
//   //    probes: expected 4, written 3
#pragma once

#include "lang/check_tests.hpp"

#include <functional>
#include <string>
#include <vector>

namespace cep::cli {

struct RecordDiff {
  bool equal = true;
  std::vector<std::string> lines; // the readable diff, unindented; empty when equal
};

// `what`: "record" or "late record" (in the diff's words); `where(range)`: "file:line:col".
RecordDiff compareRecords(const std::vector<lang::TestRecord> &expected,
                          const std::vector<std::string> &actual, const std::string &what,
                          const std::function<std::string(const lang::SourceRange &)> &where);

} // namespace cep::cli
