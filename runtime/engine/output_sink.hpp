// Where match records go: stdout or a file, written in large blocks through the file descriptor
// (one write per 64 KiB, not one per record), or a string in tests. The first failed write is
// remembered with its reason and stops further writes; the caller checks failed() and exits 3.
// The destructor flushes what is left, so records already produced are not lost when the run
// stops early (strict mode, an input error, an exception).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace cep::runtime {

class OutputSink {
public:
  // A sink that appends to `capture` (tests). Never fails.
  explicit OutputSink(std::string &capture);
  // `path` "-" is stdout; a file is created or truncated. Null with `error` set on failure.
  static std::unique_ptr<OutputSink> open(const std::string &path, std::string &error);
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
  // Writes out what is buffered. False when this or an earlier write failed.
  bool flush();

  bool failed() const { return !error_.empty(); }
  const std::string &error() const { return error_; } // `cannot write "<name>": <reason>`
  const std::string &name() const { return name_; }   // "<stdout>" or the path

private:
  OutputSink(int fd, bool owns_fd, std::string name);

  static constexpr std::size_t kBlockSize = std::size_t{64} << 10;

  int fd_ = -1;
  bool owns_fd_ = false;
  std::string *capture_ = nullptr;
  std::string name_;
  std::string buffer_;
  std::string error_;
};

} // namespace cep::runtime
