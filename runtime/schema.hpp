// The runtime's view of event types: names, fields and their kinds. Built from the checked
// program by the compiler (or read from a .cepo artifact), so the runtime never needs lang/.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cep::runtime {

enum class FieldKind : std::uint8_t { Bool, Int, Float, String, Time, Duration };

const char *fieldKindName(FieldKind k); // "bool", "int", ...

struct FieldSchema {
  std::string name;
  FieldKind kind = FieldKind::Int;
  bool nullable = false;
};

// At most kMaxFields fields per event type (the null mask is one 64-bit word).
constexpr std::size_t kMaxFields = 64;

struct EventSchema {
  std::string name;
  std::vector<FieldSchema> fields;
  std::int32_t time_field = -1; // -1: the event's time is its ingestion time

  std::int32_t fieldIndex(std::string_view n) const;
};

struct Schema {
  std::vector<EventSchema> types;
  std::int32_t typeIndex(std::string_view n) const; // -1 when unknown
};

} // namespace cep::runtime
