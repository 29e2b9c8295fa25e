// Reads a file or stdin as JSON Lines records: large reads into one buffer, lines handed out in
// place with at least kLinePadding readable bytes after each (simdjson parses them without a
// copy), 1-based line numbers, CRLF tolerated, a last line without a newline handled, blank and
// whitespace-only lines skipped (they are not records), a UTF-8 byte order mark at the start of
// the input skipped. A line longer than the reader's max_record_bytes is never buffered whole:
// the reader keeps its first kOversizedPrefix bytes, skips to the next newline counting the
// bytes, and hands out the prefix with Line::oversized set to the line's length.
// A pipe, FIFO or terminal hands out each line as soon as it has arrived, and
// a stop signal (stop_signals.hpp) ends a read blocked on it. A non-blocking reader says Pending
// instead of waiting; a followed regular file (`--follow`) waits for more at its end.
//
// Positions: recordEnd() is the byte offset just after the last record handed out (after its
// newline; the input's end for a last line without one), recordLine() its line number. A
// reader made for a resumed run starts at such a position (resumeAt, before the first next()):
// a regular file is sought there, and lines are numbered on from it.
//
//   LineReader reader("events.jsonl");
//   std::string error;
//   if (!reader.resumeAt(position.offset, position.line, error)) { ... }
//   Line line;
//   while (reader.next(line) == ReadStatus::Line) { ... reader.recordEnd() ... }
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

namespace cep::runtime {

// Readable bytes guaranteed after the end of every line handed out (== SIMDJSON_PADDING).
constexpr std::size_t kLinePadding = 64;
constexpr std::size_t kDefaultReadSize = std::size_t{1} << 20;
// `cep run --max-record-bytes`: the default longest record (1 MiB), and the most bytes of a longer
// one that are kept (for its dead letter).
constexpr std::size_t kDefaultMaxRecordBytes = std::size_t{1} << 20;
constexpr std::size_t kOversizedPrefix = 1024;

constexpr std::int64_t kNoSourceTime = INT64_MIN;

struct Line {
  std::string_view text;    // without the line terminator ("\n" or "\r\n")
  std::size_t capacity = 0; // readable bytes from text.data(): >= text.size() + kLinePadding
  std::uint64_t number = 0; // 1-based
  std::uint64_t offset = 0; // byte offset of the line's start in the input
  // Non-zero: the line had this many bytes (terminator excluded), more than max_record_bytes;
  // `text` is only its first min(kOversizedPrefix, max_record_bytes) bytes.
  std::uint64_t oversized = 0;
  // A record of a RecordSource (record_source.hpp): the message's timestamp in epoch ms, the
  // event time of a type without a time field; kNoSourceTime (files): the ingestion time is.
  std::int64_t source_time = kNoSourceTime;
};

enum class ReadStatus : std::uint8_t {
  Line,
  End,
  Error,
  Interrupted, // a stop was asked (stop_signals.hpp): nothing more is handed out
  Pending,     // non-blocking only: no whole line has arrived yet (wait on fd(), then ask again)
};

// How often a followed regular file is checked for growth at its end (`--follow`): regular
// files are always readable for poll(), so the wait is a bounded interval, as `tail -f` does.
constexpr int kFollowIntervalMs = 50;

class LineReader {
public:
  // `path` "-" is stdin. Opening never fails here: a file that cannot be opened makes the first
  // next() return Error with `cannot open "<path>": <reason>`. `read_size` (the bytes asked of
  // each read) is small only in tests; the buffer grows for longer lines.
  // `max_record_bytes` 0: no limit.
  explicit LineReader(std::string path, std::size_t read_size = kDefaultReadSize,
                      std::size_t max_record_bytes = 0);
  ~LineReader();
  LineReader(const LineReader &) = delete;
  LineReader &operator=(const LineReader &) = delete;

  // The next non-blank line. The line stays valid until the next call.
  ReadStatus next(Line &line);

  // Non-blocking: next() returns Pending instead of waiting for a pipe, FIFO or terminal, or for
  // a followed file to grow (Inputs::nextArrived waits on several inputs at once instead).
  void setNonBlocking(bool non_blocking) { non_blocking_ = non_blocking; }
  // `--follow`: at the end of a regular file wait for more (poll every kFollowIntervalMs), as
  // `tail -f`; the input never ends (a truncated or replaced file is not noticed). A last line
  // without a newline is handed out only once its newline arrives.
  void setFollow(bool follow) { follow_ = follow; }
  bool follows() const { return follow_ && regular_; }
  // A pipe, FIFO or terminal: reads may block, poll() on fd() says when a line may have come.
  bool isStream() const { return !regular_ && fd_ >= 0; }
  int fd() const { return fd_; }

  // Before the first next(): continue at byte `offset` of the input, the end of a record a
  // previous reader handed out (recordEnd()), numbering lines on from `line` (its recordLine()).
  // A regular file other than stdin (seekable()) is sought there; any other input is taken to
  // start at that byte (its producer replays from there). A BOM is looked for only at offset 0.
  // False with `error` (`cannot seek "<path>" to byte N: <reason>`) when the seek fails.
  bool resumeAt(std::uint64_t offset, std::uint64_t line, std::string &error);
  // A regular file named by its path (not stdin): resumeAt seeks it.
  bool seekable() const { return regular_ && fd_ >= 0 && path_ != "-"; }
  // The byte offset just after the last record handed out (after its line terminator; the end
  // of the input for a last line without one) and that record's line number. Blank lines after
  // it are not counted. Before the first record: the resumed position, or 0 and 0.
  std::uint64_t recordEnd() const { return record_end_; }
  std::uint64_t recordLine() const { return record_line_; }

  const std::string &path() const { return path_; }
  // "<stdin>" for "-", else the path as given.
  const std::string &name() const { return name_; }
  const std::string &error() const { return error_; }
  bool isOpen() const { return fd_ >= 0; }

private:
  bool fill(); // reads more; false at end of input, on error or when a stop was asked
  // Zeroes the kLinePadding bytes after the bytes read.
  void zeroTail() { std::memset(buffer_.get() + end_, 0, kLinePadding); }
  void fail(const char *what);
  // The line at begin_ is longer than max_record_bytes_ and has no newline in the buffer yet:
  // keeps its prefix, reads and drops the rest up to the next newline; fills `line`.
  void skipOversized(Line &line);

  std::string path_;
  std::string name_;
  int fd_ = -1;
  bool owns_fd_ = false;
  bool eof_ = false;
  bool bom_checked_ = false;
  bool error_reported_ = false;
  bool regular_ = false;     // a regular file: reads never block
  bool interrupted_ = false; // a stop was asked
  bool non_blocking_ = false;
  bool follow_ = false;
  bool pending_ = false; // the last fill() found nothing to read yet (non-blocking)
  std::string error_;
  // capacity_ + kLinePadding bytes; the kLinePadding bytes after end_ are zero (zeroTail), the
  // rest after them is not initialised (never read: a line's reader reads at most kLinePadding
  // bytes past its end, which is at most end_).
  std::unique_ptr<char[]> buffer_;
  std::size_t capacity_ = 0;
  std::size_t begin_ = 0; // first unconsumed byte
  std::size_t end_ = 0;   // end of the bytes read
  std::size_t read_size_;
  std::size_t max_record_bytes_;
  std::uint64_t line_number_ = 0;
  std::uint64_t consumed_ = 0; // input bytes before buffer_[0]
  std::uint64_t record_end_ = 0;
  std::uint64_t record_line_ = 0;
  std::string prefix_; // the kept start of an oversized line
};

} // namespace cep::runtime
