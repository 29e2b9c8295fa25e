// Source files and positions. Every AST node carries a SourceRange; diagnostics turn ranges back
// into file:line:column and the source line.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace cep::lang {

using FileId = std::uint32_t;

// A half-open byte range [begin, end) in one source file.
struct SourceRange {
  FileId file = 0;
  std::uint32_t begin = 0;
  std::uint32_t end = 0;

  bool valid() const { return end >= begin && (end != 0 || begin != 0 || file != 0); }
  // The smallest range covering both (same file assumed).
  static SourceRange cover(SourceRange a, SourceRange b) {
    return {a.file, a.begin < b.begin ? a.begin : b.begin, a.end > b.end ? a.end : b.end};
  }
};

struct LineCol {
  std::uint32_t line = 1;   // 1-based
  std::uint32_t column = 1; // 1-based, in Unicode code points
};

// One loaded file. `path` is how the file is named in diagnostics (as given on the command line
// or resolved relative to the importing file).
class SourceFile {
public:
  SourceFile(FileId id, std::string path, std::string text);

  FileId id() const { return id_; }
  const std::string &path() const { return path_; }
  const std::string &text() const { return text_; }

  LineCol lineCol(std::uint32_t offset) const;
  // The text of the given 1-based line, without its line terminator.
  std::string_view lineText(std::uint32_t line) const;
  std::uint32_t lineCount() const { return static_cast<std::uint32_t>(line_starts_.size()); }

private:
  FileId id_;
  std::string path_;
  std::string text_;
  std::vector<std::uint32_t> line_starts_;
};

// Owns every file of a compilation; FileIds index into it. File 0 is a reserved empty file so
// that a default SourceRange never points into real text.
class SourceManager {
public:
  SourceManager();
  FileId add(std::string path, std::string text);
  const SourceFile &file(FileId id) const { return *files_.at(id); }
  std::size_t size() const { return files_.size(); }
  // The text a range covers.
  std::string_view slice(SourceRange r) const;

private:
  std::vector<std::unique_ptr<SourceFile>> files_;
};

// Number of Unicode code points in a UTF-8 byte sequence (invalid bytes count as one each).
std::uint32_t codePointCount(std::string_view utf8);

} // namespace cep::lang
