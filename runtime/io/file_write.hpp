// Whole files written so that a reader sees the old bytes or the new ones, never a part: a
// fresh temporary next to the target (mkstemp, O_EXCL), the bytes, fsync, rename over the
// target, fsync of the folder. Used for run snapshots (`cep run --snapshot-file`).
//
//   std::string error;
//   if (!writeFileAtomically("run.snap", bytes, error)) {
//     // error: `cannot write "run.snap": it exists and is a directory, not a regular file`
//   }
//
// And an output continued where a checkpoint left it (openAtLength, behind
// OutputSink::openAt): what was written after the checkpoint is cut off, the rest kept.
//
//   int fd = openAtLength("alerts.jsonl", 1234, error); // -1 with error, else at byte 1234
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace cep::runtime {

// Replaces `path` (created 0666 less the umask when new) with `bytes`. Only a regular file is
// replaced: a FIFO, device, folder or symbolic link at `path` is refused. False with `error`
// (`cannot write "<path>": <reason>`) on failure; the temporary is then removed.
bool writeFileAtomically(const std::string &path, std::string_view bytes, std::string &error);

// Opens the existing regular file `path` for writing, cut to `length` bytes (ftruncate) and
// positioned there: an output resumed at the length a checkpoint recorded. Refused (-1, with
// `error` = `cannot resume "<path>" at byte N: <reason>`) when it does not exist, is not a
// regular file (a FIFO is not opened: that would wait for a reader) or is shorter than
// `length` (damaged: "it has M bytes, fewer than it had then (damaged: cut or replaced since)").
// The caller owns the descriptor (O_CLOEXEC).
int openAtLength(const std::string &path, std::uint64_t length, std::string &error);

// The whole of `path` into `bytes`. False with `error` (`cannot read "<path>": <reason>`).
bool readWholeFile(const std::string &path, std::string &bytes, std::string &error);

} // namespace cep::runtime
