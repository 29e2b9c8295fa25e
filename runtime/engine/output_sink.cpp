#include "runtime/engine/output_sink.hpp"

#include "runtime/io/file_write.hpp"
#include "support/internal_error.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace cep::runtime {

void OutputSink::markAtEnd() {
  CEP_ASSERT(!buffer_.empty() && buffer_.back() == '}', "an output record is one JSON object");
  buffer_.insert(buffer_.size() - 1, R"(,"@at_end":true)");
  ++marked_;
}

namespace {

// Newlines in [data, data + size): memchr jumps from record to record (std::count looks at
// every byte one at a time).
std::uint64_t countLines(const char *data, std::size_t size) {
  std::uint64_t lines = 0;
  const char *end = data + size;
  while (const void *nl = std::memchr(data, '\n', static_cast<std::size_t>(end - data))) {
    ++lines;
    data = static_cast<const char *>(nl) + 1;
  }
  return lines;
}

} // namespace

OutputSink::OutputSink(std::string &capture) : capture_(&capture), name_("<string>") {}

OutputSink::OutputSink(int fd, bool owns_fd, std::string name)
    : fd_(fd), owns_fd_(owns_fd), name_(std::move(name)) {
  buffer_.reserve(kBlockSize + 4096);
  struct stat info {};
  regular_ = ::fstat(fd_, &info) == 0 && S_ISREG(info.st_mode);
  if (regular_) {
    off_t offset = ::lseek(fd_, 0, SEEK_CUR);
    regular_ = offset >= 0;
    base_ = offset;
  }
}

std::unique_ptr<OutputSink> OutputSink::open(const std::string &path, std::string &error) {
  if (path == "-") {
    return std::unique_ptr<OutputSink>(new OutputSink(STDOUT_FILENO, false, "<stdout>"));
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) {
    error = "cannot open \"" + path + "\" for writing: " + std::strerror(errno);
    return nullptr;
  }
  return std::unique_ptr<OutputSink>(new OutputSink(fd, true, path));
}

std::unique_ptr<OutputSink> OutputSink::openAt(const std::string &path, std::uint64_t length,
                                               std::string &error) {
  int fd = openAtLength(path, length, error);
  if (fd < 0) {
    return nullptr;
  }
  return std::unique_ptr<OutputSink>(new OutputSink(fd, true, path));
}

std::unique_ptr<OutputSink> OutputSink::wrap(int fd, std::string name) {
  return std::unique_ptr<OutputSink>(new OutputSink(fd, false, std::move(name)));
}

std::unique_ptr<OutputSink> OutputSink::toRecords(std::string name, RecordWriter write,
                                                  std::function<void()> close) {
  std::unique_ptr<OutputSink> sink(new OutputSink(-1, false, std::move(name)));
  sink->records_writer_ = std::move(write);
  sink->close_ = std::move(close);
  return sink;
}

OutputSink::~OutputSink() {
  flush();
  if (close_) {
    close_();
  }
  if (owns_fd_) {
    ::close(fd_);
  }
}

void OutputSink::fail(int error, std::size_t partial) {
  error_ = "cannot write \"" + name_ + "\": " + std::strerror(error);
  if (partial > 0 && regular_) {
    // Cut the torn record off: the file ends at the last whole record.
    if (::ftruncate(fd_, static_cast<off_t>(base_ + static_cast<std::int64_t>(bytes_))) == 0) {
      partial = 0;
    }
  }
  error_ += "; it ends after " + std::to_string(records_) +
            (records_ == 1 ? " whole record (" : " whole records (") + std::to_string(bytes_) +
            " bytes)";
  if (partial > 0) {
    error_ += " and " + std::to_string(partial) + " bytes of the next";
  }
}

bool OutputSink::sync() {
  if (!flush()) {
    return false;
  }
  if (capture_ != nullptr || !regular_ || fd_ < 0) {
    return true;
  }
  while (::fdatasync(fd_) != 0) {
    if (errno != EINTR) {
      error_ = "cannot sync \"" + name_ + "\": " + std::strerror(errno);
      return false;
    }
  }
  return true;
}

bool OutputSink::syncWritten(std::string &error) const {
  if (capture_ != nullptr || !regular_) {
    return true;
  }
  while (::fdatasync(fd_) != 0) {
    if (errno != EINTR) {
      error = "cannot sync \"" + name_ + "\": " + std::strerror(errno);
      return false;
    }
  }
  return true;
}

bool OutputSink::flush() {
  if (failed()) {
    buffer_.clear();
    return false;
  }
  // Whole records only: a record written in parts (SinkStream) waits for its newline.
  std::size_t whole = buffer_.rfind('\n');
  if (whole == std::string::npos) {
    return true;
  }
  ++whole;
  if (capture_ != nullptr) {
    capture_->append(buffer_, 0, whole);
    records_ += countLines(buffer_.data(), whole);
    bytes_ += whole;
    buffer_.erase(0, whole);
    return true;
  }
  if (records_writer_) {
    return flushRecords(whole);
  }
  const char *data = buffer_.data();
  std::size_t done = 0;    // bytes of this block written
  std::size_t counted = 0; // of them, up to the end of the last whole record counted
  while (done < whole) {
    ssize_t written = ::write(fd_, data + done, whole - done);
    if (written < 0) {
      if (errno == EINTR) {
        continue;
      }
      int error = errno;
      const char *last = static_cast<const char *>(
          done == 0 ? nullptr : ::memrchr(data + counted, '\n', done - counted));
      if (last != nullptr) {
        std::size_t end = static_cast<std::size_t>(last - data) + 1;
        records_ += countLines(data + counted, end - counted);
        bytes_ += end - counted;
        counted = end;
      }
      fail(error, done - counted);
      buffer_.clear();
      return false;
    }
    done += static_cast<std::size_t>(written);
  }
  records_ += countLines(data, whole);
  bytes_ += whole;
  buffer_.erase(0, whole);
  return true;
}

} // namespace cep::runtime

namespace cep::runtime {

bool OutputSink::flushRecords(std::size_t whole) {
  std::size_t begin = 0;
  std::string why;
  while (begin < whole) {
    std::size_t end = buffer_.find('\n', begin);
    if (!records_writer_(std::string_view(buffer_).substr(begin, end - begin), why)) {
      error_ = "cannot write \"" + name_ + "\": " + why + "; it ends after " +
               std::to_string(records_) + (records_ == 1 ? " whole record" : " whole records");
      buffer_.clear();
      return false;
    }
    ++records_;
    bytes_ += end + 1 - begin;
    begin = end + 1;
  }
  buffer_.erase(0, whole);
  return true;
}

} // namespace cep::runtime
