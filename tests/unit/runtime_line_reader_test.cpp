#include "runtime/io/line_reader.hpp"
#include "runtime/io/stop_signals.hpp"
#include "temp_file_test.hpp"

#include <catch2/catch.hpp>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <utility>
#include <vector>

using namespace cep::runtime;

namespace {

// A file in the temp directory, removed at scope exit.
// A temp input file named for this test.
struct TempFile : cep_test::TempFile {
  explicit TempFile(const std::string &content) : cep_test::TempFile("cep_line_reader", content) {}
};

using Lines = std::vector<std::pair<std::uint64_t, std::string>>;

// Every line, checking the padding promise on each.
Lines readAll(const std::string &path, std::size_t read_size = kDefaultReadSize) {
  LineReader reader(path, read_size);
  Lines lines;
  Line line;
  ReadStatus status;
  while ((status = reader.next(line)) == ReadStatus::Line) {
    REQUIRE(line.capacity >= line.text.size() + kLinePadding);
    // The padding is readable memory (the sanitizers would catch it otherwise).
    volatile char last = line.text.data()[line.capacity - 1];
    (void)last;
    lines.emplace_back(line.number, std::string(line.text));
  }
  REQUIRE(status == ReadStatus::End);
  CHECK(reader.error().empty());
  CHECK(reader.next(line) == ReadStatus::End); // stays at the end
  return lines;
}

} // namespace

TEST_CASE("line reader: plain lines with 1-based numbers", "[runtime][line_reader]") {
  TempFile file("{\"a\":1}\n{\"a\":2}\n");
  CHECK(readAll(file.path()) == Lines{{1, "{\"a\":1}"}, {2, "{\"a\":2}"}});
}

TEST_CASE("line reader: CRLF, no final newline, blank lines", "[runtime][line_reader]") {
  TempFile crlf("a\r\nb\r\n");
  CHECK(readAll(crlf.path()) == Lines{{1, "a"}, {2, "b"}});
  TempFile last("a\nb");
  CHECK(readAll(last.path()) == Lines{{1, "a"}, {2, "b"}});
  TempFile last_crlf("a\r\nb\r");
  CHECK(readAll(last_crlf.path()) == Lines{{1, "a"}, {2, "b"}});
  TempFile blanks("\n  \n\t\r\na\n\n \r\nb\n   ");
  CHECK(readAll(blanks.path()) == Lines{{4, "a"}, {7, "b"}});
  TempFile empty("");
  CHECK(readAll(empty.path()).empty());
  TempFile only_newlines("\n\n\n");
  CHECK(readAll(only_newlines.path()).empty());
  // A carriage return inside a line is the line's own.
  TempFile inner("a\rb\n");
  CHECK(readAll(inner.path()) == Lines{{1, "a\rb"}});
  // Leading and trailing spaces are kept (the record is exactly as read).
  TempFile spaced("  {} \n");
  CHECK(readAll(spaced.path()) == Lines{{1, "  {} "}});
}

TEST_CASE("line reader: a UTF-8 byte order mark at the start is skipped",
          "[runtime][line_reader]") {
  TempFile bom("\xEF\xBB\xBF{\"a\":1}\n\xEF\xBB\xBFx\n");
  CHECK(readAll(bom.path()) == Lines{{1, "{\"a\":1}"}, {2, "\xEF\xBB\xBFx"}});
  TempFile bom_blank("\xEF\xBB\xBF\nx\n");
  CHECK(readAll(bom_blank.path()) == Lines{{2, "x"}});
}

TEST_CASE("line reader: lines across buffer boundaries and long lines", "[runtime][line_reader]") {
  std::string content;
  Lines expected;
  std::uint64_t number = 0;
  for (int i = 0; i < 300; ++i) {
    ++number;
    std::string line =
        "line" + std::to_string(i) + std::string(static_cast<std::size_t>(i % 37), 'x');
    if (i % 50 == 7) {
      line += std::string(5000, 'L'); // much longer than the read size
    }
    content += line + (i % 3 == 0 ? "\r\n" : "\n");
    expected.emplace_back(number, line);
    if (i % 11 == 0) {
      content += "   \n";
      ++number;
    }
  }
  content += "tail-without-newline";
  expected.emplace_back(++number, "tail-without-newline");
  TempFile file(content);
  for (std::size_t read_size : {std::size_t{1}, std::size_t{2}, std::size_t{7}, std::size_t{64},
                                std::size_t{1000}, kDefaultReadSize}) {
    INFO("read size " << read_size);
    CHECK(readAll(file.path(), read_size) == expected);
  }
}

TEST_CASE("line reader: a very long single line", "[runtime][line_reader]") {
  std::string big(3 * 1000 * 1000, 'a');
  TempFile file(big + "\nb\n");
  Lines lines = readAll(file.path(), 4096);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].second == big);
  CHECK(lines[1] == std::make_pair(std::uint64_t{2}, std::string("b")));
}

