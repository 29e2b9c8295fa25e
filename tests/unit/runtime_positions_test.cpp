// Input and output positions for exactly-once recovery (issue #11 §1): the end offset of every
// record a LineReader hands out, whatever the read size, CRLF, blank, long and oversized lines;
// a reader resumed at any of those offsets reads exactly the rest; Inputs::open with resume
// positions refuses a file replaced, truncated or rewritten before the offset, and a stream
// unless its producer replays; OutputSink::openAt cuts an output back to a checkpointed length.
#include "runtime/engine/output_sink.hpp"
#include "runtime/io/file_identity.hpp"
#include "runtime/io/inputs.hpp"
#include "runtime/io/line_reader.hpp"

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace cep::runtime;

namespace {

// A folder in the temp directory, removed with what it holds at scope exit.
class TempDir {
public:
  TempDir() {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("cep_positions_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string file(const std::string &name) const { return (path_ / name).string(); }

private:
  std::filesystem::path path_;
};

void writeFile(const std::string &path, const std::string &content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// What a record looks like from outside: line number, start, end (after its terminator), text
// (the kept prefix for an oversized line).
struct Record {
  std::uint64_t line = 0;
  std::uint64_t start = 0;
  std::uint64_t end = 0;
  std::string text;
  bool operator==(const Record &) const = default;
};

std::ostream &operator<<(std::ostream &os, const Record &r) {
  return os << "{line " << r.line << " [" << r.start << "," << r.end << ") " << r.text << "}";
}

// The records of `content` worked out independently of LineReader: split at '\n', skip blank
// lines (spaces, tabs, CRs), strip one CR before the newline, a BOM at the very start.
std::vector<Record> expectedRecords(const std::string &content, std::size_t max_record_bytes = 0) {
  std::vector<Record> records;
  std::size_t at = 0;
  std::uint64_t number = 0;
  while (at < content.size()) {
    std::size_t newline = content.find('\n', at);
    std::size_t stop = newline == std::string::npos ? content.size() : newline;
    std::size_t next = newline == std::string::npos ? content.size() : newline + 1;
    ++number;
    std::size_t start = at;
    if (start == 0 && content.compare(0, 3, "\xEF\xBB\xBF") == 0) {
      start = 3;
    }
    std::size_t text_end = stop > start && content[stop - 1] == '\r' ? stop - 1 : stop;
    std::string text = content.substr(start, text_end - start);
    if (text.find_first_not_of(" \t\r") != std::string::npos) {
      if (max_record_bytes > 0 && text.size() > max_record_bytes) {
        text = text.substr(0, std::min<std::size_t>(kOversizedPrefix, max_record_bytes));
      }
      records.push_back({number, start, next, text});
    }
    at = next;
  }
  return records;
}

// Every record `reader` hands out, with recordEnd() / recordLine() checked against the line.
std::vector<Record> readRecords(LineReader &reader) {
  std::vector<Record> records;
  Line line;
  ReadStatus status;
  while ((status = reader.next(line)) == ReadStatus::Line) {
    CHECK(reader.recordLine() == line.number);
    records.push_back({line.number, line.offset, reader.recordEnd(), std::string(line.text)});
  }
  REQUIRE(status == ReadStatus::End);
  return records;
}

std::string longLine(std::size_t bytes, char c) {
  return "{\"k\":\"" + std::string(bytes, c) + "\"}";
}

std::vector<std::optional<InputPosition>> at(const InputPosition &position) {
  return {position};
}

Schema emptySchema() {
  return Schema{};
}

// Reads `inputs` (one input) to its end; the texts.
std::vector<std::string> drain(Inputs &inputs) {
  std::vector<std::string> texts;
  InputRecord record;
  for (InputStatus status = inputs.next(record); status == InputStatus::Record;
       status = inputs.next(record)) {
    texts.emplace_back(record.line.text);
  }
  return texts;
}

} // namespace

TEST_CASE("positions: the end offset of every record, whatever the read size", "[positions]") {
  TempDir dir;
  std::vector<std::string> contents = {
      "{\"a\":1}\n{\"a\":2}\n",
      "a\r\nb\r\n\r\n  \n\tc\r\n",
      "\xEF\xBB\xBF{\"bom\":1}\n{\"b\":2}", // a BOM, and a last line without newline
      "\n\n x\n\n",                         // blank lines around and after
      "one\n" + longLine(5000, 'x') + "\r\n" + longLine(70000, 'y') + "\nlast\r", // long lines
      "",
  };
  std::size_t case_index = 0;
  for (const std::string &content : contents) {
    std::string path = dir.file("in" + std::to_string(case_index++));
    writeFile(path, content);
    std::vector<Record> want = expectedRecords(content);
    for (std::size_t read_size : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{7},
                                  std::size_t{64}, std::size_t{4096}, kDefaultReadSize}) {
      INFO("case " << case_index - 1 << ", read size " << read_size);
      LineReader reader(path, read_size);
      CHECK(reader.recordEnd() == 0);
      CHECK(reader.recordLine() == 0);
      CHECK(readRecords(reader) == want);
      // At the end, the position is the last record's end (trailing blank lines not counted).
      CHECK(reader.recordEnd() == (want.empty() ? 0 : want.back().end));
    }
  }
}

TEST_CASE("positions: oversized records end after their newline", "[positions]") {
  TempDir dir;
  std::string content = "a\n" + longLine(3000, 'x') + "\r\nb\n" + longLine(100, 'z') + "\n" +
                        longLine(2500, 'w'); // the last, oversized, without a newline
  std::string path = dir.file("oversized");
  writeFile(path, content);
  std::vector<Record> want = expectedRecords(content, 200);
  for (std::size_t read_size :
       {std::size_t{1}, std::size_t{5}, std::size_t{64}, std::size_t{1000}, kDefaultReadSize}) {
    INFO("read size " << read_size);
    LineReader reader(path, read_size, 200);
    CHECK(readRecords(reader) == want);
  }
}

TEST_CASE("positions: a reader resumed at a record's end reads exactly the rest", "[positions]") {
  TempDir dir;
  std::string content = "\xEF\xBB\xBF{\"a\":1}\r\n\n{\"a\":2}\n" + longLine(9000, 'q') +
                        "\n  \n{\"a\":3}\r\n" + longLine(300, 'o') + "\n{\"a\":4}";
  std::string path = dir.file("resume");
  writeFile(path, content);
  std::vector<Record> all = expectedRecords(content);
  REQUIRE(all.size() == 6);
  for (std::size_t max_record_bytes : {std::size_t{0}, std::size_t{256}}) {
    std::vector<Record> want_all = expectedRecords(content, max_record_bytes);
    for (std::size_t k = 0; k <= want_all.size(); ++k) {
      std::uint64_t offset = k == 0 ? 0 : want_all[k - 1].end;
      std::uint64_t line = k == 0 ? 0 : want_all[k - 1].line;
      for (std::size_t read_size : {std::size_t{1}, std::size_t{13}, kDefaultReadSize}) {
        INFO("after " << k << " records, read size " << read_size << ", max " << max_record_bytes);
        LineReader reader(path, read_size, max_record_bytes);
        std::string error;
        REQUIRE(reader.resumeAt(offset, line, error));
        CHECK(reader.recordEnd() == offset);
        CHECK(reader.recordLine() == line);
        std::vector<Record> want(want_all.begin() + static_cast<std::ptrdiff_t>(k), want_all.end());
        CHECK(readRecords(reader) == want);
      }
    }
  }
  // Too late: the reader has read already.
  LineReader reader(path);
  Line line;
  REQUIRE(reader.next(line) == ReadStatus::Line);
  std::string error;
  CHECK_FALSE(reader.resumeAt(0, 0, error));
  CHECK(error == "cannot resume \"" + path + "\": it has been read already");
}

TEST_CASE("positions: Inputs resumed from a position taken by Inputs", "[positions]") {
  TempDir dir;
  std::string path = dir.file("events.jsonl");
  std::string content;
  for (int i = 0; i < 400; ++i) { // about 8 KiB: the two fingerprints cover different bytes
    content += "{\"i\":" + std::to_string(i) + ",\"pad\":\"....\"}\n";
  }
  writeFile(path, content);
  Schema schema = emptySchema();
  std::string error;

  Inputs first;
  REQUIRE(first.open({{path, ""}}, schema, error));
  InputRecord record;
  for (int i = 0; i < 300; ++i) {
    REQUIRE(first.next(record) == InputStatus::Record);
  }
  InputPosition position = first.position(0);
  CHECK(position.line == 300);
  CHECK(position.offset == content.find("{\"i\":300,"));
  CHECK(position.identity.seekable);
  FileIdentity direct;
  {
    int fd = ::open(path.c_str(), O_RDONLY);
    REQUIRE(fd >= 0);
    REQUIRE(fileIdentityAt(fd, position.offset, direct, error));
    ::close(fd);
  }
  CHECK(direct == position.identity);
  CHECK(position.identity.head_hash == fingerprintHash(content.data(), kFingerprintBytes));
  CHECK(position.identity.tail_hash ==
        fingerprintHash(content.data() + position.offset - kFingerprintBytes, kFingerprintBytes));

  std::string refused = "cannot resume input \"" + path + "\" at byte " +
                        std::to_string(position.offset) + " (line 300): ";
  auto resume = [&](std::string &why) {
    Inputs inputs;
    why.clear();
    bool ok = inputs.open({{path, ""}}, schema, why, kDefaultReadSize, 0, false, at(position));
    return ok ? drain(inputs) : std::vector<std::string>{};
  };

  SECTION("the same file: exactly the rest, numbered on") {
    Inputs inputs;
    REQUIRE(inputs.open({{path, ""}}, schema, error, kDefaultReadSize, 0, false, at(position)));
    REQUIRE(inputs.next(record) == InputStatus::Record);
    CHECK(record.line.number == 301);
    CHECK(record.line.offset == position.offset);
    CHECK(record.line.text == "{\"i\":300,\"pad\":\"....\"}");
    std::size_t rest = 1 + drain(inputs).size();
    CHECK(rest == 100);
  }
  SECTION("the same file, grown: the rest and what was appended") {
    std::ofstream(path, std::ios::app) << "{\"i\":400}\n";
    std::string why;
    std::vector<std::string> rest = resume(why);
    CHECK(why.empty());
    REQUIRE(rest.size() == 101);
    CHECK(rest.back() == "{\"i\":400}");
  }
  SECTION("replaced by rename: refused") {
    std::string other = dir.file("copy.jsonl");
    writeFile(other, content); // the same bytes, another file
    struct stat before {};
    struct stat after {};
    REQUIRE(::stat(path.c_str(), &before) == 0);
    REQUIRE(std::rename(other.c_str(), path.c_str()) == 0);
    REQUIRE(::stat(path.c_str(), &after) == 0);
    std::string why;
    CHECK(resume(why).empty());
    CHECK(why == refused + "it was replaced (device " + std::to_string(before.st_dev) + " inode " +
                     std::to_string(before.st_ino) + " then, device " +
                     std::to_string(after.st_dev) + " inode " + std::to_string(after.st_ino) +
                     " now)");
  }
  SECTION("truncated: refused") {
    REQUIRE(::truncate(path.c_str(), 1000) == 0);
    std::string why;
    CHECK(resume(why).empty());
    CHECK(why == refused + "it was truncated (1000 bytes now)");
  }
  SECTION("a byte rewritten in the first 4096: refused") {
    std::string changed = content;
    changed[10] = '7';
    writeFile(path, changed); // in place: the same inode
    std::string why;
    CHECK(resume(why).empty());
    CHECK(why == refused + "it changed (its first 4096 bytes differ)");
  }
  SECTION("a byte rewritten just before the offset: refused") {
    std::string changed = content;
    changed[position.offset - 3] = 'X';
    writeFile(path, changed);
    std::string why;
    CHECK(resume(why).empty());
    CHECK(why == refused + "it changed (its 4096 bytes before byte " +
                     std::to_string(position.offset) + " differ)");
  }
  SECTION("a byte rewritten after the offset: new input, read as such") {
    std::string changed = content;
    changed[position.offset + 5] = '9';
    writeFile(path, changed);
    std::string why;
    std::vector<std::string> rest = resume(why);
    CHECK(why.empty());
    REQUIRE(rest.size() == 100);
    CHECK(rest[0] == "{\"i\":900,\"pad\":\"....\"}");
  }
  SECTION("a position taken of a stream does not resume a file") {
    InputPosition stream = position;
    stream.identity = FileIdentity{};
    Inputs inputs;
    std::string why;
    CHECK_FALSE(inputs.open({{path, ""}}, schema, why, kDefaultReadSize, 0, false, at(stream)));
    CHECK(why == refused + "its position was taken of a pipe, FIFO or standard input, not of a "
                           "file");
  }
  SECTION("a missing file") {
    REQUIRE(std::remove(path.c_str()) == 0);
    std::string why;
    CHECK(resume(why).empty());
    CHECK(why == refused + "cannot open \"" + path + "\": No such file or directory");
  }
}

TEST_CASE("positions: small files and the start of a file", "[positions]") {
  TempDir dir;
  std::string path = dir.file("small.jsonl");
  writeFile(path, "{\"a\":1}\n{\"a\":2}\n");
  Schema schema = emptySchema();
  std::string error;
  Inputs inputs;
  REQUIRE(inputs.open({{path, ""}}, schema, error));
  InputPosition start = inputs.position(0); // nothing read: offset 0, line 0, a file still
  CHECK(start.offset == 0);
  CHECK(start.line == 0);
  CHECK(start.identity.seekable);
  InputRecord record;
  REQUIRE(inputs.next(record) == InputStatus::Record);
  InputPosition one = inputs.position(0);
  CHECK(one.offset == 8);
  CHECK(one.identity.head_hash == fingerprintHash("{\"a\":1}\n", 8)); // both ends: all 8 bytes
  CHECK(one.identity.tail_hash == one.identity.head_hash);

  Inputs from_start;
  REQUIRE(from_start.open({{path, ""}}, schema, error, kDefaultReadSize, 0, false, at(start)));
  CHECK(drain(from_start) == std::vector<std::string>{"{\"a\":1}", "{\"a\":2}"});
  writeFile(path, "{\"a\":7}\n{\"a\":2}\n");
  Inputs changed;
  CHECK_FALSE(changed.open({{path, ""}}, schema, error, kDefaultReadSize, 0, false, at(one)));
  CHECK(error == "cannot resume input \"" + path +
                     "\" at byte 8 (line 1): it changed (its first 8 "
                     "bytes differ)");
}

TEST_CASE("positions: streams cannot seek", "[positions]") {
  TempDir dir;
  Schema schema = emptySchema();
  InputPosition position;
  position.offset = 100;
  position.line = 5;
  std::string error;

  SECTION("a FIFO is refused without waiting for its writer") {
    std::string fifo = dir.file("events.fifo");
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    Inputs inputs;
    CHECK_FALSE(inputs.open({{fifo, ""}}, schema, error, kDefaultReadSize, 0, false, at(position)));
    CHECK(error ==
          "cannot resume input \"" + fifo +
              "\" at byte 100 (line 5): a pipe, FIFO or "
              "terminal cannot seek (resume it only from a producer that replays from that "
              "byte)");
  }
  SECTION("standard input is refused") {
    Inputs inputs;
    CHECK_FALSE(inputs.open({{"-", ""}}, schema, error, kDefaultReadSize, 0, false, at(position)));
    CHECK(error == "cannot resume input \"<stdin>\" at byte 100 (line 5): standard input cannot "
                   "seek (resume it only from a producer that replays from that byte)");
  }
  SECTION("a pipe whose producer replays from the offset: numbered on, informational identity") {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    std::string replayed = "{\"a\":6}\n\n{\"a\":8}\n";
    REQUIRE(::write(fds[1], replayed.data(), replayed.size()) ==
            static_cast<ssize_t>(replayed.size()));
    ::close(fds[1]);
    std::string path = "/dev/fd/" + std::to_string(fds[0]);
    Inputs refused;
    CHECK_FALSE(
        refused.open({{path, ""}}, schema, error, kDefaultReadSize, 0, false, at(position)));
    CHECK(error ==
          "cannot resume input \"" + path +
              "\" at byte 100 (line 5): a pipe, FIFO or "
              "terminal cannot seek (resume it only from a producer that replays from that "
              "byte)");
    Inputs inputs;
    REQUIRE(inputs.open({{path, ""}}, schema, error, kDefaultReadSize, 0, false, at(position),
                        /*streams_replay_from_offset=*/true));
    InputRecord record;
    REQUIRE(inputs.next(record) == InputStatus::Record);
    CHECK(record.line.number == 6);
    CHECK(record.line.offset == 100);
    REQUIRE(inputs.next(record) == InputStatus::Record);
    CHECK(record.line.number == 8);
    CHECK(record.line.offset == 109);
    InputPosition now = inputs.position(0);
    CHECK(now.offset == 117);
    CHECK(now.line == 8);
    CHECK_FALSE(now.identity.seekable);
    CHECK(inputs.next(record) == InputStatus::Finished);
    ::close(fds[0]);
  }
}

TEST_CASE("positions: a followed file resumed at its offset", "[positions]") {
  TempDir dir;
  std::string path = dir.file("follow.jsonl");
  writeFile(path, "{\"a\":1}\n{\"a\":2}\n");
  Schema schema = emptySchema();
  std::string error;
  InputPosition position;
  {
    Inputs inputs;
    REQUIRE(inputs.open({{path, ""}}, schema, error));
    InputRecord record;
    REQUIRE(inputs.next(record) == InputStatus::Record);
    position = inputs.position(0);
  }
  Inputs inputs;
  REQUIRE(
      inputs.open({{path, ""}}, schema, error, kDefaultReadSize, 0, /*follow=*/true, at(position)));
  InputRecord record;
  auto no_wait = [] { return 0; };
  REQUIRE(inputs.nextArrived(record, -1, no_wait) == InputStatus::Record);
  CHECK(record.line.text == "{\"a\":2}");
  CHECK(record.line.number == 2);
  CHECK(inputs.nextArrived(record, -1, no_wait) == InputStatus::Idle); // at its end: waits
  std::ofstream(path, std::ios::app) << "{\"a\":3}\n";
  InputStatus status = InputStatus::Idle;
  for (int i = 0; i < 200 && status == InputStatus::Idle; ++i) { // polled every 50 ms
    status = inputs.nextArrived(record, -1, [] { return 100; });
  }
  REQUIRE(status == InputStatus::Record);
  CHECK(record.line.text == "{\"a\":3}");
  CHECK(record.line.number == 3);
  CHECK(inputs.position(0).offset == 24);
}

TEST_CASE("positions: an output continued at a checkpointed length", "[positions]") {
  TempDir dir;
  std::string path = dir.file("out.jsonl");
  std::string error;
  {
    auto sink = OutputSink::open(path, error);
    REQUIRE(sink);
    CHECK(sink->bytesWritten() == 0);
    sink->writeLine("{\"n\":1}");
    sink->writeLine("{\"n\":2}");
    CHECK(sink->bytesWritten() == 0); // buffered, not written
    REQUIRE(sink->flush());
    CHECK(sink->bytesWritten() == 16);
    sink->writeLine("{\"n\":3}"); // written after the checkpoint at 16 bytes
    REQUIRE(sink->sync());
    CHECK(sink->bytesWritten() == 24);
  }
  REQUIRE(readFile(path) == "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n");

  SECTION("longer: cut back, then appended to") {
    auto sink = OutputSink::openAt(path, 16, error);
    REQUIRE(sink);
    CHECK(sink->bytesWritten() == 16);
    CHECK(readFile(path) == "{\"n\":1}\n{\"n\":2}\n");
    sink->writeLine("{\"n\":30}");
    REQUIRE(sink->flush());
    CHECK(sink->bytesWritten() == 25);
    CHECK(readFile(path) == "{\"n\":1}\n{\"n\":2}\n{\"n\":30}\n");
  }
  SECTION("exactly as long: kept") {
    auto sink = OutputSink::openAt(path, 24, error);
    REQUIRE(sink);
    REQUIRE(sink->sync());
    CHECK(readFile(path) == "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n");
  }
  SECTION("shorter: refused as damaged, untouched") {
    CHECK_FALSE(OutputSink::openAt(path, 30, error));
    CHECK(error == "cannot resume \"" + path +
                       "\" at byte 30: it has 24 bytes, fewer than it had "
                       "then (damaged: cut or replaced since)");
    CHECK(readFile(path).size() == 24);
  }
  SECTION("missing, a folder, a FIFO: refused") {
    std::string missing = dir.file("missing.jsonl");
    CHECK_FALSE(OutputSink::openAt(missing, 0, error));
    CHECK(error == "cannot resume \"" + missing + "\" at byte 0: No such file or directory");
    std::string folder = dir.file("folder");
    std::filesystem::create_directory(folder);
    CHECK_FALSE(OutputSink::openAt(folder, 0, error));
    CHECK(error == "cannot resume \"" + folder +
                       "\" at byte 0: it is a directory, not a regular "
                       "file");
    std::string fifo = dir.file("out.fifo");
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    CHECK_FALSE(OutputSink::openAt(fifo, 0, error)); // refused, not waiting for a reader
    CHECK(error == "cannot resume \"" + fifo + "\" at byte 0: it is a FIFO, not a regular file");
  }
}

TEST_CASE("positions: a string sink's length and sync", "[positions]") {
  std::string capture;
  OutputSink sink(capture);
  sink.writeLine("x");
  REQUIRE(sink.sync());
  CHECK(sink.bytesWritten() == 2);
  CHECK(capture == "x\n");
}
