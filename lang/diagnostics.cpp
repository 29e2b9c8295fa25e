#include "lang/diagnostics.hpp"

#include <algorithm>
#include <ostream>

namespace cep::lang {

namespace {

const char *severityName(Severity s) {
  switch (s) {
  case Severity::Error:
    return "error";
  case Severity::Warning:
    return "warning";
  case Severity::Note:
    return "note";
  }
  return "error";
}

const char *severityColor(Severity s) {
  switch (s) {
  case Severity::Error:
    return "\033[1;31m";
  case Severity::Warning:
    return "\033[1;35m";
  case Severity::Note:
    return "\033[1;36m";
  }
  return "";
}

constexpr const char *kBold = "\033[1m";
constexpr const char *kGreen = "\033[1;32m";
constexpr const char *kReset = "\033[0m";

// Writes "path:line:col: severity: message", the source line and the caret line.
void renderOne(std::ostream &out, const SourceManager &sources, Severity severity,
               const std::optional<SourceRange> &range, const std::optional<std::string> &path,
               const std::string &message, bool color) {
  if (range && range->file != 0) {
    const SourceFile &file = sources.file(range->file);
    LineCol begin = file.lineCol(range->begin);
    if (color) {
      out << kBold;
    }
    out << file.path() << ':' << begin.line << ':' << begin.column << ": ";
    if (color) {
      out << kReset << severityColor(severity);
    }
    out << severityName(severity) << ": ";
    if (color) {
      out << kReset << kBold;
    }
    out << message;
    if (color) {
      out << kReset;
    }
    out << '\n';

    std::string_view line = file.lineText(begin.line);
    out << line << '\n';
    // Caret line: copy tabs from the source so the caret lines up, spaces for everything else.
    std::string caret;
    std::uint32_t col = 1;
    for (std::size_t i = 0; i < line.size() && col < begin.column; ++i) {
      auto c = static_cast<unsigned char>(line[i]);
      if ((c & 0xC0) != 0x80) { // first byte of a code point
        caret += (c == '\t') ? '\t' : ' ';
        ++col;
      }
    }
    // Span length in code points, clipped to the end of this line; at least one caret.
    std::uint32_t end = range->end;
    std::string_view text = file.text();
    std::uint32_t line_end = range->begin;
    while (line_end < text.size() && text[line_end] != '\n' && text[line_end] != '\r') {
      ++line_end;
    }
    if (end > line_end) {
      end = line_end;
    }
    std::uint32_t width =
        end > range->begin ? codePointCount(text.substr(range->begin, end - range->begin)) : 1;
    if (color) {
      caret += kGreen;
    }
    caret += '^';
    for (std::uint32_t k = 1; k < width; ++k) {
      caret += '~';
    }
    if (color) {
      caret += kReset;
    }
    out << caret << '\n';
    return;
  }
  if (path) {
    out << *path << ": ";
  }
  if (color) {
    out << severityColor(severity);
  }
  out << severityName(severity) << ": ";
  if (color) {
    out << kReset;
  }
  out << message << '\n';
}

} // namespace

Diagnostic &DiagnosticEngine::error(SourceRange range, std::string message) {
  diags_.push_back({Severity::Error, range, std::move(message), {}, std::nullopt});
  return diags_.back();
}

Diagnostic &DiagnosticEngine::warning(SourceRange range, std::string message) {
  diags_.push_back({Severity::Warning, range, std::move(message), {}, std::nullopt});
  return diags_.back();
}

Diagnostic &DiagnosticEngine::fileError(std::string path, std::string message) {
  diags_.push_back({Severity::Error, std::nullopt, std::move(message), {}, std::move(path)});
  return diags_.back();
}

void DiagnosticEngine::note(std::string message, std::optional<SourceRange> range) {
  if (!diags_.empty()) {
    diags_.back().notes.push_back({range, std::move(message)});
  }
}

std::size_t DiagnosticEngine::errorCount() const {
  return static_cast<std::size_t>(
      std::count_if(diags_.begin(), diags_.end(),
                    [](const Diagnostic &d) { return d.severity == Severity::Error; }));
}

std::size_t DiagnosticEngine::warningCount() const {
  return static_cast<std::size_t>(
      std::count_if(diags_.begin(), diags_.end(),
                    [](const Diagnostic &d) { return d.severity == Severity::Warning; }));
}

void DiagnosticEngine::promoteWarnings() {
  for (auto &d : diags_) {
    if (d.severity == Severity::Warning) {
      d.severity = Severity::Error;
    }
  }
}

std::vector<const Diagnostic *> DiagnosticEngine::sorted() const {
  std::vector<const Diagnostic *> out;
  out.reserve(diags_.size());
  for (const auto &d : diags_) {
    out.push_back(&d);
  }
  std::stable_sort(out.begin(), out.end(), [](const Diagnostic *a, const Diagnostic *b) {
    // File-level errors (no range) first, then by file load order and offset.
    FileId fa = a->range ? a->range->file : 0, fb = b->range ? b->range->file : 0;
    if (fa != fb) {
      return fa < fb;
    }
    std::uint32_t oa = a->range ? a->range->begin : 0, ob = b->range ? b->range->begin : 0;
    return oa < ob;
  });
  return out;
}

void DiagnosticEngine::render(std::ostream &out, bool color) const {
  for (const Diagnostic *d : sorted()) {
    renderOne(out, *sources_, d->severity, d->range, d->path, d->message, color);
    for (const Note &n : d->notes) {
      renderOne(out, *sources_, Severity::Note, n.range, std::nullopt, n.message, color);
    }
  }
}

std::string jsonEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    default:
      if (c < 0x20) {
        static const char *hex = "0123456789abcdef";
        out += "\\u00";
        out += hex[c >> 4];
        out += hex[c & 15];
      } else {
        out += ch;
      }
    }
  }
  return out;
}

