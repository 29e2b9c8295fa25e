// Which file an input was, and whether the bytes a run has consumed of it are still there: the
// identity a checkpoint records with an input's byte position, so that a resumed run seeks
// into the same file, never into one that was replaced, truncated or rewritten since
// (docs/serve.md, issue #11: "an input file that was replaced or truncated since the checkpoint
// is refused with the reason, never silently re-read from the wrong place").
//
// The identity is the file's device and inode plus a fingerprint of the bytes before the
// position: a 64-bit hash (FNV-1a) of its first min(4096, offset) bytes and one of its last
// min(4096, offset) bytes before the offset. It is computed on demand from the open file
// (fstat, two pread calls), never while records are read, so the read path does not hash.
//
//   FileIdentity identity;
//   std::string error;
//   if (!fileIdentityAt(fd, offset, identity, error)) { ... }  // checkpoint time
//   ...
//   std::string why = fileIdentityMismatch(fd2, offset, identity);  // resume time
//   // why: "" (the same file, the same bytes before offset), or e.g.
//   // "it was truncated (120 bytes now)"
//
// What it cannot see: a change after the offset (that is new input, read as such), or a
// change between the first and the last 4096 bytes before the offset of a longer file (bytes
// rewritten in the middle, keeping the length; a checksum of everything consumed would cost a
// full read at every checkpoint).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace cep::runtime {

// Bytes hashed at each end of the consumed part of a file.
constexpr std::size_t kFingerprintBytes = 4096;

struct FileIdentity {
  // A regular file (not stdin): its position can be sought and the fields below say which file
  // and which bytes. False for a pipe, FIFO, terminal or stdin: a position is informational.
  bool seekable = false;
  std::uint64_t device = 0;    // st_dev
  std::uint64_t inode = 0;     // st_ino
  std::uint64_t head_hash = 0; // FNV-1a 64 of the first min(kFingerprintBytes, offset) bytes
  std::uint64_t tail_hash = 0; // of the last min(kFingerprintBytes, offset) bytes before offset

  bool operator==(const FileIdentity &) const = default;
};

// The identity of the regular file open at `fd` for a position `offset` (seekable set). False
// with `error` ("cannot read: <reason>", or "it has N bytes, fewer than the offset M") when
// the file cannot be stat'ed or read up to `offset`. Does not move the file offset.
bool fileIdentityAt(int fd, std::uint64_t offset, FileIdentity &identity, std::string &error);

// Why the file open at `fd` is not the one `expected` describes at `offset`, "" when it is.
// Checked in this order, one reason each:
//   "it is not a regular file"
//   "it was replaced (device D inode I then, device D2 inode I2 now)"
//   "it was truncated (N bytes now)"                       size < offset
//   "it changed (its first N bytes differ)"                head fingerprint
//   "it changed (its N bytes before byte M differ)"        tail fingerprint
//   "cannot read: <reason>"
std::string fileIdentityMismatch(int fd, std::uint64_t offset, const FileIdentity &expected);

// FNV-1a 64 of `size` bytes at `data`.
std::uint64_t fingerprintHash(const char *data, std::size_t size);

} // namespace cep::runtime
