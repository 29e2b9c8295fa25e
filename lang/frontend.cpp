// Loading: the files named on the command line and, depth first, what they import. Each file is
// loaded once (by canonical path); an import that leads back to a file still being loaded is a
// cycle. Checking runs only when every file parsed: checking half-parsed modules would bury the
// syntax errors under follow-on errors.
#include "lang/frontend.hpp"

#include "lang/check.hpp"
#include "lang/parse.hpp"

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <system_error>

namespace cep::lang {

namespace {

namespace fs = std::filesystem;

struct Loader {
  SourceManager &sources;
  DiagnosticEngine &diags;
  std::vector<ast::Module> modules;
  std::vector<std::vector<std::size_t>> imports; // resolved, per module
  std::map<std::string, std::size_t> by_path;    // canonical path -> module index
  std::vector<std::size_t> stack;                // modules being loaded (for cycles)

  static std::optional<std::string> readFile(const fs::path &path, std::string &error) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      error = "is a directory, not a .cep file";
      return std::nullopt;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      error = fs::exists(path, ec) ? "cannot be read (permission denied?)" : "no such file";
      return std::nullopt;
    }
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }

  static std::string canonical(const fs::path &path) {
    std::error_code ec;
    fs::path c = fs::weakly_canonical(path, ec);
    return ec ? path.lexically_normal().string() : c.string();
  }

  std::string moduleName(std::size_t index) const {
    return sources.file(modules[index].file).path();
  }

  // Loads `display` (a path as the user sees it); `from` is the import that asked for it.
  std::optional<std::size_t> load(const std::string &display, const ast::Import *from) {
    std::string key = canonical(display);
    if (auto it = by_path.find(key); it != by_path.end()) {
      for (std::size_t k = 0; k < stack.size(); ++k) {
        if (stack[k] != it->second) {
          continue;
        }
        std::string chain;
        for (std::size_t j = k; j < stack.size(); ++j) {
          chain += "`" + moduleName(stack[j]) + "` imports ";
        }
        chain += "`" + moduleName(it->second) + "`";
        diags.error(from->path_range, "import cycle: " + chain);
        diags.note("a file cannot import itself, directly or through other files; move what "
                   "they share into a third file that both import");
        return std::nullopt;
      }
      return it->second;
    }
    std::string error;
    auto text = readFile(display, error);
    if (!text) {
      if (from != nullptr) {
        diags.error(from->path_range,
                    "cannot import `" + from->path + "`: `" + display + "` " + error);
      } else {
        diags.fileError(display, "cannot check `" + display + "`: " + error);
      }
      return std::nullopt;
    }
    FileId id = sources.add(display, std::move(*text));
    std::size_t index = modules.size();
    modules.push_back(parseModule(sources.file(id), diags));
    modules.back().file = id;
    imports.emplace_back();
    by_path.emplace(key, index);

    stack.push_back(index);
    fs::path dir = fs::path(display).parent_path();
    // Copy: loading more modules may move modules[index].
    std::vector<ast::Import> wanted = modules[index].imports;
    for (const ast::Import &imp : wanted) {
      std::string target = (dir / imp.path).lexically_normal().string();
      if (auto loaded = load(target, &imp)) {
        imports[index].push_back(*loaded);
      }
    }
    stack.pop_back();
    return index;
  }
};

} // namespace

std::vector<ast::Module> parseFiles(const std::vector<std::string> &paths, SourceManager &sources,
                                    DiagnosticEngine &diags) {
  Loader loader{sources, diags, {}, {}, {}, {}};
  for (const auto &p : paths) {
    loader.load(p, nullptr);
  }
  return std::move(loader.modules);
}

Frontend loadProgram(const std::vector<std::string> &paths, SourceManager &sources,
                     DiagnosticEngine &diags) {
  Loader loader{sources, diags, {}, {}, {}, {}};
  for (const auto &p : paths) {
    loader.load(p, nullptr);
  }
  Frontend result;
  if (!diags.hasErrors()) {
    result.program = checkProgram(loader.modules, loader.imports, sources, diags);
  }
  result.modules = std::move(loader.modules);
  return result;
}

} // namespace cep::lang
