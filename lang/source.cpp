#include "lang/source.hpp"

namespace cep::lang {

std::uint32_t codePointCount(std::string_view utf8) {
  std::uint32_t n = 0;
  for (unsigned char c : utf8) {
    if ((c & 0xC0) != 0x80) {
      ++n;
    }
  }
  return n;
}

SourceFile::SourceFile(FileId id, std::string path, std::string text)
    : id_(id), path_(std::move(path)), text_(std::move(text)) {
  line_starts_.push_back(0);
  for (std::uint32_t i = 0; i < text_.size(); ++i) {
    if (text_[i] == '\n') {
      line_starts_.push_back(i + 1);
    }
  }
}

LineCol SourceFile::lineCol(std::uint32_t offset) const {
  if (offset > text_.size()) {
    offset = static_cast<std::uint32_t>(text_.size());
  }
  // Last line start <= offset.
  std::size_t lo = 0, hi = line_starts_.size();
  while (hi - lo > 1) {
    std::size_t mid = (lo + hi) / 2;
    if (line_starts_[mid] <= offset) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  std::string_view before(text_.data() + line_starts_[lo], offset - line_starts_[lo]);
  return {static_cast<std::uint32_t>(lo + 1), codePointCount(before) + 1};
}

std::string_view SourceFile::lineText(std::uint32_t line) const {
  if (line == 0 || line > line_starts_.size()) {
    return {};
  }
  std::uint32_t begin = line_starts_[line - 1];
  std::uint32_t end = line < line_starts_.size() ? line_starts_[line] - 1
                                                 : static_cast<std::uint32_t>(text_.size());
  if (end > begin && text_[end - 1] == '\r') {
    --end;
  }
  return std::string_view(text_).substr(begin, end - begin);
}

SourceManager::SourceManager() {
  files_.push_back(std::make_unique<SourceFile>(0, "", ""));
}

FileId SourceManager::add(std::string path, std::string text) {
  auto id = static_cast<FileId>(files_.size());
  files_.push_back(std::make_unique<SourceFile>(id, std::move(path), std::move(text)));
  return id;
}

std::string_view SourceManager::slice(SourceRange r) const {
  const auto &text = file(r.file).text();
  if (r.begin > text.size() || r.end > text.size() || r.end < r.begin) {
    return {};
  }
  return std::string_view(text).substr(r.begin, r.end - r.begin);
}

} // namespace cep::lang
