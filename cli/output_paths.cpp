#include "cli/output_paths.hpp"

#include <filesystem>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>

namespace cep::cli {

namespace {

struct Identity {
  bool exists = false;
  dev_t device = 0;
  ino_t inode = 0;
  std::string canonical; // when it does not exist
};

Identity identify(const std::string &path, bool output) {
  Identity id;
  struct stat info {};
  int rc = path == "-" ? ::fstat(output ? STDOUT_FILENO : STDIN_FILENO, &info)
                       : ::stat(path.c_str(), &info);
  if (rc == 0) {
    // Standard input or output counts only when it is a file: a terminal or a pipe is shared by
    // design.
    if (path == "-" && !S_ISREG(info.st_mode)) {
      return id;
    }
    id.exists = true;
    id.device = info.st_dev;
    id.inode = info.st_ino;
    return id;
  }
  if (path != "-") {
    std::error_code ec;
    std::filesystem::path absolute = std::filesystem::absolute(path, ec).lexically_normal();
    std::filesystem::path canonical = std::filesystem::weakly_canonical(absolute, ec);
    id.canonical = ec ? absolute.string() : canonical.string();
  }
  return id;
}

bool same(const Identity &a, const Identity &b) {
  if (a.exists && b.exists) {
    return a.device == b.device && a.inode == b.inode;
  }
  return !a.exists && !b.exists && !a.canonical.empty() && a.canonical == b.canonical;
}

std::string describe(const NamedPath &named, bool output) {
  if (named.path == "-") {
    return named.role + (output ? " (standard output)" : " (standard input)");
  }
  return named.role + " \"" + named.path + "\"";
}

} // namespace

std::string sameFileConflict(const std::vector<NamedPath> &outputs,
                             const std::vector<NamedPath> &reads) {
  std::vector<Identity> out_ids;
  for (const NamedPath &output : outputs) {
    out_ids.push_back(identify(output.path, true));
  }
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    for (const NamedPath &read : reads) {
      if (same(out_ids[i], identify(read.path, false))) {
        return describe(outputs[i], true) + " is the same file as " + describe(read, false) +
               ": writing it would destroy what is read";
      }
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (same(out_ids[i], out_ids[j])) {
        return describe(outputs[i], true) + " is the same file as " + describe(outputs[j], true) +
               ": each output needs its own file";
      }
    }
  }
  return {};
}

} // namespace cep::cli
