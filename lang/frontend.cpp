// Loading: the files named on the command line and, depth first, what they import. Each file is
// loaded once (by canonical path); an import that leads back to a file still being loaded is a
// cycle. An import names a .cep file, relative to the importing file (else found in an
// --import-path folder), and must lead inside a root: a command-line file's folder or an
// --import-path folder (compared by canonical path, so `..` and symbolic links cannot leave
// them). Only regular files of at most kMaxSourceBytes are read. After syntax errors the
// declarations that parsed are checked too (loadProgram), their follow-on errors withheld.
#include "lang/frontend.hpp"

#include "lang/check.hpp"
#include "lang/parse.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <map>
#include <set>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

namespace cep::lang {

namespace {

namespace fs = std::filesystem;

// Whether `d` is an "unknown ..." error about a name in `unparsed` (the first `name` quoted in
// its message): the declaration of that name had a syntax error.
bool followsFrom(const Diagnostic &d, const std::set<std::string> &unparsed) {
  if (d.severity != Severity::Error || d.message.rfind("unknown ", 0) != 0) {
    return false;
  }
  std::size_t open = d.message.find('`');
  std::size_t close = open == std::string::npos ? open : d.message.find('`', open + 1);
  return close != std::string::npos &&
         unparsed.count(d.message.substr(open + 1, close - open - 1)) > 0;
}

struct Loader {
  SourceManager &sources;
  DiagnosticEngine &diags;
  const LoadOptions &options;
  std::vector<fs::path> roots; // canonical: the command-line files' folders, --import-path
  std::vector<ast::Module> modules;
  std::vector<std::vector<std::size_t>> imports; // resolved, per module
  std::map<std::string, std::size_t> by_path;    // canonical path -> module index
  std::vector<std::size_t> stack;                // modules being loaded (for cycles)

  // A rule file's text. Only a regular file of at most kMaxSourceBytes is read: a directory, a
  // FIFO or a device is refused without blocking (O_NONBLOCK) and without reading it.
  static std::optional<std::string> readFile(const fs::path &path, std::string &error) {
    int fd = -1;
    do {
      fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
      error = errno == ENOENT   ? "no such file"
              : errno == EACCES ? "cannot be read (permission denied)"
                                : std::string("cannot be read (") + std::strerror(errno) + ")";
      return std::nullopt;
    }
    struct stat info {};
    std::optional<std::string> text;
    if (::fstat(fd, &info) != 0) {
      error = std::string("cannot be read (") + std::strerror(errno) + ")";
    } else if (S_ISDIR(info.st_mode)) {
      error = "is a directory, not a .cep file";
    } else if (!S_ISREG(info.st_mode)) {
      error = "is not a regular file (a FIFO, device or socket), not a .cep file";
    } else if (static_cast<std::uint64_t>(info.st_size) > kMaxSourceBytes) {
      error = "is larger than " + std::to_string(kMaxSourceBytes >> 20) +
              " MiB, the most a .cep file may hold";
    } else {
      text.emplace();
      char buffer[65536];
      for (;;) {
        ssize_t got = ::read(fd, buffer, sizeof buffer);
        if (got < 0 && errno == EINTR) {
          continue;
        }
        if (got < 0) {
          error = std::string("cannot be read (") + std::strerror(errno) + ")";
          text.reset();
          break;
        }
        if (got == 0) {
          break;
        }
        text->append(buffer, static_cast<std::size_t>(got));
        if (text->size() > kMaxSourceBytes) { // it grew while being read
          error = "is larger than " + std::to_string(kMaxSourceBytes >> 20) +
                  " MiB, the most a .cep file may hold";
          text.reset();
          break;
        }
      }
    }
    ::close(fd);
    return text;
  }

  // Whether `path` (canonical) is `root` (canonical) or inside it.
  static bool inside(const fs::path &path, const fs::path &root) {
    auto p = path.begin();
    for (auto r = root.begin(); r != root.end(); ++r, ++p) {
      if (r->empty() && std::next(r) == root.end()) {
        break; // a trailing separator
      }
      if (p == path.end() || *p != *r) {
        return false;
      }
    }
    return true;
  }

  const fs::path *rootOf(const fs::path &canonical_path) const {
    for (const fs::path &root : roots) {
      if (inside(canonical_path, root)) {
        return &root;
      }
    }
    return nullptr;
  }

