// `cep test [FILES or DIRS]`: runs the `test` declarations of .cep files (docs/language.md
// §17) and reports one line per test and engine, a diff for each failure, and a summary.
//
// Exit codes: 0 every test passed, 1 a test failed, 2 a file has errors (diagnostics printed;
// the other files' tests still run) or a bad command line, 3 a run failed (an engine could not
// be made, an input could not be read).
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/terminal.hpp"
#include "cli/test_compare.hpp"
#include "cli/test_run.hpp"
#include "compiler/driver/pipeline.hpp"
#include "lang/check_tests.hpp"

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

namespace cep::cli {

namespace {

namespace fs = std::filesystem;
using compiler::driver::Engine;

// The .cep files named, and those under the folders named (sorted, recursively).
bool collectFiles(const std::vector<std::string> &paths, std::vector<std::string> &files) {
  for (const std::string &path : paths) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      std::vector<std::string> found;
      for (auto it = fs::recursive_directory_iterator(path, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_regular_file(ec) && it->path().extension() == ".cep") {
          found.push_back(it->path().lexically_normal().string());
        }
      }
      if (ec) {
        std::cerr << "cep test: cannot read folder \"" << path << "\": " << ec.message() << '\n';
        return false;
      }
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::exists(path, ec)) {
      files.push_back(path);
    } else {
      std::cerr << "cep test: \"" << path << "\": no such file or folder\n";
      return false;
    }
  }
  return true;
}

struct Counts {
  std::size_t passed = 0, failed = 0, skipped = 0, bad_files = 0, run_failures = 0, tests = 0;
};

class Tester {
public:
  explicit Tester(const TestOptions &options) : options_(options) {}

  void file(const std::string &path, Counts &counts) {
    compiler::driver::Pipeline pipeline({options_.import_paths, {}});
    lang::DiagnosticEngine &diags = pipeline.diagnostics();
    bool ok = pipeline.check({path});
    std::vector<lang::CheckedTest> tests;
    if (ok) {
      tests = lang::checkTests(pipeline.modules(), pipeline.program(), pipeline.sources(), diags,
                               pipeline.modules().front().file);
    }
    if (diags.hasErrors()) {
      diags.render(std::cerr, useColor(options_.color));
      ++counts.bad_files;
      return;
    }
    auto where = [&](const lang::SourceRange &r) {
      const lang::SourceFile &f = pipeline.sources().file(r.file);
      lang::LineCol lc = f.lineCol(r.begin);
      return f.path() + ":" + std::to_string(lc.line) + ":" + std::to_string(lc.column);
    };
    // Should the native engine refuse a program (none is refused today; aggregates were until
    // they compiled), its tests run under the interpreter, and each line says so.
    bool native = true;
    if (options_.engine != "interp") {
      std::size_t mark = diags.all().size();
      native = pipeline.requireRunnable(Engine::Jit);
      diags.eraseFrom(mark, [](const lang::Diagnostic &) { return true; });
    }
    for (const lang::CheckedTest &test : tests) {
      if (!options_.filter.empty() && test.name.find(options_.filter) == std::string::npos) {
        continue;
      }
      ++counts.tests;
      std::vector<std::string> engines;
      if (options_.engine == "all" || options_.engine == "jit") {
        engines.push_back("jit");
      }
      if (options_.engine == "all" || options_.engine == "interp") {
        engines.push_back("interp");
      }
      for (const std::string &engine : engines) {
        std::string note;
        Engine run_as = engine == "jit" ? Engine::Jit : Engine::Interp;
        if (engine == "jit" && !native) {
          if (options_.engine == "all") {
            skip(test, where, "jit", "skipped: jit does not run this program");
            ++counts.skipped;
            continue;
          }
          run_as = Engine::Interp;
          note = "jit does not run this program";
        }
        one(pipeline, test, run_as, note, where, counts);
      }
    }
  }

