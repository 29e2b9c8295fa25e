#include "runtime/schema.hpp"

namespace cep::runtime {

const char *fieldKindName(FieldKind k) {
  switch (k) {
  case FieldKind::Bool:
    return "bool";
  case FieldKind::Int:
    return "int";
  case FieldKind::Float:
    return "float";
  case FieldKind::String:
    return "string";
  case FieldKind::Time:
    return "time";
  case FieldKind::Duration:
    return "duration";
  }
  return "?";
}

std::int32_t EventSchema::fieldIndex(std::string_view n) const {
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].name == n) {
      return static_cast<std::int32_t>(i);
    }
  }
  return -1;
}

std::int32_t Schema::typeIndex(std::string_view n) const {
  for (std::size_t i = 0; i < types.size(); ++i) {
    if (types[i].name == n) {
      return static_cast<std::int32_t>(i);
    }
  }
  return -1;
}

} // namespace cep::runtime
