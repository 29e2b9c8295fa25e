#include "cli/test_run.hpp"

#include "lang/json_value.hpp"
#include "runtime/engine/output_sink.hpp"
#include "runtime/engine/run_loop.hpp"
#include "runtime/engine/run_options.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <sstream>
#include <unistd.h>

namespace cep::cli {

namespace {

// A test's inline records as a JSON Lines file, removed when this goes.
class TempInput {
public:
  ~TempInput() {
    if (!path_.empty()) {
      ::unlink(path_.c_str());
    }
  }
  bool write(const std::vector<lang::TestRecord> &records, std::string &error) {
    std::error_code ec;
    std::filesystem::path dir = std::filesystem::temp_directory_path(ec);
    std::string pattern = (ec ? std::string("/tmp") : dir.string()) + "/cep-test-XXXXXX";
    int fd = ::mkstemp(pattern.data());
    if (fd < 0) {
      error = "cannot create a temporary file for the test's input: " +
              std::string(std::strerror(errno));
      return false;
    }
    path_ = pattern;
    std::string text;
    for (const lang::TestRecord &r : records) {
      std::string line = r.text;
      std::replace_if(
          line.begin(), line.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
      text += line + '\n';
    }
    std::size_t done = 0;
    while (done < text.size()) {
      ssize_t n = ::write(fd, text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        error = "cannot write the test's input to \"" + path_ + "\": " + std::strerror(errno);
        ::close(fd);
        return false;
      }
      done += static_cast<std::size_t>(n);
    }
    ::close(fd);
    return true;
  }
  const std::string &path() const { return path_; }

private:
  std::string path_;
};

std::vector<std::string> lines(const std::string &text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) {
      out.push_back(line);
    }
  }
  return out;
}

} // namespace

bool runTestCase(compiler::driver::Pipeline &pipeline, const lang::CheckedTest &test,
                 compiler::driver::Engine engine,
                 const std::function<std::string(const lang::SourceRange &)> &where, TestRun &run) {
  TempInput temp;
  std::string input = test.input_path;
  if (input.empty()) {
    if (!temp.write(test.input, run.failure)) {
      return false;
    }
    input = temp.path();
  }

  runtime::MatcherOptions matcher_options;
  matcher_options.with_events = test.options.with_events;
  compiler::driver::MatcherSet set;
  if (!pipeline.makeMatchers({engine, 2}, matcher_options, set, run.failure)) {
    return false;
  }
  std::vector<runtime::Matcher *> matchers;
  for (const auto &matcher : set.matchers) {
    matchers.push_back(matcher.get());
  }

  runtime::RunOptions options;
  options.max_delay_ms = test.options.order_sort ? std::numeric_limits<std::int64_t>::max()
                                                 : test.options.max_delay_ms;
  options.keep_raw = test.options.with_events;
  options.at_end = test.options.at_end_drop ? runtime::AtEnd::Drop : runtime::AtEnd::Fire;
  std::ostringstream dead, late;
  options.dead_letter = &dead;
  options.late_output = &late;
  std::string written;
  runtime::RunResult result;
  {
    runtime::OutputSink sink(written);
    result = runtime::run(pipeline.schema(), matchers, {{input, ""}}, sink, options);
    sink.flush();
  }
  if (result.status != runtime::RunStatus::Ok) {
    run.failure = result.message;
    return false;
  }

  for (std::string &line : lines(written)) {
    lang::json::Value record;
    lang::json::ParseError error;
    if (!lang::json::parse(line, record, error)) {
      continue; // the engines write JSON; a broken line would equal no expected record anyway
    }
    const lang::json::Value *pattern = record.find("@pattern");
    if (pattern &&
        std::find(test.rules.begin(), test.rules.end(), pattern->text) != test.rules.end()) {
      run.records.push_back(std::move(line));
    }
  }
  run.late = lines(late.str());
  for (const std::string &line : lines(dead.str())) {
    lang::json::Value letter;
    lang::json::ParseError error;
    if (!lang::json::parse(line, letter, error)) {
      run.rejected.push_back(line);
      continue;
    }
    const lang::json::Value *number = letter.find("line");
    const lang::json::Value *reason = letter.find("reason");
    std::int64_t n = number && number->integer ? number->int_value : 0;
    std::string at;
    if (!test.input_path.empty()) {
      at = test.input_path + ":" + std::to_string(n);
    } else if (n >= 1 && static_cast<std::size_t>(n) <= test.input.size()) {
      at = where(test.input[static_cast<std::size_t>(n - 1)].range);
    }
    run.rejected.push_back("input record " + std::to_string(n) + " (" + at +
                           ") was rejected: " + (reason ? reason->text : line));
  }
  return true;
}

} // namespace cep::cli
