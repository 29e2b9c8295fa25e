// Output records of the native matcher, byte for byte those of the reference interpreter
// (compiler/interp/record.cpp, docs/semantics.md §7): keys @stream @pattern [@version] @key
// @start @end [@timeout] <emit fields> [@events]. Emit values come from the generated CepValueFn of
// each field and are written by the field's ValueKind; "@key" from the key's representative event.
//
// LLVM-free and lang-free.
#pragma once

#include "runtime/event.hpp"
#include "runtime/native/bound_view.hpp"
#include "runtime/native/image.hpp"
#include "runtime/schema.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace cep::runtime::native {

// Appends "@key" as the interpreter writes it: the single key field's value, an array of them,
// or null for a pattern without `partition by`.
void appendKeyJson(std::string &out, const Schema &schema, const PatternImage &image,
                   const Event &rep);
// The same from a list of `rep`'s own fields (indices into its type): the single value, an
// array of them, or null when `fields` is empty. Aggregates' "@key" (native_aggregate.cpp).
void appendKeyFields(std::string &out, const Schema &schema, const Event &rep,
                     const std::vector<std::int32_t> &fields);

// RFC 3339 text of times (appendJsonTime's bytes, quotes included) with the date part of the
// last day written kept, so consecutive times of one day cost a few divisions. Times outside
// years 1970..9999 go through appendJsonTime.
class TimeText {
public:
  void append(std::string &out, std::int64_t epoch_ms);

private:
  std::int64_t day_ = -1;
  char date_[11] = {}; // "YYYY-MM-DDT" of day_
  // The last two times written, quoted (records repeat them: "@start" and the first event's
  // time field, "@end" and the last one's).
  std::int64_t recent_[2] = {-1, -1};
  char recent_text_[2][26] = {};
  unsigned next_ = 0; // the slot to overwrite next
};

// The output records of one emit shape (the pattern's emit or timeout emit), byte for byte those
// of compiler/interp/record.cpp: the constant parts ('{"@stream":..,"@pattern":..[,"@version":..],
// "@key":' and each ',"name":') are escaped once, values are written straight into the record.
// `version` not empty adds "@version" (MatcherOptions::version).
class RecordWriter {
public:
  RecordWriter(std::shared_ptr<const Schema> schema, std::shared_ptr<const PatternImage> image,
               const EmitShape &shape, const std::vector<CepValueFn> &fns, bool with_events,
               std::string_view version = {});

  // Appends the record (no newline) to `out`: "@key" from the key's representative event `rep`;
  // `view` is reset to the match or run beforehand.
  void append(std::string &out, const Event &rep, std::int64_t start, std::int64_t end,
              bool timeout, const BoundView &view);

private:
  void appendKey(std::string &out, const Event &rep);
  void appendField(std::string &out, const Event &e, std::int32_t field, FieldKind kind);

  std::shared_ptr<const Schema> schema_;
  std::shared_ptr<const PatternImage> image_;
  std::vector<CepValueFn> fns_;
  std::vector<ValueKind> kinds_;
  // By event type: the key fields and their kinds (checked against the schema once).
  std::vector<std::vector<std::pair<std::int32_t, FieldKind>>> key_fields_;
  std::string head_;                    // {"@stream":"S","@pattern":"P",["@version":"V",]"@key":
  std::vector<std::string> field_keys_; // ,"name":
  std::vector<std::pair<std::int32_t, std::string>> event_keys_; // step, "name":[ (with commas)
  bool with_events_;
  std::size_t size_hint_ = 64; // the longest record so far
  TimeText time_;
};

} // namespace cep::runtime::native
