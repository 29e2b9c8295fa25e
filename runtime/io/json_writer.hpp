// A small, fast JSON builder for output records (matches, dead letters, statistics). It appends
// to a caller-owned std::string, inserts commas and colons itself, and its output is stable byte
// for byte: no spaces, strings escaped minimally (`\"` `\\` `\b` `\f` `\n` `\r` `\t`, other
// control characters as `\u00XX`, UTF-8 passed through, invalid UTF-8 replaced by U+FFFD),
// doubles in the shortest form that reads back exactly and always reads as a float (`500.0`,
// `1e+21`), non-finite doubles as null, times as RFC 3339 UTC strings with milliseconds.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cep::runtime {

void appendJsonString(std::string &out, std::string_view text); // with the quotes
void appendJsonInt(std::string &out, std::int64_t value);
void appendJsonFloat(std::string &out, double value);
void appendJsonTime(std::string &out, std::int64_t epoch_ms); // "2026-01-05T10:00:00.000Z"
// Appends `json`, one valid JSON value (an input record for `@events`), with no control
// character left in it: whitespace between tokens that is a control character (CR, tab, LF)
// becomes a space, and one inside a string (the decoder rejects those; a guard) is escaped as
// \u00XX. Everything else is copied unchanged.
void appendJsonValue(std::string &out, std::string_view json);

class JsonWriter {
public:
  explicit JsonWriter(std::string &out) : out_(&out) {}

  void beginObject();
  void endObject();
  void beginArray();
  void endArray();
  // Inside an object: the next member's name; a value call must follow.
  void key(std::string_view name);

  void writeString(std::string_view value);
  void writeInt(std::int64_t value);
  void writeFloat(double value);
  void writeBool(bool value);
  void writeNull();
  void writeTime(std::int64_t epoch_ms);
  // Inserts `json` as one value (e.g. an input record for `@events`) by appendJsonValue. The
  // caller guarantees it is one valid JSON value.
  void writeRaw(std::string_view json);

  // Ends a top-level record with '\n' (JSON Lines).
  void endLine();

  std::size_t depth() const { return has_members_.size(); }
  std::string &buffer() { return *out_; }

private:
  void beforeValue();

  std::string *out_;
  std::vector<bool> has_members_; // one per open object/array
  bool after_key_ = false;
};

} // namespace cep::runtime
