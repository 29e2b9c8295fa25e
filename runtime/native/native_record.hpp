// Output records of the native matcher, byte for byte those of the reference interpreter
// (compiler/interp/record.cpp, docs/semantics.md §7): keys @stream @pattern @key @start @end
// [@timeout] <emit fields> [@events]. Emit values come from the generated CepValueFn of each
// field and are written by the field's ValueKind; "@key" from the key's representative event.
//
// LLVM-free and lang-free.
#pragma once

#include "runtime/event.hpp"
#include "runtime/native/bound_view.hpp"
#include "runtime/native/image.hpp"
#include "runtime/schema.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace cep::runtime::native {

// Appends "@key" as the interpreter writes it: the single key field's value, an array of them,
// or null for a pattern without `partition by`.
void appendKeyJson(std::string &out, const Schema &schema, const PatternImage &image,
                   const Event &rep);

struct RecordParts {
  const PatternImage *image = nullptr;
  const EmitShape *shape = nullptr;             // image->emit or image->timeout_emit
  const std::vector<CepValueFn> *fns = nullptr; // parallel to shape->fields
  bool with_events = false;
};

// Appends the record (no newline) to `out`; `view` is reset to the match or run beforehand.
void appendRecord(std::string &out, const RecordParts &parts, std::string_view key_json,
                  std::int64_t start, std::int64_t end, bool timeout, const BoundView &view);

} // namespace cep::runtime::native