TEST_CASE("line reader: I/O errors name the path", "[runtime][line_reader]") {
  LineReader missing("/nonexistent/dir/events.jsonl");
  Line line;
  CHECK(missing.next(line) == ReadStatus::Error);
  CHECK(missing.error() ==
        "cannot open \"/nonexistent/dir/events.jsonl\": No such file or directory");
  CHECK(missing.next(line) == ReadStatus::End);
  CHECK(missing.name() == "/nonexistent/dir/events.jsonl");

  LineReader directory(std::filesystem::temp_directory_path().string());
  CHECK(directory.next(line) == ReadStatus::Error);
  CHECK(directory.error() ==
        "cannot open \"" + std::filesystem::temp_directory_path().string() + "\": Is a directory");
}

TEST_CASE("line reader: \"-\" reads standard input", "[runtime][line_reader]") {
  TempFile file("x\n\ny");
  int saved = ::dup(STDIN_FILENO);
  REQUIRE(saved >= 0);
  std::FILE *in = std::fopen(file.path().c_str(), "rb");
  REQUIRE(in != nullptr);
  REQUIRE(::dup2(::fileno(in), STDIN_FILENO) >= 0);
  Lines lines;
  {
    LineReader reader("-");
    CHECK(reader.name() == "<stdin>");
    Line line;
    while (reader.next(line) == ReadStatus::Line) {
      lines.emplace_back(line.number, std::string(line.text));
    }
  }
  ::dup2(saved, STDIN_FILENO);
  ::close(saved);
  std::fclose(in);
  CHECK(lines == Lines{{1, "x"}, {3, "y"}});
}

namespace {

struct Read {
  std::uint64_t number, offset, oversized;
  std::string text;
  bool operator==(const Read &o) const {
    return number == o.number && offset == o.offset && oversized == o.oversized && text == o.text;
  }
};

std::vector<Read> readLimited(const std::string &path, std::size_t read_size, std::size_t max) {
  LineReader reader(path, read_size, max);
  std::vector<Read> out;
  Line line;
  ReadStatus status;
  while ((status = reader.next(line)) == ReadStatus::Line) {
    REQUIRE(line.capacity >= line.text.size() + kLinePadding);
    volatile char last = line.text.data()[line.capacity - 1];
    (void)last;
    out.push_back({line.number, line.offset, line.oversized, std::string(line.text)});
  }
  REQUIRE(status == ReadStatus::End);
  return out;
}

} // namespace

TEST_CASE("line reader: a line over max_record_bytes is skipped, not buffered",
          "[runtime][line_reader]") {
  const std::string long_line = "{\"x\":\"" + std::string(5000, 'y') + "\"}"; // 5008 bytes
  TempFile file("{\"a\":1}\n" + long_line + "\r\n\n{\"b\":2}\n" + long_line);
  const std::string prefix = long_line.substr(0, 100);
  // Any read size: the line is found oversized in the buffer or while skipping through it.
  for (std::size_t read_size :
       {std::size_t{7}, std::size_t{64}, std::size_t{4096}, std::size_t{1} << 20}) {
    INFO(read_size);
    CHECK(readLimited(file.path(), read_size, 100) == std::vector<Read>{{1, 0, 0, "{\"a\":1}"},
                                                                        {2, 8, 5008, prefix},
                                                                        {4, 5019, 0, "{\"b\":2}"},
                                                                        {5, 5027, 5008, prefix}});
  }
  // The kept prefix is at most kOversizedPrefix bytes.
  auto reads = readLimited(file.path(), 64, 2000);
  REQUIRE(reads.size() == 4);
  CHECK(reads[1].text == long_line.substr(0, kOversizedPrefix));
  CHECK(reads[1].oversized == 5008);
  // At the limit exactly: a record like any other.
  CHECK(readLimited(file.path(), 64, 5008)[1].oversized == 0);
  CHECK(readLimited(file.path(), 64, 0)[1].text == long_line); // 0: no limit
}

TEST_CASE("line reader: a pipe hands out lines as they arrive, a stop request ends it",
          "[runtime][line_reader]") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  int saved = ::dup(STDIN_FILENO);
  REQUIRE(saved >= 0);
  REQUIRE(::dup2(fds[0], STDIN_FILENO) >= 0);
  ::close(fds[0]);
  std::vector<ReadStatus> statuses;
  std::vector<std::string> texts;
  {
    LineReader reader("-");
    Line line;
    // The writer stays open: each line must come out before the input ends.
    REQUIRE(::write(fds[1], "a\nb", 3) == 3);
    statuses.push_back(reader.next(line));
    texts.emplace_back(line.text);
    REQUIRE(::write(fds[1], "\n", 1) == 1);
    statuses.push_back(reader.next(line));
    texts.emplace_back(line.text);
    requestStop(SIGTERM);
    statuses.push_back(reader.next(line)); // would block on the open pipe otherwise
    statuses.push_back(reader.next(line));
    requestStop(0);
  }
  ::dup2(saved, STDIN_FILENO);
  ::close(saved);
  ::close(fds[1]);
  CHECK(statuses == std::vector<ReadStatus>{ReadStatus::Line, ReadStatus::Line,
                                            ReadStatus::Interrupted, ReadStatus::Interrupted});
  CHECK(texts == std::vector<std::string>{"a", "b"});
}
