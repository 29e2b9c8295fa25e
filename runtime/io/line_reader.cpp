#include "runtime/io/line_reader.hpp"

#include "runtime/io/stop_signals.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

namespace cep::runtime {

namespace {

bool isBlank(const char *begin, const char *end) {
  for (const char *p = begin; p != end; ++p) {
    if (*p != ' ' && *p != '\t' && *p != '\r') {
      return false;
    }
  }
  return true;
}

std::string quoted(const std::string &path) {
  return path == "-" ? std::string("standard input") : "\"" + path + "\"";
}

} // namespace

LineReader::LineReader(std::string path, std::size_t read_size, std::size_t max_record_bytes)
    : path_(std::move(path)), read_size_(std::max<std::size_t>(read_size, 1)),
      max_record_bytes_(max_record_bytes) {
  name_ = path_ == "-" ? std::string("<stdin>") : path_;
  struct stat info {};
  if (path_ == "-") {
    fd_ = STDIN_FILENO;
    regular_ = ::fstat(fd_, &info) == 0 && S_ISREG(info.st_mode);
    return;
  }
  do { // opening a FIFO waits for its writer; a stop signal ends the wait
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd_ < 0 && errno == EINTR && stopSignal() == 0);
  if (fd_ < 0 && errno == EINTR) {
    interrupted_ = true;
    eof_ = true;
    return;
  }
  if (fd_ < 0) {
    fail("cannot open");
    return;
  }
  owns_fd_ = true;
  if (::fstat(fd_, &info) == 0 && S_ISDIR(info.st_mode)) {
    errno = EISDIR;
    fail("cannot open");
    return;
  }
  regular_ = S_ISREG(info.st_mode);
}

LineReader::~LineReader() {
  if (owns_fd_ && fd_ >= 0) {
    ::close(fd_);
  }
}

bool LineReader::resumeAt(std::uint64_t offset, std::uint64_t line, std::string &error) {
  if (buffer_ || line_number_ != 0) {
    error = "cannot resume " + quoted(path_) + ": it has been read already";
    return false;
  }
  if (seekable() &&
      ::lseek(fd_, static_cast<off_t>(offset), SEEK_SET) != static_cast<off_t>(offset)) {
    error = "cannot seek " + quoted(path_) + " to byte " + std::to_string(offset) + ": " +
            std::strerror(errno);
    return false;
  }
  consumed_ = offset;
  record_end_ = offset;
  record_line_ = line;
  line_number_ = line;
  bom_checked_ = offset > 0;
  return true;
}

void LineReader::fail(const char *what) {
  error_ = std::string(what) + " " + quoted(path_) + ": " + std::strerror(errno);
  eof_ = true;
  if (owns_fd_ && fd_ >= 0) {
    ::close(fd_);
  }
  fd_ = -1;
  owns_fd_ = false;
}

bool LineReader::fill() {
  if (eof_) {
    return false;
  }
  // Not zeroed whole: a 1 MiB buffer zeroed is 256 page faults at every start, for an input of one
  // line too. The kLinePadding bytes after the bytes read are zeroed instead, after every change.
  if (!buffer_) {
    capacity_ = read_size_;
    buffer_.reset(new char[capacity_ + kLinePadding]);
    zeroTail();
  }
  if (begin_ > 0) { // keep the partial line, at the front
    std::memmove(buffer_.get(), buffer_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    consumed_ += begin_;
    begin_ = 0;
    zeroTail();
  }
  if (capacity_ - end_ < std::max<std::size_t>(capacity_ / 4, 1)) { // a long line: grow
    std::size_t grown = capacity_ * 2;
    std::unique_ptr<char[]> bigger(new char[grown + kLinePadding]);
    std::memcpy(bigger.get(), buffer_.get(), end_);
    buffer_ = std::move(bigger);
    capacity_ = grown;
    zeroTail();
  }
  for (;;) {
    if (stopSignal() != 0) {
      interrupted_ = true;
      return false;
    }
    if (!regular_ && (non_blocking_ || stopWakeFd() >= 0)) {
      // Wait for the input or a stop signal, whichever comes first (the signal pipe is written
      // by the handler, so a signal just before poll() is not missed); non-blocking: only look.
      pollfd fds[2] = {{fd_, POLLIN, 0}, {stopWakeFd(), POLLIN, 0}};
      if (::poll(fds, stopWakeFd() >= 0 ? 2 : 1, non_blocking_ ? 0 : -1) < 0 && errno != EINTR) {
        fail("cannot read");
        return false;
      }
      if (stopSignal() != 0) {
        interrupted_ = true;
        return false;
      }
      if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) == 0) {
        if (non_blocking_) {
          pending_ = true;
          return false;
        }
        continue;
      }
    }
    std::size_t want = std::min(read_size_, capacity_ - end_);
    ssize_t got = ::read(fd_, buffer_.get() + end_, want);
    if (got > 0) {
      end_ += static_cast<std::size_t>(got);
      zeroTail();
      return true;
    }
    if (got == 0 && follow_ && regular_) {
      if (non_blocking_) {
        pending_ = true;
        return false;
      }
      // A followed file at its end: look again after an interval, or when a stop is asked.
      pollfd stop{stopWakeFd(), POLLIN, 0};
      ::poll(&stop, stopWakeFd() >= 0 ? 1 : 0, kFollowIntervalMs);
      continue;
    }
    if (got == 0) {
      eof_ = true;
      return false;
    }
    if (errno != EINTR) {
      fail("cannot read");
      return false;
    }
  }
}

