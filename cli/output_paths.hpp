// Outputs that would destroy an input: `cep run -o`, `--dead-letter`, `--late-output` and
// `cep compile -o` must not name a file the same command reads (an event input, a rule file or
// one of its imports, the .cepo being run), nor the same file twice. Files are compared by
// device and inode (stat), so another spelling, a hard link or a symbolic link is caught; an
// output that does not exist yet is compared with the others by its canonical path.
#pragma once

#include <string>
#include <vector>

namespace cep::cli {

struct NamedPath {
  std::string role; // how the command line named it: "--output", "--input", "rule file", ...
  std::string path; // "-": stdout for an output, stdin for a read file
};

// Empty when no output is the same file as a read file or as another output; otherwise one
// line saying which two (`--output "x.jsonl" is the same file as --input "x.jsonl"`).
std::string sameFileConflict(const std::vector<NamedPath> &outputs,
                             const std::vector<NamedPath> &reads);

} // namespace cep::cli