  void summary(const Counts &counts, std::size_t files) const {
    if (options_.format == "json") {
      std::cout << "{\"summary\":true,\"passed\":" << counts.passed
                << ",\"failed\":" << counts.failed << ",\"skipped\":" << counts.skipped
                << ",\"files\":" << files << ",\"files_with_errors\":" << counts.bad_files
                << ",\"run_failures\":" << counts.run_failures << "}\n";
      return;
    }
    std::cout << "cep test: " << counts.passed << " passed, " << counts.failed << " failed";
    if (counts.skipped > 0) {
      std::cout << ", " << counts.skipped << " skipped";
    }
    if (counts.run_failures > 0) {
      std::cout << ", " << counts.run_failures << " could not run";
    }
    std::cout << " (" << files << (files == 1 ? " file" : " files");
    if (counts.bad_files > 0) {
      std::cout << ", " << counts.bad_files << " with errors";
    }
    std::cout << "; engine " << options_.engine << ")\n";
  }

private:
  using Where = std::function<std::string(const lang::SourceRange &)>;

  void line(const std::string &status, const lang::CheckedTest &test, const Where &where,
            const std::string &engine, const std::string &note,
            const std::vector<std::string> &details) {
    if (options_.format == "json") {
      std::cout << "{\"test\":\"" << lang::jsonEscape(test.name) << "\",\"location\":\""
                << lang::jsonEscape(where(test.range)) << "\",\"engine\":\"" << engine
                << "\",\"status\":\"" << status << "\"";
      if (!note.empty()) {
        std::cout << ",\"note\":\"" << lang::jsonEscape(note) << "\"";
      }
      std::cout << ",\"details\":[";
      for (std::size_t i = 0; i < details.size(); ++i) {
        std::cout << (i ? "," : "") << "\"" << lang::jsonEscape(details[i]) << "\"";
      }
      std::cout << "]}\n";
      return;
    }
    std::string label = status == "pass"   ? "PASS"
                        : status == "fail" ? "FAIL"
                        : status == "skip" ? "SKIP"
                                           : "ERROR";
    std::cout << label << ' ' << where(test.range) << ": " << test.name << " [" << engine;
    if (!note.empty()) {
      std::cout << "; " << note;
    }
    std::cout << "]\n";
    for (const std::string &detail : details) {
      std::cout << "    " << detail << '\n';
    }
  }

  void skip(const lang::CheckedTest &test, const Where &where, const std::string &engine,
            const std::string &why) {
    line("skip", test, where, engine, why, {});
  }

  void one(compiler::driver::Pipeline &pipeline, const lang::CheckedTest &test, Engine engine,
           const std::string &note, const Where &where, Counts &counts) {
    std::string name = engine == Engine::Jit ? "jit" : "interp";
    TestRun run;
    if (!runTestCase(pipeline, test, engine, where, run)) {
      ++counts.run_failures;
      line("error", test, where, name, note, {"the run failed: " + run.failure});
      return;
    }
    std::vector<std::string> details = run.rejected;
    RecordDiff diff = compareRecords(test.expected, run.records, "record", where);
    details.insert(details.end(), diff.lines.begin(), diff.lines.end());
    bool passed = diff.equal && run.rejected.empty();
    if (test.compare_late) {
      RecordDiff late = compareRecords(test.expected_late, run.late, "late record", where);
      details.insert(details.end(), late.lines.begin(), late.lines.end());
      passed = passed && late.equal;
    }
    ++(passed ? counts.passed : counts.failed);
    line(passed ? "pass" : "fail", test, where, name, note,
         passed ? std::vector<std::string>{} : details);
  }

  const TestOptions &options_;
};

} // namespace

int runTest(const TestOptions &options) {
  std::vector<std::string> files;
  if (!collectFiles(options.paths.empty() ? std::vector<std::string>{"."} : options.paths, files)) {
    return kUsage;
  }
  if (files.empty()) {
    std::cerr << "cep test: no .cep file found\n";
    return kUsage;
  }
  Tester tester(options);
  Counts counts;
  for (const std::string &file : files) {
    tester.file(file, counts);
  }
  tester.summary(counts, files.size());
  if (counts.run_failures > 0) {
    return kRuntimeFailure;
  }
  if (counts.bad_files > 0) {
    return kUsage;
  }
  if (counts.tests == 0 && options.format == "text") {
    std::cerr << "cep test: no test"
              << (options.filter.empty() ? "" : " named like `" + options.filter + "`") << " in "
              << (files.size() == 1 ? "this file" : "these files") << '\n';
  }
  return counts.failed > 0 ? kRuleErrors : kOk;
}

} // namespace cep::cli