namespace {
void jsonLocation(std::ostream &out, const SourceManager &sources,
                  const std::optional<SourceRange> &range, const std::optional<std::string> &path) {
  if (range && range->file != 0) {
    const SourceFile &file = sources.file(range->file);
    LineCol b = file.lineCol(range->begin), e = file.lineCol(range->end);
    out << "\"file\":\"" << jsonEscape(file.path()) << "\",\"line\":" << b.line
        << ",\"column\":" << b.column << ",\"endLine\":" << e.line << ",\"endColumn\":" << e.column
        << ',';
  } else if (path) {
    out << "\"file\":\"" << jsonEscape(*path) << "\",";
  }
}
} // namespace

void DiagnosticEngine::renderJson(std::ostream &out) const {
  out << '[';
  bool first = true;
  for (const Diagnostic *d : sorted()) {
    out << (first ? "" : ",") << "{\"severity\":\"" << severityName(d->severity) << "\",";
    first = false;
    jsonLocation(out, *sources_, d->range, d->path);
    out << "\"message\":\"" << jsonEscape(d->message) << "\",\"notes\":[";
    bool first_note = true;
    for (const Note &n : d->notes) {
      out << (first_note ? "" : ",") << '{';
      first_note = false;
      jsonLocation(out, *sources_, n.range, std::nullopt);
      out << "\"message\":\"" << jsonEscape(n.message) << "\"}";
    }
    out << "]}";
  }
  out << "]\n";
}

std::size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) {
    prev[j] = j;
  }
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::optional<std::string> closestMatch(std::string_view name,
                                        const std::vector<std::string> &candidates) {
  std::optional<std::string> best;
  std::size_t best_distance = 0;
  // Allow roughly one edit per three characters, at least one, at most three.
  std::size_t limit = std::clamp<std::size_t>(name.size() / 3, 1, 3);
  for (const auto &c : candidates) {
    if (c == name) {
      continue;
    }
    std::size_t d = editDistance(name, c);
    if (d <= limit && (!best || d < best_distance)) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

} // namespace cep::lang
