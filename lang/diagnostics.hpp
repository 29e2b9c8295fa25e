// Collects diagnostics (errors, warnings, their notes) and renders them as spec §6 asks:
//
//   rules/fraud.cep:12:20: error: unknown field `amout` on event type `Payment`
//       small: Payment(amout < 1.00){3,}
//                      ^~~~~
//   note: did you mean `amount`?
//
// Diagnostics are kept in the order reported and rendered sorted by position (file load order,
// then offset), each with its notes right after it.
#pragma once

#include "lang/source.hpp"

#include <algorithm>
#include <cstddef>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cep::lang {

enum class Severity { Error, Warning, Note };

struct Note {
  std::optional<SourceRange> range; // a note with a range shows its own source line and caret
  std::string message;
};

struct Diagnostic {
  Severity severity = Severity::Error;
  std::optional<SourceRange> range; // absent only for file-level errors (e.g. cannot open)
  std::string message;
  std::vector<Note> notes;
  std::optional<std::string> path; // for errors about a file that is not loaded (cannot open)
};

class DiagnosticEngine {
public:
  explicit DiagnosticEngine(const SourceManager &sources) : sources_(&sources) {}

  // Reports a diagnostic; returns it so notes can be attached:
  //   diags.error(r, "unknown step `x`").notes.push_back({std::nullopt, "did you mean `y`?"});
  Diagnostic &error(SourceRange range, std::string message);
  Diagnostic &warning(SourceRange range, std::string message);
  // An error about a file that could not be read (no source range to show).
  Diagnostic &fileError(std::string path, std::string message);
  // Adds a note to the most recent diagnostic.
  void note(std::string message, std::optional<SourceRange> range = std::nullopt);

  std::size_t errorCount() const;
  std::size_t warningCount() const;
  bool hasErrors() const { return errorCount() > 0; }
  const std::vector<Diagnostic> &all() const { return diags_; }
  // Removes the diagnostics from index `first` on for which `drop` holds (follow-on errors of a
  // declaration that did not parse: lang/frontend.cpp).
  template <class Pred> void eraseFrom(std::size_t first, Pred drop) {
    diags_.erase(
        std::remove_if(diags_.begin() + static_cast<std::ptrdiff_t>(first), diags_.end(), drop),
        diags_.end());
  }
  // Turns every warning into an error (--werror).
  void promoteWarnings();

  // Diagnostics sorted by position (stable).
  std::vector<const Diagnostic *> sorted() const;
  void render(std::ostream &out, bool color) const;
  // A JSON array: [{"severity","file","line","column","endLine","endColumn","message","notes"}].
  void renderJson(std::ostream &out) const;

private:
  const SourceManager *sources_;
  std::vector<Diagnostic> diags_;
};

// "did you mean" support: the candidate closest to `name` by edit distance, if close enough.
std::optional<std::string> closestMatch(std::string_view name,
                                        const std::vector<std::string> &candidates);
std::size_t editDistance(std::string_view a, std::string_view b);

// Escapes a string for a JSON string literal (without the quotes).
std::string jsonEscape(std::string_view s);

} // namespace cep::lang
