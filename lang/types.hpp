// The value types of the language (spec §2).
#pragma once

#include <cstdint>
#include <string>

namespace cep::lang {

enum class TypeKind : std::uint8_t {
  Bool,
  Int,   // 64-bit signed
  Float, // 64-bit IEEE
  String,
  Time,     // instant, epoch milliseconds
  Duration, // milliseconds
  List,     // list<elem>, constants only
  Null,     // the type of the literal `null` (fits any nullable type)
  Event,    // a whole event of type `event` (a single step's name, a def parameter)
  Loop,     // the events a looping step bound (only inside aggregates)
  Error,    // a type error was reported; suppresses follow-on errors
};

// Int, Time and Duration: values held as a 64-bit integer (by the evaluator, generated code and
// event slots alike).
inline bool usesInt(TypeKind k) {
  return k == TypeKind::Int || k == TypeKind::Time || k == TypeKind::Duration;
}

struct Type {
  TypeKind kind = TypeKind::Error;
  bool nullable = false;
  TypeKind elem = TypeKind::Error; // List: element kind
  std::int32_t event = -1;         // Event, Loop: index into Program::event_types

  static Type of(TypeKind k, bool nullable = false) {
    return Type{k, nullable, TypeKind::Error, -1};
  }
  static Type list(TypeKind elem) { return Type{TypeKind::List, false, elem, -1}; }
  static Type error() { return Type{}; }

  bool isError() const { return kind == TypeKind::Error; }
  bool isNumeric() const { return kind == TypeKind::Int || kind == TypeKind::Float; }
  Type asNullable(bool n = true) const {
    Type t = *this;
    t.nullable = n;
    return t;
  }
  bool operator==(const Type &o) const {
    return kind == o.kind && nullable == o.nullable && elem == o.elem && event == o.event;
  }
};

const char *typeKindName(TypeKind k); // "int", "float", ...
// `int`, `string?`, `list<string>`; event names need the program, so Event/Loop print as
// `event`/`loop` here (the checker formats them with names in its messages).
std::string typeName(const Type &t);

} // namespace cep::lang
