// Whole files written so that a reader sees the old bytes or the new ones, never a part: a
// fresh temporary next to the target (mkstemp, O_EXCL), the bytes, fsync, rename over the
// target, fsync of the folder. Used for run snapshots (`cep run --snapshot-file`).
//
//   std::string error;
//   if (!writeFileAtomically("run.snap", bytes, error)) {
//     // error: `cannot write "run.snap": it exists and is a directory, not a regular file`
//   }
#pragma once

#include <string>
#include <string_view>

namespace cep::runtime {

// Replaces `path` (created 0666 less the umask when new) with `bytes`. Only a regular file is
// replaced: a FIFO, device, folder or symbolic link at `path` is refused. False with `error`
// (`cannot write "<path>": <reason>`) on failure; the temporary is then removed.
bool writeFileAtomically(const std::string &path, std::string_view bytes, std::string &error);

// The whole of `path` into `bytes`. False with `error` (`cannot read "<path>": <reason>`).
bool readWholeFile(const std::string &path, std::string &bytes, std::string &error);

} // namespace cep::runtime