  // Where `import "<imp.path>"` in a file of folder `dir` leads: relative to the importing file,
  // else (a relative path not found there) in each --import-path folder in turn. Empty, with an
  // error reported at the import, when it names no .cep file or leads outside every root.
  std::optional<std::string> resolve(const ast::Import &imp, const fs::path &dir) {
    const std::string &wanted = imp.path;
    if (wanted.size() <= 4 || wanted.compare(wanted.size() - 4, 4, ".cep") != 0) {
      diags.error(imp.path_range, "cannot import `" + wanted +
                                      "`: not a .cep file (only rule files can be imported)");
      return std::nullopt;
    }
    fs::path relative(wanted);
    std::string target = (dir / relative).lexically_normal().string();
    if (relative.is_relative()) {
      std::error_code ec;
      if (!fs::exists(target, ec) && options.overlays.count(canonical(target)) == 0) {
        for (const std::string &search : options.import_paths) {
          std::string candidate = (fs::path(search) / relative).lexically_normal().string();
          if (fs::exists(candidate, ec)) {
            target = candidate;
            break;
          }
        }
      }
    }
    if (rootOf(canonical(target)) == nullptr) {
      diags.error(imp.path_range,
                  "cannot import `" + wanted + "`: `" + target + "` is outside the rules' folders");
      diags.note("an import stays inside the folders of the files named on the command line; "
                 "allow another folder with --import-path DIR");
      return std::nullopt;
    }
    return target;
  }

  // Absolute, symbolic links resolved as far as the path exists, `.` and `..` folded.
  static std::string canonical(const fs::path &path) {
    std::error_code ec;
    fs::path absolute = fs::absolute(path, ec).lexically_normal();
    if (ec) {
      return path.lexically_normal().string();
    }
    fs::path c = fs::weakly_canonical(absolute, ec);
    return ec ? absolute.string() : c.string();
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
    std::optional<std::string> text;
    if (auto overlay = options.overlays.find(key); overlay != options.overlays.end()) {
      text = overlay->second;
    } else {
      text = readFile(display, error);
    }
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
      std::optional<std::string> target = resolve(imp, dir);
      if (!target) {
        continue;
      }
      if (auto loaded = load(*target, &imp)) {
        imports[index].push_back(*loaded);
      }
    }
    stack.pop_back();
    return index;
  }
};

Loader makeLoader(const std::vector<std::string> &paths, SourceManager &sources,
                  DiagnosticEngine &diags, const LoadOptions &options) {
  Loader loader{sources, diags, options, {}, {}, {}, {}, {}};
  for (const std::string &p : paths) {
    fs::path dir = fs::path(p).parent_path();
    loader.roots.emplace_back(Loader::canonical(dir.empty() ? fs::path(".") : dir));
  }
  for (const std::string &p : options.import_paths) {
    loader.roots.emplace_back(Loader::canonical(p));
  }
  for (const auto &p : paths) {
    loader.load(p, nullptr);
  }
  return loader;
}

} // namespace

std::vector<ast::Module> parseFiles(const std::vector<std::string> &paths, SourceManager &sources,
                                    DiagnosticEngine &diags, const LoadOptions &options) {
  Loader loader = makeLoader(paths, sources, diags, options);
  return std::move(loader.modules);
}

Frontend loadProgram(const std::vector<std::string> &paths, SourceManager &sources,
                     DiagnosticEngine &diags, const LoadOptions &options) {
  Loader loader = makeLoader(paths, sources, diags, options);
  Frontend result;
  // After syntax errors, the declarations that parsed are checked too, unless an import did not
  // parse or a file could not be loaded (every error so far a syntax error). What only follows
  // from a declaration that did not parse ("unknown event type `Payment`" when `event Payment`
  // had the error) is withheld.
  std::size_t syntax_errors = 0;
  bool import_lost = false;
  std::set<std::string> unparsed;
  for (const ast::Module &m : loader.modules) {
    syntax_errors += m.syntax_errors;
    import_lost = import_lost || m.unparsed_import;
    unparsed.insert(m.unparsed.begin(), m.unparsed.end());
  }
  if (!diags.hasErrors() || (!import_lost && diags.errorCount() == syntax_errors)) {
    std::size_t first = diags.all().size();
    result.program = checkProgram(loader.modules, loader.imports, sources, diags);
    if (syntax_errors > 0) {
      diags.eraseFrom(first, [&](const Diagnostic &d) { return followsFrom(d, unparsed); });
    }
  }
  result.modules = std::move(loader.modules);
  return result;
}

} // namespace cep::lang
