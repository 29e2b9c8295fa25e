// fileIdentityAt / fileIdentityMismatch (file_identity.hpp).
#include "runtime/io/file_identity.hpp"

#include "support/fnv1a.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>

namespace cep::runtime {

namespace {

// Reads exactly `size` bytes at `offset` into `out`. False with `error` otherwise.
bool readAt(int fd, std::uint64_t offset, std::size_t size, char *out, std::string &error) {
  std::size_t done = 0;
  while (done < size) {
    ssize_t got = ::pread(fd, out + done, size - done, static_cast<off_t>(offset + done));
    if (got > 0) {
      done += static_cast<std::size_t>(got);
      continue;
    }
    if (got < 0 && errno == EINTR) {
      continue;
    }
    error = got == 0 ? "cannot read: it ends at byte " + std::to_string(offset + done)
                     : std::string("cannot read: ") + std::strerror(errno);
    return false;
  }
  return true;
}

struct Fingerprint {
  std::uint64_t head = 0;
  std::uint64_t tail = 0;
};

bool fingerprintAt(int fd, std::uint64_t offset, Fingerprint &out, std::string &error) {
  char buffer[kFingerprintBytes];
  auto size = static_cast<std::size_t>(std::min<std::uint64_t>(kFingerprintBytes, offset));
  if (!readAt(fd, 0, size, buffer, error)) {
    return false;
  }
  out.head = fingerprintHash(buffer, size);
  if (!readAt(fd, offset - size, size, buffer, error)) {
    return false;
  }
  out.tail = fingerprintHash(buffer, size);
  return true;
}

} // namespace

std::uint64_t fingerprintHash(const char *data, std::size_t size) {
  return fnv1a64(std::string_view(data, size));
}

bool fileIdentityAt(int fd, std::uint64_t offset, FileIdentity &identity, std::string &error) {
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    error = std::string("cannot read: ") + std::strerror(errno);
    return false;
  }
  if (!S_ISREG(info.st_mode)) {
    error = "it is not a regular file";
    return false;
  }
  if (static_cast<std::uint64_t>(info.st_size) < offset) {
    error = "it has " + std::to_string(info.st_size) + " bytes, fewer than the offset " +
            std::to_string(offset);
    return false;
  }
  Fingerprint fingerprint;
  if (!fingerprintAt(fd, offset, fingerprint, error)) {
    return false;
  }
  identity.seekable = true;
  identity.device = static_cast<std::uint64_t>(info.st_dev);
  identity.inode = static_cast<std::uint64_t>(info.st_ino);
  identity.head_hash = fingerprint.head;
  identity.tail_hash = fingerprint.tail;
  return true;
}

std::string fileIdentityMismatch(int fd, std::uint64_t offset, const FileIdentity &expected) {
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    return std::string("cannot read: ") + std::strerror(errno);
  }
  if (!S_ISREG(info.st_mode)) {
    return "it is not a regular file";
  }
  auto device = static_cast<std::uint64_t>(info.st_dev);
  auto inode = static_cast<std::uint64_t>(info.st_ino);
  if (device != expected.device || inode != expected.inode) {
    return "it was replaced (device " + std::to_string(expected.device) + " inode " +
           std::to_string(expected.inode) + " then, device " + std::to_string(device) + " inode " +
           std::to_string(inode) + " now)";
  }
  if (static_cast<std::uint64_t>(info.st_size) < offset) {
    return "it was truncated (" + std::to_string(info.st_size) + " bytes now)";
  }
  Fingerprint now;
  std::string error;
  if (!fingerprintAt(fd, offset, now, error)) {
    return error;
  }
  std::uint64_t size = std::min<std::uint64_t>(kFingerprintBytes, offset);
  if (now.head != expected.head_hash) {
    return "it changed (its first " + std::to_string(size) + " bytes differ)";
  }
  if (now.tail != expected.tail_hash) {
    return "it changed (its " + std::to_string(size) + " bytes before byte " +
           std::to_string(offset) + " differ)";
  }
  return {};
}

} // namespace cep::runtime
