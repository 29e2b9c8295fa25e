// writeFileAtomically / readWholeFile (file_write.hpp).
#include "runtime/io/file_write.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

namespace cep::runtime {

namespace {

// What a file that is not a regular one is, for refusals.
const char *fileKind(mode_t mode) {
  return S_ISLNK(mode)    ? "a symbolic link"
         : S_ISDIR(mode)  ? "a directory"
         : S_ISFIFO(mode) ? "a FIFO"
         : S_ISSOCK(mode) ? "a socket"
                          : "a device";
}

} // namespace

bool writeFileAtomically(const std::string &path, std::string_view bytes, std::string &error) {
  auto fail = [&](const std::string &why) {
    error = "cannot write \"" + path + "\": " + why;
    return false;
  };
  struct stat existing {};
  if (::lstat(path.c_str(), &existing) == 0 && !S_ISREG(existing.st_mode)) {
    return fail(std::string("it exists and is ") + fileKind(existing.st_mode) +
                ", not a regular file");
  }
  std::filesystem::path target(path);
  std::string dir = target.parent_path().empty() ? "." : target.parent_path().string();
  std::string temporary = dir + "/." + target.filename().string() + ".XXXXXX";
  int fd = ::mkstemp(temporary.data());
  if (fd < 0) {
    return fail(std::strerror(errno));
  }
  auto abandon = [&](int why) {
    ::close(fd);
    ::unlink(temporary.c_str());
    return fail(std::strerror(why));
  };
  mode_t mask = ::umask(0);
  ::umask(mask);
  if (::fchmod(fd, 0666 & ~mask) != 0) {
    return abandon(errno);
  }
  const char *data = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    ssize_t written = ::write(fd, data, left);
    if (written < 0) {
      if (errno == EINTR) {
        continue;
      }
      return abandon(errno);
    }
    data += written;
    left -= static_cast<std::size_t>(written);
  }
  if (::fsync(fd) != 0) {
    return abandon(errno);
  }
  if (::close(fd) != 0) {
    int saved = errno;
    ::unlink(temporary.c_str());
    return fail(std::strerror(saved));
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    int saved = errno;
    ::unlink(temporary.c_str());
    return fail(std::strerror(saved));
  }
  if (int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir_fd >= 0) {
    ::fsync(dir_fd); // the rename survives a crash once the folder is synced
    ::close(dir_fd);
  }
  return true;
}

int openAtLength(const std::string &path, std::uint64_t length, std::string &error) {
  auto fail = [&](const std::string &why) {
    error = "cannot resume \"" + path + "\" at byte " + std::to_string(length) + ": " + why;
    return -1;
  };
  struct stat info {};
  // stat before open: opening a FIFO for writing would wait for a reader.
  if (::stat(path.c_str(), &info) != 0) {
    return fail(std::strerror(errno));
  }
  if (!S_ISREG(info.st_mode)) {
    return fail(std::string("it is ") + fileKind(info.st_mode) + ", not a regular file");
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    return fail(std::strerror(errno));
  }
  auto abandon = [&](const std::string &why) {
    ::close(fd);
    return fail(why);
  };
  if (::fstat(fd, &info) != 0) {
    return abandon(std::strerror(errno));
  }
  if (!S_ISREG(info.st_mode)) { // replaced between the two looks
    return abandon(std::string("it is ") + fileKind(info.st_mode) + ", not a regular file");
  }
  if (static_cast<std::uint64_t>(info.st_size) < length) {
    return abandon("it has " + std::to_string(info.st_size) +
                   " bytes, fewer than it had then (damaged: cut or replaced since)");
  }
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
    return abandon(std::strerror(errno));
  }
  if (::ftruncate(fd, static_cast<off_t>(length)) != 0) {
    return abandon(std::strerror(errno));
  }
  if (::lseek(fd, static_cast<off_t>(length), SEEK_SET) != static_cast<off_t>(length)) {
    return abandon(std::strerror(errno));
  }
  return fd;
}

bool readWholeFile(const std::string &path, std::string &bytes, std::string &error) {
  auto fail = [&](const std::string &why) {
    error = "cannot read \"" + path + "\": " + why;
    return false;
  };
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return fail(std::strerror(errno));
  }
  struct stat info {};
  if (::fstat(fd, &info) == 0 && S_ISDIR(info.st_mode)) {
    ::close(fd);
    return fail("it is a directory");
  }
  bytes.clear();
  char buffer[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      int saved = errno;
      ::close(fd);
      return fail(std::strerror(saved));
    }
    if (n == 0) {
      break;
    }
    bytes.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return true;
}

} // namespace cep::runtime
