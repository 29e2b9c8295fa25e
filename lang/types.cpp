#include "lang/types.hpp"

namespace cep::lang {

const char *typeKindName(TypeKind k) {
  switch (k) {
  case TypeKind::Bool:
    return "bool";
  case TypeKind::Int:
    return "int";
  case TypeKind::Float:
    return "float";
  case TypeKind::String:
    return "string";
  case TypeKind::Time:
    return "time";
  case TypeKind::Duration:
    return "duration";
  case TypeKind::List:
    return "list";
  case TypeKind::Null:
    return "null";
  case TypeKind::Event:
    return "event";
  case TypeKind::Loop:
    return "loop";
  case TypeKind::Error:
    return "<error>";
  }
  return "<error>";
}

std::string typeName(const Type &t) {
  std::string s = typeKindName(t.kind);
  if (t.kind == TypeKind::List) {
    s += "<";
    s += typeKindName(t.elem);
    s += ">";
  }
  if (t.nullable && t.kind != TypeKind::Null) {
    s += "?";
  }
  return s;
}

} // namespace cep::lang
