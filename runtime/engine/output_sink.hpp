// Where match records (and, through SinkStream, dead letters and late events) go: stdout or a
// file, written in large blocks through the file descriptor (one write per 64 KiB, not one per
// record), or a string in tests. Records are lines; a record is written whole or not at all: a
// block is written up to its last complete line, and when a write fails (ENOSPC, EFBIG, ...) a
// regular file is cut back (ftruncate) to the end of the last whole record. The first failure is
// remembered with its reason and where the output stops, and stops further writes; the caller
// checks failed() and exits 3. The destructor flushes what is left, so records already produced
// are not lost when the run stops early (strict mode, an input error, a stop signal, an
// exception).
//
// Positions (exactly-once recovery, issue #11): after flush(), bytesWritten() is the logical
// length of the file, what a checkpoint records; a restarted run continues the file with
// openAt(path, length), which cuts off what was written after that checkpoint. flush() is
// write(2): once it returns the bytes survive a kill -9 of the process (they are in the page
// cache), not a power loss or a kernel crash; sync() (fdatasync) is what survives those.
//
//   auto sink = OutputSink::openAt("alerts.jsonl", checkpoint.length, error); // null: refused
//   sink->writeLine(record);
//   sink->flush();
//   std::uint64_t length = sink->bytesWritten(); // the next checkpoint records this
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <streambuf>
#include <string>
#include <string_view>

namespace cep::runtime {

class OutputSink {
public:
  // A sink that appends to `capture` (tests). Never fails.
  explicit OutputSink(std::string &capture);
  // `path` "-" is stdout; a file is created or truncated. Null with `error` set on failure.
  static std::unique_ptr<OutputSink> open(const std::string &path, std::string &error);
  // An existing regular file continued at `length` (a checkpoint's bytesWritten()): cut to it
  // (ftruncate) and appended to. Null with `error` when it is missing, not a regular file, or
  // shorter than `length` (damaged): `cannot resume "<path>" at byte N: <reason>`
  // (io/file_write.hpp, openAtLength).
  static std::unique_ptr<OutputSink> openAt(const std::string &path, std::uint64_t length,
                                            std::string &error);
  // Hands each whole record (without its newline) to `write` when flushed, instead of writing
  // bytes: a Kafka topic (runtime/kafka/kafka_sink.hpp). `write` false with a reason fails the
  // sink as a failed write does (`cannot write "<name>": <reason>; it ends after ...`).
  // `close` (optional) runs once in the destructor, after the last flush (the producer's flush).
  using RecordWriter = std::function<bool(std::string_view record, std::string &error)>;
  static std::unique_ptr<OutputSink> toRecords(std::string name, RecordWriter write,
                                               std::function<void()> close = {});
  // A sink over `fd` (tests: a pipe, /dev/full), not closed by the sink; `name` in errors.
  static std::unique_ptr<OutputSink> wrap(int fd, std::string name);
  ~OutputSink();
  OutputSink(const OutputSink &) = delete;
  OutputSink &operator=(const OutputSink &) = delete;

  // Appends `line` and a newline.
  void writeLine(std::string_view line) {
    buffer_.append(line);
    buffer_.push_back('\n');
    if (buffer_.size() >= kBlockSize) {
      flush();
    }
  }
  // A line written in place (an operator's records written directly, engine/driver.hpp): the
  // caller appends the record's bytes to beginLine()'s string, then endLine() ends it (the
  // newline) as writeLine does. No other call on the sink in between.
  std::string &beginLine() { return buffer_; }
  void endLine() {
    if (mark_at_end_) {
      markAtEnd();
    }
    buffer_.push_back('\n');
    if (buffer_.size() >= kBlockSize) {
      flush();
    }
  }
  // The end of input (Driver::finish, records written directly): while on, every line ended by
  // endLine() gets "@at_end":true before its closing brace, as the driver marks the records it
  // writes itself, and is counted; markedLines() says how many so far.
  void markLinesAtEnd(bool on) { mark_at_end_ = on; }
  std::uint64_t markedLines() const { return marked_; }
  // Appends bytes; a record is complete at its newline (SinkStream writes a record in parts).
  void write(std::string_view bytes) {
    buffer_.append(bytes);
    if (buffer_.size() >= kBlockSize) {
      flush();
    }
  }
  // Writes out the complete records buffered (write(2): safe from a kill -9 once it returns).
  // False when this or an earlier write failed.
  bool flush();
  // flush(), then fdatasync of a regular file, so the records survive a power loss too (a
  // pipe, a terminal or a string: flush() only). False with error() set when either failed.
  bool sync();
  // fdatasync of what was written (flushed) so far, and nothing else: callable from another
  // thread while the owner goes on writing (`cep serve --state` syncs on its checkpoint
  // thread). Touches neither the buffer nor error(); false with `error` when it failed.
  bool syncWritten(std::string &error) const;

  bool failed() const { return !error_.empty(); }
  // `cannot write "<name>": <reason>; it ends after <n> whole records (<m> bytes)`
  const std::string &error() const { return error_; }
  const std::string &name() const { return name_; }  // "<stdout>" or the path
  std::uint64_t records() const { return records_; } // whole records written
  std::uint64_t bytes() const { return bytes_; }     // their bytes
  // The file's logical length: where it was when opened (0 when created; `length` for openAt;
  // stdout's offset when it is a regular file) plus every byte written since. Records still
  // buffered are not in it: flush() first.
  std::uint64_t bytesWritten() const { return static_cast<std::uint64_t>(base_) + bytes_; }

private:
  OutputSink(int fd, bool owns_fd, std::string name);
  void fail(int error, std::size_t partial);
  bool flushRecords(std::size_t whole); // toRecords

  static constexpr std::size_t kBlockSize = std::size_t{64} << 10;

  int fd_ = -1;
  bool owns_fd_ = false;
  bool regular_ = false;  // a regular file: a torn record can be cut off
  std::int64_t base_ = 0; // its offset when opened (stdout appended to a file)
  std::string *capture_ = nullptr;
  RecordWriter records_writer_;
  std::function<void()> close_;
  std::string name_;
  std::string buffer_;
  bool mark_at_end_ = false;
  std::uint64_t marked_ = 0;
  void markAtEnd(); // the line being ended: "@at_end":true in its object
  std::string error_;
  std::uint64_t records_ = 0;
  std::uint64_t bytes_ = 0;
};

// A std::ostream whose bytes go to an OutputSink (Rejects writes dead letters and late events
// to an ostream). Unbuffered: every write is appended to the sink at once.
class SinkStream : public std::ostream {
public:
  explicit SinkStream(OutputSink &sink) : std::ostream(nullptr), buf_(sink) { rdbuf(&buf_); }

private:
  class Buf : public std::streambuf {
  public:
    explicit Buf(OutputSink &sink) : sink_(&sink) {}

  protected:
    std::streamsize xsputn(const char *data, std::streamsize n) override {
      sink_->write(std::string_view(data, static_cast<std::size_t>(n)));
      return n;
    }
    int_type overflow(int_type c) override {
      if (!traits_type::eq_int_type(c, traits_type::eof())) {
        char byte = traits_type::to_char_type(c);
        sink_->write(std::string_view(&byte, 1));
      }
      return traits_type::not_eof(c);
    }

  private:
    OutputSink *sink_;
  };
  Buf buf_;
};

} // namespace cep::runtime