ReadStatus LineReader::next(Line &line) {
  for (;;) {
    if (interrupted_) {
      return ReadStatus::Interrupted;
    }
    if (!error_.empty()) {
      if (error_reported_) {
        return ReadStatus::End;
      }
      error_reported_ = true;
      return ReadStatus::Error;
    }
    char *data = buffer_.get();
    const char *newline = nullptr;
    if (begin_ < end_) {
      newline = static_cast<const char *>(std::memchr(data + begin_, '\n', end_ - begin_));
    }
    std::size_t stop = 0;
    std::size_t next_begin = 0;
    if (newline != nullptr) {
      stop = static_cast<std::size_t>(newline - data);
      next_begin = stop + 1;
    } else if (eof_) {
      if (begin_ == end_) {
        return ReadStatus::End;
      }
      stop = end_; // the last line has no newline: terminate it in the padding
      next_begin = end_;
      data[end_] = '\n';
    } else if (max_record_bytes_ > 0 && end_ - begin_ > max_record_bytes_) {
      skipOversized(line);
      return ReadStatus::Line;
    } else {
      if (!fill()) {
        if (interrupted_) {
          return ReadStatus::Interrupted;
        }
        if (pending_) {
          pending_ = false;
          return ReadStatus::Pending;
        }
      }
      continue;
    }
    ++line_number_;
    std::size_t start = begin_;
    begin_ = next_begin;
    if (stop > start && data[stop - 1] == '\r') {
      --stop;
    }
    if (!bom_checked_) {
      bom_checked_ = true;
      if (stop - start >= 3 && std::memcmp(data + start, "\xEF\xBB\xBF", 3) == 0) {
        start += 3;
      }
    }
    if (isBlank(data + start, data + stop)) {
      continue;
    }
    line.text = std::string_view(data + start, stop - start);
    line.capacity = capacity_ + kLinePadding - start;
    line.number = line_number_;
    line.offset = consumed_ + start;
    line.oversized = 0;
    if (max_record_bytes_ > 0 && stop - start > max_record_bytes_) {
      line.oversized = stop - start;
      prefix_.assign(data + start, std::min({stop - start, kOversizedPrefix, max_record_bytes_}));
      prefix_.append(kLinePadding, '\0');
      line.text = std::string_view(prefix_.data(), prefix_.size() - kLinePadding);
      line.capacity = prefix_.size();
    }
    record_end_ = consumed_ + begin_;
    record_line_ = line_number_;
    return ReadStatus::Line;
  }
}

void LineReader::skipOversized(Line &line) {
  ++line_number_;
  bool first_line = !bom_checked_;
  bom_checked_ = true;
  char *data = buffer_.get();
  std::size_t start = begin_;
  if (first_line && end_ - start >= 3 && std::memcmp(data + start, "\xEF\xBB\xBF", 3) == 0) {
    start += 3;
  }
  line.number = line_number_;
  line.offset = consumed_ + start;
  prefix_.assign(data + start, std::min({end_ - start, kOversizedPrefix, max_record_bytes_}));
  std::uint64_t length = end_ - start;
  bool last_cr = data[end_ - 1] == '\r';
  // Drop what is buffered and read on to the next newline (or the end), counting; waiting for
  // the rest even when non-blocking (the line has begun, its end is near).
  consumed_ += end_;
  begin_ = end_ = 0;
  bool non_blocking = non_blocking_;
  non_blocking_ = false;
  while (fill()) {
    data = buffer_.get();
    const void *newline = std::memchr(data, '\n', end_);
    if (newline != nullptr) {
      auto stop = static_cast<std::size_t>(static_cast<const char *>(newline) - data);
      length += stop;
      last_cr = stop > 0 ? data[stop - 1] == '\r' : last_cr;
      begin_ = stop + 1;
      break;
    }
    length += end_;
    last_cr = end_ > 0 ? data[end_ - 1] == '\r' : last_cr;
    consumed_ += end_;
    end_ = 0;
  }
  non_blocking_ = non_blocking;
  if (last_cr) {
    --length; // CRLF: the CR is the terminator's
  }
  prefix_.append(kLinePadding, '\0');
  line.text = std::string_view(prefix_.data(), prefix_.size() - kLinePadding);
  line.capacity = prefix_.size();
  line.oversized = length;
  record_end_ = consumed_ + begin_;
  record_line_ = line_number_;
}

} // namespace cep::runtime
