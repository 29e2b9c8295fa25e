// Replays every input in tests/fuzz/regressions/ through the fuzzer's front-end run: each once
// crashed or hit an internal error; none may again.
#include "tests/fuzz/fuzz_frontend.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

TEST_CASE("fuzz regressions run through parse and check without internal errors", "[fuzz]") {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(CEP_SOURCE_DIR) / "tests" / "fuzz" / "regressions";
  std::size_t count = 0;
  for (const auto &entry : fs::directory_iterator(dir)) {
    if (!entry.is_regular_file() || entry.path().filename() == "README.md") {
      continue;
    }
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    std::ostringstream sink;
    INFO(entry.path().filename().string());
    CHECK_NOTHROW(cep::fuzz::runFrontend(text.str(), sink));
    ++count;
  }
  CHECK(count > 0);
}
