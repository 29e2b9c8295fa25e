#include "compiler/schema_from_program.hpp"

#include "support/internal_error.hpp"

#include <algorithm>

namespace cep::compiler {

static_assert(lang::typed::kMaxEventFields == runtime::kMaxFields,
              "the checker's field limit is the runtime's");

namespace {

runtime::FieldKind fieldKind(lang::TypeKind kind) {
  switch (kind) {
  case lang::TypeKind::Bool:
    return runtime::FieldKind::Bool;
  case lang::TypeKind::Int:
    return runtime::FieldKind::Int;
  case lang::TypeKind::Float:
    return runtime::FieldKind::Float;
  case lang::TypeKind::String:
    return runtime::FieldKind::String;
  case lang::TypeKind::Time:
    return runtime::FieldKind::Time;
  case lang::TypeKind::Duration:
    return runtime::FieldKind::Duration;
  default:
    break;
  }
  throw InternalError("an event field of a non-scalar type passed the checker");
}

} // namespace

runtime::Schema schemaFromProgram(const lang::typed::Program &program) {
  runtime::Schema schema;
  schema.types.reserve(program.event_types.size());
  for (const lang::typed::EventType &type : program.event_types) {
    CEP_ASSERT(type.fields.size() <= runtime::kMaxFields, "more fields than the checker allows");
    runtime::EventSchema event;
    event.name = type.name;
    event.time_field = type.time_field;
    for (const lang::typed::EventField &field : type.fields) {
      event.fields.push_back({field.name, fieldKind(field.type.kind), field.type.nullable});
    }
    schema.types.push_back(std::move(event));
  }
  return schema;
}

std::vector<std::uint32_t> patternEventTypes(const lang::typed::Program &program,
                                             std::size_t pattern) {
  CEP_ASSERT(pattern < program.patterns.size(), "pattern index out of range");
  std::vector<std::uint32_t> types;
  for (const lang::typed::Step &step : program.patterns[pattern].steps) {
    CEP_ASSERT(step.event_type >= 0, "a step without an event type passed the checker");
    types.push_back(static_cast<std::uint32_t>(step.event_type));
  }
  std::sort(types.begin(), types.end());
  types.erase(std::unique(types.begin(), types.end()), types.end());
  return types;
}

} // namespace cep::compiler
