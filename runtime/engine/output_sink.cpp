#include "runtime/engine/output_sink.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace cep::runtime {

OutputSink::OutputSink(std::string &capture) : capture_(&capture), name_("<string>") {}

OutputSink::OutputSink(int fd, bool owns_fd, std::string name)
    : fd_(fd), owns_fd_(owns_fd), name_(std::move(name)) {
  buffer_.reserve(kBlockSize + 4096);
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

OutputSink::~OutputSink() {
  flush();
  if (owns_fd_) {
    ::close(fd_);
  }
}

bool OutputSink::flush() {
  if (failed()) {
    buffer_.clear();
    return false;
  }
  if (capture_ != nullptr) {
    capture_->append(buffer_);
    buffer_.clear();
    return true;
  }
  const char *data = buffer_.data();
  std::size_t left = buffer_.size();
  while (left > 0) {
    ssize_t written = ::write(fd_, data, left);
    if (written < 0) {
      if (errno == EINTR) {
        continue;
      }
      error_ = "cannot write \"" + name_ + "\": " + std::strerror(errno);
      break;
    }
    data += written;
    left -= static_cast<std::size_t>(written);
  }
  buffer_.clear();
  return !failed();
}

} // namespace cep::runtime
