// Test helper: a file under the temp directory holding the given bytes, removed when the object
// goes. Its name carries the test's prefix, the process id and a counter, so tests running at the
// same time (ctest -j) never share one.
#pragma once

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

namespace cep_test {

class TempFile {
public:
  TempFile(const std::string &prefix, const std::string &content) {
    static int counter = 0;
    path_ = (std::filesystem::temp_directory_path() / (prefix + "_" + std::to_string(::getpid()) +
                                                       "_" + std::to_string(counter++) + ".jsonl"))
                .string();
    std::ofstream out(path_, std::ios::binary);
    out << content;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  TempFile(const TempFile &) = delete;
  TempFile &operator=(const TempFile &) = delete;
  const std::string &path() const { return path_; }

private:
  std::string path_;
};

} // namespace cep_test
