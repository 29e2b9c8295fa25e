#include "cli/artifact_sources.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace cep::cli {

namespace fs = std::filesystem;

namespace {

// Removes the temporary folder when it goes.
struct TempDir {
  fs::path path;
  ~TempDir() {
    if (!path.empty()) {
      std::error_code ec;
      fs::remove_all(path, ec);
    }
  }
};

// How many leading `..` a relative name has (the depth the first file's folder needs).
std::size_t upLevels(const std::string &name) {
  std::size_t n = 0;
  for (const fs::path &part : fs::path(name).lexically_normal()) {
    if (part != "..") {
      break;
    }
    ++n;
  }
  return n;
}

} // namespace

std::unique_ptr<compiler::driver::Pipeline>
checkArtifactSources(const std::optional<std::vector<compiler::artifact::SourceText>> &sources,
                     const std::vector<std::string> &disabled_passes, std::string &error) {
  if (!sources || sources->empty()) {
    error = "the artifact carries no rule sources (it was compiled with --no-sources or by a cep "
            "from before they were kept): compile it again without --no-sources";
    return nullptr;
  }
  TempDir dir;
  std::string pattern = (fs::temp_directory_path() / "cep-sources-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    error = "cannot make a temporary folder for the artifact's rule sources";
    return nullptr;
  }
  dir.path = pattern;
  std::size_t depth = 0;
  for (const compiler::artifact::SourceText &s : *sources) {
    if (fs::path(s.name).is_absolute()) {
      error = "the artifact's rule source \"" + s.name + "\" has an absolute name";
      return nullptr;
    }
    depth = std::max(depth, upLevels(s.name));
  }
  fs::path base = dir.path;
  for (std::size_t i = 0; i < depth; ++i) {
    base /= "d" + std::to_string(i);
  }
  std::vector<std::string> paths;
  std::vector<std::string> folders;
  for (const compiler::artifact::SourceText &s : *sources) {
    fs::path file = (base / s.name).lexically_normal();
    std::string rel = file.lexically_relative(dir.path).generic_string();
    if (rel.empty() || rel.rfind("..", 0) == 0) {
      error = "the artifact's rule source \"" + s.name + "\" leads out of its folder";
      return nullptr;
    }
    std::error_code ec;
    fs::create_directories(file.parent_path(), ec);
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(s.text.data(), static_cast<std::streamsize>(s.text.size()));
    out.close();
    if (!out) {
      error = "cannot write the artifact's rule source \"" + s.name + "\" to " + file.string();
      return nullptr;
    }
    paths.push_back(file.string());
    std::string folder = file.parent_path().string();
    if (std::find(folders.begin(), folders.end(), folder) == folders.end()) {
      folders.push_back(folder);
    }
  }
  auto pipeline = std::make_unique<compiler::driver::Pipeline>(
      compiler::driver::PipelineOptions{folders, disabled_passes});
  if (!pipeline->check(paths)) {
    std::ostringstream diagnostics;
    pipeline->diagnostics().render(diagnostics, false);
    error = "the artifact's rule sources do not check:\n" + diagnostics.str();
    return nullptr;
  }
  return pipeline;
}

} // namespace cep::cli
